"""The detection kernels agree exactly with the plain definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdefect.detection import deviation_outliers, line_deviations, local_deviation
from fastdefect.frames import FrameStack
from fastdefect.stats import find_outlier_frames, stack_stats

from reference import (
    deviation_outliers_reference,
    line_deviation_reference,
    neighbour_deviation_reference,
    stack_stats_reference,
)

DTYPES = (np.uint8, np.uint16, np.uint32)
METHODS = ("auto", "bounded", "full")


@st.composite
def images(draw, max_side=40):
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    level = draw(st.integers(0, 200))
    spread = draw(st.sampled_from([0, 1, 3, 10]))
    image = (level + rng.integers(0, spread + 1, (height, width))).astype(dtype)
    # Outliers of both signs, some in clusters, some on the borders.
    for _ in range(draw(st.integers(0, 8))):
        r, c = rng.integers(0, height), rng.integers(0, width)
        image[r, c] = rng.choice([0, 255, level + 40, max(level - 40, 0)])
    return image


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    image=images(),
    threshold=st.sampled_from([0.5, 3.0, 7.5, 20.0, 39.0]),
    n_frames=st.sampled_from([1, 2, 5]),
    cfa=st.sampled_from([None, "RGGB"]),
    size=st.sampled_from([3, 5, 7, 9]),
)
def test_deviation_outliers_equal_brute_force(image, threshold, n_frames, cfa, size):
    ref_rows, ref_columns, ref_deviation = deviation_outliers_reference(
        image, threshold, cfa=cfa, size=size, n_frames=n_frames
    )
    # Every path: candidates of the bound, the full-frame deviation, and the automatic
    # choice between them.
    for method in METHODS:
        rows, columns, deviation = deviation_outliers(
            image, threshold, cfa=cfa, size=size, n_frames=n_frames, method=method
        )
        np.testing.assert_array_equal(rows, ref_rows, err_msg=method)
        np.testing.assert_array_equal(columns, ref_columns, err_msg=method)
        np.testing.assert_array_equal(deviation, ref_deviation, err_msg=method)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(image=images(), cfa=st.sampled_from([None, "GBRG"]))
def test_local_deviation_equals_brute_force_everywhere(image, cfa):
    rows, columns = np.indices(image.shape).reshape(2, -1)
    got = local_deviation(image, rows, columns, cfa=cfa)
    want = neighbour_deviation_reference(image, 3, cfa)[rows, columns]
    np.testing.assert_array_equal(got, want)


def test_asymmetric_thresholds_and_disabled_direction():
    image = np.full((20, 20), 100, np.uint16)
    image[5, 5] = 200
    image[10, 10] = 10
    rows, columns, _ = deviation_outliers(image, np.inf, low_threshold=50)
    assert list(zip(rows, columns, strict=True)) == [(10, 10)]
    rows, columns, _ = deviation_outliers(image, 50, low_threshold=np.inf)
    assert list(zip(rows, columns, strict=True)) == [(5, 5)]


@pytest.mark.slow
def test_full_frame_with_clustered_outliers_is_exact():
    rng = np.random.default_rng(7)
    image = rng.normal(400, 3, (300, 500)).round().astype(np.uint16)
    # Dense clusters (more than the bound's tolerance of 3 outliers) and a dead block.
    image[100:104, 200:206] = 1023
    image[50:53, 50:53] = 0
    idx = rng.integers(0, 300, 400), rng.integers(0, 500, 400)
    image[idx] = rng.choice([0, 1023, 520, 280], 400)
    for threshold in (10.0, 102.0, 400.0):
        want = deviation_outliers_reference(image, threshold)
        for method in METHODS:
            got = deviation_outliers(image, threshold, method=method)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=method)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    image=images(max_side=30), n_frames=st.sampled_from([1, 3]), cfa=st.sampled_from([None, "RGGB"])
)
def test_line_deviations_equal_brute_force(image, n_frames, cfa):
    columns, rows = line_deviations(image, n_frames=n_frames, cfa=cfa)
    planes = [(0, 0, 1)] if cfa is None else [(r, c, 2) for r in (0, 1) for c in (0, 1)]
    # Per column (row): the deviations of every plane through it; the function reports
    # the one of largest magnitude.
    candidates_columns = [[] for _ in range(image.shape[1])]
    candidates_rows = [[] for _ in range(image.shape[0])]
    for r0, c0, step in planes:
        plane = image[r0::step, c0::step].astype(np.float64)
        if plane.size == 0:
            continue
        for i, value in enumerate(line_deviation_reference(plane.mean(axis=0) / n_frames)):
            candidates_columns[c0 + step * i].append(value)
        for i, value in enumerate(line_deviation_reference(plane.mean(axis=1) / n_frames)):
            candidates_rows[r0 + step * i].append(value)
    for got, candidates in ((columns, candidates_columns), (rows, candidates_rows)):
        for value, options in zip(got, candidates, strict=True):
            largest = max(abs(v) for v in options)
            assert abs(abs(value) - largest) < 1e-9
            # The sign is determined unless planes tie in magnitude with opposite signs.
            if all(abs(v) < largest - 1e-9 or np.sign(v) == np.sign(value) for v in options):
                assert any(abs(v - value) < 1e-9 for v in options)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    height=st.integers(1, 20),
    width=st.integers(1, 20),
    bits=st.sampled_from([8, 10, 16]),
    seed=st.integers(0, 2**31),
)
def test_stack_stats_exact(n, height, width, bits, seed):
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if bits == 8 else np.uint16
    frames = rng.integers(0, 2**bits, (n, height, width)).astype(dtype)
    stats = stack_stats(FrameStack.from_array(frames, bit_depth=bits))
    total, std, minimum, maximum, frame_means = stack_stats_reference(frames)
    np.testing.assert_array_equal(stats.total, total)
    np.testing.assert_allclose(stats.std, std, rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(stats.minimum, minimum)
    np.testing.assert_array_equal(stats.maximum, maximum)
    np.testing.assert_allclose(stats.frame_means, frame_means, rtol=1e-12)


def test_stack_stats_picks_wide_enough_accumulators():
    frames = np.full((3, 4, 4), 65535, np.uint16)
    stats = stack_stats(FrameStack.from_array(frames, bit_depth=16))
    assert stats.total.dtype == np.uint32
    assert int(stats.total[0, 0]) == 3 * 65535
    # Squares of 16-bit values overflow 32 bits: the std must still be exactly zero.
    assert float(stats.std.max()) == 0.0


def test_outlier_frames_reported():
    means = np.array([100.0, 100.5, 99.8, 100.2, 180.0, 100.1])
    assert find_outlier_frames(means, 1023) == [(4, 180.0)]
    assert find_outlier_frames(means[:4], 1023) == []


@pytest.mark.parametrize("bad", [np.zeros((3, 3), np.float32), np.zeros((2, 3, 3), np.uint16)])
def test_bad_images_rejected(bad):
    from fastdefect.errors import InputError

    with pytest.raises(InputError):
        deviation_outliers(bad, 10)
