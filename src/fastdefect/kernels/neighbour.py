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
from ._minmax import hi, lo
from ._threads import run_split
from .detect import pixel_deviation
from .median import TILE_WIDTH, _sort_windows_7

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
    buffer = np.empty(SIZE * SIZE, dtype=image.dtype)
    for row in range(first_row, stop_row):
        edge_row = row < RADIUS or row >= height - RADIUS
        for i in range(width if edge_row else 2 * RADIUS):
            # Other rows: the first and last RADIUS columns only, each once (they
            # overlap, or lie partly outside, in an image less than 2 * RADIUS wide).
            column = i if edge_row or i < RADIUS else width - 2 * RADIUS + i
            if column >= width or (column < RADIUS and i >= RADIUS):
                continue
            out[row, column] = pixel_deviation(image, row, column, RADIUS, buffer)


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
        w238 = lo(w184, w237)
        w239 = hi(w184, w237)
        w240 = lo(w176, w232)
        w241 = hi(w176, w232)
        w242 = lo(w192, w241)
        w243 = hi(w240, w238)
        w244 = lo(w242, w239)
        w245 = hi(w242, w239)
        w246 = hi(w172, w228)
        w247 = lo(w188, w246)
        w248 = hi(w188, w246)
        w249 = lo(w180, w236)
        w250 = hi(w180, w236)
        w251 = lo(w249, w247)
        w252 = hi(w249, w247)
        w253 = lo(w250, w248)
        w254 = hi(w251, w243)
        w255 = lo(w252, w244)
        w256 = hi(w252, w244)
        w257 = lo(w253, w245)
        w258 = hi(w170, w226)
        w259 = lo(w186, w258)
        w260 = hi(w186, w258)
        w261 = lo(w178, w234)
        w262 = hi(w178, w234)
        w263 = lo(w194, w262)
        w264 = hi(w261, w259)
        w265 = lo(w263, w260)
        w266 = hi(w174, w230)
        w267 = lo(w190, w266)
        w268 = lo(w182, w267)
        w269 = hi(w182, w267)
        w270 = lo(w268, w264)
        w271 = hi(w268, w264)
        w272 = lo(w269, w265)
        w273 = hi(w269, w265)
        w274 = hi(w270, w254)
        w275 = lo(w271, w255)
        w276 = hi(w271, w255)
        w277 = lo(w272, w256)
        w278 = hi(w272, w256)
        w279 = lo(w273, w257)
        w280 = hi(w169, w225)
        w281 = lo(w185, w280)
        w282 = hi(w185, w280)
        w283 = lo(w177, w233)
        w284 = hi(w177, w233)
        w285 = lo(w193, w284)
        w286 = hi(w283, w281)
        w287 = lo(w285, w282)
        w288 = hi(w173, w229)
        w289 = lo(w189, w288)
        w290 = lo(w181, w204)
        w291 = lo(w290, w289)
        w292 = hi(w290, w289)
        w293 = hi(w291, w286)
        w294 = lo(w292, w287)
        w295 = hi(w292, w287)
        w296 = hi(w171, w227)
        w297 = lo(w187, w296)
        w298 = hi(w187, w296)
        w299 = lo(w179, w235)
        w300 = hi(w179, w235)
        w301 = lo(w136, w300)
        w302 = hi(w299, w297)
        w303 = lo(w301, w298)
        w304 = hi(w175, w231)
        w305 = lo(w191, w304)
        w306 = lo(w183, w305)
        w307 = hi(w183, w305)
        w308 = lo(w306, w302)
        w309 = hi(w306, w302)
        w310 = lo(w307, w303)
        w311 = lo(w308, w293)
        w312 = hi(w308, w293)
        w313 = lo(w309, w294)
        w314 = hi(w309, w294)
        w315 = lo(w310, w295)
        w316 = hi(w310, w295)
        w317 = hi(w311, w274)
        w318 = lo(w312, w275)
        w319 = hi(w312, w275)
        w320 = lo(w313, w276)
        w321 = hi(w313, w276)
        w322 = lo(w314, w277)
        w323 = hi(w314, w277)
        w324 = lo(w315, w278)
        w325 = hi(w315, w278)
        w326 = lo(w316, w279)
        w327 = lo(r7_0, r8_0)
        w328 = hi(r7_0, r8_0)
        w329 = lo(r7_4, r8_4)
        w330 = hi(r7_4, r8_4)
        w331 = lo(w329, w328)
        w332 = hi(w329, w328)
        w333 = lo(r7_2, r8_2)
        w334 = hi(r7_2, r8_2)
        w335 = lo(r7_6, r8_6)
        w336 = hi(r7_6, r8_6)
        w337 = lo(w335, w334)
        w338 = hi(w335, w334)
        w339 = lo(w333, w331)
        w340 = hi(w333, w331)
        w341 = lo(w337, w332)
        w342 = hi(w337, w332)
        w343 = lo(w338, w330)
        w344 = hi(w338, w330)
        w345 = lo(r7_1, r8_1)
        w346 = hi(r7_1, r8_1)
        w347 = lo(r7_5, r8_5)
        w348 = hi(r7_5, r8_5)
        w349 = lo(w347, w346)
        w350 = hi(w347, w346)
        w351 = lo(r7_3, r8_3)
        w352 = hi(r7_3, r8_3)
        w353 = lo(w351, w349)
        w354 = hi(w351, w349)
        w355 = lo(w352, w350)
        w356 = hi(w352, w350)
        w357 = lo(w345, w339)
        w358 = hi(w345, w339)
        w359 = lo(w353, w340)
        w360 = hi(w353, w340)
        w361 = lo(w354, w341)
        w362 = hi(w354, w341)
        w363 = lo(w355, w342)
        w364 = hi(w355, w342)
        w365 = lo(w356, w343)
        w366 = hi(w356, w343)
        w367 = lo(w348, w344)
        w368 = hi(w348, w344)
        w369 = hi(w85, w327)
        w370 = lo(w184, w369)
        w371 = hi(w184, w369)
        w372 = lo(w176, w364)
        w373 = hi(w176, w364)
        w374 = lo(w192, w373)
        w375 = hi(w372, w370)
        w376 = lo(w374, w371)
        w377 = hi(w374, w371)
        w378 = hi(w172, w360)
        w379 = lo(w188, w378)
        w380 = hi(w188, w378)
        w381 = lo(w180, w368)
        w382 = hi(w180, w368)
        w383 = lo(w381, w379)
        w384 = hi(w381, w379)
        w385 = lo(w382, w380)
        w386 = hi(w383, w375)
        w387 = lo(w384, w376)
        w388 = hi(w384, w376)
        w389 = lo(w385, w377)
        w390 = hi(w170, w358)
        w391 = lo(w186, w390)
        w392 = hi(w186, w390)
        w393 = lo(w178, w366)
        w394 = hi(w178, w366)
        w395 = lo(w194, w394)
        w396 = hi(w393, w391)
        w397 = lo(w395, w392)
        w398 = hi(w174, w362)
        w399 = lo(w190, w398)
        w400 = lo(w182, w399)
        w401 = hi(w182, w399)
        w402 = lo(w400, w396)
        w403 = hi(w400, w396)
        w404 = lo(w401, w397)
        w405 = hi(w401, w397)
        w406 = hi(w402, w386)
        w407 = lo(w403, w387)
        w408 = hi(w403, w387)
        w409 = lo(w404, w388)
        w410 = hi(w404, w388)
        w411 = lo(w405, w389)
        w412 = hi(w169, w357)
        w413 = lo(w185, w412)
        w414 = hi(w185, w412)
        w415 = lo(w177, w365)
        w416 = hi(w177, w365)
        w417 = lo(w193, w416)
        w418 = hi(w415, w413)
        w419 = lo(w417, w414)
        w420 = hi(w173, w361)
        w421 = lo(w189, w420)
        w422 = lo(w181, w336)
        w423 = lo(w422, w421)
        w424 = hi(w422, w421)
        w425 = hi(w423, w418)
        w426 = lo(w424, w419)
        w427 = hi(w424, w419)
        w428 = hi(w171, w359)
        w429 = lo(w187, w428)
        w430 = hi(w187, w428)
        w431 = lo(w179, w367)
        w432 = hi(w179, w367)
        w433 = lo(w136, w432)
        w434 = hi(w431, w429)
        w435 = lo(w433, w430)
        w436 = hi(w175, w363)
        w437 = lo(w191, w436)
        w438 = lo(w183, w437)
        w439 = hi(w183, w437)
        w440 = lo(w438, w434)
        w441 = hi(w438, w434)
        w442 = lo(w439, w435)
        w443 = lo(w440, w425)
        w444 = hi(w440, w425)
        w445 = lo(w441, w426)
        w446 = hi(w441, w426)
        w447 = lo(w442, w427)
        w448 = hi(w442, w427)
        w449 = hi(w443, w406)
        w450 = lo(w444, w407)
        w451 = hi(w444, w407)
        w452 = lo(w445, w408)
        w453 = hi(w445, w408)
        w454 = lo(w446, w409)
        w455 = hi(w446, w409)
        w456 = lo(w447, w410)
        w457 = hi(w447, w410)
        w458 = lo(w448, w411)
        w459 = hi(w317, r0_0)
        w460 = lo(w325, w459)
        w461 = hi(w325, w459)
        w462 = lo(w321, r0_4)
        w463 = hi(w321, r0_4)
        w464 = hi(w462, w460)
        w465 = lo(w463, w461)
        w466 = hi(w319, r0_2)
        w467 = lo(w323, r0_6)
        w468 = lo(w467, w466)
        w469 = hi(w467, w466)
        w470 = hi(w468, w464)
        w471 = lo(w469, w465)
        w472 = hi(w318, r0_1)
        w473 = lo(w326, w472)
        w474 = lo(w322, r0_5)
        w475 = hi(w474, w473)
        w476 = hi(w320, r0_3)
        w477 = lo(w324, w476)
        w478 = lo(w477, w475)
        w479 = hi(w477, w475)
        w480 = lo(w478, w470)
        w481 = hi(w478, w470)
        w482 = lo(w479, w471)
        w483 = hi(w317, r7_0)
        w484 = lo(w325, w483)
        w485 = hi(w325, w483)
        w486 = lo(w321, r7_4)
        w487 = hi(w321, r7_4)
        w488 = hi(w486, w484)
        w489 = lo(w487, w485)
        w490 = hi(w319, r7_2)
        w491 = lo(w323, r7_6)
        w492 = lo(w491, w490)
        w493 = hi(w491, w490)
        w494 = hi(w492, w488)
        w495 = lo(w493, w489)
        w496 = hi(w318, r7_1)
        w497 = lo(w326, w496)
        w498 = lo(w322, r7_5)
        w499 = hi(w498, w497)
        w500 = hi(w320, r7_3)
        w501 = lo(w324, w500)
        w502 = lo(w501, w499)
        w503 = hi(w501, w499)
        w504 = lo(w502, w494)
        w505 = hi(w502, w494)
        w506 = lo(w503, w495)
        w507 = hi(w449, r2_0)
        w508 = lo(w457, w507)
        w509 = hi(w457, w507)
        w510 = lo(w453, r2_4)
        w511 = hi(w453, r2_4)
        w512 = hi(w510, w508)
        w513 = lo(w511, w509)
        w514 = hi(w451, r2_2)
        w515 = lo(w455, r2_6)
        w516 = lo(w515, w514)
        w517 = hi(w515, w514)
        w518 = hi(w516, w512)
        w519 = lo(w517, w513)
        w520 = hi(w450, r2_1)
        w521 = lo(w458, w520)
        w522 = lo(w454, r2_5)
        w523 = hi(w522, w521)
        w524 = hi(w452, r2_3)
        w525 = lo(w456, w524)
        w526 = lo(w525, w523)
        w527 = hi(w525, w523)
        w528 = lo(w526, w518)
        w529 = hi(w526, w518)
        w530 = lo(w527, w519)
        w531 = hi(w449, r9_0)
        w532 = lo(w457, w531)
        w533 = hi(w457, w531)
        w534 = lo(w453, r9_4)
        w535 = hi(w453, r9_4)
        w536 = hi(w534, w532)
        w537 = lo(w535, w533)
        w538 = hi(w451, r9_2)
        w539 = lo(w455, r9_6)
        w540 = lo(w539, w538)
        w541 = hi(w539, w538)
        w542 = hi(w540, w536)
        w543 = lo(w541, w537)
        w544 = hi(w450, r9_1)
        w545 = lo(w458, w544)
        w546 = lo(w454, r9_5)
        w547 = hi(w546, w545)
        w548 = hi(w452, r9_3)
        w549 = lo(w456, w548)
        w550 = lo(w549, w547)
        w551 = hi(w549, w547)
        w552 = lo(w550, w542)
        w553 = hi(w550, w542)
        w554 = lo(w551, w543)
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
