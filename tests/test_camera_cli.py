"""``fastdefect camera ...`` on the simulated camera: choosing the camera, confirmations,
refusals, backups that are never overwritten, restore checks, and the output formats.

The whole workflow and the fault injection are in ``test_camera_workflow.py``; the real
Vimba X path through the CLI is in ``test_camera_viky.py``.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("genicam", reason="the simulated camera needs genicam (GenICam GenApi)")

from conftest import run_cli
from fastdefect.camera import PRODUCER_ENV, SIM_FAULT_ENV, STATE_DIR_ENV, open_camera
from fastdefect.cli._common import console, err_console
from fastdefect.formats import CameraBackup, read_backup, read_list, write_backup

SIM = "sim:96x64"
SERIAL = "SIM96x64-SIM0001"


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    monkeypatch.delenv(SIM_FAULT_ENV, raising=False)
    monkeypatch.delenv(PRODUCER_ENV, raising=False)  # no real cameras: a known set
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, even under -s
    for shared in (console, err_console):  # wide tables: no wrapped words to match
        monkeypatch.setattr(shared, "_width", 200)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


run = run_cli


def keys(coords) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in np.asarray(coords).reshape(-1, 2)}


def user_list() -> set[tuple[int, int]]:
    with open_camera(SIM) as camera:
        return keys(camera.read_user_list())


def av_csv(path: Path, entries) -> Path:
    path.write_text("Row, Column\n" + "".join(f"{r}, {c}\n" for r, c in entries))
    return path


def backups(directory: Path) -> list[Path]:
    return sorted(directory.glob("backup-*.bin"))


RUN_OF_6 = [(30, c) for c in range(40, 46)]  # yellow: allowed, not recommended
SINGLE = [(20, 20)]
TWO = [(7, 7), (20, 20)]


# -- choosing the camera -------------------------------------------------------------------


def test_default_camera_is_the_only_one_else_a_clear_error(capsys, work: Path) -> None:
    code, _, err = run(capsys, "camera info")
    assert code == 3
    assert "no camera found" in err and "--camera sim" in err and PRODUCER_ENV in err
    run(capsys, f"camera info -c {SIM}")  # creates the simulator's state file
    code, out, _ = run(capsys, "camera info --json")
    assert code == 0 and json.loads(out)["serial"] == SERIAL
    code, out, _ = run(capsys, f"camera info -c {SERIAL} --json")  # a sim's serial works too
    assert code == 0 and json.loads(out)["id"] == f"sim:SIM96x64:{SERIAL}"
    run(capsys, "camera info -c sim:64x48:OTHER-1")
    code, _, err = run(capsys, "camera info")
    assert code == 2
    assert "2 cameras found" in err and SERIAL in err and "OTHER-1" in err
    assert "--camera" in err


def test_list_and_info(capsys, work: Path) -> None:
    code, out, _ = run(capsys, "camera list --json")
    assert code == 0 and json.loads(out)["cameras"] == []
    run(capsys, f"camera info -c {SIM}")
    code, out, _ = run(capsys, "camera list --json")
    document = json.loads(out)
    (camera,) = document["cameras"]
    assert (camera["serial"], camera["backend"], camera["list_transfer"]) == (SERIAL, "sim", True)
    assert any(PRODUCER_ENV in note for note in document["notes"])
    code, out, _ = run(capsys, "camera list")
    assert code == 0 and SERIAL in out and "yes" in out
    code, out, _ = run(capsys, f"camera info -c {SIM} --json")
    info = json.loads(out)
    assert (info["width"], info["height"], info["masking"]) == (96, 64, True)
    assert info["defect_list_supported"] and not info["feature_map_confirmed"]
    assert info["state_path"] == str(work / "state" / f"sim-{SERIAL}.json")
    assert info["simulator"] == {"state_path": info["state_path"], "light": 0.0, "fault": None}
    code, out, _ = run(capsys, f"camera info -c {SIM}")
    assert "NOT confirmed on real hardware" in out and "state file" in out


def test_mask_and_sim_light(capsys) -> None:
    code, out, _ = run(capsys, f"camera mask off -c {SIM}")
    assert code == 0 and "DefectMaskEnable: off" in out
    with open_camera(SIM) as camera:
        assert camera.info().masking is False
    code, _, _ = run(capsys, f"camera mask sideways -c {SIM}")
    assert code == 2
    code, out, _ = run(capsys, f"camera sim-light 0.5 -c {SIM}")
    assert code == 0 and "0.5" in out
    code, out, _ = run(capsys, f"camera sim-light -c {SIM}")
    assert "0.5" in out
    code, _, err = run(capsys, f"camera sim-light 9 -c {SIM}")
    assert code == 2 and "SimLightLevel" in err


def test_capture_checks_before_touching_the_camera(capsys, work: Path) -> None:
    (work / "taken.tif").write_bytes(b"keep")
    code, _, err = run(capsys, f"camera capture -c {SIM} -n 2 -o taken.tif")
    assert code == 2 and "exists already" in err
    assert (work / "taken.tif").read_bytes() == b"keep"
    code, _, err = run(capsys, f"camera capture -c {SIM} -n 2 --pixel-format RGB8 -o x.tif")
    assert code == 2 and "does not offer pixel format 'RGB8'" in err
    code, _, err = run(capsys, f"camera capture -c {SIM} -n 2 --exposure -5 -o x.tif")
    assert code == 2 and not (work / "x.tif").exists()
    code, out, _ = run(capsys, f"camera capture -c {SIM} -n 2 --pixel-format Mono12 -o x.tif")
    assert code == 0 and "Mono12" in out


# -- upload: what is refused, what needs confirmation --------------------------------------


def test_red_entries_are_refused_and_the_rest_written(capsys, work: Path) -> None:
    red = [(5, 0), (64, 3)] + [(40, c) for c in range(10, 19)]  # column 0, outside, run of 9
    listed = av_csv(work / "list.csv", SINGLE + red)
    code, out, _ = run(capsys, "camera upload", listed, f"-c {SIM}")
    assert code == 1
    assert "Refused" in out and "outside the 96 x 64 sensor" in out
    assert "no active pixel to the left" in out and "more than 8 in a row" in out
    assert "added 1, already present 0, refused 11" in out
    assert user_list() == set(SINGLE)
    (backup,) = backups(work)
    assert SERIAL in backup.name
    code, out, _ = run(capsys, "camera upload", listed, f"-c {SIM}")  # again: nothing new
    assert code == 1 and "nothing new to write" in out
    assert len(backups(work)) == 1


def test_yellow_entries_need_yes_or_a_yes_at_the_prompt(
    capsys, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = av_csv(work / "list.csv", RUN_OF_6 + SINGLE)
    code, out, err = run(capsys, "camera upload", listed, f"-c {SIM}")
    assert code == 2
    assert "Need confirmation" in out and "more than 4 in a row is not recommended" in out
    assert "no terminal to ask on; give --yes" in err and "Nothing was changed" in err
    assert user_list() == set() and not backups(work)

    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    code, _, err = run(capsys, "camera upload", listed, f"-c {SIM}")
    assert code == 2 and "not confirmed" in err
    assert user_list() == set() and not backups(work)

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, out, err = run(capsys, "camera upload", listed, f"-c {SIM}")
    assert code == 0 and "Upload 6 entries in runs of 5 to 8" in err
    assert "added 7" in out
    assert user_list() == set(RUN_OF_6 + SINGLE)


def test_yes_confirms_and_runs_count_the_camera_lists(capsys, work: Path) -> None:
    # Four entries are green on their own; next to the two already in the user list they
    # make a run of 6 on the camera: yellow.
    run(capsys, "camera upload", av_csv(work / "a.csv", RUN_OF_6[:2]), f"-c {SIM}")
    rest = av_csv(work / "b.csv", RUN_OF_6[2:])
    code, out, _ = run(capsys, "camera upload", rest, f"-c {SIM} --json")
    assert code == 2 and out == ""
    code, out, _ = run(capsys, "camera upload", rest, f"-c {SIM} --yes --json")
    assert code == 0
    result = json.loads(out)
    assert result["need_confirmation"] == 4 and keys(result["added"]) == set(RUN_OF_6[2:])
    assert user_list() == set(RUN_OF_6)


def test_a_list_for_another_sensor_is_refused(capsys, work: Path) -> None:
    other = CameraBackup("GT5120", "X", 5120, 5120, factory=[], user=[(1, 1)])
    path = write_backup(work / "other.bin", other)
    code, _, err = run(capsys, "camera upload", path, f"-c {SIM}")
    assert code == 2 and "5120 x 5120 sensor" in err and "Nothing was written" in err
    code, _, err = run(capsys, "camera upload missing.csv", f"-c {SIM}")
    assert code == 2 and "no such file" in err


# -- backup, restore, revert ---------------------------------------------------------------


def test_backups_are_never_overwritten(capsys, work: Path) -> None:
    run(capsys, "camera upload", av_csv(work / "l.csv", SINGLE), f"-c {SIM}")
    for path in backups(work):
        path.unlink()
    made = []
    for _ in range(3):  # the same second: the same default name
        code, out, _ = run(capsys, f"camera backup -c {SIM} --json")
        assert code == 0
        made.append(Path(json.loads(out)["file"]))
    assert len(set(made)) == 3 and all(p.exists() for p in made)
    assert all(keys(read_backup(p).user.positions()) == set(SINGLE) for p in made)
    code, _, err = run(capsys, "camera backup -o", made[0], f"-c {SIM}")
    assert code == 2 and "exists already" in err
    (work / "sub").mkdir()
    code, out, _ = run(capsys, f"camera backup -c {SIM} -o sub --json")
    assert Path(json.loads(out)["file"]).parent == Path("sub")
    code, _, err = run(capsys, f"camera upload l.csv -c {SIM} --backup-dir nowhere")
    assert code == 2 and "backup directory nowhere does not exist" in err


def test_restore_checks_format_checksum_and_sensor_not_serial(capsys, work: Path) -> None:
    run(capsys, "camera upload", av_csv(work / "l.csv", TWO), f"-c {SIM}")
    code, out, _ = run(capsys, f"camera backup -c {SIM} -o saved.bin --json")
    saved = work / "saved.bin"

    damaged = work / "damaged.bin"
    data = bytearray(saved.read_bytes())
    data[45] ^= 0xFF
    damaged.write_bytes(bytes(data))
    code, _, err = run(capsys, "camera restore", damaged, f"-c {SIM}")
    assert code == 2 and "checksum mismatch" in err
    code, _, err = run(capsys, "camera restore", work / "l.csv", f"-c {SIM}")
    assert code == 2 and "not a fastdefect camera backup" in err

    wrong_size = write_backup(
        work / "big.bin", CameraBackup("GT5120", "X", 5120, 5120, factory=[], user=[(1, 1)])
    )
    code, _, err = run(capsys, "camera restore", wrong_size, f"-c {SIM}")
    assert code == 2 and "5120 x 5120 sensor" in err and "96 x 64" in err

    another_camera = write_backup(
        work / "twin.bin", CameraBackup("GT4090", "TWIN-7", 96, 64, factory=[], user=[(3, 3)])
    )
    code, out, err = run(capsys, "camera restore", another_camera, f"-c {SIM}")
    assert code == 0 and "taken from camera TWIN-7" in err
    assert user_list() == {(3, 3)}
    code, out, _ = run(capsys, "camera restore", saved, f"-c {SIM} --json")
    result = json.loads(out)
    assert code == 0 and keys(result["added"]) == set(TWO)
    assert keys(result["removed"]) == {(3, 3)}
    assert user_list() == set(TWO)


def test_revert_asks_first(capsys, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, f"camera revert -c {SIM}")
    assert code == 0 and "empty already" in out
    run(capsys, "camera upload", av_csv(work / "l.csv", SINGLE), f"-c {SIM}")
    code, _, err = run(capsys, f"camera revert -c {SIM}")
    assert code == 2 and "give --yes" in err and user_list() == set(SINGLE)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    code, _, err = run(capsys, f"camera revert -c {SIM}")
    assert code == 2 and user_list() == set(SINGLE)
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, _, err = run(capsys, f"camera revert -c {SIM} --backup-dir state")
    assert code == 0 and "Clear the 1 entries" in err
    assert user_list() == set()
    (backup,) = backups(work / "state")
    assert keys(read_backup(backup).user.positions()) == set(SINGLE)


# -- download ------------------------------------------------------------------------------


def test_download_writes_any_list_format(capsys, work: Path) -> None:
    run(capsys, "camera upload", av_csv(work / "l.csv", SINGLE), f"-c {SIM}")
    with open_camera(SIM) as camera:
        factory = keys(camera.read_factory_list())
    code, _, err = run(capsys, f"camera download -c {SIM} -o merged.csv")
    assert code == 0 and "--to av-csv" in err
    merged = read_list("merged.csv")
    assert keys(merged.positions()) == factory | set(SINGLE)
    assert set(merged.sources.tolist()) == {"factory", "user"}
    code, _, _ = run(capsys, f"camera download -c {SIM} --which user -o user.csv --to av-csv")
    assert (work / "user.csv").read_text() == "Row, Column\n20,20\n"
    code, _, _ = run(capsys, f"camera download -c {SIM} -o all.bin")
    backup = read_backup("all.bin")
    assert (backup.serial, backup.width, backup.height) == (SERIAL, 96, 64)
    assert keys(backup.user.positions()) == set(SINGLE)
    assert keys(backup.factory.positions()) == factory
    code, _, _ = run(capsys, f"camera download -c {SIM} --which factory -o mask.tif")
    assert code == 0 and keys(read_list("mask.tif").positions()) == factory
    code, out, _ = run(capsys, f"camera download -c {SIM} -o merged.csv --json")
    assert code == 2 and out == ""
    code, _, err = run(capsys, f"camera download -c {SIM} -o list.xyz")
    assert code == 2 and "cannot tell the list format" in err
