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

The networks are generated code (end of this module) working on one flat work buffer
per thread: the sorted rows of a tile of ``TILE_WIDTH`` columns at compile-time
constant offsets, followed by the four output rows. Constant offsets and unsigned
indices are what let LLVM vectorise loops with 70 loads (no aliasing or wraparound
checks); every inner loop runs along a row, so min/max become SIMD instructions.

Other sizes: an exact per-pixel selection (Hoare/Wirth), O(size**2) per pixel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._minmax import hi, lo

#: Columns per tile of the network kernel. The generated networks address the work
#: buffer in multiples of it, so it is a compile-time constant.
TILE_WIDTH = 128

#: Output rows computed together by one network pass.
ROWS_PER_STEP = 4

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
                    _tile_medians_7(work, np.uint64(n))
                elif size == 5:
                    _tile_medians_5(work, np.uint64(n))
                else:
                    _tile_medians_3(work, np.uint64(n))
                for t in range(min(ROWS_PER_STEP, height - y)):
                    offset = np.uint64(first_output + t * TILE_WIDTH)
                    _copy_out(work, offset, out[y + t], np.uint64(x0), np.uint64(n))
                # Slide the ring: sorted rows ROWS_PER_STEP.. move to the front.
                _move_down(work, np.uint64(shift), np.uint64(kept))
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
        _sort_windows_7(source, start, work, dst, np.uint64(n))
    elif size == 5:
        _sort_windows_5(source, start, work, dst, np.uint64(n))
    else:
        _sort_windows_3(source, start, work, dst, np.uint64(n))


@njit(cache=True, nogil=True)
def _copy_out(work, offset, line, start, n):
    # Unsigned indices: numba adds no negative-index wraparound, so the loop vectorises.
    for x in range(n):
        line[start + x] = work[offset + x]


@njit(cache=True, nogil=True)
def _move_down(work, shift, count):
    for i in range(count):
        work[i] = work[i + shift]


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
            out[y, x] = _select(window, middle)
    return out


@njit(cache=True, nogil=True)
def _select(values, k):
    """The ``k``-th smallest of ``values`` (0-based); reorders ``values``."""
    low = 0
    high = values.shape[0] - 1
    while low < high:
        pivot = values[k]
        i = low
        j = high
        while True:
            while values[i] < pivot:
                i += 1
            while pivot < values[j]:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
            if i > j:
                break
        if j < k:
            low = i
        if k < i:
            high = j
    return values[k]


# ---------------------------------------------------------------------------------------
# Generated networks: do not edit by hand. Regenerate with
#     python tests/test_median.py --emit
# (tests/test_median.py checks that this section is what its generator produces, and
# verifies every network exhaustively with the 0-1 principle).
#
# _sort_windows_N(src, start, work, dst, n): for x < n, rank k of
#     src[start + x : start + x + N] -> work[dst + k * TILE_WIDTH + x].
# _tile_medians_N(work, n): rank k of sorted row d at work[(d * N + k) * TILE_WIDTH + x],
#     d = 0 .. N + 2; median of rows t .. t + N - 1 -> work[((N + 3) * N + t) * TILE_WIDTH + x].
# ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _sort_windows_3(src, start, work, dst, n):
    """Sort every 3-wide window of ``src`` into 3 rank rows of ``work``."""
    for x in range(n):
        p0 = src[start + x]
        p1 = src[start + x + np.uint64(1)]
        p2 = src[start + x + np.uint64(2)]
        p0, p2 = lo(p0, p2), hi(p0, p2)
        p0, p1 = lo(p0, p1), hi(p0, p1)
        p1, p2 = lo(p1, p2), hi(p1, p2)
        work[dst + x] = p0
        work[dst + x + np.uint64(1 * TILE_WIDTH)] = p1
        work[dst + x + np.uint64(2 * TILE_WIDTH)] = p2


@njit(cache=True, nogil=True)
def _tile_medians_3(work, n):
    """Medians of 4 vertically adjacent 3 x 3 windows, 44 min/max."""
    for x in range(n):
        r0_0 = work[x]
        r0_1 = work[x + np.uint64(1 * TILE_WIDTH)]
        r0_2 = work[x + np.uint64(2 * TILE_WIDTH)]
        r1_0 = work[x + np.uint64(3 * TILE_WIDTH)]
        r1_1 = work[x + np.uint64(4 * TILE_WIDTH)]
        r1_2 = work[x + np.uint64(5 * TILE_WIDTH)]
        r2_0 = work[x + np.uint64(6 * TILE_WIDTH)]
        r2_1 = work[x + np.uint64(7 * TILE_WIDTH)]
        r2_2 = work[x + np.uint64(8 * TILE_WIDTH)]
        r3_0 = work[x + np.uint64(9 * TILE_WIDTH)]
        r3_1 = work[x + np.uint64(10 * TILE_WIDTH)]
        r3_2 = work[x + np.uint64(11 * TILE_WIDTH)]
        r4_0 = work[x + np.uint64(12 * TILE_WIDTH)]
        r4_1 = work[x + np.uint64(13 * TILE_WIDTH)]
        r4_2 = work[x + np.uint64(14 * TILE_WIDTH)]
        r5_0 = work[x + np.uint64(15 * TILE_WIDTH)]
        r5_1 = work[x + np.uint64(16 * TILE_WIDTH)]
        r5_2 = work[x + np.uint64(17 * TILE_WIDTH)]
        w1 = hi(r1_0, r2_0)
        w2 = lo(r1_2, r2_2)
        w3 = lo(w2, w1)
        w4 = hi(w2, w1)
        w5 = lo(r1_1, r2_1)
        w6 = hi(r1_1, r2_1)
        w7 = lo(w5, w3)
        w8 = hi(w5, w3)
        w9 = lo(w6, w4)
        w10 = hi(w6, w4)
        w11 = hi(r3_0, r4_0)
        w12 = lo(r3_2, r4_2)
        w13 = lo(w12, w11)
        w14 = hi(w12, w11)
        w15 = lo(r3_1, r4_1)
        w16 = hi(r3_1, r4_1)
        w17 = lo(w15, w13)
        w18 = hi(w15, w13)
        w19 = lo(w16, w14)
        w20 = hi(w16, w14)
        w21 = lo(w8, r0_2)
        w22 = lo(w9, r0_1)
        w23 = lo(w10, r0_0)
        w24 = hi(w7, w21)
        w25 = hi(w22, w23)
        w26 = hi(w24, w25)
        w27 = lo(w8, r3_2)
        w28 = lo(w9, r3_1)
        w29 = lo(w10, r3_0)
        w30 = hi(w7, w27)
        w31 = hi(w28, w29)
        w32 = hi(w30, w31)
        w33 = lo(w18, r2_2)
        w34 = lo(w19, r2_1)
        w35 = lo(w20, r2_0)
        w36 = hi(w17, w33)
        w37 = hi(w34, w35)
        w38 = hi(w36, w37)
        w39 = lo(w18, r5_2)
        w40 = lo(w19, r5_1)
        w41 = lo(w20, r5_0)
        w42 = hi(w17, w39)
        w43 = hi(w40, w41)
        w44 = hi(w42, w43)
        work[x + np.uint64(18 * TILE_WIDTH)] = w26
        work[x + np.uint64(19 * TILE_WIDTH)] = w32
        work[x + np.uint64(20 * TILE_WIDTH)] = w38
        work[x + np.uint64(21 * TILE_WIDTH)] = w44


