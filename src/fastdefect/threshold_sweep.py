"""Threshold sweeps: defect counts, and scores against truth, over many thresholds at once.

A sweep reads the stacks once: :func:`fastdefect.detection.analyse` computes the stack
statistics and every pixel deviating by more than the *lowest* threshold of the sweep,
and :meth:`~fastdefect.detection.DetectionAnalysis.classify` then classifies at each
threshold from those deviants alone, without reading a frame or computing a median
again. Each threshold's list is exactly what ``detect`` gives at that threshold.

What moves with the pixel threshold and what does not
----------------------------------------------------
Only the *pixel* threshold is swept; the line threshold, the noise limit and the stuck
tolerance stay as configured. Hence:

* the set of defective pixels shrinks as the threshold rises, so the total count and
  the recall are non-increasing in the threshold;
* counts *per kind* need not be monotone: a pixel on a bad column that deviates by more
  than a low threshold is ``hot`` there (kinds are taken in the domain order) and
  ``column`` above its deviation; a noisy pixel whose mean moves is ``hot`` at low
  thresholds and ``noisy`` at high ones.

The threshold that maximises F1
-------------------------------
With truth, :attr:`SweepResult.best` is the threshold of highest overall F1 (found or
not, pixel by pixel). Thresholds often tie (every threshold between the noise and the
weakest defect scores the same). Ties go to the highest *kind agreement* (the share of
the truth pixels found that got their true kind: below a bad column's deviation its
pixels are found, but as ``hot``), and among those still tied to the middle of the
longest run of consecutive thresholds, the choice furthest from both the noise and the
defects. :class:`BestThreshold` gives that run.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .defects import DefectList
from .detection import (
    DetectionAnalysis,
    DetectionConfig,
    StackInput,
    Threshold,
    analyse,
)
from .errors import InputError
from .frames import ProgressCallback
from .outputs import atomic_output
from .scoring import Score, load_truth, score

__all__ = [
    "SWEEP_KINDS",
    "BestThreshold",
    "SweepResult",
    "parse_thresholds",
    "sweep",
    "sweep_analysis",
]

#: Kinds a detection can produce, in the domain order (the CSV's count columns).
SWEEP_KINDS = ("stuck_high", "stuck_low", "hot", "dark", "bright", "noisy", "column", "row")

MAX_THRESHOLDS = 1000
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_TOKEN = re.compile(rf"\s*({_NUMBER})\s*(%|[a-zA-Zσ][a-zA-Z0-9]*|)\s*")


# -- threshold lists ---------------------------------------------------------------------


def parse_thresholds(
    spec: str | float | Threshold | Sequence[str | float | Threshold],
) -> list[Threshold]:
    """Read a list of thresholds: ``start:stop:step`` (inclusive) or a comma list.

    A unit may follow any number and then applies to all (``20:200:10lsb10``,
    ``4,6,8sigma``); without one, numbers are DN. All thresholds of a sweep share one
    unit. The result is sorted ascending, without duplicates.

    Parameters
    ----------
    spec : str, number, Threshold or sequence of them

    Returns
    -------
    list of Threshold

    Examples
    --------
    >>> [str(t) for t in parse_thresholds("20:40:10lsb10")]
    ['20 LSB10', '30 LSB10', '40 LSB10']
    >>> [t.value for t in parse_thresholds("5, 3, 4")]
    [3.0, 4.0, 5.0]
    """
    if isinstance(spec, Threshold | int | float):
        return [Threshold.parse(spec)]
    if isinstance(spec, str):
        values, units = _parse_text(spec)
    else:
        items = [Threshold.parse(item) for item in spec]
        values = [item.value for item in items]
        units = {item.unit for item in items}
    if len(units) > 1:
        raise InputError(
            f"the thresholds of one sweep need one unit, got {', '.join(sorted(units))}"
        )
    if not values:
        raise InputError("give at least one threshold")
    unit = units.pop() if units else "dn"
    unique = sorted(set(values))
    if len(unique) > MAX_THRESHOLDS:
        raise InputError(f"{len(unique)} thresholds; a sweep takes at most {MAX_THRESHOLDS}")
    return [Threshold(value, unit) for value in unique]


def _parse_text(text: str) -> tuple[list[float], set[str]]:
    def token(part: str) -> tuple[float, str | None]:
        match = _TOKEN.fullmatch(part)
        if not match:
            raise InputError(
                f"cannot read threshold {part.strip()!r} in {text!r}; write e.g. "
                "20:200:10, 20:200:10lsb10 or 20,50,102"
            )
        number, unit = float(match.group(1)), match.group(2)
        return number, (Threshold.parse(f"1{unit}").unit if unit else None)

    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise InputError(f"a threshold range is start:stop:step, got {text!r}")
        (start, u1), (stop, u2), (step, u3) = (token(p) for p in parts)
        units = {u for u in (u1, u2, u3) if u}
        if not step > 0:
            raise InputError(f"the step of {text!r} must be positive")
        if stop < start:
            raise InputError(f"the range {text!r} ends below its start")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_THRESHOLDS:
            raise InputError(f"{text!r} makes {count} thresholds; at most {MAX_THRESHOLDS}")
        # round() keeps 0.1 steps free of binary noise (0.30000000000000004).
        values = [round(start + i * step, 10) for i in range(count)]
        return values, units
    parsed = [token(part) for part in text.split(",") if part.strip()]
    return [v for v, _ in parsed], {u for _, u in parsed if u}


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BestThreshold:
    """The F1-maximising threshold of a sweep with truth.

    Attributes
    ----------
    index : int
        Position in :attr:`SweepResult.thresholds`.
    threshold : Threshold
    f1, precision, recall, kind_agreement : float
        Overall scores there.
    tied_from, tied_to : Threshold
        The run of consecutive thresholds with the same (highest) F1 and kind agreement
        it is the middle of.
    """

    index: int
    threshold: Threshold
    f1: float
    precision: float
    recall: float
    kind_agreement: float
    tied_from: Threshold
    tied_to: Threshold

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": str(self.threshold),
            "value": self.threshold.value,
            "unit": self.threshold.unit,
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "kind_agreement": self.kind_agreement,
            "tied_from": self.tied_from.value,
            "tied_to": self.tied_to.value,
        }


@dataclass
class SweepResult:
    """Counts (and scores) of a detection at every threshold of a sweep.

    Attributes
    ----------
    thresholds : list of Threshold
        Ascending, one unit.
    counts : ndarray of int64, shape (thresholds, len(SWEEP_KINDS))
        Defective pixels per kind at each threshold.
    scores : list of Score or None
        Per threshold, the score against the truth (when given).
    analysis : DetectionAnalysis
        The one analysis every threshold was classified from.
    truth : DefectList or None
    seconds_analysis, seconds_sweep : float
        Time to read and analyse the stacks, and to classify (and score) every threshold.
    classifications : int
        How many thresholds had to be classified: where no stack has a deviant between a
        threshold and the one below it, the result is the same and is reused.
    """

    thresholds: list[Threshold]
    counts: np.ndarray
    scores: list[Score] | None
    analysis: DetectionAnalysis
    truth: DefectList | None = None
    seconds_analysis: float = 0.0
    seconds_sweep: float = 0.0
    classifications: int = 0
    _best: BestThreshold | None = field(default=None, init=False, repr=False)

    @property
    def values(self) -> np.ndarray:
        """Threshold values (in :attr:`unit`)."""
        return np.array([t.value for t in self.thresholds])

    @property
    def unit(self) -> str:
        return self.thresholds[0].unit

    @property
    def total(self) -> np.ndarray:
        """Defective pixels (all kinds) at each threshold."""
        return self.counts.sum(axis=1)

    def count(self, kind: str) -> np.ndarray:
        """Pixels of ``kind`` at each threshold."""
        if kind not in SWEEP_KINDS:
            raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(SWEEP_KINDS)}")
        return self.counts[:, SWEEP_KINDS.index(kind)]

    def metric(self, name: str, kind: str | None = None) -> np.ndarray:
        """``precision``, ``recall``, ``f1`` or ``kind_agreement`` per threshold.

        Overall, or of ``kind`` when given.

        NaN where undefined (nothing found, or no truth of the kind).
        """
        if self.scores is None:
            raise InputError("the sweep has no truth to score against")
        if name not in ("precision", "recall", "f1", "kind_agreement"):
            raise InputError(f"unknown metric {name!r}")
        values = []
        for item in self.scores:
            part = item.overall if kind is None else item.per_kind.get(kind)
            values.append(getattr(part, name) if part is not None else math.nan)
        return np.array(values, dtype=np.float64)

    def threshold_dn(self, index: int) -> dict[str, float]:
        """The threshold ``index`` in DN per stack (``dark``, ``bright``, ``dark_2`` ...)."""
        return _limits_dn(self.analysis, self.thresholds[index])

    def defects(self, threshold: Threshold | str | float) -> DefectList:
        """The defect list at ``threshold`` (any value at or above the lowest swept)."""
        return self.analysis.classify(threshold)

    @property
    def best(self) -> BestThreshold | None:
        """The F1-maximising threshold (see the module notes on ties), or None."""
        if self.scores is None or self._best is not None:
            return self._best
        f1 = self.metric("f1")
        if not np.isfinite(f1).any():
            return None
        tied = np.isfinite(f1) & (f1 == np.nanmax(f1))
        agreement = np.array([item.overall.kind_agreement for item in self.scores])
        agreement = np.where(tied & np.isfinite(agreement), agreement, -1.0)
        tied &= agreement == agreement.max()
        best_run: tuple[int, int] = (0, -1)
        start = None
        for i, flag in enumerate([*tied.tolist(), False]):
            if flag and start is None:
                start = i
            elif not flag and start is not None:
                if i - start > best_run[1] - best_run[0] + 1:
                    best_run = (start, i - 1)
                start = None
        first, last = best_run
        index = (first + last) // 2
        overall = self.scores[index].overall
        self._best = BestThreshold(
            index=index,
            threshold=self.thresholds[index],
            f1=overall.f1,
            precision=overall.precision,
            recall=overall.recall,
            kind_agreement=overall.kind_agreement,
            tied_from=self.thresholds[first],
            tied_to=self.thresholds[last],
        )
        return self._best

    # -- tables and files ---------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One dict per threshold: the CSV's columns (NaN where a score is undefined).

        Columns: ``threshold``, ``unit``, ``<stack>_threshold_dn``, ``<kind>`` counts,
        ``total``; with truth also ``true_positive``, ``false_positive``,
        ``false_negative``, ``precision``, ``recall``, ``f1``, ``kind_agreement``, per kind
        ``<kind>_precision``, ``<kind>_recall``, ``<kind>_f1``, and ``f1_best`` (1 on
        the row of :attr:`best`).
        """
        best = self.best
        out = []
        for i, threshold in enumerate(self.thresholds):
            row: dict[str, Any] = {"threshold": threshold.value, "unit": threshold.unit}
            for key, value in self.threshold_dn(i).items():
                row[f"{key}_threshold_dn"] = value
            for k, kind in enumerate(SWEEP_KINDS):
                row[kind] = int(self.counts[i, k])
            row["total"] = int(self.counts[i].sum())
            if self.scores is not None:
                overall = self.scores[i].overall
                row["true_positive"] = overall.true_positive_found
                row["false_positive"] = overall.false_positive
                row["false_negative"] = overall.false_negative
                row["precision"] = overall.precision
                row["recall"] = overall.recall
                row["f1"] = overall.f1
                row["kind_agreement"] = overall.kind_agreement
                for kind in SWEEP_KINDS:
                    part = self.scores[i].per_kind.get(kind)
                    for name in ("precision", "recall", "f1"):
                        row[f"{kind}_{name}"] = getattr(part, name) if part else math.nan
                row["f1_best"] = int(best is not None and best.index == i)
            out.append(row)
        return out

    def to_csv(self) -> str:
        """The sweep as CSV text: header line, then one line per threshold.

        Numbers are written in full (Python's shortest repr); an undefined score is an
        empty field.
        """
        rows = self.rows()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([_csv_value(value) for value in row.values()])
        return buffer.getvalue()

    def write_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write :meth:`to_csv` to ``path`` atomically."""
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(self.to_csv(), encoding="utf-8", newline="\n")
        return Path(path)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (what ``fastdefect sweep --json`` prints)."""
        analysis = self.analysis
        best = self.best
        return {
            "shape": list(analysis.shape),
            "bit_depth": analysis.bit_depth,
            "unit": self.unit,
            "thresholds": [t.value for t in self.thresholds],
            "rows": self.rows(),
            "best": best.as_dict() if best else None,
            "truth": len(self.truth) if self.truth is not None else None,
            "stacks": [
                {
                    "role": s.role,
                    "source": s.label,
                    "frames": s.n_frames,
                    "deviation_sigma": s.deviation_sigma,
                }
                for s in analysis.stacks
            ],
            "seconds": {"analysis": self.seconds_analysis, "sweep": self.seconds_sweep},
            "warnings": list(analysis.warnings),
        }


