"""Numba kernels of the exact neighbour-median deviation over a whole plane (7 x 7 block).

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
   needs ~120).

The network kernel covers interior pixels only (the whole block inside the image), so it
reads the image directly, without index maps or padding; :func:`border_neighbour_deviation`
fills the 3-pixel frame of clipped blocks per pixel (by selection). Both compute the same
float64 expression as the per-pixel kernel
:func:`fastdefect.kernels.detect.neighbour_deviation`, ``v - 0.5 * (low + high)``, so
they agree bit for bit. Inputs: uint16, uint32 or uint64 (widen uint8 first).

Also here, for ``deviation_outliers``' switch to this path: :func:`deviation_beyond`
(threshold a full deviation image without big temporaries).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The 7-wide row-window sort is the median filter's (same network, same work-buffer
# layout), so the tile width is the median filter's too: the generated code addresses
# the work buffer in multiples of it. 64 and 128 measure the same here on uint16 and
# uint32 (32 is slower).
from ._threads import run_split
from .median import TILE_WIDTH, _select, _sort_windows_7

#: Output rows computed together by one network pass.
ROWS_PER_STEP = 4

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
                _sort_windows_7(image[first + d], start, work, slot, n)
            for y in range(first, stop, ROWS_PER_STEP):
                for d in range(SIZE - 1, _RING_ROWS):
                    # Rows past the end only feed outputs that are never stored.
                    row = min(y + d, height - 1)
                    _sort_windows_7(image[row], start, work, np.uint64(d * SIZE * TILE_WIDTH), n)
                _tile_ranks_7(work, n)
                for t in range(min(ROWS_PER_STEP, stop - y)):
                    offset = np.uint64(first_output + 3 * t * TILE_WIDTH)
                    centre = start + np.uint64(RADIUS)
                    _finish_row(image[y + t + RADIUS], work, offset, out[y + t + RADIUS], centre, n)
                # Slide the ring: sorted rows ROWS_PER_STEP.. move to the front.
                _move_down(work, np.uint64(shift), np.uint64(kept))


def border_neighbour_deviation(image, out):
    """``v - median(neighbours)`` for every pixel within 3 of an edge (clipped blocks).

    That is every pixel of an image less than 7 high or wide. Each pixel gathers its
    neighbours and selects the middle one(s) (Wirth's selection, correct with ties):
    the same values as sorting them, as float64 conversion keeps the order, and the same
    float64 expression as :func:`fastdefect.kernels.detect.neighbour_deviation`. A pixel
    with no neighbours (a 1 x 1 image) has deviation 0.
    """
    run_split(_border_rows, image.shape[0], image, out)
    return out


@njit(cache=True, nogil=True)
def _border_rows(image, out, first_row, stop_row):
    height, width = image.shape
    for row in range(first_row, stop_row):
        buffer = np.empty(SIZE * SIZE, dtype=image.dtype)
        edge_row = row < RADIUS or row >= height - RADIUS
        top = max(row - RADIUS, 0)
        bottom = min(row + RADIUS + 1, height)
        for i in range(width if edge_row else 2 * RADIUS):
            # Other rows: the first and last RADIUS columns only, each once (they
            # overlap, or lie partly outside, in an image less than 2 * RADIUS wide).
            column = i if edge_row or i < RADIUS else width - 2 * RADIUS + i
            if column >= width or (column < RADIUS and i >= RADIUS):
                continue
            count = 0
            for r in range(top, bottom):
                for c in range(max(column - RADIUS, 0), min(column + RADIUS + 1, width)):
                    if r != row or c != column:
                        buffer[count] = image[r, c]
                        count += 1
            value = np.float64(image[row, column])
            if count == 0:
                out[row, column] = 0.0
                continue
            values = buffer[:count]
            half = count // 2
            middle = np.float64(_select(values, half))
            if count % 2 == 1:
                out[row, column] = value - middle
            else:
                # _select leaves values[:half] <= values[half]: the other middle one is
                # their largest.
                below = values[0]
                for i in range(1, half):
                    below = max(below, values[i])
                out[row, column] = value - 0.5 * (np.float64(below) + middle)


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


@njit(cache=True, nogil=True)
def _move_down(work, shift, count):
    for i in range(count):
        work[i] = work[i + shift]


# ---------------------------------------------------------------------------------------
# Generated networks: do not edit by hand. Regenerate with
#     python tests/test_deviation_full.py --write
# (tests/test_deviation_full.py checks that this section is what its generator produces,
# and verifies the networks exhaustively with the 0-1 principle).
#
# (_sort_windows_7, the row-window sort, comes from kernels/median.py.)
# _tile_ranks_7(work, n): rank k of sorted row d at work[(d * 7 + k) * TILE_WIDTH + x],
#     d = 0 .. 9; ranks 23, 24, 25 (0-based) of the 7 x 7 block of rows t .. t + 6 ->
#     work[(70 + 3 * t + i) * TILE_WIDTH + x], i = 0, 1, 2.
# ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _tile_ranks_7(work, n):
    """Ranks 23, 24, 25 of 4 vertically adjacent 7 x 7 windows, 138.5 min/max each."""
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
        w238 = min(w184, w237)
        w239 = max(w184, w237)
        w240 = min(w176, w232)
        w241 = max(w176, w232)
        w242 = min(w192, w241)
        w243 = max(w240, w238)
        w244 = min(w242, w239)
        w245 = max(w242, w239)
        w246 = max(w172, w228)
        w247 = min(w188, w246)
        w248 = max(w188, w246)
        w249 = min(w180, w236)
        w250 = max(w180, w236)
        w251 = min(w249, w247)
        w252 = max(w249, w247)
        w253 = min(w250, w248)
        w254 = max(w251, w243)
        w255 = min(w252, w244)
        w256 = max(w252, w244)
        w257 = min(w253, w245)
        w258 = max(w170, w226)
        w259 = min(w186, w258)
        w260 = max(w186, w258)
        w261 = min(w178, w234)
        w262 = max(w178, w234)
        w263 = min(w194, w262)
        w264 = max(w261, w259)
        w265 = min(w263, w260)
        w266 = max(w174, w230)
        w267 = min(w190, w266)
        w268 = min(w182, w267)
        w269 = max(w182, w267)
        w270 = min(w268, w264)
        w271 = max(w268, w264)
        w272 = min(w269, w265)
        w273 = max(w269, w265)
        w274 = max(w270, w254)
        w275 = min(w271, w255)
        w276 = max(w271, w255)
        w277 = min(w272, w256)
        w278 = max(w272, w256)
        w279 = min(w273, w257)
        w280 = max(w169, w225)
        w281 = min(w185, w280)
        w282 = max(w185, w280)
        w283 = min(w177, w233)
        w284 = max(w177, w233)
        w285 = min(w193, w284)
        w286 = max(w283, w281)
        w287 = min(w285, w282)
        w288 = max(w173, w229)
        w289 = min(w189, w288)
        w290 = min(w181, w204)
        w291 = min(w290, w289)
        w292 = max(w290, w289)
        w293 = max(w291, w286)
        w294 = min(w292, w287)
        w295 = max(w292, w287)
        w296 = max(w171, w227)
        w297 = min(w187, w296)
        w298 = max(w187, w296)
        w299 = min(w179, w235)
        w300 = max(w179, w235)
        w301 = min(w136, w300)
        w302 = max(w299, w297)
        w303 = min(w301, w298)
        w304 = max(w175, w231)
        w305 = min(w191, w304)
        w306 = min(w183, w305)
        w307 = max(w183, w305)
        w308 = min(w306, w302)
        w309 = max(w306, w302)
        w310 = min(w307, w303)
        w311 = min(w308, w293)
        w312 = max(w308, w293)
        w313 = min(w309, w294)
        w314 = max(w309, w294)
        w315 = min(w310, w295)
        w316 = max(w310, w295)
        w317 = max(w311, w274)
        w318 = min(w312, w275)
        w319 = max(w312, w275)
        w320 = min(w313, w276)
        w321 = max(w313, w276)
        w322 = min(w314, w277)
        w323 = max(w314, w277)
        w324 = min(w315, w278)
        w325 = max(w315, w278)
        w326 = min(w316, w279)
        w327 = min(r7_0, r8_0)
        w328 = max(r7_0, r8_0)
        w329 = min(r7_4, r8_4)
        w330 = max(r7_4, r8_4)
        w331 = min(w329, w328)
        w332 = max(w329, w328)
        w333 = min(r7_2, r8_2)
        w334 = max(r7_2, r8_2)
        w335 = min(r7_6, r8_6)
        w336 = max(r7_6, r8_6)
        w337 = min(w335, w334)
        w338 = max(w335, w334)
        w339 = min(w333, w331)
        w340 = max(w333, w331)
        w341 = min(w337, w332)
        w342 = max(w337, w332)
        w343 = min(w338, w330)
        w344 = max(w338, w330)
        w345 = min(r7_1, r8_1)
        w346 = max(r7_1, r8_1)
        w347 = min(r7_5, r8_5)
        w348 = max(r7_5, r8_5)
        w349 = min(w347, w346)
        w350 = max(w347, w346)
        w351 = min(r7_3, r8_3)
        w352 = max(r7_3, r8_3)
        w353 = min(w351, w349)
        w354 = max(w351, w349)
        w355 = min(w352, w350)
        w356 = max(w352, w350)
        w357 = min(w345, w339)
        w358 = max(w345, w339)
        w359 = min(w353, w340)
        w360 = max(w353, w340)
        w361 = min(w354, w341)
        w362 = max(w354, w341)
        w363 = min(w355, w342)
        w364 = max(w355, w342)
        w365 = min(w356, w343)
        w366 = max(w356, w343)
        w367 = min(w348, w344)
        w368 = max(w348, w344)
        w369 = max(w85, w327)
        w370 = min(w184, w369)
        w371 = max(w184, w369)
        w372 = min(w176, w364)
        w373 = max(w176, w364)
        w374 = min(w192, w373)
        w375 = max(w372, w370)
        w376 = min(w374, w371)
        w377 = max(w374, w371)
        w378 = max(w172, w360)
        w379 = min(w188, w378)
        w380 = max(w188, w378)
        w381 = min(w180, w368)
        w382 = max(w180, w368)
        w383 = min(w381, w379)
        w384 = max(w381, w379)
        w385 = min(w382, w380)
        w386 = max(w383, w375)
        w387 = min(w384, w376)
        w388 = max(w384, w376)
        w389 = min(w385, w377)
        w390 = max(w170, w358)
        w391 = min(w186, w390)
        w392 = max(w186, w390)
        w393 = min(w178, w366)
        w394 = max(w178, w366)
        w395 = min(w194, w394)
        w396 = max(w393, w391)
        w397 = min(w395, w392)
        w398 = max(w174, w362)
        w399 = min(w190, w398)
        w400 = min(w182, w399)
        w401 = max(w182, w399)
        w402 = min(w400, w396)
        w403 = max(w400, w396)
        w404 = min(w401, w397)
        w405 = max(w401, w397)
        w406 = max(w402, w386)
        w407 = min(w403, w387)
        w408 = max(w403, w387)
        w409 = min(w404, w388)
        w410 = max(w404, w388)
        w411 = min(w405, w389)
        w412 = max(w169, w357)
        w413 = min(w185, w412)
        w414 = max(w185, w412)
        w415 = min(w177, w365)
        w416 = max(w177, w365)
        w417 = min(w193, w416)
        w418 = max(w415, w413)
        w419 = min(w417, w414)
        w420 = max(w173, w361)
        w421 = min(w189, w420)
        w422 = min(w181, w336)
        w423 = min(w422, w421)
        w424 = max(w422, w421)
        w425 = max(w423, w418)
        w426 = min(w424, w419)
        w427 = max(w424, w419)
        w428 = max(w171, w359)
        w429 = min(w187, w428)
        w430 = max(w187, w428)
        w431 = min(w179, w367)
        w432 = max(w179, w367)
        w433 = min(w136, w432)
        w434 = max(w431, w429)
        w435 = min(w433, w430)
        w436 = max(w175, w363)
        w437 = min(w191, w436)
        w438 = min(w183, w437)
        w439 = max(w183, w437)
        w440 = min(w438, w434)
        w441 = max(w438, w434)
        w442 = min(w439, w435)
        w443 = min(w440, w425)
        w444 = max(w440, w425)
        w445 = min(w441, w426)
        w446 = max(w441, w426)
        w447 = min(w442, w427)
        w448 = max(w442, w427)
        w449 = max(w443, w406)
        w450 = min(w444, w407)
        w451 = max(w444, w407)
        w452 = min(w445, w408)
        w453 = max(w445, w408)
        w454 = min(w446, w409)
        w455 = max(w446, w409)
        w456 = min(w447, w410)
        w457 = max(w447, w410)
        w458 = min(w448, w411)
        w459 = max(w317, r0_0)
        w460 = min(w325, w459)
        w461 = max(w325, w459)
        w462 = min(w321, r0_4)
        w463 = max(w321, r0_4)
        w464 = max(w462, w460)
        w465 = min(w463, w461)
        w466 = max(w319, r0_2)
        w467 = min(w323, r0_6)
        w468 = min(w467, w466)
        w469 = max(w467, w466)
        w470 = max(w468, w464)
        w471 = min(w469, w465)
        w472 = max(w318, r0_1)
        w473 = min(w326, w472)
        w474 = min(w322, r0_5)
        w475 = max(w474, w473)
        w476 = max(w320, r0_3)
        w477 = min(w324, w476)
        w478 = min(w477, w475)
        w479 = max(w477, w475)
        w480 = min(w478, w470)
        w481 = max(w478, w470)
        w482 = min(w479, w471)
        w483 = max(w317, r7_0)
        w484 = min(w325, w483)
        w485 = max(w325, w483)
        w486 = min(w321, r7_4)
        w487 = max(w321, r7_4)
        w488 = max(w486, w484)
        w489 = min(w487, w485)
        w490 = max(w319, r7_2)
        w491 = min(w323, r7_6)
        w492 = min(w491, w490)
        w493 = max(w491, w490)
        w494 = max(w492, w488)
        w495 = min(w493, w489)
        w496 = max(w318, r7_1)
        w497 = min(w326, w496)
        w498 = min(w322, r7_5)
        w499 = max(w498, w497)
        w500 = max(w320, r7_3)
        w501 = min(w324, w500)
        w502 = min(w501, w499)
        w503 = max(w501, w499)
        w504 = min(w502, w494)
        w505 = max(w502, w494)
        w506 = min(w503, w495)
        w507 = max(w449, r2_0)
        w508 = min(w457, w507)
        w509 = max(w457, w507)
        w510 = min(w453, r2_4)
        w511 = max(w453, r2_4)
        w512 = max(w510, w508)
        w513 = min(w511, w509)
        w514 = max(w451, r2_2)
        w515 = min(w455, r2_6)
        w516 = min(w515, w514)
        w517 = max(w515, w514)
        w518 = max(w516, w512)
        w519 = min(w517, w513)
        w520 = max(w450, r2_1)
        w521 = min(w458, w520)
        w522 = min(w454, r2_5)
        w523 = max(w522, w521)
        w524 = max(w452, r2_3)
        w525 = min(w456, w524)
        w526 = min(w525, w523)
        w527 = max(w525, w523)
        w528 = min(w526, w518)
        w529 = max(w526, w518)
        w530 = min(w527, w519)
        w531 = max(w449, r9_0)
        w532 = min(w457, w531)
        w533 = max(w457, w531)
        w534 = min(w453, r9_4)
        w535 = max(w453, r9_4)
        w536 = max(w534, w532)
        w537 = min(w535, w533)
        w538 = max(w451, r9_2)
        w539 = min(w455, r9_6)
        w540 = min(w539, w538)
        w541 = max(w539, w538)
        w542 = max(w540, w536)
        w543 = min(w541, w537)
        w544 = max(w450, r9_1)
        w545 = min(w458, w544)
        w546 = min(w454, r9_5)
        w547 = max(w546, w545)
        w548 = max(w452, r9_3)
        w549 = min(w456, w548)
        w550 = min(w549, w547)
        w551 = max(w549, w547)
        w552 = min(w550, w542)
        w553 = max(w550, w542)
        w554 = min(w551, w543)
        work[x + np.uint64(70 * TILE_WIDTH)] = w480
        work[x + np.uint64(71 * TILE_WIDTH)] = w481
        work[x + np.uint64(72 * TILE_WIDTH)] = w482
        work[x + np.uint64(73 * TILE_WIDTH)] = w504
        work[x + np.uint64(74 * TILE_WIDTH)] = w505
        work[x + np.uint64(75 * TILE_WIDTH)] = w506
        work[x + np.uint64(76 * TILE_WIDTH)] = w528
        work[x + np.uint64(77 * TILE_WIDTH)] = w529
        work[x + np.uint64(78 * TILE_WIDTH)] = w530
        work[x + np.uint64(79 * TILE_WIDTH)] = w552
        work[x + np.uint64(80 * TILE_WIDTH)] = w553
        work[x + np.uint64(81 * TILE_WIDTH)] = w554