@njit(cache=True, nogil=True)
def _sort_windows_5(src, start, work, dst, n):
    """Sort every 5-wide window of ``src`` into 5 rank rows of ``work``."""
    for x in range(n):
        p0 = src[start + x]
        p1 = src[start + x + np.uint64(1)]
        p2 = src[start + x + np.uint64(2)]
        p3 = src[start + x + np.uint64(3)]
        p4 = src[start + x + np.uint64(4)]
        p0, p3 = lo(p0, p3), hi(p0, p3)
        p1, p4 = lo(p1, p4), hi(p1, p4)
        p0, p2 = lo(p0, p2), hi(p0, p2)
        p1, p3 = lo(p1, p3), hi(p1, p3)
        p0, p1 = lo(p0, p1), hi(p0, p1)
        p2, p4 = lo(p2, p4), hi(p2, p4)
        p1, p2 = lo(p1, p2), hi(p1, p2)
        p3, p4 = lo(p3, p4), hi(p3, p4)
        p2, p3 = lo(p2, p3), hi(p2, p3)
        work[dst + x] = p0
        work[dst + x + np.uint64(1 * TILE_WIDTH)] = p1
        work[dst + x + np.uint64(2 * TILE_WIDTH)] = p2
        work[dst + x + np.uint64(3 * TILE_WIDTH)] = p3
        work[dst + x + np.uint64(4 * TILE_WIDTH)] = p4


