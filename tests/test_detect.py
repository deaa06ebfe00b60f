"""Detection and classification on stacks built by hand (the simulator has its own tests)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fastdefect import frames
from fastdefect.cli import main
from fastdefect.detection import DetectionConfig, Threshold, detect
from fastdefect.errors import InputError

H, W, N = 96, 128, 8


def make_stacks(seed=0, cfa_gains=None):
    """Dark and bright 10-bit stacks with one defect of each kind at known places."""
    rng = np.random.default_rng(seed)
    dark_level = 40 + rng.normal(0, 1, (H, W))
    gain = 1 + rng.normal(0, 0.01, (H, W))
    if cfa_gains is not None:
        for (r0, c0), g in cfa_gains.items():
            gain[r0::2, c0::2] *= g
    bright_level = 650 * gain
    truth = {
        (10, 10): "hot",
        (20, 0): "hot",
        (30, 40): "stuck_high",
        (40, 50): "stuck_low",
        (50, 60): "dark",
        (60, 70): "bright",
        (70, 80): "noisy",
    }

    def frame(bright):
        f = (bright_level if bright else dark_level) + rng.normal(0, 2, (H, W))
        f[10, 10] += 300
        f[20, 0] += 250
        f[30, 40] = 1023
        f[40, 50] = 0
        if bright:
            f[50, 60] *= 0.3
            f[60, 70] *= 1.4
        f[70, 80] += rng.choice([0, 60])  # random telegraph noise
        f[:, 100] += 0 if bright else 60  # a bad column in the dark
        return np.clip(np.round(f), 0, 1023).astype(np.uint16)

    dark = np.stack([frame(False) for _ in range(N)])
    bright = np.stack([frame(True) for _ in range(N)])
    return dark, bright, truth


def kinds_by_pixel(result):
    return {(int(r.row), int(r.column)): r.kind for r in result.defects}


def test_every_kind_found_with_evidence():
    dark, bright, truth = make_stacks()
    result = detect(dark=dark, bright=bright, bit_depth=10)
    found = kinds_by_pixel(result)
    for pixel, kind in truth.items():
        assert found.get(pixel) == kind, (pixel, found.get(pixel))
    column = {p for p, k in found.items() if k == "column"}
    assert column == {(r, 100) for r in range(H)}
    others = {p: k for p, k in found.items() if p not in truth and k != "column"}
    assert others == {}
    rows, columns = result.defects.rows, result.defects.columns
    assert np.all(np.diff(rows * W + columns) > 0)  # sorted by row then column
    hot = result.defects.take(np.flatnonzero((rows == 10) & (columns == 10)))
    evidence = hot.evidence
    assert evidence["dark_deviation"][0] == pytest.approx(300, abs=5)
    assert evidence["dark_mean"][0] == pytest.approx(340, abs=5)
    assert np.isfinite(evidence["bright_mean"][0])
    assert result.counts()["column"] == H


def test_dark_only_and_bright_only():
    dark, bright, _ = make_stacks()
    dark_only = kinds_by_pixel(detect(dark=dark, bit_depth=10))
    assert dark_only[(10, 10)] == "hot" and dark_only[(30, 40)] == "stuck_high"
    assert (50, 60) not in dark_only  # a dark pixel needs light to show
    bright_only = kinds_by_pixel(detect(bright=bright, bit_depth=10))
    assert bright_only[(50, 60)] == "dark" and bright_only[(40, 50)] == "stuck_low"
    assert bright_only[(60, 70)] == "bright"


def test_thresholds_in_every_unit_agree():
    dark, _, _ = make_stacks()
    counts = []
    for threshold in ("102lsb10", "102", "102dn", f"{100 * 102 / 1023}%"):
        config = DetectionConfig(pixel_threshold=threshold)
        result = detect(dark=dark, bit_depth=10, config=config)
        counts.append(len(result.defects))
    assert len(set(counts)) == 1
    # 12-bit data: the default threshold scales to 408 DN.
    result = detect(dark=dark.astype(np.uint16) * 4, bit_depth=12)
    assert result.stacks[0].threshold_dn == 408
    sigma = detect(dark=dark, bit_depth=10, config=DetectionConfig(pixel_threshold="8sigma"))
    assert sigma.stacks[0].threshold_dn == pytest.approx(8 * sigma.stacks[0].deviation_sigma)


def test_threshold_parsing_errors():
    for bad in ("", "abc", "-5", "5 parsecs", "0"):
        with pytest.raises(InputError):
            Threshold.parse(bad)


def test_cfa_detection_uses_same_colour_neighbours():
    # Strong channel differences: a mono median would flag whole colour planes.
    gains = {(0, 0): 0.55, (0, 1): 1.0, (1, 0): 1.0, (1, 1): 1.45}
    _, bright, _ = make_stacks(cfa_gains=gains)
    mono = detect(bright=bright, bit_depth=10)
    assert len(mono.defects) > 1000
    colour = kinds_by_pixel(detect(bright=bright, bit_depth=10, cfa="RGGB"))
    assert colour[(50, 60)] == "dark" and colour[(60, 70)] == "bright"
    assert len(colour) < 20


def test_vote_and_exposure_slope():
    dark, _, _ = make_stacks(seed=1)
    short = dark.copy()
    short[:, 10, 10] -= 280  # the hot pixel barely shows at the short exposure
    result = detect(dark=[short, dark], bit_depth=10, dark_exposures=[1000, 10000])
    found = kinds_by_pixel(result)
    assert found[(10, 10)] == "hot"
    index = np.flatnonzero((result.defects.rows == 10) & (result.defects.columns == 10))[0]
    slope = result.defects.evidence["dark_slope_deviation"][index]
    assert slope == pytest.approx(280 / 9e-3, rel=0.05)  # DN per second
    strict = detect(dark=[short, dark], bit_depth=10, config=DetectionConfig(vote=1.0))
    assert (10, 10) not in kinds_by_pixel(strict)
    with pytest.raises(InputError, match="exposures"):
        detect(dark=[short, dark], bit_depth=10, dark_exposures=[1000])


def test_light_leak_frame_is_reported():
    dark, _, _ = make_stacks()
    dark = dark.copy()
    dark[3] = np.minimum(dark[3] + 200, 1023)
    result = detect(dark=dark, bit_depth=10)
    assert any("frame 4" in w for w in result.warnings)


def test_inconsistent_stacks_rejected():
    dark, bright, _ = make_stacks()
    with pytest.raises(InputError, match="pixels"):
        detect(dark=dark, bright=bright[:, :50])
    with pytest.raises(InputError, match="at least one"):
        detect()


def test_cli_detect_writes_sorted_csv_and_json(tmp_path, capsys):
    dark, bright, truth = make_stacks()
    frames.write_stack(tmp_path / "dark.tif", dark, bit_depth=10, metadata={"exposure_us": 5e4})
    frames.write_stack(tmp_path / "bright.tif", bright, bit_depth=10)
    out = tmp_path / "defects.csv"
    code = main(
        [
            "detect",
            "--dark",
            str(tmp_path / "dark.tif"),
            "--bright",
            str(tmp_path / "bright.tif"),
            "-o",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"]["hot"] == 2 and summary["stacks"][0]["exposure_us"] == 5e4
    lines = out.read_text().splitlines()
    assert lines[0].startswith("row,column,kind,")
    assert len(lines) - 1 == summary["defects"] == len(truth) + H
    keys = [tuple(int(v) for v in line.split(",")[:2]) for line in lines[1:]]
    assert keys == sorted(keys)
    # An existing output is not overwritten without --force, and stays as it was.
    before = out.read_bytes()
    assert main(["detect", "--dark", str(tmp_path / "dark.tif"), "-o", str(out)]) == 2
    assert out.read_bytes() == before
    assert main(["detect", "--dark", str(tmp_path / "dark.tif"), "-o", str(out), "--force"]) == 0


def test_cli_detect_needs_frames(capsys):
    assert main(["detect", "-o", "x.csv"]) == 2
    assert "--dark" in capsys.readouterr().err


def test_one_analysis_classifies_like_fresh_detection_at_every_threshold():
    from fastdefect.detection import analyse

    dark, bright, _ = make_stacks(seed=3)
    analysis = analyse(dark=dark, bright=bright, bit_depth=10, lowest_threshold="20")
    for threshold in ("20", "55.5", "102lsb10", "250", "4%"):
        config = DetectionConfig(pixel_threshold=threshold)
        fresh = detect(dark=dark, bright=bright, bit_depth=10, config=config).defects
        swept = analysis.classify(threshold)
        assert swept == fresh, threshold
    with pytest.raises(InputError, match="analysed"):
        analysis.classify("10")


@pytest.mark.parametrize("threshold", ["102lsb10", "6"])
def test_evidence_deviations_equal_the_definition(threshold):
    # Classification reuses the analysis' deviations, computes missing ones per pixel or,
    # when many are missing (a low threshold), for the whole frame: all must be exact.
    from fastdefect.detection import local_deviation

    dark, bright, _ = make_stacks(seed=4)
    result = detect(dark=dark, bright=bright, bit_depth=10,
                    config=DetectionConfig(pixel_threshold=threshold))  # fmt: skip
    defects = result.defects
    assert len(defects) > 100
    for role, frames_ in (("dark", dark), ("bright", bright)):
        total = frames_.sum(axis=0, dtype=np.uint32)
        want = local_deviation(total, defects.rows, defects.columns) / len(frames_)
        np.testing.assert_array_equal(defects.evidence[f"{role}_deviation"], want)
