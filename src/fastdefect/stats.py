"""Streaming per-pixel statistics of a stack of frames.

One pass over the frames gives, per pixel, the exact sum (hence the mean), the temporal
standard deviation, the minimum and the maximum, and per frame its mean level, so a
frame with a light leak or a wrong exposure can be reported. Memory is the
accumulators plus a band of rows per thread, whatever the number of frames.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba.core import config as numba_config

from .errors import InputError
from .frames import FrameStack, ProgressCallback, StackBands, open_bands
from .kernels.stats import (
    accumulate_band,
    accumulate_four_bands,
    accumulate_frame,
    band_temporal_std,
    temporal_std,
)

__all__ = ["StackStats", "find_outlier_frames", "stack_stats"]


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
    minimum, maximum : ndarray
        Per-pixel extremes over the frames, in the frames' dtype.
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
    minimum: np.ndarray
    maximum: np.ndarray
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


def _accumulator_dtype(largest: int) -> np.dtype:
    return np.dtype(np.uint32 if largest < 2**32 else np.uint64)


# Bytes of accumulators and frame rows one band should span. The kernel alone is
# fastest at about half a core's L2 (0.6 ns/pixel at 0.5 MiB, 2.2 at 2 MiB in cache
# tests), but end to end, with the reads, 2 MiB measured best (stack_stats on 32 frames
# of 5120^2, same process, load avg ~5.5: 0.5 MiB 2.15/1.95 s, 2 MiB 2.01/1.65 s,
# 8 MiB 2.51/2.28 s, frame-major 3.34/2.93 s).
BAND_BYTES = 2**21


def stack_stats(stack: FrameStack, *, progress: ProgressCallback | None = None) -> StackStats:
    """Compute :class:`StackStats` in one streaming pass over ``stack``.

    Sums use the narrowest exact integer type for the bit depth and frame count
    (``uint32`` for 10-bit data up to 4100 frames). The pass is cache-blocked: band by
    band of rows, every frame's rows of a band are added while that band's accumulators
    sit in cache, bands in parallel threads, reading with positioned reads (see
    :func:`~fastdefect.frames.open_bands`). Stacks whose files can only be read whole
    (raw camera files) are read frame by frame. Both give identical results.
    """
    if stack.n_frames < 1:
        raise InputError(f"{stack.label}: the stack holds no frames")
    bands = open_bands(stack)
    if bands is None:
        return _frame_major_stats(stack, progress)
    with bands:
        return _band_major_stats(stack, bands, progress)


def _new_accumulators(stack: FrameStack) -> tuple[np.ndarray, ...]:
    n_frames, full_scale = stack.n_frames, stack.full_scale
    total = np.zeros(stack.shape, _accumulator_dtype(full_scale * n_frames))
    total_sq = np.zeros(stack.shape, _accumulator_dtype(full_scale * full_scale * n_frames))
    minimum = np.full(stack.shape, np.iinfo(stack.dtype).max, stack.dtype)
    maximum = np.zeros(stack.shape, stack.dtype)
    std = np.zeros(stack.shape, np.float32)
    return total, total_sq, minimum, maximum, std


def _result(stack: FrameStack, accumulators: tuple, frame_sums: np.ndarray) -> StackStats:
    total, _, minimum, maximum, std = accumulators
    return StackStats(
        total=total,
        std=std,
        minimum=minimum,
        maximum=maximum,
        frame_means=frame_sums / (stack.shape[0] * stack.shape[1]),
        n_frames=stack.n_frames,
        bit_depth=stack.bit_depth,
        metadata=dict(stack.metadata),
        label=stack.label,
    )


def _frame_major_stats(stack: FrameStack, progress: ProgressCallback | None) -> StackStats:
    """One frame at a time through the whole accumulators (for files read whole)."""
    accumulators = _new_accumulators(stack)
    total, total_sq, minimum, maximum, std = accumulators
    frame_sums = np.zeros(stack.n_frames, np.float64)
    for index, frame in enumerate(stack.frames(progress=progress)):
        frame_sums[index] = accumulate_frame(frame, total, total_sq, minimum, maximum)
    if stack.n_frames > 1:
        temporal_std(total, total_sq, stack.n_frames, std)
    return _result(stack, accumulators, frame_sums)


def _band_major_stats(
    stack: FrameStack, bands: StackBands, progress: ProgressCallback | None
) -> StackStats:
    """Band by band, all frames per band, bands in threads (the kernels release the GIL)."""
    accumulators = _new_accumulators(stack)
    total, total_sq, minimum, maximum, std = accumulators
    n_frames, width = stack.n_frames, stack.shape[1]
    bytes_per_pixel = sum(a.itemsize for a in accumulators[:4]) + stack.dtype.itemsize
    ranges = bands.bands(BAND_BYTES // (width * bytes_per_pixel))
    band_sums = np.zeros((len(ranges), n_frames), np.uint64)
    # Four frames per call, unless a row's pixel sum could overflow the kernel's uint32.
    group = 4 if width * stack.full_scale < 2**32 else 1
    stop_early = threading.Event()  # a band failed: the others need not finish
    local = threading.local()

    def work(band: int) -> None:
        start, stop = ranges[band]
        buffers = getattr(local, "buffers", None)
        if buffers is None or buffers.shape[1] < stop - start:
            buffers = local.buffers = np.empty((group, stop - start, width), stack.dtype)
        rows = slice(start, stop)
        acc = (total[rows], total_sq[rows], minimum[rows], maximum[rows])
        sums = band_sums[band]
        frame = 0
        while frame < n_frames:
            if stop_early.is_set():
                return
            if group == 4 and frame + 4 <= n_frames:
                four = [bands.read(frame + k, start, stop, buffers[k]) for k in range(4)]
                accumulate_four_bands(*four, *acc, sums[frame : frame + 4])
                frame += 4
            else:
                sums[frame] = accumulate_band(bands.read(frame, start, stop, buffers[0]), *acc)
                frame += 1
        if n_frames > 1:
            band_temporal_std(acc[0], acc[1], n_frames, std[rows])

    workers = max(1, min(len(ranges), numba_config.NUMBA_NUM_THREADS))
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
    if int(maximum.max()) > stack.full_scale:
        # Read frame by frame up to the first bad frame for the usual, precise error.
        for _ in stack.frames():
            pass
        raise InputError(f"{stack.label}: values above the {stack.bit_depth}-bit full scale")
    return _result(stack, accumulators, band_sums.sum(axis=0).astype(np.float64))


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
