"""Confirm masked: are the listed defects still visible after correction?

:func:`confirm_masked` runs the detection rule on the exact per-pixel sum of corrected
frames (corrected here, or captured with the camera's masking on) and returns a
:class:`ConfirmResult` that says which listed defects are still visible and why
(:data:`CONFIRM_REASONS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..frames import ProgressCallback
from ..rules import RuleSet
from .apply import CorrectedStack, ImageInput, _as_stack, _new_total, _sum_frames
from .plan import CorrectionPlan, plan_correction
from .positions import Positions
from .report import REASONS, _reason_names

# Why a listed pixel is still visible after correction (bits of ConfirmResult.flags); the
# first three are the uncorrected reasons above.
NEIGHBOUR_DEFECTIVE = 8
STILL_ON_LINE = 16
ABOVE_THRESHOLD = 32

#: Why a listed defect is still visible: bit -> name (see :class:`ConfirmResult`).
CONFIRM_REASONS: dict[int, str] = {
    **REASONS,
    NEIGHBOUR_DEFECTIVE: "neighbour_defective",
    STILL_ON_LINE: "line",
    ABOVE_THRESHOLD: "above_threshold",
}


@dataclass(frozen=True, eq=False)
class ConfirmResult:
    """Which listed defects are still visible after correction, and why.

    A listed pixel is *visible* when the detection rule flags it on the corrected frames:
    it deviates from the median of its 7 x 7 same-colour neighbours by more than the
    pixel threshold, or it lies on a listed line (see ``line``) whose mean deviates from
    its neighbours' by more than the line threshold. Reasons (bits of
    :attr:`visible_flags`, names in :data:`CONFIRM_REASONS`):

    ``run_too_long``, ``no_left_neighbour``, ``no_good_neighbour``
        The correction left it as it was (see :class:`CorrectionReport`).
    ``neighbour_defective``
        It was corrected, but from a pixel (``left``) or neighbours (``mean``/``median``)
        that are themselves visible defects not on the list.
    ``line``
        Its column or row still deviates as a line, and the list treats that column
        (row) as a line: at least half of its pixels (of the pixel's colour) are listed.
    ``above_threshold``
        It was corrected from good pixels and still deviates: the image has structure
        there that a copied or interpolated value cannot follow.

    Attributes
    ----------
    label : str
        What was checked.
    n_frames, bit_depth : int
    threshold_dn, line_threshold_dn : float
        Pixel and line thresholds in DN at ``bit_depth``.
    method : str
    listed : int
        Unique listed pixels inside the image.
    corrected : int
        Of those, pixels the correction changed.
    visible_rows, visible_columns : ndarray of int64
        The listed pixels still visible (row-major).
    visible_flags : ndarray of uint8
        Their reason bits.
    visible_corrected : ndarray of bool
        Whether each was corrected (True: the correction did not hide it).
    visible_deviation : ndarray of float64
        Their deviation from the local background in DN (NaN when only a line shows).
    unlisted_rows, unlisted_columns, unlisted_deviation : ndarray
        Pixels above the pixel threshold that are not on the list (missed or new defects).
    bad_columns, bad_rows : ndarray of int64
        Columns and rows whose means still deviate beyond the line threshold.
    warnings : list of str
    """

    label: str
    n_frames: int
    bit_depth: int
    threshold_dn: float
    line_threshold_dn: float
    method: str
    listed: int
    corrected: int
    visible_rows: np.ndarray
    visible_columns: np.ndarray
    visible_flags: np.ndarray
    visible_corrected: np.ndarray
    visible_deviation: np.ndarray
    unlisted_rows: np.ndarray
    unlisted_columns: np.ndarray
    unlisted_deviation: np.ndarray
    bad_columns: np.ndarray
    bad_rows: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def visible(self) -> int:
        return int(self.visible_rows.size)

    @property
    def masked(self) -> bool:
        """True when no corrected pixel is still visible (every correctable defect is gone)."""
        return not bool(self.visible_corrected.any())

    @property
    def clean(self) -> bool:
        """True when no listed defect is visible at all."""
        return self.visible == 0

    def counts(self) -> dict[str, int]:
        """Visible listed pixels per reason (a pixel may have several)."""
        return {
            name: int(np.count_nonzero(self.visible_flags & bit))
            for bit, name in CONFIRM_REASONS.items()
            if np.any(self.visible_flags & bit)
        }

    def reason(self, index: int) -> str:
        """Why visible pixel ``index`` still shows, in words."""
        flags = int(self.visible_flags[index])
        names = _reason_names(flags, CONFIRM_REASONS)
        texts = {
            "run_too_long": "not corrected: run longer than the camera corrects",
            "no_left_neighbour": "not corrected: no active pixel to the left",
            "no_good_neighbour": "not corrected: no good neighbour to interpolate from",
            "neighbour_defective": "corrected from a pixel that is itself defective (unlisted)",
            "line": "its column or row still deviates",
            "above_threshold": "corrected from good pixels, still above the threshold",
        }
        return "; ".join(texts[name] for name in names)

    def visible_records(self, limit: int | None = None) -> list[dict[str, Any]]:
        count = self.visible if limit is None else min(limit, self.visible)
        return [
            {
                "row": int(self.visible_rows[i]),
                "column": int(self.visible_columns[i]),
                "corrected": bool(self.visible_corrected[i]),
                "reasons": _reason_names(int(self.visible_flags[i]), CONFIRM_REASONS),
                "reason": self.reason(i),
                "deviation": float(self.visible_deviation[i]),
            }
            for i in range(count)
        ]

    def unlisted_records(self, limit: int | None = None) -> list[dict[str, Any]]:
        count = self.unlisted_rows.size if limit is None else min(limit, self.unlisted_rows.size)
        return [
            {
                "row": int(self.unlisted_rows[i]),
                "column": int(self.unlisted_columns[i]),
                "deviation": float(self.unlisted_deviation[i]),
            }
            for i in range(count)
        ]

    def to_dict(self, limit: int | None = 1000) -> dict[str, Any]:
        return {
            "label": self.label,
            "frames": self.n_frames,
            "bit_depth": self.bit_depth,
            "threshold_dn": self.threshold_dn,
            "line_threshold_dn": self.line_threshold_dn,
            "method": self.method,
            "listed": self.listed,
            "corrected": self.corrected,
            "visible": self.visible,
            "visible_corrected": int(self.visible_corrected.sum()),
            "masked": self.masked,
            "reasons": self.counts(),
            "visible_pixels": self.visible_records(limit),
            "unlisted": int(self.unlisted_rows.size),
            "unlisted_pixels": self.unlisted_records(limit),
            "bad_columns": self.bad_columns.tolist(),
            "bad_rows": self.bad_rows.tolist(),
            "warnings": list(self.warnings),
        }


def confirm_masked(
    corrected: ImageInput | CorrectedStack,
    defects: Positions | CorrectionPlan | None = None,
    *,
    method: str = "left",
    cfa: str | None = None,
    rules: RuleSet | str | None = None,
    max_run: int | None = None,
    bit_depth: int | None = None,
    config: Any = None,
    progress: ProgressCallback | None = None,
) -> ConfirmResult:
    """Check that the listed defects are no longer visible in corrected frames.

    The vendor's "confirm pixel defects are masked" step, done by the detection rule
    (:func:`fastdefect.detection.deviation_outliers` and
    :func:`fastdefect.detection.line_deviations`) on the exact per-pixel sum of the frames.
    Works on frames corrected here or captured with the camera's masking on.

    Parameters
    ----------
    corrected : path, FrameStack, array, or CorrectedStack
        The corrected image or stack. A :class:`CorrectedStack` brings its own plan.
    defects : DefectList, mask, (N, 2) array, or CorrectionPlan
        The list that was applied (not needed with a CorrectedStack).
    method, cfa, rules, max_run
        How the list was applied (see :func:`plan_correction`); they decide which pixels
        were corrected and from where. Ignored when a plan is given.
    bit_depth : int, optional
        Significant bits (thresholds scale with it); default from the files.
    config : DetectionConfig, optional
        Pixel and line thresholds (default the datasheets' 102 and 48 LSB10) and CFA.
        Thresholds in sigmas are not supported here.
    progress : callable, optional
        ``progress(frames_done, n_frames)``.

    Returns
    -------
    ConfirmResult
    """
    from ..detection import DetectionConfig, deviation_outliers, line_deviations

    config = config or DetectionConfig()
    warnings: list[str] = []
    if isinstance(corrected, CorrectedStack):
        plan = corrected.plan if defects is None else None
        shape, depth, n_frames = corrected.shape, corrected.bit_depth, corrected.n_frames
        label = f"{corrected.stack.label} (corrected)"
        origin = corrected.stack.bit_depth_origin
        if corrected._total is not None:
            total = corrected._total
        else:
            total = _new_total(shape, corrected.stack.full_scale, n_frames)
            _sum_frames(corrected.frames(progress=progress), total)
        stack_cfa = corrected.plan.cfa
    else:
        stack = _as_stack(corrected, bit_depth)
        shape, depth, n_frames = stack.shape, stack.bit_depth, stack.n_frames
        label, origin = stack.label, stack.bit_depth_origin
        total = _new_total(shape, stack.full_scale, n_frames)
        _sum_frames(stack.frames(progress=progress), total)
        stack_cfa = stack.metadata.get("cfa")
        plan = None
    if defects is None and plan is None:
        raise InputError("give the defect list that was applied to the frames")
    if isinstance(defects, CorrectionPlan):
        plan = defects
    elif plan is None:
        plan = plan_correction(
            defects,  # type: ignore[arg-type]
            shape,
            method=method,
            cfa=cfa or config.cfa or stack_cfa,
            rules=rules,
            max_run=max_run,
        )
    if plan.shape != shape:
        raise InputError(f"the plan is for {plan.shape} frames, the frames are {shape}")
    if origin == "container" and depth > 8:
        warnings.append(
            f"the frames do not state their bit depth; assuming {depth}-bit for the "
            "thresholds: pass the bit depth for 10/12/14-bit data"
        )
    for name in ("pixel_threshold", "line_threshold"):
        if getattr(config, name).unit == "sigma":
            raise InputError("confirm needs thresholds in DN, LSB10 or %, not in sigmas")
    threshold = config.pixel_threshold.to_dn(depth)
    line_threshold = config.line_threshold.to_dn(depth)

    width = shape[1]
    out_rows, out_columns, out_deviation = deviation_outliers(
        total, threshold, cfa=plan.cfa, n_frames=n_frames
    )
    outlier_keys = out_rows * width + out_columns  # sorted: row-major
    column_deviation, row_deviation = line_deviations(total, n_frames=n_frames, cfa=plan.cfa)
    bad_columns = np.flatnonzero(np.abs(column_deviation) > line_threshold)
    bad_rows = np.flatnonzero(np.abs(row_deviation) > line_threshold)

    keys = plan.keys
    rows, columns = plan.rows, plan.columns
    position = np.searchsorted(outlier_keys, keys)
    position = np.minimum(position, max(outlier_keys.size - 1, 0))
    pixel_visible = (
        outlier_keys[position] == keys if outlier_keys.size else np.zeros(keys.size, bool)
    )
    # A line counts for the listed pixels on it when the list treats it as a line (at
    # least half of its pixels of their colour are listed): a corrected pixel is not
    # "still visible" because an unrelated defect on its row makes the row deviate.
    step = plan.step
    listed_lines = (
        np.bincount(columns, minlength=width) * step >= shape[0] / 2,
        np.bincount(rows, minlength=shape[0]) * step >= width / 2,
    )
    line_columns = np.zeros(width, bool)
    line_columns[bad_columns] = True
    line_rows = np.zeros(shape[0], bool)
    line_rows[bad_rows] = True
    on_line = (line_columns & listed_lines[0])[columns] | (line_rows & listed_lines[1])[rows]
    visible = pixel_visible | on_line

    flags = plan.status.astype(np.uint8).copy()
    corrected_mask = plan.status == 0
    if plan.method == "left":
        source_visible = corrected_mask & np.isin(plan.source, outlier_keys)
    else:
        hits = np.concatenate([[0], np.cumsum(np.isin(plan.sources, outlier_keys))])
        source_visible = corrected_mask & (hits[plan.offsets[1:]] > hits[plan.offsets[:-1]])
    flags[source_visible & pixel_visible] |= NEIGHBOUR_DEFECTIVE
    flags[corrected_mask & on_line] |= STILL_ON_LINE
    flags[corrected_mask & pixel_visible & ~source_visible] |= ABOVE_THRESHOLD

    deviation = np.full(keys.size, np.nan)
    deviation[pixel_visible] = out_deviation[position[pixel_visible]]
    unlisted = ~np.isin(outlier_keys, keys)
    return ConfirmResult(
        label=label,
        n_frames=n_frames,
        bit_depth=depth,
        threshold_dn=float(threshold),
        line_threshold_dn=float(line_threshold),
        method=plan.method,
        listed=len(plan),
        corrected=int(corrected_mask.sum()),
        visible_rows=rows[visible],
        visible_columns=columns[visible],
        visible_flags=flags[visible],
        visible_corrected=corrected_mask[visible],
        visible_deviation=deviation[visible],
        unlisted_rows=out_rows[unlisted],
        unlisted_columns=out_columns[unlisted],
        unlisted_deviation=out_deviation[unlisted],
        bad_columns=bad_columns.astype(np.int64),
        bad_rows=bad_rows.astype(np.int64),
        warnings=warnings,
    )