def _csv_value(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


# -- the sweep ----------------------------------------------------------------------------


def sweep_analysis(
    analysis: DetectionAnalysis,
    thresholds: str | Sequence[str | float | Threshold],
    *,
    truth: Any = None,
    ignore: DefectList | None = None,
) -> SweepResult:
    """Classify an existing analysis at every threshold (and score it against truth).

    Parameters
    ----------
    analysis : DetectionAnalysis
        From :func:`fastdefect.detection.analyse`, made with ``lowest_threshold`` at or
        below the lowest threshold here.
    thresholds : str or sequence
        See :func:`parse_thresholds`.
    truth : path, TruthTable or DefectList, optional
        Ground truth (see :func:`fastdefect.scoring.load_truth`); adds precision, recall
        and F1 per threshold, overall and per kind.
    ignore : DefectList, optional
        Pixels that count neither way in the scores.

    Returns
    -------
    SweepResult
    """
    started = time.perf_counter()
    levels = parse_thresholds(thresholds)
    truth_list = load_truth(truth) if truth is not None else None
    counts = np.zeros((len(levels), len(SWEEP_KINDS)), np.int64)
    scores: list[Score] | None = [] if truth_list is not None else None
    deviants = _sorted_deviants(analysis)
    previous: dict[str, float] | None = None
    classified = 0
    for i, threshold in enumerate(levels):
        limits = _limits_dn(analysis, threshold)
        if previous is not None and not _changes(deviants, previous, limits):
            # Detection only depends on the threshold through which deviants exceed it.
            counts[i] = counts[i - 1]
            if scores is not None:
                scores.append(scores[-1])
            continue
        found = analysis.classify(threshold)
        classified += 1
        previous = limits
        by_kind = found.count_by_kind()
        for k, kind in enumerate(SWEEP_KINDS):
            counts[i, k] = by_kind.get(kind, 0)
        if scores is not None:
            scores.append(score(found, truth_list, ignore=ignore))
    return SweepResult(
        thresholds=levels,
        counts=counts,
        scores=scores,
        analysis=analysis,
        truth=truth_list,
        seconds_analysis=analysis.seconds,
        seconds_sweep=time.perf_counter() - started,
        classifications=classified,
    )


def _stack_keys(analysis: DetectionAnalysis) -> list[tuple[str, str, Any, dict]]:
    """``(key, role, StackReport, deviations entry)`` per stack, in the analysis' order."""
    out = []
    for role in ("dark", "bright", "saturated"):
        reports = [s for s in analysis.stacks if s.role == role]
        for number, (report, entry) in enumerate(
            zip(reports, analysis.deviations(role), strict=True), start=1
        ):
            out.append((role if number == 1 else f"{role}_{number}", role, report, entry))
    return out


def _limits_dn(analysis: DetectionAnalysis, threshold: Threshold) -> dict[str, float]:
    """``threshold`` in DN for each stack (sigmas are each stack's own)."""
    return {
        key: float(threshold.to_dn(report.bit_depth, report.deviation_sigma))
        for key, _, report, _ in _stack_keys(analysis)
    }


def _sorted_deviants(analysis: DetectionAnalysis) -> dict[str, np.ndarray]:
    return {
        key: np.sort(np.abs(np.asarray(entry["deviation"], np.float64)))
        for key, _, _, entry in _stack_keys(analysis)
    }


def _changes(
    deviants: dict[str, np.ndarray], lower: dict[str, float], upper: dict[str, float]
) -> bool:
    """Whether any stack has a deviant with ``lower < |deviation| <= upper``.

    A pixel deviates beyond a threshold when ``|deviation| > threshold``; if no deviant
    lies in between, both thresholds flag the same pixels in every stack, and so
    classify alike.
    """
    for key, values in deviants.items():
        low, high = lower[key], upper[key]
        if np.searchsorted(values, high, side="right") > np.searchsorted(values, low, "right"):
            return True
    return False


def sweep(
    dark: StackInput | Sequence[StackInput] | None = None,
    bright: StackInput | Sequence[StackInput] | None = None,
    saturated: StackInput | Sequence[StackInput] | None = None,
    *,
    thresholds: str | Sequence[str | float | Threshold],
    truth: Any = None,
    ignore: DefectList | None = None,
    bit_depth: int | None = None,
    cfa: str | None = None,
    config: DetectionConfig | None = None,
    dark_exposures: Sequence[float] | None = None,
    progress: ProgressCallback | None = None,
) -> SweepResult:
    """Detect at every threshold of a list, reading the stacks once.

    Parameters
    ----------
    dark, bright, saturated, bit_depth, cfa, config, dark_exposures, progress
        As for :func:`fastdefect.detection.detect`; ``config.pixel_threshold`` is replaced
        by each threshold in turn.
    thresholds : str or sequence
        ``"20:200:10"`` (inclusive), ``"20:200:10lsb10"``, ``"50,102,200"`` or a list;
        see :func:`parse_thresholds`.
    truth : path, TruthTable or DefectList, optional
        Ground truth, e.g. the ``truth.csv`` of ``fastdefect simulate``.
    ignore : DefectList, optional
        Pixels that count neither way in the scores.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> result = sweep(dark="dark.tif", bright="bright.tif", thresholds="20:200:10",
    ...                truth="truth.csv")  # doctest: +SKIP
    >>> result.best.threshold, result.total  # doctest: +SKIP
    """
    levels = parse_thresholds(thresholds)
    truth_list = load_truth(truth) if truth is not None else None  # fail before reading
    analysis = analyse(
        dark,
        bright,
        saturated,
        bit_depth=bit_depth,
        cfa=cfa,
        config=config,
        dark_exposures=dark_exposures,
        progress=progress,
        lowest_threshold=levels[0],
    )
    return sweep_analysis(analysis, levels, truth=truth_list, ignore=ignore)