@njit(cache=True, nogil=True)
def _tile_medians_5(work, n):
    """Medians of 4 vertically adjacent 5 x 5 windows, 190 min/max."""
    for x in range(n):
        r0_0 = work[x]
        r0_1 = work[x + np.uint64(1 * TILE_WIDTH)]
        r0_2 = work[x + np.uint64(2 * TILE_WIDTH)]
        r0_3 = work[x + np.uint64(3 * TILE_WIDTH)]
        r0_4 = work[x + np.uint64(4 * TILE_WIDTH)]
        r1_0 = work[x + np.uint64(5 * TILE_WIDTH)]
        r1_1 = work[x + np.uint64(6 * TILE_WIDTH)]
        r1_2 = work[x + np.uint64(7 * TILE_WIDTH)]
        r1_3 = work[x + np.uint64(8 * TILE_WIDTH)]
        r1_4 = work[x + np.uint64(9 * TILE_WIDTH)]
        r2_0 = work[x + np.uint64(10 * TILE_WIDTH)]
        r2_1 = work[x + np.uint64(11 * TILE_WIDTH)]
        r2_2 = work[x + np.uint64(12 * TILE_WIDTH)]
        r2_3 = work[x + np.uint64(13 * TILE_WIDTH)]
        r2_4 = work[x + np.uint64(14 * TILE_WIDTH)]
        r3_0 = work[x + np.uint64(15 * TILE_WIDTH)]
        r3_1 = work[x + np.uint64(16 * TILE_WIDTH)]
        r3_2 = work[x + np.uint64(17 * TILE_WIDTH)]
        r3_3 = work[x + np.uint64(18 * TILE_WIDTH)]
        r3_4 = work[x + np.uint64(19 * TILE_WIDTH)]
        r4_0 = work[x + np.uint64(20 * TILE_WIDTH)]
        r4_1 = work[x + np.uint64(21 * TILE_WIDTH)]
        r4_2 = work[x + np.uint64(22 * TILE_WIDTH)]
        r4_3 = work[x + np.uint64(23 * TILE_WIDTH)]
        r4_4 = work[x + np.uint64(24 * TILE_WIDTH)]
        r5_0 = work[x + np.uint64(25 * TILE_WIDTH)]
        r5_1 = work[x + np.uint64(26 * TILE_WIDTH)]
        r5_2 = work[x + np.uint64(27 * TILE_WIDTH)]
        r5_3 = work[x + np.uint64(28 * TILE_WIDTH)]
        r5_4 = work[x + np.uint64(29 * TILE_WIDTH)]
        r6_0 = work[x + np.uint64(30 * TILE_WIDTH)]
        r6_1 = work[x + np.uint64(31 * TILE_WIDTH)]
        r6_2 = work[x + np.uint64(32 * TILE_WIDTH)]
        r6_3 = work[x + np.uint64(33 * TILE_WIDTH)]
        r6_4 = work[x + np.uint64(34 * TILE_WIDTH)]
        r7_0 = work[x + np.uint64(35 * TILE_WIDTH)]
        r7_1 = work[x + np.uint64(36 * TILE_WIDTH)]
        r7_2 = work[x + np.uint64(37 * TILE_WIDTH)]
        r7_3 = work[x + np.uint64(38 * TILE_WIDTH)]
        r7_4 = work[x + np.uint64(39 * TILE_WIDTH)]
        w1 = lo(r3_0, r4_0)
        w2 = hi(r3_0, r4_0)
        w3 = lo(r3_4, r4_4)
        w4 = hi(r3_4, r4_4)
        w5 = lo(w3, w2)
        w6 = hi(w3, w2)
        w7 = lo(r3_2, r4_2)
        w8 = hi(r3_2, r4_2)
        w9 = lo(w7, w5)
        w10 = hi(w7, w5)
        w11 = lo(w8, w6)
        w12 = hi(w8, w6)
        w13 = lo(r3_1, r4_1)
        w14 = hi(r3_1, r4_1)
        w15 = lo(r3_3, r4_3)
        w16 = hi(r3_3, r4_3)
        w17 = lo(w15, w14)
        w18 = hi(w15, w14)
        w19 = lo(w13, w9)
        w20 = hi(w13, w9)
        w21 = lo(w17, w10)
        w22 = hi(w17, w10)
        w23 = lo(w18, w11)
        w24 = hi(w18, w11)
        w25 = lo(w16, w12)
        w26 = hi(w16, w12)
        w27 = lo(r1_0, r2_0)
        w28 = hi(r1_0, r2_0)
        w29 = lo(r1_4, r2_4)
        w30 = hi(r1_4, r2_4)
        w31 = lo(w29, w28)
        w32 = hi(w29, w28)
        w33 = lo(r1_2, r2_2)
        w34 = hi(r1_2, r2_2)
        w35 = lo(w33, w31)
        w36 = hi(w33, w31)
        w37 = lo(w34, w32)
        w38 = hi(w34, w32)
        w39 = lo(r1_1, r2_1)
        w40 = hi(r1_1, r2_1)
        w41 = lo(r1_3, r2_3)
        w42 = hi(r1_3, r2_3)
        w43 = lo(w41, w40)
        w44 = hi(w41, w40)
        w45 = lo(w39, w35)
        w46 = hi(w39, w35)
        w47 = lo(w43, w36)
        w48 = hi(w43, w36)
        w49 = lo(w44, w37)
        w50 = hi(w44, w37)
        w51 = lo(w42, w38)
        w52 = hi(w42, w38)
        w53 = hi(w1, w27)
        w54 = lo(w26, w52)
        w55 = lo(w54, w53)
        w56 = hi(w54, w53)
        w57 = lo(w22, w48)
        w58 = hi(w22, w48)
        w59 = hi(w57, w55)
        w60 = lo(w58, w56)
        w61 = hi(w20, w46)
        w62 = lo(w24, w50)
        w63 = lo(w62, w61)
        w64 = hi(w62, w61)
        w65 = hi(w63, w59)
        w66 = lo(w64, w60)
        w67 = hi(w64, w60)
        w68 = hi(w19, w45)
        w69 = lo(w4, w30)
        w70 = lo(w69, w68)
        w71 = hi(w69, w68)
        w72 = lo(w23, w49)
        w73 = hi(w23, w49)
        w74 = hi(w72, w70)
        w75 = lo(w73, w71)
        w76 = hi(w21, w47)
        w77 = lo(w25, w51)
        w78 = lo(w77, w76)
        w79 = hi(w77, w76)
        w80 = lo(w78, w74)
        w81 = hi(w78, w74)
        w82 = lo(w79, w75)
        w83 = lo(w80, w65)
        w84 = hi(w80, w65)
        w85 = lo(w81, w66)
        w86 = hi(w81, w66)
        w87 = lo(w82, w67)
        w88 = hi(w82, w67)
        w89 = lo(r5_0, r6_0)
        w90 = hi(r5_0, r6_0)
        w91 = lo(r5_4, r6_4)
        w92 = hi(r5_4, r6_4)
        w93 = lo(w91, w90)
        w94 = hi(w91, w90)
        w95 = lo(r5_2, r6_2)
        w96 = hi(r5_2, r6_2)
        w97 = lo(w95, w93)
        w98 = hi(w95, w93)
        w99 = lo(w96, w94)
        w100 = hi(w96, w94)
        w101 = lo(r5_1, r6_1)
        w102 = hi(r5_1, r6_1)
        w103 = lo(r5_3, r6_3)
        w104 = hi(r5_3, r6_3)
        w105 = lo(w103, w102)
        w106 = hi(w103, w102)
        w107 = lo(w101, w97)
        w108 = hi(w101, w97)
        w109 = lo(w105, w98)
        w110 = hi(w105, w98)
        w111 = lo(w106, w99)
        w112 = hi(w106, w99)
        w113 = lo(w104, w100)
        w114 = hi(w104, w100)
        w115 = hi(w1, w89)
        w116 = lo(w26, w114)
        w117 = lo(w116, w115)
        w118 = hi(w116, w115)
        w119 = lo(w22, w110)
        w120 = hi(w22, w110)
        w121 = hi(w119, w117)
        w122 = lo(w120, w118)
        w123 = hi(w20, w108)
        w124 = lo(w24, w112)
        w125 = lo(w124, w123)
        w126 = hi(w124, w123)
        w127 = hi(w125, w121)
        w128 = lo(w126, w122)
        w129 = hi(w126, w122)
        w130 = hi(w19, w107)
        w131 = lo(w4, w92)
        w132 = lo(w131, w130)
        w133 = hi(w131, w130)
        w134 = lo(w23, w111)
        w135 = hi(w23, w111)
        w136 = hi(w134, w132)
        w137 = lo(w135, w133)
        w138 = hi(w21, w109)
        w139 = lo(w25, w113)
        w140 = lo(w139, w138)
        w141 = hi(w139, w138)
        w142 = lo(w140, w136)
        w143 = hi(w140, w136)
        w144 = lo(w141, w137)
        w145 = lo(w142, w127)
        w146 = hi(w142, w127)
        w147 = lo(w143, w128)
        w148 = hi(w143, w128)
        w149 = lo(w144, w129)
        w150 = hi(w144, w129)
        w151 = lo(w84, r0_4)
        w152 = lo(w85, r0_3)
        w153 = lo(w86, r0_2)
        w154 = lo(w87, r0_1)
        w155 = lo(w88, r0_0)
        w156 = hi(w83, w151)
        w157 = hi(w152, w153)
        w158 = hi(w154, w155)
        w159 = hi(w156, w157)
        w160 = hi(w159, w158)
        w161 = lo(w84, r5_4)
        w162 = lo(w85, r5_3)
        w163 = lo(w86, r5_2)
        w164 = lo(w87, r5_1)
        w165 = lo(w88, r5_0)
        w166 = hi(w83, w161)
        w167 = hi(w162, w163)
        w168 = hi(w164, w165)
        w169 = hi(w166, w167)
        w170 = hi(w169, w168)
        w171 = lo(w146, r2_4)
        w172 = lo(w147, r2_3)
        w173 = lo(w148, r2_2)
        w174 = lo(w149, r2_1)
        w175 = lo(w150, r2_0)
        w176 = hi(w145, w171)
        w177 = hi(w172, w173)
        w178 = hi(w174, w175)
        w179 = hi(w176, w177)
        w180 = hi(w179, w178)
        w181 = lo(w146, r7_4)
        w182 = lo(w147, r7_3)
        w183 = lo(w148, r7_2)
        w184 = lo(w149, r7_1)
        w185 = lo(w150, r7_0)
        w186 = hi(w145, w181)
        w187 = hi(w182, w183)
        w188 = hi(w184, w185)
        w189 = hi(w186, w187)
        w190 = hi(w189, w188)
        work[x + np.uint64(40 * TILE_WIDTH)] = w160
        work[x + np.uint64(41 * TILE_WIDTH)] = w170
        work[x + np.uint64(42 * TILE_WIDTH)] = w180
        work[x + np.uint64(43 * TILE_WIDTH)] = w190


