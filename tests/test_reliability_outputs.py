"""Issue 11, outputs: file-system failures are one clear error, nothing is left behind,
stale temporary files are recognised and removed, a symlinked ``.bak`` is not followed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fastdefect.cli import main
from fastdefect.defects import DefectList
from fastdefect.errors import OutputError, OutputExistsError
from fastdefect.formats import read_list, write_list
from fastdefect.outputs import TEMP_SUFFIX, atomic_output, temporary_name_prefix


def _temporaries(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(TEMP_SUFFIX))


def test_a_legal_250_character_name_is_written(tmp_path):
    path = tmp_path / ("n" * 246 + ".csv")
    write_list(path, DefectList([1], [2]), "av-csv")
    assert read_list(path).positions().tolist() == [[1, 2]]
    assert _temporaries(tmp_path) == []


def test_a_name_too_long_is_one_clear_error(tmp_path, capsys):
    source = tmp_path / "a.csv"
    write_list(source, DefectList([1], [2]), "av-csv")
    target = tmp_path / ("n" * 300 + ".csv")
    code = main(["list", "convert", str(source), str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot write" in err and "Traceback" not in err
    assert _temporaries(tmp_path) == []


def test_a_full_disk_is_one_clear_error_and_leaves_nothing(tmp_path):
    # A file-size limit makes write() fail like a full disk does (EFBIG instead of ENOSPC).
    source = tmp_path / "big.csv"
    write_list(source, DefectList(range(20000), range(20000)), "av-csv")
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (50000, 50000))
        from fastdefect.cli import main
        sys.exit(main(["list", "convert", {str(source)!r}, {str(tmp_path / "out.json")!r}]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "out.json").exists()
    assert _temporaries(tmp_path) == []


def test_a_read_only_directory_is_one_clear_error(tmp_path, capsys):
    # Nobody, root included, may create files in /sys (sysfs).
    source = tmp_path / "a.csv"
    write_list(source, DefectList([1], [2]), "av-csv")
    code = main(["list", "convert", str(source), "/sys/fastdefect-out.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot write /sys/fastdefect-out.json" in err and "Traceback" not in err
    assert not os.path.exists("/sys/fastdefect-out.json")


def test_temporaries_of_a_killed_process_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "stack.csv"
    script = textwrap.dedent(
        f"""
        import time
        from fastdefect.outputs import atomic_output
        with atomic_output({str(target)!r}) as tmp:
            tmp.write_bytes(b"x" * 100000)
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = _temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(temporary_name_prefix("stack.csv")[:12])
    # A live writer's temporary (this process's parent is alive) is never touched.
    live = tmp_path / (
        temporary_name_prefix("stack.csv").replace(f"-{os.getpid()}-", f"-{os.getppid()}-")
        + "live"
        + TEMP_SUFFIX
    )
    live.write_bytes(b"y")
    write_list(target, DefectList([1], [2]), "av-csv")
    assert _temporaries(tmp_path) == [live.name]


def test_in_place_does_not_follow_a_symlinked_bak(tmp_path, capsys):
    path = tmp_path / "user.csv"
    write_list(path, DefectList([1], [1]), "av-csv")
    before = path.read_bytes()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "user.csv.bak").symlink_to(victim)
    assert main(["list", "add", str(path), "5", "6", "--in-place"]) == 0
    assert victim.read_text() == "precious"
    bak = tmp_path / "user.csv.bak"
    assert not bak.is_symlink() and bak.read_bytes() == before
    assert read_list(path).positions().tolist() == [[1, 1], [5, 6]]


def test_an_error_inside_the_block_leaves_no_file(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError), atomic_output(target) as tmp:
        raise OSError(28, "No space left on device", str(tmp))
    assert not target.exists() and _temporaries(tmp_path) == []


def test_a_file_that_appears_while_writing_is_never_replaced(tmp_path):
    """Two writers of one new name (two backups in the same second): the second is
    refused and the first file is kept, whoever checked the name first."""
    target = tmp_path / "cam-20261202-080000.bin"
    with pytest.raises(OutputExistsError), atomic_output(target) as tmp:
        tmp.write_bytes(b"second")
        target.write_bytes(b"first")  # the other writer finishes in between
    assert target.read_bytes() == b"first"
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))
    with atomic_output(target, overwrite=True) as tmp:  # asked for: replaced
        tmp.write_bytes(b"third")
    assert target.read_bytes() == b"third"
