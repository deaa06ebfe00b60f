"""Correction speed: ``left`` on a 5120 x 5120 uint16 frame with 100,000 defects.

Everything is timed in one run, side by side, and reported as ratios to ``numpy.copy``
of the frame (the floor: a correction must at least produce a new frame). Target for
``correct_left`` (the whole call: list to corrected frame): at most 3x.

Rows:

* ``numpy.copy`` — the baseline.
* ``correct_left`` — one call from a DefectList in random order (sort, plan, copy, fix).
* ``plan once`` / ``apply per frame`` — the stack case: the plan is made once, each
  further frame costs only the apply.
* ``mean`` / ``median`` — the interpolating corrections (one call each).
* the same with the defects in 10 bad columns plus random pixels (``lines``).

Run: ``python benchmarks/bench_correct.py [--size 5120] [--defects 100000]``
"""

from __future__ import annotations

import argparse

import numpy as np

from fastdefect.correction import correct, correct_left, plan_correction
from fastdefect.defects import DefectList

from _harness import report, time_call


def random_defects(size: int, count: int, rng: np.random.Generator) -> DefectList:
    flat = rng.choice(size * size, count, replace=False)
    rows, columns = np.divmod(flat, size)
    return DefectList(rows, columns)


def line_defects(size: int, count: int, rng: np.random.Generator) -> DefectList:
    """10 whole bad columns and the rest random pixels."""
    columns = rng.choice(np.arange(1, size), 10, replace=False)
    line_rows = np.tile(np.arange(size), 10)
    line_columns = np.repeat(columns, size)
    rest = random_defects(size, max(count - line_rows.size, 0), rng)
    return DefectList(
        np.concatenate([line_rows, rest.rows]), np.concatenate([line_columns, rest.columns])
    )


def bench(size: int, count: int) -> tuple[list[dict], dict]:
    rng = np.random.default_rng(20251122)
    frame = rng.integers(0, 1024, (size, size), dtype=np.uint16)
    rows = []
    copy = time_call("numpy.copy", lambda: np.copy(frame), repeat=9)

    def row(name: str, layout: str, timing) -> None:
        rows.append(
            {
                "what": name,
                "defects": layout,
                "best_ms": 1e3 * timing.best,
                "median_ms": 1e3 * timing.median,
                "ratio_to_copy": timing.best / copy.best,
            }
        )

    row("numpy.copy", "-", copy)
    for layout, defects in (
        ("random", random_defects(size, count, rng)),
        ("lines", line_defects(size, count, rng)),
    ):
        row(
            "correct_left",
            layout,
            time_call("left", lambda d=defects: correct_left(frame, d), repeat=9),
        )
        plan_timing = time_call("plan", lambda d=defects: plan_correction(d, frame.shape), repeat=9)
        row("plan once", layout, plan_timing)
        plan = plan_correction(defects, frame.shape)
        out = np.empty_like(frame)
        row("apply per frame", layout, time_call("apply", lambda p=plan: p.apply(frame), repeat=9))
        row(
            "apply per frame (out=)",
            layout,
            time_call("apply out", lambda p=plan, o=out: p.apply(frame, o), repeat=9),
        )
        for method in ("mean", "median"):
            row(
                method,
                layout,
                time_call(method, lambda d=defects, m=method: correct(frame, d, method=m)),
            )
    left = next(r for r in rows if r["what"] == "correct_left" and r["defects"] == "random")
    notes = {
        "frame": f"{size} x {size} uint16",
        "defects": count,
        "correct_left_ratio_to_copy": left["ratio_to_copy"],
        "target": "correct_left <= 3x numpy.copy",
        "met": left["ratio_to_copy"] <= 3.0,
    }
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5120)
    parser.add_argument("--defects", type=int, default=100_000)
    args = parser.parse_args()
    rows, notes = bench(args.size, args.defects)
    report("correct", rows, notes=notes)


if __name__ == "__main__":
    main()
