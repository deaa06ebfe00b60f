"""Regression tests on real sensor data kept in ``data/real/`` (provenance in each README).

``kast-blue-bias/b21.fits``: one real bias frame (0 s, shutter closed) of the Kast blue
arm's Fairchild CCD 3041 at Lick Observatory, 2112 x 350 16-bit, from PypeIt's test
files (BSD-3-Clause). Two amplifiers read the two halves (levels about 945 and 966 DN,
a step of 7 read-noise sigmas at column 1024); columns 2048-2111 are overscan. What is
found is pinned: nothing at the datasheet threshold, and at 6 sigma only the last
overscan column (its clipped neighbourhood), each kind agreeing with its evidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fastdefect.detection import DetectionConfig, detect
from fastdefect.frames import open_stack

from reference import kind_contradictions

KAST_BIAS = Path(__file__).resolve().parent.parent / "data" / "real" / "kast-blue-bias" / "b21.fits"


@pytest.fixture(scope="module")
def kast():
    stack = open_stack(KAST_BIAS)
    frame = next(iter(stack)).astype(np.int64)
    default = detect(dark=KAST_BIAS)
    six_sigma = detect(dark=KAST_BIAS, config=DetectionConfig(pixel_threshold="6sigma"))
    return frame, default, six_sigma


def test_the_real_frame_reads_as_recorded(kast):
    frame, default, _ = kast
    assert frame.shape == (350, 2112)
    assert default.bit_depth == 16
    assert frame.min() >= 927 and frame.max() <= 979  # a bias: read noise and offsets only
    left, right = np.median(frame[:, 8:1016]), np.median(frame[:, 1032:2040])
    assert (left, right) == (945.0, 966.0)


def test_nothing_at_the_datasheet_threshold(kast):
    _, default, _ = kast
    assert len(default.defects) == 0


def test_at_6sigma_only_the_last_overscan_column_and_kinds_agree(kast):
    frame, _, six_sigma = kast
    sigma = six_sigma.stacks[0].deviation_sigma
    assert 2.5 < sigma < 3.5  # measured 2.97 DN: the read noise of one frame
    defects = six_sigma.defects
    assert 1 <= len(defects) <= 8  # measured 4: rows 43, 56, 198, 306
    assert set(defects.columns.tolist()) == {2111}
    assert set(defects.kinds.tolist()) == {"dark"}
    assert np.all(defects.evidence["dark_deviation"] < 0)
    # Dark frames at the black level cannot show a pixel stuck low: said, not concluded.
    assert np.all(defects.evidence["stuck_low_untested"] == 1)
    assert kind_contradictions(defects) == []
    # The amplifier step (left half 945 DN, right 966 DN) is beyond 6 sigma, yet the
    # neighbour median follows it: nothing is flagged along the boundary.
    assert abs(np.median(frame[:, 1024]) - np.median(frame[:, 1023])) > 6 * sigma
    assert not np.any(np.abs(defects.columns - 1024) <= 4)
