"""Scoring a defect list against ground truth (from ``fastdefect simulate``).

Two questions are kept apart: *was the pixel found* (position level: precision,
recall, F1, overall and per kind) and *was it given the right kind* (kind agreement
among the pixels found, and the confusion matrix).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .defects import KINDS, DefectList
from .errors import InputError

if TYPE_CHECKING:
    from .simulate import TruthTable

__all__ = ["KindScore", "Score", "ambiguous", "load_truth", "score"]

# Columns that mark the simulator's truth.csv / warm.csv (besides row,column,kind).
_SIMULATOR_COLUMNS = ("dark_deviation", "dark_sigma")


@dataclass(frozen=True)
class KindScore:
    """Counts and rates for one kind (or all kinds together).

    ``recall`` is over the truth pixels of the kind (found with any kind);
    ``precision`` over the found pixels of the kind (in the truth with any kind);
    ``kind_agreement`` is the share of the kind's found truth pixels that were given
    this kind.
    """

    truth: int
    found: int
    true_positive_truth: int  # truth pixels of this kind that were found
    true_positive_found: int  # found pixels of this kind that are in the truth
    kind_agreed: int  # truth pixels of this kind found with this kind

    @property
    def recall(self) -> float:
        return self.true_positive_truth / self.truth if self.truth else float("nan")

    @property
    def precision(self) -> float:
        return self.true_positive_found / self.found if self.found else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else float("nan")

    @property
    def false_positive(self) -> int:
        return self.found - self.true_positive_found

    @property
    def false_negative(self) -> int:
        return self.truth - self.true_positive_truth

    @property
    def kind_agreement(self) -> float:
        found = self.true_positive_truth
        return self.kind_agreed / found if found else float("nan")

    def as_dict(self) -> dict[str, float | int]:
        return {
            "truth": self.truth,
            "found": self.found,
            "true_positive": self.true_positive_truth,
            "false_positive": self.false_positive,
            "false_negative": self.false_negative,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "kind_agreement": self.kind_agreement,
        }


@dataclass
class Score:
    """The result of :func:`score`."""

    overall: KindScore
    per_kind: dict[str, KindScore]
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "per_kind": {kind: value.as_dict() for kind, value in self.per_kind.items()},
            "confusion": [
                {"truth": truth, "found": found, "count": count}
                for (truth, found), count in sorted(self.confusion.items())
            ],
        }


def score(found: DefectList, truth: DefectList, *, ignore: DefectList | None = None) -> Score:
    """Compare ``found`` with ``truth`` pixel by pixel.

    Parameters
    ----------
    found, truth : DefectList
        Duplicate positions are dropped first (the richest entry kept).
    ignore : DefectList, optional
        Pixels that count neither way (e.g. defects too faint to be required).

    Returns
    -------
    Score
        Overall and per-kind counts and rates, and the confusion of kinds among the
        pixels both lists hold (``"missed"``/``"spurious"`` for the others).
    """
    found = found.deduplicated()
    truth = truth.deduplicated()
    if ignore is not None and len(ignore):
        found = found.take(~np.isin(found.linear_index, ignore.linear_index))
        truth = truth.take(~np.isin(truth.linear_index, ignore.linear_index))
    found_index, truth_index = found.linear_index, truth.linear_index
    found_hit = np.isin(found_index, truth_index)
    truth_hit = np.isin(truth_index, found_index)
    # Kind of the found entry at each truth pixel (for agreement and confusion).
    order = np.argsort(found_index)
    position = np.searchsorted(found_index[order], truth_index)
    position = np.minimum(position, max(len(order) - 1, 0))
    found_kind_at_truth = np.full(len(truth), -1, np.int64)
    if len(order):
        found_kind_at_truth[truth_hit] = found.kind_codes[order][position[truth_hit]]

    def kind_score(truth_mask: np.ndarray, found_mask: np.ndarray, code: int | None) -> KindScore:
        agreed = truth_mask & truth_hit
        if code is not None:
            agreed &= found_kind_at_truth == code
        return KindScore(
            truth=int(truth_mask.sum()),
            found=int(found_mask.sum()),
            true_positive_truth=int((truth_mask & truth_hit).sum()),
            true_positive_found=int((found_mask & found_hit).sum()),
            kind_agreed=int(agreed.sum()),
        )

    per_kind = {}
    for code, kind in enumerate(KINDS):
        truth_mask = truth.kind_codes == code
        found_mask = found.kind_codes == code
        if truth_mask.any() or found_mask.any():
            per_kind[kind] = kind_score(truth_mask, found_mask, code)
    overall = kind_score(np.ones(len(truth), bool), np.ones(len(found), bool), None)
    agreed_total = sum(value.kind_agreed for value in per_kind.values())
    overall = KindScore(
        overall.truth,
        overall.found,
        overall.true_positive_truth,
        overall.true_positive_found,
        agreed_total,
    )
    confusion: dict[tuple[str, str], int] = {}
    for truth_code, found_code in zip(
        truth.kind_codes.tolist(), found_kind_at_truth.tolist(), strict=True
    ):
        key = (KINDS[truth_code], KINDS[found_code] if found_code >= 0 else "missed")
        confusion[key] = confusion.get(key, 0) + 1
    for code in found.kind_codes[~found_hit].tolist():
        key = ("spurious", KINDS[code])
        confusion[key] = confusion.get(key, 0) + 1
    return Score(overall, per_kind, confusion)


def load_truth(source: str | os.PathLike | TruthTable | DefectList) -> DefectList:
    """Ground truth as a :class:`DefectList`, from whatever form it comes in.

    Parameters
    ----------
    source : path, TruthTable or DefectList
        A simulator ``truth.csv`` (``fastdefect simulate``), any defect list file that
        :func:`fastdefect.formats.read_list` reads, a
        :class:`~fastdefect.simulate.TruthTable`, or a list (returned as it is).

    Returns
    -------
    DefectList
        Source ``truth``. From simulator truth, every numeric truth column
        (``dark_deviation``, ``bright_sigma``, ``line_deviation``, ...) is kept as
        evidence, so scores can be restricted to defects of a given strength.
    """
    if isinstance(source, DefectList):
        return source
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such truth file")
        with path.open(encoding="utf-8", errors="replace") as handle:
            header = handle.readline().strip().split(",")
        if header[:3] == ["row", "column", "kind"] and set(_SIMULATOR_COLUMNS) <= set(header):
            from .simulate import read_truth

            return _truth_table_list(read_truth(path))
        from .formats import read_list

        return read_list(path, source="truth")
    if hasattr(source, "columns") and "kind" in getattr(source, "columns", {}):
        return _truth_table_list(source)
    raise InputError(f"cannot use {type(source).__name__} as ground truth")


def _truth_table_list(table: Any) -> DefectList:
    columns = table.columns
    numeric = {
        name: values
        for name, values in columns.items()
        if name not in ("row", "column", "kind") and np.asarray(values).dtype.kind == "f"
    }
    kinds = np.asarray(columns["kind"]).astype(str)
    unknown = sorted(set(kinds.tolist()) - set(KINDS))
    if unknown:
        raise InputError(
            f"the truth holds kinds {', '.join(unknown)} that are not defect kinds "
            f"({', '.join(KINDS[:-1])})"
        )
    return DefectList(
        columns["row"], columns["column"], kinds=kinds, source="truth", evidence=numeric
    )


def ambiguous(*tables: DefectList) -> DefectList:
    """The pixels of simulator truth (and warm) lists marked ``ambiguous``.

    The simulator marks a pixel ambiguous when one of its deviations is within 5 noise
    sigmas of its threshold: too close to call either way. Pass the result as
    ``score(..., ignore=...)`` so such pixels count neither way. Lists without the mark
    (other truth sources) contribute nothing.
    """
    marked = [
        table.take(np.asarray(table.evidence["ambiguous"]) == 1)
        for table in tables
        if "ambiguous" in table.evidence
    ]
    return DefectList.concatenate(marked) if marked else DefectList.empty(source="truth")
