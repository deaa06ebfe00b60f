"""Numba kernel for the partial-line (segment) search: block sums of a plane."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, parallel=True)
def block_sums(plane, block, column_blocks, row_blocks):
    """Column sums over blocks of ``block`` rows and row sums over blocks of ``block`` columns.

    One pass over ``plane`` (2-D unsigned integers, any strides): ``column_blocks[k, c]``
    is the sum of ``plane[k * block : (k + 1) * block, c]`` for every whole block ``k``;
    ``row_blocks[r, j]`` the sum of ``plane[r, j * block : (j + 1) * block]`` for every
    whole block ``j``. Both outputs are uint64 and are overwritten. Block rows run in
    parallel; each writes its own rows of both outputs.
    """
    height, width = plane.shape
    n_column_blocks = column_blocks.shape[0]
    n_row_blocks = row_blocks.shape[1]
    columns_used = n_row_blocks * block
    for k in prange(n_column_blocks + 1):
        first = k * block
        last = min(first + block, height)
        if k < n_column_blocks:
            for c in range(width):
                column_blocks[k, c] = 0
        for r in range(first, last):
            line = plane[r]
            for j in range(n_row_blocks):
                row_blocks[r, j] = 0
            for c in range(columns_used):
                value = np.uint64(line[c])
                row_blocks[r, c // block] += value
                if k < n_column_blocks:
                    column_blocks[k, c] += value
            if k < n_column_blocks:
                for c in range(columns_used, width):
                    column_blocks[k, c] += np.uint64(line[c])