@njit(cache=True, nogil=True)
def _sort_windows_7(src, start, work, dst, n):
    """Sort every 7-wide window of ``src`` into 7 rank rows of ``work``."""
    for x in range(n):
        p0 = src[start + x]
        p1 = src[start + x + np.uint64(1)]
        p2 = src[start + x + np.uint64(2)]
        p3 = src[start + x + np.uint64(3)]
        p4 = src[start + x + np.uint64(4)]
        p5 = src[start + x + np.uint64(5)]
        p6 = src[start + x + np.uint64(6)]
        p0, p6 = lo(p0, p6), hi(p0, p6)
        p2, p3 = lo(p2, p3), hi(p2, p3)
        p4, p5 = lo(p4, p5), hi(p4, p5)
        p0, p2 = lo(p0, p2), hi(p0, p2)
        p1, p4 = lo(p1, p4), hi(p1, p4)
        p3, p6 = lo(p3, p6), hi(p3, p6)
        p0, p1 = lo(p0, p1), hi(p0, p1)
        p2, p5 = lo(p2, p5), hi(p2, p5)
        p3, p4 = lo(p3, p4), hi(p3, p4)
        p1, p2 = lo(p1, p2), hi(p1, p2)
        p4, p6 = lo(p4, p6), hi(p4, p6)
        p2, p3 = lo(p2, p3), hi(p2, p3)
        p4, p5 = lo(p4, p5), hi(p4, p5)
        p1, p2 = lo(p1, p2), hi(p1, p2)
        p3, p4 = lo(p3, p4), hi(p3, p4)
        p5, p6 = lo(p5, p6), hi(p5, p6)
        work[dst + x] = p0
        work[dst + x + np.uint64(1 * TILE_WIDTH)] = p1
        work[dst + x + np.uint64(2 * TILE_WIDTH)] = p2
        work[dst + x + np.uint64(3 * TILE_WIDTH)] = p3
        work[dst + x + np.uint64(4 * TILE_WIDTH)] = p4
        work[dst + x + np.uint64(5 * TILE_WIDTH)] = p5
        work[dst + x + np.uint64(6 * TILE_WIDTH)] = p6


