"""Reliability measurement (issue 11): fuzz counts, peak memory on hostile files, and
parse time against file size.

Run: ``python benchmarks/fuzz_readers.py [--lists 20000] [--tiffs 1000] [--seed 7]``.

1. The mutation fuzzer of ``tests/fuzzing.py`` on ``--lists`` list files (all six text
   and binary formats) and ``--tiffs`` TIFF stacks: cases read, refused with a clear
   error, crashed (a traceback), hung (slower than ``HANG_SECONDS``).
2. Each hostile file of the issue through the command line in a fresh interpreter: exit
   code, peak resident memory (MiB, ``getrusage`` of that child only), seconds.
3. Parse time of each text reader on files of size N and 4N, well-formed and hostile:
   the ratio is about 4 when parsing is linear (16 when quadratic).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from fastdefect.defects import DefectList
from fastdefect.errors import FastDefectError
from fastdefect.formats import read_list, write_list

import fuzzing
from _harness import report


def _peak_of_command(argv: list[str]) -> tuple[int, float, float]:
    """(exit code, peak RSS MiB, seconds) of ``argv`` run as the only child of a wrapper."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL,\n"
        "                      stderr=subprocess.DEVNULL).returncode\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0\n"
        "print(json.dumps([code, peak, seconds]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, json.dumps(argv)], capture_output=True, text=True
    ).stdout
    code, peak, seconds = json.loads(out.strip().splitlines()[-1])
    return int(code), float(peak), float(seconds)


def _tiff(width: int, height: int, strip: bytes) -> bytes:
    from test_reliability_frames import _tiff as make  # the tests' hostile TIFF builder

    return make(width, height, strip, 8)


def _bomb(inflated: int) -> bytes:
    from test_reliability_frames import _bomb as make

    return make(inflated)


def hostile_files(work: Path) -> list[tuple[str, Path, list[str]]]:
    """(description, file, fastdefect arguments) for every hostile file of the issue."""
    cases: list[tuple[str, Path, list[str]]] = []

    def add(name: str, data: bytes, description: str, command: str) -> None:
        path = work / name
        path.write_bytes(data)
        if command == "detect":
            args = ["detect", "--dark", str(path), "-o", str(work / f"{name}.out.csv"), "--force"]
        else:
            args = ["list", "stats", str(path)]
        cases.append((description, path, args))

    add(
        "claim.tif",
        _tiff(100000, 100000, zlib.compress(bytes(64))),
        "134-byte TIFF claiming 100000 x 100000",
        "detect",
    )
    add(
        "bomb64.tif",
        _tiff(64, 64, _bomb(1 << 30)),
        "zip bomb: 64 x 64 declared, 1 GiB inside",
        "detect",
    )
    add(
        "bomb40k.tif",
        _tiff(40000, 40000, _bomb(3 << 30)),
        "zip bomb: 40000 x 40000 declared, 3 GiB inside",
        "detect",
    )
    add(
        "redos.csv",
        b"Row, Column\n1," + b"1" * 40000 + b"x\n",
        "av-csv value '111...1x' of 40k characters",
        "list",
    )
    add(
        "commas.csv",
        b"Row, Column\n1," + b"," * 10_000_000 + b"\n",
        "av-csv: 10 MB of commas",
        "list",
    )
    add(
        "commas-rich.csv",
        b"row,column,kind\n1,2," + b"," * 10_000_000 + b"\n",
        "rich csv: 10 MB of commas",
        "list",
    )
    add(
        "bigvalue.csv",
        b"Row, Column\n1," + b"y" * 100_000_000 + b"\n",
        "av-csv: a 100 MB bad value",
        "list",
    )
    add(
        "digits.csv",
        b"Row, Column\n1," + b"9" * 100_000 + b"\n",
        "av-csv: a 100,000-digit integer",
        "list",
    )
    add("deep.json", b"[" * 5_000_000 + b"]" * 5_000_000, "json nested 5,000,000 deep", "list")
    quote = b'row,column,kind,source\n1,2,hot,"' + b"x" * 50_000_000 + b"\n"
    add("quote.csv", quote, "rich csv: unclosed 50 MB quote", "list")
    encoding = b"<?xml version='1.0' encoding='UTF-G'?><UserPixelMask/>"
    add("xml-enc.xml", encoding, "arri-xml: unknown encoding", "list")
    return cases


