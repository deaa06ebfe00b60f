"""Correcting images and stacks with a plan.

:func:`correct` and :func:`correct_left` correct an image or an in-memory stack;
:func:`correct_stack` streams a stack from disk frame by frame as a
:class:`CorrectedStack`, which writes the corrected frames and confirms them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..frames import FrameStack, ProgressCallback, open_stack, write_stack
from ..rules import AV_LEFT_NEIGHBOUR, RuleSet
from ..stats import accumulator_dtype
from .plan import CorrectionPlan, plan_correction
from .positions import Positions
from .report import CorrectionReport

if TYPE_CHECKING:
    from .confirm import ConfirmResult


ImageInput = str | os.PathLike | FrameStack | np.ndarray


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
        # Imported here: confirm_masked accepts a CorrectedStack, so confirm.py imports this one.
        from .confirm import confirm_masked

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


def _new_total(shape: tuple[int, int], full_scale: int, n_frames: int) -> np.ndarray:
    return np.zeros(shape, accumulator_dtype(full_scale * n_frames))


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
