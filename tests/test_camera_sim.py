"""The simulated GT camera: vendor semantics, persistence, masking and faults.

The simulated camera runs through the real GenICam GenApi library (``genicam``): a node
map built from our ``sim_gt.xml`` with a Python register port. No mocks; the only
simulated part is the device behind the port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

pytest.importorskip("genicam", reason="the simulated camera needs genicam (GenICam GenApi)")

from fastdefect.camera import (
    GT_PYTHON,
    SIM_FAULT_ENV,
    STATE_DIR_ENV,
    CameraBackup,
    FaultPlan,
    SimCamera,
    UploadFailedError,
    capture_to_tiff,
    is_sim_spec,
    list_sim_cameras,
    merge_coords,
    normalize_coords,
    open_camera,
    restore_backup,
    take_backup,
    upload_user_list,
)
from fastdefect.camera.simdevice import REGISTERS
from fastdefect.errors import CameraError, ExitCode, InputError
from fastdefect.frames import open_stack

SIZE = "128x96"
BLACK = 32  # the simulated sensor's black level at 10 bit


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv(STATE_DIR_ENV, str(directory))
    monkeypatch.delenv(SIM_FAULT_ENV, raising=False)
    return directory


@pytest.fixture
def camera():
    with open_camera(f"sim:{SIZE}") as cam:
        yield cam


def _keys(coords: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in coords}


# -- the device description and the GenApi path ----------------------------------------


def test_device_xml_matches_the_register_map() -> None:
    import fastdefect.camera as package

    xml = Path(package.__file__).with_name("sim_gt.xml")
    namespace = {"g": "http://www.genicam.org/GenApi/Version_1_1"}
    root = ElementTree.parse(xml).getroot()
    addresses = {}
    for tag in ("IntReg", "FloatReg", "StringReg"):
        for node in root.findall(f"g:{tag}", namespace):
            name = node.get("Name").removesuffix("Reg")
            addresses[name] = int(node.find("g:Address", namespace).text, 16)
    assert addresses == {register.name: register.address for register in REGISTERS}


def test_every_feature_of_the_gt_map_is_in_the_simulated_camera(camera: SimCamera) -> None:
    for name in (*GT_PYTHON.transfer_features, GT_PYTHON.mask_enable, GT_PYTHON.max_size):
        assert camera.features.has(name), name
    assert camera.features.entries(GT_PYTHON.selector) == ("Factory", "User")
    assert "DefectPixelListCommit" in camera.features.names()


def test_features_go_through_genapi_and_its_ranges(camera: SimCamera) -> None:
    from genicam import genapi

    assert isinstance(camera.features._node_map, genapi.NodeMap)
    # The 10 us minimum is in sim_gt.xml, enforced by GenApi before the port is reached.
    with pytest.raises(InputError, match="ExposureTime"):
        camera.capture(1, exposure_us=1)
    with pytest.raises(CameraError, match="read-only"):
        camera.features.set("DefectPixelListSelector", "Factory")
        camera.features.set("DefectPixelListSize", 3)


# -- identity, lists, persistence -------------------------------------------------------


def test_info(camera: SimCamera, state_dir: Path) -> None:
    info = camera.info()
    assert info.backend == "sim"
    assert (info.model, info.serial) == ("SIM128x96", "SIM128x96-SIM0001")
    assert (info.width, info.height) == (128, 96)
    assert info.pixel_format == "Mono10" and "Mono12" in info.pixel_formats
    assert info.masking is True  # on by default, like the real camera
    assert info.defect_list_supported and info.missing_features == ()
    assert info.temperature_c == pytest.approx(38.0)
    assert info.state_path == str(state_dir / "sim-SIM128x96-SIM0001.json")
    assert Path(info.state_path).is_file()
    assert info.sensor_spec().shape == (96, 128)


def test_gt_model_presets_and_specs() -> None:
    with open_camera("sim:GT4090", persist=False) as gt4090:
        info = gt4090.info()
        assert (info.model, info.width, info.height) == ("GT4090", 4096, 3072)
    assert is_sim_spec("sim") and is_sim_spec("SIM:GT5120") and not is_sim_spec("simple")
    with pytest.raises(InputError):
        open_camera("sim:GT5120:bad serial")
    with pytest.raises(InputError, match="unknown sensor or camera model"):
        open_camera("sim:XYZ")


def test_factory_list_is_fixed_by_the_serial(camera: SimCamera, tmp_path: Path) -> None:
    factory = camera.read_factory_list()
    assert factory.dtype == np.uint16 and factory.shape[1] == 2 and len(factory) >= 10
    same = SimCamera(SIZE, persist=False)
    other = SimCamera(SIZE, "OTHER-1", persist=False)
    assert np.array_equal(same.read_factory_list(), factory)
    assert not np.array_equal(other.read_factory_list(), factory)
    truth = camera.ground_truth()
    assert np.array_equal(truth.factory, factory)
    assert not _keys(truth.latent) & _keys(factory)


def test_factory_list_is_read_only(camera: SimCamera) -> None:
    camera.features.set("DefectPixelListSelector", "Factory")
    with pytest.raises(CameraError, match="factory list is read-only"):
        camera.features.set("DefectPixelListEntryRow", 1)


def test_user_list_merge_duplicates_and_revert(camera: SimCamera) -> None:
    factory = camera.read_factory_list()
    assert len(camera.read_user_list()) == 0
    new = [(20, 30), (20, 30), (21, 30), tuple(factory[0])]  # a duplicate, a factory entry
    camera.write_user_list(new)
    assert _keys(camera.read_user_list()) == {(20, 30), (21, 30), tuple(int(v) for v in factory[0])}
    merged = camera.read_merged_list()
    assert len(merged) == len(factory) + 2  # the factory entry counts once
    assert np.array_equal(merged, merge_coords(factory, new))
    camera.revert()
    assert len(camera.read_user_list()) == 0
    assert np.array_equal(camera.read_merged_list(), factory)


def test_state_persists_between_instances_and_processes(state_dir: Path) -> None:
    with open_camera(f"sim:{SIZE}") as first:
        first.write_user_list([(5, 6), (7, 8)])
        first.set_masking(False)
    with open_camera(f"sim:{SIZE}") as second:
        assert _keys(second.read_user_list()) == {(5, 6), (7, 8)}
        assert second.info().masking is False
    script = (
        "from fastdefect.camera import open_camera\n"
        f"c = open_camera('sim:{SIZE}')\n"
        "print(c.read_user_list().tolist(), c.info().masking)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[[5, 6], [7, 8]] False"
    state = json.loads((state_dir / "sim-SIM128x96-SIM0001.json").read_text())
    assert state["user_list"] == [[5, 6], [7, 8]] and state["masking"] is False
    assert [d.serial for d in list_sim_cameras(state_dir)] == ["SIM128x96-SIM0001"]


def test_state_file_of_another_camera_is_refused(state_dir: Path) -> None:
    path = state_dir / "shared.json"
    SimCamera(SIZE, "A-1", state_path=path).close()
    with pytest.raises(CameraError, match="belongs to simulated camera A-1"):
        SimCamera("64x64", "B-1", state_path=path)
    path.write_text("{not json")
    with pytest.raises(CameraError, match="delete it to start afresh"):
        SimCamera(SIZE, "A-1", state_path=path)


def test_write_refuses_coordinates_outside_the_sensor(camera: SimCamera) -> None:
    with pytest.raises(InputError, match=r"outside the 128 x 96 sensor"):
        camera.write_user_list([(96, 0)])
    with pytest.raises(InputError, match=r"outside 0\.\.65535"):
        camera.write_user_list([(-1, 0)])
    assert len(camera.read_user_list()) == 0


# -- frames and masking -------------------------------------------------------------------


def test_capture_metadata_settings_restored_and_formats(camera: SimCamera) -> None:
    frames = list(camera.capture(3, exposure_us=20_000, gain=6.0))
    assert [f.meta.index for f in frames] == [0, 1, 2]
    meta = frames[0].meta
    assert (meta.exposure_us, meta.gain, meta.masking) == (20_000, 6.0, False)
    assert meta.pixel_format == "Mono10" and meta.temperature_c == pytest.approx(38.0)
    assert meta.camera_serial == "SIM128x96-SIM0001" and meta.device_timestamp is not None
    assert frames[0].data.shape == (96, 128) and frames[0].data.dtype == np.uint16
    assert not np.array_equal(frames[0].data, frames[1].data)  # temporal noise
    info = camera.info()
    assert info.masking is True and camera.state.exposure_us == 10_000  # put back
    eight = next(iter(camera.capture(1, pixel_format="Mono8"))).data
    twelve = next(iter(camera.capture(1, pixel_format="Mono12"))).data
    assert eight.dtype == np.uint8 and np.median(eight) == pytest.approx(BLACK / 4, abs=1)
    assert np.median(twelve) == pytest.approx(BLACK * 4, abs=4)


def test_capture_to_tiff(camera: SimCamera, tmp_path: Path) -> None:
    out = capture_to_tiff(camera, tmp_path / "dark.tif", 4, exposure_us=15_000)
    stack = open_stack(out)
    assert (stack.n_frames, stack.shape, stack.bit_depth) == (4, (96, 128), 10)
    assert stack.metadata["exposure_us"] == 15_000
    assert stack.metadata["camera_serial"] == "SIM128x96-SIM0001"


def test_defects_are_visible_and_masking_makes_correctable_ones_vanish(camera: SimCamera) -> None:
    truth = camera.ground_truth()
    hot = [tuple(p) for p, k in zip(truth.latent, truth.latent_kinds, strict=True) if k == "hot"]
    dark_pixels = [
        tuple(p) for p, k in zip(truth.latent, truth.latent_kinds, strict=True) if k == "dark"
    ]
    assert hot and dark_pixels

    raw = np.mean([f.data for f in camera.capture(4, masking=False)], axis=0)
    assert all(raw[p] > BLACK + 150 for p in hot)  # hot in the dark
    camera.set_light(0.6)
    bright = np.mean([f.data for f in camera.capture(4, masking=False)], axis=0)
    assert all(bright[p] < np.median(bright) - 150 for p in dark_pixels)  # dark under light
    camera.set_light(0.0)

    upload_user_list(camera, truth.latent)
    frame = next(iter(camera.capture(1, masking=True))).data
    runs = _runs(camera.read_merged_list())
    for row, start, length in runs:
        pixels = frame[row, start : start + length]
        if start > 0 and length <= 8:
            assert np.all(pixels == frame[row, start - 1]), (row, start, length)
        else:  # what the camera cannot correct stays: stuck-high pixels at full scale
            assert np.all(pixels == 1023), (row, start, length)
    assert any(start == 0 for _, start, _ in runs)
    assert any(length == 10 for _, _, length in runs)
    assert any(length == 3 for _, _, length in runs)


def _runs(coords: np.ndarray) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each run of horizontally adjacent entries."""
    runs: list[tuple[int, int, int]] = []
    for row, col in normalize_coords(coords).tolist():
        if runs and runs[-1][0] == row and runs[-1][1] + runs[-1][2] == col:
            runs[-1] = (row, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((row, col, 1))
    return runs


def test_masking_is_the_correction_engines_left_neighbour_correction() -> None:
    """One implementation of the idea: a masked frame is ``correct_left`` of the same
    unmasked frame (two fresh cameras with one serial draw the same noise)."""
    from fastdefect.correction import correct_left

    plain = SimCamera(SIZE, persist=False)
    masked = SimCamera(SIZE, persist=False)
    plain.write_user_list([(40, 50), (40, 51)])
    masked.write_user_list([(40, 50), (40, 51)])
    raw = next(iter(plain.capture(1, masking=False))).data
    fixed = next(iter(masked.capture(1, masking=True))).data
    expected = correct_left(raw, masked.read_merged_list(), max_run=8)
    assert np.array_equal(fixed, expected)
    assert not np.array_equal(fixed, raw)


def test_detected_defects_round_trip_through_the_camera(camera: SimCamera) -> None:
    """A small end-to-end check: what a simple 7x7-median detector finds in the
    camera's frames, minus the factory list, is the latent truth."""
    from scipy.ndimage import median_filter

    def deviations(stack: np.ndarray) -> np.ndarray:
        mean = stack.mean(axis=0)
        return mean - median_filter(mean, size=7, mode="reflect")

    dark = np.array([f.data for f in camera.capture(4)], dtype=np.float64)
    camera.set_light(0.65)
    bright = np.array([f.data for f in camera.capture(4)], dtype=np.float64)
    camera.set_light(0.0)
    found = (np.abs(deviations(dark)) > 102) | (np.abs(deviations(bright)) > 102)
    detected = normalize_coords(np.argwhere(found))
    new = _keys(detected) - _keys(camera.read_factory_list())
    assert new == _keys(camera.ground_truth().latent)


# -- the upload transaction and its faults ----------------------------------------------


def test_upload_adds_backs_up_first_and_verifies(camera: SimCamera) -> None:
    camera.write_user_list([(10, 10)])
    backups: list[CameraBackup] = []

    def writer(backup: CameraBackup) -> str:
        assert len(camera.read_user_list()) == 1  # nothing written yet
        backups.append(backup)
        return "backup.bin"

    factory_entry = tuple(int(v) for v in camera.read_factory_list()[0])
    result = upload_user_list(camera, [(11, 12), factory_entry], backup_writer=writer)
    assert _keys(result.user_list) == {(10, 10), (11, 12), factory_entry}
    assert _keys(result.added) == {(11, 12), factory_entry}
    assert len(result.removed) == 0
    assert _keys(result.already_in_factory) == {factory_entry}
    assert result.backup_written == "backup.bin" and result.changed
    assert _keys(backups[0].user.positions()) == {(10, 10)}
    assert (backups[0].width, backups[0].height) == (128, 96)


def test_a_failing_backup_writer_writes_nothing(camera: SimCamera) -> None:
    def writer(backup: CameraBackup) -> None:
        raise InputError("backup.bin exists already; use --force to overwrite it")

    with pytest.raises(InputError):
        upload_user_list(camera, [(1, 1)], backup_writer=writer)
    assert len(camera.read_user_list()) == 0


def test_upload_rejects_coordinates_outside_the_sensor_before_writing(camera: SimCamera) -> None:
    with pytest.raises(InputError, match="nothing was written"):
        upload_user_list(camera, [(1, 1), (0, 128)])
    assert len(camera.read_user_list()) == 0


def _fail_upload(camera: SimCamera, coords) -> UploadFailedError:
    with pytest.raises(UploadFailedError) as caught:
        upload_user_list(camera, coords)
    assert caught.value.exit_code == ExitCode.DEVICE
    return caught.value


NEW = [(30, c) for c in range(10, 60, 5)]  # ten isolated entries


@pytest.mark.parametrize(
    ("fault", "outcome", "says"),
    [
        ("disconnect-after=3", "unchanged", "connection lost after 3 list entries"),
        ("refuse-write", "unchanged", "refused the write"),
        ("timeout=commit", "unchanged", "timed out committing"),
        ("timeout=write", "unchanged", "timed out writing"),
        ("partial-commit=4", "restored", "failed after 4 of 11 entries"),
        ("timeout=verify", "restored", "timed out reading"),
    ],
)
def test_an_interrupted_upload_is_never_half_written(
    fault: str, outcome: str, says: str, state_dir: Path
) -> None:
    with open_camera(f"sim:{SIZE}") as camera:
        camera.write_user_list([(2, 2)])
        before = camera.read_user_list()
        camera.set_fault(fault, persist=False)
        error = _fail_upload(camera, NEW)
        assert error.outcome == outcome
        assert says in str(error)
        assert (
            "unchanged"
            if outcome == "unchanged"
            else "put back as it was, from the automatic backup"
        ) in str(error)
        assert np.array_equal(normalize_coords(error.backup.user), before)
        assert np.array_equal(camera.read_user_list(), before)
    with open_camera(f"sim:{SIZE}") as reopened:  # and so is the stored state
        assert np.array_equal(reopened.read_user_list(), before)


def test_a_failing_read_before_the_upload_writes_nothing(camera: SimCamera) -> None:
    camera.set_fault("timeout=read", persist=False)
    with pytest.raises(CameraError, match="timed out reading") as caught:
        upload_user_list(camera, NEW)
    assert not isinstance(caught.value, UploadFailedError)
    assert len(camera.read_user_list()) == 0


def test_fault_from_environment_and_from_state_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, "refuse-write")
    with open_camera(f"sim:{SIZE}") as camera:
        assert _fail_upload(camera, [(1, 1)]).outcome == "unchanged"
    monkeypatch.delenv(SIM_FAULT_ENV)
    with open_camera(f"sim:{SIZE}") as camera:
        camera.set_fault("partial-commit=1")  # persisted for the next process
    with open_camera(f"sim:{SIZE}") as camera:
        assert camera.faults.partial_commit == 1
        assert _fail_upload(camera, NEW).outcome == "restored"
        camera.set_fault(None)
    with open_camera(f"sim:{SIZE}") as camera:
        result = upload_user_list(camera, NEW)
        assert len(result.added) == len(NEW)


