"""Exposure dependence: offset and slope of the dark deviation, "partially stuck" vs hot."""

from __future__ import annotations

import numpy as np
import pytest

from fastdefect.detection import detect

EXPOSURES_US = [100_000, 400_000, 1_600_000]


def dark_series(seed=0):
    rng = np.random.default_rng(seed)
    stacks = []
    for exposure in EXPOSURES_US:
        seconds = exposure * 1e-6
        frames = 256 + 20 * seconds + rng.normal(0, 2, (6, 64, 64))
        frames[:, 10, 10] += 300 * seconds / 1.6  # hot: grows with exposure, 300 DN at 1.6 s
        frames[:, 30, 30] += 500  # partially stuck: a large offset, a normal slope
        frames[:, 50, 50] += 150 + 60 * seconds  # both, the offset dominating
        stacks.append(np.clip(np.rint(frames), 0, 4095).astype(np.uint16))
    return stacks


def test_offset_and_slope_tell_partially_stuck_from_hot():
    result = detect(dark=dark_series(), bit_depth=10, dark_exposures=EXPOSURES_US)
    defects = result.defects
    by_pixel = {
        (int(r), int(c)): i
        for i, (r, c) in enumerate(zip(defects.rows, defects.columns, strict=True))
    }
    evidence = defects.evidence
    hot, stuck, both = by_pixel[(10, 10)], by_pixel[(30, 30)], by_pixel[(50, 50)]
    assert defects.kinds[hot] == "hot" and defects.kinds[stuck] == "hot"
    # Hot only at the longest exposure (300 DN > 102; 75 DN at 0.4 s): still hot.
    assert evidence["dark_votes"][hot] == 1
    assert evidence["dark_slope_deviation"][hot] == pytest.approx(300 / 1.6, rel=0.05)
    assert evidence["dark_offset_deviation"][hot] == pytest.approx(0, abs=3)
    assert evidence["partially_stuck"][hot] == 0
    assert evidence["dark_offset_deviation"][stuck] == pytest.approx(500, abs=3)
    assert evidence["dark_slope_deviation"][stuck] == pytest.approx(0, abs=5)
    assert evidence["partially_stuck"][stuck] == 1
    assert evidence["partially_stuck"][both] == 1
    assert evidence["dark_offset_deviation"][both] == pytest.approx(150, abs=3)


def test_analyse_leaves_its_inputs_alone():
    """The exposures given go into the analysis, not into the caller's stacks."""
    from fastdefect.detection import StackAnalysis, analyse
    from fastdefect.frames import FrameStack

    stacks = [FrameStack.from_array(s, bit_depth=10) for s in dark_series()]
    before = [dict(s.metadata) for s in stacks]
    analysis = analyse(dark=stacks, dark_exposures=EXPOSURES_US)
    assert [dict(s.metadata) for s in stacks] == before
    reports = analysis.stacks
    assert [r.exposure_us for r in reports] == [float(e) for e in EXPOSURES_US]
    first = analysis.analyses["dark"][0]
    assert isinstance(first, StackAnalysis)
    with pytest.raises(AttributeError):
        first.noisy_index = None  # frozen
