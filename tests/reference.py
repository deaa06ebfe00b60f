"""Plain reference implementations the kernels are checked against (slow, obvious).

Every test that compares fastdefect with a written-out definition imports it from here:
detection (deviations, lines, stack statistics, kinds), the synthetic sensor's truth,
correction, rule verdicts, telegraph evidence and the viewer's tile pyramid.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from fastdefect.rules import (
    FLAG_DENSE_CLUSTER,
    FLAG_LONG_RUN,
    FLAG_NO_LEFT_NEIGHBOUR,
    FLAG_OUTSIDE_SENSOR,
    FLAG_RUN_TOO_LONG,
    FLAG_VERY_DENSE_CLUSTER,
    RuleSet,
)

# -- detection -----------------------------------------------------------------------------


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


# -- the synthetic sensor's truth ----------------------------------------------------------


def line_deviation_without_centre_reference(image: np.ndarray, axis: int) -> np.ndarray:
    """Column (axis 0) or row (axis 1) means minus the median of the +-5 neighbours' means.

    The line itself is left out of the median, unlike :func:`line_deviation_reference`
    (detection's running median, which includes it). The synthetic sensor's tests use this
    one to measure the line defects they planted.
    """
    means = image.mean(axis=axis)
    result = np.empty(means.size)
    for index in range(means.size):
        others = [
            means[j] for j in range(index - 5, index + 6) if j != index and 0 <= j < means.size
        ]
        result[index] = means[index] - np.median(others)
    return result


def horizontal_runs_reference(
    rows: np.ndarray, columns: np.ndarray, step: int
) -> list[tuple[int, int, int]]:
    """Maximal runs (row, first column, length) of pixels ``step`` apart in a row."""
    runs = []
    order = np.lexsort((columns, rows))
    rows, columns = rows[order], columns[order]
    start = 0
    for i in range(1, rows.size + 1):
        if i == rows.size or rows[i] != rows[i - 1] or columns[i] - columns[i - 1] != step:
            runs.append((int(rows[start]), int(columns[start]), i - start))
            start = i
    return runs


# -- runs, correction ----------------------------------------------------------------------


def run_ends(cells, row, column, step=1):
    """First and last column of the run through ``(row, column)``: the pixels of ``cells``
    (a set of ``(row, column)``) ``step`` apart in that row, walked one by one."""
    first = column
    while (row, first - step) in cells:
        first -= step
    last = column
    while (row, last + step) in cells:
        last += step
    return first, last


#: Reason flags of the correction references, as ``fastdefect.correction.REASONS`` codes them.
RUN_TOO_LONG, NO_LEFT_NEIGHBOUR, NO_GOOD_NEIGHBOUR = 1, 2, 4


def left_reference(image, positions, max_run=8, step=1):
    """The camera's rule, literally: copy the nearest unlisted pixel of the same colour to
    the left; leave runs longer than ``max_run`` (0/None: no limit) and pixels with no such
    pixel alone. Returns the corrected image and ``{(row, column): (flags, run_length)}``."""
    listed = {(int(r), int(c)) for r, c in positions}
    out = np.array(image, copy=True)
    status = {}
    for r, c in sorted(listed):
        first, last = run_ends(listed, r, c, step)
        length = (last - first) // step + 1
        flags = 0
        if max_run and length > max_run:
            flags |= RUN_TOO_LONG
        source = c - step
        while source >= 0 and (r, source) in listed:
            source -= step
        if source < 0:
            flags |= NO_LEFT_NEIGHBOUR
        if not flags:
            out[r, c] = image[r, source]
        status[(r, c)] = (flags, length)
    return out, status


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def interpolate_reference(image, positions, method, step=1):
    """Mean / median of the unlisted same-colour pixels in the 3 x 3 plane window, else in
    the 5 x 5 one; rounded half up. Returns the image and ``{(row, column): flags}``."""
    listed = {(int(r), int(c)) for r, c in positions}
    height, width = image.shape
    out = np.array(image, copy=True)
    status = {}
    for r, c in sorted(listed):
        values = []
        for radius in (1, 2):
            values = [
                int(image[r + dr * step, c + dc * step])
                for dr in range(-radius, radius + 1)
                for dc in range(-radius, radius + 1)
                if (dr, dc) != (0, 0)
                and 0 <= r + dr * step < height
                and 0 <= c + dc * step < width
                and (r + dr * step, c + dc * step) not in listed
            ]
            if values:
                break
        if not values:
            status[(r, c)] = NO_GOOD_NEIGHBOUR
            continue
        status[(r, c)] = 0
        if method == "mean":
            out[r, c] = _round_half_up(Fraction(sum(values), len(values)))
        else:
            values.sort()
            half = len(values) // 2
            if len(values) % 2:
                out[r, c] = values[half]
            else:
                out[r, c] = _round_half_up(Fraction(values[half - 1] + values[half], 2))
    return out, status


# -- rules ---------------------------------------------------------------------------------

#: Severity level each verdict flag raises (0 ok, 1 warning, 2 error).
LEVEL_OF_FLAG = {
    FLAG_OUTSIDE_SENSOR: 2,
    FLAG_NO_LEFT_NEIGHBOUR: 2,
    FLAG_RUN_TOO_LONG: 2,
    FLAG_LONG_RUN: 1,
    FLAG_DENSE_CLUSTER: 1,
    FLAG_VERY_DENSE_CLUSTER: 2,
}


def reference_verdicts(rows, columns, rules: RuleSet, context=()):
    """Plain Python: one entry at a time, walking left and right through a set."""

    def on_sensor(r, c):
        return rules.width is None or (r < rules.height and c < rules.width)

    cells = {(r, c) for r, c in [*zip(rows, columns, strict=True), *context] if on_sensor(r, c)}
    result = []
    for r, c in zip(rows, columns, strict=True):
        flags, run = 0, 0
        if not on_sensor(r, c):
            flags |= FLAG_OUTSIDE_SENSOR
        else:
            step = rules.column_step
            left, right = run_ends(cells, r, c, step)
            run = (right - left) // step + 1
            if rules.needs_left_neighbour and left < step:
                flags |= FLAG_NO_LEFT_NEIGHBOUR
            if rules.hard_max_run is not None and run > rules.hard_max_run:
                flags |= FLAG_RUN_TOO_LONG
            elif rules.recommended_max_run is not None and run > rules.recommended_max_run:
                flags |= FLAG_LONG_RUN
            if rules.cluster_radius is not None:
                k = rules.cluster_radius
                count = sum(
                    (r + dr, c + dc) in cells for dr in range(-k, k + 1) for dc in range(-k, k + 1)
                )
                if rules.cluster_error_count is not None and count >= rules.cluster_error_count:
                    flags |= FLAG_VERY_DENSE_CLUSTER
                elif rules.cluster_warn_count is not None and count >= rules.cluster_warn_count:
                    flags |= FLAG_DENSE_CLUSTER
        level = max([0] + [lvl for flag, lvl in LEVEL_OF_FLAG.items() if flags & flag])
        result.append((level, flags, run))
    return result


# -- telegraph, viewer ---------------------------------------------------------------------


def telegraph_reference(values, noise, gap_sigmas=5.0):
    """Plain loops: split the sorted values at wide gaps, label frames, count."""
    ordered = sorted(values)
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(ordered) if b - a > gap_sigmas * noise]
    labels = [sum(v > c for c in cuts) for v in values]
    top = max(labels)
    low = [v for v, label in zip(values, labels, strict=True) if label == 0]
    high = [v for v, label in zip(values, labels, strict=True) if label == top]
    switches = sum(a != b for a, b in itertools.pairwise(labels))
    return top + 1, np.mean(high) - np.mean(low), switches


def reference_halve(array: np.ndarray) -> np.ndarray:
    height, width = array.shape
    out = np.empty(((height + 1) // 2, (width + 1) // 2), array.dtype)
    for row in range(out.shape[0]):
        for column in range(out.shape[1]):
            r0, c0 = 2 * row, 2 * column
            r1, c1 = min(r0 + 1, height - 1), min(c0 + 1, width - 1)
            total = int(array[r0, c0]) + int(array[r1, c0]) + int(array[r0, c1])
            total += int(array[r1, c1])
            out[row, column] = (total + 2) // 4
    return out


def block_candidates_reference(blocks, limit, radius):
    """``|block - median(its ±radius row neighbours, itself included)| > limit``, plainly."""
    height, width = blocks.shape
    found = np.zeros(blocks.shape, bool)
    for row in range(height):
        for column in range(width):
            window = blocks[row, max(0, column - radius) : column + radius + 1]
            found[row, column] = abs(blocks[row, column] - np.median(window)) > limit
    return found


def local_variance_reference(std, rows, columns, step, radius):
    """Median of ``std**2`` over the same-colour neighbours in the block, plainly (numpy)."""
    height, width = std.shape
    out = np.empty(len(rows), np.float64)
    for i, (row, column) in enumerate(zip(rows, columns, strict=True)):
        values = [
            float(std[row + dr * step, column + dc * step]) ** 2
            for dr in range(-radius, radius + 1)
            for dc in range(-radius, radius + 1)
            if (dr, dc) != (0, 0)
            and 0 <= row + dr * step < height
            and 0 <= column + dc * step < width
        ]
        out[i] = np.median(values) if values else np.nan
    return out
