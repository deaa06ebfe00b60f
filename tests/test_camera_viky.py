"""The real Vimba X path: vmbpy (with its bundled VmbC) driving the ``viky.cti`` GenTL
producer from the ``genicam`` package, which simulates three devices.

Nothing is mocked: these tests load a real producer through our VmbC configuration
XML. viky devices have no defect-list features, so list operations must fail with the
clear "defect list not supported: ..." error. What viky cannot show (a camera that
vanishes, incomplete frames) is covered by the simulated camera's tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

vmbpy = pytest.importorskip("vmbpy", reason="vmbpy (Vimba X for Python) is not installed")
genicam = pytest.importorskip("genicam", reason="genicam (ships viky.cti) is not installed")

from fastdefect.camera import (  # noqa: E402
    PRODUCER_ENV,
    UploadFailedError,
    capture_to_tiff,
    default_vmbc_config,
    list_cameras,
    open_camera,
    resolve_producers,
    upload_user_list,
)
from fastdefect.cli import main  # noqa: E402
from fastdefect.errors import CameraError, ExitCode, InputError  # noqa: E402
from fastdefect.frames import open_stack  # noqa: E402

pytestmark = pytest.mark.camera

VIKY_IDS = {"VikyTL_DEV_red": "0", "VikyTL_DEV_green": "1", "VikyTL_DEV_blue": "2"}
VIKY_VENDOR = "Machine Vision Games Ltd."
LIST_FEATURES = (
    "DefectPixelListSelector, DefectPixelListSize, DefectPixelListIndex, "
    "DefectPixelListEntryRow, DefectPixelListEntryColumn, DefectPixelListCommit, "
    "DefectPixelListRevert"
)


@pytest.fixture(scope="module")
def viky_cti() -> Path:
    path = Path(genicam.__file__).with_name("viky.cti")
    if not path.is_file():
        pytest.skip(f"this genicam build ships no viky.cti ({path})")
    return path


@pytest.fixture
def no_producer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRODUCER_ENV, raising=False)


# -- producer resolution --------------------------------------------------------------


def test_shipped_config_allows_the_viky_vendor_and_allied_vision() -> None:
    root = ElementTree.parse(default_vmbc_config()).getroot()
    rules = [(r.get("vendor-type"), r.get("rule")) for r in root.iter("TlRule")]
    assert (VIKY_VENDOR, "allow") in rules
    assert ("AVT", "allow") in rules
    assert rules[-1] == (None, "deny")  # everything else is refused


def test_cti_argument_wins_over_the_environment(viky_cti: Path, tmp_path: Path) -> None:
    config = resolve_producers(viky_cti, environ={PRODUCER_ENV: str(tmp_path)})
    assert config.producers == (viky_cti.resolve(),)
    assert config.source == "--cti"
    assert config.path_configuration() == (str(viky_cti.resolve()), str(config.config_xml))


def test_environment_is_used_without_cti(viky_cti: Path) -> None:
    missing = "/nonexistent/producers"
    env = {PRODUCER_ENV: os.pathsep.join([missing, str(viky_cti.parent)])}
    config = resolve_producers(None, environ=env)
    assert config.producers == (viky_cti.parent.resolve(),)
    assert config.source == PRODUCER_ENV


def test_no_producer_is_a_camera_error_that_says_what_to_do() -> None:
    with pytest.raises(CameraError, match=r"--cti PATH .* GENICAM_GENTL64_PATH") as caught:
        resolve_producers(None, environ={})
    assert caught.value.exit_code == ExitCode.DEVICE


def test_bad_cti_paths_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        resolve_producers(tmp_path / "missing.cti", environ={})
    with pytest.raises(InputError, match=r"holds no \.cti file"):
        resolve_producers(tmp_path, environ={})


# -- the real library with the real producer ------------------------------------------


def test_enumerates_the_three_viky_devices(viky_cti: Path) -> None:
    cameras = list_cameras(viky_cti)
    assert {c.id: c.serial for c in cameras} == VIKY_IDS
    assert {c.vendor for c in cameras} == {VIKY_VENDOR}
    assert {c.transport_layer for c in cameras} == {str(viky_cti.resolve())}
    assert all(c.backend == "vimba" and c.model == "Viky" for c in cameras)


def test_enumerates_through_genicam_gentl64_path(
    viky_cti: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRODUCER_ENV, str(viky_cti.parent))
    assert {c.id for c in list_cameras()} == set(VIKY_IDS)


def test_opens_by_id_and_by_serial(viky_cti: Path) -> None:
    with open_camera("VikyTL_DEV_green", cti=viky_cti) as by_id:
        assert by_id.id == "VikyTL_DEV_green"
        assert by_id.info().serial == "1"
    with open_camera("2", cti=viky_cti) as by_serial:
        assert by_serial.id == "VikyTL_DEV_blue"


def test_unknown_camera_lists_what_was_found(viky_cti: Path) -> None:
    with pytest.raises(
        CameraError, match=r"no camera with id or serial 'GT5120-42'.*VikyTL_DEV_red"
    ):
        open_camera("GT5120-42", cti=viky_cti)


def test_two_cameras_open_at_once_share_one_vimba_session(viky_cti: Path) -> None:
    with open_camera("0", cti=viky_cti) as red, open_camera("1", cti=viky_cti) as green:
        assert (red.id, green.id) == ("VikyTL_DEV_red", "VikyTL_DEV_green")
        assert red.info().width > 0 and green.info().width > 0


def test_info(viky_cti: Path) -> None:
    with open_camera("VikyTL_DEV_red", cti=viky_cti) as camera:
        info = camera.info()
        names = camera.features.names()
    assert info.backend == "vimba"
    assert (info.vendor, info.model, info.serial) == (VIKY_VENDOR, "Viky", "0")
    assert info.width > 0 and info.height > 0
    assert "Mono8" in info.pixel_formats
    assert info.firmware is None  # viky has no DeviceFirmwareVersion
    assert info.temperature_c is None and info.masking is None
    assert not info.defect_list_supported
    assert ", ".join(info.missing_features) == LIST_FEATURES
    assert info.transport_layer == str(viky_cti.resolve())
    assert info.feature_map_confirmed is False
    assert "PixelFormat" in names and not [n for n in names if n.startswith("Defect")]
    json.dumps(info.to_dict())  # what `camera info --json` will print


def test_capture_into_a_multipage_tiff_with_metadata(viky_cti: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    out = tmp_path / "stack.tif"
    with open_camera("VikyTL_DEV_green", cti=viky_cti) as camera:
        before = camera.features.get("PixelFormat")
        info = camera.info()
        capture_to_tiff(camera, out, 3, progress=lambda done, total: seen.append((done, total)))
        # The camera is left as found: viky starts in RGBa8, the capture used Mono8.
        assert camera.features.get("PixelFormat") == before
    assert seen == [(1, 3), (2, 3), (3, 3)]
    stack = open_stack(out)
    assert stack.n_frames == 3
    assert stack.shape == (info.height, info.width)
    assert stack.bit_depth == 8
    assert stack.metadata["camera_model"] == "Viky"
    assert stack.metadata["camera_serial"] == "1"
    frames = list(stack.frames())
    assert all(frame.dtype == np.uint8 for frame in frames)
    assert any(frame.any() for frame in frames)  # viky draws a ball: not a blank image


def test_capture_yields_frames_with_metadata_and_stops_cleanly(viky_cti: Path) -> None:
    with open_camera("VikyTL_DEV_blue", cti=viky_cti) as camera:
        frames = camera.capture(50)
        first = next(frames)
        frames.close()  # abandon the rest: acquisition must stop
        assert first.data.ndim == 2
        assert first.meta.pixel_format == "Mono8"
        assert first.meta.index == 0 and first.meta.retries == 0
        assert first.meta.exposure_us is None  # viky has no exposure feature
        again = list(camera.capture(2))
        assert [frame.meta.index for frame in again] == [0, 1]


def test_capture_refuses_what_viky_cannot_do(viky_cti: Path) -> None:
    with open_camera("VikyTL_DEV_red", cti=viky_cti) as camera:
        with pytest.raises(InputError, match="not an unpacked single-plane format"):
            camera.capture(1, pixel_format="RGBa8")
        with pytest.raises(InputError, match="does not offer pixel format 'Mono12'"):
            camera.capture(1, pixel_format="Mono12")
        with pytest.raises(CameraError, match="no exposure feature"):
            camera.capture(1, exposure_us=1000)
        with pytest.raises(CameraError, match="defect masking not supported: DefectMaskEnable"):
            camera.capture(1, masking=True)
        with pytest.raises(CameraError, match="defect masking not supported: DefectMaskEnable"):
            camera.set_masking(True)


def test_list_operations_say_which_features_are_missing(viky_cti: Path) -> None:
    expected = f"defect list not supported: {LIST_FEATURES}"
    with open_camera("VikyTL_DEV_red", cti=viky_cti) as camera:
        for operation in (
            camera.read_factory_list,
            camera.read_user_list,
            camera.read_merged_list,
            camera.revert,
            lambda: camera.write_user_list([(1, 2)]),
            lambda: upload_user_list(camera, [(1, 2)]),
        ):
            with pytest.raises(CameraError) as caught:
                operation()
            assert str(caught.value).startswith(expected)
            assert not isinstance(caught.value, UploadFailedError)  # nothing was attempted
            assert caught.value.exit_code == ExitCode.DEVICE


def test_a_closed_camera_says_so(viky_cti: Path) -> None:
    camera = open_camera("VikyTL_DEV_red", cti=viky_cti)
    camera.close()
    camera.close()  # twice is harmless
    with pytest.raises(CameraError, match="is closed"):
        camera.info()


# -- the command line on the real path -------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


@pytest.mark.slow
def test_cli_lists_and_describes_real_cameras(
    viky_cti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("FASTDEFECT_STATE_DIR", str(tmp_path / "state"))  # no sim cameras
    code, out, _ = _cli(capsys, "camera", "list", "--cti", viky_cti, "--json")
    assert code == 0
    cameras = json.loads(out)["cameras"]
    assert {c["id"]: c["serial"] for c in cameras} == VIKY_IDS
    assert all(c["list_transfer"] is False for c in cameras)
    assert ", ".join(cameras[0]["missing_features"]) == LIST_FEATURES
    code, _, err = _cli(capsys, "camera", "info", "--cti", viky_cti)
    assert code == 2 and "3 cameras found" in err and "VikyTL_DEV_red" in err
    code, out, _ = _cli(capsys, "camera", "info", "--cti", viky_cti, "-c", "2", "--json")
    info = json.loads(out)
    assert code == 0 and (info["id"], info["vendor"]) == ("VikyTL_DEV_blue", VIKY_VENDOR)
    assert info["transport_layer"] == str(viky_cti.resolve()) and "simulator" not in info


@pytest.mark.slow
def test_cli_capture_and_list_commands_on_a_camera_without_list_features(
    viky_cti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("FASTDEFECT_STATE_DIR", str(tmp_path / "state"))
    camera = ("-c", "VikyTL_DEV_red", "--cti", viky_cti)
    out_file = tmp_path / "viky.tif"
    code, _, _ = _cli(capsys, "camera", "capture", *camera, "-n", 2, "-o", out_file)
    assert code == 0 and open_stack(out_file).n_frames == 2
    lit = tmp_path / "lit.tif"
    code, _, err = _cli(capsys, "camera", "capture", *camera, "-n", 1, "--light", 1, "-o", lit)
    assert code == 2 and "simulated camera only" in err
    code, _, err = _cli(capsys, "camera", "download", *camera, "-o", tmp_path / "l.csv")
    assert code == 3 and f"defect list not supported: {LIST_FEATURES}" in err
    listed = tmp_path / "up.csv"
    listed.write_text("Row, Column\n1, 2\n")
    code, _, err = _cli(capsys, "camera", "upload", listed, *camera, "--backup-dir", tmp_path)
    assert code == 3 and "defect list not supported" in err and "Nothing was written" in err
    assert not list(tmp_path.glob("backup-*.bin"))
    code, _, err = _cli(capsys, "camera", "mask", "on", *camera)
    assert code == 3 and "defect masking not supported: DefectMaskEnable" in err
    code, _, err = _cli(capsys, "camera", "sim-light", "0.5", *camera)
    assert code == 2 and "simulated camera only" in err
    # Live detection through vmbpy: RGBa8 is current, so Mono8 is picked, as capture does.
    code, out, _ = _cli(capsys, "camera", "detect", *camera, "-n", 3, "--yes", "--json")
    assert code == 0 and json.loads(out)["accumulation_frames_per_s"] > 0
    assert json.loads(out)["bit_depth"] == 8
