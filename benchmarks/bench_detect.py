"""Detection speed and memory, side by side with the peers of issue 3.

1. ``deviation``: local-background deviation + threshold on one 5120 x 5120 10-bit dark
   frame and one flat frame: Mpix/s of :func:`fastdefect.detection.deviation_outliers`
   (target >= 500), and the plain peer ``image - scipy.ndimage.median_filter(image, 7)``
   with the same threshold (which, unlike ours, includes the centre pixel).
2. ``end to end``: ``fastdefect detect`` on 32 dark + 32 bright TIFF frames (page cache
   warm) against merely reading and summing those frames with tifffile + numpy
   (target: at most 2x).
3. ``memory``: peak resident memory of that run, and of 16- and 64-frame stacks
   (target: under 1.5 GB, the same within 10 % for 16 and 64 frames).
4. ``compile``: a second invocation compiles nothing (numba cache): counted from
   numba's cache debug output.
5. ``full deviation``: the exact deviation of every pixel
   (:func:`fastdefect.detection.deviation_image`) on a 5120 x 5120 uint16 flat frame and
   on the uint32 sum of 16 such frames, against ``local_median`` (the 7 x 7 median
   filter; target: at most 3-4x its time) and the per-pixel median path (timed on a
   random subset of pixels and extrapolated); and ``deviation_outliers`` with the
   threshold in the noise (2.5 robust sigmas of the flat frame's deviation), on the
   candidate path alone (``method="bounded"``, the old behaviour) and automatic. Also
   the candidate fraction at which ``"auto"`` switches (``FULL_FRAME_FRACTION``), from
   the measured cost per candidate and per full-frame pixel.

Run: ``python benchmarks/bench_detect.py [--size 5120] [--workdir DIR] [--quick]
[--only-full-deviation]``
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

from bench_frames import cheap_frames
from fastdefect.detection import (
    FULL_FRAME_FRACTION,
    deviation_image,
    deviation_outliers,
    local_deviation,
)
from fastdefect.frames import write_stack
from fastdefect.median import local_median

from _harness import peak_rss_of_command, report, time_call


def flat_frames(n: int, size: int, seed: int = 1):
    """Bright frames at ~65 % of full scale with PRNU and shot-like noise, and defects."""
    rng = np.random.default_rng(seed)
    base = (665 * (1 + rng.normal(0, 0.01, (size, size)))).astype(np.float32)
    noise = rng.normal(0, 8, (size, size)).astype(np.float32)
    dead = rng.integers(0, size, (2, 500))
    for i in range(n):
        frame = np.clip(base + np.roll(noise, 101 * i, axis=0), 0, 1023)
        frame[dead[0], dead[1]] *= 0.3
        yield frame.astype(np.uint16)


def dark_frames(n: int, size: int):
    rng = np.random.default_rng(2)
    hot = rng.integers(0, size, (2, 2000))
    for frame in cheap_frames(n, size):
        frame[hot[0], hot[1]] += 400
        yield frame


def ensure(path: Path, frames) -> Path:
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        write_stack(path, frames, bit_depth=10)
    return path


def read_and_sum(paths: list[Path]) -> None:
    import tifffile

    for path in paths:
        with tifffile.TiffFile(path) as tif:
            total = None
            for page in tif.pages:
                frame = page.asarray()
                total = frame.astype(np.uint32) if total is None else total + frame


def bench_deviation(size: int) -> list[dict]:
    import scipy.ndimage

    rows = []
    for name, frames in [("dark", dark_frames(1, size)), ("flat", flat_frames(1, size))]:
        image = next(iter(frames))
        ours = time_call("ours", lambda image=image: deviation_outliers(image, 102.0), repeat=7)
        found = deviation_outliers(image, 102.0)[0].size
        peer = time_call(
            "scipy",
            lambda image=image: (
                np.abs(image.astype(np.int32) - scipy.ndimage.median_filter(image, size=7)) > 102
            ),
            repeat=1,
            warmup=0,
        )
        rows.append(
            {
                "frame": name,
                "pixels": image.size,
                "found": found,
                "ours_s": ours.best,
                "ours_Mpix_per_s": image.size / ours.best / 1e6,
                "scipy_median_s": peer.best,
                "speedup_vs_scipy": peer.best / ours.best,
            }
        )
    return rows


def bench_full_deviation(size: int, n_frames: int = 16, subset: int = 100_000) -> list[dict]:
    """Full-frame deviation against the 7 x 7 median filter and the per-pixel path."""
    frames = flat_frames(n_frames, size)
    frame = next(frames)
    total = frame.astype(np.uint32)
    for other in frames:
        total += other
    rng = np.random.default_rng(5)
    rows, columns = rng.integers(0, size, (2, subset))
    median = time_call("local_median", lambda: local_median(frame, 7), repeat=7)
    full16 = time_call("deviation_image u16", lambda: deviation_image(frame), repeat=7)
    full32 = time_call(
        "deviation_image u32", lambda: deviation_image(total, n_frames=n_frames), repeat=7
    )
    per_pixel16 = time_call("per-pixel u16", lambda: local_deviation(frame, rows, columns))
    per_pixel32 = time_call("per-pixel u32", lambda: local_deviation(total, rows, columns))
    deviation = deviation_image(frame)
    sigma = 1.4826 * float(np.median(np.abs(deviation - np.median(deviation))))
    threshold = 2.5 * sigma
    bounded = time_call(
        "bounded",
        lambda: deviation_outliers(frame, threshold, method="bounded"),
        repeat=1,
        warmup=0,
    )
    auto = time_call("auto", lambda: deviation_outliers(frame, threshold), repeat=3)
    found = deviation_outliers(frame, threshold)[0].size
    pixels = frame.size
    table = [
        ("local_median u16 (7 x 7 filter)", median.best),
        ("deviation_image u16", full16.best),
        (f"deviation_image u32 (sum of {n_frames})", full32.best),
        ("per-pixel path u16, extrapolated", per_pixel16.best * pixels / subset),
        ("per-pixel path u32, extrapolated", per_pixel32.best * pixels / subset),
        (f"deviation_outliers at 2.5 sigma ({threshold:.1f} DN), bounded", bounded.best),
        (f"deviation_outliers at 2.5 sigma ({threshold:.1f} DN), auto", auto.best),
    ]
    result = [
        {
            "case": name,
            "pixels": pixels,
            "seconds": seconds,
            "vs_local_median": seconds / median.best,
        }
        for name, seconds in table
    ]
    result[-1]["found"] = found
    # The switch point: where the candidates' per-pixel medians cost as much as the full path.
    for dtype, full, per_pixel in (("u16", full16, per_pixel16), ("u32", full32, per_pixel32)):
        result.append(
            {
                "case": f"break-even candidate fraction {dtype}",
                "seconds": per_pixel.best / subset,
                "break_even_fraction": full.best / pixels / (per_pixel.best / subset),
                "FULL_FRAME_FRACTION": FULL_FRAME_FRACTION,
            }
        )
    return result


def fastdefect_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "fastdefect", *args]


def bench_end_to_end(workdir: Path, size: int, n: int) -> dict:
    dark = ensure(workdir / f"dark-{size}-{n}.tif", dark_frames(n, size))
    bright = ensure(workdir / f"bright-{size}-{n}.tif", flat_frames(n, size))
    out = workdir / "defects.csv"
    command = fastdefect_cmd("detect", "--dark", str(dark), "--bright", str(bright),
                             "-o", str(out), "--force")  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # warm cache + numba
    baseline = time_call("read+sum", lambda: read_and_sum([dark, bright]), repeat=3)
    ours = time_call(
        "detect",
        lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL),
        repeat=3,
        warmup=0,
    )
    start = time.perf_counter()
    subprocess.run(fastdefect_cmd("--version"), check=True, stdout=subprocess.DEVNULL)
    startup = time.perf_counter() - start
    _, peak = peak_rss_of_command(command)
    return {
        "frames_per_stack": n,
        "read_and_sum_s": baseline.best,
        "detect_s": ours.best,
        "ratio": ours.best / baseline.best,
        "python_startup_s": startup,
        "peak_MiB": peak,
        "defects": sum(1 for _ in out.open()) - 1,
    }


def bench_memory(workdir: Path, size: int, counts: list[int]) -> list[dict]:
    rows = []
    for n in counts:
        dark = ensure(workdir / f"dark-{size}-{n}.tif", dark_frames(n, size))
        seconds, peak = peak_rss_of_command(fastdefect_cmd("detect", "--dark", str(dark)))
        rows.append({"frames": n, "seconds": seconds, "peak_MiB": peak})
    return rows


def bench_compile(workdir: Path) -> dict:
    """Run detect twice on a tiny stack with numba's cache debugging on."""
    small = ensure(workdir / "small.tif", cheap_frames(3, 64))
    env = dict(os.environ, NUMBA_DEBUG_CACHE="1")
    counts = []
    for _ in range(2):
        result = subprocess.run(fastdefect_cmd("detect", "--dark", str(small)), env=env,
                                capture_output=True, text=True, check=True)  # fmt: skip
        log = result.stdout + result.stderr
        counts.append((log.count("data saved to"), log.count("data loaded from")))
    return {
        "first_run_saved": counts[0][0],
        "second_run_saved": counts[1][0],
        "second_run_loaded": counts[1][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "fastdefect-bench")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="skip the 16/64-frame memory runs")
    parser.add_argument("--only-full-deviation", action="store_true",
                        help="run only the full-frame deviation benchmark")  # fmt: skip
    args = parser.parse_args()
    if args.only_full_deviation:
        report("detect_full_deviation", bench_full_deviation(args.size))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    report("detect_deviation", bench_deviation(args.size))
    report("detect_full_deviation", bench_full_deviation(args.size))
    report("detect_end_to_end", [bench_end_to_end(args.workdir, args.size, args.frames)])
    if not args.quick:
        memory = bench_memory(args.workdir, args.size, [16, 64])
        spread = memory[-1]["peak_MiB"] / memory[0]["peak_MiB"] - 1
        report("detect_memory", memory, notes={"peak_64_vs_16": f"{100 * spread:+.1f} %"})
    report("detect_compile_cache", [bench_compile(args.workdir)])


if __name__ == "__main__":
    main()
