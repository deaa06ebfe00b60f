"""Numba kernels of the exact local median (public function: ``fastdefect.local_median``).

Both kernels read the image through two index maps, ``row_map`` and ``col_map``: padded
row ``p`` is image row ``row_map[p]``, padded column ``q`` is image column ``col_map[q]``
(the wrapper builds them with ``np.pad(..., mode="reflect")``, which is scipy's
``mode="mirror"``). Output pixel ``(y, x)`` is the median of padded rows ``y .. y+size-1``
and padded columns ``x .. x+size-1``. No padded copy of the image is ever made.

Sizes 3, 5 and 7: a data-oblivious min/max network, after A. Adams, "Fast median filters
using separable sorting networks", ACM TOG 40(4), 2021, vectorised across columns:

1. every ``size``-wide horizontal window of a padded row is sorted by an optimal
   sorting network; the ``size`` ranks are kept as ``size`` rank rows;
2. four vertically adjacent output rows are computed together from ``size + 3`` such
   sorted rows. The rows they share are merged once (Batcher's odd-even merge) and only
   the ranks of the merge that can still be the median once the remaining rows join are
   kept ("forgetful" selection); each output then takes rank ``size`` of (kept ranks +
   its own sorted row), which is ``max_p min(kept[p], row[size - p])``. Comparators
   whose results are not needed are dropped, leaving ~120 min/max per output pixel for
   size 7 (plus 16 compare-exchanges per input pixel for the row sort).

The networks are generated code (``_networks_median.py``, written by
``tools/gen_networks.py``) working on one flat work buffer per thread: the sorted rows
of a tile of ``TILE_WIDTH`` columns at compile-time constant offsets, followed by the
four output rows. Constant offsets and unsigned indices are what let LLVM vectorise
loops with 70 loads (no aliasing or wraparound checks); every inner loop runs along a
row, so min/max become SIMD instructions.

Other sizes: an exact per-pixel selection (Hoare/Wirth, ``_shared.select``), O(size**2)
per pixel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._networks_median import (
    sort_windows_3,
    sort_windows_5,
    sort_windows_7,
    tile_medians_3,
    tile_medians_5,
    tile_medians_7,
)
from ._shared import ROWS_PER_STEP, TILE_WIDTH, move_down, select

#: Window sizes that have a generated network (entry points ``median_network_<size>``).
NETWORK_SIZES = (3, 5, 7)


@njit(cache=True, nogil=True, parallel=True)
def median_network_3(image, row_map, col_map, out, band_height):
    """Exact 3 x 3 median; see :func:`_median_bands` for the arguments."""
    return _median_bands(image, 3, row_map, col_map, out, band_height)


@njit(cache=True, nogil=True, parallel=True)
def median_network_5(image, row_map, col_map, out, band_height):
    """Exact 5 x 5 median; see :func:`_median_bands` for the arguments."""
    return _median_bands(image, 5, row_map, col_map, out, band_height)


@njit(cache=True, nogil=True, parallel=True)
def median_network_7(image, row_map, col_map, out, band_height):
    """Exact 7 x 7 median; see :func:`_median_bands` for the arguments."""
    return _median_bands(image, 7, row_map, col_map, out, band_height)


# Inlined into each entry point above with a constant size, so numba prunes the branches
# of the other sizes and compiles (and caches) one network per entry point only.
@njit(inline="always")
def _median_bands(image, size, row_map, col_map, out, band_height):
    """Exact ``size`` x ``size`` median of ``image`` into ``out``, size 3, 5 or 7.

    Parameters
    ----------
    image : 2-D uint8 or uint16 array, C-contiguous
    size : int
        3, 5 or 7, a compile-time constant.
    row_map : 1-D intp array
        Image row of each padded row; at least ``ceil(h / 4) * 4 + size - 1`` entries
        (entries past ``h + size - 1`` feed discarded outputs and may be any valid row).
    col_map : 1-D intp array
        Image column of each padded column, ``w + size - 1`` entries.
    out : 2-D array of the image's dtype and shape
    band_height : int
        Output rows per parallel task, a multiple of ``ROWS_PER_STEP``.
    """
    height, width = out.shape
    ring_rows = size + ROWS_PER_STEP - 1
    first_output = ring_rows * size * TILE_WIDTH
    kept = (ring_rows - ROWS_PER_STEP) * size * TILE_WIDTH
    shift = ROWS_PER_STEP * size * TILE_WIDTH
    n_bands = (height + band_height - 1) // band_height
    for band in prange(n_bands):
        work = np.empty(first_output + ROWS_PER_STEP * TILE_WIDTH, dtype=image.dtype)
        padded_row = np.empty(TILE_WIDTH + size - 1, dtype=image.dtype)
        first = band * band_height
        stop = min(height, first + band_height)
        for x0 in range(0, width, TILE_WIDTH):
            n = min(TILE_WIDTH, width - x0)
            # Rows y .. y + size - 2 of the first step; each step adds ROWS_PER_STEP rows.
            for d in range(size - 1):
                _sort_row(image, size, row_map[first + d], col_map, x0, n, padded_row, work, d)
            for y in range(first, stop, ROWS_PER_STEP):
                for d in range(size - 1, ring_rows):
                    _sort_row(image, size, row_map[y + d], col_map, x0, n, padded_row, work, d)
                if size == 7:
                    tile_medians_7(work, np.uint64(n))
                elif size == 5:
                    tile_medians_5(work, np.uint64(n))
                else:
                    tile_medians_3(work, np.uint64(n))
                for t in range(min(ROWS_PER_STEP, height - y)):
                    offset = np.uint64(first_output + t * TILE_WIDTH)
                    _copy_out(work, offset, out[y + t], np.uint64(x0), np.uint64(n))
                # Slide the ring: sorted rows ROWS_PER_STEP.. move to the front.
                move_down(work, np.uint64(shift), np.uint64(kept))
    return out


@njit(inline="always")
def _sort_row(image, size, source_row, col_map, x0, n, padded_row, work, slot):
    """Sort the horizontal windows of padded row columns ``x0 .. x0+n+size-2`` into ``slot``."""
    line = image[source_row]
    half = size // 2
    if x0 >= half and x0 + n + half <= line.shape[0]:
        source = line
        start = np.uint64(x0 - half)
    else:
        for j in range(n + size - 1):
            padded_row[j] = line[col_map[x0 + j]]
        source = padded_row
        start = np.uint64(0)
    dst = np.uint64(slot * size * TILE_WIDTH)
    if size == 7:
        sort_windows_7(source, start, work, dst, np.uint64(n))
    elif size == 5:
        sort_windows_5(source, start, work, dst, np.uint64(n))
    else:
        sort_windows_3(source, start, work, dst, np.uint64(n))


@njit(cache=True, nogil=True)
def _copy_out(work, offset, line, start, n):
    # Unsigned indices: numba adds no negative-index wraparound, so the loop vectorises.
    for x in range(n):
        line[start + x] = work[offset + x]


@njit(cache=True, nogil=True, parallel=True)
def median_select(image, size, row_map, col_map, out):
    """Exact ``size`` x ``size`` median of ``image`` into ``out``, any odd ``size``.

    Gathers each window and selects its middle element in place (Wirth's variant of
    Hoare's selection, correct with ties). ``row_map``/``col_map`` have ``h + size - 1``
    and ``w + size - 1`` entries.
    """
    height, width = out.shape
    count = size * size
    middle = count // 2
    for y in prange(height):
        window = np.empty(count, dtype=image.dtype)
        for x in range(width):
            i = 0
            for dy in range(size):
                line = image[row_map[y + dy]]
                for dx in range(size):
                    window[i] = line[col_map[x + dx]]
                    i += 1
            out[y, x] = select(window, middle)
    return out
