"""Detection and classification of defective pixels from dark and bright stacks.

The definitions are those of docs/domain.md §2 (the PYTHON sensor datasheets):

* A pixel deviates when ``value - local background`` exceeds a threshold in the dark
  mean, the bright (grey, flat) mean, or a saturated mean. The local background is
  the median of the pixel's neighbours in the 7 x 7 block, the pixel itself excluded;
  neighbours outside the image are left out, and on a colour sensor only neighbours
  of the same colour count. Default threshold: 102 LSB at 10 bit, scaled to the bit
  depth.
* A column (row) is bad when its mean deviates by more than 48 LSB10 from the median
  of the 11 columns (rows) around it, itself included (±5; fewer at the borders).
* Every flagged pixel is classified into the first kind it fits of ``stuck_high,
  stuck_low, hot, dark, bright, noisy, column, row``, using the temporal evidence of
  the stacks, and keeps the measurements that made the call.

The exact local median is only computed where a pixel could pass the threshold (see
:mod:`fastdefect.kernels.candidates`), so detection costs little more than reading the
frames. Everything works on the exact integer sums of the stacks: nothing is rounded.
"""

from __future__ import annotations

import functools
import math
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from . import __version__
from .defaults import DEFAULT_LINE_THRESHOLD, DEFAULT_PIXEL_THRESHOLD
from .defects import KINDS, DefectList
from .errors import InputError
from .frames import FrameStack, ProgressCallback
from .kernels.candidates import find_candidates, neighbour_deviation
from .kernels.full_frame import (
    border_neighbour_deviation,
    deviation_beyond,
    interior_neighbour_deviation,
)
from .kernels.lines import block_candidates, block_sums, line_sums
from .masters import MasterFrame, master_warnings, open_stack_or_master
from .noise import (
    QUANTISATION_VARIANCE,
    NoiseModel,
    chi2_median_ratio,
    chi2_upper_ratio,
    estimate_noise_model,
    local_variance,
    transfer_points,
)
from .sensor import parse_cfa
from .stats import StackStats, SummedStack, find_outlier_frames, stack_stats
from .telegraph import TelegraphEvidence, frame_histories, telegraph_evidence

__all__ = [
    "DetectionAnalysis",
    "DetectionConfig",
    "DetectionResult",
    "LineSegment",
    "StackAnalysis",
    "StackReport",
    "Threshold",
    "analyse",
    "detect",
    "deviation_image",
    "deviation_outliers",
    "line_deviations",
    "line_segments",
    "local_deviation",
]

NEIGHBOURHOOD = 7  # the datasheets' 7 x 7 block
LINE_RADIUS = 5  # the datasheets' ±5 neighbouring columns/rows
_SAMPLE_SIZE = 65536  # pixels sampled to estimate noise levels
_SAMPLE_SEED = 20251121  # fixed: the estimates are reproducible
_KIND = {name: code for code, name in enumerate(KINDS)}
#: ``deviation_outliers(method="auto")`` computes a plane's deviation everywhere (the
#: full-frame network of :func:`deviation_image`, then a threshold) instead of the exact
#: median per candidate pixel when the candidates exceed this fraction of the plane.
#: Measured on 5120 x 5120 flat frames (bench_detect.py, detect_full_deviation): a
#: candidate costs ~0.8 us (uint16) to ~0.9 us (uint32 sums), the full path ~2.4 (3) ns
#: per pixel, so the two break even at 0.30 % (0.32 %) candidates; on either side of
#: the switch the slower choice costs little more than the faster.
FULL_FRAME_FRACTION = 0.003
#: ... and at least this many: the full-frame network costs about 4 s to compile on a
#: first run, which 20,000 candidates (~16 ms of exact medians) never repay. It matters
#: below about 6.7 Mpix (a 1024 x 1024 demo sensor with its 0.6 % defects); above, the
#: fraction decides.
FULL_FRAME_MIN_CANDIDATES = 20_000
#: Output rows per parallel task of the full-frame kernel (a multiple of 4).
_FULL_BAND_HEIGHT = 64
#: Rows of the full-frame deviation held at once when it is thresholded or gathered.
_BAND_ROWS = 256

StackInput = str | os.PathLike | FrameStack | MasterFrame | SummedStack | np.ndarray


# -- thresholds --------------------------------------------------------------------------

_UNITS = {
    "": "dn",
    "dn": "dn",
    "lsb": "dn",
    "lsb10": "lsb10",
    "%": "percent",
    "percent": "percent",
    "sigma": "sigma",
    "sigmas": "sigma",
    "σ": "sigma",
}


_THRESHOLD_PATTERN = re.compile(
    r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%|[a-zA-Zσ][a-zA-Z0-9]*|)\s*"
)


@dataclass(frozen=True)
class Threshold:
    """A deviation threshold with its unit.

    Units: ``dn`` (digital numbers at the data's bit depth), ``lsb10`` (10-bit LSB, the
    datasheets' unit, scaled by ``2**(bit_depth - 10)``), ``percent`` (of full scale),
    ``sigma`` (standard deviations of each pixel's own deviation noise, from the noise
    model: :meth:`StackAnalysis.deviation_noise`; a typical pixel's is the stack's robust
    sigma).

    >>> Threshold.parse("102lsb10").to_dn(bit_depth=12)
    408.0
    """

    value: float
    unit: str = "dn"

    def __post_init__(self) -> None:
        if self.unit not in ("dn", "lsb10", "percent", "sigma"):
            raise InputError(f"unknown threshold unit {self.unit!r}")
        if not (math.isfinite(self.value) and self.value > 0):
            raise InputError(f"a threshold must be a positive number, got {self.value!r}")

    @classmethod
    def parse(cls, text: str | float | Threshold) -> Threshold:
        """Read ``"408"``, ``"408dn"``, ``"102lsb10"``, ``"10%"``, ``"6sigma"``.

        A bare number is in DN at the data's bit depth.
        """
        if isinstance(text, Threshold):
            return text
        if isinstance(text, int | float):
            return cls(float(text), "dn")
        match = re.fullmatch(
            r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%|[a-zA-Zσ][a-zA-Z0-9]*|)\s*", text
        )
        unit = match and _UNITS.get(match.group(2).lower())
        if not match or unit is None:
            raise InputError(
                f"cannot read threshold {text!r}; write e.g. 408, 408dn, 102lsb10, 10% or 6sigma"
            )
        return cls(float(match.group(1)), unit)

    def to_dn(self, bit_depth: int, sigma: float | None = None) -> float:
        """The threshold in DN for data of ``bit_depth`` bits (``sigma`` for sigma units)."""
        if self.unit == "dn":
            return self.value
        if self.unit == "lsb10":
            return self.value * 2.0 ** (bit_depth - 10)
        if self.unit == "percent":
            return self.value / 100.0 * ((1 << bit_depth) - 1)
        if sigma is None or not sigma > 0:
            raise InputError("a threshold in sigmas needs a measurable noise level")
        return self.value * sigma

    @property
    def unit_label(self) -> str:
        """The unit as shown to people: ``DN``, ``LSB10``, ``%`` or ``sigma``."""
        return {"dn": "DN", "lsb10": "LSB10", "percent": "%", "sigma": "sigma"}[self.unit]

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit_label}"


_PIXEL_THRESHOLD = Threshold.parse(DEFAULT_PIXEL_THRESHOLD)
_LINE_THRESHOLD = Threshold.parse(DEFAULT_LINE_THRESHOLD)


@dataclass(frozen=True)
class DetectionConfig:
    """Thresholds and rules of detection; the defaults are the datasheets'.

    Parameters
    ----------
    pixel_threshold : Threshold or str
        Deviation from the local background that makes a pixel defective, in the dark,
        bright and saturated means. Default 102 LSB10.
    line_threshold : Threshold or str
        Deviation of a column or row mean from its neighbours' median. Default 48 LSB10.
    stuck_tolerance : Threshold or str
        How close to full scale (to zero) a stuck high (low) pixel sits. Default 5 %.
    noise_factor : float
        A pixel is noisy when its temporal standard deviation exceeds this many times
        the one its own mean predicts (the photon-transfer model of
        :mod:`fastdefect.noise`, or its neighbours' without a bright stack) and the
        chi-square limit for the frame count. Default 3.
    vote : float
        With several dark (bright) stacks, the fraction of them that must flag a pixel.
        Default 0: one is enough, since hot pixels may show only at long exposures.
    cfa : str or None
        Bayer pattern: detect per colour plane.
    segment_length : int
        Shortest partial line reported (a column or row stretch deviating from its
        neighbours by more than the line threshold, :func:`line_segments`), in sensor
        pixels. Default 32.
    telegraph : bool
        Read the noisy pixels' frame histories once more for random-telegraph evidence
        (``rts_levels``, ``rts_amplitude``, ``rts_switches``); costs one more pass over
        the stacks judged for noise when they hold noisy pixels. Default True.
    line_sigma : float, optional
        Also report faint full lines: a column (row) whose mean deviation from its ±5
        neighbours exceeds this many sigmas of a line mean's noise, ``deviation_sigma *
        1.07 / sqrt(pixels in the line)`` (the √N scaling of ccdmask), even below the
        datasheets' line threshold. Default None (off: the datasheet rule only).
    """

    pixel_threshold: Threshold = _PIXEL_THRESHOLD
    line_threshold: Threshold = _LINE_THRESHOLD
    stuck_tolerance: Threshold = Threshold(5, "percent")
    noise_factor: float = 3.0
    vote: float = 0.0
    cfa: str | None = None
    segment_length: int = 32
    telegraph: bool = True
    line_sigma: float | None = None

    def __post_init__(self) -> None:
        for name in ("pixel_threshold", "line_threshold", "stuck_tolerance"):
            object.__setattr__(self, name, Threshold.parse(getattr(self, name)))
        if self.stuck_tolerance.unit == "sigma":
            raise InputError("the stuck tolerance cannot be given in sigmas")
        if not self.noise_factor > 1:
            raise InputError(f"noise factor must be above 1, got {self.noise_factor}")
        if isinstance(self.segment_length, bool) or not (
            isinstance(self.segment_length, int) and self.segment_length >= 2
        ):
            raise InputError(f"segment length must be an integer >= 2, got {self.segment_length!r}")
        if self.line_sigma is not None and not (
            isinstance(self.line_sigma, int | float) and self.line_sigma > 0
        ):
            raise InputError(f"line sigma must be a positive number, got {self.line_sigma!r}")
        if not 0 <= self.vote <= 1:
            raise InputError(f"vote must be a fraction between 0 and 1, got {self.vote}")
        object.__setattr__(self, "cfa", parse_cfa(self.cfa))


