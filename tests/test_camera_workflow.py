"""The whole list workflow on the simulated GT camera, through the command line.

Every step runs ``fastdefect.cli.main([...])`` in-process, as a user would type it:
capture dark and bright stacks (masking off), detect, check, upload, download, backup,
revert, restore, and masking on makes the correctable defects vanish from the frames.
Then the faults: an upload interrupted by a disconnect, a timeout or a refused write
exits with 3, says whether the camera is unchanged or restored, and never leaves a
half-written list (checked on the camera afterwards, in a fresh process state).

The simulated camera runs through the real GenICam GenApi library (see
``test_camera_sim.py``); nothing is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

pytest.importorskip("genicam", reason="the simulated camera needs genicam (GenICam GenApi)")

from conftest import run_cli
from fastdefect.camera import SIM_FAULT_ENV, STATE_DIR_ENV, open_camera
from fastdefect.formats import read_backup, read_list
from fastdefect.frames import open_stack

# Wide enough that the factory's run of 10 stuck pixels does not shift a whole row's mean
# past the line-defect threshold (on a 128-pixel row it would, and detection would
# rightly report a bad row).
SIM = "sim:384x128"
SERIAL = "SIM384x128-SIM0001"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory (automatic backups land here) and a fresh simulator state."""
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    monkeypatch.delenv(SIM_FAULT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


run = run_cli


def keys(coords) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in np.asarray(coords).reshape(-1, 2)}


def listed(path: Path | str) -> set[tuple[int, int]]:
    return keys(read_list(path).positions())


