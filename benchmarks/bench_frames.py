"""Streaming a long stack: peak memory stays at a few frames, whatever the length.

Writes a 5120 x 5120 x 64 uint16 stack (3.4 GB) once into the work directory, then
measures in separate child processes:

* ``baseline``: Python with numpy, tifffile and fastdefect imported, nothing read;
* ``fastdefect``: ``open_stack`` + iterating every frame (a sum per frame);
* ``tifffile.imread``: the peer most scripts use, loading the whole stack.

Run: ``python benchmarks/bench_frames.py [--frames 64] [--size 5120] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from fastdefect.frames import write_stack

from _harness import peak_rss_of_command, report


def cheap_frames(n: int, size: int, seed: int = 0):
    """Realistic-looking 10-bit frames, fast: a fixed pattern plus shifted noise."""
    rng = np.random.default_rng(seed)
    base = (40 + rng.normal(0, 2, (size, size))).astype(np.float32)
    noise = rng.normal(0, 2, (size, size)).astype(np.float32)
    for i in range(n):
        yield np.clip(base + np.roll(noise, 97 * i, axis=1), 0, 1023).astype(np.uint16)


def ensure_stack(path: Path, n: int, size: int) -> Path:
    if not path.exists():
        print(f"writing {path} ({n} frames of {size} x {size}) ...", flush=True)
        write_stack(path, cheap_frames(n, size), bit_depth=10)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fastdefect-bench"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = ensure_stack(
        args.workdir / f"stack-{args.size}-{args.frames}.tif", args.frames, args.size
    )
    frame_mib = args.size * args.size * 2 / 2**20
    imports = "import numpy, tifffile; import fastdefect.frames as frames\n"
    stream = (
        imports
        + f"stack = frames.open_stack({str(path)!r})\n"
        + "total = sum(int(frame.sum(dtype=numpy.uint64)) for frame in stack)\n"
        + "assert stack.n_frames > 0\n"
    )
    whole = imports + f"data = tifffile.imread({str(path)!r}); data.sum()\n"
    rows = []
    baseline_s, baseline = peak_rss_of_command([sys.executable, "-c", imports])
    for name, code in [("fastdefect stream", stream), ("tifffile.imread", whole)]:
        peak_rss_of_command([sys.executable, "-c", stream])  # warm the page cache
        seconds, peak = peak_rss_of_command([sys.executable, "-c", code])
        rows.append(
            {
                "reader": name,
                "frames": args.frames,
                "seconds": seconds,
                "peak_MiB": peak,
                "above_baseline_MiB": peak - baseline,
                "above_baseline_frames": (peak - baseline) / frame_mib,
            }
        )
    rows.insert(
        0,
        {
            "reader": "baseline (imports only)",
            "frames": 0,
            "seconds": baseline_s,
            "peak_MiB": baseline,
            "above_baseline_MiB": 0.0,
            "above_baseline_frames": 0.0,
        },
    )
    report("frames_streaming", rows, notes={"frame_MiB": frame_mib, "file": str(path)})


if __name__ == "__main__":
    main()
