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
import resource
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
    """Run a command in a child process; return (seconds, peak resident memory in MiB).

    The peak comes from ``getrusage(RUSAGE_CHILDREN)`` after the child exits, so it is the
    true high-water mark of that process alone (the children run one at a time).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the maximum over all waited-for children; a new peak is
    # only visible when it exceeds the previous ones, so measure small runs first or
    # use a fresh interpreter per measurement (see the callers).
    return seconds, max(after, before) / 1024.0


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