def uncorrectable(coords: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Entries the camera cannot mask: runs of more than 8 in a row, runs from column 0.

    Written out here, independently of the rule set and the correction code."""
    runs: list[list[tuple[int, int]]] = []
    for row, column in sorted(coords):
        if runs and runs[-1][-1] == (row, column - 1):
            runs[-1].append((row, column))
        else:
            runs.append([(row, column)])
    return {p for run in runs if len(run) > 8 or run[0][1] == 0 for p in run}


def backups(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"backup-{SERIAL}-*.bin"))


@pytest.mark.slow
def test_the_full_workflow_through_the_command_line(work: Path, capsys) -> None:
    with open_camera(SIM) as camera:  # what the simulation knows and a user does not
        truth = camera.ground_truth()
    factory, latent = keys(truth.factory), keys(truth.latent)
    bad = uncorrectable(factory | latent)
    assert bad and bad <= factory and latent and not bad & latent

    # 1. Dark and bright stacks, masking off (the default), settings in the TIFFs.
    code, out, _ = run(capsys, f"camera capture -c {SIM} -n 8 --light 0 -o dark.tif")
    assert code == 0 and "masking off" in out
    code, _, _ = run(
        capsys, f"camera capture -c {SIM} -n 8 --light 0.65 --exposure 10000 --gain 0 -o bright.tif"
    )
    assert code == 0
    stack = open_stack("bright.tif")
    assert (stack.n_frames, stack.shape, stack.bit_depth) == (8, (128, 384), 10)
    assert stack.metadata["camera_serial"] == SERIAL and stack.metadata["gain"] == 0
    with tifffile.TiffFile("dark.tif") as tif:
        description = tif.shaped_metadata[0]
    assert description["masking"] is False and description["pixel_format"] == "Mono10"

    # 2. Detect: every real defect, factory-listed or not, and nothing else.
    code, _, _ = run(capsys, "detect --dark dark.tif --bright bright.tif -o detected.csv")
    assert code == 0
    assert listed("detected.csv") == factory | latent

    # 3. Check it against the camera's rules with its factory list: red entries found.
    code, _, _ = run(capsys, f"camera download -c {SIM} --which factory -o factory.csv --to av-csv")
    assert code == 0 and listed("factory.csv") == factory
    code, out, _ = run(
        capsys, "list check detected.csv --factory factory.csv --width 384 --height 128 --json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["counts"]["error"] == len(bad)

    # 4. Upload: red entries refused and listed (exit 1), the rest written after a backup.
    code, out, _ = run(capsys, f"camera upload detected.csv -c {SIM} --json")
    assert code == 1
    result = json.loads(out)
    assert {(r["row"], r["column"]) for r in result["refused"]} == bad
    assert all(r["verdict"] == "error" and r["reason"] for r in result["refused"])
    assert keys(result["added"]) == latent
    assert keys(result["already_present"]) == factory - bad
    assert result["user_entries"] == len(latent)
    (upload_backup,) = backups(work)
    assert result["backup"] == str(upload_backup)
    before_upload = read_backup(upload_backup)
    assert keys(before_upload.factory.positions()) == factory and len(before_upload.user) == 0

    # 5. Download: the merged list is the factory list plus the user list.
    for which in ("merged", "user", "factory"):
        code, _, _ = run(capsys, f"camera download -c {SIM} --which {which} -o {which}.json")
        assert code == 0
    assert listed("user.json") == latent
    assert listed("merged.json") == listed("factory.json") | listed("user.json")
    assert listed("merged.json") == factory | latent

    # 6. Backup, revert (user list empty), restore (back again).
    code, out, _ = run(capsys, f"camera backup -c {SIM} --json")
    assert code == 0
    backup_file = Path(json.loads(out)["file"])
    assert SERIAL in backup_file.name and backup_file.exists()
    assert keys(read_backup(backup_file).user.positions()) == latent

    code, out, _ = run(capsys, f"camera revert -c {SIM} --yes")
    assert code == 0 and "reverted" in out
    run(capsys, f"camera download -c {SIM} --which user -o after-revert.json")
    assert listed("after-revert.json") == set()
    run(capsys, f"camera download -c {SIM} -o merged-after-revert.json")
    assert listed("merged-after-revert.json") == factory

    code, out, _ = run(capsys, "camera restore", backup_file, f"-c {SIM}")
    assert code == 0 and f"restored {len(latent)} user entries" in out
    run(capsys, f"camera download -c {SIM} --which user -o after-restore.json")
    assert listed("after-restore.json") == latent
    assert len(backups(work)) == 4  # upload, backup, revert and restore each kept one

    # 7. Masking on: the correctable defects vanish from the frames, the rest stays.
    code, out, _ = run(capsys, f"camera mask on -c {SIM}")
    assert code == 0 and "DefectMaskEnable: on" in out
    for name, light in (("dark-masked.tif", 0), ("bright-masked.tif", 0.65)):
        code, _, err = run(
            capsys, f"camera capture -c {SIM} -n 8 --masking --light {light} -o {name}"
        )
        assert code == 0 and "masking on" in err
    code, _, _ = run(
        capsys, "detect --dark dark-masked.tif --bright bright-masked.tif -o still-visible.csv"
    )
    assert code == 0
    assert listed("still-visible.csv") == bad
    # ... which is what the vendor's "confirm they are masked" step says, with the reasons.
    code, out, _ = run(capsys, "confirm bright-masked.tif --defects merged.json --json")
    assert code == 1
    confirmed = json.loads(out)
    assert {(p["row"], p["column"]) for p in confirmed["visible_pixels"]} == bad
    assert not any(p["corrected"] for p in confirmed["visible_pixels"])
    assert confirmed["unlisted"] == 0


# -- faults ----------------------------------------------------------------------------------

FIRST = [(10, 20), (12, 40)]
SECOND = [(20, c) for c in range(50, 140, 10)]  # nine isolated entries


def _write_av_csv(path: Path, entries: list[tuple[int, int]]) -> Path:
    path.write_text("Row, Column\n" + "".join(f"{r}, {c}\n" for r, c in entries))
    return path


def _user_list_on_camera() -> set[tuple[int, int]]:
    """Opened afresh (no fault armed): what the camera really holds."""
    with open_camera(SIM) as camera:
        return keys(camera.read_user_list())


@pytest.fixture
def camera_with_a_user_list(work: Path, capsys) -> Path:
    first = _write_av_csv(work / "first.csv", FIRST)
    code, _, _ = run(capsys, "camera upload", first, f"-c {SIM} --backup-dir", work)
    assert code == 0 and _user_list_on_camera() == set(FIRST)
    for path in backups(work):
        path.unlink()
    return _write_av_csv(work / "second.csv", SECOND)


@pytest.mark.parametrize(
    ("fault", "says", "outcome"),
    [
        ("disconnect-after=3", "connection lost after 3 list entries", "unchanged"),
        ("timeout=write", "timed out writing", "unchanged"),
        ("timeout=commit", "timed out committing", "unchanged"),
        ("refuse-write", "refused the write", "unchanged"),
        ("partial-commit=4", "failed after 4 of 11 entries", "restored"),
        ("timeout=verify", "timed out reading", "restored"),
    ],
)
def test_an_interrupted_upload_exits_3_and_leaves_no_half_written_list(
    fault: str,
    says: str,
    outcome: str,
    camera_with_a_user_list: Path,
    work: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, fault)
    code, _, err = run(capsys, "camera upload", camera_with_a_user_list, f"-c {SIM}")
    monkeypatch.delenv(SIM_FAULT_ENV)
    assert code == 3
    assert says in err
    if outcome == "unchanged":
        assert "The camera is unchanged" in err
    else:
        assert "was put back as it was, from the automatic backup (2 user entries)" in err
    (kept,) = backups(work)
    assert f"The backup was kept: {kept}" in err
    assert keys(read_backup(kept).user.positions()) == set(FIRST)
    assert _user_list_on_camera() == set(FIRST)
    state = json.loads((work / "state" / f"sim-{SERIAL}.json").read_text())
    assert keys(state["user_list"]) == set(FIRST)


@pytest.mark.slow
def test_a_camera_that_stays_away_is_reported_unknown_and_the_backup_restores_it(
    camera_with_a_user_list: Path, work: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, "disconnect-after=2,stay-away")
    code, _, err = run(capsys, "camera upload", camera_with_a_user_list, f"-c {SIM}")
    monkeypatch.delenv(SIM_FAULT_ENV)
    assert code == 3
    assert "UNKNOWN" in err and "restore the backup" in err
    (kept,) = backups(work)
    assert str(kept) in err
    assert _user_list_on_camera() == set(FIRST)  # the link dropped before the commit
    code, out, _ = run(capsys, "camera restore", kept, f"-c {SIM}")
    assert code == 0 and "holds this user list already" in out


def test_a_failure_before_the_transfer_says_nothing_was_written(
    camera_with_a_user_list: Path, work: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, "timeout=read")
    code, _, err = run(capsys, "camera upload", camera_with_a_user_list, f"-c {SIM}")
    assert code == 3
    assert "timed out reading" in err and "Nothing was written: the camera is unchanged" in err
    assert not backups(work)
    monkeypatch.delenv(SIM_FAULT_ENV)
    assert _user_list_on_camera() == set(FIRST)


def test_a_refused_revert_leaves_the_user_list(
    camera_with_a_user_list: Path, work: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, "refuse-write")
    code, _, err = run(capsys, f"camera revert -c {SIM} --yes")
    monkeypatch.delenv(SIM_FAULT_ENV)
    assert code == 3
    assert "revert of camera" in err and "refused the revert" in err
    assert "The camera is unchanged" in err
    assert _user_list_on_camera() == set(FIRST)


def test_capture_faults_retry_incomplete_frames_and_never_leave_a_partial_stack(
    work: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIM_FAULT_ENV, "incomplete-frames=2,timeout=capture")
    code, _, _ = run(capsys, f"camera capture -c {SIM} -n 3 -o retried.tif")
    assert code == 0 and open_stack("retried.tif").n_frames == 3
    monkeypatch.setenv(SIM_FAULT_ENV, "disconnect-frames=2")
    code, _, err = run(capsys, f"camera capture -c {SIM} -n 5 -o lost.tif")
    assert code == 3 and "disappeared after 2 frames" in err
    assert not list(work.glob("lost.tif*")) and not list(work.glob(".lost.tif*"))
    monkeypatch.setenv(SIM_FAULT_ENV, "incomplete-frames=9")
    code, _, err = run(capsys, f"camera capture -c {SIM} -n 2 -o bad.tif")
    assert code == 3 and "failed 4 times in a row" in err
    assert not (work / "bad.tif").exists()