def _time_read(path: Path, fmt: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(FastDefectError):
            read_list(path, fmt)
        best = min(best, time.perf_counter() - start)
    return best


def linearity(work: Path, base: int) -> list[dict[str, object]]:
    """Parse time at N and 4N for well-formed and hostile content of each text format."""
    rows = []

    def entries(n: int, **options: object) -> DefectList:
        rows, columns = divmod(np.arange(n), 5000)  # n distinct pixels
        return DefectList(rows, columns, **options)

    makers = {
        "av-csv well-formed": ("av-csv", entries),
        "csv well-formed": ("csv", lambda n: entries(n, source="a,b")),
        "json well-formed": ("json", entries),
        "dcraw well-formed": ("dcraw", entries),
    }
    for name, (fmt, make) in makers.items():
        times = []
        for n in (base, 4 * base):
            path = work / f"lin-{fmt}-{n}.{'txt' if fmt == 'dcraw' else fmt.split('-')[-1]}"
            write_list(path, make(n), fmt, overwrite=True)
            times.append(_time_read(path, fmt))
        rows.append({"content": name, "n": base, "t_n": times[0], "t_4n": times[1],
                     "ratio": times[1] / times[0]})  # fmt: skip
    hostile = {
        "av-csv '111...1x'": ("av-csv", lambda n: b"Row, Column\n1," + b"1" * n + b"x\n"),
        "av-csv commas": ("av-csv", lambda n: b"Row, Column\n1," + b"," * n + b"\n"),
        "csv quoted commas": ("csv", lambda n: b'row,column,kind\n1,2,"h' + b'",' * n + b"\n"),
        "csv blank lines": ("csv", lambda n: b"row,column,kind\n" + b"\n" * n + b"1,2,hot\n"),
        "dcraw blanks": ("dcraw", lambda n: b"1 2 3" + b" 4" * n + b"\n"),
        "json nesting": ("json", lambda n: b"[" * n + b"]" * n),
    }
    for name, (fmt, make) in hostile.items():
        times = []
        for n in (base * 20, base * 80):
            path = work / f"hostile-{len(rows)}-{n}.txt"
            path.write_bytes(make(n))
            times.append(_time_read(path, fmt))
        rows.append({"content": name, "n": base * 20, "t_n": times[0], "t_4n": times[1],
                     "ratio": times[1] / times[0]})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=20000)
    parser.add_argument("--tiffs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--linear-base", type=int, default=50000)
    parser.add_argument("--only-linearity", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if options.only_linearity:
            report("reliability_linearity", linearity(work, options.linear_base))
            return
        start = time.perf_counter()
        lists = fuzzing.fuzz_lists(work / "lists", options.lists, seed=options.seed)
        list_seconds = time.perf_counter() - start
        start = time.perf_counter()
        tiffs = fuzzing.fuzz_tiffs(work / "tiffs", options.tiffs, seed=options.seed)
        tiff_seconds = time.perf_counter() - start
        fuzz_rows = [
            {"reader": "lists (6 formats)", "cases": lists.cases, "read": lists.accepted,
             "refused": lists.refused, "crashes": len(lists.crashes), "hangs": len(lists.hangs),
             "slowest_s": lists.slowest, "seconds": list_seconds},
            {"reader": "frames (TIFF)", "cases": tiffs.cases, "read": tiffs.accepted,
             "refused": tiffs.refused, "crashes": len(tiffs.crashes), "hangs": len(tiffs.hangs),
             "slowest_s": tiffs.slowest, "seconds": tiff_seconds},
        ]  # fmt: skip
        for path, trace in (lists.crashes + tiffs.crashes)[:5]:
            print(path, trace, sep="\n")
        report("reliability_fuzz", fuzz_rows, notes={"seed": options.seed})

        hostile_rows = []
        (work / "hostile").mkdir()
        for description, path, args in hostile_files(work / "hostile"):
            code, peak, seconds = _peak_of_command([sys.executable, "-m", "fastdefect", *args])
            hostile_rows.append({"file": description, "bytes": path.stat().st_size,
                                 "command": " ".join(args[:2]), "exit": code,
                                 "peak_mib": peak, "seconds": seconds})  # fmt: skip
            path.unlink()
        report("reliability_hostile", hostile_rows, notes={"limit_mib": 500})

        report("reliability_linearity", linearity(work, options.linear_base))


if __name__ == "__main__":
    main()
