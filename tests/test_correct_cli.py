"""``fastdefect correct`` and ``fastdefect confirm`` end to end: outputs, exit codes, and
nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from conftest import run_cli
from fastdefect.defects import DefectList
from fastdefect.formats import write_list
from fastdefect.frames import write_stack

from reference import left_reference

HEIGHT, WIDTH = 32, 48
POSITIONS = [(2, 0), (5, 10), (5, 11), (5, 12)] + [(9, c) for c in range(20, 30)] + [(31, 47)]


run = run_cli


@pytest.fixture
def data(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(8)
    frames = (64 + rng.integers(0, 6, (3, HEIGHT, WIDTH))).astype(np.uint16)
    for r, c in POSITIONS:
        frames[:, r, c] = 900
    stack = write_stack(tmp_path / "dark.tif", frames, bit_depth=10, metadata={"gain": 0.0})
    single = write_stack(tmp_path / "one.tif", frames[:1], bit_depth=10)
    defects = DefectList(*np.array(POSITIONS).T)
    listed = write_list(tmp_path / "list.csv", defects, "av-csv")
    return {"stack": stack, "single": single, "list": listed, "dir": tmp_path, "frames": frames}


def test_correct_a_stack_page_by_page(data, capsys):
    out = data["dir"] / "fixed.tif"
    code, stdout, _ = run(capsys, "correct", data["stack"], "-d", data["list"], "-o", out)
    assert code == 0
    written = tifffile.imread(out)
    assert written.shape == (3, HEIGHT, WIDTH)
    for frame, got in zip(data["frames"], written, strict=True):
        np.testing.assert_array_equal(got, left_reference(frame, POSITIONS)[0])
    assert "not corrected" in stdout and "run too long" in stdout
    with tifffile.TiffFile(out) as tif:
        metadata = tif.shaped_metadata[0]
    assert metadata["correction_method"] == "left"
    assert metadata["defect_list"] == str(data["list"])
    assert metadata["bit_depth"] == 10 and metadata["gain"] == 0.0


def test_correct_json_summary_and_confirm(data, capsys):
    out = data["dir"] / "fixed.tif"
    code, stdout, _ = run(
        capsys, "correct", data["single"], "-d", data["list"], "-o", out, "--json", "--confirm"
    )
    document = json.loads(stdout)
    correction = document["correction"]
    assert correction["pixels"] == 15 and correction["corrected"] == 4
    assert correction["reasons"] == {"run_too_long": 10, "no_left_neighbour": 1}
    first = correction["uncorrected_pixels"][0]
    assert (first["row"], first["column"], first["reasons"]) == (2, 0, ["no_left_neighbour"])
    confirm = document["confirm"]
    # The run of 10 and the pixel in column 0 stay visible: exit 1 (findings).
    assert confirm["visible"] == 11 and confirm["masked"] is True
    assert code == 1
    # Without --confirm the same correction is not a finding.
    code, _, _ = run(capsys, "correct", data["single"], "-d", data["list"], "-o", out, "--force")
    assert code == 0


@pytest.mark.slow
def test_mean_method_and_confirm_command(data, capsys):
    out = data["dir"] / "mean.tif"
    code, _, _ = run(
        capsys, "correct", data["stack"], "-d", data["list"], "-o", out, "--method", "mean"
    )
    assert code == 0
    code, stdout, _ = run(capsys, "confirm", out, "-d", data["list"], "--method", "mean", "--json")
    document = json.loads(stdout)
    assert code == 0 and document["visible"] == 0 and document["frames"] == 3
    # The uncorrected input: everything listed is still visible.
    code, stdout, _ = run(capsys, "confirm", data["stack"], "-d", data["list"])
    assert code == 1 and "still visible" in stdout


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


@pytest.mark.parametrize(
    "case",
    [
        "outside",
        "sensor_size",
        "unreadable_image",
        "unreadable_list",
        "missing_list",
        "exists",
        "output_is_input",
        "not_tiff",
        "bad_method",
        "above_bit_depth",
    ],
)
def test_bad_input_exits_2_and_writes_nothing(data, capsys, case):
    directory = data["dir"]
    image, listed = data["stack"], data["list"]
    out = directory / "out.tif"
    extra: list[str] = []
    if case == "outside":
        listed = write_list(directory / "far.csv", DefectList([HEIGHT], [3]), "av-csv")
        expected = "outside the 48 x 32 image"
    elif case == "sensor_size":
        listed = write_list(
            directory / "mask.tif", DefectList([1], [1]), "mask", width=WIDTH, height=HEIGHT + 1
        )
        expected = "48 x 33 sensor but the image is 48 x 32"
    elif case == "unreadable_image":
        image = directory / "broken.tif"
        image.write_bytes(b"II*\x00garbage")
        expected = "broken.tif"
    elif case == "unreadable_list":
        listed = directory / "broken.csv"
        listed.write_text("Row, Column\n1, x\n")
        expected = "broken.csv, line 2"
    elif case == "missing_list":
        listed = directory / "nope.csv"
        expected = "nope.csv"
    elif case == "exists":
        out.write_bytes(b"keep me")
        expected = "exists already"
    elif case == "output_is_input":
        out = image
        extra = ["--force"]
        expected = "is an input file"
    elif case == "not_tiff":
        out = directory / "out.png"
        expected = "written as TIFF"
    elif case == "bad_method":
        extra = ["--method", "nearest"]
        expected = "unknown correction method"
    else:
        frames = data["frames"].copy()
        frames[2, 0, 0] = 4000  # above 10 bits, in the last frame: found while writing
        image = write_stack(directory / "hot.tif", frames, bit_depth=10)
        expected = "above the 10-bit full scale"
    before = _snapshot(directory)
    code, stdout, err = run(capsys, "correct", image, "-d", listed, "-o", out, *extra)
    assert code == 2, (stdout, err)
    assert expected in err
    assert _snapshot(directory) == before