# -- single-image building blocks ---------------------------------------------------------


def _planes(shape: tuple[int, int], cfa: str | None) -> list[tuple[int, int, int]]:
    """(row offset, column offset, step) of each colour plane."""
    if cfa is None:
        return [(0, 0, 1)]
    return [(r, c, 2) for r in (0, 1) for c in (0, 1) if r < shape[0] and c < shape[1]]


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2:
        raise InputError(f"expected a 2-D image, got shape {image.shape}")
    if image.dtype.kind != "u":
        raise InputError(f"expected an unsigned integer image, got {image.dtype}")
    if image.size == 0:
        raise InputError("the image is empty")
    return image


def local_deviation(
    image: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
    *,
    cfa: str | None = None,
    size: int = NEIGHBOURHOOD,
) -> np.ndarray:
    """``value - median of the same-colour neighbours`` at the given pixels, exactly.

    Parameters
    ----------
    image : 2-D unsigned integer array
        A frame or the per-pixel sum of a stack (divide the result by the frame count).
    rows, columns : array-like of int
        The pixels.
    cfa : str, optional
        Bayer pattern: neighbours are the same-colour pixels (two apart).
    size : int
        Side of the block (odd).
    """
    image = _check_image(image)
    rows = np.asarray(rows, np.int64)
    columns = np.asarray(columns, np.int64)
    out = np.empty(rows.shape, np.float64)
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        plane = np.ascontiguousarray(image[r0::step, c0::step])
        here = (rows % step == r0) & (columns % step == c0)
        values = np.empty(int(here.sum()), np.float64)
        neighbour_deviation(plane, rows[here] // step, columns[here] // step, size // 2, values)
        out[here] = values
    return out


def _network_input(plane: np.ndarray) -> np.ndarray:
    """``plane`` as the full-frame kernels take it: C order, native byte order, and one
    compiled variant per dtype (uint8 widens exactly to uint16)."""
    dtype = np.dtype(np.uint16) if plane.dtype.itemsize == 1 else plane.dtype
    return np.ascontiguousarray(plane, dtype=dtype.newbyteorder("="))


def _plane_deviation(
    plane: np.ndarray, radius: int = NEIGHBOURHOOD // 2, out: np.ndarray | None = None
) -> np.ndarray:
    """``value - median(neighbours)`` at every pixel of one colour plane, float64.

    For the 7 x 7 block, interior pixels come from the rank network of
    :mod:`fastdefect.kernels.full_frame` and the frame of clipped blocks from its border
    kernel; other block sizes use the per-pixel kernel. All compute the same float64
    expression as :func:`local_deviation`.
    """
    height, width = plane.shape
    if out is None:
        out = np.empty((height, width), np.float64)
    if radius != NEIGHBOURHOOD // 2:
        rows, columns = np.indices((height, width)).reshape(2, -1).astype(np.int64)
        values = np.empty(rows.size, np.float64)
        neighbour_deviation(plane, rows, columns, radius, values)
        out[...] = values.reshape(height, width)
        return out
    native = _network_input(plane)
    if height >= NEIGHBOURHOOD and width >= NEIGHBOURHOOD:
        interior_neighbour_deviation(native, out, _FULL_BAND_HEIGHT)
    border_neighbour_deviation(native, out)
    return out


def _deviation_bands(
    plane: np.ndarray, radius: int = NEIGHBOURHOOD // 2, *, borders: bool = True
) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`_plane_deviation` band by band: ``(first row, deviation of the band's rows)``.

    Each band is a view of one reused buffer of ``_BAND_ROWS`` rows (~10 MB at 5120
    wide) instead of the plane's whole float64 image (8 bytes a pixel): what is thresholded
    or gathered band by band never needs the whole image, nor its page faults. Values are
    those of :func:`_plane_deviation`: the interior of each band comes from the network on
    the band's rows and 3 more on each side, the clipped border from the border kernel.
    ``borders=False`` leaves the pixels within ``radius`` of the plane's edges undefined
    (for a caller that needs only a few of them: ~0.5 us a pixel, a third of the pass).
    """
    height, width = plane.shape
    if radius != NEIGHBOURHOOD // 2 or height < NEIGHBOURHOOD or width < NEIGHBOURHOOD:
        yield 0, _plane_deviation(plane, radius)
        return
    native = _network_input(plane)
    buffer = np.empty((min(_BAND_ROWS, height) + 2 * radius, width), np.float64)
    for start in range(0, height, _BAND_ROWS):
        stop = min(height, start + _BAND_ROWS)
        top, bottom = max(0, start - radius), min(height, stop + radius)
        out = buffer[: bottom - top]
        if bottom - top >= NEIGHBOURHOOD:
            interior_neighbour_deviation(native[top:bottom], out, _FULL_BAND_HEIGHT)
        if borders:
            border_neighbour_deviation(native, out, rows=(start, stop), out_first_row=top)
        yield start, out[start - top : stop - top]


def deviation_image(image: np.ndarray, *, cfa: str | None = None, n_frames: int = 1) -> np.ndarray:
    """``(value - median of the same-colour neighbours) / n_frames`` at every pixel, exactly.

    Equal element for element to ``local_deviation(image, <all rows>, <all columns>,
    cfa=cfa) / n_frames`` (7 x 7 block), at about the cost of a 7 x 7 median filter: for
    every pixel whose block lies inside its colour plane, the 24th, 25th and 26th
    smallest of the 49 block values (centre included) come from a sorting network, and
    removing the centre from them gives the neighbours' two middle values; pixels within
    3 of a plane's edge use the per-pixel median.

    Parameters
    ----------
    image : 2-D unsigned integer array
        A frame, or the exact per-pixel sum of ``n_frames`` frames (uint8 .. uint64).
    cfa : str, optional
        Bayer pattern: each colour plane ``image[r0::2, c0::2]`` separately.
    n_frames : int
        Divide the deviation by this (the image is a sum of that many frames).

    Returns
    -------
    ndarray of float64, the image's shape
        The deviation in DN of one frame.
    """
    image = _check_image(image)
    out = np.empty(image.shape, np.float64)
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        if step == 1:
            _plane_deviation(image, out=out)
        else:
            out[r0::step, c0::step] = _plane_deviation(image[r0::step, c0::step])
    if n_frames != 1:
        out /= n_frames
    return out


def _most_candidates(n_pixels: int) -> int:
    """Most pixels whose exact median is taken one by one before the full-frame path pays."""
    return max(int(FULL_FRAME_FRACTION * n_pixels), FULL_FRAME_MIN_CANDIDATES)


def deviation_outliers(
    image: np.ndarray,
    threshold: float,
    *,
    cfa: str | None = None,
    size: int = NEIGHBOURHOOD,
    n_frames: int = 1,
    low_threshold: float | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels deviating from their local background by more than a threshold.

    Exactly the pixels with ``(value - median) / n_frames > threshold`` or
    ``(median - value) / n_frames > low_threshold`` (the brute-force definition), found
    by computing the median only where a cheap bound says it could matter.

    Parameters
    ----------
    image : 2-D unsigned integer array
        A frame, or the exact per-pixel sum of ``n_frames`` frames.
    threshold : float
        In DN of one frame. ``inf`` disables the upward test.
    low_threshold : float, optional
        For the downward test; default ``threshold``.
    method : {"auto", "bounded", "full"}
        ``"bounded"``: the exact median at the candidates of the cheap bound only.
        ``"full"``: the deviation of every pixel (:func:`deviation_image`), thresholded.
        ``"auto"`` (default): bounded, unless the candidates exceed
        ``FULL_FRAME_FRACTION`` of a colour plane (a threshold down in the noise) and
        ``FULL_FRAME_MIN_CANDIDATES``, then full for that plane. All three give the
        same result.

    Returns
    -------
    rows, columns : ndarray of int64
        Sorted by row, then column.
    deviation : ndarray of float64
        ``(value - median) / n_frames`` at those pixels, in DN.
    """
    image = _check_image(image)
    if size < 3 or size % 2 == 0:
        raise InputError(f"the block size must be odd and at least 3, got {size}")
    if method not in ("auto", "bounded", "full"):
        raise InputError(f"method must be 'auto', 'bounded' or 'full', got {method!r}")
    low_threshold = threshold if low_threshold is None else low_threshold
    limit_high = float(threshold) * n_frames
    limit_low = float(low_threshold) * n_frames
    found_rows, found_columns, found_deviation = [], [], []
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        plane = image if step == 1 else np.ascontiguousarray(image[r0::step, c0::step])
        if method == "bounded" or (method == "auto" and size != NEIGHBOURHOOD):
            candidates = find_candidates(plane, size // 2, limit_high, limit_low)
        elif method == "auto":
            most = _most_candidates(plane.size)
            candidates = find_candidates(plane, size // 2, limit_high, limit_low, most)
        else:
            candidates = None
        if candidates is None:
            found = []
            for first_row, band in _deviation_bands(plane, size // 2):
                band_rows, band_columns, band_deviation = deviation_beyond(
                    band, limit_high, limit_low
                )
                found.append((band_rows + first_row, band_columns, band_deviation))
            rows, columns, deviation = (np.concatenate(parts) for parts in zip(*found, strict=True))
        else:
            rows, columns = candidates
            deviation = np.empty(rows.shape, np.float64)
            neighbour_deviation(plane, rows, columns, size // 2, deviation)
            keep = (deviation > limit_high) | (-deviation > limit_low)
            rows, columns, deviation = rows[keep], columns[keep], deviation[keep]
        found_rows.append(rows.astype(np.int64) * step + r0)
        found_columns.append(columns.astype(np.int64) * step + c0)
        found_deviation.append(deviation / n_frames)
    rows = np.concatenate(found_rows)
    columns = np.concatenate(found_columns)
    deviation = np.concatenate(found_deviation)
    index = rows * image.shape[1] + columns
    if np.all(index[1:] > index[:-1]):  # one plane, full path: row-major already
        return rows, columns, deviation
    order = np.argsort(index, kind="stable")
    return rows[order], columns[order], deviation[order]


def _running_median_deviation(profile: np.ndarray, radius: int) -> np.ndarray:
    """``profile[i] - median(profile[i - radius : i + radius + 1])``, clipped at the ends."""
    n = profile.size
    if n == 0:
        return profile.copy()
    padded = np.pad(profile.astype(np.float64), radius, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    return profile - np.nanmedian(windows, axis=1)


def line_deviations(
    image: np.ndarray, *, n_frames: int = 1, cfa: str | None = None, radius: int = LINE_RADIUS
) -> tuple[np.ndarray, np.ndarray]:
    """Column and row mean deviations from the median of their ±``radius`` neighbours.

    Returns ``(column_deviation, row_deviation)`` in DN of one frame, of lengths
    ``width`` and ``height``. On a colour sensor each colour plane is compared with its
    own columns/rows; a column then holds two planes and reports the larger deviation.
    """
    image = _check_image(image)
    height, width = image.shape
    columns = np.zeros(width)
    rows = np.zeros(height)
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        plane = image[r0::step, c0::step]
        column_sums = np.empty(plane.shape[1], np.uint64)
        row_sums = np.empty(plane.shape[0], np.uint64)
        line_sums(plane, column_sums, row_sums)  # one pass: 4x numpy's two sums
        column_means = column_sums / (float(n_frames) * plane.shape[0])
        row_means = row_sums / (float(n_frames) * plane.shape[1])
        column_dev = _running_median_deviation(column_means, radius)
        row_dev = _running_median_deviation(row_means, radius)
        target = columns[c0::step]
        columns[c0::step] = np.where(np.abs(column_dev) > np.abs(target), column_dev, target)
        target = rows[r0::step]
        rows[r0::step] = np.where(np.abs(row_dev) > np.abs(target), row_dev, target)
    return columns, rows


@dataclass(frozen=True)
class LineSegment:
    """A stretch of a column (row) whose level departs from its neighbouring lines.

    ``start`` and ``end`` are the first and last sensor row (column) of the stretch,
    inclusive; on a Bayer sensor the segment holds the pixels of one colour plane
    between them (every second one). ``deviation`` is the median over the stretch of the
    line's per-pixel deviation from its ±5 same-colour neighbour lines, DN.
    """

    axis: str  # "column" or "row"
    index: int  # sensor column (row)
    start: int
    end: int
    deviation: float

    @property
    def length(self) -> int:
        """Sensor rows (columns) covered, ``end - start + 1``."""
        return self.end - self.start + 1


def _neighbour_line_deviation(lines: np.ndarray, index: int, radius: int) -> np.ndarray:
    """``lines[:, index] - median(lines[:, index - radius : index + radius + 1])`` per row.

    The window is clipped at the plane's edges (fewer neighbours), as the full-line rule.
    """
    low, high = max(0, index - radius), min(lines.shape[1], index + radius + 1)
    return lines[:, index] - np.median(lines[:, low:high], axis=1)


def _plane_segments(
    lines: np.ndarray,
    blocks: np.ndarray,
    limit: float,
    min_length: int,
    radius: int,
    n_frames: int,
) -> list[tuple[int, int, int, float]]:
    """Column segments of one plane (in plane coordinates): ``(column, start, end, dev)``.

    ``lines`` is the plane (sums of ``n_frames`` frames; its columns are the lines),
    ``blocks`` its column means over blocks of ``b = max(1, min_length // 2)`` rows.

    1. A block is a candidate when its mean departs from the median of its ±radius
       neighbour columns' block means by more than ``limit`` (a segment of
       ``min_length`` rows covers at least one whole block, so none is missed).
    2. Each candidate is checked with the per-row deviation from the neighbour columns:
       the median over the block must pass too (one hot pixel cannot make a segment).
    3. A run of confirmed blocks of one sign has its ends moved, row by row within a
       block of each end, to where ``sum(sign * deviation - limit / 2)`` over the
       stretch is largest (a CUSUM change point), and is kept when at least
       ``min_length`` rows long.
    """
    height, width = lines.shape
    block = max(1, min_length // 2)
    n_blocks = blocks.shape[0]
    if n_blocks == 0 or width < 2:
        return []
    found = np.empty(blocks.shape, bool)
    block_candidates(blocks, limit, radius, found)
    candidate_blocks, candidate_columns = np.nonzero(found)
    segments = []
    for column in np.unique(candidate_columns):
        per_row = _neighbour_line_deviation(lines, int(column), radius) / float(n_frames)
        confirmed = {}
        for k in candidate_blocks[candidate_columns == column].tolist():
            value = float(np.median(per_row[k * block : (k + 1) * block]))
            if abs(value) > limit:
                confirmed[k] = 1 if value > 0 else -1
        k = 0
        ordered = sorted(confirmed)
        while k < len(ordered):
            first = last = ordered[k]
            sign = confirmed[first]
            while (
                k + 1 < len(ordered)
                and ordered[k + 1] == last + 1
                and confirmed[ordered[k + 1]] == sign
            ):
                k += 1
                last = ordered[k]
            k += 1
            start, end = first * block, (last + 1) * block - 1
            excess = sign * per_row - limit / 2
            # Change points: the first (last) row within a block of the run's first (last)
            # block boundary that maximises the summed excess inside the stretch.
            low = max(0, start - block)
            tail = excess[low : start + block][::-1].cumsum()[::-1]  # sum from p to block end
            start = low + int(np.argmax(tail))
            high = end + 1 + block if last + 1 < n_blocks else height
            head = excess[end + 1 - block : high].cumsum()
            end = end + 1 - block + int(np.argmax(head))
            if end - start + 1 >= min_length:
                segments.append(
                    (int(column), start, end, float(np.median(per_row[start : end + 1])))
                )
    return segments


def line_segments(
    image: np.ndarray,
    limit: float,
    *,
    n_frames: int = 1,
    cfa: str | None = None,
    min_length: int = 32,
    radius: int = LINE_RADIUS,
) -> list[LineSegment]:
    """Column and row stretches of at least ``min_length`` pixels that deviate by ``limit``.

    A partial line defect (a column bad over only part of its height) hides in the
    datasheets' full-line rule, which averages over the whole column. Here a column is
    compared with its ±``radius`` same-colour neighbour columns over the same rows: a
    stretch of at least ``min_length`` sensor rows whose median deviation from them is
    beyond ``limit`` (DN of one frame) is a segment; rows likewise. See
    :func:`_plane_segments` for the steps and ``docs/detection.md`` for a worked example.

    Parameters
    ----------
    image : 2-D unsigned integer array
        A frame or the per-pixel sum of ``n_frames`` frames.
    limit : float
        The line threshold in DN.
    cfa : str, optional
        Bayer pattern: each colour plane separately (``min_length`` stays in sensor pixels).

    Returns
    -------
    list of LineSegment
        Sorted by axis (columns first), index and start.
    """
    image = _check_image(image)
    found = []
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        plane = image[r0::step, c0::step]
        length = max(2, math.ceil(min_length / step))
        block = max(1, length // 2)
        height, width = plane.shape
        scale = 1.0 / (float(n_frames) * block)
        # Block means from the exact integer sums, in one pass, without a float copy.
        column_blocks = np.empty((height // block, width), np.uint64)
        row_blocks = np.empty((height, width // block), np.uint64)
        block_sums(plane, block, column_blocks, row_blocks)
        for axis, lines, blocks, (along0, across0) in (
            ("column", plane, column_blocks * scale, (r0, c0)),
            # One kernel specialisation: the row blocks transposed into C order.
            ("row", plane.T, np.ascontiguousarray((row_blocks * scale).T), (c0, r0)),
        ):
            segments = _plane_segments(lines, blocks, limit, length, radius, n_frames)
            for index, start, end, value in segments:
                found.append(
                    LineSegment(
                        axis,
                        across0 + index * step,
                        along0 + start * step,
                        along0 + end * step,
                        value,
                    )
                )
    found.sort(key=lambda s: (s.axis != "column", s.index, s.start))
    return found


# -- per-stack analysis -------------------------------------------------------------------


@dataclass
class StackReport:
    """What detection measured on one stack (shown in summaries and reports).

    The scalar summary of a :class:`StackAnalysis` (its ``report``): small enough to keep
    in a :class:`DetectionResult` and its JSON, where the per-pixel arrays are not.
    """

    role: str  # "dark", "bright" or "saturated"
    label: str
    n_frames: int
    bit_depth: int
    exposure_us: float | None
    level: float  # median of the mean image, DN
    deviation_sigma: float  # robust sigma of the local deviation of the mean image, DN
    typical_std: float  # typical temporal std of a pixel, DN
    threshold_dn: float
    flagged: int
    n_bad_columns: int  # full lines failing the line rule (StackAnalysis.bad_columns)
    n_bad_rows: int
    outlier_frames: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    temporal_evidence: bool = True  # False for a master frame (fastdefect.masters)


def _sample_positions(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_SAMPLE_SEED)
    size = min(_SAMPLE_SIZE, shape[0] * shape[1])
    flat = rng.choice(shape[0] * shape[1], size=size, replace=False)
    return np.unravel_index(np.sort(flat), shape)


#: Variance of the median of the 48 same-colour neighbours of the 7 x 7 block over that of
#: one of them (pi / 2 / 48 for Gaussian noise).
_MEDIAN_VARIANCE = math.pi / (2 * (NEIGHBOURHOOD**2 - 1))


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


@dataclass(frozen=True)
class StackAnalysis:
    """What :func:`analyse` keeps of one stack: enough to classify at any threshold.

    It holds the stack's :class:`~fastdefect.stats.StackStats` (per-pixel sums), its
    :class:`StackReport` (scalar summary) and the deviants found; a
    :class:`DetectionAnalysis` holds one per stack.

    Public and read-only: plots, reports and threshold sweeps read it; nothing changes
    it after :func:`analyse` returns.

    Attributes
    ----------
    stats : StackStats
        The stack's per-pixel sums and temporal std (``minimum``/``maximum`` are not kept).
    report : StackReport
        Level, noise, threshold and counts for summaries.
    flagged_rows, flagged_columns, flagged_deviation : ndarray
        Every pixel whose local deviation (DN) is beyond ``analysed_threshold_dn``, sorted.
    analysed_threshold_dn : float
        The lowest pixel threshold this analysis supports.
    sample_deviation, sample_mean, sample_std : ndarray
        Exact deviation, mean and temporal std of 65,536 pixels drawn with a fixed seed
        (for histograms, noise estimates and the photon-transfer points).
    bad_columns, bad_rows : ndarray of int
        Lines failing the datasheets' full-line rule.
    column_deviation, row_deviation : ndarray
        Every column's (row's) mean deviation from its ±5 neighbours, DN.
    segments : tuple of LineSegment
        Partial lines (:func:`line_segments`) on columns/rows not already bad in full.
    noisy_index : ndarray of int64
        Flat indices (sorted) of the pixels whose temporal noise exceeds what the noise
        model predicts for them (empty for stacks not judged for noise).
    noise_ratio : ndarray of float64
        Temporal std over predicted std at ``noisy_index``.
    telegraph : TelegraphEvidence or None
        Levels, amplitude and switches of the noisy pixels' frame histories
        (:mod:`fastdefect.telegraph`), when ``DetectionConfig.telegraph`` is on.
    noise : NoiseModel or None
        The sensor's noise model (estimated from all the stacks), with which a sigma
        threshold judges each pixel (:meth:`deviation_noise`).
    """

    stats: StackStats
    report: StackReport
    flagged_rows: np.ndarray
    flagged_columns: np.ndarray
    flagged_deviation: np.ndarray
    analysed_threshold_dn: float
    sample_deviation: np.ndarray
    sample_mean: np.ndarray
    sample_std: np.ndarray
    bad_columns: np.ndarray
    bad_rows: np.ndarray
    column_deviation: np.ndarray
    row_deviation: np.ndarray
    segments: tuple[LineSegment, ...] = ()
    noisy_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    noise_ratio: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    telegraph: TelegraphEvidence | None = None
    noise: NoiseModel | None = None
    # deviation_noise of the flagged pixels, per CFA: a sweep classifies many times.
    _flagged_noise: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # Deviations computed beyond the flagged pixels, per CFA: (sorted flat index, values).
    _computed_deviation: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def threshold_dn(self, threshold: Threshold) -> float:
        """``threshold`` in DN for this stack (sigmas are this stack's).

        For a sigma threshold this is the limit at a typical pixel, the lowest any pixel
        gets: each pixel is judged against the noise of its own deviation
        (:meth:`deviation_noise`), never below the stack's robust sigma.
        """
        return threshold.to_dn(self.stats.bit_depth, self.report.deviation_sigma)

    def deviation_noise(
        self, rows: np.ndarray, columns: np.ndarray, deviation: np.ndarray, cfa: str | None
    ) -> np.ndarray:
        """Standard deviation (DN) of the local deviation ``deviation`` at the given pixels.

        What a sigma threshold (``6sigma``) counts in. The deviation ``d`` of a pixel is
        its mean over ``N`` frames less the median of its 48 same-colour neighbours'
        means, so its variance is::

            fixed + (v_pixel + pi / (2 * 48) * v_around) / N

        with ``v_pixel`` the temporal variance the noise model predicts for the pixel's
        own mean, ``v_around`` the one it predicts for the neighbours' level (mean less
        ``d``; the neighbourhood's typical variance from the noise map when the model
        has no conversion gain), each never below a typical pixel's of the stack, and
        ``fixed`` the fixed-pattern part: the stack's robust sigma squared less what the
        temporal noise gives a typical pixel. A typical pixel thus gets the stack's
        robust sigma, a pixel in an amp-glow corner or with a high signal more. Without
        a noise model (single frames, a master frame) every pixel gets the robust sigma.
        """
        sigma = self.report.deviation_sigma
        n = self.stats.n_frames
        rows = np.asarray(rows, np.int64)
        columns = np.asarray(columns, np.int64)
        if self.noise is None or n < 3 or not self.report.temporal_evidence or rows.size == 0:
            return np.full(rows.size, sigma)
        typical = float(np.median(self.sample_std.astype(np.float64) ** 2))
        typical /= chi2_median_ratio(n - 1)
        fixed = max(sigma**2 - (1 + _MEDIAN_VARIANCE) * typical / n, 0.0)
        if self.noise.conversion_gain is not None:
            mean = self.stats.total[rows, columns] / float(n)
            own = self.noise.predicted_variance(mean)
            around = self.noise.predicted_variance(mean - np.asarray(deviation, np.float64))
        else:
            step = 1 if cfa is None else 2
            own = around = local_variance(self.stats.std, rows, columns, step=step, n_frames=n)
        own = np.maximum(own, typical)
        around = np.maximum(around, typical)
        return np.sqrt(fixed + (own + _MEDIAN_VARIANCE * around) / n)

    def pixel_limits(
        self,
        threshold: Threshold,
        rows: np.ndarray,
        columns: np.ndarray,
        deviation: np.ndarray,
        cfa: str | None,
    ) -> np.ndarray | float:
        """``threshold`` in DN at the given pixels: per pixel for sigmas, else one number."""
        if threshold.unit != "sigma":
            return self.threshold_dn(threshold)
        if cfa not in self._flagged_noise:
            self._flagged_noise[cfa] = self.deviation_noise(
                self.flagged_rows, self.flagged_columns, self.flagged_deviation, cfa
            )
        rows = np.asarray(rows, np.int64)
        columns = np.asarray(columns, np.int64)
        width = self.stats.shape[1]
        index = rows * width + columns
        known = self.flagged_rows * width + self.flagged_columns  # row-major, sorted
        noise = np.empty(index.size, np.float64)
        missing = np.ones(index.size, bool)
        if known.size:
            position = np.minimum(np.searchsorted(known, index), known.size - 1)
            found = known[position] == index
            noise[found] = self._flagged_noise[cfa][position[found]]
            missing = ~found
        if missing.any():
            deviation = np.broadcast_to(np.asarray(deviation, np.float64), index.shape)
            noise[missing] = self.deviation_noise(
                rows[missing], columns[missing], deviation[missing], cfa
            )
        return threshold.value * noise


def _analyse_stack(
    role: str,
    stack: FrameStack,
    config: DetectionConfig,
    progress: ProgressCallback | None,
    lowest_threshold: Threshold | None = None,
    exposure_us: float | None = None,
    stats: StackStats | None = None,
) -> StackAnalysis:
    started = time.perf_counter()
    master = isinstance(stack, MasterFrame)
    if stats is None:
        if master:
            stats = stack.stack_stats()
        else:
            stats = stack_stats(stack, extremes=False, progress=progress)
    # Keep only what classification needs (the sums and the std); the exposure given
    # by the caller goes into this analysis' copy of the metadata, not the stack's.
    metadata = dict(stats.metadata)
    if exposure_us is not None:
        metadata["exposure_us"] = float(exposure_us)
    outlier_frames = find_outlier_frames(stats.frame_means, stack.full_scale)
    stats = replace(stats, minimum=None, maximum=None, metadata=metadata)
    total, n = stats.total, stats.n_frames
    sample_rows, sample_columns = _sample_positions(total.shape)
    sample_deviation = local_deviation(total, sample_rows, sample_columns, cfa=config.cfa) / n
    sample_mean = total[sample_rows, sample_columns] / float(n)
    sample_std = stats.std[sample_rows, sample_columns]
    sigma = _robust_sigma(sample_deviation)
    threshold = config.pixel_threshold.to_dn(stats.bit_depth, sigma)
    analysed = threshold
    if lowest_threshold is not None:
        analysed = min(threshold, lowest_threshold.to_dn(stats.bit_depth, sigma))
    # Down in the noise (a sweep's lowest threshold) the sample already shows that the
    # candidates would exceed FULL_FRAME_FRACTION: go to the full-frame pass at once
    # instead of counting them first (0.03 s at 5120^2). The same pixels either way.
    deep = np.mean(np.abs(sample_deviation) > analysed) > 2 * FULL_FRAME_FRACTION
    rows, columns, deviation = deviation_outliers(
        total, analysed, cfa=config.cfa, n_frames=n, method="full" if deep else "auto"
    )
    column_dev, row_dev = line_deviations(total, n_frames=n, cfa=config.cfa)
    line_limit = config.line_threshold.to_dn(stats.bit_depth, sigma)
    column_limit = row_limit = line_limit
    if config.line_sigma is not None:
        # Faint full lines: a line mean averages its pixels, so its noise is the pixel
        # deviation's over sqrt(pixels), times ~1.07 for the median of 11 neighbours.
        step = 1 if config.cfa is None else 2
        height, width = total.shape
        for_line = config.line_sigma * 1.07 * sigma
        column_limit = min(line_limit, for_line / math.sqrt(max(height // step, 1)))
        row_limit = min(line_limit, for_line / math.sqrt(max(width // step, 1)))
    bad_columns = np.flatnonzero(np.abs(column_dev) > column_limit)
    bad_rows = np.flatnonzero(np.abs(row_dev) > row_limit)
    segments = tuple(
        s
        for s in line_segments(
            total, line_limit, n_frames=n, cfa=config.cfa, min_length=config.segment_length
        )
        if s.index not in set((bad_columns if s.axis == "column" else bad_rows).tolist())
    )
    typical_std = float(np.median(sample_std)) if n > 1 else 0.0
    report = StackReport(
        role=role,
        label=stats.label,
        n_frames=n,
        bit_depth=stats.bit_depth,
        exposure_us=stats.exposure_us,
        level=float(np.median(sample_mean)),
        deviation_sigma=sigma,
        typical_std=typical_std,
        threshold_dn=threshold,
        flagged=int(np.count_nonzero(np.abs(deviation) > threshold)),
        n_bad_columns=int(bad_columns.size),
        n_bad_rows=int(bad_rows.size),
        outlier_frames=outlier_frames,
        seconds=time.perf_counter() - started,
    )
    if master:  # one combined frame: no noise over time to judge (fastdefect.masters)
        report.n_frames, report.temporal_evidence = 1, False
    return StackAnalysis(
        stats=stats,
        report=report,
        flagged_rows=rows,
        flagged_columns=columns,
        flagged_deviation=deviation,
        analysed_threshold_dn=analysed,
        sample_deviation=sample_deviation,
        sample_mean=sample_mean,
        sample_std=sample_std,
        bad_columns=bad_columns,
        bad_rows=bad_rows,
        column_deviation=column_dev,
        row_deviation=row_dev,
        segments=segments,
    )


@functools.lru_cache(maxsize=4)
def _sample_planes(shape: tuple[int, int], cfa: str | None) -> np.ndarray:
    """Colour plane (0 mono; ``(row % 2) * 2 + column % 2`` Bayer) of each sampled pixel.

    Cached: drawing the sample positions costs ~1 s on a 5120 x 5120 sensor.
    """
    rows, columns = _sample_positions(shape)
    planes = np.zeros(rows.size, np.int64) if cfa is None else (rows % 2) * 2 + columns % 2
    planes.flags.writeable = False
    return planes


def _noise_model(analyses: dict[str, list[StackAnalysis]], cfa: str | None) -> NoiseModel | None:
    """Photon-transfer points of the dark and bright stacks, and the model fitted to them.

    Master frames carry no temporal noise (fastdefect.masters): they give no point."""
    points = []
    for role in ("dark", "bright"):
        for a in analyses[role]:
            if not a.report.temporal_evidence:
                continue
            planes = _sample_planes(a.stats.shape, cfa)
            points += transfer_points(
                role, a.report.exposure_us, a.sample_mean, a.sample_std, planes, a.stats.n_frames
            )
    return estimate_noise_model(points)


def _pixel_offsets(group: list[StackAnalysis]):
    """Per-pixel offset (DN at zero exposure) from the dark stacks' exposures, or None.

    Returns a function of flat pixel indices: the intercept of each pixel's least-squares
    line of mean level against exposure. It separates what a pixel's level owes to its
    fixed offset (DSNU, a line's offset) from its dark signal, which alone has shot noise.
    """
    exposures = [a.report.exposure_us for a in group]
    if len(group) < 2 or any(e is None for e in exposures) or len(set(exposures)) < 2:
        return None
    seconds = np.asarray(exposures, np.float64) * 1e-6

    def offsets(index: np.ndarray) -> np.ndarray:
        levels = np.stack([a.stats.total.ravel()[index] / float(a.stats.n_frames) for a in group])
        slope = np.polyfit(seconds, levels, 1) if index.size else np.zeros((2, 0))
        return slope[1]

    return offsets


def _with_telegraph(analysis: StackAnalysis, stack: FrameStack) -> StackAnalysis:
    """Second, cheap look at the noisy pixels: their frame histories, levels, switches.

    A live capture is read once: its noisy pixels keep no telegraph evidence."""
    index = analysis.noisy_index
    if index.size == 0 or not getattr(stack, "rereadable", True):
        return analysis
    histories = frame_histories(stack, index)
    noise = analysis.stats.std.ravel()[index] / np.maximum(analysis.noise_ratio, 1e-12)
    return replace(analysis, telegraph=telegraph_evidence(histories, noise, index))


def _noisy_pixels(
    analysis: StackAnalysis,
    model: NoiseModel | None,
    config: DetectionConfig,
    offsets=None,
) -> StackAnalysis:
    """``analysis`` with the pixels whose temporal noise is beyond what they should have.

    A pixel's sample variance over ``n`` frames, divided by its predicted variance, follows
    ``chi2(n - 1) / (n - 1)``; it is noisy when the ratio exceeds both the 1e-8 upper
    quantile of that distribution (chance exceedances below one per 100 megapixels) and
    ``noise_factor²`` ("far above" however many frames there are). The predicted variance
    is the noise model's for the pixel's own signal when K is known (its mean less its
    own offset when ``offsets`` gives them, from several dark exposures, else less the
    black level), else the typical variance of its same-colour neighbours
    (:func:`fastdefect.noise.local_variance`); never below a typical pixel's of the stack.
    """
    stats, n = analysis.stats, analysis.stats.n_frames
    if n < 3 or model is None or not analysis.report.temporal_evidence:
        return analysis
    ratio = max(config.noise_factor**2, chi2_upper_ratio(n - 1))
    sample_variance = analysis.sample_std.astype(np.float64) ** 2
    # No pixel is predicted quieter than a typical pixel of its stack: a pixel below the
    # black level (a darker line, a low DSNU offset) still has the stack's dark-current
    # shot noise, which its level does not show.
    points = transfer_points(
        analysis.report.role,
        analysis.report.exposure_us,
        analysis.sample_mean,
        analysis.sample_std,
        _sample_planes(stats.shape, config.cfa),
        n,
    )
    typical = min((p.variance for p in points), default=0.0)
    if model.conversion_gain is not None:
        floor = max(model.read_noise_dn**2 + QUANTISATION_VARIANCE, typical)
    else:
        # The local background is taken as at least a quarter of the typical variance
        # (and the rounding noise): this bounds which pixels need the local median.
        floor = 0.25 * float(np.median(sample_variance)) / chi2_median_ratio(n - 1)
        floor = max(floor, QUANTISATION_VARIANCE)
    limit = math.sqrt(ratio * floor)
    candidates = np.flatnonzero(stats.std.ravel() > limit)
    if candidates.size == 0:
        return analysis
    rows, columns = np.divmod(candidates, stats.shape[1])
    if model.conversion_gain is not None:
        mean = stats.total.ravel()[candidates] / float(n)
        if offsets is not None:
            mean = mean - offsets(candidates) + model.black_level
        predicted = np.maximum(model.predicted_variance(mean), floor)
    else:
        step = 1 if config.cfa is None else 2
        predicted = local_variance(stats.std, rows, columns, step=step, n_frames=n)
        predicted = np.maximum(predicted, floor)
    variance = stats.std.ravel()[candidates].astype(np.float64) ** 2
    keep = variance > ratio * predicted
    return replace(
        analysis,
        noisy_index=candidates[keep].astype(np.int64),
        noise_ratio=np.sqrt(variance[keep] / predicted[keep]),
    )


# -- the pipeline -------------------------------------------------------------------------


@dataclass
class DetectionResult:
    """Defects found, with what was measured to find them.

    Attributes
    ----------
    defects : DefectList
        One entry per defective pixel (line defects list their pixels), sorted by row
        then column, source ``detected``, with evidence columns.
    stacks : list of StackReport
        Per stack: level, noise, threshold in DN, counts, suspicious frames, time.
    shape : tuple of int
        ``(height, width)`` of the frames.
    bit_depth : int
    config : DetectionConfig
    seconds : float
        Wall time of the whole detection.
    warnings : list of str
        Things a user should look at (light leaks, bright level far from 60–70 %...).
    noise : NoiseModel or None
        The noise model estimated from the stacks (conversion gain K, read noise).
    """

    defects: DefectList
    stacks: list[StackReport]
    shape: tuple[int, int]
    bit_depth: int
    config: DetectionConfig
    seconds: float
    warnings: list[str] = field(default_factory=list)
    noise: NoiseModel | None = None

    def counts(self) -> dict[str, int]:
        """Number of defective pixels per kind (kinds with none left out)."""
        kinds, counts = np.unique(self.defects.kinds, return_counts=True)
        order = {name: i for i, name in enumerate(KINDS)}
        pairs = sorted(zip(kinds.tolist(), counts.tolist(), strict=True), key=lambda p: order[p[0]])
        return dict(pairs)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (what ``fastdefect detect --json`` prints)."""
        return {
            "shape": list(self.shape),
            "bit_depth": self.bit_depth,
            "defects": len(self.defects),
            "counts": self.counts(),
            "config": {
                f.name: _jsonable(getattr(self.config, f.name)) for f in fields(self.config)
            },
            "stacks": [asdict(report) for report in self.stacks],
            "seconds": self.seconds,
            "warnings": self.warnings,
            "noise_model": self.noise.as_dict() if self.noise is not None else None,
        }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Threshold) else value


def _as_stacks(
    value: Any, role: str, bit_depth: int | None
) -> list[FrameStack | MasterFrame | SummedStack]:
    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple) else [value]
    stacks = []
    for item in items:
        if isinstance(item, FrameStack | MasterFrame | SummedStack):
            stacks.append(item)
        elif isinstance(item, np.ndarray):
            stacks.append(FrameStack.from_array(item, bit_depth=bit_depth, label=f"{role} array"))
        else:
            stacks.append(open_stack_or_master(item, bit_depth))
    return stacks


def _check_consistent(stacks: Sequence[tuple[str, FrameStack]]) -> None:
    role, first = stacks[0]
    for other_role, other in stacks[1:]:
        if other.shape != first.shape:
            raise InputError(
                f"{other_role} stack {other.label} has frames of {other.shape[1]} x "
                f"{other.shape[0]} pixels but {role} stack {first.label} has "
                f"{first.shape[1]} x {first.shape[0]}"
            )
        if other.bit_depth != first.bit_depth:
            raise InputError(
                f"{other_role} stack {other.label} is {other.bit_depth}-bit but {role} stack "
                f"{first.label} is {first.bit_depth}-bit; pass --bit-depth"
            )


def detect(
    dark: StackInput | Sequence[StackInput] | None = None,
    bright: StackInput | Sequence[StackInput] | None = None,
    saturated: StackInput | Sequence[StackInput] | None = None,
    *,
    bit_depth: int | None = None,
    cfa: str | None = None,
    config: DetectionConfig | None = None,
    dark_exposures: Sequence[float] | None = None,
    progress: ProgressCallback | None = None,
) -> DetectionResult:
    """Find and classify the defective pixels of a sensor from dark and bright stacks.

    Parameters
    ----------
    dark, bright, saturated : stack or list of stacks, optional
        Each stack is a path (file, directory, glob), a :class:`FrameStack`, or an array
        (a frame or ``(N, H, W)`` frames). At least one stack of any role is needed.
        Several dark stacks at different exposures let the dark-signal slope be measured.
    bit_depth : int, optional
        Significant bits of the data; default from the files.
    cfa : str, optional
        Bayer pattern; overrides ``config.cfa`` and the files' metadata.
    config : DetectionConfig, optional
        Thresholds and rules; default the datasheets'.
    dark_exposures : sequence of float, optional
        Exposure time in µs of each dark stack, when the files do not say.
    progress : callable, optional
        ``progress(frames_done, frames_total)`` over all stacks.

    Returns
    -------
    DetectionResult

    Examples
    --------
    >>> result = detect(dark="dark.tif", bright="bright.tif")  # doctest: +SKIP
    >>> result.counts()  # doctest: +SKIP
    {'stuck_high': 3, 'hot': 41, 'dark': 7, 'column': 5120}
    """
    analysis = analyse(
        dark,
        bright,
        saturated,
        bit_depth=bit_depth,
        cfa=cfa,
        config=config,
        dark_exposures=dark_exposures,
        progress=progress,
    )
    return analysis.result()


def analyse(
    dark: StackInput | Sequence[StackInput] | None = None,
    bright: StackInput | Sequence[StackInput] | None = None,
    saturated: StackInput | Sequence[StackInput] | None = None,
    *,
    bit_depth: int | None = None,
    cfa: str | None = None,
    config: DetectionConfig | None = None,
    dark_exposures: Sequence[float] | None = None,
    progress: ProgressCallback | None = None,
    lowest_threshold: Threshold | str | float | None = None,
) -> DetectionAnalysis:
    """The expensive part of :func:`detect`, done once: read the stacks, find deviants.

    Takes the arguments of :func:`detect`, plus ``lowest_threshold``: the smallest pixel
    threshold the analysis must support (default ``config.pixel_threshold``). The
    returned :class:`DetectionAnalysis` classifies at any threshold at or above it
    without touching the frames again, which is how threshold sweeps stay cheap.
    """
    started = time.perf_counter()
    config = config or DetectionConfig()
    lowest = Threshold.parse(lowest_threshold) if lowest_threshold is not None else None
    given = {
        "dark": _as_stacks(dark, "dark", bit_depth),
        "bright": _as_stacks(bright, "bright", bit_depth),
        "saturated": _as_stacks(saturated, "saturated", bit_depth),
    }
    # Statistics computed elsewhere (SummedStack), per role in the order given.
    summed = {
        r: [s.stats if isinstance(s, SummedStack) else None for s in g] for r, g in given.items()
    }
    roles = {r: [s.stack if isinstance(s, SummedStack) else s for s in g] for r, g in given.items()}
    all_stacks = [(role, stack) for role, stacks in roles.items() for stack in stacks]
    if not all_stacks:
        raise InputError("give at least one dark or bright stack")
    _check_consistent(all_stacks)
    if cfa is None and config.cfa is None:
        stated = {s.metadata.get("cfa") for _, s in all_stacks} - {None}
        cfa = stated.pop() if len(stated) == 1 else None
    if cfa is not None:
        config = replace(config, cfa=cfa)
    if dark_exposures is not None and len(dark_exposures) != len(roles["dark"]):
        raise InputError(
            f"{len(dark_exposures)} dark exposures given for {len(roles['dark'])} dark stacks"
        )
    # Exposure (us) of every stack, per role in the order given: only dark stacks have one.
    exposures: dict[str, list[float | None]] = {r: [None] * len(s) for r, s in roles.items()}
    if dark_exposures is not None:
        exposures["dark"] = [float(e) for e in dark_exposures]

    total_frames = sum(stack.n_frames for _, stack in all_stacks)
    done_before = 0
    analyses: dict[str, list[StackAnalysis]] = {role: [] for role in roles}
    for role, stacks in roles.items():
        for stack, exposure_us, stats in zip(stacks, exposures[role], summed[role], strict=True):
            offset = done_before

            def stack_progress(done: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, total_frames)

            analyses[role].append(
                _analyse_stack(role, stack, config, stack_progress, lowest, exposure_us, stats)
            )
            done_before += stack.n_frames
    noise = _noise_model(analyses, config.cfa)
    analyses = {role: [replace(a, noise=noise) for a in group] for role, group in analyses.items()}
    noise_role = "dark" if analyses["dark"] else "bright"
    offsets = _pixel_offsets(analyses["dark"])
    analyses[noise_role] = [_noisy_pixels(a, noise, config, offsets) for a in analyses[noise_role]]
    if config.telegraph:
        analyses[noise_role] = [
            _with_telegraph(a, stack)
            for a, stack in zip(analyses[noise_role], roles[noise_role], strict=True)
        ]

    depth = all_stacks[0][1].bit_depth
    reports = [a.report for group in analyses.values() for a in group]
    warnings = _warnings(reports, depth)
    warnings += master_warnings([(r, s) for r, s in all_stacks if isinstance(s, MasterFrame)])
    if all_stacks[0][1].bit_depth_origin == "container" and depth > 8:
        warnings.insert(
            0,
            f"the files do not state their bit depth; assuming {depth}-bit (thresholds "
            "scale with it): pass --bit-depth for 10/12/14-bit data",
        )
    return DetectionAnalysis(
        analyses=analyses,
        shape=all_stacks[0][1].shape,
        bit_depth=depth,
        config=config,
        warnings=warnings,
        seconds=time.perf_counter() - started,
        noise=noise,
    )


@dataclass
class DetectionAnalysis:
    """Per-stack statistics and deviants of :func:`analyse`; classify at any threshold.

    One :class:`StackAnalysis` per stack, by role, plus what they share (shape, bit depth,
    config, noise model); :meth:`classify` gives the defect list, :meth:`result` a
    :class:`DetectionResult`.

    Attributes
    ----------
    shape : tuple of int
    bit_depth : int
    config : DetectionConfig
    warnings : list of str
    seconds : float
        Time the analysis took.
    noise : NoiseModel or None
        The photon-transfer noise model estimated from the stacks (K, read noise,
        black level), or None for single-frame stacks.
    """

    analyses: dict[str, list[StackAnalysis]]
    shape: tuple[int, int]
    bit_depth: int
    config: DetectionConfig
    warnings: list[str]
    seconds: float
    noise: NoiseModel | None = None

    @property
    def stacks(self) -> list[StackReport]:
        """Per-stack reports, dark stacks first, then bright, then saturated."""
        return [a.report for group in self.analyses.values() for a in group]

    def deviations(self, role: str) -> list[dict[str, np.ndarray | float]]:
        """Per stack of ``role``: the deviants found and a sample of all deviations.

        Each entry has ``rows``, ``columns``, ``deviation`` (DN; every pixel beyond
        ``analysed_threshold_dn``), ``sample`` (exact deviations of 65,536 pixels drawn
        with a fixed seed, for histograms and noise estimates) and ``pixels``.
        """
        return [
            {
                "rows": a.flagged_rows,
                "columns": a.flagged_columns,
                "deviation": a.flagged_deviation,
                "analysed_threshold_dn": a.analysed_threshold_dn,
                "sample": a.sample_deviation,
                "pixels": self.shape[0] * self.shape[1],
            }
            for a in self.analyses.get(role, [])
        ]

    def classify(self, pixel_threshold: Threshold | str | float | None = None) -> DefectList:
        """Classify at ``pixel_threshold`` (default the config's); no frame is read.

        Raises :class:`InputError` below the threshold the analysis was made for.
        """
        threshold = (
            self.config.pixel_threshold
            if pixel_threshold is None
            else Threshold.parse(pixel_threshold)
        )
        defects = _classify(self.analyses, self.shape, self.bit_depth, self.config, threshold)
        return defects.with_metadata(self._metadata(threshold))

    def result(self, pixel_threshold: Threshold | str | float | None = None) -> DetectionResult:
        """A :class:`DetectionResult` at ``pixel_threshold`` (default the config's)."""
        started = time.perf_counter()
        defects = self.classify(pixel_threshold)
        config = self.config
        if pixel_threshold is not None:
            config = replace(config, pixel_threshold=Threshold.parse(pixel_threshold))
        return DetectionResult(
            defects=defects,
            stacks=self.stacks,
            shape=self.shape,
            bit_depth=self.bit_depth,
            config=config,
            seconds=self.seconds + time.perf_counter() - started,
            warnings=list(self.warnings),
            noise=self.noise,
        )

    def _metadata(self, threshold: Threshold) -> dict[str, Any]:
        return {
            "software": f"fastdefect {__version__}",
            "bit_depth": self.bit_depth,
            "width": self.shape[1],
            "height": self.shape[0],
            "cfa": self.config.cfa,
            "pixel_threshold": str(threshold),
            "line_threshold": str(self.config.line_threshold),
            "noise_model": self.noise.as_dict() if self.noise is not None else None,
            "stacks": [
                {
                    "role": a.report.role,
                    "source": a.report.label,
                    "frames": a.report.n_frames,
                    "exposure_us": a.report.exposure_us,
                    **{
                        key: a.stats.metadata[key]
                        for key in ("gain", "temperature_c")
                        if key in a.stats.metadata
                    },
                }
                for group in self.analyses.values()
                for a in group
            ],
        }


def _warnings(reports: list[StackReport], bit_depth: int) -> list[str]:
    full_scale = (1 << bit_depth) - 1
    messages = []
    for report in reports:
        for index, mean in report.outlier_frames:
            messages.append(
                f"{report.role} stack {report.label}: frame {index + 1} has mean level "
                f"{mean:.1f} DN, far from the others (light leak or wrong exposure?)"
            )
        fraction = report.level / full_scale
        if report.role == "bright" and not 0.2 <= fraction <= 0.9:
            messages.append(
                f"bright stack {report.label} sits at {100 * fraction:.0f} % of full scale; "
                "60–70 % is advised for finding dark pixels"
            )
        if report.role == "dark" and fraction > 0.25:
            messages.append(
                f"dark stack {report.label} sits at {100 * fraction:.0f} % of full scale: "
                "is the lens cap on?"
            )
    return messages


def _deviation_at(
    analysis: StackAnalysis, rows: np.ndarray, columns: np.ndarray, cfa: str | None
) -> np.ndarray:
    """Exact deviation (DN) of one stack at the given pixels.

    The analysis already holds the deviation of every pixel beyond its threshold (the
    same float64 values, computed the same way); only the others are computed, per pixel
    or, when there are many (a threshold sweep down in the noise), for the whole frame.
    Those are kept on the analysis: a sweep asks again for the pixels of its lowest
    threshold at every higher one.
    """
    total, n = analysis.stats.total, analysis.stats.n_frames
    width = total.shape[1]
    index = rows * width + columns
    deviation = np.empty(index.size, np.float64)
    missing = np.ones(index.size, bool)
    known = [(analysis.flagged_rows * width + analysis.flagged_columns, analysis.flagged_deviation)]
    if cfa in analysis._computed_deviation:
        known.append(analysis._computed_deviation[cfa])
    for known_index, known_deviation in known:  # each row-major, sorted
        if known_index.size and missing.any():
            position = np.minimum(np.searchsorted(known_index, index), known_index.size - 1)
            found = missing & (known_index[position] == index)
            deviation[found] = known_deviation[position[found]]
            missing &= ~found
    if missing.any():
        if missing.sum() > _most_candidates(total.size):
            deviation[missing] = _full_deviation_at(total, rows[missing], columns[missing], cfa) / n
        else:
            deviation[missing] = (
                local_deviation(total, rows[missing], columns[missing], cfa=cfa) / n
            )
        order = np.argsort(index[missing])  # candidates are unique: no duplicates
        new_index, new_deviation = index[missing][order], deviation[missing][order]
        if cfa in analysis._computed_deviation:
            old_index, old_deviation = analysis._computed_deviation[cfa]
            new_index = np.concatenate([old_index, new_index])
            new_deviation = np.concatenate([old_deviation, new_deviation])
            order = np.argsort(new_index, kind="stable")
            new_index, new_deviation = new_index[order], new_deviation[order]
        analysis._computed_deviation[cfa] = (new_index, new_deviation)
    return deviation


def _full_deviation_at(
    image: np.ndarray, rows: np.ndarray, columns: np.ndarray, cfa: str | None
) -> np.ndarray:
    """:func:`local_deviation` at many pixels, from the full-frame deviation band by band
    (for a share of the pixels the per-pixel medians would cost more)."""
    out = np.empty(rows.shape, np.float64)
    radius = NEIGHBOURHOOD // 2
    for r0, c0, step in _planes(image.shape, parse_cfa(cfa)):
        here = np.flatnonzero((rows % step == r0) & (columns % step == c0))
        plane_rows, plane_columns = rows[here] // step, columns[here] // step
        plane = np.ascontiguousarray(image[r0::step, c0::step])
        height, width = plane.shape
        # The few requested pixels near the plane's edges one by one, the rest from bands
        # without their borders (same values: the border kernel is that per-pixel median).
        edge = (
            (plane_rows < radius)
            | (plane_rows >= height - radius)
            | (plane_columns < radius)
            | (plane_columns >= width - radius)
        )
        values = np.empty(here.size, np.float64)
        at_edge = np.empty(int(np.count_nonzero(edge)), np.float64)
        neighbour_deviation(plane, plane_rows[edge], plane_columns[edge], radius, at_edge)
        values[edge] = at_edge
        inner = np.flatnonzero(~edge)
        order = inner[np.argsort(plane_rows[inner], kind="stable")]
        sorted_rows = plane_rows[order]
        flat = plane_rows[order] * width + plane_columns[order]  # flat takes: 2x [r, c]
        for first_row, band in _deviation_bands(plane, borders=False):
            low, high = np.searchsorted(sorted_rows, [first_row, first_row + band.shape[0]])
            values[order[low:high]] = np.take(band.ravel(), flat[low:high] - first_row * width)
        out[here] = values
    return out


def _gather(analysis: StackAnalysis, rows: np.ndarray, columns: np.ndarray, cfa: str | None):
    """Mean, deviation and std of one stack at the given pixels (DN)."""
    stats = analysis.stats
    index = rows * stats.total.shape[1] + columns  # flat takes: 2x [rows, columns]
    mean = np.take(stats.total.ravel(), index) / float(stats.n_frames)
    deviation = _deviation_at(analysis, rows, columns, cfa)
    std = np.take(stats.std.ravel(), index).astype(np.float64)
    return mean, deviation, std


def _votes(values: list[np.ndarray], limits: list, test) -> np.ndarray:
    """How many stacks of a group flag each pixel by ``test(value, limit)``."""
    count = np.zeros(values[0].shape if values else 0, np.int64)
    for value, limit in zip(values, limits, strict=True):
        count += test(value, limit)
    return count


def _enough(count: np.ndarray, group_size: int, vote: float) -> np.ndarray:
    if group_size == 0:
        return np.zeros(count.shape, bool)
    needed = max(1, math.ceil(vote * group_size - 1e-9))
    return count >= needed


# -- classification: candidates -> evidence -> kinds -------------------------------------


@dataclass(frozen=True)
class _Candidates:
    """Pixels worth classifying: deviating in a stack, noisy, or on a bad line (segment)."""

    rows: np.ndarray
    columns: np.ndarray
    line_columns: np.ndarray  # full bad columns
    line_rows: np.ndarray
    segments: tuple[LineSegment, ...]


def _segment_pixels(segment: LineSegment, step: int) -> np.ndarray:
    """Positions along the line (rows of a column segment) of a segment's pixels."""
    return np.arange(segment.start, segment.end + 1, step, dtype=np.int64)


def _unique_int(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting: numpy 2's hashing ``unique`` is ~30x slower
    on the hundreds of thousands of pixels a sweep in the noise classifies."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def _candidates(
    analyses: dict[str, list[StackAnalysis]],
    shape: tuple[int, int],
    threshold: Threshold,
    cfa: str | None,
) -> _Candidates:
    height, width = shape
    step = 1 if cfa is None else 2
    all_analyses = [a for group in analyses.values() for a in group]
    flat = []
    for a in all_analyses:
        limit = a.pixel_limits(
            threshold, a.flagged_rows, a.flagged_columns, a.flagged_deviation, cfa
        )
        beyond = np.abs(a.flagged_deviation) > limit
        flat.append(a.flagged_rows[beyond] * width + a.flagged_columns[beyond])
        flat.append(a.noisy_index)
    line_columns = np.unique(np.concatenate([a.bad_columns for a in all_analyses] or [[]]))
    line_rows = np.unique(np.concatenate([a.bad_rows for a in all_analyses] or [[]]))
    line_columns = line_columns.astype(np.int64)
    line_rows = line_rows.astype(np.int64)
    for column in line_columns:
        flat.append(np.arange(height, dtype=np.int64) * width + column)
    for row in line_rows:
        flat.append(row * width + np.arange(width, dtype=np.int64))
    segments = tuple(s for a in all_analyses for s in a.segments)
    for s in segments:
        along = _segment_pixels(s, step)
        flat.append(along * width + s.index if s.axis == "column" else s.index * width + along)
    pixels = _unique_int(np.concatenate(flat)) if flat else np.empty(0, np.int64)
    rows, columns = np.divmod(pixels.astype(np.int64), width)
    return _Candidates(rows, columns, line_columns, line_rows, segments)


@dataclass(frozen=True)
class _Evidence:
    """Per candidate pixel: the flags that may make a kind, and the measured evidence."""

    flags: dict[str, np.ndarray]  # "<role>_high", "<role>_low", "noisy", "column", "row"
    values: dict[str, np.ndarray]  # the evidence columns of the defect list
    means: dict[str, np.ndarray]  # mean level per role (DN), for the stuck rules


def _line_evidence(
    analyses: list[StackAnalysis], candidates: _Candidates, step: int, width: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Flags ``column``/``row`` and evidence of full lines and segments at the candidates."""
    rows, columns = candidates.rows, candidates.columns
    n = rows.size
    column_deviation = np.zeros(n)
    row_deviation = np.zeros(n)
    for a in analyses:
        cd = a.column_deviation[columns]
        rd = a.row_deviation[rows]
        column_deviation = np.where(np.abs(cd) > np.abs(column_deviation), cd, column_deviation)
        row_deviation = np.where(np.abs(rd) > np.abs(row_deviation), rd, row_deviation)
    on_column = np.isin(columns, candidates.line_columns)
    on_row = np.isin(rows, candidates.line_rows)
    values: dict[str, np.ndarray] = {}
    column_value = np.where(on_column, column_deviation, np.nan)
    row_value = np.where(on_row, row_deviation, np.nan)
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    index = rows * width + columns
    on_segment = {"column": np.zeros(n, bool), "row": np.zeros(n, bool)}
    for s in reversed(candidates.segments):  # the first stack's values win
        along = _segment_pixels(s, step)
        flat = along * width + s.index if s.axis == "column" else s.index * width + along
        here = np.isin(index, flat)
        on_segment[s.axis] |= here
        target = column_value if s.axis == "column" else row_value
        target[here] = s.deviation
        # A column segment's extent wins over a row segment's on a crossing pixel.
        writable = here if s.axis == "column" else here & ~on_segment["column"]
        start[writable] = s.start
        end[writable] = s.end
    if candidates.line_columns.size or on_segment["column"].any():
        values["column_deviation"] = column_value
    if candidates.line_rows.size or on_segment["row"].any():
        values["row_deviation"] = row_value
    if candidates.segments:
        values["segment_start"] = start
        values["segment_end"] = end
    flags = {"column": on_column | on_segment["column"], "row": on_row | on_segment["row"]}
    return flags, values


def _evidence(
    analyses: dict[str, list[StackAnalysis]],
    candidates: _Candidates,
    config: DetectionConfig,
    threshold: Threshold,
    width: int,
) -> _Evidence:
    rows, columns = candidates.rows, candidates.columns
    flags: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    means: dict[str, np.ndarray] = {}
    dark_deviations: list[np.ndarray] = []
    for role, group in analyses.items():
        if not group:
            continue
        gathered = [_gather(a, rows, columns, config.cfa) for a in group]
        deviations = [g[1] for g in gathered]
        if role == "dark":
            dark_deviations = deviations
        limits = [
            a.pixel_limits(threshold, rows, columns, d, config.cfa)
            for a, d in zip(group, deviations, strict=True)
        ]
        over = _votes(deviations, limits, lambda d, limit: d > limit)
        under = _votes(deviations, limits, lambda d, limit: -d > limit)
        flags[f"{role}_high"] = _enough(over, len(group), config.vote)
        flags[f"{role}_low"] = _enough(under, len(group), config.vote)
        # Evidence from the longest exposure of the role (the most telling one).
        exposures = [a.report.exposure_us or 0.0 for a in group]
        reference = int(np.argmax(exposures))
        mean, deviation, std = gathered[reference]
        means[role] = mean
        values[f"{role}_mean"] = mean
        values[f"{role}_deviation"] = deviation
        values[f"{role}_std"] = std
        if len(group) > 1:
            values[f"{role}_votes"] = np.maximum(over, under).astype(np.float64)
    noise_group = analyses["dark"] or analyses["bright"]
    index = rows * width + columns
    noisy_count = np.zeros(rows.size, np.int64)
    ratio = np.full(rows.size, np.nan)
    telegraph = {name: np.full(rows.size, np.nan) for name in ("levels", "amplitude", "switches")}
    for a in noise_group:
        position = np.minimum(np.searchsorted(a.noisy_index, index), max(a.noisy_index.size - 1, 0))
        hit = a.noisy_index[position] == index if a.noisy_index.size else np.zeros(index.size, bool)
        noisy_count += hit
        ratio[hit] = np.fmax(ratio[hit], a.noise_ratio[position[hit]])
        if a.telegraph is not None:
            first = hit & np.isnan(telegraph["levels"])  # the first stack's history wins
            for name, target in telegraph.items():
                target[first] = getattr(a.telegraph, name)[position[first]]
    flags["noisy"] = _enough(noisy_count, len(noise_group), config.vote)
    if noisy_count.any():
        values["noise_ratio"] = ratio
        if not np.isnan(telegraph["levels"]).all():
            values.update({f"rts_{name}": value for name, value in telegraph.items()})
    fit = _exposure_fit(analyses["dark"], dark_deviations)
    if fit is not None:
        offset, slope, longest = fit
        values["dark_offset_deviation"] = offset
        values["dark_slope_deviation"] = slope
        # "Partially stuck": most of the deviation at the longest exposure is already
        # there at zero exposure (a large offset, a normal dark-current slope).
        at_longest = offset + slope * longest
        with np.errstate(invalid="ignore", divide="ignore"):
            values["partially_stuck"] = ((offset > 0) & (offset > 0.5 * at_longest)).astype(float)
    line_flags, line_values = _line_evidence(
        [a for group in analyses.values() for a in group],
        candidates,
        1 if config.cfa is None else 2,
        width,
    )
    flags.update(line_flags)
    values.update(line_values)
    return _Evidence(flags, values, means)


def _kinds(evidence: _Evidence, config: DetectionConfig, bit_depth: int) -> np.ndarray:
    """The kind of every candidate: the first it fits, each agreeing with the evidence' sign.

    ``stuck_high``, ``hot`` and ``bright`` need a positive deviation in the stack that
    shows them, ``stuck_low`` and ``dark`` a negative one; ``stuck_low`` also needs a
    bright (or saturated) stack, since a pixel at the black level of dark frames may
    simply not respond to light yet (``stuck_low_untested`` evidence marks such pixels).
    """
    flags, values, means = evidence.flags, evidence.values, evidence.means
    size = flags["noisy"].size
    # No candidate has a flag that no stack provides (and it is the empty "or").
    none_flagged = np.zeros(size, bool)

    def signed(role: str, direction: str) -> np.ndarray:
        flag = flags.get(f"{role}_{direction}")
        if flag is None:
            return none_flagged
        deviation = values[f"{role}_deviation"]
        return flag & (deviation > 0 if direction == "high" else deviation < 0)

    roles = [role for role in ("dark", "bright", "saturated") if f"{role}_high" in flags]
    positive = np.logical_or.reduce([signed(r, "high") for r in roles] + [none_flagged])
    negative = np.logical_or.reduce([signed(r, "low") for r in roles] + [none_flagged])
    negative_in_light = signed("bright", "low") | signed("saturated", "low")
    full_scale = (1 << bit_depth) - 1
    tolerance = config.stuck_tolerance.to_dn(bit_depth)
    rails = [r for r in ("dark", "bright") if r in means]
    high_rail = np.logical_and.reduce([means[r] >= full_scale - tolerance for r in rails])
    low_rail = np.logical_and.reduce([means[r] <= tolerance for r in rails])

    kind = np.full(size, _KIND["unknown"], np.uint8)

    def assign(name: str, condition: np.ndarray) -> None:
        kind[(kind == _KIND["unknown"]) & condition] = _KIND[name]

    assign("stuck_high", positive & high_rail)
    assign("stuck_low", negative_in_light & low_rail)
    assign("hot", signed("dark", "high"))
    assign("dark", negative_in_light | signed("dark", "low"))
    assign("bright", signed("bright", "high") | signed("saturated", "high"))
    assign("noisy", flags["noisy"])
    assign("column", flags["column"])
    assign("row", flags["row"])
    if "dark" in means and not ({"bright", "saturated"} & set(means) or "saturated_high" in flags):
        untested = signed("dark", "low") & (means["dark"] <= tolerance)
        if untested.any():
            values["stuck_low_untested"] = untested.astype(float)
    del negative  # every negative kind above is tied to the stack that shows it
    return kind


def _classify(
    analyses: dict[str, list[StackAnalysis]],
    shape: tuple[int, int],
    bit_depth: int,
    config: DetectionConfig,
    pixel_threshold: Threshold,
) -> DefectList:
    """Candidates -> evidence -> kinds, at ``pixel_threshold``; nothing is read again."""
    all_analyses = [a for group in analyses.values() for a in group]
    for a in all_analyses:
        limit = a.threshold_dn(pixel_threshold)
        if limit < a.analysed_threshold_dn:
            raise InputError(
                f"threshold {pixel_threshold} ({limit:.1f} DN) is below the "
                f"{a.analysed_threshold_dn:.1f} DN the {a.report.role} stack was analysed for"
            )
    candidates = _candidates(analyses, shape, pixel_threshold, config.cfa)
    evidence = _evidence(analyses, candidates, config, pixel_threshold, shape[1])
    kind = _kinds(evidence, config, bit_depth)
    keep = kind != _KIND["unknown"]
    return DefectList.from_arrays(
        candidates.rows[keep],
        candidates.columns[keep],
        kinds=kind[keep],
        source="detected",
        evidence={name: value[keep] for name, value in evidence.values.items()},
    )


def _exposure_fit(
    group: list[StackAnalysis], deviations: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Offset (DN) and slope (DN per second) of the dark deviation against exposure.

    A hot pixel's dark signal grows with exposure much faster than its neighbours'; a
    "partially stuck" pixel has a large offset and a normal slope. Fitted by least
    squares per pixel over the dark stacks' exposures (``deviations``, one array per
    stack); returns ``(offset, slope, longest exposure in s)``. Needs at least two
    distinct exposures.
    """
    exposures = [a.report.exposure_us for a in group]
    if len(group) < 2 or any(e is None for e in exposures) or len(set(exposures)) < 2:
        return None
    seconds = np.asarray(exposures, np.float64) * 1e-6
    deviations = np.stack(deviations)
    centred = seconds - seconds.mean()
    slope = (centred[:, None] * (deviations - deviations.mean(axis=0))).sum(axis=0) / (
        centred**2
    ).sum()
    offset = deviations.mean(axis=0) - slope * seconds.mean()
    return offset, slope, float(seconds.max())
