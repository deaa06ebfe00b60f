"""A sigma pixel threshold (``6sigma``) counts in the noise each pixel's own signal predicts.

The scene: a 12-bit sensor with a strong amp-glow hump in the top-right corner, little
fixed-pattern noise and only 4 frames, so the temporal noise of the mean dominates the
spread of the deviations, and in the glow corner (dark-current shot noise) it is several
times the typical pixel's. Judged against one robust sigma for the whole stack, hundreds
of normal glow pixels pass 6 sigma; judged against the noise of their own deviation
(:meth:`StackAnalysis.deviation_noise`), none does, and every simulated defect is still
found.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fastdefect.detection import DetectionConfig, Threshold, analyse, local_deviation
from fastdefect.scoring import load_truth
from fastdefect.simulate import SimulationConfig, bright_frames, build_sensor, dark_frames

from reference import kind_contradictions

HEIGHT, WIDTH = 384, 512


@pytest.fixture(scope="module", params=[None, "GRBG"], ids=["mono", "bayer"])
def glow(request):
    cfa = request.param
    config = SimulationConfig(
        width=WIDTH,
        height=HEIGHT,
        bit_depth=12,
        cfa=cfa,
        frames=4,
        seed=5,
        read_noise_e=6.0,
        dsnu_e=2.0,
        dark_current_spread=0.0,  # no warm tail: every pixel beyond the noise is a defect
        amp_glow_e_s=4000.0,  # peak 6400 e- at 1.6 s: below the full well
        amp_glow_radius=0.3,
        dark_exposure_us=1_600_000.0,
        n_hot=20,
        n_warm=0,
        n_stuck_high=0,
        n_stuck_low=0,
        n_dark=5,
        n_bright=5,
        n_noisy=0,
        n_bad_columns=0,
        n_bad_rows=0,
        n_faint_columns=0,
        n_faint_rows=0,
        n_clusters=0,
    )
    sensor = build_sensor(config)
    dark = np.stack(list(dark_frames(sensor)))
    bright = np.stack(list(bright_frames(sensor)))
    config6 = DetectionConfig(cfa=cfa, pixel_threshold="6sigma")
    analysis = analyse(dark=dark, bright=bright, bit_depth=12, cfa=cfa, config=config6)
    return SimpleNamespace(
        cfa=cfa, dark=dark, analysis=analysis, truth=load_truth(sensor.truth), config=config
    )


def _in_glow(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return (rows < HEIGHT // 2) & (columns >= WIDTH // 2)


def test_the_glow_corner_defeats_one_sigma_for_the_whole_stack(glow):
    """The scene is a real test: many normal glow pixels pass 6 robust sigmas."""
    stack = glow.analysis.analyses["dark"][0]
    rows, columns = np.divmod(np.arange(HEIGHT * WIDTH), WIDTH)
    deviation = local_deviation(stack.stats.total, rows, columns, cfa=glow.cfa) / 4
    normal = np.ones(HEIGHT * WIDTH, bool)
    normal[glow.truth.rows * WIDTH + glow.truth.columns] = False
    beyond = normal & (np.abs(deviation) > 6 * stack.report.deviation_sigma)
    assert beyond.sum() > 100
    assert _in_glow(rows[beyond], columns[beyond]).mean() > 0.9


def test_no_false_positive_at_6sigma_and_every_defect_found(glow):
    """No false positive, but for the known limit of the local median at the corner.

    The glow peaks at the sensor's top-right corner pixel; there the clipped 7 x 7 block
    holds only neighbours downhill of the pixel (two to six pixels away on a Bayer
    plane), so its median sits systematically below it. On the Bayer sensor this puts
    three corner pixels just past 6 sigma (by 1-14 %, not at 8 sigma); they are allowed,
    and nothing else.
    """
    defects = glow.analysis.classify("6sigma")
    found = set(zip(defects.rows.tolist(), defects.columns.tolist(), strict=True))
    truth = set(zip(glow.truth.rows.tolist(), glow.truth.columns.tolist(), strict=True))
    spurious = found - truth
    assert len(spurious) <= (0 if glow.cfa is None else 3)
    assert all(row < 2 and column >= WIDTH - 2 for row, column in spurious)
    at_8sigma = glow.analysis.classify("8sigma")
    assert set(zip(at_8sigma.rows.tolist(), at_8sigma.columns.tolist(), strict=True)) == truth
    assert truth - found == set()
    kind_at = dict(
        zip(
            zip(defects.rows.tolist(), defects.columns.tolist(), strict=True),
            defects.kinds,
            strict=True,
        )
    )
    truth_kinds = zip(
        glow.truth.rows.tolist(), glow.truth.columns.tolist(), glow.truth.kinds, strict=True
    )
    right = sum(kind_at[(r, c)] == k for r, c, k in truth_kinds)
    assert right >= 0.99 * len(glow.truth)
    assert kind_contradictions(defects) == []


def test_a_typical_pixel_gets_the_robust_sigma_a_glow_pixel_more(glow):
    for stack in glow.analysis.analyses["dark"] + glow.analysis.analyses["bright"]:
        sigma = stack.report.deviation_sigma
        rows = np.array([HEIGHT - 40, HEIGHT - 41, 40])
        columns = np.array([40, 41, WIDTH - 20])  # two far from the glow, one inside it
        deviation = local_deviation(stack.stats.total, rows, columns, cfa=glow.cfa) / 4
        noise = stack.deviation_noise(rows, columns, deviation, glow.cfa)
        assert np.all(noise >= sigma * (1 - 1e-12))
        if stack.report.role == "dark":
            assert noise[:2] == pytest.approx([sigma, sigma], rel=0.05)
            assert noise[2] > 2 * sigma
        else:  # the illumination is not flat: a pixel's own level sets its shot noise
            assert noise[:2] == pytest.approx([sigma, sigma], rel=0.15)
        # The DN figure shown for a sigma threshold is the typical pixel's limit.
        assert stack.threshold_dn(Threshold.parse("6sigma")) == pytest.approx(6 * sigma)


def test_thresholds_in_dn_stay_one_number_per_stack(glow):
    stack = glow.analysis.analyses["dark"][0]
    rows, columns = np.array([1, 2]), np.array([3, 4])
    limit = stack.pixel_limits(Threshold.parse("102lsb10"), rows, columns, np.zeros(2), glow.cfa)
    assert limit == pytest.approx(408.0)  # 102 LSB10 at 12 bits
