"""``fastdefect camera detect``: frames accumulated live, on the simulated GT camera.

The simulated camera runs through the real GenICam GenApi library; nothing is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("genicam", reason="the simulated camera needs genicam (GenICam GenApi)")

from fastdefect.camera import open_camera
from fastdefect.camera.live import live_stack
from fastdefect.errors import InputError
from fastdefect.frames import FrameStack
from fastdefect.stats import stack_stats
from test_camera_workflow import SIM, keys, listed, run, work  # noqa: F401  (fixture)


@pytest.mark.slow
def test_camera_detect_finds_the_simulated_defects_without_writing_frames(
    work: Path,  # noqa: F811
    capsys,
) -> None:
    with open_camera(SIM) as camera:
        truth = camera.ground_truth()
    code, out, _ = run(capsys, f"camera detect -c {SIM} -n 8 -o live.csv --json")
    assert code == 0
    summary = json.loads(out)
    assert listed("live.csv") == keys(truth.factory) | keys(truth.latent)
    assert summary["accumulation_frames_per_s"] > 0
    assert not list(work.glob("*.tif"))  # nothing but the list was written


class Tap:
    """The real camera, keeping a copy of every frame it delivers."""

    def __init__(self, camera) -> None:
        self.camera = camera
        self.frames: list = []

    def info(self):
        return self.camera.info()

    def capture(self, n_frames, **options):
        for frame in self.camera.capture(n_frames, **options):
            self.frames.append(frame.data.copy())
            yield frame


@pytest.mark.slow
def test_a_live_stack_accumulates_exactly_the_delivered_frames(work: Path) -> None:  # noqa: F811
    with open_camera(SIM) as camera:
        camera.set_light(0.3)
        tap = Tap(camera)
        stack = live_stack(tap, 5, label="live", before=lambda: camera.set_light(0.3))
        stats = stack_stats(stack)
        with pytest.raises(InputError, match="only once"):
            list(stack.frames())
    assert len(tap.frames) == 5 and stats.bit_depth == 10 and stats.total.shape == (128, 384)
    expected = stack_stats(FrameStack.from_array(np.stack(tap.frames), bit_depth=10))
    for name in ("total", "std", "minimum", "maximum", "frame_means"):
        np.testing.assert_array_equal(getattr(stats, name), getattr(expected, name))
    assert stack.sources[0].frames_read == 5
