"""Shared helpers for the benchmarks: timing, peak memory, a table, and a JSON record.

Every benchmark runs fastdefect side by side with its peers *in the same process and
run* and reports ratios, because this machine is shared and noisy: absolute times vary
from run to run, ratios measured together are what we compare. Results are saved as
``benchmarks/results/<name>.json`` next to a printed table.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Timing:
    """Wall-clock seconds of repeated calls; ``best`` is what ratios use."""

    name: str
    times: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def time_call(name: str, func: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> Timing:
    """Time ``func()`` ``repeat`` times after ``warmup`` untimed calls (numba compiles there)."""
    for _ in range(warmup):
        func()
    timing = Timing(name)
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        timing.times.append(time.perf_counter() - start)
    return timing


def peak_rss_of_command(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return (seconds, its peak resident memory in MiB).

    The command runs under a fresh Python wrapper whose only child it is, so
    ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is that command's own high-water mark
    (the counter is a maximum over all children ever waited for, so it must not be
    shared between measurements).
    """
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "argv = json.loads(sys.argv[1])\n"
        "start = time.perf_counter()\n"
        "subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([seconds, peak / 1024.0]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, json.dumps(argv)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds, peak_mib = json.loads(result.stdout.strip().splitlines()[-1])
    return float(seconds), float(peak_mib)


def machine_info() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def report(
    name: str, rows: list[dict[str, object]], *, notes: dict[str, object] | None = None
) -> None:
    """Print ``rows`` as a table and save them with machine info to ``results/<name>.json``."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    widths = {k: max(len(k), *(len(_fmt(r.get(k, ""))) for r in rows)) for k in keys}
    print(f"\n{name}")
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(_fmt(row.get(k, "")).ljust(widths[k]) for k in keys))
    for key, value in (notes or {}).items():
        print(f"{key}: {_fmt(value)}")
    RESULTS_DIR.mkdir(exist_ok=True)
    record = {"benchmark": name, "machine": machine_info(), "rows": rows, "notes": notes or {}}
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=2, default=_jsonable))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _jsonable(value: object) -> object:
    if isinstance(value, Timing):
        return asdict(value)
    return str(value)
