"""Issue 11, command line: user text is never markup, Ctrl-C is one line and exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from fastdefect.cli import main
from fastdefect.cli._common import console
from fastdefect.defects import DefectList
from fastdefect.formats import write_list

LABELS = ["[/x]", "[red]", "[link=https://example.com]click[/link]"]


@pytest.fixture
def hostile_list(tmp_path):
    path = tmp_path / "[red]list.csv"
    write_list(path, DefectList([1, 3, 5], [1, 1, 1], source=LABELS), "csv")
    return path


@pytest.mark.parametrize("command", ["check", "stats", "diff"])
def test_labels_and_file_names_are_printed_as_text(hostile_list, tmp_path, capsys, monkeypatch,
                                                   command):  # fmt: skip
    monkeypatch.setattr(console, "_width", 300)
    other = tmp_path / "other.csv"
    write_list(other, DefectList([9], [9], source="x"), "csv")
    args = {
        "check": ["check", str(hostile_list), "--width", "2", "--height", "9", "--all"],
        "stats": ["stats", str(hostile_list)],
        "diff": ["diff", str(other), str(hostile_list)],
    }[command]
    code = main(["list", *args])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "[red]list.csv" in out
    if command != "check":  # check shows no source column for one-source lists
        for label in LABELS:
            assert label in out
    else:
        assert "[/x]" in out


def _interrupt_detect(tmp_path, delay: float) -> subprocess.CompletedProcess:
    frames = tmp_path / "frames.npy"
    if not frames.exists():
        import numpy as np

        rng = np.random.default_rng(0)
        np.save(frames, rng.integers(0, 1000, (40, 512, 512), dtype=np.uint16))
    process = subprocess.Popen(
        [sys.executable, "-m", "fastdefect", "detect", "--dark", str(frames), "--bright",
         str(frames), "-o", str(tmp_path / f"out{delay}.csv"), "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


# The longer delays land later in a run on a slow machine; here detect is done by then.
@pytest.mark.parametrize(
    "delay",
    [
        1.5,
        2.5,
        pytest.param(4.0, marks=pytest.mark.slow),
        pytest.param(6.0, marks=pytest.mark.slow),
    ],
)
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, delay):
    result = _interrupt_detect(tmp_path, delay)
    if result.returncode == 0:
        pytest.skip(f"detect finished within {delay} s, before the interrupt")
    assert result.returncode == 130, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "interrupted"
    # the interrupt adds that one line; anything before it was printed by the run itself
    assert all(line.startswith(("warning:", "fastdefect: compiling")) for line in lines[:-1])
    assert os.environ.get("PYTEST_CURRENT_TEST")  # ran under pytest


def test_an_output_name_with_brackets_is_printed_as_text(tmp_path, capsys, monkeypatch):
    import numpy as np

    monkeypatch.setattr(console, "_width", 300)
    frames = tmp_path / "dark.npy"
    np.save(frames, np.random.default_rng(1).integers(90, 110, (4, 32, 32), dtype=np.uint16))
    output = tmp_path / "[red]found.csv"
    assert main(["detect", "--dark", str(frames), "-o", str(output)]) in (0, 1)
    assert "[red]found.csv" in capsys.readouterr().out
    assert output.exists()
