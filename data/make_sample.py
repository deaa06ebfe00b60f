"""Make the sample data in ``data/sample/``: a small simulated sensor with its truth.

Run from anywhere: ``python data/make_sample.py``. The result depends only on the
configuration below (seed included) and the fastdefect version that made it; the pixel
data, ``truth.csv``, ``warm.csv`` and ``simulation.json`` are identical on every run
(the TIFFs' metadata carries a creation time, so their bytes differ).
"""

from __future__ import annotations

from pathlib import Path

from fastdefect.simulate import SimulationConfig, simulate_to_directory

#: 256 x 256, 10 bit, mono, 8 dark + 8 bright frames, with more defects per area than the
#: defaults so that every kind, line polarity and run length is present.
SAMPLE_CONFIG = SimulationConfig(
    width=256,
    height=256,
    bit_depth=10,
    cfa=None,
    frames=8,
    seed=20240601,
    n_hot=12,
    n_warm=8,
    n_stuck_high=3,
    n_stuck_low=3,
    n_dark=4,
    n_bright=4,
    n_noisy=4,
    n_bad_columns=3,
    n_bad_rows=3,
    n_faint_columns=1,
    n_faint_rows=1,
    run_lengths=tuple(range(1, 13)),
    edge_run_lengths=(1, 3, 6, 9),
    n_clusters=2,
)

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def main() -> None:
    result = simulate_to_directory(SAMPLE_DIR, SAMPLE_CONFIG, overwrite=True)
    print(f"wrote {result.directory}")
    for kind, count in result.counts.items():
        print(f"  {kind:12s} {count:5d}")
    for kind, count in result.warm_counts.items():
        print(f"  {kind:12s} {count:5d}  (warm.csv)")


if __name__ == "__main__":
    main()
