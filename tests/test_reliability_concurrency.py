"""Issue 11: several processes uploading to one simulated camera at once lose nothing.

Each round starts ``WRITERS`` processes at the same moment, each running
``fastdefect camera upload`` with its own list; afterwards the camera's user list must
hold every entry of every list. Before the camera was locked, both uploads read the
same list, added their own entries and wrote back: the last writer won.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("genicam", reason="the simulated camera needs genicam (GenICam GenApi)")

from fastdefect.camera import STATE_DIR_ENV, open_camera
from fastdefect.defects import DefectList
from fastdefect.formats import write_list

SIM = "sim:96x64"
WRITERS = 4


def _entries(round_: int, writer: int) -> list[tuple[int, int]]:
    # Isolated pixels, one row per writer and round: every entry is green for the camera.
    index = round_ * WRITERS + writer  # 0..79 in 20 rounds
    row = 2 + 2 * (index % 31)
    base = 4 + 24 * (index // 31)  # columns up to 68 of 96
    return [(row, base + 4 * k) for k in range(5)]


def _run_rounds(tmp_path: Path, rounds: int) -> tuple[set, set, list[str]]:
    env = {**os.environ, STATE_DIR_ENV: str(tmp_path / "state")}
    env.pop("FASTDEFECT_SIM_FAULT", None)
    env["FASTDEFECT_SIM_LOCK_TIMEOUT"] = "120"
    expected: set[tuple[int, int]] = set()
    errors: list[str] = []
    with open_camera(SIM):
        pass  # create the camera's state once, before the race
    for round_ in range(rounds):
        processes = []
        start_at = time.time() + 1.0
        for writer in range(WRITERS):
            entries = _entries(round_, writer)
            expected.update(entries)
            path = tmp_path / f"r{round_}w{writer}.csv"
            write_list(path, DefectList(*zip(*entries, strict=True)), "av-csv", overwrite=True)
            script = (
                "import sys, time\n"
                f"time.sleep(max(0.0, {start_at} - time.time()))\n"
                "from fastdefect.cli import main\n"
                f"sys.exit(main(['camera', 'upload', {str(path)!r}, '-c', {SIM!r}, '--yes',"
                f" '--backup-dir', {str(tmp_path)!r}]))\n"
            )
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", script],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for process in processes:
            _out, err = process.communicate(timeout=600)
            if process.returncode != 0:
                errors.append(f"exit {process.returncode}: {err.strip()[-300:]}")
    with open_camera(SIM) as camera:
        # An entry the factory list has already is not written again (not lost).
        lists = [camera.read_user_list(), camera.read_factory_list()]
        held = {(int(r), int(c)) for coords in lists for r, c in np.asarray(coords)}
    return expected, held, errors


def test_concurrent_uploads_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    expected, held, errors = _run_rounds(tmp_path, rounds=2)
    assert errors == []
    assert expected - held == set(), f"{len(expected - held)} entries lost"


@pytest.mark.slow
def test_twenty_rounds_of_concurrent_uploads_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    expected, held, errors = _run_rounds(tmp_path, rounds=20)
    assert errors == []
    assert len(expected) == 20 * WRITERS * 5  # all distinct
    assert expected - held == set(), f"{len(expected - held)} entries lost"


def test_an_upload_over_capacity_is_refused_before_any_backup(tmp_path, monkeypatch):
    from fastdefect.camera.upload import upload_user_list
    from fastdefect.errors import InputError

    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    backups = []
    rows, columns = np.divmod(np.arange(0, 2 * 17000, 2), 200)
    with open_camera("sim:200x200") as camera:
        with pytest.raises(InputError, match="holds at most 16384"):
            upload_user_list(camera, np.column_stack([rows, columns]), backup_writer=backups.append)
        assert backups == []
        assert len(camera.read_user_list()) == 0
