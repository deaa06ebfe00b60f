"""Exact local median: ``fastdefect.local_median`` against scipy and OpenCV.

The target of issue 3: size 7 on a 5120 x 5120 uint16 frame with 10-bit values, at
least 100x faster than ``scipy.ndimage.median_filter(image, 7, mode="mirror")`` and
faster than ``cv2.medianBlur(image8, 7)`` on an 8-bit copy (OpenCV has no 16-bit median
above size 5; ours stays exact in 16 bit). All three run in the same process, timed
alternately, and ratios use the best time of each. The benchmark also checks that our
result equals scipy's on the whole frame.

Extra rows (no target): sizes 3 and 5 next to OpenCV's, and size 7 per CFA plane.

Run: ``python benchmarks/bench_median.py [--size 5120] [--repeat 7] [--no-scipy]``
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from scipy import ndimage

from fastdefect.median import local_median

from _harness import Timing, report, time_call


def flat_like_frame(size: int, seed: int = 0) -> np.ndarray:
    """A 10-bit grey frame: level ~512 with a gentle gradient, PRNU and shot-like noise,
    plus hot, dead and stuck pixels (about 0.02 %), as uint16."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(-1.0, 1.0, size)[:, None]
    cols = np.linspace(-1.0, 1.0, size)[None, :]
    level = 512.0 * (1.0 - 0.08 * (rows**2 + cols**2))  # vignetting
    frame = level * (1.0 + rng.normal(0.0, 0.01, (size, size))) + rng.normal(0.0, 6.0, (size, size))
    n_defects = max(1, size * size // 5000)
    where = rng.integers(0, size, (2, n_defects))
    frame[where[0], where[1]] = rng.choice([0.0, 150.0, 900.0, 1023.0], n_defects)
    return np.clip(np.rint(frame), 0, 1023).astype(np.uint16)


def first_call_seconds(image: np.ndarray, size: int) -> tuple[float, str]:
    """Time of the very first call in this process (compile, or load from numba's cache)."""
    from fastdefect.kernels import median as kernels

    start = time.perf_counter()
    local_median(image[:64, :64], size)
    seconds = time.perf_counter() - start
    dispatcher = getattr(kernels, f"median_network_{size}")
    loaded = sum(dispatcher.stats.cache_hits.values()) > 0
    return seconds, "loaded from cache" if loaded else "compiled"


def merge(first: Timing, second: Timing) -> Timing:
    return Timing(first.name, first.times + second.times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120, help="frame side in pixels")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per round")
    parser.add_argument("--no-scipy", action="store_true", help="skip scipy (slow)")
    args = parser.parse_args()

    image = flat_like_frame(args.size)
    image8 = (image >> 2).astype(np.uint8)
    megapixels = image.size / 1e6
    print(f"frame {args.size} x {args.size} uint16, 10-bit values ({megapixels:.1f} Mpix)")

    first_seconds, first_kind = first_call_seconds(image, 7)
    print(f"first call, size 7: {first_seconds:.2f} s ({first_kind})")

    ours_result = {}

    def ours():
        ours_result["value"] = local_median(image, 7)

    # Two rounds, alternating, so a burst of load on the shared machine hits all alike.
    timings: dict[str, Timing] = {}
    scipy_result = {}
    for round_index in range(2):
        batch = [
            time_call("fastdefect.local_median 16-bit", ours, repeat=args.repeat),
            time_call(
                "cv2.medianBlur 8-bit",
                lambda: cv2.medianBlur(image8, 7),
                repeat=max(2, args.repeat // 2),
            ),
        ]
        if round_index == 0 and not args.no_scipy:
            print("timing scipy (one call, slow) ...", flush=True)

            def scipy_call():
                scipy_result["value"] = ndimage.median_filter(image, size=7, mode="mirror")

            batch.append(time_call("scipy.ndimage.median_filter", scipy_call, repeat=1, warmup=0))
        for timing in batch:
            timings[timing.name] = (
                merge(timings[timing.name], timing) if timing.name in timings else timing
            )

    ours_best = timings["fastdefect.local_median 16-bit"].best
    rows: list[dict[str, object]] = []
    for name, timing in timings.items():
        rows.append(
            {
                "size": 7,
                "implementation": name,
                "best_ms": timing.best * 1e3,
                "median_ms": timing.median * 1e3,
                "mpix_per_s": megapixels / timing.best,
                "time_vs_ours": timing.best / ours_best,
            }
        )

    exact = None
    if scipy_result:
        exact = bool(np.array_equal(ours_result["value"], scipy_result["value"]))
        verdict = "EQUAL" if exact else "DIFFERENT"
        print(f"exactness: ours vs scipy on the whole frame: {verdict}")

    # Extra rows without a target.
    extra = [
        (3, "fastdefect.local_median 16-bit", lambda: local_median(image, 3)),
        (3, "cv2.medianBlur 8-bit", lambda: cv2.medianBlur(image8, 3)),
        (5, "fastdefect.local_median 16-bit", lambda: local_median(image, 5)),
        (5, "cv2.medianBlur 8-bit", lambda: cv2.medianBlur(image8, 5)),
        (7, "fastdefect.local_median 16-bit, cfa=RGGB", lambda: local_median(image, 7, cfa="RGGB")),
    ]
    for size, name, func in extra:
        timing = time_call(name, func, repeat=max(2, args.repeat // 2))
        rows.append(
            {
                "size": size,
                "implementation": name,
                "best_ms": timing.best * 1e3,
                "median_ms": timing.median * 1e3,
                "mpix_per_s": megapixels / timing.best,
            }
        )

    notes: dict[str, object] = {
        "frame": f"{args.size} x {args.size} uint16, 10-bit flat-like (level ~512, noise, defects)",
        "first_call_size7_s": round(first_seconds, 2),
        "first_call_kind": first_kind,
        "cv2_time_over_ours": timings["cv2.medianBlur 8-bit"].best / ours_best,
        "target_cv2_ratio_above_1": timings["cv2.medianBlur 8-bit"].best / ours_best > 1,
    }
    if scipy_result:
        scipy_ratio = timings["scipy.ndimage.median_filter"].best / ours_best
        notes["scipy_time_over_ours"] = scipy_ratio
        notes["target_scipy_ratio_at_least_100"] = scipy_ratio >= 100
        notes["exact_equal_to_scipy"] = exact
    report("local_median", rows, notes=notes)


if __name__ == "__main__":
    main()
