"""Frames of a simulated sensor: :func:`dark_frames` and :func:`bright_frames`.

Frames are drawn band by band of rows, each band from its own random stream keyed by
(stack, frame, band), in parallel: the pixels do not depend on the thread count or on how
many frames are made.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .config import _check_int
from .sensor import _KEY_BRIGHT, _KEY_DARK, SimulatedSensor, _check_stack, _rng

ProgressCallback = Callable[[int, int], None]

# Shot noise is drawn exactly (Poisson) where shot plus read noise is skewed more than this.
_POISSON_SKEW = 0.05
# Frames are made in bands of rows, each band from its own random stream (parallel, and
# independent of the thread count).
_BAND_ROWS = 64


def dark_frames(
    sensor: SimulatedSensor, *, frames: int | None = None, workers: int | None = None
) -> Iterator[np.ndarray]:
    """Yield the dark frames of ``sensor`` one at a time (memory: a few frame-size maps).

    Parameters
    ----------
    sensor : SimulatedSensor
        From :func:`build_sensor`.
    frames : int, optional
        How many frames; default ``sensor.config.frames``. Frame ``i`` is the same
        whatever the count.
    workers : int, optional
        Threads making row bands in parallel; default the number of CPUs. The result
        does not depend on it.
    """
    return _frames(sensor, "dark", frames, workers)


def bright_frames(
    sensor: SimulatedSensor, *, frames: int | None = None, workers: int | None = None
) -> Iterator[np.ndarray]:
    """Yield the bright (flat-field) frames of ``sensor`` one at a time; see :func:`dark_frames`."""
    return _frames(sensor, "bright", frames, workers)


@dataclass
class _StackMaps:
    mean: np.ndarray  # DN, float32; Poisson-drawn signal excluded
    sigma: np.ndarray  # DN, float32; Gaussian part of the noise
    exact_index: np.ndarray  # flat indices drawn with exact Poisson shot noise (sorted)
    exact_lambda: np.ndarray  # their mean electrons
    band_starts_exact: np.ndarray
    band_starts_noisy: np.ndarray


def _stack_maps(sensor: SimulatedSensor, stack: str) -> _StackMaps:
    config = sensor.config
    gain = np.float32(config.gain)
    read_variance = np.float32(config.read_noise_e**2)
    electrons = sensor.signal_electrons(stack)
    electrons.flat[sensor.stuck_index] = 0
    # Skewness of shot + read noise: where it is visible, draw Poisson exactly.
    total = electrons + read_variance
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = electrons / (total * np.sqrt(total))
    exact = skew > _POISSON_SKEW
    exact.flat[sensor.stuck_index] = False
    exact_index = np.flatnonzero(exact)
    exact_lambda = electrons.flat[exact_index].astype(np.float64)
    electrons.flat[exact_index] = 0  # drawn separately
    del skew, exact
    sigma = gain * np.sqrt(electrons + read_variance)
    sigma.flat[sensor.stuck_index] = 0
    mean = electrons
    mean *= gain
    mean += sensor.offset_dn
    mean.flat[sensor.stuck_index] = sensor.stuck_value
    band_edges = np.arange(0, config.height + _BAND_ROWS, _BAND_ROWS) * config.width
    return _StackMaps(
        mean=mean,
        sigma=sigma,
        exact_index=exact_index,
        exact_lambda=exact_lambda,
        band_starts_exact=np.searchsorted(exact_index, band_edges),
        band_starts_noisy=np.searchsorted(sensor.noisy_index, band_edges),
    )


def _frames(
    sensor: SimulatedSensor, stack: str, frames: int | None, workers: int | None
) -> Iterator[np.ndarray]:
    _check_stack(stack)
    config = sensor.config
    count = config.frames if frames is None else frames
    _check_int("frames", count, 1)
    maps = _stack_maps(sensor, stack)
    stack_key = _KEY_DARK if stack == "dark" else _KEY_BRIGHT
    n_bands = math.ceil(config.height / _BAND_ROWS)
    threads = max(1, min(workers or os.cpu_count() or 1, n_bands))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for index in range(count):
            frame = np.empty((config.height, config.width), config.dtype)

            def render(band: int, index: int = index, frame: np.ndarray = frame) -> None:
                _render_band(sensor, maps, stack_key, index, band, frame)

            if threads == 1:
                for band in range(n_bands):
                    render(band)
            else:
                list(pool.map(render, range(n_bands)))
            yield frame


def _render_band(
    sensor: SimulatedSensor,
    maps: _StackMaps,
    stack_key: int,
    frame_index: int,
    band: int,
    frame: np.ndarray,
) -> None:
    config = sensor.config
    width = config.width
    top = band * _BAND_ROWS
    bottom = min(top + _BAND_ROWS, config.height)
    key = (stack_key, frame_index, band) + ((config.noise_stream,) if config.noise_stream else ())
    rng = _rng(config, *key)
    values = rng.standard_normal((bottom - top, width), dtype=np.float32)
    values *= maps.sigma[top:bottom]
    values += maps.mean[top:bottom]
    flat = values.reshape(-1)
    base = top * width
    lo, hi = maps.band_starts_exact[band], maps.band_starts_exact[band + 1]
    if hi > lo:
        shot = rng.poisson(maps.exact_lambda[lo:hi])
        flat[maps.exact_index[lo:hi] - base] += (config.gain * shot).astype(np.float32)
    lo, hi = maps.band_starts_noisy[band], maps.band_starts_noisy[band + 1]
    if hi > lo:
        high = rng.random(hi - lo) < sensor.noisy_probability[lo:hi]
        np.add.at(
            flat,
            sensor.noisy_index[lo:hi] - base,
            (sensor.noisy_amplitude[lo:hi] * high).astype(np.float32),
        )
    np.rint(values, out=values)
    np.clip(values, 0, config.full_scale, out=values)
    np.copyto(frame[top:bottom], values, casting="unsafe")
