"""The correction kernels agree exactly with plain, obvious reference implementations.

The references (``reference.left_reference``, ``reference.interpolate_reference``) walk
pixel by pixel over Python sets and use exact fractions; they are written from the
definitions in ``fastdefect.correct`` (not from the kernels).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdefect.correction import REASONS, correct, correct_left, plan_correction
from fastdefect.defects import DefectList, horizontal_runs
from fastdefect.errors import InputError
from fastdefect.kernels.correct import sorted_positions
from fastdefect.rules import FLAG_NO_LEFT_NEIGHBOUR, FLAG_RUN_TOO_LONG, check_list

from reference import (
    NO_LEFT_NEIGHBOUR,
    RUN_TOO_LONG,
    interpolate_reference,
    left_reference,
)

assert REASONS == {1: "run_too_long", 2: "no_left_neighbour", 4: "no_good_neighbour"}


# -- generated inputs ----------------------------------------------------------------------


@st.composite
def scenes(draw, max_height=24, max_width=40):
    """An image and a list with runs of 1..12 (also from column 0/1), lines, clusters,
    border pixels and duplicates, in a random order."""
    height = draw(st.integers(1, max_height))
    width = draw(st.integers(1, max_width))
    dtype = draw(st.sampled_from([np.uint8, np.uint16]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image = rng.integers(0, np.iinfo(dtype).max, (height, width), endpoint=True).astype(dtype)
    step = draw(st.sampled_from([1, 2]))
    positions: list[tuple[int, int]] = []
    for _ in range(draw(st.integers(0, 6))):  # horizontal runs, some from the first column
        r = int(rng.integers(0, height))
        length = int(rng.integers(1, 13))
        if rng.random() < 0.3:  # from the first column of a colour
            start = int(rng.integers(0, min(step, width)))
        else:
            start = int(rng.integers(0, width))
        positions += [(r, c) for c in range(start, width, step)[:length]]
    if rng.random() < 0.3:  # a whole row: longer than any limit
        r = int(rng.integers(0, height))
        positions += [(r, c) for c in range(width)]
    if rng.random() < 0.3:  # a whole column
        c = int(rng.integers(0, width))
        positions += [(r, c) for r in range(height)]
    for _ in range(draw(st.integers(0, 3))):  # square clusters
        side = int(rng.integers(1, 6))
        r0, c0 = int(rng.integers(0, height)), int(rng.integers(0, width))
        positions += [
            (r, c)
            for r in range(r0, min(r0 + side, height))
            for c in range(c0, min(c0 + side, width))
        ]
    for _ in range(draw(st.integers(0, 10))):  # scattered pixels and the corners
        positions.append((int(rng.integers(0, height)), int(rng.integers(0, width))))
    if rng.random() < 0.3:
        positions += [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]
    if positions and rng.random() < 0.5:  # duplicates
        positions += positions[: int(rng.integers(1, len(positions) + 1))]
    rng.shuffle(positions)
    return image, positions, step


def _array(positions):
    return np.asarray(positions, dtype=np.int64).reshape(-1, 2)


# -- exact agreement -------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(scene=scenes(), max_run=st.sampled_from([0, 1, 4, 8]))
def test_left_equals_reference(scene, max_run):
    image, positions, step = scene
    cfa = "RGGB" if step == 2 else None
    plan = plan_correction(_array(positions), image.shape, cfa=cfa, max_run=max_run)
    got = plan.apply(image)
    want, status = left_reference(image, positions, max_run, step)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == image.dtype
    got_status = {
        (int(r), int(c)): (int(f), int(n))
        for r, c, f, n in zip(plan.rows, plan.columns, plan.status, plan.run_lengths, strict=True)
    }
    assert got_status == status
    # The source of every corrected pixel is the pixel left of its run, of its colour.
    corrected = plan.status == 0
    np.testing.assert_array_equal(
        plan.source[corrected],
        plan.rows[corrected] * image.shape[1] + plan.run_starts[corrected] - step,
    )


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(scene=scenes(), method=st.sampled_from(["mean", "median"]))
def test_interpolation_equals_reference(scene, method):
    image, positions, step = scene
    cfa = "GBRG" if step == 2 else None
    result = correct(image, _array(positions), method=method, cfa=cfa)
    want, status = interpolate_reference(image, positions, method, step)
    np.testing.assert_array_equal(result.image, want)
    plan = result.plan
    got_status = {
        (int(r), int(c)): int(f)
        for r, c, f in zip(plan.rows, plan.columns, plan.status, strict=True)
    }
    assert got_status == status
    assert result.report.uncorrected == sum(1 for f in status.values() if f)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(scene=scenes())
def test_sorted_positions_equal_numpy_unique(scene):
    image, positions, _ = scene
    height, width = image.shape
    array = _array(positions)
    # Some entries beyond the image: left out.
    extra = np.array([[height, 0], [0, width], [height + 3, width + 7]], np.int64)
    array = np.concatenate([array, extra])
    keys = np.empty(len(array), np.int64)
    count = sorted_positions(array[:, 0], array[:, 1], height, width, keys)
    inside = (array[:, 0] < height) & (array[:, 1] < width)
    want = np.unique(array[inside, 0] * width + array[inside, 1])
    np.testing.assert_array_equal(keys[:count], want)


@settings(max_examples=60, deadline=None)
@given(scene=scenes())
def test_mono_runs_and_verdicts_agree_with_the_rule_set(scene):
    """On a mono sensor, a pixel is left uncorrected exactly when the av rules call it red
    for its run (too long, or no active pixel to the left)."""
    image, positions, _ = scene
    if not positions:
        return
    defects = DefectList(*_array(positions).T)
    plan = plan_correction(defects, image.shape)
    verdicts = check_list(defects, "av")
    unique = np.unique(defects.linear_index, return_index=True)[1]
    flags = verdicts.flags[unique]
    rule_flags = ((flags & FLAG_RUN_TOO_LONG) > 0) * RUN_TOO_LONG + (
        (flags & FLAG_NO_LEFT_NEIGHBOUR) > 0
    ) * NO_LEFT_NEIGHBOUR
    np.testing.assert_array_equal(plan.status, rule_flags)
    np.testing.assert_array_equal(plan.run_lengths, verdicts.run_lengths[unique])


@settings(max_examples=100, deadline=None)
@given(scene=scenes())
def test_the_planner_runs_are_the_one_run_analysis(scene):
    """The correction planner's runs (its own numba pass) are :func:`horizontal_runs`'."""
    image, positions, step = scene
    plan = plan_correction(_array(positions), image.shape, cfa="RGGB" if step == 2 else None)
    runs = horizontal_runs(plan.rows, plan.columns, step=step)
    np.testing.assert_array_equal(plan.run_lengths, runs.length_of)
    np.testing.assert_array_equal(plan.run_starts, runs.start_of)


# -- edge cases ----------------------------------------------------------------------------


def test_left_edge_cases_by_hand():
    image = np.arange(1, 21, dtype=np.uint16).reshape(2, 10) * 10
    # Row 0: column 0 (no left), run 3..5 (from column 2), column 9 (last).
    # Row 1: run of 9 from column 1 (too long for 8).
    positions = [(0, 0), (0, 3), (0, 4), (0, 5), (0, 9)] + [(1, c) for c in range(1, 10)]
    plan = plan_correction(_array(positions), image.shape)
    out = plan.apply(image)
    np.testing.assert_array_equal(out[0], [10, 20, 30, 30, 30, 30, 70, 80, 90, 90])
    np.testing.assert_array_equal(out[1], image[1])
    report = plan.report()
    assert report.corrected == 4
    assert report.reasons == {"run_too_long": 9, "no_left_neighbour": 1}
    assert "run of 9 (columns 1-9) is longer than the 8" in report.reason(1)
    assert report.reason(0) == "column 0: no active pixel to the left"
    # With the limit raised the long run is corrected from column 0.
    out = correct_left(image, _array(positions), max_run=9)
    np.testing.assert_array_equal(out[1], [110] * 10)
    # No limit at all.
    np.testing.assert_array_equal(correct_left(image, _array(positions), max_run=None)[1], out[1])


def test_bayer_uses_the_same_colour_two_columns_left():
    image = np.arange(12, dtype=np.uint16).reshape(1, 12) * 10
    # Odd columns 1, 3, 5 are one run of one colour starting at that colour's first
    # column: nothing to copy. Even columns 4, 6 are a run that copies column 2.
    positions = [(0, 1), (0, 3), (0, 4), (0, 5), (0, 6)]
    plan = plan_correction(_array(positions), image.shape, cfa="RGGB")
    out = plan.apply(image)
    np.testing.assert_array_equal(out[0], [0, 10, 20, 30, 20, 50, 20, 70, 80, 90, 100, 110])
    assert plan.report().reasons == {"no_left_neighbour": 3}
    assert "of its colour" in plan.report().reason(0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1)])
@pytest.mark.parametrize("method", ["left", "mean", "median"])
def test_one_row_and_one_column_images(shape, method):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 1000, shape).astype(np.uint16)
    positions = [(0, 0)] + ([(shape[0] - 1, shape[1] - 1)] if shape != (1, 1) else [])
    result = correct(image, _array(positions), method=method)
    if method == "left":
        want, _ = left_reference(image, positions)
    else:
        want, _ = interpolate_reference(image, positions, method)
    np.testing.assert_array_equal(result.image, want)
    if shape == (1, 1):
        assert result.report.uncorrected == 1


def test_all_listed_leaves_nothing_to_interpolate():
    image = np.full((4, 5), 7, np.uint8)
    result = correct(image, np.ones(image.shape, bool), method="median")
    assert result.report.uncorrected == 20
    assert result.report.reasons == {"no_good_neighbour": 20}
    np.testing.assert_array_equal(result.image, image)


def test_five_by_five_fallback_and_rounding():
    image = np.zeros((5, 5), np.uint16)
    image[0, :] = [1, 2, 3, 4, 5]
    mask = np.zeros((5, 5), bool)
    mask[1:4, 1:4] = True  # the centre's 3 x 3 is all listed
    result = correct(image, mask, method="mean")
    # Centre: 16 ring pixels, sum 15 -> 15/16 rounds to 1.
    assert result.image[2, 2] == 1
    result = correct(image, mask, method="median")
    assert result.image[2, 2] == 0
    # Half-way means round up: (1 + 2) / 2 for a pixel with two good neighbours.
    image = np.array([[1, 0, 2]], np.uint16)
    assert correct(image, np.array([[0, 1]]), method="mean").image[0, 1] == 2
    assert correct(image, np.array([[0, 1]]), method="median").image[0, 1] == 2


def test_inputs_agree_and_in_place():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 4096, (16, 20)).astype(np.uint16)
    positions = _array([(3, 4), (3, 5), (10, 0), (15, 19), (3, 4)])
    mask = np.zeros(image.shape, bool)
    mask[positions[:, 0], positions[:, 1]] = True
    from_array = correct_left(image, positions)
    np.testing.assert_array_equal(from_array, correct_left(image, mask))
    np.testing.assert_array_equal(from_array, correct_left(image, DefectList(*positions.T)))
    in_place = image.copy()
    assert correct_left(in_place, positions, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, from_array)
    # A non-contiguous view is fine.
    wide = np.zeros((16, 40), np.uint16)
    wide[:, ::2] = image
    np.testing.assert_array_equal(correct_left(wide[:, ::2], positions), from_array)


def test_outside_entries_error_or_ignored():
    image = np.zeros((4, 6), np.uint16)
    positions = _array([(1, 1), (4, 0), (0, 6)])
    with pytest.raises(InputError, match=r"row 4, column 0 is outside the 6 x 4 image \(2 of 3"):
        correct_left(image, positions)
    plan = plan_correction(positions, image.shape, outside="ignore")
    assert len(plan) == 1 and plan.entries == 3
    with pytest.raises(InputError, match="negative"):
        correct_left(image, _array([(-1, 2)]))
    with pytest.raises(InputError, match="mask of shape"):
        correct_left(image, np.zeros((3, 3), bool))
    with pytest.raises(InputError, match="unknown correction method"):
        plan_correction(positions[:1], image.shape, method="nearest")
    with pytest.raises(InputError, match="unsigned"):
        correct(image.astype(np.float32), positions[:1])
