"""Streaming per-pixel statistics of a stack of frames.

One pass over the frames gives, per pixel, the exact sum (hence the mean), the temporal
standard deviation, the minimum and the maximum, and per frame its mean level, so a
frame with a light leak or a wrong exposure can be reported. Memory is the
accumulators plus a band of rows per thread, whatever the number of frames.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .frames import FrameStack, ProgressCallback, StackBands, open_bands
from .kernels._threads import n_threads
from .kernels.stats import (
    accumulate_band,
    accumulate_four_bands,
    accumulate_frame,
    band_temporal_std,
    temporal_std,
)

__all__ = [
    "StackStats",
    "StackSums",
    "SummedStack",
    "find_outlier_frames",
    "merge_sums",
    "stack_stats",
    "stack_sums",
]


@dataclass
class StackStats:
    """Per-pixel statistics of one stack.

    Attributes
    ----------
    total : ndarray of unsigned int
        Exact per-pixel sum over the frames; ``mean = total / n_frames``. Detection works
        on these sums so no precision is lost.
    std : ndarray of float32
        Temporal sample standard deviation per pixel (zeros for a single frame).
    minimum, maximum : ndarray or None
        Per-pixel extremes over the frames, in the frames' dtype; None when not computed
        (``extremes=False``: detection does without them) or unknown (master frames).
    frame_means : ndarray of float64
        Mean level of each frame.
    n_frames, bit_depth : int
    metadata : dict
        From the files (exposure, gain, temperature ...).
    label : str
        Where the frames came from.
    """

    total: np.ndarray
    std: np.ndarray
    minimum: np.ndarray | None
    maximum: np.ndarray | None
    frame_means: np.ndarray
    n_frames: int
    bit_depth: int
    metadata: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return self.total.shape

    @property
    def mean(self) -> np.ndarray:
        """Per-pixel mean as float64 (allocates a new array)."""
        return self.total / float(self.n_frames)

    @property
    def exposure_us(self) -> float | None:
        value = self.metadata.get("exposure_us")
        return float(value) if value is not None else None


def accumulator_dtype(largest: int) -> np.dtype:
    """The narrowest unsigned type that holds ``largest`` (a sum's largest value): uint16
    sums (up to 64 frames of 10-bit data) halve the memory every later pass reads, and
    every sum of frames uses this one choice, so kernels compile for one dtype."""
    for dtype in (np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


# Bytes of accumulators and frame rows one band should span. The kernel alone is
# fastest at about half a core's L2 (0.6 ns/pixel at 0.5 MiB, 2.2 at 2 MiB in cache
# tests), but end to end, with the reads, 2 MiB measured best (stack_stats on 32 frames
# of 5120^2, same process, load avg ~5.5: 0.5 MiB 2.15/1.95 s, 2 MiB 2.01/1.65 s,
# 8 MiB 2.51/2.28 s, frame-major 3.34/2.93 s).
BAND_BYTES = 2**21


def stack_stats(
    stack: FrameStack, *, extremes: bool = True, progress: ProgressCallback | None = None
) -> StackStats:
    """Compute :class:`StackStats` in one streaming pass over ``stack``.

    Sums use the narrowest exact integer type for the bit depth and frame count
    (``uint16`` for 10-bit data up to 64 frames, ``uint32`` up to 4,198,404). The pass
    is cache-blocked: band by band of rows, every frame's rows of a band are added while
    that band's accumulators sit in cache, bands in parallel threads, reading with
    positioned reads (see
    :func:`~fastdefect.frames.open_bands`). Stacks whose files can only be read whole
    (raw camera files) are read frame by frame. Both give identical results. To split a
    long stack between processes, see :func:`stack_sums`.

    ``extremes=False`` skips the per-pixel minimum and maximum (None in the result):
    two frame-sized arrays less, and a 1.45x faster kernel. In the band-major pass the
    sums of squares live only a band at a time (the standard deviation is finished
    band by band), so the pass allocates only the sums, the standard deviation and,
    if asked, the extremes: 6 bytes per pixel for 10-bit data without extremes, 10
    with.
    """
    frames = _frame_range(stack, None)
    std = np.zeros(stack.shape, np.float32)
    in_pass = std if len(frames) > 1 else None
    return _pass(stack, frames, progress, std=in_pass, extremes=extremes).finish(std=std)


@dataclass
class StackSums:
    """Exact per-pixel sums of some frames of a stack: what :func:`merge_sums` adds up.

    Chunks of a long stack's frames can be summed apart (on several workers) and merged
    into exactly what one pass gives: integer sums add, extremes compare.

    Attributes
    ----------
    total, total_sq : ndarray of unsigned int
        Per-pixel sums of the values and of their squares.
    minimum, maximum : ndarray or None
        Per-pixel extremes, in the frames' dtype (None: not computed).
    frame_sums : ndarray of uint64
        Pixel sum of each frame, in frame order.
    bit_depth : int
    metadata : dict
    label : str
    """

    total: np.ndarray
    total_sq: np.ndarray
    minimum: np.ndarray | None
    maximum: np.ndarray | None
    frame_sums: np.ndarray
    bit_depth: int
    metadata: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def n_frames(self) -> int:
        return int(self.frame_sums.size)

    def finish(self, *, std: np.ndarray | None = None) -> StackStats:
        """The :class:`StackStats` of these frames (``std``: already computed, float32)."""
        if std is None:
            std = np.zeros(self.total.shape, np.float32)
            if self.n_frames > 1:
                temporal_std(self.total, self.total_sq, self.n_frames, std)
        height, width = self.total.shape
        return StackStats(
            total=self.total,
            std=std,
            minimum=self.minimum,
            maximum=self.maximum,
            frame_means=self.frame_sums.astype(np.float64) / (height * width),
            n_frames=self.n_frames,
            bit_depth=self.bit_depth,
            metadata=dict(self.metadata),
            label=self.label,
        )


def stack_sums(
    stack: FrameStack,
    frames: range | None = None,
    *,
    extremes: bool = True,
    progress: ProgressCallback | None = None,
) -> StackSums:
    """Exact sums of the frames ``frames`` (default all) of ``stack``, for :func:`merge_sums`.

    The same pass as :func:`stack_stats` over a range of frames (``range(start, stop)``,
    step 1), without the standard deviation, which only the merged sums give.
    ``extremes=False`` skips the minimum and maximum (see :func:`stack_stats`).
    """
    return _pass(stack, _frame_range(stack, frames), progress, std=None, extremes=extremes)


def merge_sums(parts: Sequence[StackSums]) -> StackSums:
    """The sums of consecutive frame chunks, merged: exactly what one pass gives.

    ``parts`` in frame order; the sums widen to the type the whole frame count needs.
    The extremes are merged when every part has them, else None.
    """
    if not parts:
        raise InputError("no partial sums to merge")
    first = parts[0]
    for part in parts[1:]:
        if part.total.shape != first.total.shape or part.bit_depth != first.bit_depth:
            raise InputError(
                f"{part.label}: partial sums of {part.total.shape} at {part.bit_depth} bits "
                f"do not match {first.total.shape} at {first.bit_depth} bits"
            )
    full_scale = (1 << first.bit_depth) - 1
    n_frames = sum(part.n_frames for part in parts)
    total, total_sq = (np.zeros(first.total.shape, t) for t in _sum_types(full_scale, n_frames))
    extremes = all(part.minimum is not None for part in parts)
    minimum = first.minimum.copy() if extremes else None
    maximum = first.maximum.copy() if extremes else None
    for part in parts:
        np.add(total, part.total, out=total, casting="unsafe")  # widening: exact
        np.add(total_sq, part.total_sq, out=total_sq, casting="unsafe")
        if extremes:
            np.minimum(minimum, part.minimum, out=minimum)
            np.maximum(maximum, part.maximum, out=maximum)
    return StackSums(
        total=total,
        total_sq=total_sq,
        minimum=minimum,
        maximum=maximum,
        frame_sums=np.concatenate([part.frame_sums for part in parts]),
        bit_depth=first.bit_depth,
        metadata=dict(first.metadata),
        label=first.label,
    )


@dataclass(frozen=True)
class SummedStack:
    """A stack whose statistics were computed elsewhere (merged from frame chunks summed
    on several workers, see :func:`merge_sums`).

    :func:`fastdefect.detection.analyse` takes it wherever it takes a stack and uses
    ``stats`` instead of reading the frames; it reads them again only for the noisy
    pixels' frame histories (telegraph evidence), as for any stack.
    """

    stack: FrameStack
    stats: StackStats

    def __post_init__(self) -> None:
        stack, stats = self.stack, self.stats
        if (stats.shape, stats.n_frames, stats.bit_depth) != (
            stack.shape,
            stack.n_frames,
            stack.bit_depth,
        ):
            raise InputError(
                f"{stack.label}: statistics of {stats.n_frames} frames of {stats.shape} at "
                f"{stats.bit_depth} bits do not describe its {stack.n_frames} frames of "
                f"{stack.shape} at {stack.bit_depth} bits"
            )


def _frame_range(stack: FrameStack, frames: range | None) -> range:
    if stack.n_frames < 1:
        raise InputError(f"{stack.label}: the stack holds no frames")
    if frames is None:
        return range(stack.n_frames)
    if frames.step != 1 or not 0 <= frames.start < frames.stop <= stack.n_frames:
        raise InputError(
            f"{stack.label}: frames {frames.start}..{frames.stop - 1} (step {frames.step}) "
            f"are not a non-empty run of its {stack.n_frames} frames"
        )
    return frames


def _frame_major_stats(
    stack: FrameStack, progress: ProgressCallback | None, *, extremes: bool = True
) -> StackStats:
    """:func:`stack_stats` by the frame-major pass, whatever the files (for comparisons)."""
    frames = _frame_range(stack, None)
    return _pass(stack, frames, progress, std=None, extremes=extremes, frame_major=True).finish()


def _pass(
    stack: FrameStack,
    frames: range,
    progress: ProgressCallback | None,
    *,
    std: np.ndarray | None,
    extremes: bool,
    frame_major: bool = False,
) -> StackSums:
    """One pass over ``frames``: their :class:`StackSums`.

    With ``std`` given, fills it; the band-major pass then finishes it band by band
    while in cache and keeps no frame-sized sums of squares (``total_sq`` has no rows:
    only :meth:`StackSums.finish` with that ``std`` may follow). Without ``extremes``,
    ``minimum`` and ``maximum`` are None.
    """
    bands = None if frame_major else open_bands(stack)
    if bands is None:
        sums = _frame_major_sums(stack, frames, progress, std, extremes)
    else:
        with bands:
            sums = _band_major_sums(stack, bands, frames, progress, std, extremes)
    return StackSums(*sums, stack.bit_depth, dict(stack.metadata), stack.label)


_Sums = tuple[np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None", np.ndarray]


def _frame_major_sums(
    stack: FrameStack,
    frames: range,
    progress: ProgressCallback | None,
    std: np.ndarray | None,
    extremes: bool,
) -> _Sums:
    """One frame at a time through the whole accumulators (for files read whole):
    ``(total, total_sq, minimum, maximum, frame_sums)``."""
    total, total_sq = (np.zeros(stack.shape, t) for t in _sum_types(stack.full_scale, len(frames)))
    minimum, maximum = _new_extremes(stack) if extremes else (None, None)
    frame_sums = np.zeros(len(frames), np.uint64)
    for index, frame in enumerate(stack.frames(progress=progress)):  # checks full scale
        if index in frames:
            frame_sums[index - frames.start] = accumulate_frame(
                frame, total, total_sq, minimum, maximum
            )
        elif index >= frames.stop:
            break
    if std is not None:
        temporal_std(total, total_sq, len(frames), std)
    return total, total_sq, minimum, maximum, frame_sums


def _sum_types(full_scale: int, n_frames: int) -> tuple[np.dtype, np.dtype]:
    """The exact types of the sums and of the sums of squares of ``n_frames`` frames."""
    return accumulator_dtype(full_scale * n_frames), accumulator_dtype(full_scale**2 * n_frames)


def _new_extremes(stack: FrameStack) -> tuple[np.ndarray, np.ndarray]:
    minimum = np.full(stack.shape, np.iinfo(stack.dtype).max, stack.dtype)
    return minimum, np.zeros(stack.shape, stack.dtype)


def _band_major_sums(
    stack: FrameStack,
    bands: StackBands,
    frames: range,
    progress: ProgressCallback | None,
    std: np.ndarray | None,
    extremes: bool,
) -> _Sums:
    """Band by band, all frames per band, bands in threads (the kernels release the GIL):
    ``(total, total_sq, minimum, maximum, frame_sums)``."""
    n_frames, width = len(frames), stack.shape[1]
    sum_type, square_type = _sum_types(stack.full_scale, n_frames)
    total = np.zeros(stack.shape, sum_type)
    # With std finished here, band by band, the sums of squares live a band at a time.
    total_sq = np.zeros((0 if std is not None else stack.shape[0], width), square_type)
    minimum, maximum = _new_extremes(stack) if extremes else (None, None)
    bytes_per_pixel = (
        total.itemsize
        + total_sq.itemsize
        + (2 * stack.dtype.itemsize if extremes else 0)
        + stack.dtype.itemsize
    )
    ranges = bands.bands(BAND_BYTES // (width * bytes_per_pixel))
    band_sums = np.zeros((len(ranges), n_frames), np.uint64)
    peaks = np.zeros(len(ranges), np.uint64)
    # Four frames per call, unless a row's pixel sum could overflow the kernel's uint32.
    group = 4 if width * stack.full_scale < 2**32 else 1
    stop_early = threading.Event()  # a band failed: the others need not finish
    local = threading.local()

    def work(band: int) -> None:
        start, stop = ranges[band]
        buffers = getattr(local, "buffers", None)
        if buffers is None or buffers.shape[1] < stop - start:
            buffers = local.buffers = np.empty((group, stop - start, width), stack.dtype)
            if std is not None:
                local.squares = np.empty((stop - start, width), total_sq.dtype)
        rows = slice(start, stop)
        squares = total_sq[rows]
        if std is not None:
            squares = local.squares[: stop - start]
            squares.fill(0)
        extra = (minimum[rows], maximum[rows]) if extremes else ()
        sums = band_sums[band]
        peak = 0
        k = 0
        while k < n_frames:
            if stop_early.is_set():
                return
            frame = frames.start + k
            if group == 4 and k + 4 <= n_frames:
                four = [bands.read(frame + i, start, stop, buffers[i]) for i in range(4)]
                high = accumulate_four_bands(*four, total[rows], squares, sums[k : k + 4], *extra)
                k += 4
            else:
                one = bands.read(frame, start, stop, buffers[0])
                sums[k], high = accumulate_band(one, total[rows], squares, *extra)
                k += 1
            peak = max(peak, int(high))
        peaks[band] = peak
        if std is not None:
            band_temporal_std(total[rows], squares, n_frames, std[rows])

    workers = max(1, min(len(ranges), n_threads()))
    with ThreadPoolExecutor(workers, thread_name_prefix="fastdefect-stats") as pool:
        futures = [pool.submit(work, band) for band in range(len(ranges))]
        try:
            for done, future in enumerate(as_completed(futures), 1):
                future.result()
                if progress is not None:
                    progress(n_frames * done // len(futures), n_frames)
        except BaseException:
            stop_early.set()
            for future in futures:
                future.cancel()
            raise
    if int(peaks.max()) > stack.full_scale:
        # Read frame by frame up to the first bad frame for the usual, precise error.
        for _ in stack.frames():
            pass
        raise InputError(f"{stack.label}: values above the {stack.bit_depth}-bit full scale")
    return total, total_sq, minimum, maximum, band_sums.sum(axis=0)


def find_outlier_frames(
    frame_means: np.ndarray, full_scale: int, *, tolerance: float = 0.02
) -> list[tuple[int, float]]:
    """Frames whose mean level departs from the stack's median level.

    A frame is an outlier when its mean differs from the median frame mean by more than
    ``tolerance`` of full scale and by more than 10 robust sigmas of the frame means
    (light leak, wrong exposure, a dropped shutter). Returns ``(index, mean)`` pairs.
    """
    if len(frame_means) < 3:
        return []
    centre = float(np.median(frame_means))
    spread = 1.4826 * float(np.median(np.abs(frame_means - centre)))
    limit = max(tolerance * full_scale, 10.0 * spread)
    return [(int(i), float(m)) for i, m in enumerate(frame_means) if abs(m - centre) > limit]
