"""Correction simulation: what the camera will make of a defect list, before an upload.

Three methods, each applied to any frame or stack (a stack streams frame by frame):

``left`` — the Allied Vision camera (docs/domain.md §3)
    A listed pixel takes the value of the nearest *non-listed* pixel to its left in the
    same row; on a colour (Bayer) sensor, the nearest of its own colour (two columns per
    step). So a run of ``n`` consecutive listed pixels is filled with the one value left
    of the run (the rule set's reading of "the pixel to the left will be omitted", see
    :mod:`fastdefect.rules`). A run longer than the rule set's hard limit
    (:attr:`RuleSet.hard_max_run`, 8 for ``av``) and a run with no active pixel to its
    left (it starts in the first column of its colour) stay uncorrected and are reported.

``mean`` / ``median`` — an interpolating camera such as ARRI's User Pixel Mask (§4)
    A listed pixel takes the rounded mean (median) of the non-listed pixels of its colour
    in its 3 x 3 plane neighbourhood (the 8 nearest same-colour pixels); when all of those
    are listed too, of the 5 x 5 one. A pixel with no good pixel there stays uncorrected
    and is reported. ARRI does not publish its kernel: this is a documented stand-in
    that shows the "blurry pixel" and where clusters leave nothing to interpolate from.

Runs and neighbourhoods are computed on the unique listed positions (a camera ignores
duplicates). A correction depends on the positions only, so it is planned once
(:func:`plan_correction`, a :class:`CorrectionPlan`) and applied to every frame
(:meth:`CorrectionPlan.apply`); the per-frame cost is a copy of the frame plus the listed
pixels.

:func:`confirm_masked` is the vendor's "confirm pixel defects are masked" step done by a
detector instead of by eye: it runs the detection rule on a corrected image or stack
(yours, or frames captured with the camera's masking on) and says which listed defects
are still visible and why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .defects import DefectList
from .errors import InputError
from .frames import FrameStack, ProgressCallback, open_stack, write_stack
from .kernels import correct as _kernels
from .rules import AV_LEFT_NEIGHBOUR, RuleSet, rule_set
from .sensor import parse_cfa

__all__ = [
    "CONFIRM_REASONS",
    "METHODS",
    "REASONS",
    "ConfirmResult",
    "CorrectedStack",
    "CorrectionPlan",
    "CorrectionReport",
    "CorrectionResult",
    "check_list_fits",
    "check_list_size",
    "confirm_masked",
    "correct",
    "correct_left",
    "correct_stack",
    "plan_correction",
]

#: Correction methods.
METHODS = ("left", "mean", "median")

#: Why a pixel stays uncorrected: reason bit -> name.
REASONS: dict[int, str] = {
    _kernels.RUN_TOO_LONG: "run_too_long",
    _kernels.NO_LEFT_NEIGHBOUR: "no_left_neighbour",
    _kernels.NO_GOOD_NEIGHBOUR: "no_good_neighbour",
}

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

Positions = DefectList | np.ndarray
ImageInput = str | os.PathLike | FrameStack | np.ndarray


# -- positions ---------------------------------------------------------------------------


def check_list_fits(
    defects: DefectList,
    shape: tuple[int, int],
    *,
    width: int | None = None,
    height: int | None = None,
    label: str = "the defect list",
) -> None:
    """Raise :class:`InputError` when a list cannot belong to an image of ``shape``.

    Checks the sensor size the list states (``width``/``height`` given here, e.g. from a
    backup or ARRI file, else the list's ``metadata``) and that every entry lies inside.
    """
    check_list_size(defects, shape, width=width, height=height, label=label)
    _check_inside(defects.rows, defects.columns, shape, label)


def check_list_size(
    defects: DefectList,
    shape: tuple[int, int],
    *,
    width: int | None = None,
    height: int | None = None,
    label: str = "the defect list",
    target: str = "the image",
) -> None:
    """Raise :class:`InputError` when a list states another sensor size than ``shape``.

    Only the stated size (``width``/``height`` given here, else the list's ``metadata``)
    is checked, not the entries (see :func:`check_list_fits`); ``target`` names what
    ``shape`` is the size of in the message (e.g. a camera's sensor).
    """
    target_height, target_width = shape
    if width is None and height is None:
        width = defects.metadata.get("width")
        height = defects.metadata.get("height")
    stated = isinstance(width, int | np.integer) and isinstance(height, int | np.integer)
    if stated and (int(width), int(height)) != (target_width, target_height):
        raise InputError(
            f"{label} is for a {width} x {height} sensor but {target} is "
            f"{target_width} x {target_height}; is it the list of another camera?"
        )


def _check_inside(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], label: str):
    height, width = shape
    outside = (rows >= height) | (columns >= width)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(
            f"{label}: row {int(rows[i])}, column {int(columns[i])} is outside the "
            f"{width} x {height} image ({int(outside.sum())} of {rows.size} entries outside); "
            "is it the list of another sensor?"
        )


def _listed_keys(
    defects: Positions, shape: tuple[int, int], outside: str, label: str
) -> tuple[np.ndarray, int]:
    """Sorted unique flat indices of the listed pixels, and the number of entries."""
    height, width = shape
    if outside not in ("error", "ignore"):
        raise InputError(f"outside must be 'error' or 'ignore', got {outside!r}")
    if isinstance(defects, DefectList):
        if outside == "error":
            check_list_fits(defects, shape, label=label)
        rows = defects.rows
        columns = defects.columns
    else:
        array = np.asarray(defects)
        if array.dtype == np.bool_:
            if array.shape != shape:
                raise InputError(
                    f"{label}: a mask of shape {array.shape} does not fit the image {shape}"
                )
            keys = np.flatnonzero(array).astype(np.int64)
            return keys, int(keys.size)
        if array.size == 0:
            array = array.reshape(0, 2)
        if array.ndim != 2 or array.shape[1] != 2 or array.dtype.kind not in "iu":
            raise InputError(
                f"{label}: give a DefectList, a boolean mask or an (N, 2) integer array of "
                f"(row, column), not {array.dtype} of shape {array.shape}"
            )
        rows = array[:, 0].astype(np.int64)
        columns = array[:, 1].astype(np.int64)
        if (rows < 0).any() or (columns < 0).any():
            i = int(np.flatnonzero((rows < 0) | (columns < 0))[0])
            raise InputError(f"{label}: entry {i} has a negative coordinate")
        if outside == "error":
            _check_inside(rows, columns, shape, label)
    keys = np.empty(rows.size, np.int64)
    count = _kernels.sorted_positions(rows, columns, height, width, keys)
    return keys[:count], int(rows.size)


def _check_method(method: str) -> str:
    key = str(method).strip().lower()
    if key not in METHODS:
        raise InputError(f"unknown correction method {method!r}; use one of {', '.join(METHODS)}")
    return key


def _check_shape(shape: Any) -> tuple[int, int]:
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise InputError(f"an image shape is (height, width), got {shape}")
    return shape  # type: ignore[return-value]


# -- the plan ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CorrectionPlan:
    """What a correction does to every listed pixel; independent of pixel values.

    Made by :func:`plan_correction`; apply it to any number of frames with :meth:`apply`.
    Per-pixel arrays are aligned with :attr:`keys`, the sorted unique flat indices
    (``row * width + column``) of the listed pixels inside the image.

    Attributes
    ----------
    method : str
        ``left``, ``mean`` or ``median``.
    shape : tuple of int
        ``(height, width)`` of the frames it applies to.
    cfa : str or None
        Bayer pattern: corrections stay within a colour plane.
    max_run, recommended_run : int or None
        Hard and recommended run limits of ``left`` (from the rule set).
    entries : int
        Entries of the list as given (duplicates and, with ``outside="ignore"``, entries
        outside the image included).
    keys : ndarray of int64
    status : ndarray of uint8
        Reason bits (:data:`REASONS`) per pixel; 0 = corrected.
    run_lengths, run_starts : ndarray of int32
        Horizontal run (of the pixel's colour plane) each pixel belongs to: its length and
        first column. Computed for every method.
    source : ndarray of int64
        ``left``: flat index of the pixel whose value is copied, -1 when uncorrected.
    offsets, sources : ndarray of int64
        ``mean``/``median``: pixel ``i`` is interpolated from the flat indices
        ``sources[offsets[i]:offsets[i + 1]]`` (empty when uncorrected).
    """

    method: str
    shape: tuple[int, int]
    cfa: str | None
    max_run: int | None
    recommended_run: int | None
    entries: int
    keys: np.ndarray
    status: np.ndarray
    run_lengths: np.ndarray
    run_starts: np.ndarray
    source: np.ndarray
    offsets: np.ndarray
    sources: np.ndarray
    _dest: np.ndarray = field(repr=False)
    _apply_source: np.ndarray = field(repr=False)
    _apply_offsets: np.ndarray = field(repr=False)

    @property
    def step(self) -> int:
        """Distance between pixels of one colour: 2 on a Bayer sensor, else 1."""
        return 2 if self.cfa else 1

    @property
    def rows(self) -> np.ndarray:
        return self.keys // self.shape[1]

    @property
    def columns(self) -> np.ndarray:
        return self.keys % self.shape[1]

    @property
    def corrected(self) -> np.ndarray:
        """Boolean per pixel: the correction changes it."""
        return self.status == 0

    def __len__(self) -> int:
        return int(self.keys.size)

    def apply(self, frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The corrected frame.

        Parameters
        ----------
        frame : 2-D unsigned integer array of :attr:`shape`
        out : array, optional
            Where to write (same shape and dtype, C-contiguous). ``out=frame`` corrects in
            place, which is valid because a correction reads only unlisted pixels.

        Returns
        -------
        ndarray
            ``out``, or a new array of the frame's dtype.
        """
        frame = np.asarray(frame)
        if frame.ndim != 2 or frame.shape != self.shape:
            raise InputError(
                f"a frame of shape {frame.shape} does not fit a plan for {self.shape} frames"
            )
        if frame.dtype.kind != "u":
            raise InputError(f"frames must be unsigned integers, got {frame.dtype}")
        frame = np.ascontiguousarray(frame)
        if out is None:
            out = np.empty(frame.shape, frame.dtype)
            in_place = False
        else:
            if out.shape != frame.shape or out.dtype != frame.dtype:
                raise InputError(
                    f"out is {out.dtype} {out.shape}, the frame {frame.dtype} {frame.shape}"
                )
            if not out.flags.c_contiguous or not out.flags.writeable:
                raise InputError("out must be a writeable C-contiguous array")
            in_place = out.__array_interface__["data"][0] == frame.__array_interface__["data"][0]
            if not in_place and np.may_share_memory(out, frame):
                raise InputError("out overlaps the frame without being the frame")
        if not in_place:
            np.copyto(out, frame)
        if self._dest.size:
            if self.method == "left":
                _kernels.scatter_left(frame, out, self._dest, self._apply_source)
            elif self.method == "mean":
                _kernels.scatter_mean(frame, out, self._dest, self._apply_offsets, self.sources)
            else:
                _kernels.scatter_median(frame, out, self._dest, self._apply_offsets, self.sources)
        return out

    def report(self) -> CorrectionReport:
        """Counts corrected / uncorrected with reasons (see :class:`CorrectionReport`)."""
        uncorrected = np.flatnonzero(self.status)
        reasons = {
            name: int(np.count_nonzero(self.status & bit))
            for bit, name in REASONS.items()
            if np.any(self.status & bit)
        }
        not_recommended = 0
        if self.method == "left" and self.recommended_run is not None:
            not_recommended = int(
                np.count_nonzero((self.status == 0) & (self.run_lengths > self.recommended_run))
            )
        return CorrectionReport(
            method=self.method,
            shape=self.shape,
            cfa=self.cfa,
            max_run=self.max_run,
            recommended_run=self.recommended_run,
            entries=self.entries,
            pixels=len(self),
            corrected=int(self.keys.size - uncorrected.size),
            uncorrected=int(uncorrected.size),
            reasons=reasons,
            not_recommended=not_recommended,
            uncorrected_rows=self.rows[uncorrected],
            uncorrected_columns=self.columns[uncorrected],
            uncorrected_flags=self.status[uncorrected],
            uncorrected_run_lengths=self.run_lengths[uncorrected],
            uncorrected_run_starts=self.run_starts[uncorrected],
        )


def _rules(rules: RuleSet | str | None) -> RuleSet:
    if rules is None:
        return AV_LEFT_NEIGHBOUR
    return rule_set(rules) if isinstance(rules, str) else rules


def plan_correction(
    defects: Positions,
    shape: tuple[int, int],
    *,
    method: str = "left",
    cfa: str | None = None,
    rules: RuleSet | str | None = None,
    max_run: int | None = None,
    outside: str = "error",
    label: str = "the defect list",
) -> CorrectionPlan:
    """Plan the correction of the listed pixels on frames of ``shape``.

    Parameters
    ----------
    defects : DefectList, boolean mask or (N, 2) integer array of (row, column)
        The pixels to correct. Duplicates count once.
    shape : (height, width)
    method : {"left", "mean", "median"}
    cfa : str, optional
        Bayer pattern: work within each colour plane.
    rules : RuleSet or str, optional
        Where ``left`` takes its run limits from (default the ``av`` rule set: hard limit
        8, recommended 4).
    max_run : int, optional
        Overrides ``rules.hard_max_run``; 0 or None with ``rules`` lacking a limit means
        no limit.
    outside : {"error", "ignore"}
        An entry outside the image is an :class:`InputError` (default), or is left out
        (what a camera does on upload).
    label : str
        How error messages name the list.

    Raises
    ------
    InputError
        An entry lies outside the image, the list states another sensor size, or a
        parameter is invalid.
    """
    method = _check_method(method)
    shape = _check_shape(shape)
    cfa = parse_cfa(cfa)
    rules = _rules(rules)
    hard = rules.hard_max_run if max_run is None else (int(max_run) or None)
    if hard is not None and hard < 1:
        raise InputError(f"the run limit must be at least 1, got {hard}")
    recommended = rules.recommended_max_run
    keys, entries = _listed_keys(defects, shape, outside, label)
    height, width = shape
    step = 2 if cfa else 1
    n = keys.size
    status = np.zeros(n, np.uint8)
    run_lengths = np.zeros(n, np.int32)
    run_starts = np.zeros(n, np.int32)
    source = np.full(n, -1, np.int64)
    _kernels.plan_left(keys, width, step, hard or 0, status, run_lengths, run_starts, source)
    offsets = np.zeros(n + 1, np.int64)
    sources = np.zeros(0, np.int64)
    if method != "left":
        counts = np.zeros(n, np.int64)
        radius_used = np.zeros(n, np.int8)
        bitmap = _kernels.listed_bitmap(keys, height * width)
        _kernels.count_good_neighbours(keys, bitmap, height, width, step, counts, radius_used)
        np.cumsum(counts, out=offsets[1:])
        sources = np.empty(int(offsets[-1]), np.int64)
        _kernels.fill_good_neighbours(
            keys, bitmap, height, width, step, radius_used, offsets, sources
        )
        status = np.where(counts == 0, np.uint8(_kernels.NO_GOOD_NEIGHBOUR), np.uint8(0))
        source = np.full(n, -1, np.int64)
        recommended = None
    ok = status == 0
    dest = keys[ok]
    apply_source = source[ok]
    if method == "left":
        apply_offsets = np.zeros(1, np.int64)
    else:
        # Uncorrected pixels own empty spans, so the spans of the corrected ones chain up.
        apply_offsets = np.concatenate([offsets[:-1][ok], offsets[-1:]])
    return CorrectionPlan(
        method=method,
        shape=shape,
        cfa=cfa,
        max_run=hard if method == "left" else None,
        recommended_run=recommended,
        entries=entries,
        keys=keys,
        status=status,
        run_lengths=run_lengths,
        run_starts=run_starts,
        source=source,
        offsets=offsets,
        sources=sources,
        _dest=dest,
        _apply_source=apply_source,
        _apply_offsets=apply_offsets,
    )


# -- the report --------------------------------------------------------------------------


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
        return _reason_text(
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


def _reason_text(flags: int, run_length: int, run_start: int, max_run: int | None, step: int):
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


# -- correcting images and stacks ----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CorrectionResult:
    """A corrected image (or in-memory stack) with its report and plan."""

    image: np.ndarray
    report: CorrectionReport
    plan: CorrectionPlan


def correct(
    image: np.ndarray,
    defects: Positions,
    *,
    method: str = "left",
    cfa: str | None = None,
    rules: RuleSet | str | None = None,
    max_run: int | None = None,
) -> CorrectionResult:
    """Correct the listed pixels of an image (or an in-memory ``(N, H, W)`` stack).

    Parameters
    ----------
    image : ndarray of unsigned int, 2-D or 3-D
    defects : DefectList, boolean mask or (N, 2) integer array of (row, column)
    method : {"left", "mean", "median"}
        See the module documentation.
    cfa : str, optional
        Bayer pattern: corrections stay within a colour plane.
    rules, max_run
        Run limits of ``left`` (see :func:`plan_correction`).

    Returns
    -------
    CorrectionResult
        ``image`` has the input's shape and dtype; the input is not changed.

    Raises
    ------
    InputError
        The list does not fit the image, or a parameter is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> frame = np.array([[10, 99, 12, 13]], np.uint16)
    >>> correct(frame, np.array([[0, 1]])).image
    array([[10, 10, 12, 13]], dtype=uint16)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"expected a frame (H, W) or a stack (N, H, W), got shape {image.shape}")
    if image.dtype.kind != "u":
        raise InputError(f"expected unsigned integer pixels, got {image.dtype}")
    plan = plan_correction(
        defects, image.shape[-2:], method=method, cfa=cfa, rules=rules, max_run=max_run
    )
    if image.ndim == 2:
        corrected = plan.apply(image)
    else:
        corrected = np.empty(image.shape, image.dtype)
        for index in range(image.shape[0]):
            plan.apply(image[index], corrected[index])
    return CorrectionResult(corrected, plan.report(), plan)


def correct_left(
    frame: np.ndarray,
    defects: Positions,
    *,
    max_run: int | None = AV_LEFT_NEIGHBOUR.hard_max_run,
    cfa: str | None = None,
    outside: str = "error",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The Allied Vision camera's correction of one frame: the nearest good pixel to the left.

    Parameters
    ----------
    frame : 2-D unsigned integer array
    defects : DefectList, boolean mask of the frame's shape, or (N, 2) integer array
        The listed pixels as ``(row, column)``; duplicates count once.
    max_run : int or None
        Runs longer than this stay uncorrected (the ``av`` rule set's 8); None: no limit.
    cfa : str, optional
        Bayer pattern: copy from the nearest pixel of the same colour (two columns left).
    outside : {"error", "ignore"}
        Entries outside the frame raise :class:`InputError`, or are ignored as a camera
        ignores them on upload.
    out : ndarray, optional
        Output array; ``out=frame`` corrects in place.

    Returns
    -------
    ndarray
        The corrected frame. For the uncorrected pixels and reasons, and to correct many
        frames with one list, use :func:`plan_correction`.
    """
    frame = np.asarray(frame)
    if frame.ndim != 2:
        raise InputError(f"expected a 2-D frame, got shape {frame.shape}")
    plan = plan_correction(
        defects, frame.shape, method="left", cfa=cfa, max_run=max_run or 0, outside=outside
    )
    return plan.apply(frame, out)


def _as_stack(image: ImageInput, bit_depth: int | None) -> FrameStack:
    if isinstance(image, FrameStack):
        return image
    if isinstance(image, np.ndarray):
        return FrameStack.from_array(image, bit_depth=bit_depth, label="image array")
    return open_stack(image, bit_depth=bit_depth)


class CorrectedStack:
    """The frames of a stack, corrected one at a time as they are read.

    Made by :func:`correct_stack`. Iterate it (or call :meth:`frames`) for the corrected
    frames, :meth:`write` them to a multi-page TIFF, :meth:`confirm` the result. Memory
    stays at a frame or two whatever the stack length.

    Attributes
    ----------
    stack : FrameStack
        The input.
    plan : CorrectionPlan
    report : CorrectionReport
    """

    def __init__(self, stack: FrameStack, plan: CorrectionPlan) -> None:
        self.stack = stack
        self.plan = plan
        self.report = plan.report()
        self._total: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return self.stack.n_frames

    @property
    def shape(self) -> tuple[int, int]:
        return self.stack.shape

    @property
    def bit_depth(self) -> int:
        return self.stack.bit_depth

    def __len__(self) -> int:
        return self.n_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def frames(
        self, *, progress: ProgressCallback | None = None, accumulate: bool = False
    ) -> Iterator[np.ndarray]:
        """Yield the corrected frames one by one.

        ``accumulate=True`` also sums them, so that a later :meth:`confirm` needs no
        second pass over the stack.
        """
        total = _new_total(self.shape, self.stack.full_scale, self.n_frames) if accumulate else None
        buffer = None
        for frame in self.stack.frames(progress=progress):
            corrected = self.plan.apply(frame)
            if total is not None:
                buffer = _accumulate(total, corrected, buffer)
            yield corrected
        if total is not None:
            self._total = total

    def write(
        self,
        path: str | os.PathLike,
        *,
        overwrite: bool = False,
        metadata: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        accumulate: bool = False,
    ) -> Path:
        """Write the corrected frames as a (multi-page) TIFF, streaming and atomically.

        The TIFF metadata holds the input's metadata (exposure, gain, CFA ...), the
        correction (method, run limit, counts) and ``metadata``.
        """
        record = dict(self.stack.metadata)
        record["correction"] = {
            key: value
            for key, value in self.report.to_dict(limit=0).items()
            if key not in ("uncorrected_pixels", "uncorrected_pixels_truncated")
        }
        record["correction_method"] = self.plan.method
        record["corrected_from"] = self.stack.label
        if self.plan.cfa:
            record["cfa"] = self.plan.cfa
        record.update(metadata or {})
        return write_stack(
            path,
            self.frames(progress=progress, accumulate=accumulate),
            bit_depth=self.bit_depth,
            metadata=record,
            overwrite=overwrite,
            n_frames=self.n_frames,
        )

    def confirm(self, config: Any = None) -> ConfirmResult:
        """:func:`confirm_masked` on the corrected frames (reuses an accumulated sum)."""
        return confirm_masked(self, config=config)


def correct_stack(
    stack: ImageInput,
    defects: Positions,
    *,
    method: str = "left",
    cfa: str | None = None,
    rules: RuleSet | str | None = None,
    max_run: int | None = None,
    bit_depth: int | None = None,
    label: str = "the defect list",
) -> CorrectedStack:
    """Correct every frame of a stack, streaming (see :class:`CorrectedStack`).

    Parameters
    ----------
    stack : path, glob, directory, FrameStack or array
        A single image or a stack; validated now, read when iterated.
    defects : DefectList, boolean mask or (N, 2) integer array
    method, rules, max_run
        As in :func:`correct`.
    cfa : str, optional
        Bayer pattern; default from the files' metadata.
    bit_depth : int, optional
        Significant bits of the data; default from the files.
    label : str
        How error messages name the list.

    Raises
    ------
    InputError, FileFormatError
        Unreadable frames, or a list that does not fit them. Raised before any frame is
        corrected.
    """
    frames = _as_stack(stack, bit_depth)
    if cfa is None:
        cfa = frames.metadata.get("cfa")
    plan = plan_correction(
        defects, frames.shape, method=method, cfa=cfa, rules=rules, max_run=max_run, label=label
    )
    return CorrectedStack(frames, plan)


# -- confirm masked ----------------------------------------------------------------------


def _new_total(shape: tuple[int, int], full_scale: int, n_frames: int) -> np.ndarray:
    dtype = np.uint32 if full_scale * n_frames < 2**32 else np.uint64
    return np.zeros(shape, dtype)


def _accumulate(total: np.ndarray, frame: np.ndarray, buffer: np.ndarray | None) -> np.ndarray:
    if buffer is None:
        buffer = np.empty(total.shape, total.dtype)
    np.copyto(buffer, frame, casting="safe")
    total += buffer
    return buffer


def _sum_frames(frames: Iterable[np.ndarray], total: np.ndarray) -> int:
    count = 0
    buffer = None
    for frame in frames:
        if frame.shape != total.shape:
            raise InputError(f"frame of shape {frame.shape} in a stack of {total.shape} frames")
        buffer = _accumulate(total, frame, buffer)
        count += 1
    return count


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
    from .detection import DetectionConfig, deviation_outliers, line_deviations

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
