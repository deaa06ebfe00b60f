"""``fastdefect simulate --preset realistic``: one sensor at three dark exposures, on disk.

The stacks are read back with the project's reader and compared with the Python API's
frames (:func:`realistic_preset`), and ``fastdefect detect`` is run on them as a user
would, with no ``--dark-exposure``: the exposures come from the stacks' metadata.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fastdefect.cli import main
from fastdefect.frames import open_stack
from fastdefect.scoring import load_truth
from fastdefect.simulate import build_sensor, dark_frames, realistic_preset

DARKS = ("dark_100ms.tif", "dark_400ms.tif", "dark_1600ms.tif")
EXPOSURES = (100_000.0, 400_000.0, 1_600_000.0)


@pytest.mark.parametrize(("cfa", "bit_depth"), [(None, 12), ("GRBG", 14)])
def test_preset_writes_three_dark_stacks_with_their_exposure(tmp_path, capsys, cfa, bit_depth):
    out = tmp_path / "sim"
    args = ["simulate", "--out", str(out), "--preset", "realistic", "--width", "256"]
    args += ["--height", "192", "--frames", "6", "--bit-depth", str(bit_depth), "--json"]
    if cfa:
        args += ["--cfa", cfa]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bit_depth"] == bit_depth and summary["cfa"] == cfa
    for name in (*DARKS, "bright.tif", "truth.csv", "warm.csv", "simulation.json"):
        assert (out / name).is_file(), name
    assert not (out / "dark.tif").exists()
    configs = realistic_preset(256, 192, cfa=cfa, seed=1, frames=6, bit_depth=bit_depth)
    for name, exposure, config in zip(DARKS, EXPOSURES, configs, strict=True):
        stack = open_stack(out / name)
        assert stack.metadata["exposure_us"] == exposure
        assert stack.bit_depth == bit_depth
        frames = np.stack(list(stack))
        assert frames.shape == (6, 192, 256)
        assert int(frames.max()) < 2**bit_depth
        # The same bytes as the Python API's frames of that exposure.
        expected = np.stack(list(dark_frames(build_sensor(config))))
        assert np.array_equal(frames, expected)
    record = json.loads((out / "simulation.json").read_text())
    assert record["files"]["dark"] == list(DARKS)
    assert [s["exposure_us"] for s in record["series"]] == list(EXPOSURES)
    assert record["config"]["dark_exposure_us"] == EXPOSURES[-1]  # the truth's exposure


def test_detect_reads_the_exposures_from_the_preset_stacks(tmp_path, capsys):
    out = tmp_path / "sim"
    args = ["simulate", "--out", str(out), "--preset", "realistic", "--width", "384"]
    assert main([*args, "--height", "256", "--frames", "8"]) == 0
    capsys.readouterr()
    darks = [arg for name in DARKS for arg in ("--dark", str(out / name))]
    code = main(["detect", *darks, "--bright", str(out / "bright.tif"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    dark_reports = [s for s in result["stacks"] if s["role"] == "dark"]
    assert [s["exposure_us"] for s in dark_reports] == list(EXPOSURES)
    # Three exposures and a bright stack: K and the read noise extrapolated to zero.
    assert result["noise_model"]["method"] == "photon_transfer"
    truth = load_truth(out / "truth.csv")
    assert result["defects"] >= 0.95 * len(truth)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "unknown preset"),
        (["--preset", "realistic", "--exposure", "5"], "--preset realistic"),
        (["--preset", "realistic", "--bit-depth", "17"], "bit depth"),
    ],
)
def test_bad_preset_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["simulate", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
