"""Sensor model and the command-line shell conventions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fastdefect import __version__
from fastdefect.cli import main
from fastdefect.errors import InputError
from fastdefect.sensor import SensorSpec, lsb10_to_dn, parse_cfa, sensor_preset


def test_presets_and_models():
    assert sensor_preset("PYTHON25K").shape == (5120, 5120)
    assert sensor_preset("python12k").shape == (3072, 4096)
    for name, shape in [
        ("GT5120", (5120, 5120)),
        ("Prosilica GT4096", (4096, 4096)),
        ("gt4090nir", (3072, 4096)),
    ]:
        spec = sensor_preset(name)
        assert spec.shape == shape and spec.bit_depth == 10
    with pytest.raises(InputError, match="unknown sensor"):
        sensor_preset("GT9999")


def test_camera_size_overrides_preset():
    spec = sensor_preset("GT5120").with_size(4096, 2048)
    assert spec.shape == (2048, 4096) and spec.bit_depth == 10


def test_spec_validation_and_units():
    spec = SensorSpec(640, 480, 12, "rggb")
    assert spec.cfa == "RGGB" and spec.channel_names == ("R", "G1", "G2", "B")
    assert spec.full_scale == 4095 and spec.scale_lsb10(102) == 408
    assert SensorSpec(8, 8, 8).dtype.name == "uint8"
    assert lsb10_to_dn(102, 16) == 6528
    for bad in [
        dict(width=0, height=5),
        dict(width=5, height=-1),
        dict(width=5, height=5, bit_depth=17),
        dict(width=70000, height=5),
    ]:
        with pytest.raises(InputError):
            SensorSpec(**bad)
    assert parse_cfa("mono") is None
    with pytest.raises(InputError, match="CFA"):
        parse_cfa("RGBW")


@pytest.mark.slow
def test_version_and_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "fastdefect", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"fastdefect {__version__}"


def test_usage_errors_exit_2_without_traceback(capsys):
    assert main(["detect", "--no-such-option"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_user_errors_are_one_line_and_debug_shows_traceback(tmp_path, capsys):
    missing = str(tmp_path / "missing.tif")
    assert main(["detect", "--dark", missing]) == 2
    err = capsys.readouterr().err
    assert "missing.tif" in err and "Traceback" not in err
    assert main(["--debug", "detect", "--dark", missing]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_error_text_is_printed_literally_not_as_markup(tmp_path, capsys):
    # Square brackets in messages (pip extras, file names) must survive.
    path = tmp_path / "[odd].tif"
    assert main(["detect", "--dark", str(path)]) == 2
    assert "[odd].tif" in capsys.readouterr().err


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    import sys

    from fastdefect.errors import MissingExtraError, import_optional

    monkeypatch.setitem(sys.modules, "rawpy", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"reading raw.*rawpy.*fastdefect\[raw\]"):
        import_optional("rawpy", extra="raw", purpose="reading raw files")
