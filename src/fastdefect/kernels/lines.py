"""Numba kernels for line defects: block sums of a plane (segments), line sums (full lines)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._threads import run_split


def block_sums(plane, block, column_blocks, row_blocks):
    """Column sums over blocks of ``block`` rows and row sums over blocks of ``block`` columns.

    One pass over ``plane`` (2-D unsigned integers, any strides): ``column_blocks[k, c]``
    is the sum of ``plane[k * block : (k + 1) * block, c]`` for every whole block ``k``;
    ``row_blocks[r, j]`` the sum of ``plane[r, j * block : (j + 1) * block]`` for every
    whole block ``j``. Both outputs are uint64 and are overwritten. Block rows run in
    threads; each writes its own rows of both outputs.
    """
    n_tasks = column_blocks.shape[0] + 1  # the last one: rows below the whole blocks
    run_split(_block_sums, n_tasks, plane, block, column_blocks, row_blocks)


@njit(cache=True, nogil=True)
def _block_sums(plane, block, column_blocks, row_blocks, first_block, stop_block):
    height, width = plane.shape
    n_column_blocks = column_blocks.shape[0]
    n_row_blocks = row_blocks.shape[1]
    for k in range(first_block, stop_block):
        first = k * block
        last = min(first + block, height)
        whole = k < n_column_blocks
        if whole:
            column_blocks[k, :] = 0
        for r in range(first, last):
            line = plane[r]
            # Row blocks, then the line into the column blocks: two simple loops that
            # vectorise (3x one loop with a division per pixel).
            for j in range(n_row_blocks):
                total = np.uint64(0)
                for c in range(j * block, (j + 1) * block):
                    total += np.uint64(line[c])
                row_blocks[r, j] = total
            if whole:
                sums = column_blocks[k]
                for c in range(width):
                    sums[c] += np.uint64(line[c])


def line_sums(plane, column_sums, row_sums):
    """Per-column and per-row sums of ``plane`` (2-D unsigned integers, any strides).

    ``column_sums`` (length width) and ``row_sums`` (length height) are uint64 and are
    overwritten. One pass; pieces of rows run in threads, each summing its columns apart.
    """
    height, width = plane.shape
    pieces = max(1, min(height, 8))
    partial = np.zeros((pieces, width), np.uint64)
    step = -(-height // pieces)
    run_split(_line_sums, pieces, plane, step, partial, row_sums)
    partial.sum(axis=0, out=column_sums)


@njit(cache=True, nogil=True)
def _line_sums(plane, step, partial, row_sums, first_piece, stop_piece):
    height, width = plane.shape
    for piece in range(first_piece, stop_piece):
        columns = partial[piece]
        for r in range(piece * step, min((piece + 1) * step, height)):
            line = plane[r]
            total = np.uint64(0)
            for c in range(width):
                value = np.uint64(line[c])
                columns[c] += value
                total += value
            row_sums[r] = total


def block_candidates(blocks, limit, radius, found):
    """Where ``|block - median(its ±radius neighbours in the row, itself included)| > limit``.

    ``blocks`` is 2-D float64 (any strides), ``found`` a boolean array of its shape
    (overwritten). The window is clipped at the row's ends. Exact, without a median per
    block: the median of ``m`` values exceeds ``x`` only when at least ``ceil(m / 2)`` of
    them do (likewise below), so the median is computed only where that many neighbours
    differ from the block by more than ``limit`` in one direction. Rows run in threads.
    """
    run_split(_block_candidate_rows, blocks.shape[0], blocks, float(limit), radius, found)


@njit(cache=True, nogil=True)
def _block_candidate_rows(blocks, limit, radius, found, first_row, stop_row):
    width = blocks.shape[1]
    window = np.empty(2 * radius + 1, np.float64)
    for row in range(first_row, stop_row):
        line = blocks[row]
        for column in range(width):
            low = max(0, column - radius)
            high = min(width, column + radius + 1)
            value = line[column]
            above = 0
            below = 0
            for k in range(low, high):
                if k == column:
                    continue
                difference = line[k] - value
                if difference > limit:
                    above += 1
                elif difference < -limit:
                    below += 1
            size = high - low
            need = (size + 1) // 2
            found[row, column] = False
            if above >= need or below >= need:
                for k in range(size):  # insertion sort: a few values, and quick to compile
                    value_k = line[low + k]
                    m = k
                    while m > 0 and window[m - 1] > value_k:
                        window[m] = window[m - 1]
                        m -= 1
                    window[m] = value_k
                half = size // 2
                median = window[half] if size % 2 else (window[half - 1] + window[half]) / 2
                found[row, column] = abs(value - median) > limit
