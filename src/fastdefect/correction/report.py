"""What a correction did: :class:`CorrectionReport` and the reasons a pixel stays uncorrected.

:data:`REASONS` names the reason bits; :func:`uncorrected_reason` puts them in words (the
report, the preview and the viewer say the same thing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..kernels import correct as _kernels

#: Why a pixel stays uncorrected: reason bit -> name.
REASONS: dict[int, str] = {
    _kernels.RUN_TOO_LONG: "run_too_long",
    _kernels.NO_LEFT_NEIGHBOUR: "no_left_neighbour",
    _kernels.NO_GOOD_NEIGHBOUR: "no_good_neighbour",
}


@dataclass(frozen=True, eq=False)
class CorrectionReport:
    """What a correction did: counts, and every uncorrected pixel with its reason.

    Attributes
    ----------
    method, shape, cfa, max_run, recommended_run
        As in the :class:`CorrectionPlan`.
    entries : int
        List entries given.
    pixels : int
        Unique listed pixels inside the image.
    corrected, uncorrected : int
        Pixels changed by the correction / left as they are.
    reasons : dict of str to int
        Uncorrected pixels per reason (:data:`REASONS`); a pixel in a long run starting
        at the first column counts under both ``run_too_long`` and ``no_left_neighbour``.
    not_recommended : int
        ``left``: corrected pixels in runs longer than the recommended length (allowed,
        but the vendor tool asks for confirmation).
    uncorrected_rows, uncorrected_columns, uncorrected_flags, uncorrected_run_lengths,
    uncorrected_run_starts : ndarray
        The uncorrected pixels (row-major order), their reason bits and runs.
    """

    method: str
    shape: tuple[int, int]
    cfa: str | None
    max_run: int | None
    recommended_run: int | None
    entries: int
    pixels: int
    corrected: int
    uncorrected: int
    reasons: dict[str, int]
    not_recommended: int
    uncorrected_rows: np.ndarray
    uncorrected_columns: np.ndarray
    uncorrected_flags: np.ndarray
    uncorrected_run_lengths: np.ndarray
    uncorrected_run_starts: np.ndarray

    @property
    def duplicates(self) -> int:
        """Entries beyond one per pixel (and entries left out as outside the image)."""
        return self.entries - self.pixels

    def reason(self, index: int) -> str:
        """Why uncorrected pixel ``index`` stays as it is, in words."""
        return uncorrected_reason(
            int(self.uncorrected_flags[index]),
            int(self.uncorrected_run_lengths[index]),
            int(self.uncorrected_run_starts[index]),
            self.max_run,
            2 if self.cfa else 1,
        )

    def uncorrected_records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Uncorrected pixels as dicts (row, column, reasons, reason, run_length)."""
        count = self.uncorrected if limit is None else min(limit, self.uncorrected)
        return [
            {
                "row": int(self.uncorrected_rows[i]),
                "column": int(self.uncorrected_columns[i]),
                "reasons": _reason_names(int(self.uncorrected_flags[i]), REASONS),
                "reason": self.reason(i),
                "run_length": int(self.uncorrected_run_lengths[i]),
            }
            for i in range(count)
        ]

    def to_dict(self, limit: int | None = 1000) -> dict[str, Any]:
        """A JSON-able summary with at most ``limit`` uncorrected pixels listed."""
        return {
            "method": self.method,
            "width": self.shape[1],
            "height": self.shape[0],
            "cfa": self.cfa,
            "max_run": self.max_run,
            "recommended_run": self.recommended_run,
            "entries": self.entries,
            "pixels": self.pixels,
            "corrected": self.corrected,
            "uncorrected": self.uncorrected,
            "reasons": dict(self.reasons),
            "not_recommended": self.not_recommended,
            "uncorrected_pixels": self.uncorrected_records(limit),
            "uncorrected_pixels_truncated": limit is not None and self.uncorrected > limit,
        }


def _reason_names(flags: int, table: dict[int, str]) -> list[str]:
    return [name for bit, name in table.items() if flags & bit]


def uncorrected_reason(
    flags: int, run_length: int, run_start: int, max_run: int | None, step: int
) -> str:
    """Why a pixel stays uncorrected, in words.

    ``flags`` are its :data:`REASONS` bits; ``run_length`` and ``run_start`` (first column)
    describe the run it belongs to, ``max_run`` is the longest run the camera corrects and
    ``step`` the column step of a same-colour run (2 on a Bayer sensor, else 1).
    """
    parts = []
    run_end = run_start + (run_length - 1) * step
    colour = " of its colour" if step == 2 else ""
    if flags & _kernels.RUN_TOO_LONG:
        every = ", every second one" if step == 2 else ""
        parts.append(
            f"run of {run_length} (columns {run_start}-{run_end}{every}) is longer than "
            f"the {max_run} the camera corrects"
        )
    if flags & _kernels.NO_LEFT_NEIGHBOUR:
        if run_length == 1:
            where = f"column {run_start}"
        elif flags & _kernels.RUN_TOO_LONG:
            where = "and it starts there"
        else:
            where = f"run of {run_length} from column {run_start}"
        parts.append(f"{where}: no active pixel{colour} to the left")
    if flags & _kernels.NO_GOOD_NEIGHBOUR:
        parts.append(f"no unlisted pixel{colour} in its 5 x 5 neighbourhood to interpolate from")
    return "; ".join(parts)
