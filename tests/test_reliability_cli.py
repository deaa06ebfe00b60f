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


def _detect_command(frames, output) -> list[str]:
    return [sys.executable, "-m", "fastdefect", "detect", "--dark", str(frames), "--bright",
            str(frames), "-o", str(output), "--force"]  # fmt: skip


@pytest.fixture(scope="module")
def interruptible(tmp_path_factory):
    """A stack, and how long an uninterrupted detect of it takes on this machine: the
    interrupts land at fractions of that, in the imports, the reading or the kernels,
    however fast the machine (fixed delays ended up after the run)."""
    import numpy as np

    frames = tmp_path_factory.mktemp("interrupt") / "frames.npy"
    rng = np.random.default_rng(0)
    np.save(frames, rng.integers(0, 1000, (40, 1024, 1024), dtype=np.uint16))
    seconds = []
    for _ in range(2):  # the first may compile or read from disk
        start = time.perf_counter()
        subprocess.run(_detect_command(frames, frames.with_suffix(".csv")), check=True,
                       capture_output=True)  # fmt: skip
        seconds.append(time.perf_counter() - start)
    return frames, min(seconds)


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "fraction",
    [0.15, 0.45, 0.75, *(pytest.param(f, marks=SLOW) for f in (0.3, 0.6, 0.9))],
)
def test_ctrl_c_is_one_line_and_exit_130(interruptible, tmp_path, fraction):
    frames, seconds = interruptible
    process = subprocess.Popen(
        _detect_command(frames, tmp_path / "out.csv"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(fraction * seconds)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip(f"detect finished within {fraction} of its usual {seconds:.1f} s")
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == "interrupted"
    # the interrupt adds that one line; anything before it was printed by the run itself
    assert all(line.startswith(("warning:", "fastdefect: compiling")) for line in lines[:-1])
    assert os.environ.get("PYTEST_CURRENT_TEST")  # ran under pytest


def test_a_handled_interrupt_from_an_execd_string_still_exits_130(tmp_path):
    """CPython remembers a KeyboardInterrupt that left an exec'd string (typer, numba and
    dataclasses build functions so) and, under ``python -m``, ends the process with
    SIGINT (-2) after a normal exit; :func:`_interrupt.restore` makes it forget."""
    (tmp_path / "probe.py").write_text(
        "import sys\n"
        "from fastdefect import _interrupt\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
        "if sys.argv[1] == 'restore':\n"
        "    _interrupt.restore(None)\n"
        "sys.exit(130)\n"
    )
    codes = {
        mode: subprocess.run([sys.executable, "-m", "probe", mode], cwd=tmp_path).returncode
        for mode in ("plain", "restore")
    }
    assert codes["restore"] == 130
    assert codes["plain"] in (-signal.SIGINT, 130)
    if codes["plain"] == 130:
        pytest.skip("this CPython forgets the interrupt by itself")


def test_an_output_name_with_brackets_is_printed_as_text(tmp_path, capsys, monkeypatch):
    import numpy as np

    monkeypatch.setattr(console, "_width", 300)
    frames = tmp_path / "dark.npy"
    np.save(frames, np.random.default_rng(1).integers(90, 110, (4, 32, 32), dtype=np.uint16))
    output = tmp_path / "[red]found.csv"
    assert main(["detect", "--dark", str(frames), "-o", str(output)]) in (0, 1)
    assert "[red]found.csv" in capsys.readouterr().out
    assert output.exists()
