"""Correction simulation on images and stacks, and the confirm-masked step.

The simulated sensors carry every kind of defect, runs of 1 to 12, runs from the first
column and bad rows and columns, with ground truth; after ``left`` correction every
correctable defect must be gone by the detection rule, every uncorrectable one reported
for the right reason, and the pixel values must equal the plain reference exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from fastdefect.correction import (
    CONFIRM_REASONS,
    CorrectionPlan,
    check_list_fits,
    confirm_masked,
    correct,
    correct_stack,
    plan_correction,
)
from fastdefect.defects import DefectList
from fastdefect.detection import DetectionConfig
from fastdefect.errors import FileFormatError, InputError
from fastdefect.frames import open_stack, write_stack
from fastdefect.simulate import SimulationConfig, read_truth, simulate_to_directory

from reference import NO_LEFT_NEIGHBOUR, RUN_TOO_LONG, interpolate_reference, left_reference

BIT = {name: bit for bit, name in CONFIRM_REASONS.items()}


@pytest.fixture(scope="module", params=[None, "RGGB"], ids=["mono", "bayer"])
def simulated(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sim")
    config = SimulationConfig(width=256, height=256, frames=4, seed=7, cfa=request.param)
    simulate_to_directory(directory, config)
    truth = read_truth(directory / "truth.csv")
    defects = DefectList(truth["row"], truth["column"], kinds=truth["kind"], source="truth")
    return directory, truth, defects, request.param


def _positions(defects: DefectList) -> list[tuple[int, int]]:
    return list(zip(defects.rows.tolist(), defects.columns.tolist(), strict=True))


@pytest.mark.slow
def test_left_on_simulated_stacks_masks_every_correctable_defect(simulated):
    directory, truth, defects, cfa = simulated
    step = 2 if cfa else 1
    positions = _positions(defects)
    for stack in ("dark", "bright"):
        corrected = correct_stack(directory / f"{stack}.tif", defects, method="left")
        assert corrected.plan.cfa == cfa  # taken from the files' metadata
        source = open_stack(directory / f"{stack}.tif")
        for number, (frame, fixed) in enumerate(zip(source, corrected, strict=True)):
            if number < 2:  # the reference is slow: two frames are plenty
                want, _ = left_reference(frame, positions, 8, step)
                np.testing.assert_array_equal(fixed, want)
        result = corrected.confirm()
        # Every correctable defect is gone; what is still visible was not corrected.
        assert result.masked, result.visible_records(5)
        assert not result.visible_corrected.any()
        assert result.unlisted_rows.size == 0
        assert result.bad_columns.size == 0
        uncorrected = set(
            zip(
                corrected.report.uncorrected_rows.tolist(),
                corrected.report.uncorrected_columns.tolist(),
                strict=True,
            )
        )
        visible = set(
            zip(result.visible_rows.tolist(), result.visible_columns.tolist(), strict=True)
        )
        assert visible <= uncorrected
        # Bad rows are runs across the sensor: uncorrected, and their lines still show.
        bad_rows = set(truth["row"][truth["kind"] == "row"].tolist())
        assert bad_rows and bad_rows <= set(result.bad_rows.tolist())
        # Strong uncorrected defects of this stack are seen as still there.
        deviation = np.abs(truth[f"{stack}_deviation"])
        strong = {
            (r, c)
            for r, c, d in zip(
                truth["row"].tolist(), truth["column"].tolist(), deviation, strict=True
            )
            if d > 2 * result.threshold_dn and (r, c) in uncorrected
        }
        assert strong and strong <= visible


def test_uncorrectable_defects_are_reported_with_their_reasons(simulated):
    directory, truth, defects, cfa = simulated
    step = 2 if cfa else 1
    report = correct_stack(directory / "dark.tif", defects).report
    _, status = left_reference(np.zeros((256, 256), np.uint16), _positions(defects), 8, step)
    flags = {
        (r, c): f
        for r, c, f in zip(
            report.uncorrected_rows.tolist(),
            report.uncorrected_columns.tolist(),
            report.uncorrected_flags.tolist(),
            strict=True,
        )
    }
    assert flags == {p: f for p, (f, _) in status.items() if f}
    assert report.pixels == len(np.unique(defects.linear_index))
    assert report.corrected + report.uncorrected == report.pixels

    def where(mask):
        return set(zip(truth["row"][mask].tolist(), truth["column"][mask].tolist(), strict=True))

    # What the truth says, in words: bad rows are too long, edge runs have nothing to
    # their left, deliberate runs longer than 8 are too long, runs up to 8 and isolated
    # defects away from the first column are corrected.
    source, kind, run = truth["source"], truth["kind"], truth["run_length"]
    assert all(flags[p] & RUN_TOO_LONG for p in where(kind == "row"))
    assert where(source == "edge_run") and all(
        flags[p] & NO_LEFT_NEIGHBOUR for p in where(source == "edge_run")
    )
    assert where((source == "run") & (run > 8))
    assert all(flags[p] & RUN_TOO_LONG for p in where((source == "run") & (run > 8)))
    assert not where((source == "run") & (run <= 8)) & set(flags)
    isolated = np.isin(kind, ["hot", "stuck_high", "stuck_low", "dark", "bright", "noisy"])
    isolated &= (source != "run") & (source != "edge_run") & (truth["column"] >= step)
    assert where(isolated) and not where(isolated) & set(flags)
    # A run of 5 to 8 is corrected but not recommended.
    assert report.not_recommended == int(np.sum((source == "run") & (run > 4) & (run <= 8)))


def test_confirm_reasons():
    rng = np.random.default_rng(11)
    image = (100 + rng.integers(0, 3, (40, 64))).astype(np.uint16)
    image[:, 40:] += 300  # a step: pixels at its foot cannot be copied from the left
    image[10, 9] = image[10, 10] = 800  # (10, 9) is not on the list
    image[:, 20] += 60  # two bad columns, only one listed
    image[:, 21] += 60
    image[30, 5:14] = 900  # a run of 9
    listed = [(10, 10), (20, 40), (30, 2)]
    listed += [(r, 21) for r in range(40)] + [(30, c) for c in range(5, 14)]
    defects = DefectList(*np.array(listed).T)
    result = correct(image, defects)
    confirmed = confirm_masked(result.image, result.plan, bit_depth=10)
    reasons = {
        (r, c): set(CONFIRM_REASONS[b] for b in CONFIRM_REASONS if f & b)
        for r, c, f in zip(
            confirmed.visible_rows.tolist(),
            confirmed.visible_columns.tolist(),
            confirmed.visible_flags.tolist(),
            strict=True,
        )
    }
    assert reasons[(10, 10)] == {"neighbour_defective"}
    assert reasons[(20, 40)] == {"above_threshold"}
    assert all(reasons[(r, 21)] == {"line"} for r in range(40))
    assert all(reasons[(30, c)] == {"run_too_long"} for c in range(5, 14))
    assert (30, 2) not in reasons  # a good pixel on the list: copying its neighbour is fine
    assert not confirmed.masked and not confirmed.clean
    assert confirmed.unlisted_rows.tolist() == [10] and confirmed.unlisted_columns.tolist() == [9]
    assert confirmed.bad_columns.tolist() == [20, 21] or 21 in confirmed.bad_columns.tolist()
    assert confirmed.counts()["line"] == 40
    record = confirmed.visible_records(1)[0]
    assert record["reason"] and record["reasons"]
    # The same check from the list instead of the plan gives the same answer.
    again = confirm_masked(result.image, defects, bit_depth=10)
    np.testing.assert_array_equal(again.visible_flags, confirmed.visible_flags)
    # A stricter threshold in LSB10 at 12 bit is scaled: 102 LSB10 = 408 DN.
    assert confirm_masked(result.image, defects, bit_depth=12).threshold_dn == 408.0


@pytest.mark.slow
def test_confirm_after_interpolation_and_without_good_neighbours():
    rng = np.random.default_rng(2)
    image = (200 + rng.integers(0, 5, (30, 30))).astype(np.uint16)
    image[5:10, 5:10] = 1000  # a 5 x 5 blob, all listed: its centre has no good neighbour
    mask = np.zeros(image.shape, bool)
    mask[5:10, 5:10] = True
    for method in ("mean", "median"):
        result = correct(image, mask, method=method)
        want, _ = interpolate_reference(image, np.argwhere(mask).tolist(), method)
        np.testing.assert_array_equal(result.image, want)
        assert result.report.reasons == {"no_good_neighbour": 1}
        confirmed = confirm_masked(result.image, mask, method=method, bit_depth=10)
        assert confirmed.visible_rows.tolist() == [7] and confirmed.visible_columns.tolist() == [7]
        assert confirmed.visible_flags.tolist() == [BIT["no_good_neighbour"]]
        assert confirmed.masked and not confirmed.clean


def test_stack_streams_and_writes_metadata(tmp_path):
    rng = np.random.default_rng(4)
    frames = rng.integers(0, 1024, (5, 24, 31)).astype(np.uint16)
    source = write_stack(
        tmp_path / "in.tif", frames, bit_depth=10, metadata={"exposure_us": 1000.0, "cfa": "GRBG"}
    )
    positions = [(0, 0), (3, 4), (3, 5), (3, 6), (23, 30), (12, 2)]
    defects = DefectList(*np.array(positions).T)
    corrected = correct_stack(source, defects, method="left")
    assert corrected.plan.cfa == "GRBG" and corrected.n_frames == 5
    out = corrected.write(tmp_path / "out.tif", accumulate=True)
    assert corrected._total is not None
    written = tifffile.imread(out)
    assert written.shape == frames.shape and written.dtype == np.uint16
    for frame, got in zip(frames, written, strict=True):
        want, _ = left_reference(frame, positions, 8, 2)
        np.testing.assert_array_equal(got, want)
    reopened = open_stack(out)
    assert reopened.bit_depth == 10
    assert reopened.metadata["exposure_us"] == 1000.0 and reopened.metadata["cfa"] == "GRBG"
    with tifffile.TiffFile(out) as tif:
        description = tif.shaped_metadata[0]
    assert description["correction_method"] == "left"
    assert description["correction"]["uncorrected"] == corrected.report.uncorrected
    # confirm() reuses the sum made while writing; a fresh pass gives the same answer.
    first = corrected.confirm()
    second = confirm_masked(out, defects)
    np.testing.assert_array_equal(first.visible_flags, second.visible_flags)
    assert first.n_frames == second.n_frames == 5
    # An in-memory stack gives the same frames.
    np.testing.assert_array_equal(correct(frames, defects, cfa="GRBG").image, written)


def test_plan_is_reusable_and_checks_frames():
    plan = plan_correction(np.array([[1, 1]]), (3, 4))
    assert isinstance(plan, CorrectionPlan) and len(plan) == 1
    with pytest.raises(InputError, match="does not fit a plan"):
        plan.apply(np.zeros((4, 3), np.uint16))
    frame = np.arange(12, dtype=np.uint16).reshape(3, 4)
    out = np.zeros_like(frame)
    assert plan.apply(frame, out) is out and out[1, 1] == 4
    with pytest.raises(InputError, match="out is"):
        plan.apply(frame, np.zeros((3, 4), np.uint8))


def test_lists_that_do_not_fit():
    image = np.zeros((10, 12), np.uint16)
    stated = DefectList([1], [1], metadata={"width": 4096, "height": 3072})
    with pytest.raises(InputError, match="4096 x 3072 sensor but the image is 12 x 10"):
        correct(image, stated)
    with pytest.raises(InputError, match="another sensor"):
        correct(image, DefectList([10], [0]))
    with pytest.raises(InputError, match="12 x 10"):
        check_list_fits(DefectList([0], [1]), image.shape, width=12, height=11)
    check_list_fits(DefectList([9], [11]), image.shape, width=12, height=10)


def test_bad_stack_inputs(tmp_path):
    defects = DefectList([1], [1])
    with pytest.raises(InputError, match="no such file"):
        correct_stack(tmp_path / "missing.tif", defects)
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"not a tiff at all")
    with pytest.raises(FileFormatError):
        correct_stack(garbage, defects)
    with pytest.raises(InputError, match="sigmas"):
        confirm_masked(
            np.zeros((8, 8), np.uint16),
            defects,
            config=DetectionConfig(pixel_threshold="6sigma"),
        )
    with pytest.raises(InputError, match="give the defect list"):
        confirm_masked(np.zeros((8, 8), np.uint16))
