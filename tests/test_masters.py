"""Master frames: detection from one combined dark/flat, as other tools write them.

A simulated sensor's dark and bright stacks are combined the way ccdproc does
(``astropy.nddata.CCDData`` of the float32 mean, ``NCOMBINE`` and ``IMAGETYP`` in the
header, written as FITS) and as a float TIFF; detection on the masters must find the
level defects detection on the stacks finds, say it had no temporal evidence, and find
no noisy pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from fastdefect.cli import main
from fastdefect.detection import detect
from fastdefect.errors import FileFormatError, InputError
from fastdefect.formats import read_list
from fastdefect.frames import open_stack
from fastdefect.masters import MASTER_SCALE, is_master_file, read_master
from fastdefect.simulate import SimulationConfig, simulate_to_directory

fits = pytest.importorskip("astropy.io.fits")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    directory = tmp_path_factory.mktemp("masters")
    result = simulate_to_directory(
        directory / "sim", SimulationConfig(width=384, height=320, frames=12, seed=21)
    )
    means = {}
    for role in ("dark", "bright"):
        frames = open_stack(result.files[role]).read_all()
        means[role] = frames.mean(axis=0, dtype=np.float64).astype(np.float32)
    return {"result": result, "dir": directory, "means": means}


def ccdproc_like(path, data, kind, ncombine=12):
    """A master as ccdproc.combine's result is written: CCDData, float32, in adu."""
    from astropy.nddata import CCDData

    ccd = CCDData(data, unit="adu", meta={"IMAGETYP": kind, "NCOMBINE": ncombine})
    ccd.header["EXPTIME"] = 0.5
    ccd.write(path)
    return path


def level_defects(defects):
    keep = defects.kinds != "noisy"
    return {
        (int(r), int(c)) for r, c in zip(defects.rows[keep], defects.columns[keep], strict=True)
    }


def test_ccdproc_master_dark_and_flat_find_the_stack_defects(simulated):
    directory, means = simulated["dir"], simulated["means"]
    dark = ccdproc_like(directory / "master_dark.fits", means["dark"], "Master Dark")
    flat = ccdproc_like(directory / "master_flat.fits", means["bright"], "Master Flat")
    assert fits.getheader(dark)["BITPIX"] == -32
    assert is_master_file(dark) and is_master_file(flat)
    config = simulated["result"].config
    from_stacks = detect(
        dark=simulated["result"].files["dark"],
        bright=simulated["result"].files["bright"],
        bit_depth=config.bit_depth,
    )
    # Recognised from the FITS header alone: given as ordinary stacks.
    from_masters = detect(dark=str(dark), bright=str(flat), bit_depth=config.bit_depth)
    assert [s.temporal_evidence for s in from_masters.stacks] == [False, False]
    assert [s.n_frames for s in from_masters.stacks] == [1, 1]
    assert from_masters.stacks[0].exposure_us == 500000.0
    assert "noisy" not in from_masters.counts()
    assert any("no temporal evidence" in w for w in from_masters.warnings)
    expected = level_defects(from_stacks.defects)
    found = level_defects(from_masters.defects)
    # The mean holds the same levels: the same pixels, up to rounding at the threshold.
    assert len(expected) > 50
    assert len(expected & found) >= 0.97 * len(expected)
    assert len(found - expected) <= 0.03 * len(expected)
    truth = read_list(simulated["result"].files["truth"])
    hot = {(int(r), int(c)) for r, c in truth.positions()[truth.kinds == "hot"]}
    assert len(hot & found) >= 0.9 * len(hot)


def test_a_bias_subtracted_float_tiff_master_through_the_cli(simulated, tmp_path, capsys):
    dark = simulated["means"]["dark"]
    subtracted = dark - np.float32(np.median(dark))  # bias-subtracted: negative values
    assert subtracted.min() < 0
    path = tmp_path / "master_dark.tif"
    tifffile.imwrite(path, subtracted)
    assert not is_master_file(path)  # a float TIFF is named a master explicitly
    master = read_master(path, bit_depth=10)
    assert master.offset == pytest.approx(-float(subtracted.min()))
    stats = master.stack_stats()
    assert stats.n_frames == MASTER_SCALE and not stats.std.any()
    np.testing.assert_allclose(
        stats.total / MASTER_SCALE, subtracted + master.offset, atol=0.5 / MASTER_SCALE
    )
    out = tmp_path / "found.csv"
    code = main(["detect", "--dark-master", str(path), "--bit-depth", "10", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "no temporal evidence" in captured.err and "lifted by" in captured.err
    assert "master" in captured.out
    found = read_list(out)
    assert len(found) > 20 and "noisy" not in set(found.kinds.tolist())
    # The same pixels as from the master without the subtraction: deviations are relative.
    plain = detect(dark=read_master(simulated["means"]["dark"], bit_depth=10))
    hot = lambda d: level_defects(d.filter(kinds=["hot"]))  # noqa: E731
    assert hot(found) == hot(plain.defects)


def test_bad_masters_are_refused(tmp_path):
    data = np.ones((16, 16), np.float32)
    data[3, 4] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", data)
    with pytest.raises(FileFormatError, match=r"NaN or infinite .*row 3, column 4"):
        read_master(tmp_path / "nan.tif")
    tifffile.imwrite(
        tmp_path / "cube.tif", np.ones((3, 8, 8), np.float32), photometric="minisblack"
    )
    with pytest.raises(FileFormatError, match="one 2-D image"):
        read_master(tmp_path / "cube.tif")
    with pytest.raises(InputError, match="above the 10-bit full scale"):
        read_master(np.full((8, 8), 2000.5), bit_depth=10)
    with pytest.raises(InputError, match="no such file"):
        read_master(tmp_path / "missing.fits")
    guessed = read_master(np.full((8, 8), 900.25))
    assert (guessed.bit_depth, guessed.bit_depth_origin) == (10, "guessed")
