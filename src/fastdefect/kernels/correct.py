"""Numba kernels of the correction simulation: plan once per list, apply per frame.

A correction depends on the defect positions only, never on pixel values, so it is split
in two steps:

* a *plan* (``sorted_positions``, then ``plan_left`` or ``count_good_neighbours`` /
  ``fill_good_neighbours``) finds, for every listed pixel, whether it can be corrected
  and from which pixels; it works on the sorted, unique flat indices
  (``row * width + column``) of the listed pixels and costs ``O(n + height + width)``
  (neighbour membership through a one-bit-per-pixel map, :func:`listed_bitmap`);
* an *apply* (``scatter_left``, ``scatter_mean``, ``scatter_median``) overwrites the
  corrected pixels of a copy of the frame (the copy itself is ``numpy.copyto``, a
  ``memcpy`` that a numba loop does not beat); it is what runs once per frame of a stack.

Colour planes: with ``step == 2`` (a Bayer sensor) the pixels of one colour are two
rows and two columns apart; runs, left neighbours and neighbourhoods are taken in the
pixel's own plane. ``step == 1`` is a mono sensor.

Rounding (integer output of the same dtype): the mean of ``k`` values with sum ``s`` is
``floor(s / k + 1/2)``, computed exactly as ``(2 s + k) // (2 k)``; the median of an even
number of values is the mean of the two middle ones, rounded the same way.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Reason bits of a pixel that stays uncorrected.
RUN_TOO_LONG = 1
NO_LEFT_NEIGHBOUR = 2
NO_GOOD_NEIGHBOUR = 4

#: Most good neighbours a pixel can have: the 16 pixels of the 5 x 5 ring.
MAX_NEIGHBOURS = 16

# Pixels per parallel work unit of the median (one small scratch buffer per unit).
_CHUNK = 4096


@njit(cache=True, nogil=True)
def sorted_positions(rows, columns, height, width, keys):
    """Sorted unique flat indices ``row * width + column`` of the positions inside the image.

    Two stable counting sorts (by column, then by row), ``O(n + width + height)``: about
    four times faster than ``numpy.sort`` of the 64-bit keys for 100,000 positions.
    Writes into ``keys`` (at least ``rows.size`` long) and returns how many it wrote.
    """
    n = rows.size
    column_counts = np.zeros(width + 1, np.int64)
    inside = 0
    for i in range(n):
        if rows[i] < height and columns[i] < width:
            column_counts[columns[i] + 1] += 1
            inside += 1
    for c in range(width):
        column_counts[c + 1] += column_counts[c]
    by_column = np.empty(inside, np.int64)
    for i in range(n):
        c = columns[i]
        if rows[i] < height and c < width:
            by_column[column_counts[c]] = i
            column_counts[c] += 1
    row_counts = np.zeros(height + 1, np.int64)
    for k in range(inside):
        row_counts[rows[by_column[k]] + 1] += 1
    for r in range(height):
        row_counts[r + 1] += row_counts[r]
    for k in range(inside):
        i = by_column[k]
        r = rows[i]
        keys[row_counts[r]] = np.int64(r) * width + columns[i]
        row_counts[r] += 1
    written = 0
    previous = -1
    for k in range(inside):
        if keys[k] != previous:
            previous = keys[k]
            keys[written] = previous
            written += 1
    return written


@njit(cache=True, nogil=True)
def plan_left(keys, width, step, max_run, status, run_length, run_start, source):
    """Left-neighbour plan for sorted unique flat indices ``keys``.

    For each listed pixel: the first column of its run (consecutive listed pixels of its
    plane in its row), the run length, the reason bits when it cannot be corrected
    (``RUN_TOO_LONG`` when the run is longer than ``max_run``, ``max_run <= 0`` meaning
    no limit; ``NO_LEFT_NEIGHBOUR`` when the run starts in the first column of its
    plane), and otherwise the flat index of the pixel left of the run (else -1).
    """
    n = keys.size
    parity_mask = step - 1  # step is 1 or 2
    shift = step - 1
    i = 0
    while i < n:
        base = (keys[i] // width) * width
        j = i
        while j < n and keys[j] < base + width:
            j += 1
        # Forward over the row: each pixel's run start, one tracker per plane parity.
        previous0 = previous1 = -4
        start0 = start1 = 0
        for k in range(i, j):
            column = keys[k] - base
            if (column & parity_mask) == 0:
                if column != previous0 + step:
                    start0 = column
                previous0 = column
                run_start[k] = start0
            else:
                if column != previous1 + step:
                    start1 = column
                previous1 = column
                run_start[k] = start1
        # Backward: each pixel's run end, hence the run length and the verdict.
        following0 = following1 = -4
        end0 = end1 = 0
        for k in range(j - 1, i - 1, -1):
            column = keys[k] - base
            if (column & parity_mask) == 0:
                if column != following0 - step:
                    end0 = column
                following0 = column
                end = end0
            else:
                if column != following1 - step:
                    end1 = column
                following1 = column
                end = end1
            start = run_start[k]
            length = ((end - start) >> shift) + 1
            run_length[k] = length
            flags = 0
            if max_run > 0 and length > max_run:
                flags |= RUN_TOO_LONG
            if start < step:
                flags |= NO_LEFT_NEIGHBOUR
            status[k] = flags
            source[k] = base + start - step if flags == 0 else -1
        i = j


@njit(cache=True, nogil=True)
def listed_bitmap(keys, n_pixels):
    """One bit per pixel, set for the listed ones: an O(1) membership test.

    ``n_pixels / 8`` bytes (3.3 MB for 5120 x 5120), built in one pass over ``keys``.
    """
    bitmap = np.zeros((n_pixels + 7) >> 3, np.uint8)
    for i in range(keys.size):
        key = keys[i]
        bitmap[key >> 3] |= np.uint8(1 << (key & 7))
    return bitmap


@njit(cache=True, nogil=True, inline="always")
def _listed(bitmap, key):
    return (bitmap[key >> 3] >> (key & 7)) & 1


@njit(cache=True, nogil=True, inline="always")
def _ring_count(bitmap, row, column, radius, height, width, step):
    # Good (unlisted) same-plane pixels at Chebyshev distance ``radius`` (plane units).
    count = 0
    for dr in range(-radius, radius + 1):
        r = row + dr * step
        if r < 0 or r >= height:
            continue
        for dc in range(-radius, radius + 1):
            if max(abs(dr), abs(dc)) != radius:
                continue
            c = column + dc * step
            if c < 0 or c >= width:
                continue
            if not _listed(bitmap, r * width + c):
                count += 1
    return count


@njit(cache=True, nogil=True, parallel=True)
def count_good_neighbours(keys, bitmap, height, width, step, counts, radius_used):
    """How many good same-plane neighbours each listed pixel interpolates from.

    The 3 x 3 plane neighbourhood (8 neighbours) when it holds a good pixel, else the
    5 x 5 one (its outer ring of 16, the inner ring being all listed); ``radius_used`` is
    1, 2, or 0 when neither holds a good pixel (``counts`` 0). ``bitmap`` is
    :func:`listed_bitmap` of ``keys``.
    """
    for i in prange(keys.size):
        row = keys[i] // width
        column = keys[i] - row * width
        used = 0
        count = _ring_count(bitmap, row, column, 1, height, width, step)
        if count > 0:
            used = 1
        else:
            count = _ring_count(bitmap, row, column, 2, height, width, step)
            if count > 0:
                used = 2
        counts[i] = count
        radius_used[i] = used


@njit(cache=True, nogil=True, parallel=True)
def fill_good_neighbours(keys, bitmap, height, width, step, radius_used, offsets, sources):
    """Write each listed pixel's good neighbours (flat indices, row-major) into ``sources``.

    ``offsets`` (length ``keys.size + 1``) is the running sum of
    :func:`count_good_neighbours`' counts: pixel ``i`` owns
    ``sources[offsets[i]:offsets[i + 1]]``.
    """
    for i in prange(keys.size):
        radius = radius_used[i]
        if radius == 0:
            continue
        row = keys[i] // width
        column = keys[i] - row * width
        k = offsets[i]
        for dr in range(-radius, radius + 1):
            r = row + dr * step
            if r < 0 or r >= height:
                continue
            for dc in range(-radius, radius + 1):
                if max(abs(dr), abs(dc)) != radius:
                    continue
                c = column + dc * step
                if c < 0 or c >= width:
                    continue
                key = r * width + c
                if not _listed(bitmap, key):
                    sources[k] = key
                    k += 1


@njit(cache=True, nogil=True)
def scatter_left(frame, out, dest, source):
    """``out.flat[dest] = frame.flat[source]`` (C-contiguous 2-D arrays)."""
    flat_in = frame.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(dest.size):
        flat_out[dest[i]] = flat_in[source[i]]


@njit(cache=True, nogil=True, parallel=True)
def scatter_mean(frame, out, dest, offsets, sources):
    """``out.flat[dest[i]]`` = rounded mean of ``frame.flat`` at pixel ``i``'s sources."""
    flat_in = frame.reshape(-1)
    flat_out = out.reshape(-1)
    for i in prange(dest.size):
        first = offsets[i]
        count = offsets[i + 1] - first
        total = np.int64(0)
        for k in range(first, first + count):
            total += np.int64(flat_in[sources[k]])
        flat_out[dest[i]] = (2 * total + count) // (2 * count)


@njit(cache=True, nogil=True, parallel=True)
def scatter_median(frame, out, dest, offsets, sources):
    """``out.flat[dest[i]]`` = rounded median of ``frame.flat`` at pixel ``i``'s sources."""
    flat_in = frame.reshape(-1)
    flat_out = out.reshape(-1)
    n = dest.size
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for chunk in prange(n_chunks):
        values = np.empty(MAX_NEIGHBOURS, np.int64)
        for i in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
            first = offsets[i]
            count = offsets[i + 1] - first
            for k in range(count):
                value = np.int64(flat_in[sources[first + k]])
                m = k
                while m > 0 and values[m - 1] > value:  # insertion sort, at most 16 values
                    values[m] = values[m - 1]
                    m -= 1
                values[m] = value
            half = count // 2
            if count % 2 == 1:
                flat_out[dest[i]] = values[half]
            else:
                flat_out[dest[i]] = (values[half - 1] + values[half] + 1) // 2
