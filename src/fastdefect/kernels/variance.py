"""Numba kernel of the noise model's local variance (:func:`fastdefect.noise.local_variance`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import select
from ._threads import run_split


def local_variance_at(std, rows, columns, step, radius, out):
    """Median of ``std**2`` over each pixel's same-colour neighbours (float64, in ``out``).

    The neighbours of pixel ``i`` are the pixels ``step`` apart in the
    ``(2 radius + 1)²`` block around ``(rows[i], columns[i])``, the pixel itself excluded
    and pixels outside ``std`` left out; the median of an even count is the mean of the
    two middle values, as numpy's; a pixel without neighbours gets NaN. Pixels run in
    threads.
    """
    run_split(_local_variance_range, rows.size, std, rows, columns, step, radius, out, grain=1024)


@njit(cache=True, nogil=True)
def _local_variance_range(std, rows, columns, step, radius, out, first, stop):
    height, width = std.shape
    values = np.empty((2 * radius + 1) ** 2, np.float64)
    for i in range(first, stop):
        count = 0
        for dr in range(-radius, radius + 1):
            row = rows[i] + dr * step
            if row < 0 or row >= height:
                continue
            for dc in range(-radius, radius + 1):
                column = columns[i] + dc * step
                if (dr == 0 and dc == 0) or column < 0 or column >= width:
                    continue
                value = np.float64(std[row, column])
                values[count] = value * value
                count += 1
        if count == 0:
            out[i] = np.nan
            continue
        window = values[:count]
        half = count // 2
        upper = select(window, half)
        if count % 2:
            out[i] = upper
        else:  # select left the smaller values in front: the lower middle is their largest
            lower = window[0]
            for j in range(1, half):
                lower = max(lower, window[j])
            out[i] = (lower + upper) / 2
