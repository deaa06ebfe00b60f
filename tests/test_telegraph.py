"""Random-telegraph evidence: levels, amplitude and switches of frame histories."""

from __future__ import annotations

import numpy as np

from fastdefect.frames import FrameStack
from fastdefect.telegraph import frame_histories, telegraph_evidence

from reference import telegraph_reference


def test_levels_amplitude_switches_match_the_plain_definition():
    rng = np.random.default_rng(3)
    frames, pixels = 24, 300
    noise = rng.uniform(0.5, 3.0, pixels)
    n_levels = rng.integers(1, 5, pixels)
    step = noise * rng.uniform(15, 25, pixels)  # clusters > 5 sigma apart
    state = rng.integers(0, n_levels[None, :], (frames, pixels))
    histories = (100 + state * step + rng.normal(0, 1, (frames, pixels)) * noise).astype(np.float32)
    index = np.arange(pixels) * 7
    found = telegraph_evidence(histories, noise, index, chunk=64)
    assert np.array_equal(found.index, index)
    for p in range(pixels):
        levels, amplitude, switches = telegraph_reference(
            histories[:, p].astype(float).tolist(), noise[p]
        )
        assert found.levels[p] == levels
        assert found.switches[p] == switches
        assert np.isclose(found.amplitude[p], amplitude)
        # The levels seen are the states the pixel visited.
        assert levels == len(np.unique(state[:, p]))


def test_frame_histories_read_only_the_pixels_asked_for():
    rng = np.random.default_rng(4)
    frames = rng.integers(0, 1024, (5, 20, 30)).astype(np.uint16)
    stack = FrameStack.from_array(frames, bit_depth=10)
    index = np.array([0, 31, 599, 250])
    histories = frame_histories(stack, index)
    assert histories.shape == (5, 4)
    assert np.array_equal(histories, frames.reshape(5, -1)[:, index])
