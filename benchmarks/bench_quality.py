"""Detection quality on the simulator's realistic presets (issue 10), at 4096 x 3072.

:func:`fastdefect.simulate.realistic_preset`: 12-bit, three dark exposures (0.1, 0.4,
1.6 s) plus a bright stack, amp glow in one corner, partial lines, 2-4 level telegraph
pixels; mono and Bayer (GRBG). Detection at the default thresholds, scored against the
truth with the pixels the truth marks ``ambiguous`` (a deviation within 5 noise sigmas of
its threshold) and telegraph pixels that never blinked left out. Reports recall, false
positives, kind agreement, full-line and partial-line recall, the estimated conversion
gain and read noise against the simulator's, and the seconds taken.

Targets (issue 10): recall >= 99.5 %, 0 false positives, kinds >= 99 %, every full line,
partial-line recall >= 95 %, K and read noise within 5 %.

Run: ``python benchmarks/bench_quality.py [--width 4096 --height 3072] [--frames 16]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fastdefect.defects import DefectList
from fastdefect.detection import detect
from fastdefect.scoring import ambiguous, load_truth, score
from fastdefect.simulate import bright_frames, build_sensor, dark_frames, realistic_preset

from _harness import report


def one(width: int, height: int, cfa: str | None, frames: int, seed: int) -> dict:
    configs = realistic_preset(width, height, cfa=cfa, seed=seed, frames=frames)
    started = time.perf_counter()
    sensors = [build_sensor(c) for c in configs]
    darks = [np.stack(list(dark_frames(s))) for s in sensors]
    bright = np.stack(list(bright_frames(sensors[-1])))
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    result = detect(
        dark=darks,
        bright=bright,
        bit_depth=12,
        cfa=cfa,
        dark_exposures=[c.dark_exposure_us for c in configs],
    )
    seconds = time.perf_counter() - started
    table, config = sensors[-1].truth, configs[-1]
    truth, warm = load_truth(table), load_truth(sensors[-1].warm)
    noisy = truth.take(truth.kinds == "noisy")
    realised = darks[-1][:, noisy.rows, noisy.columns].astype(np.int64)
    silent = noisy.take(np.ptp(realised, axis=0) < 0.2 * config.threshold_dn)
    ignore = DefectList.concatenate(
        [
            ambiguous(truth, warm),
            silent,
        ]
    )
    overall = score(result.defects, truth, ignore=ignore).overall
    found = result.defects
    lines = found.take(np.isin(found.kinds, ["column", "row"]))
    source = np.asarray(table["source"]).astype(str)
    on_line = np.isin(truth.kinds, ["column", "row"])
    full = on_line & np.char.startswith(source, "bad_")
    partial = on_line & np.char.startswith(source, "partial_")
    noise = result.noise
    return {
        "sensor": f"{width}x{height} {cfa or 'mono'}",
        "frames": f"3x{frames} dark + {frames} bright",
        "truth": overall.truth,
        "ignored_ambiguous": len(ignore),
        "recall": overall.recall,
        "false_positive": overall.false_positive,
        "kind_agreement": overall.kind_agreement,
        "full_line_recall": float(np.isin(truth.linear_index[full], lines.linear_index).mean()),
        "partial_line_recall": float(
            np.isin(truth.linear_index[partial], lines.linear_index).mean()
        ),
        "K_error": noise.conversion_gain / config.gain - 1,
        "read_noise_error": noise.read_noise_dn / (config.gain * config.read_noise_e) - 1,
        "simulate_s": simulated,
        "detect_s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--height", type=int, default=3072)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = [one(args.width, args.height, cfa, args.frames, args.seed) for cfa in (None, "GRBG")]
    report("quality_realistic", rows)


if __name__ == "__main__":
    main()
