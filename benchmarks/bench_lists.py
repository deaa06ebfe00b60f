"""Defect list benchmark: ``list check`` on a 100,000-entry list, API and command line.

Run: ``python benchmarks/bench_lists.py [--entries N]``.

The list: N random pixels on a 5120 x 5120 (PYTHON 25K) sensor plus planted runs of
2..12 pixels and column-0 entries, written as an Allied Vision user list CSV. Timed:

* the API pieces: reading the CSV, ``check_list`` with the ``av`` and ``arri`` rules,
  merge, statistics, rich CSV / JSON writing and reading;
* a plain-Python walk over a set (the brute-force reference of the tests) as the peer,
  in the same run, for a ratio;
* ``fastdefect list check FILE --sensor GT5120`` end to end in a fresh interpreter
  (start-up, imports, reading, judging, rendering), as a user runs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from fastdefect.defects import DefectList, merge_lists
from fastdefect.formats import read_list, write_list
from fastdefect.rules import check_list, rule_set

from _harness import report, time_call


def make_list(n: int, seed: int = 0) -> DefectList:
    rng = np.random.default_rng(seed)
    rows = [rng.integers(0, 5120, n - n // 20)]
    columns = [rng.integers(0, 5120, n - n // 20)]
    planted = 0
    while planted < n // 20:
        length = int(rng.integers(2, 13))
        row, start = int(rng.integers(0, 5120)), int(rng.integers(0, 5100))
        if rng.random() < 0.05:
            start = 0
        rows.append(np.full(length, row))
        columns.append(np.arange(start, start + length))
        planted += length
    return DefectList(np.concatenate(rows)[:n], np.concatenate(columns)[:n], source="user")


def python_walk(rows: list[int], columns: list[int], width: int, height: int) -> list[int]:
    """The peer: judge each entry by walking a set (what a straightforward script does)."""
    cells = {(r, c) for r, c in zip(rows, columns, strict=True) if r < height and c < width}
    levels = []
    for r, c in zip(rows, columns, strict=True):
        if (r, c) not in cells:
            levels.append(2)
            continue
        left = c
        while (r, left - 1) in cells:
            left -= 1
        right = c
        while (r, right + 1) in cells:
            right += 1
        run = right - left + 1
        levels.append(2 if left == 0 or run > 8 else 1 if run > 4 else 0)
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = args.entries, args.repeat

    defects = make_list(n)
    rules = rule_set("av", width=5120, height=5120)
    arri = rule_set("arri", width=5120, height=5120)
    rows: list[dict[str, object]] = []

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "user.csv"
        write_list(csv_path, defects, "av-csv")
        rich_path = tmp_path / "rich.csv"
        json_path = tmp_path / "rich.json"
        evidence = DefectList(
            defects.rows,
            defects.columns,
            kinds="hot",
            source="detected",
            evidence={"dark_mean": np.linspace(0, 1, n)},
        )

        verdicts = check_list(defects, rules)
        expected = python_walk(defects.rows.tolist(), defects.columns.tolist(), 5120, 5120)
        assert verdicts.levels.tolist() == expected, "vectorised and peer verdicts differ"
        counts = verdicts.counts()

        timings = [
            time_call("read av-csv", lambda: read_list(csv_path), repeat=repeat),
            time_call("check_list av", lambda: check_list(defects, rules), repeat=repeat),
            time_call(
                "check_list arri (5x5 density)", lambda: check_list(defects, arri), repeat=repeat
            ),
            time_call(
                "read + check av (API)",
                lambda: check_list(read_list(csv_path), rules),
                repeat=repeat,
            ),
            time_call(
                "peer: python set walk (av)",
                lambda: python_walk(defects.rows.tolist(), defects.columns.tolist(), 5120, 5120),
                repeat=max(1, repeat // 2),
            ),
            time_call(
                "merge (list + half of itself)",
                lambda: merge_lists([defects, defects.take(np.arange(0, n, 2))]),
                repeat=repeat,
            ),
            time_call("statistics (clusters, runs)", lambda: defects.statistics(), repeat=repeat),
            time_call(
                "write rich csv",
                lambda: write_list(rich_path, evidence, "csv", overwrite=True),
                repeat=repeat,
            ),
            time_call("read rich csv", lambda: read_list(rich_path), repeat=repeat),
            time_call(
                "write json",
                lambda: write_list(json_path, evidence, "json", overwrite=True),
                repeat=repeat,
            ),
            time_call("read json", lambda: read_list(json_path), repeat=repeat),
        ]
        for timing in timings:
            rows.append(
                {
                    "what": timing.name,
                    "entries": n,
                    "best_s": timing.best,
                    "median_s": timing.median,
                }
            )

        env = dict(os.environ, COLUMNS="120")
        command = [
            sys.executable,
            "-m",
            "fastdefect",
            "list",
            "check",
            str(csv_path),
            "--sensor",
            "GT5120",
        ]
        startup = [sys.executable, "-c", "import fastdefect.cli"]
        cli_times, startup_times = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            result = subprocess.run(command, env=env, capture_output=True)
            cli_times.append(time.perf_counter() - start)
            assert result.returncode == (1 if counts["error"] else 0), result.stderr
            start = time.perf_counter()
            subprocess.run(startup, env=env, check=True)
            startup_times.append(time.perf_counter() - start)
        rows.append(
            {
                "what": "CLI: fastdefect list check --sensor GT5120 (fresh process)",
                "entries": n,
                "best_s": min(cli_times),
                "median_s": float(np.median(cli_times)),
            }
        )
        rows.append(
            {
                "what": "  of which interpreter start + import fastdefect.cli",
                "entries": 0,
                "best_s": min(startup_times),
                "median_s": float(np.median(startup_times)),
            }
        )

    peer = next(t for t in timings if t.name.startswith("peer"))
    check = next(t for t in timings if t.name == "check_list av")
    report(
        "lists",
        rows,
        notes={
            "verdicts": counts,
            "check_list speed-up over the python set walk": round(peer.best / check.best, 1),
        },
    )


if __name__ == "__main__":
    main()
