"""Partial line defects (segments): the worked example of docs/detection.md and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from fastdefect.detection import DetectionConfig, LineSegment, detect, line_segments
from fastdefect.errors import InputError
from fastdefect.kernels.lines import block_candidates, block_sums, line_sums

from reference import block_candidates_reference


def flat(height, width, level=256.0, noise=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(level + rng.normal(0, noise, (height, width))), 0, 4095).astype(
        np.uint16
    )


def test_worked_example_of_the_docs():
    """Column 1000 (here 30) 260 DN high on rows 200-327, line threshold 192 DN."""
    image = flat(3072, 64)
    image[200:328, 30] += 260
    assert line_segments(image, 192.0) == [
        LineSegment("column", 30, 200, 327, pytest.approx(260, abs=3))
    ]
    # The full-line rule averages it away: 260 * 128 / 3072 = 10.8 DN.
    column_mean = image[:, 30].mean() - np.median(image[:, 25:36].mean(axis=0))
    assert column_mean == pytest.approx(10.8, abs=1)


def test_rows_negative_segments_and_sums_of_frames():
    image = flat(96, 400)
    image[50, 17:90] -= 220  # a darker stretch of a row, 73 columns
    segments = line_segments(image.astype(np.uint32) * 4, 192.0, n_frames=4)
    assert segments == [LineSegment("row", 50, 17, 89, pytest.approx(-220, abs=3))]


def test_short_stretches_and_point_defects_are_not_segments():
    image = flat(256, 64)
    image[10:40, 20] += 300  # 30 rows: shorter than the 32 asked for
    image[100:108, 40] += 3000  # a run of 8 very hot pixels in one column
    image[150, 10:14] += 3000
    assert line_segments(image, 192.0) == []
    assert line_segments(image, 192.0, min_length=24)[0] == LineSegment(
        "column", 20, 10, 39, pytest.approx(300, abs=3)
    )


def test_bayer_segments_stay_in_their_colour_plane():
    image = flat(400, 80)
    image[101:300:2, 41] += 250  # plane (1, 1): sensor rows 101, 103, ..., 299
    assert line_segments(image, 192.0, cfa="RGGB") == [
        LineSegment("column", 41, 101, 299, pytest.approx(250, abs=3))
    ]


def test_detect_reports_segment_pixels_with_their_extent():
    rng = np.random.default_rng(1)
    frames = np.clip(np.rint(256 + rng.normal(0, 3, (6, 300, 120))), 0, 4095).astype(np.uint16)
    frames[:, 40:140, 70] += 250
    result = detect(dark=frames, bit_depth=12)
    line = result.defects.take(result.defects.kinds == "column")
    assert set(line.rows.tolist()) == set(range(40, 140)) and set(line.columns.tolist()) == {70}
    assert np.all(line.evidence["segment_start"] == 40)
    assert np.all(line.evidence["segment_end"] == 139)
    assert np.allclose(line.evidence["column_deviation"], 250, atol=3)
    shorter = detect(dark=frames, bit_depth=12, config=DetectionConfig(segment_length=128))
    assert "column" not in shorter.counts()
    with pytest.raises(InputError, match="segment length"):
        DetectionConfig(segment_length=1)


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (33, 70), (64, 64), (65, 17)])
@pytest.mark.parametrize("block", [1, 3, 16])
@pytest.mark.parametrize("step", [1, 2])
def test_block_sums_kernel_equals_numpy(shape, block, step):
    rng = np.random.default_rng(sum(shape) + block)
    image = rng.integers(0, 2**32 - 1, shape, dtype=np.uint64).astype(np.uint32)
    plane = image[::step, 1 % shape[1] :: step] if step == 2 else image
    height, width = plane.shape
    columns = np.full((height // block, width), 7, np.uint64)
    rows = np.full((height, width // block), 7, np.uint64)
    block_sums(plane, block, columns, rows)
    expected_columns = (
        plane[: height // block * block].astype(np.uint64).reshape(-1, block, width).sum(axis=1)
    )
    expected_rows = (
        plane[:, : width // block * block].astype(np.uint64).reshape(height, -1, block).sum(axis=2)
    )
    assert np.array_equal(columns, expected_columns)
    assert np.array_equal(rows, expected_rows)


@pytest.mark.parametrize("shape", [(0, 4), (3, 0), (1, 1), (7, 5), (33, 70), (65, 17)])
@pytest.mark.parametrize("step", [1, 2])
def test_line_sums_kernel_equals_numpy(shape, step):
    rng = np.random.default_rng(sum(shape) + step)
    image = rng.integers(0, 2**32 - 1, shape, dtype=np.uint64).astype(np.uint32)
    plane = image[::step, ::step]
    columns = np.full(plane.shape[1], 7, np.uint64)
    rows = np.full(plane.shape[0], 7, np.uint64)
    line_sums(plane, columns, rows)
    assert np.array_equal(columns, plane.sum(axis=0, dtype=np.uint64))
    assert np.array_equal(rows, plane.sum(axis=1, dtype=np.uint64))


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (9, 11), (40, 333)])
@pytest.mark.parametrize("radius", [1, 5])
@pytest.mark.parametrize("limit", [0.5, 3.0, 40.0])
def test_block_candidates_kernel_equals_the_definition(shape, radius, limit):
    rng = np.random.default_rng(shape[0] * 7 + radius)
    # Few levels, so ties and values exactly at the limit occur; some wild blocks.
    blocks = rng.integers(0, 8, shape).astype(np.float64) * 0.5
    blocks[rng.random(shape) < 0.05] += 100.0
    for view in (blocks, blocks.T):  # the row axis hands a transposed view
        found = np.ones(view.shape, bool)
        block_candidates(view, limit, radius, found)
        np.testing.assert_array_equal(found, block_candidates_reference(view, limit, radius))


def test_faint_full_lines_in_sigmas_only_when_asked():
    """A column 0.3 x the line threshold high: below the datasheet rule, far above the
    noise of a 300-pixel column mean; found with line_sigma, never by default."""
    rng = np.random.default_rng(7)
    frames = np.clip(np.rint(256 + rng.normal(0, 8, (4, 300, 200))), 0, 4095).astype(np.uint16)
    frames[:, :, 120] += 58  # 0.3 x 192 DN
    default = detect(dark=frames, bit_depth=12)
    assert "column" not in default.counts()
    faint = detect(dark=frames, bit_depth=12, config=DetectionConfig(line_sigma=8))
    line = faint.defects.take(faint.defects.kinds == "column")
    assert set(line.columns.tolist()) == {120} and len(line) == 300
    assert "row" not in faint.counts()  # no chance line in a clean 200 x 300 stack
    with pytest.raises(InputError, match="line sigma"):
        DetectionConfig(line_sigma=0)
