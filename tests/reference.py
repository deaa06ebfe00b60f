"""Plain reference implementations the kernels are checked against (slow, obvious)."""

from __future__ import annotations

import numpy as np


def plane_slices(shape, cfa):
    """(row offset, column offset, step) per colour plane, as detection defines them."""
    if cfa is None:
        return [(0, 0, 1)]
    return [(r, c, 2) for r in (0, 1) for c in (0, 1) if r < shape[0] and c < shape[1]]


def neighbour_deviation_reference(image, radius=3, cfa=None):
    """value - median(same-colour neighbours in the block, centre excluded, clipped).

    Vectorised but literal: every pixel's block is cut out of a NaN-padded plane, its
    centre dropped, the rest sorted (NaNs last) and the middle of the valid values taken
    (0 deviation when nothing is left).
    """
    image = np.asarray(image)
    out = np.zeros(image.shape, np.float64)
    size = 2 * radius + 1
    centre = (size * size) // 2
    for r0, c0, step in plane_slices(image.shape, cfa):
        plane = image[r0::step, c0::step].astype(np.float64)
        padded = np.pad(plane, radius, constant_values=np.nan)
        blocks = np.lib.stride_tricks.sliding_window_view(padded, (size, size))
        blocks = blocks.reshape(*plane.shape, size * size)
        neighbours = np.sort(np.delete(blocks, centre, axis=-1), axis=-1)
        count = np.count_nonzero(~np.isnan(neighbours), axis=-1)
        low = np.take_along_axis(neighbours, ((count - 1) // 2)[..., None], -1)[..., 0]
        high = np.take_along_axis(neighbours, (count // 2)[..., None], -1)[..., 0]
        median = np.where(count > 0, (low + high) / 2, plane)
        out[r0::step, c0::step] = plane - median
    return out


def deviation_outliers_reference(image, threshold, cfa=None, size=7, n_frames=1, low=None):
    low = threshold if low is None else low
    deviation = neighbour_deviation_reference(image, size // 2, cfa)
    mask = (deviation > threshold * n_frames) | (-deviation > low * n_frames)
    rows, columns = np.nonzero(mask)
    return rows, columns, deviation[rows, columns] / n_frames


def line_deviation_reference(profile, radius=5):
    profile = np.asarray(profile, np.float64)
    return np.array(
        [
            profile[i] - np.median(profile[max(i - radius, 0) : i + radius + 1])
            for i in range(profile.size)
        ]
    )


def stack_stats_reference(frames):
    stack = np.asarray(frames).astype(np.int64)
    std = stack.std(axis=0, ddof=1) if len(stack) > 1 else np.zeros(stack.shape[1:])
    return stack.sum(axis=0), std, stack.min(axis=0), stack.max(axis=0), stack.mean(axis=(1, 2))


def kind_contradictions(defects):
    """Entries whose kind disagrees with the sign of their deviations (plain rules).

    ``hot`` needs a positive dark deviation, ``stuck_high`` a positive one anywhere,
    ``bright`` a positive bright (saturated) one, ``dark`` a negative one anywhere,
    ``stuck_low`` a negative bright (saturated) one. Returns ``(row, column, kind)``.
    """
    evidence = defects.evidence
    nan = np.full(len(defects), np.nan)
    dark = evidence.get("dark_deviation", nan)
    bright = evidence.get("bright_deviation", nan)
    saturated = evidence.get("saturated_deviation", nan)
    bad = []
    for i, kind in enumerate(defects.kinds.tolist()):
        light = [bright[i], saturated[i]]
        ok = {
            "hot": dark[i] > 0,
            "stuck_high": any(v > 0 for v in (dark[i], *light)),
            "stuck_low": any(v < 0 for v in light),
            "dark": any(v < 0 for v in (dark[i], *light)),
            "bright": any(v > 0 for v in light),
        }.get(kind, True)
        if not ok:
            bad.append((int(defects.rows[i]), int(defects.columns[i]), kind))
    return bad


def block_candidates_reference(blocks, limit, radius):
    """``|block - median(its ±radius row neighbours, itself included)| > limit``, plainly."""
    height, width = blocks.shape
    found = np.zeros(blocks.shape, bool)
    for row in range(height):
        for column in range(width):
            window = blocks[row, max(0, column - radius) : column + radius + 1]
            found[row, column] = abs(blocks[row, column] - np.median(window)) > limit
    return found
