"""Stack statistics and detection against reading the files, and the first run's compile.

All in one run, so the ratios compare like with like on a shared machine:

1. ``stats``: :func:`fastdefect.stats.stack_stats` band-major (the default) and the old
   frame-major pass, in one process, against ``cat`` of the same file (page cache warm).
2. ``detect``: ``fastdefect detect`` on a dark and a bright stack against ``cat`` of the
   two files (target: at most 3x), and its peak memory on 8- and 64-frame dark stacks
   (target: at most 1 GiB, within 10 % of each other). Beside it, what the time is made
   of: the same command on 64 x 64 stacks (the fixed cost of a run) and ``detect()`` in
   this warm process (the work).
3. ``deflate``: the same on deflate-compressed copies of the same stacks (the issue's
   measure; ``--deflate-frames`` copies fewer frames, as writing them takes long) against
   ``tifffile.imread(path, maxworkers=2)`` of those copies (target: at most 1.3x).
4. ``demo``: ``fastdefect demo`` with an empty numba cache (cold) and again (warm);
   wall and CPU seconds (targets: 10 s and 3 s on a quiet machine).
5. ``accumulate``: frames per second the frame-major accumulator
   (:func:`fastdefect.kernels.stats.accumulate_frame`, what a live capture would feed
   frame by frame) sustains on frames already in memory (target: 20 frames/s at 5120²).

The load average is recorded with every result: on a busy machine compare ratios only.

Run: ``python benchmarks/bench_stats.py [--size 5120] [--frames 32] [--workdir DIR]
[--skip-demo] [--skip-deflate]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from bench_detect import dark_frames, ensure, fastdefect_cmd, flat_frames
from bench_frames import cheap_frames
from fastdefect import stats
from fastdefect.detection import detect
from fastdefect.frames import open_stack
from fastdefect.kernels.stats import accumulate_frame

from _harness import Timing, peak_rss_of_command, report, time_call


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)


def cat(paths: list[Path]) -> None:
    run(["cat", *map(str, paths)])


def bench_stats(dark: Path, rounds: int = 3) -> list[dict]:
    """Best of ``rounds``, the three taking turns so a burst of load hits them alike."""
    stack = open_stack(dark)
    stats.stack_stats(stack)  # numba cache loaded, page cache warm
    base, band, frame = Timing("cat"), Timing("band-major"), Timing("frame-major")
    for _ in range(rounds):
        for timing, func in (
            (base, lambda: cat([dark])),
            (band, lambda: stats.stack_stats(stack)),
            (frame, lambda: stats._frame_major_stats(stack, None)),
        ):
            timing.times.extend(time_call(timing.name, func, repeat=1, warmup=0).times)
    return [
        {"what": f"cat {dark.name}", "seconds": base.best, "vs_cat": 1.0},
        {"what": "stack_stats band-major", "seconds": band.best, "vs_cat": band.best / base.best},
        {
            "what": "stack_stats frame-major",
            "seconds": frame.best,
            "vs_cat": frame.best / base.best,
        },
        {"what": "load average", "seconds": load()},
    ]


def bench_detect(dark: Path, bright: Path, peer_name: str, peer, tiny: tuple[Path, Path]) -> dict:
    """``fastdefect detect`` against ``peer``, and where its time goes: ``start_s`` is the
    same command on ``tiny`` stacks (64 x 64: starting Python, the imports, numba, the
    cached kernels), ``in_process_s`` :func:`fastdefect.detection.detect` on the stacks
    in this (warm) process: the work itself."""
    command = fastdefect_cmd("detect", "--dark", str(dark), "--bright", str(bright))
    small = fastdefect_cmd("detect", "--dark", str(tiny[0]), "--bright", str(tiny[1]))
    run(command)  # page cache and numba cache warm
    base = time_call(peer_name, peer, repeat=3)
    ours = time_call("detect", lambda: run(command), repeat=3, warmup=0)
    start = time_call("detect tiny", lambda: run(small), repeat=3)
    work = time_call("detect()", lambda: detect(dark=dark, bright=bright), repeat=3)
    _, peak = peak_rss_of_command(command)
    return {
        "files": f"{dark.name} + {bright.name}",
        "peer": peer_name,
        "peer_s": base.best,
        "detect_s": ours.best,
        "ratio": ours.best / base.best,
        "start_s": start.best,
        "in_process_s": work.best,
        "in_process_ratio": work.best / base.best,
        "detect_peak_MiB": peak,
        "load": load(),
    }


def bench_memory(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        seconds, peak = peak_rss_of_command(fastdefect_cmd("detect", "--dark", str(path)))
        rows.append({"stack": path.name, "seconds": seconds, "peak_MiB": peak, "load": load()})
    return rows


def deflate_copy(path: Path) -> Path:
    target = path.with_name(path.stem + "-deflate.tif")
    if not target.exists():
        print(f"writing {target} ...", flush=True)
        with tifffile.TiffFile(path) as tif:
            description = tif.pages[0].description
            with tifffile.TiffWriter(target) as writer:
                for page in tif.pages:
                    writer.write(page.asarray(), compression="zlib", photometric="minisblack",
                                 compressionargs={"level": 1}, description=description,
                                 rowsperstrip=64)  # fmt: skip
                    description = None
    return target


def bench_accumulate(size: int, n: int = 16) -> dict:
    frames = list(dark_frames(4, size))
    total = np.zeros((size, size), np.uint32)
    total_sq = np.zeros((size, size), np.uint32)
    minimum = np.full((size, size), 65535, np.uint16)
    maximum = np.zeros((size, size), np.uint16)

    def accumulate() -> None:
        for i in range(n):
            accumulate_frame(frames[i % len(frames)], total, total_sq, minimum, maximum)

    timing = time_call("accumulate", accumulate, repeat=3)
    return {"frames": n, "size": size, "seconds": timing.best,
            "frames_per_s": n / timing.best, "load": load()}  # fmt: skip


def bench_demo() -> list[dict]:
    cache = Path(tempfile.mkdtemp(prefix="fastdefect-bench-numba-"))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    rows = []
    try:
        for name in ("cold (empty numba cache)", "warm"):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            run(fastdefect_cmd("demo"), env=env)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            rows.append({"demo": name, "wall_s": seconds, "cpu_s": cpu, "load": load()})
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "fastdefect-bench")  # fmt: skip
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-deflate", action="store_true")
    parser.add_argument("--deflate-frames", type=int, default=None,
                        help="frames of the deflate copies (default --frames; compressing "
                        "takes long)")  # fmt: skip
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    size, n = args.size, args.frames
    dark = ensure(args.workdir / f"dark-{size}-{n}.tif", dark_frames(n, size))
    bright = ensure(args.workdir / f"bright-{size}-{n}.tif", flat_frames(n, size))
    report("stats_band_major", bench_stats(dark))
    tiny = (
        ensure(args.workdir / "tiny-dark.tif", cheap_frames(4, 64)),
        ensure(args.workdir / "tiny-bright.tif", flat_frames(4, 64)),
    )
    rows = [bench_detect(dark, bright, "cat", lambda: cat([dark, bright]), tiny)]
    if not args.skip_deflate:
        k = args.deflate_frames or n
        dark_z = deflate_copy(ensure(args.workdir / f"dark-{size}-{k}.tif", dark_frames(k, size)))
        bright_z = deflate_copy(
            ensure(args.workdir / f"bright-{size}-{k}.tif", flat_frames(k, size))
        )
        rows.append(
            bench_detect(
                dark_z,
                bright_z,
                "tifffile.imread(maxworkers=2)",
                lambda: [tifffile.imread(p, maxworkers=2) for p in (dark_z, bright_z)],
                tiny,
            )
        )
    report("detect_vs_reading", rows)
    stacks = [ensure(args.workdir / f"dark-{size}-{k}.tif", dark_frames(k, size)) for k in (8, 64)]
    memory = bench_memory(stacks)
    spread = memory[1]["peak_MiB"] / memory[0]["peak_MiB"] - 1
    report("detect_peak_memory", memory, notes={"peak_64_vs_8": f"{100 * spread:+.1f} %"})
    report("live_accumulate", [bench_accumulate(size)])
    if not args.skip_demo:
        report("demo_cold_warm", bench_demo(), notes={"python": sys.executable})


if __name__ == "__main__":
    main()