def test_unknown_outcome_when_the_camera_stays_away(camera: SimCamera) -> None:
    camera.set_fault("disconnect-after=2,stay-away", persist=False)
    error = _fail_upload(camera, NEW)
    assert error.outcome == "unknown"
    assert "UNKNOWN" in str(error) and "restore the backup" in str(error)


def test_a_list_too_long_for_the_camera_is_an_input_error(camera: SimCamera) -> None:
    camera.state.max_user_entries = 3
    with pytest.raises(InputError, match="holds at most 3"):
        upload_user_list(camera, NEW)
    assert len(camera.read_user_list()) == 0


def test_restore_backup_and_sensor_size_check(camera: SimCamera) -> None:
    camera.write_user_list([(3, 4), (5, 6)])
    backup = take_backup(camera)
    camera.revert()
    result = restore_backup(camera, backup)
    assert _keys(result.user_list) == {(3, 4), (5, 6)}
    other = CameraBackup("GT5120", "X", 5120, 5120, backup.factory, backup.user)
    with pytest.raises(InputError, match="5120 x 5120 sensor"):
        restore_backup(camera, other)


def test_incomplete_frames_are_retried_then_reported(camera: SimCamera) -> None:
    camera.set_fault("incomplete-frames=2,timeout=capture", persist=False)
    frames = list(camera.capture(2))
    assert [f.meta.retries for f in frames] == [3, 0]
    camera.set_fault("incomplete-frames=5", persist=False)
    with pytest.raises(CameraError, match=r"frame 1 of 2 failed 4 times in a row"):
        list(camera.capture(2, retries=3))


def test_camera_vanishing_mid_capture(camera: SimCamera) -> None:
    camera.set_fault("disconnect-frames=2", persist=False)
    got = []
    with pytest.raises(CameraError, match="disappeared after 2 frames") as caught:
        got.extend(camera.capture(5, exposure_us=30_000))
    assert len(got) == 2 and caught.value.exit_code == ExitCode.DEVICE
    with pytest.raises(CameraError, match="not connected"):
        camera.info()
    camera.reconnect()
    assert camera.info().serial == "SIM128x96-SIM0001"


def test_fault_specs_are_checked() -> None:
    plan = FaultPlan.parse("disconnect-after=3, timeout=read;timeout=commit,refuse-write")
    assert plan.disconnect_after == 3 and plan.timeouts == {"read", "commit"} and plan.refuse_write
    for bad in ("explode", "timeout=forever", "disconnect-after=x"):
        with pytest.raises(InputError):
            FaultPlan.parse(bad)
