"""Synthetic sensor speed: seconds per frame at 5120 x 5120, and a whole simulation's cost.

Measures, in this process:

* ``build_sensor``: parameter maps, defect layout and ground truth (once per simulation);
* ``dark frame`` / ``bright frame``: one frame from :func:`fastdefect.simulate.dark_frames`
  / ``bright_frames`` (all CPUs, and one thread);
* ``peer: numpy poisson``: the straightforward numpy recipe for the same frame
  (``Generator.poisson`` on the mean electrons plus Gaussian read noise, round, clip), the
  baseline the simulator's Gaussian shortcut is measured against;

and in a child process ``fastdefect simulate`` writing both stacks (``--frames`` each)
with its wall time and peak memory.

Run: ``python benchmarks/bench_simulate.py [--size 5120] [--frames 4] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from fastdefect.simulate import SimulationConfig, bright_frames, build_sensor, dark_frames

from _harness import peak_rss_of_command, report, time_call


def numpy_poisson_frame(sensor, rng: np.random.Generator) -> np.ndarray:
    """The peer: exact Poisson shot noise on every pixel, then read noise and the ADC."""
    config = sensor.config
    electrons = sensor.signal_electrons("dark")
    shot = rng.poisson(electrons)
    read = rng.normal(0.0, config.read_noise_e, electrons.shape)
    values = sensor.offset_dn + config.gain * (shot + read)
    return np.clip(np.rint(values), 0, config.full_scale).astype(config.dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument("--frames", type=int, default=4, help="frames per stack, end to end")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fastdefect-bench"
    )
    args = parser.parse_args()
    size = args.size
    config = SimulationConfig(width=size, height=size, frames=args.frames)

    build = time_call("build_sensor", lambda: build_sensor(config), repeat=2, warmup=0)
    sensor = build_sensor(config)
    rows = [{"step": "build_sensor", "size": size, "seconds": build.best}]
    for stack, make in (("dark", dark_frames), ("bright", bright_frames)):
        for workers in (None, 1):
            frames = make(sensor, frames=10**6, workers=workers)
            timing = time_call(f"{stack} frame", lambda frames=frames: next(frames), repeat=5)
            frames.close()
            rows.append(
                {
                    "step": f"{stack} frame" + (" (1 thread)" if workers == 1 else ""),
                    "size": size,
                    "seconds": timing.best,
                    "median_s": timing.median,
                }
            )
    rng = np.random.default_rng(0)
    peer = time_call("peer", lambda s=sensor: numpy_poisson_frame(s, rng), repeat=3)
    rows.append(
        {
            "step": "peer: numpy poisson frame",
            "size": size,
            "seconds": peer.best,
            "median_s": peer.median,
        }
    )
    dark_best = next(r["seconds"] for r in rows if r["step"] == "dark frame")
    del sensor

    args.workdir.mkdir(parents=True, exist_ok=True)
    out = args.workdir / f"simulate-{size}"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable, "-m", "fastdefect", "simulate", "--out", str(out),
        "--width", str(size), "--height", str(size), "--frames", str(args.frames), "--json",
    ]  # fmt: skip
    seconds, peak = peak_rss_of_command(command)
    frame_mib = size * size * 2 / 2**20
    rows.append(
        {
            "step": f"simulate CLI, 2 x {args.frames} frames written",
            "size": size,
            "seconds": seconds,
            "peak_MiB": peak,
            "peak_frames": peak / frame_mib,
        }
    )
    shutil.rmtree(out, ignore_errors=True)
    report(
        "simulate",
        rows,
        notes={
            "seconds_per_dark_frame": dark_best,
            "speedup_vs_numpy_poisson": peer.best / dark_best,
        },
    )


if __name__ == "__main__":
    main()
