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
        p0, p2 = min(p0, p2), max(p0, p2)
        p0, p1 = min(p0, p1), max(p0, p1)
        p1, p2 = min(p1, p2), max(p1, p2)
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
        w1 = max(r1_0, r2_0)
        w2 = min(r1_2, r2_2)
        w3 = min(w2, w1)
        w4 = max(w2, w1)
        w5 = min(r1_1, r2_1)
        w6 = max(r1_1, r2_1)
        w7 = min(w5, w3)
        w8 = max(w5, w3)
        w9 = min(w6, w4)
        w10 = max(w6, w4)
        w11 = max(r3_0, r4_0)
        w12 = min(r3_2, r4_2)
        w13 = min(w12, w11)
        w14 = max(w12, w11)
        w15 = min(r3_1, r4_1)
        w16 = max(r3_1, r4_1)
        w17 = min(w15, w13)
        w18 = max(w15, w13)
        w19 = min(w16, w14)
        w20 = max(w16, w14)
        w21 = min(w8, r0_2)
        w22 = min(w9, r0_1)
        w23 = min(w10, r0_0)
        w24 = max(w7, w21)
        w25 = max(w22, w23)
        w26 = max(w24, w25)
        w27 = min(w8, r3_2)
        w28 = min(w9, r3_1)
        w29 = min(w10, r3_0)
        w30 = max(w7, w27)
        w31 = max(w28, w29)
        w32 = max(w30, w31)
        w33 = min(w18, r2_2)
        w34 = min(w19, r2_1)
        w35 = min(w20, r2_0)
        w36 = max(w17, w33)
        w37 = max(w34, w35)
        w38 = max(w36, w37)
        w39 = min(w18, r5_2)
        w40 = min(w19, r5_1)
        w41 = min(w20, r5_0)
        w42 = max(w17, w39)
        w43 = max(w40, w41)
        w44 = max(w42, w43)
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
        p0, p3 = min(p0, p3), max(p0, p3)
        p1, p4 = min(p1, p4), max(p1, p4)
        p0, p2 = min(p0, p2), max(p0, p2)
        p1, p3 = min(p1, p3), max(p1, p3)
        p0, p1 = min(p0, p1), max(p0, p1)
        p2, p4 = min(p2, p4), max(p2, p4)
        p1, p2 = min(p1, p2), max(p1, p2)
        p3, p4 = min(p3, p4), max(p3, p4)
        p2, p3 = min(p2, p3), max(p2, p3)
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
        w1 = min(r3_0, r4_0)
        w2 = max(r3_0, r4_0)
        w3 = min(r3_4, r4_4)
        w4 = max(r3_4, r4_4)
        w5 = min(w3, w2)
        w6 = max(w3, w2)
        w7 = min(r3_2, r4_2)
        w8 = max(r3_2, r4_2)
        w9 = min(w7, w5)
        w10 = max(w7, w5)
        w11 = min(w8, w6)
        w12 = max(w8, w6)
        w13 = min(r3_1, r4_1)
        w14 = max(r3_1, r4_1)
        w15 = min(r3_3, r4_3)
        w16 = max(r3_3, r4_3)
        w17 = min(w15, w14)
        w18 = max(w15, w14)
        w19 = min(w13, w9)
        w20 = max(w13, w9)
        w21 = min(w17, w10)
        w22 = max(w17, w10)
        w23 = min(w18, w11)
        w24 = max(w18, w11)
        w25 = min(w16, w12)
        w26 = max(w16, w12)
        w27 = min(r1_0, r2_0)
        w28 = max(r1_0, r2_0)
        w29 = min(r1_4, r2_4)
        w30 = max(r1_4, r2_4)
        w31 = min(w29, w28)
        w32 = max(w29, w28)
        w33 = min(r1_2, r2_2)
        w34 = max(r1_2, r2_2)
        w35 = min(w33, w31)
        w36 = max(w33, w31)
        w37 = min(w34, w32)
        w38 = max(w34, w32)
        w39 = min(r1_1, r2_1)
        w40 = max(r1_1, r2_1)
        w41 = min(r1_3, r2_3)
        w42 = max(r1_3, r2_3)
        w43 = min(w41, w40)
        w44 = max(w41, w40)
        w45 = min(w39, w35)
        w46 = max(w39, w35)
        w47 = min(w43, w36)
        w48 = max(w43, w36)
        w49 = min(w44, w37)
        w50 = max(w44, w37)
        w51 = min(w42, w38)
        w52 = max(w42, w38)
        w53 = max(w1, w27)
        w54 = min(w26, w52)
        w55 = min(w54, w53)
        w56 = max(w54, w53)
        w57 = min(w22, w48)
        w58 = max(w22, w48)
        w59 = max(w57, w55)
        w60 = min(w58, w56)
        w61 = max(w20, w46)
        w62 = min(w24, w50)
        w63 = min(w62, w61)
        w64 = max(w62, w61)
        w65 = max(w63, w59)
        w66 = min(w64, w60)
        w67 = max(w64, w60)
        w68 = max(w19, w45)
        w69 = min(w4, w30)
        w70 = min(w69, w68)
        w71 = max(w69, w68)
        w72 = min(w23, w49)
        w73 = max(w23, w49)
        w74 = max(w72, w70)
        w75 = min(w73, w71)
        w76 = max(w21, w47)
        w77 = min(w25, w51)
        w78 = min(w77, w76)
        w79 = max(w77, w76)
        w80 = min(w78, w74)
        w81 = max(w78, w74)
        w82 = min(w79, w75)
        w83 = min(w80, w65)
        w84 = max(w80, w65)
        w85 = min(w81, w66)
        w86 = max(w81, w66)
        w87 = min(w82, w67)
        w88 = max(w82, w67)
        w89 = min(r5_0, r6_0)
        w90 = max(r5_0, r6_0)
        w91 = min(r5_4, r6_4)
        w92 = max(r5_4, r6_4)
        w93 = min(w91, w90)
        w94 = max(w91, w90)
        w95 = min(r5_2, r6_2)
        w96 = max(r5_2, r6_2)
        w97 = min(w95, w93)
        w98 = max(w95, w93)
        w99 = min(w96, w94)
        w100 = max(w96, w94)
        w101 = min(r5_1, r6_1)
        w102 = max(r5_1, r6_1)
        w103 = min(r5_3, r6_3)
        w104 = max(r5_3, r6_3)
        w105 = min(w103, w102)
        w106 = max(w103, w102)
        w107 = min(w101, w97)
        w108 = max(w101, w97)
        w109 = min(w105, w98)
        w110 = max(w105, w98)
        w111 = min(w106, w99)
        w112 = max(w106, w99)
        w113 = min(w104, w100)
        w114 = max(w104, w100)
        w115 = max(w1, w89)
        w116 = min(w26, w114)
        w117 = min(w116, w115)
        w118 = max(w116, w115)
        w119 = min(w22, w110)
        w120 = max(w22, w110)
        w121 = max(w119, w117)
        w122 = min(w120, w118)
        w123 = max(w20, w108)
        w124 = min(w24, w112)
        w125 = min(w124, w123)
        w126 = max(w124, w123)
        w127 = max(w125, w121)
        w128 = min(w126, w122)
        w129 = max(w126, w122)
        w130 = max(w19, w107)
        w131 = min(w4, w92)
        w132 = min(w131, w130)
        w133 = max(w131, w130)
        w134 = min(w23, w111)
        w135 = max(w23, w111)
        w136 = max(w134, w132)
        w137 = min(w135, w133)
        w138 = max(w21, w109)
        w139 = min(w25, w113)
        w140 = min(w139, w138)
        w141 = max(w139, w138)
        w142 = min(w140, w136)
        w143 = max(w140, w136)
        w144 = min(w141, w137)
        w145 = min(w142, w127)
        w146 = max(w142, w127)
        w147 = min(w143, w128)
        w148 = max(w143, w128)
        w149 = min(w144, w129)
        w150 = max(w144, w129)
        w151 = min(w84, r0_4)
        w152 = min(w85, r0_3)
        w153 = min(w86, r0_2)
        w154 = min(w87, r0_1)
        w155 = min(w88, r0_0)
        w156 = max(w83, w151)
        w157 = max(w152, w153)
        w158 = max(w154, w155)
        w159 = max(w156, w157)
        w160 = max(w159, w158)
        w161 = min(w84, r5_4)
        w162 = min(w85, r5_3)
        w163 = min(w86, r5_2)
        w164 = min(w87, r5_1)
        w165 = min(w88, r5_0)
        w166 = max(w83, w161)
        w167 = max(w162, w163)
        w168 = max(w164, w165)
        w169 = max(w166, w167)
        w170 = max(w169, w168)
        w171 = min(w146, r2_4)
        w172 = min(w147, r2_3)
        w173 = min(w148, r2_2)
        w174 = min(w149, r2_1)
        w175 = min(w150, r2_0)
        w176 = max(w145, w171)
        w177 = max(w172, w173)
        w178 = max(w174, w175)
        w179 = max(w176, w177)
        w180 = max(w179, w178)
        w181 = min(w146, r7_4)
        w182 = min(w147, r7_3)
        w183 = min(w148, r7_2)
        w184 = min(w149, r7_1)
        w185 = min(w150, r7_0)
        w186 = max(w145, w181)
        w187 = max(w182, w183)
        w188 = max(w184, w185)
        w189 = max(w186, w187)
        w190 = max(w189, w188)
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
        p0, p6 = min(p0, p6), max(p0, p6)
        p2, p3 = min(p2, p3), max(p2, p3)
        p4, p5 = min(p4, p5), max(p4, p5)
        p0, p2 = min(p0, p2), max(p0, p2)
        p1, p4 = min(p1, p4), max(p1, p4)
        p3, p6 = min(p3, p6), max(p3, p6)
        p0, p1 = min(p0, p1), max(p0, p1)
        p2, p5 = min(p2, p5), max(p2, p5)
        p3, p4 = min(p3, p4), max(p3, p4)
        p1, p2 = min(p1, p2), max(p1, p2)
        p4, p6 = min(p4, p6), max(p4, p6)
        p2, p3 = min(p2, p3), max(p2, p3)
        p4, p5 = min(p4, p5), max(p4, p5)
        p1, p2 = min(p1, p2), max(p1, p2)
        p3, p4 = min(p3, p4), max(p3, p4)
        p5, p6 = min(p5, p6), max(p5, p6)
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
        w1 = min(r3_0, r4_0)
        w2 = max(r3_0, r4_0)
        w3 = min(r3_4, r4_4)
        w4 = max(r3_4, r4_4)
        w5 = min(w3, w2)
        w6 = max(w3, w2)
        w7 = min(r3_2, r4_2)
        w8 = max(r3_2, r4_2)
        w9 = min(r3_6, r4_6)
        w10 = max(r3_6, r4_6)
        w11 = min(w9, w8)
        w12 = max(w9, w8)
        w13 = min(w7, w5)
        w14 = max(w7, w5)
        w15 = min(w11, w6)
        w16 = max(w11, w6)
        w17 = min(w12, w4)
        w18 = max(w12, w4)
        w19 = min(r3_1, r4_1)
        w20 = max(r3_1, r4_1)
        w21 = min(r3_5, r4_5)
        w22 = max(r3_5, r4_5)
        w23 = min(w21, w20)
        w24 = max(w21, w20)
        w25 = min(r3_3, r4_3)
        w26 = max(r3_3, r4_3)
        w27 = min(w25, w23)
        w28 = max(w25, w23)
        w29 = min(w26, w24)
        w30 = max(w26, w24)
        w31 = min(w19, w13)
        w32 = max(w19, w13)
        w33 = min(w27, w14)
        w34 = max(w27, w14)
        w35 = min(w28, w15)
        w36 = max(w28, w15)
        w37 = min(w29, w16)
        w38 = max(w29, w16)
        w39 = min(w30, w17)
        w40 = max(w30, w17)
        w41 = min(w22, w18)
        w42 = max(w22, w18)
        w43 = min(r5_0, r6_0)
        w44 = max(r5_0, r6_0)
        w45 = min(r5_4, r6_4)
        w46 = max(r5_4, r6_4)
        w47 = min(w45, w44)
        w48 = max(w45, w44)
        w49 = min(r5_2, r6_2)
        w50 = max(r5_2, r6_2)
        w51 = min(r5_6, r6_6)
        w52 = max(r5_6, r6_6)
        w53 = min(w51, w50)
        w54 = max(w51, w50)
        w55 = min(w49, w47)
        w56 = max(w49, w47)
        w57 = min(w53, w48)
        w58 = max(w53, w48)
        w59 = min(w54, w46)
        w60 = max(w54, w46)
        w61 = min(r5_1, r6_1)
        w62 = max(r5_1, r6_1)
        w63 = min(r5_5, r6_5)
        w64 = max(r5_5, r6_5)
        w65 = min(w63, w62)
        w66 = max(w63, w62)
        w67 = min(r5_3, r6_3)
        w68 = max(r5_3, r6_3)
        w69 = min(w67, w65)
        w70 = max(w67, w65)
        w71 = min(w68, w66)
        w72 = max(w68, w66)
        w73 = min(w61, w55)
        w74 = max(w61, w55)
        w75 = min(w69, w56)
        w76 = max(w69, w56)
        w77 = min(w70, w57)
        w78 = max(w70, w57)
        w79 = min(w71, w58)
        w80 = max(w71, w58)
        w81 = min(w72, w59)
        w82 = max(w72, w59)
        w83 = min(w64, w60)
        w84 = max(w64, w60)
        w85 = min(w1, w43)
        w86 = max(w1, w43)
        w87 = min(w38, w80)
        w88 = max(w38, w80)
        w89 = min(w87, w86)
        w90 = max(w87, w86)
        w91 = min(w34, w76)
        w92 = max(w34, w76)
        w93 = min(w42, w84)
        w94 = max(w42, w84)
        w95 = min(w93, w92)
        w96 = max(w93, w92)
        w97 = min(w91, w89)
        w98 = max(w91, w89)
        w99 = min(w95, w90)
        w100 = max(w95, w90)
        w101 = min(w96, w88)
        w102 = max(w96, w88)
        w103 = min(w32, w74)
        w104 = max(w32, w74)
        w105 = min(w40, w82)
        w106 = max(w40, w82)
        w107 = min(w105, w104)
        w108 = max(w105, w104)
        w109 = min(w36, w78)
        w110 = max(w36, w78)
        w111 = min(w109, w107)
        w112 = max(w109, w107)
        w113 = min(w110, w108)
        w114 = max(w110, w108)
        w115 = min(w103, w97)
        w116 = max(w103, w97)
        w117 = min(w111, w98)
        w118 = max(w111, w98)
        w119 = min(w112, w99)
        w120 = max(w112, w99)
        w121 = min(w113, w100)
        w122 = max(w113, w100)
        w123 = min(w114, w101)
        w124 = max(w114, w101)
        w125 = min(w106, w102)
        w126 = max(w106, w102)
        w127 = min(w31, w73)
        w128 = max(w31, w73)
        w129 = min(w39, w81)
        w130 = max(w39, w81)
        w131 = min(w129, w128)
        w132 = max(w129, w128)
        w133 = min(w35, w77)
        w134 = max(w35, w77)
        w135 = min(w10, w52)
        w136 = max(w10, w52)
        w137 = min(w135, w134)
        w138 = max(w135, w134)
        w139 = min(w133, w131)
        w140 = max(w133, w131)
        w141 = min(w137, w132)
        w142 = max(w137, w132)
        w143 = min(w138, w130)
        w144 = max(w138, w130)
        w145 = min(w33, w75)
        w146 = max(w33, w75)
        w147 = min(w41, w83)
        w148 = max(w41, w83)
        w149 = min(w147, w146)
        w150 = max(w147, w146)
        w151 = min(w37, w79)
        w152 = max(w37, w79)
        w153 = min(w151, w149)
        w154 = max(w151, w149)
        w155 = min(w152, w150)
        w156 = max(w152, w150)
        w157 = min(w145, w139)
        w158 = max(w145, w139)
        w159 = min(w153, w140)
        w160 = max(w153, w140)
        w161 = min(w154, w141)
        w162 = max(w154, w141)
        w163 = min(w155, w142)
        w164 = max(w155, w142)
        w165 = min(w156, w143)
        w166 = max(w156, w143)
        w167 = min(w148, w144)
        w168 = max(w148, w144)
        w169 = min(w127, w115)
        w170 = max(w127, w115)
        w171 = min(w157, w116)
        w172 = max(w157, w116)
        w173 = min(w158, w117)
        w174 = max(w158, w117)
        w175 = min(w159, w118)
        w176 = max(w159, w118)
        w177 = min(w160, w119)
        w178 = max(w160, w119)
        w179 = min(w161, w120)
        w180 = max(w161, w120)
        w181 = min(w162, w121)
        w182 = max(w162, w121)
        w183 = min(w163, w122)
        w184 = max(w163, w122)
        w185 = min(w164, w123)
        w186 = max(w164, w123)
        w187 = min(w165, w124)
        w188 = max(w165, w124)
        w189 = min(w166, w125)
        w190 = max(w166, w125)
        w191 = min(w167, w126)
        w192 = max(w167, w126)
        w193 = min(w168, w94)
        w194 = max(w168, w94)
        w195 = min(r1_0, r2_0)
        w196 = max(r1_0, r2_0)
        w197 = min(r1_4, r2_4)
        w198 = max(r1_4, r2_4)
        w199 = min(w197, w196)
        w200 = max(w197, w196)
        w201 = min(r1_2, r2_2)
        w202 = max(r1_2, r2_2)
        w203 = min(r1_6, r2_6)
        w204 = max(r1_6, r2_6)
        w205 = min(w203, w202)
        w206 = max(w203, w202)
        w207 = min(w201, w199)
        w208 = max(w201, w199)
        w209 = min(w205, w200)
        w210 = max(w205, w200)
        w211 = min(w206, w198)
        w212 = max(w206, w198)
        w213 = min(r1_1, r2_1)
        w214 = max(r1_1, r2_1)
        w215 = min(r1_5, r2_5)
        w216 = max(r1_5, r2_5)
        w217 = min(w215, w214)
        w218 = max(w215, w214)
        w219 = min(r1_3, r2_3)
        w220 = max(r1_3, r2_3)
        w221 = min(w219, w217)
        w222 = max(w219, w217)
        w223 = min(w220, w218)
        w224 = max(w220, w218)
        w225 = min(w213, w207)
        w226 = max(w213, w207)
        w227 = min(w221, w208)
        w228 = max(w221, w208)
        w229 = min(w222, w209)
        w230 = max(w222, w209)
        w231 = min(w223, w210)
        w232 = max(w223, w210)
        w233 = min(w224, w211)
        w234 = max(w224, w211)
        w235 = min(w216, w212)
        w236 = max(w216, w212)
        w237 = max(w85, w195)
        w238 = max(w184, w237)
        w239 = max(w176, w232)
        w240 = min(w192, w239)
        w241 = min(w240, w238)
        w242 = max(w172, w228)
        w243 = min(w188, w242)
        w244 = min(w180, w236)
        w245 = max(w244, w243)
        w246 = min(w245, w241)
        w247 = max(w245, w241)
        w248 = max(w170, w226)
        w249 = min(w186, w248)
        w250 = max(w186, w248)
        w251 = min(w178, w234)
        w252 = max(w178, w234)
        w253 = min(w194, w252)
        w254 = max(w251, w249)
        w255 = min(w253, w250)
        w256 = max(w174, w230)
        w257 = min(w190, w256)
        w258 = min(w182, w257)
        w259 = max(w182, w257)
        w260 = max(w258, w254)
        w261 = min(w259, w255)
        w262 = min(w260, w246)
        w263 = max(w260, w246)
        w264 = min(w261, w247)
        w265 = max(w261, w247)
        w266 = max(w169, w225)
        w267 = min(w185, w266)
        w268 = max(w185, w266)
        w269 = min(w177, w233)
        w270 = max(w177, w233)
        w271 = min(w193, w270)
        w272 = max(w269, w267)
        w273 = min(w271, w268)
        w274 = max(w173, w229)
        w275 = min(w189, w274)
        w276 = min(w181, w204)
        w277 = min(w276, w275)
        w278 = max(w276, w275)
        w279 = max(w277, w272)
        w280 = min(w278, w273)
        w281 = max(w278, w273)
        w282 = max(w171, w227)
        w283 = min(w187, w282)
        w284 = max(w187, w282)
        w285 = min(w179, w235)
        w286 = max(w179, w235)
        w287 = min(w136, w286)
        w288 = max(w285, w283)
        w289 = min(w287, w284)
        w290 = max(w175, w231)
        w291 = min(w191, w290)
        w292 = min(w183, w291)
        w293 = max(w183, w291)
        w294 = min(w292, w288)
        w295 = max(w292, w288)
        w296 = min(w293, w289)
        w297 = max(w294, w279)
        w298 = min(w295, w280)
        w299 = max(w295, w280)
        w300 = min(w296, w281)
        w301 = min(w297, w262)
        w302 = max(w297, w262)
        w303 = min(w298, w263)
        w304 = max(w298, w263)
        w305 = min(w299, w264)
        w306 = max(w299, w264)
        w307 = min(w300, w265)
        w308 = max(w300, w265)
        w309 = min(r7_0, r8_0)
        w310 = max(r7_0, r8_0)
        w311 = min(r7_4, r8_4)
        w312 = max(r7_4, r8_4)
        w313 = min(w311, w310)
        w314 = max(w311, w310)
        w315 = min(r7_2, r8_2)
        w316 = max(r7_2, r8_2)
        w317 = min(r7_6, r8_6)
        w318 = max(r7_6, r8_6)
        w319 = min(w317, w316)
        w320 = max(w317, w316)
        w321 = min(w315, w313)
        w322 = max(w315, w313)
        w323 = min(w319, w314)
        w324 = max(w319, w314)
        w325 = min(w320, w312)
        w326 = max(w320, w312)
        w327 = min(r7_1, r8_1)
        w328 = max(r7_1, r8_1)
        w329 = min(r7_5, r8_5)
        w330 = max(r7_5, r8_5)
        w331 = min(w329, w328)
        w332 = max(w329, w328)
        w333 = min(r7_3, r8_3)
        w334 = max(r7_3, r8_3)
        w335 = min(w333, w331)
        w336 = max(w333, w331)
        w337 = min(w334, w332)
        w338 = max(w334, w332)
        w339 = min(w327, w321)
        w340 = max(w327, w321)
        w341 = min(w335, w322)
        w342 = max(w335, w322)
        w343 = min(w336, w323)
        w344 = max(w336, w323)
        w345 = min(w337, w324)
        w346 = max(w337, w324)
        w347 = min(w338, w325)
        w348 = max(w338, w325)
        w349 = min(w330, w326)
        w350 = max(w330, w326)
        w351 = max(w85, w309)
        w352 = max(w184, w351)
        w353 = max(w176, w346)
        w354 = min(w192, w353)
        w355 = min(w354, w352)
        w356 = max(w172, w342)
        w357 = min(w188, w356)
        w358 = min(w180, w350)
        w359 = max(w358, w357)
        w360 = min(w359, w355)
        w361 = max(w359, w355)
        w362 = max(w170, w340)
        w363 = min(w186, w362)
        w364 = max(w186, w362)
        w365 = min(w178, w348)
        w366 = max(w178, w348)
        w367 = min(w194, w366)
        w368 = max(w365, w363)
        w369 = min(w367, w364)
        w370 = max(w174, w344)
        w371 = min(w190, w370)
        w372 = min(w182, w371)
        w373 = max(w182, w371)
        w374 = max(w372, w368)
        w375 = min(w373, w369)
        w376 = min(w374, w360)
        w377 = max(w374, w360)
        w378 = min(w375, w361)
        w379 = max(w375, w361)
        w380 = max(w169, w339)
        w381 = min(w185, w380)
        w382 = max(w185, w380)
        w383 = min(w177, w347)
        w384 = max(w177, w347)
        w385 = min(w193, w384)
        w386 = max(w383, w381)
        w387 = min(w385, w382)
        w388 = max(w173, w343)
        w389 = min(w189, w388)
        w390 = min(w181, w318)
        w391 = min(w390, w389)
        w392 = max(w390, w389)
        w393 = max(w391, w386)
        w394 = min(w392, w387)
        w395 = max(w392, w387)
        w396 = max(w171, w341)
        w397 = min(w187, w396)
        w398 = max(w187, w396)
        w399 = min(w179, w349)
        w400 = max(w179, w349)
        w401 = min(w136, w400)
        w402 = max(w399, w397)
        w403 = min(w401, w398)
        w404 = max(w175, w345)
        w405 = min(w191, w404)
        w406 = min(w183, w405)
        w407 = max(w183, w405)
        w408 = min(w406, w402)
        w409 = max(w406, w402)
        w410 = min(w407, w403)
        w411 = max(w408, w393)
        w412 = min(w409, w394)
        w413 = max(w409, w394)
        w414 = min(w410, w395)
        w415 = min(w411, w376)
        w416 = max(w411, w376)
        w417 = min(w412, w377)
        w418 = max(w412, w377)
        w419 = min(w413, w378)
        w420 = max(w413, w378)
        w421 = min(w414, w379)
        w422 = max(w414, w379)
        w423 = min(w302, r0_6)
        w424 = min(w303, r0_5)
        w425 = min(w304, r0_4)
        w426 = min(w305, r0_3)
        w427 = min(w306, r0_2)
        w428 = min(w307, r0_1)
        w429 = min(w308, r0_0)
        w430 = max(w301, w423)
        w431 = max(w424, w425)
        w432 = max(w426, w427)
        w433 = max(w428, w429)
        w434 = max(w430, w431)
        w435 = max(w432, w433)
        w436 = max(w434, w435)
        w437 = min(w302, r7_6)
        w438 = min(w303, r7_5)
        w439 = min(w304, r7_4)
        w440 = min(w305, r7_3)
        w441 = min(w306, r7_2)
        w442 = min(w307, r7_1)
        w443 = min(w308, r7_0)
        w444 = max(w301, w437)
        w445 = max(w438, w439)
        w446 = max(w440, w441)
        w447 = max(w442, w443)
        w448 = max(w444, w445)
        w449 = max(w446, w447)
        w450 = max(w448, w449)
        w451 = min(w416, r2_6)
        w452 = min(w417, r2_5)
        w453 = min(w418, r2_4)
        w454 = min(w419, r2_3)
        w455 = min(w420, r2_2)
        w456 = min(w421, r2_1)
        w457 = min(w422, r2_0)
        w458 = max(w415, w451)
        w459 = max(w452, w453)
        w460 = max(w454, w455)
        w461 = max(w456, w457)
        w462 = max(w458, w459)
        w463 = max(w460, w461)
        w464 = max(w462, w463)
        w465 = min(w416, r9_6)
        w466 = min(w417, r9_5)
        w467 = min(w418, r9_4)
        w468 = min(w419, r9_3)
        w469 = min(w420, r9_2)
        w470 = min(w421, r9_1)
        w471 = min(w422, r9_0)
        w472 = max(w415, w465)
        w473 = max(w466, w467)
        w474 = max(w468, w469)
        w475 = max(w470, w471)
        w476 = max(w472, w473)
        w477 = max(w474, w475)
        w478 = max(w476, w477)
        work[x + np.uint64(70 * TILE_WIDTH)] = w436
        work[x + np.uint64(71 * TILE_WIDTH)] = w450
        work[x + np.uint64(72 * TILE_WIDTH)] = w464
        work[x + np.uint64(73 * TILE_WIDTH)] = w478
