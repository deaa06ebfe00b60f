"""HTML report generation for a 5120 x 5120 sensor with 10,000 defects (issue 7).

Stacks of 4 dark + 4 bright 10-bit frames carry about 10,000 defective pixels: 7,700 hot
pixels and 40 horizontal runs of 2 to 14 (some touching column 0) in the dark, 2,000
dark pixels in the flat, so every section of the report has work to do (the run table
holds warnings and errors). Timed, best of ``--repeat``:

* ``render``: :func:`fastdefect.report.report_from_analysis` from a finished analysis
  (map, histograms, run table, previews; what the report itself costs);
* ``render + sweep``: the same with a 20-threshold sweep section;
* ``end to end``: ``fastdefect report`` as a user runs it (process start, reading the
  TIFFs, analysis, rendering, writing the file).

Target: under 10 s. Run: ``python benchmarks/bench_report.py [--size 5120] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench_detect import ensure
from bench_frames import cheap_frames
from fastdefect.detection import analyse
from fastdefect.report import report_from_analysis

from _harness import report, time_call

SWEEP = "60:250:10"


def _layout(size: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    hot = rng.choice(size * size, 7700, replace=False)
    run_rows, run_columns = [], []
    for number in range(40):
        length = 2 + number % 13
        row = int(rng.integers(0, size))
        start = 0 if number % 10 == 0 else int(rng.integers(8, size - 20))
        run_rows += [row] * length
        run_columns += list(range(start, start + length))
    dead = rng.choice(size * size, 2000, replace=False)
    return np.divmod(hot, size), (np.array(run_rows), np.array(run_columns)), np.divmod(dead, size)


def dark_frames(n: int, size: int):
    (hot_r, hot_c), (run_r, run_c), _ = _layout(size)
    for frame in cheap_frames(n, size):
        frame[hot_r, hot_c] += 400
        frame[run_r, run_c] += 300
        yield frame


def bright_frames(n: int, size: int):
    *_, (dead_r, dead_c) = _layout(size)
    rng = np.random.default_rng(3)
    base = (665 * (1 + rng.normal(0, 0.01, (size, size)))).astype(np.float32)
    noise = rng.normal(0, 8, (size, size)).astype(np.float32)
    for i in range(n):
        frame = np.clip(base + np.roll(noise, 101 * i, axis=0), 0, 1023)
        frame[dead_r, dead_c] *= 0.3
        yield frame.astype(np.uint16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "fastdefect-bench")  # fmt: skip
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    size, n = args.size, args.frames
    dark = ensure(args.workdir / f"report-dark-{size}-{n}.tif", dark_frames(n, size))
    bright = ensure(args.workdir / f"report-bright-{size}-{n}.tif", bright_frames(n, size))

    analysis = analyse(dark=dark, bright=bright, lowest_threshold=SWEEP.split(":")[0])
    made = []
    render = time_call(
        "render", lambda: made.append(report_from_analysis(analysis)), repeat=args.repeat
    )
    plain = made[-1]
    render_sweep = time_call(
        "render + sweep",
        lambda: made.append(report_from_analysis(analysis, sweep=SWEEP)),
        repeat=args.repeat,
    )
    out = args.workdir / "report.html"
    command = [sys.executable, "-m", "fastdefect", "report", "--dark", str(dark),
               "--bright", str(bright), "-o", str(out), "--force"]  # fmt: skip
    end_to_end = time_call(
        "end to end",
        lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL),
        repeat=args.repeat,
        warmup=1,
    )
    rows = [
        {"what": "render", "seconds": render.best},
        {"what": f"render + sweep {SWEEP}", "seconds": render_sweep.best},
        {"what": "fastdefect report (end to end)", "seconds": end_to_end.best},
    ]
    report(
        "report",
        rows,
        notes={
            "size": f"{size} x {size}, {n} dark + {n} bright frames (TIFF)",
            "defects": len(plain.defects),
            "verdicts": plain.verdicts.counts(),
            "html_MB": round(len(plain.html.encode()) / 1e6, 2),
            "analysis_s": round(analysis.seconds, 2),
            "target": "under 10 s",
        },
    )


if __name__ == "__main__":
    main()
