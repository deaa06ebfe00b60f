"""The correction plan: what a correction does to every listed pixel.

:func:`plan_correction` computes it once from the positions (runs for ``left``,
neighbourhoods for ``mean`` / ``median``); :meth:`CorrectionPlan.apply` applies it to any
frame of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..kernels import correct as _kernels
from ..rules import AV_LEFT_NEIGHBOUR, RuleSet, rule_set
from ..sensor import parse_cfa
from .positions import Positions, _check_shape, _listed_keys
from .report import REASONS, CorrectionReport

#: Correction methods.
METHODS = ("left", "mean", "median")


def _check_method(method: str) -> str:
    key = str(method).strip().lower()
    if key not in METHODS:
        raise InputError(f"unknown correction method {method!r}; use one of {', '.join(METHODS)}")
    return key


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
