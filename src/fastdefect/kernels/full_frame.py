"""The full-frame path of deviation detection: every pixel's exact deviation (7 x 7 block).

The other path, :mod:`fastdefect.kernels.candidates`, bounds the median per tile and
computes it only where a pixel could pass the threshold; detection switches to this one
when a threshold in the noise makes most pixels candidates.

Detection's deviation is ``v - m48``: ``v`` a pixel, ``m48`` the median of its 48
neighbours in the 7 x 7 block (centre excluded; an even count, so the mean of the 24th
and 25th smallest). Let ``s24 <= s25 <= s26`` be the 24th, 25th and 26th smallest of the
49 block values, centre included. Removing one copy of ``v`` from the sorted block gives
the neighbours, whose two middle values are

* ``(s25, s26)`` if ``v <= s24``,
* ``(s24, s25)`` if ``v >= s26``,
* ``(s24, s26)`` otherwise (then ``v == s25``).

(With ties the cases overlap and agree: the rule only compares values.) So three ranks of
the full block, which a data-oblivious network computes for every pixel at once, give the
deviation exactly. The network has the structure of the 7 x 7 median network of
:mod:`fastdefect.kernels.median` (after A. Adams, "Fast median filters using separable
sorting networks", ACM TOG 40(4), 2021):

1. every 7-wide window of an image row is sorted by an optimal 16-comparator network;
2. four vertically adjacent output rows are computed together from 10 sorted rows: the
   4 rows all of them share and the pairs shared by two are merged once (Batcher's
   odd-even merge), and of a merge of 42 values only ranks 16 .. 25 are kept, the only
   ones that can still become rank 23, 24 or 25 (0-based) once the last row of 7 joins;
   each output merges those with its own row and keeps its three ranks. Comparators whose
   results are not needed are dropped: ~140 min/max per output pixel (the median alone
   needs ~120). The network is generated code (``_networks_rank.py``, written by
   ``tools/gen_networks.py``).

The network kernel covers interior pixels only (the whole block inside the image), so it
reads the image directly, without index maps or padding; :func:`border_neighbour_deviation`
fills the 3-pixel frame of clipped blocks per pixel (by selection). Both compute the same
float64 expression as the per-pixel kernel
:func:`fastdefect.kernels.candidates.neighbour_deviation`, ``v - 0.5 * (low + high)``, so
they agree bit for bit. Inputs: uint16, uint32 or uint64 (widen uint8 first).

Also here, for ``deviation_outliers``' switch to this path: :func:`deviation_beyond`
(threshold a full deviation image without big temporaries).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The 7-wide row-window sort is the median filter's (same network, same work-buffer
# layout, so the same tile width).
from ._networks_median import sort_windows_7
from ._networks_rank import tile_ranks_7
from ._shared import ROWS_PER_STEP, TILE_WIDTH, move_down
from ._threads import run_split
from .candidates import pixel_deviation

#: Side of the block, and its radius.
SIZE = 7
RADIUS = SIZE // 2

#: Sorted rows in the work ring: ``SIZE + ROWS_PER_STEP - 1``.
_RING_ROWS = SIZE + ROWS_PER_STEP - 1


def interior_neighbour_deviation(image, out, band_height):
    """``v - median(48 neighbours)`` for every pixel at least 3 from each edge.

    Parameters
    ----------
    image : 2-D uint16, uint32 or uint64 array, C-contiguous, at least 7 x 7
    out : 2-D float64 array of the image's shape
        Written at ``[3:-3, 3:-3]`` only.
    band_height : int
        Output rows per parallel task, a multiple of ``ROWS_PER_STEP``.
    """
    inner_height = image.shape[0] - 2 * RADIUS
    n_bands = (inner_height + band_height - 1) // band_height
    run_split(_interior_bands, n_bands, image, out, band_height)
    return out


@njit(cache=True, nogil=True)
def _interior_bands(image, out, band_height, first_band, stop_band):
    height, width = image.shape
    inner_height = height - 2 * RADIUS
    inner_width = width - 2 * RADIUS
    first_output = _RING_ROWS * SIZE * TILE_WIDTH
    kept = (_RING_ROWS - ROWS_PER_STEP) * SIZE * TILE_WIDTH
    shift = ROWS_PER_STEP * SIZE * TILE_WIDTH
    for band in range(first_band, stop_band):
        work = np.empty(first_output + 3 * ROWS_PER_STEP * TILE_WIDTH, dtype=image.dtype)
        first = band * band_height
        stop = min(inner_height, first + band_height)
        for x0 in range(0, inner_width, TILE_WIDTH):
            n = np.uint64(min(TILE_WIDTH, inner_width - x0))
            start = np.uint64(x0)
            # Output row y (inner coordinates) reads image rows y .. y + 6; each step
            # adds ROWS_PER_STEP rows to the SIZE - 1 it keeps.
            for d in range(SIZE - 1):
                slot = np.uint64(d * SIZE * TILE_WIDTH)
                sort_windows_7(image[first + d], start, work, slot, n)
            for y in range(first, stop, ROWS_PER_STEP):
                for d in range(SIZE - 1, _RING_ROWS):
                    # Rows past the end only feed outputs that are never stored.
                    row = min(y + d, height - 1)
                    sort_windows_7(image[row], start, work, np.uint64(d * SIZE * TILE_WIDTH), n)
                tile_ranks_7(work, n)
                for t in range(min(ROWS_PER_STEP, stop - y)):
                    offset = np.uint64(first_output + 3 * t * TILE_WIDTH)
                    centre = start + np.uint64(RADIUS)
                    _finish_row(image[y + t + RADIUS], work, offset, out[y + t + RADIUS], centre, n)
                # Slide the ring: sorted rows ROWS_PER_STEP.. move to the front.
                move_down(work, np.uint64(shift), np.uint64(kept))


def border_neighbour_deviation(image, out, rows=None, out_first_row=0):
    """``v - median(neighbours)`` for every pixel within 3 of an edge (clipped blocks).

    That is every pixel of an image less than 7 high or wide. Each pixel gathers its
    neighbours and selects the middle one(s) (Wirth's selection, correct with ties):
    the same values as sorting them, as float64 conversion keeps the order, and the same
    float64 expression as :func:`fastdefect.kernels.candidates.neighbour_deviation`. A pixel
    with no neighbours (a 1 x 1 image) has deviation 0.

    ``rows`` (``(start, stop)``, default all) limits the work to those image rows; image
    row ``r`` is written to ``out[r - out_first_row]`` (a band buffer).
    """
    start, stop = (0, image.shape[0]) if rows is None else rows
    # In threads also for a band: ~1 us a pixel, 1.5 ms for the 6 x 256 of a 256-row band.
    run_split(_border_rows, stop - start, image, out, start, out_first_row)
    return out


@njit(cache=True, nogil=True)
def _border_rows(image, out, row_offset, out_first_row, first, stop):
    height, width = image.shape
    buffer = np.empty(SIZE * SIZE, dtype=image.dtype)
    for row in range(row_offset + first, row_offset + stop):
        edge_row = row < RADIUS or row >= height - RADIUS
        for i in range(width if edge_row else 2 * RADIUS):
            # Other rows: the first and last RADIUS columns only, each once (they
            # overlap, or lie partly outside, in an image less than 2 * RADIUS wide).
            column = i if edge_row or i < RADIUS else width - 2 * RADIUS + i
            if column >= width or (column < RADIUS and i >= RADIUS):
                continue
            out[row - out_first_row, column] = pixel_deviation(image, row, column, RADIUS, buffer)


@njit(cache=True, nogil=True)
def _count_beyond(deviation, limit_high, limit_low, counts, first_row, stop_row):
    width = deviation.shape[1]
    for row in range(first_row, stop_row):
        count = 0
        for column in range(width):
            value = deviation[row, column]
            count += (value > limit_high) | (-value > limit_low)
        counts[row] = count


@njit(cache=True, nogil=True)
def _gather_beyond(
    deviation, limit_high, limit_low, offsets, rows, columns, values, first_row, stop_row
):
    width = deviation.shape[1]
    for row in range(first_row, stop_row):
        position = offsets[row]
        for column in range(width):
            value = deviation[row, column]
            if value > limit_high or -value > limit_low:
                rows[position] = row
                columns[position] = column
                values[position] = value
                position += 1


def deviation_beyond(deviation, limit_high, limit_low):
    """Pixels with ``deviation > limit_high`` or ``-deviation > limit_low``, row-major.

    Returns ``(rows, columns, values)``: int64, int64 and float64 arrays. Two parallel
    passes (count per row, then fill), no full-size temporaries.
    """
    height = deviation.shape[0]
    counts = np.empty(height, np.int64)
    run_split(_count_beyond, height, deviation, float(limit_high), float(limit_low), counts)
    offsets = np.zeros(height, np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    total = int(counts.sum())
    rows = np.empty(total, np.int64)
    columns = np.empty(total, np.int64)
    values = np.empty(total, np.float64)
    run_split(
        _gather_beyond, height, deviation, float(limit_high), float(limit_low), offsets, rows,
        columns, values,
    )  # fmt: skip
    return rows, columns, values


@njit(cache=True, nogil=True)
def _finish_row(line, work, offset, out_line, start, n):
    """Deviations of ``n`` pixels of a row from their block's ranks 23, 24, 25 (0-based)."""
    # Unsigned indices: numba adds no negative-index wraparound, so the loop vectorises.
    for x in range(n):
        value = line[start + x]
        s24 = work[offset + x]
        s25 = work[offset + np.uint64(TILE_WIDTH) + x]
        s26 = work[offset + np.uint64(2 * TILE_WIDTH) + x]
        low = s25 if value <= s24 else s24
        high = s25 if value >= s26 else s26
        # The same expression as the per-pixel kernel: equal bit for bit.
        out_line[start + x] = np.float64(value) - 0.5 * (np.float64(low) + np.float64(high))