@njit(cache=True, nogil=True)
def _tile_medians_7(work, n):
    """Medians of 4 vertically adjacent 7 x 7 windows, 478 min/max."""
    for x in range(n):
        r0_0 = work[x]
        r0_1 = work[x + np.uint64(1 * TILE_WIDTH)]
        r0_2 = work[x + np.uint64(2 * TILE_WIDTH)]
        r0_3 = work[x + np.uint64(3 * TILE_WIDTH)]
        r0_4 = work[x + np.uint64(4 * TILE_WIDTH)]
        r0_5 = work[x + np.uint64(5 * TILE_WIDTH)]
        r0_6 = work[x + np.uint64(6 * TILE_WIDTH)]
        r1_0 = work[x + np.uint64(7 * TILE_WIDTH)]
        r1_1 = work[x + np.uint64(8 * TILE_WIDTH)]
        r1_2 = work[x + np.uint64(9 * TILE_WIDTH)]
        r1_3 = work[x + np.uint64(10 * TILE_WIDTH)]
        r1_4 = work[x + np.uint64(11 * TILE_WIDTH)]
        r1_5 = work[x + np.uint64(12 * TILE_WIDTH)]
        r1_6 = work[x + np.uint64(13 * TILE_WIDTH)]
        r2_0 = work[x + np.uint64(14 * TILE_WIDTH)]
        r2_1 = work[x + np.uint64(15 * TILE_WIDTH)]
        r2_2 = work[x + np.uint64(16 * TILE_WIDTH)]
        r2_3 = work[x + np.uint64(17 * TILE_WIDTH)]
        r2_4 = work[x + np.uint64(18 * TILE_WIDTH)]
        r2_5 = work[x + np.uint64(19 * TILE_WIDTH)]
        r2_6 = work[x + np.uint64(20 * TILE_WIDTH)]
        r3_0 = work[x + np.uint64(21 * TILE_WIDTH)]
        r3_1 = work[x + np.uint64(22 * TILE_WIDTH)]
        r3_2 = work[x + np.uint64(23 * TILE_WIDTH)]
        r3_3 = work[x + np.uint64(24 * TILE_WIDTH)]
        r3_4 = work[x + np.uint64(25 * TILE_WIDTH)]
        r3_5 = work[x + np.uint64(26 * TILE_WIDTH)]
        r3_6 = work[x + np.uint64(27 * TILE_WIDTH)]
        r4_0 = work[x + np.uint64(28 * TILE_WIDTH)]
        r4_1 = work[x + np.uint64(29 * TILE_WIDTH)]
        r4_2 = work[x + np.uint64(30 * TILE_WIDTH)]
        r4_3 = work[x + np.uint64(31 * TILE_WIDTH)]
        r4_4 = work[x + np.uint64(32 * TILE_WIDTH)]
        r4_5 = work[x + np.uint64(33 * TILE_WIDTH)]
        r4_6 = work[x + np.uint64(34 * TILE_WIDTH)]
        r5_0 = work[x + np.uint64(35 * TILE_WIDTH)]
        r5_1 = work[x + np.uint64(36 * TILE_WIDTH)]
        r5_2 = work[x + np.uint64(37 * TILE_WIDTH)]
        r5_3 = work[x + np.uint64(38 * TILE_WIDTH)]
        r5_4 = work[x + np.uint64(39 * TILE_WIDTH)]
        r5_5 = work[x + np.uint64(40 * TILE_WIDTH)]
        r5_6 = work[x + np.uint64(41 * TILE_WIDTH)]
        r6_0 = work[x + np.uint64(42 * TILE_WIDTH)]
        r6_1 = work[x + np.uint64(43 * TILE_WIDTH)]
        r6_2 = work[x + np.uint64(44 * TILE_WIDTH)]
        r6_3 = work[x + np.uint64(45 * TILE_WIDTH)]
        r6_4 = work[x + np.uint64(46 * TILE_WIDTH)]
        r6_5 = work[x + np.uint64(47 * TILE_WIDTH)]
        r6_6 = work[x + np.uint64(48 * TILE_WIDTH)]
        r7_0 = work[x + np.uint64(49 * TILE_WIDTH)]
        r7_1 = work[x + np.uint64(50 * TILE_WIDTH)]
        r7_2 = work[x + np.uint64(51 * TILE_WIDTH)]
        r7_3 = work[x + np.uint64(52 * TILE_WIDTH)]
        r7_4 = work[x + np.uint64(53 * TILE_WIDTH)]
        r7_5 = work[x + np.uint64(54 * TILE_WIDTH)]
        r7_6 = work[x + np.uint64(55 * TILE_WIDTH)]
        r8_0 = work[x + np.uint64(56 * TILE_WIDTH)]
        r8_1 = work[x + np.uint64(57 * TILE_WIDTH)]
        r8_2 = work[x + np.uint64(58 * TILE_WIDTH)]
        r8_3 = work[x + np.uint64(59 * TILE_WIDTH)]
        r8_4 = work[x + np.uint64(60 * TILE_WIDTH)]
        r8_5 = work[x + np.uint64(61 * TILE_WIDTH)]
        r8_6 = work[x + np.uint64(62 * TILE_WIDTH)]
        r9_0 = work[x + np.uint64(63 * TILE_WIDTH)]
        r9_1 = work[x + np.uint64(64 * TILE_WIDTH)]
        r9_2 = work[x + np.uint64(65 * TILE_WIDTH)]
        r9_3 = work[x + np.uint64(66 * TILE_WIDTH)]
        r9_4 = work[x + np.uint64(67 * TILE_WIDTH)]
        r9_5 = work[x + np.uint64(68 * TILE_WIDTH)]
        r9_6 = work[x + np.uint64(69 * TILE_WIDTH)]
        w1 = lo(r3_0, r4_0)
        w2 = hi(r3_0, r4_0)
        w3 = lo(r3_4, r4_4)
        w4 = hi(r3_4, r4_4)
        w5 = lo(w3, w2)
        w6 = hi(w3, w2)
        w7 = lo(r3_2, r4_2)
        w8 = hi(r3_2, r4_2)
        w9 = lo(r3_6, r4_6)
        w10 = hi(r3_6, r4_6)
        w11 = lo(w9, w8)
        w12 = hi(w9, w8)
        w13 = lo(w7, w5)
        w14 = hi(w7, w5)
        w15 = lo(w11, w6)
        w16 = hi(w11, w6)
        w17 = lo(w12, w4)
        w18 = hi(w12, w4)
        w19 = lo(r3_1, r4_1)
        w20 = hi(r3_1, r4_1)
        w21 = lo(r3_5, r4_5)
        w22 = hi(r3_5, r4_5)
        w23 = lo(w21, w20)
        w24 = hi(w21, w20)
        w25 = lo(r3_3, r4_3)
        w26 = hi(r3_3, r4_3)
        w27 = lo(w25, w23)
        w28 = hi(w25, w23)
        w29 = lo(w26, w24)
        w30 = hi(w26, w24)
        w31 = lo(w19, w13)
        w32 = hi(w19, w13)
        w33 = lo(w27, w14)
        w34 = hi(w27, w14)
        w35 = lo(w28, w15)
        w36 = hi(w28, w15)
        w37 = lo(w29, w16)
        w38 = hi(w29, w16)
        w39 = lo(w30, w17)
        w40 = hi(w30, w17)
        w41 = lo(w22, w18)
        w42 = hi(w22, w18)
        w43 = lo(r5_0, r6_0)
        w44 = hi(r5_0, r6_0)
        w45 = lo(r5_4, r6_4)
        w46 = hi(r5_4, r6_4)
        w47 = lo(w45, w44)
        w48 = hi(w45, w44)
        w49 = lo(r5_2, r6_2)
        w50 = hi(r5_2, r6_2)
        w51 = lo(r5_6, r6_6)
        w52 = hi(r5_6, r6_6)
        w53 = lo(w51, w50)
        w54 = hi(w51, w50)
        w55 = lo(w49, w47)
        w56 = hi(w49, w47)
        w57 = lo(w53, w48)
        w58 = hi(w53, w48)
        w59 = lo(w54, w46)
        w60 = hi(w54, w46)
        w61 = lo(r5_1, r6_1)
        w62 = hi(r5_1, r6_1)
        w63 = lo(r5_5, r6_5)
        w64 = hi(r5_5, r6_5)
        w65 = lo(w63, w62)
        w66 = hi(w63, w62)
        w67 = lo(r5_3, r6_3)
        w68 = hi(r5_3, r6_3)
        w69 = lo(w67, w65)
        w70 = hi(w67, w65)
        w71 = lo(w68, w66)
        w72 = hi(w68, w66)
        w73 = lo(w61, w55)
        w74 = hi(w61, w55)
        w75 = lo(w69, w56)
        w76 = hi(w69, w56)
        w77 = lo(w70, w57)
        w78 = hi(w70, w57)
        w79 = lo(w71, w58)
        w80 = hi(w71, w58)
        w81 = lo(w72, w59)
        w82 = hi(w72, w59)
        w83 = lo(w64, w60)
        w84 = hi(w64, w60)
        w85 = lo(w1, w43)
        w86 = hi(w1, w43)
        w87 = lo(w38, w80)
        w88 = hi(w38, w80)
        w89 = lo(w87, w86)
        w90 = hi(w87, w86)
        w91 = lo(w34, w76)
        w92 = hi(w34, w76)
        w93 = lo(w42, w84)
        w94 = hi(w42, w84)
        w95 = lo(w93, w92)
        w96 = hi(w93, w92)
        w97 = lo(w91, w89)
        w98 = hi(w91, w89)
        w99 = lo(w95, w90)
        w100 = hi(w95, w90)
        w101 = lo(w96, w88)
        w102 = hi(w96, w88)
        w103 = lo(w32, w74)
        w104 = hi(w32, w74)
        w105 = lo(w40, w82)
        w106 = hi(w40, w82)
        w107 = lo(w105, w104)
        w108 = hi(w105, w104)
        w109 = lo(w36, w78)
        w110 = hi(w36, w78)
        w111 = lo(w109, w107)
        w112 = hi(w109, w107)
        w113 = lo(w110, w108)
        w114 = hi(w110, w108)
        w115 = lo(w103, w97)
        w116 = hi(w103, w97)
        w117 = lo(w111, w98)
        w118 = hi(w111, w98)
        w119 = lo(w112, w99)
        w120 = hi(w112, w99)
        w121 = lo(w113, w100)
        w122 = hi(w113, w100)
        w123 = lo(w114, w101)
        w124 = hi(w114, w101)
        w125 = lo(w106, w102)
        w126 = hi(w106, w102)
        w127 = lo(w31, w73)
        w128 = hi(w31, w73)
        w129 = lo(w39, w81)
        w130 = hi(w39, w81)
        w131 = lo(w129, w128)
        w132 = hi(w129, w128)
        w133 = lo(w35, w77)
        w134 = hi(w35, w77)
        w135 = lo(w10, w52)
        w136 = hi(w10, w52)
        w137 = lo(w135, w134)
        w138 = hi(w135, w134)
        w139 = lo(w133, w131)
        w140 = hi(w133, w131)
        w141 = lo(w137, w132)
        w142 = hi(w137, w132)
        w143 = lo(w138, w130)
        w144 = hi(w138, w130)
        w145 = lo(w33, w75)
        w146 = hi(w33, w75)
        w147 = lo(w41, w83)
        w148 = hi(w41, w83)
        w149 = lo(w147, w146)
        w150 = hi(w147, w146)
        w151 = lo(w37, w79)
        w152 = hi(w37, w79)
        w153 = lo(w151, w149)
        w154 = hi(w151, w149)
        w155 = lo(w152, w150)
        w156 = hi(w152, w150)
        w157 = lo(w145, w139)
        w158 = hi(w145, w139)
        w159 = lo(w153, w140)
        w160 = hi(w153, w140)
        w161 = lo(w154, w141)
        w162 = hi(w154, w141)
        w163 = lo(w155, w142)
        w164 = hi(w155, w142)
        w165 = lo(w156, w143)
        w166 = hi(w156, w143)
        w167 = lo(w148, w144)
        w168 = hi(w148, w144)
        w169 = lo(w127, w115)
        w170 = hi(w127, w115)
        w171 = lo(w157, w116)
        w172 = hi(w157, w116)
        w173 = lo(w158, w117)
        w174 = hi(w158, w117)
        w175 = lo(w159, w118)
        w176 = hi(w159, w118)
        w177 = lo(w160, w119)
        w178 = hi(w160, w119)
        w179 = lo(w161, w120)
        w180 = hi(w161, w120)
        w181 = lo(w162, w121)
        w182 = hi(w162, w121)
        w183 = lo(w163, w122)
        w184 = hi(w163, w122)
        w185 = lo(w164, w123)
        w186 = hi(w164, w123)
        w187 = lo(w165, w124)
        w188 = hi(w165, w124)
        w189 = lo(w166, w125)
        w190 = hi(w166, w125)
        w191 = lo(w167, w126)
        w192 = hi(w167, w126)
        w193 = lo(w168, w94)
        w194 = hi(w168, w94)
        w195 = lo(r1_0, r2_0)
        w196 = hi(r1_0, r2_0)
        w197 = lo(r1_4, r2_4)
        w198 = hi(r1_4, r2_4)
        w199 = lo(w197, w196)
        w200 = hi(w197, w196)
        w201 = lo(r1_2, r2_2)
        w202 = hi(r1_2, r2_2)
        w203 = lo(r1_6, r2_6)
        w204 = hi(r1_6, r2_6)
        w205 = lo(w203, w202)
        w206 = hi(w203, w202)
        w207 = lo(w201, w199)
        w208 = hi(w201, w199)
        w209 = lo(w205, w200)
        w210 = hi(w205, w200)
        w211 = lo(w206, w198)
        w212 = hi(w206, w198)
        w213 = lo(r1_1, r2_1)
        w214 = hi(r1_1, r2_1)
        w215 = lo(r1_5, r2_5)
        w216 = hi(r1_5, r2_5)
        w217 = lo(w215, w214)
        w218 = hi(w215, w214)
        w219 = lo(r1_3, r2_3)
        w220 = hi(r1_3, r2_3)
        w221 = lo(w219, w217)
        w222 = hi(w219, w217)
        w223 = lo(w220, w218)
        w224 = hi(w220, w218)
        w225 = lo(w213, w207)
        w226 = hi(w213, w207)
        w227 = lo(w221, w208)
        w228 = hi(w221, w208)
        w229 = lo(w222, w209)
        w230 = hi(w222, w209)
        w231 = lo(w223, w210)
        w232 = hi(w223, w210)
        w233 = lo(w224, w211)
        w234 = hi(w224, w211)
        w235 = lo(w216, w212)
        w236 = hi(w216, w212)
        w237 = hi(w85, w195)
        w238 = hi(w184, w237)
        w239 = hi(w176, w232)
        w240 = lo(w192, w239)
        w241 = lo(w240, w238)
        w242 = hi(w172, w228)
        w243 = lo(w188, w242)
        w244 = lo(w180, w236)
        w245 = hi(w244, w243)
        w246 = lo(w245, w241)
        w247 = hi(w245, w241)
        w248 = hi(w170, w226)
        w249 = lo(w186, w248)
        w250 = hi(w186, w248)
        w251 = lo(w178, w234)
        w252 = hi(w178, w234)
        w253 = lo(w194, w252)
        w254 = hi(w251, w249)
        w255 = lo(w253, w250)
        w256 = hi(w174, w230)
        w257 = lo(w190, w256)
        w258 = lo(w182, w257)
        w259 = hi(w182, w257)
        w260 = hi(w258, w254)
        w261 = lo(w259, w255)
        w262 = lo(w260, w246)
        w263 = hi(w260, w246)
        w264 = lo(w261, w247)
        w265 = hi(w261, w247)
        w266 = hi(w169, w225)
        w267 = lo(w185, w266)
        w268 = hi(w185, w266)
        w269 = lo(w177, w233)
        w270 = hi(w177, w233)
        w271 = lo(w193, w270)
        w272 = hi(w269, w267)
        w273 = lo(w271, w268)
        w274 = hi(w173, w229)
        w275 = lo(w189, w274)
        w276 = lo(w181, w204)
        w277 = lo(w276, w275)
        w278 = hi(w276, w275)
        w279 = hi(w277, w272)
        w280 = lo(w278, w273)
        w281 = hi(w278, w273)
        w282 = hi(w171, w227)
        w283 = lo(w187, w282)
        w284 = hi(w187, w282)
        w285 = lo(w179, w235)
        w286 = hi(w179, w235)
        w287 = lo(w136, w286)
        w288 = hi(w285, w283)
        w289 = lo(w287, w284)
        w290 = hi(w175, w231)
        w291 = lo(w191, w290)
        w292 = lo(w183, w291)
        w293 = hi(w183, w291)
        w294 = lo(w292, w288)
        w295 = hi(w292, w288)
        w296 = lo(w293, w289)
        w297 = hi(w294, w279)
        w298 = lo(w295, w280)
        w299 = hi(w295, w280)
        w300 = lo(w296, w281)
        w301 = lo(w297, w262)
        w302 = hi(w297, w262)
        w303 = lo(w298, w263)
        w304 = hi(w298, w263)
        w305 = lo(w299, w264)
        w306 = hi(w299, w264)
        w307 = lo(w300, w265)
        w308 = hi(w300, w265)
        w309 = lo(r7_0, r8_0)
        w310 = hi(r7_0, r8_0)
        w311 = lo(r7_4, r8_4)
        w312 = hi(r7_4, r8_4)
        w313 = lo(w311, w310)
        w314 = hi(w311, w310)
        w315 = lo(r7_2, r8_2)
        w316 = hi(r7_2, r8_2)
        w317 = lo(r7_6, r8_6)
        w318 = hi(r7_6, r8_6)
        w319 = lo(w317, w316)
        w320 = hi(w317, w316)
        w321 = lo(w315, w313)
        w322 = hi(w315, w313)
        w323 = lo(w319, w314)
        w324 = hi(w319, w314)
        w325 = lo(w320, w312)
        w326 = hi(w320, w312)
        w327 = lo(r7_1, r8_1)
        w328 = hi(r7_1, r8_1)
        w329 = lo(r7_5, r8_5)
        w330 = hi(r7_5, r8_5)
        w331 = lo(w329, w328)
        w332 = hi(w329, w328)
        w333 = lo(r7_3, r8_3)
        w334 = hi(r7_3, r8_3)
        w335 = lo(w333, w331)
        w336 = hi(w333, w331)
        w337 = lo(w334, w332)
        w338 = hi(w334, w332)
        w339 = lo(w327, w321)
        w340 = hi(w327, w321)
        w341 = lo(w335, w322)
        w342 = hi(w335, w322)
        w343 = lo(w336, w323)
        w344 = hi(w336, w323)
        w345 = lo(w337, w324)
        w346 = hi(w337, w324)
        w347 = lo(w338, w325)
        w348 = hi(w338, w325)
        w349 = lo(w330, w326)
        w350 = hi(w330, w326)
        w351 = hi(w85, w309)
        w352 = hi(w184, w351)
        w353 = hi(w176, w346)
        w354 = lo(w192, w353)
        w355 = lo(w354, w352)
        w356 = hi(w172, w342)
        w357 = lo(w188, w356)
        w358 = lo(w180, w350)
        w359 = hi(w358, w357)
        w360 = lo(w359, w355)
        w361 = hi(w359, w355)
        w362 = hi(w170, w340)
        w363 = lo(w186, w362)
        w364 = hi(w186, w362)
        w365 = lo(w178, w348)
        w366 = hi(w178, w348)
        w367 = lo(w194, w366)
        w368 = hi(w365, w363)
        w369 = lo(w367, w364)
        w370 = hi(w174, w344)
        w371 = lo(w190, w370)
        w372 = lo(w182, w371)
        w373 = hi(w182, w371)
        w374 = hi(w372, w368)
        w375 = lo(w373, w369)
        w376 = lo(w374, w360)
        w377 = hi(w374, w360)
        w378 = lo(w375, w361)
        w379 = hi(w375, w361)
        w380 = hi(w169, w339)
        w381 = lo(w185, w380)
        w382 = hi(w185, w380)
        w383 = lo(w177, w347)
        w384 = hi(w177, w347)
        w385 = lo(w193, w384)
        w386 = hi(w383, w381)
        w387 = lo(w385, w382)
        w388 = hi(w173, w343)
        w389 = lo(w189, w388)
        w390 = lo(w181, w318)
        w391 = lo(w390, w389)
        w392 = hi(w390, w389)
        w393 = hi(w391, w386)
        w394 = lo(w392, w387)
        w395 = hi(w392, w387)
        w396 = hi(w171, w341)
        w397 = lo(w187, w396)
        w398 = hi(w187, w396)
        w399 = lo(w179, w349)
        w400 = hi(w179, w349)
        w401 = lo(w136, w400)
        w402 = hi(w399, w397)
        w403 = lo(w401, w398)
        w404 = hi(w175, w345)
        w405 = lo(w191, w404)
        w406 = lo(w183, w405)
        w407 = hi(w183, w405)
        w408 = lo(w406, w402)
        w409 = hi(w406, w402)
        w410 = lo(w407, w403)
        w411 = hi(w408, w393)
        w412 = lo(w409, w394)
        w413 = hi(w409, w394)
        w414 = lo(w410, w395)
        w415 = lo(w411, w376)
        w416 = hi(w411, w376)
        w417 = lo(w412, w377)
        w418 = hi(w412, w377)
        w419 = lo(w413, w378)
        w420 = hi(w413, w378)
        w421 = lo(w414, w379)
        w422 = hi(w414, w379)
        w423 = lo(w302, r0_6)
        w424 = lo(w303, r0_5)
        w425 = lo(w304, r0_4)
        w426 = lo(w305, r0_3)
        w427 = lo(w306, r0_2)
        w428 = lo(w307, r0_1)
        w429 = lo(w308, r0_0)
        w430 = hi(w301, w423)
        w431 = hi(w424, w425)
        w432 = hi(w426, w427)
        w433 = hi(w428, w429)
        w434 = hi(w430, w431)
        w435 = hi(w432, w433)
        w436 = hi(w434, w435)
        w437 = lo(w302, r7_6)
        w438 = lo(w303, r7_5)
        w439 = lo(w304, r7_4)
        w440 = lo(w305, r7_3)
        w441 = lo(w306, r7_2)
        w442 = lo(w307, r7_1)
        w443 = lo(w308, r7_0)
        w444 = hi(w301, w437)
        w445 = hi(w438, w439)
        w446 = hi(w440, w441)
        w447 = hi(w442, w443)
        w448 = hi(w444, w445)
        w449 = hi(w446, w447)
        w450 = hi(w448, w449)
        w451 = lo(w416, r2_6)
        w452 = lo(w417, r2_5)
        w453 = lo(w418, r2_4)
        w454 = lo(w419, r2_3)
        w455 = lo(w420, r2_2)
        w456 = lo(w421, r2_1)
        w457 = lo(w422, r2_0)
        w458 = hi(w415, w451)
        w459 = hi(w452, w453)
        w460 = hi(w454, w455)
        w461 = hi(w456, w457)
        w462 = hi(w458, w459)
        w463 = hi(w460, w461)
        w464 = hi(w462, w463)
        w465 = lo(w416, r9_6)
        w466 = lo(w417, r9_5)
        w467 = lo(w418, r9_4)
        w468 = lo(w419, r9_3)
        w469 = lo(w420, r9_2)
        w470 = lo(w421, r9_1)
        w471 = lo(w422, r9_0)
        w472 = hi(w415, w465)
        w473 = hi(w466, w467)
        w474 = hi(w468, w469)
        w475 = hi(w470, w471)
        w476 = hi(w472, w473)
        w477 = hi(w474, w475)
        w478 = hi(w476, w477)
        work[x + np.uint64(70 * TILE_WIDTH)] = w436
        work[x + np.uint64(71 * TILE_WIDTH)] = w450
        work[x + np.uint64(72 * TILE_WIDTH)] = w464
        work[x + np.uint64(73 * TILE_WIDTH)] = w478
