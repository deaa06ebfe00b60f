"""The candidate path of deviation detection on one colour plane: a cheap bound per tile,
the exact median only at the pixels that could pass the threshold.

(The other path, :mod:`fastdefect.kernels.full_frame`, computes every pixel's deviation
with a rank network; detection takes it when most pixels are candidates.)

The local background of a pixel is the median of its neighbours in the
``(2 * radius + 1)`` square block, the pixel itself excluded, neighbours outside the
image left out (so border pixels have fewer neighbours; an even count takes the mean of
the two middle values).

Computing that median everywhere is the expensive part, and almost every pixel of a
dark or flat frame is nowhere near a threshold. So the kernels first bound the median
cheaply: for each ``TILE x TILE`` tile they keep the ``K`` smallest and ``K`` largest
values, and over the 3 x 3 tiles around a tile (which contain every neighbourhood of its
pixels when ``radius <= TILE``) the ``K``-th smallest value is a lower bound of every
neighbour median there, the ``K``-th largest an upper bound. (The median of ``n``
neighbours is at least their ``ceil(n / 2)``-th smallest value, which is at least the
``K``-th smallest of any superset when ``K <= ceil(n / 2)``.) Only pixels that could pass
the threshold against those bounds get the exact median. Up to ``K - 1`` outliers near a
pixel (other defects) do not loosen its bound.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import select
from ._threads import run_split

TILE = 16
K = 4


@njit(cache=True, nogil=True, inline="always")
def _insert_small(m0, m1, m2, m3, value):
    # One step of an insertion network: keeps the four smallest values seen, sorted.
    t = max(m0, value)
    m0 = min(m0, value)
    u = max(m1, t)
    m1 = min(m1, t)
    t = max(m2, u)
    m2 = min(m2, u)
    m3 = min(m3, t)
    return m0, m1, m2, m3


@njit(cache=True, nogil=True, inline="always")
def _insert_large(m0, m1, m2, m3, value):
    # Mirror image of _insert_small: keeps the four largest values, largest first.
    t = min(m0, value)
    m0 = max(m0, value)
    u = min(m1, t)
    m1 = max(m1, t)
    t = min(m2, u)
    m2 = max(m2, u)
    m3 = max(m3, t)
    return m0, m1, m2, m3


def tile_extremes(image, smallest, largest):
    """The ``K`` smallest and largest values of every ``TILE x TILE`` tile.

    ``smallest`` and ``largest`` have shape ``(tile_rows, tile_columns, K)`` and the
    image's dtype. Tiles with fewer than ``K`` pixels are padded with the dtype's
    largest (for ``smallest``) or smallest (for ``largest``) value.
    """
    run_split(_tile_extremes, smallest.shape[0], image, smallest, largest)


@njit(cache=True, nogil=True)
def _tile_extremes(image, smallest, largest, first_band, stop_band):
    height, width = image.shape
    tile_columns = smallest.shape[1]
    top = smallest.dtype.type(np.iinfo(smallest.dtype).max)
    bottom = largest.dtype.type(0)
    for band in range(first_band, stop_band):
        # Per column, the K smallest/largest over the band's rows: a vectorisable pass.
        s0 = np.full(width, top, smallest.dtype)
        s1 = s0.copy()
        s2 = s0.copy()
        s3 = s0.copy()
        g0 = np.full(width, bottom, largest.dtype)
        g1 = g0.copy()
        g2 = g0.copy()
        g3 = g0.copy()
        for row in range(band * TILE, min((band + 1) * TILE, height)):
            line = image[row]
            for column in range(width):
                # _insert_small/_insert_large written out on array elements: this form
                # is what LLVM vectorises (packed min/max).
                value = line[column]
                a, b, c, d = s0[column], s1[column], s2[column], s3[column]
                t = max(a, value)
                s0[column] = min(a, value)
                u = max(b, t)
                s1[column] = min(b, t)
                t = max(c, u)
                s2[column] = min(c, u)
                s3[column] = min(d, t)
                a, b, c, d = g0[column], g1[column], g2[column], g3[column]
                t = min(a, value)
                g0[column] = max(a, value)
                u = min(b, t)
                g1[column] = max(b, t)
                t = min(c, u)
                g2[column] = max(c, u)
                g3[column] = max(d, t)
        # Then merge the columns of each tile.
        for tile in range(tile_columns):
            a0 = top
            a1 = top
            a2 = top
            a3 = top
            b0 = bottom
            b1 = bottom
            b2 = bottom
            b3 = bottom
            for column in range(tile * TILE, min((tile + 1) * TILE, width)):
                for value in (s0[column], s1[column], s2[column], s3[column]):
                    if value < a3:
                        a0, a1, a2, a3 = _insert_small(a0, a1, a2, a3, value)
                for value in (g0[column], g1[column], g2[column], g3[column]):
                    if value > b3:
                        b0, b1, b2, b3 = _insert_large(b0, b1, b2, b3, value)
            smallest[band, tile, 0] = a0
            smallest[band, tile, 1] = a1
            smallest[band, tile, 2] = a2
            smallest[band, tile, 3] = a3
            largest[band, tile, 0] = b0
            largest[band, tile, 1] = b1
            largest[band, tile, 2] = b2
            largest[band, tile, 3] = b3


def region_bounds(smallest, largest, lower, upper):
    """Per tile, the ``K``-th smallest/largest value over the 3 x 3 tiles around it."""
    run_split(_region_bounds, smallest.shape[0], smallest, largest, lower, upper)


@njit(cache=True, nogil=True)
def _region_bounds(smallest, largest, lower, upper, first_band, stop_band):
    tile_rows, tile_columns = smallest.shape[0], smallest.shape[1]
    top = smallest.dtype.type(np.iinfo(smallest.dtype).max)
    bottom = largest.dtype.type(0)
    for band in range(first_band, stop_band):
        for tile in range(tile_columns):
            a0 = top
            a1 = top
            a2 = top
            a3 = top
            b0 = bottom
            b1 = bottom
            b2 = bottom
            b3 = bottom
            for r in range(max(band - 1, 0), min(band + 2, tile_rows)):
                for c in range(max(tile - 1, 0), min(tile + 2, tile_columns)):
                    for k in range(K):
                        value = smallest[r, c, k]
                        if value < a3:
                            a0, a1, a2, a3 = _insert_small(a0, a1, a2, a3, value)
                        value = largest[r, c, k]
                        if value > b3:
                            b0, b1, b2, b3 = _insert_large(b0, b1, b2, b3, value)
            lower[band, tile] = a3
            upper[band, tile] = b3


def _tile_cuts(lower, upper, limit_high, limit_low):
    """Per tile, the value cuts a candidate must pass.

    A pixel can pass only if ``value > lower + limit_high`` or
    ``value < upper - limit_low``; for integer values that is ``value > cut_high`` with
    ``cut_high = floor(lower + limit_high)`` and ``value < cut_low`` with
    ``cut_low = ceil(upper - limit_low)``.
    """
    cut_high = np.floor(lower.astype(np.float64) + limit_high)
    cut_low = np.ceil(upper.astype(np.float64) - limit_low)
    return cut_high, cut_low


def _scan_tiles(image, tiles, cut_high, cut_low, offsets, counts, rows, columns, fill):
    run_split(
        _scan_tile_range, len(tiles), image, tiles, cut_high, cut_low, offsets, counts, rows,
        columns, fill,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _scan_tile_range(
    image, tiles, cut_high, cut_low, offsets, counts, rows, columns, fill, first, stop
):
    height, width = image.shape
    for i in range(first, stop):
        band = tiles[i, 0]
        tile = tiles[i, 1]
        high = cut_high[band, tile]
        low = cut_low[band, tile]
        position = offsets[i]
        count = 0
        for row in range(band * TILE, min((band + 1) * TILE, height)):
            for column in range(tile * TILE, min((tile + 1) * TILE, width)):
                value = np.float64(image[row, column])
                if value > high or value < low:
                    if fill:
                        rows[position + count] = row
                        columns[position + count] = column
                    count += 1
        counts[i] = count


def find_candidates(image, radius, limit_high, limit_low, max_count=None):
    """Pixels whose deviation *could* exceed ``limit_high`` upwards or ``limit_low`` downwards.

    A superset of the pixels with ``value - median > limit_high`` or
    ``median - value > limit_low``. Only tiles whose own extremes pass their cuts are
    scanned: on a dark or flat frame, almost none. Where the bound does not hold (fewer
    than ``2K - 1`` neighbours at a corner: tiny images, radius 1) every pixel is
    returned. Returns ``(rows, columns)`` as int64 arrays in row-major order, or
    ``None`` when there are more than ``max_count`` candidates (counted before they are
    collected: near the noise, collecting and sorting them costs more than computing
    every pixel's deviation).
    """
    height, width = image.shape
    corner_neighbours = min(radius + 1, height) * min(radius + 1, width) - 1
    if corner_neighbours < 2 * K - 1 or radius > TILE:
        if max_count is not None and height * width > max_count:
            return None
        rows, columns = np.indices((height, width)).reshape(2, -1)
        return rows.astype(np.int64), columns.astype(np.int64)
    tile_shape = (-(-height // TILE), -(-width // TILE))
    smallest = np.empty((*tile_shape, K), image.dtype)
    largest = np.empty((*tile_shape, K), image.dtype)
    tile_extremes(image, smallest, largest)
    lower = np.empty(tile_shape, image.dtype)
    upper = np.empty(tile_shape, image.dtype)
    region_bounds(smallest, largest, lower, upper)
    cut_high, cut_low = _tile_cuts(lower, upper, float(limit_high), float(limit_low))
    busy = (largest[:, :, 0] > cut_high) | (smallest[:, :, 0] < cut_low)
    tiles = np.argwhere(busy).astype(np.int64)
    counts = np.zeros(len(tiles), np.int64)
    offsets = np.zeros(len(tiles), np.int64)
    _scan_tiles(image, tiles, cut_high, cut_low, offsets, counts, offsets, offsets, False)
    if max_count is not None and counts.sum() > max_count:
        return None
    np.cumsum(counts[:-1], out=offsets[1:])
    rows = np.empty(int(counts.sum()), np.int64)
    columns = np.empty_like(rows)
    _scan_tiles(image, tiles, cut_high, cut_low, offsets, counts, rows, columns, True)
    # Tiles were scanned tile by tile; give the candidates in row-major order.
    order = np.lexsort((columns, rows))
    return rows[order], columns[order]


_CHUNK = 256  # pixels per piece of neighbour_deviation's work


def neighbour_deviation(image, rows, columns, radius, out):
    """``value - median(neighbours)`` at the given pixels, exactly, as float64.

    Neighbours: the ``(2 * radius + 1)`` square block minus the pixel, clipped to the
    image. A pixel with no neighbours (a 1 x 1 image) has deviation 0.
    """
    n_chunks = -(-rows.shape[0] // _CHUNK)
    run_split(_neighbour_deviation, n_chunks, image, rows, columns, radius, out)


@njit(cache=True, nogil=True)
def _neighbour_deviation(image, rows, columns, radius, out, first_chunk, stop_chunk):
    n = rows.shape[0]
    side = 2 * radius + 1
    for start in range(first_chunk, stop_chunk):
        buffer = np.empty(side * side, image.dtype)
        for i in range(start * _CHUNK, min((start + 1) * _CHUNK, n)):
            out[i] = pixel_deviation(image, rows[i], columns[i], radius, buffer)


@njit(cache=True, nogil=True)
def pixel_deviation(image, row, column, radius, buffer):
    """``value - median(neighbours)`` of one pixel as float64; ``buffer`` holds a block.

    The neighbours are gathered into ``buffer`` and the middle one(s) selected (Wirth's
    selection, correct with ties): the same values as sorting them, since the float64
    conversion keeps the order, at a fraction of numba's sort's compile time. A pixel
    with no neighbours (a 1 x 1 image) has deviation 0.
    """
    height, width = image.shape
    count = 0
    for r in range(max(row - radius, 0), min(row + radius + 1, height)):
        for c in range(max(column - radius, 0), min(column + radius + 1, width)):
            if r != row or c != column:
                buffer[count] = image[r, c]
                count += 1
    if count == 0:
        return 0.0
    value = np.float64(image[row, column])
    values = buffer[:count]
    half = count // 2
    middle = np.float64(select(values, half))
    if count % 2 == 1:
        return value - middle
    # select leaves values[:half] <= values[half]: the other middle one is their largest.
    below = values[0]
    for i in range(1, half):
        below = max(below, values[i])
    return value - 0.5 * (np.float64(below) + middle)
