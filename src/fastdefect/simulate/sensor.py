"""The simulated sensor: fixed-pattern maps and injected defects.

:func:`build_sensor` turns a :class:`~fastdefect.simulate.SimulationConfig` into a
:class:`SimulatedSensor` (per-pixel offsets, dark current, response, stuck values, telegraph
noise, and the truth); :func:`realistic_preset` configures a 12-bit sensor at three dark
exposures. The random stream keys of the configuration's ``SeedSequence`` live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .config import SimulationConfig, _plane_of
from .population import _design_layout
from .truth import TruthTable, _ground_truth

# Stream keys of the SeedSequence children.
_KEY_LAYOUT, _KEY_MAPS, _KEY_DARK, _KEY_BRIGHT, _KEY_STRENGTH = 0, 1, 2, 3, 4
_KEY_TELEGRAPH = 5


@dataclass
class SimulatedSensor:
    """A sensor's per-pixel parameter maps and its ground truth.

    Made by :func:`build_sensor`; :func:`dark_frames` and :func:`bright_frames` draw frames
    from it. The maps are float32 arrays of the sensor's shape.

    Attributes
    ----------
    config : SimulationConfig
        The resolved configuration.
    offset_dn : ndarray
        Black level + DSNU + line offsets, DN.
    dark_rate : ndarray
        Dark current at the configured temperature, e-/s (hot pixels included).
    photo_e : ndarray
        Photo electrons per bright frame (PRNU, colour and dark/bright defects included).
    stuck_index, stuck_value : ndarray
        Flat indices of the stuck pixels and their constant values.
    noisy_index, noisy_amplitude, noisy_probability : ndarray
        Flat indices of the telegraph-noise pixels, amplitude (DN) and high-state probability.
    truth : TruthTable
        The defects (``truth.csv``).
    warm : TruthTable
        Injected anomalies below the thresholds (``warm.csv``).
    lines : list of dict
        The injected line offsets: ``axis`` (column/row), ``index``, ``offset_dn``,
        ``source`` (bad_column, faint_row, ...).
    """

    config: SimulationConfig
    offset_dn: np.ndarray
    dark_rate: np.ndarray
    photo_e: np.ndarray
    stuck_index: np.ndarray
    stuck_value: np.ndarray
    noisy_index: np.ndarray
    noisy_amplitude: np.ndarray
    noisy_probability: np.ndarray
    truth: TruthTable
    warm: TruthTable
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.config.height, self.config.width)

    def signal_electrons(self, stack: str) -> np.ndarray:
        """Mean collected electrons per pixel in one frame of ``stack`` (float32)."""
        _check_stack(stack)
        electrons = self.dark_rate * np.float32(self.config.exposure_s(stack))
        if stack == "bright":
            electrons += self.photo_e
        return electrons

    def expected_mean(self, stack: str) -> np.ndarray:
        """Expected per-pixel mean of ``stack`` in DN (float32, clipped to the range)."""
        mean = self.offset_dn + np.float32(self.config.gain) * self.signal_electrons(stack)
        # np.add.at: a pixel may carry two telegraph processes.
        np.add.at(
            mean.reshape(-1),
            self.noisy_index,
            (self.noisy_amplitude * self.noisy_probability).astype(np.float32),
        )
        mean.flat[self.stuck_index] = self.stuck_value
        np.clip(mean, 0, self.config.full_scale, out=mean)
        return mean

    def expected_std(self, stack: str) -> np.ndarray:
        """Expected per-pixel temporal std of ``stack`` in DN (float32, rounding included)."""
        gain = np.float32(self.config.gain)
        electrons = self.signal_electrons(stack)
        variance = gain * gain * (electrons + np.float32(self.config.read_noise_e**2))
        variance += np.float32(1.0 / 12.0)
        p = self.noisy_probability
        np.add.at(
            variance.reshape(-1),
            self.noisy_index,
            (self.noisy_amplitude**2 * p * (1 - p)).astype(np.float32),
        )
        variance.flat[self.stuck_index] = 0
        return np.sqrt(variance, out=variance)


def realistic_preset(
    width: int = 1024,
    height: int = 768,
    *,
    cfa: str | None = None,
    seed: int = 1,
    frames: int = 16,
    exposures_us: Sequence[float] = (100_000.0, 400_000.0, 1_600_000.0),
    bit_depth: int = 12,
) -> list[SimulationConfig]:
    """A sensor that behaves like a real 12-bit CMOS one, at several dark exposures.

    One configuration per dark exposure, identical but for the exposure and the frame
    noise stream: the same defects at the same pixels, with hot pixels designed at the
    longest exposure (so they grow with exposure and some pass only there). 12-bit
    (``bit_depth``), 6 e- read noise, dark current 10 e-/s at 25 °C doubling every
    6.5 °C (40 °C), an amp glow of 1500 e-/s in the top-right corner, partial columns
    and rows, and half of the telegraph pixels with 3-4 levels. The bright stack is the
    last configuration's.

    Returns
    -------
    list of SimulationConfig
        Sorted by exposure.
    """
    exposures = sorted(float(e) for e in exposures_us)
    if not exposures:
        raise InputError("give at least one dark exposure")
    area = width * height / float(1024 * 1024)
    common = {
        "width": width,
        "height": height,
        "bit_depth": bit_depth,
        "cfa": cfa,
        "frames": frames,
        "seed": seed,
        "read_noise_e": 6.0,
        "amp_glow_e_s": 1500.0,
        "amp_glow_radius": 0.1,
        "n_partial_columns": max(1, round(4 * area)),
        "n_partial_rows": max(1, round(2 * area)),
        "multi_level_fraction": 0.5,
        "hot_reference_exposure_us": exposures[-1],
    }
    return [
        SimulationConfig(dark_exposure_us=exposure, noise_stream=number + 1, **common)
        for number, exposure in enumerate(exposures)
    ]


def _check_stack(stack: str) -> None:
    if stack not in ("dark", "bright"):
        raise InputError(f"stack must be 'dark' or 'bright', got {stack!r}")


def _seed_sequence(config: SimulationConfig, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(config.seed, spawn_key=key)


def _rng(config: SimulationConfig, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_seed_sequence(config, *key)))


def build_sensor(config: SimulationConfig | None = None) -> SimulatedSensor:
    """Make the sensor: parameter maps, injected defects and the ground truth.

    Parameters
    ----------
    config : SimulationConfig, optional
        Default: ``SimulationConfig()`` (1024 x 1024, 10 bit, mono, 16 frames, seed 1).

    Returns
    -------
    SimulatedSensor

    Raises
    ------
    InputError
        The requested defects do not fit the sensor with their isolation.
    """
    config = (config or SimulationConfig()).resolved()
    height, width = config.height, config.width
    layout = _design_layout(config, _rng(config, _KEY_LAYOUT), _rng(config, _KEY_STRENGTH))
    maps_rng = _rng(config, _KEY_MAPS)
    gain = config.gain

    # Normal pixels.
    offset = maps_rng.standard_normal((height, width), dtype=np.float32)
    offset *= np.float32(gain * config.dsnu_e)
    offset += np.float32(config.black_level_dn)
    dark_rate = maps_rng.standard_normal((height, width), dtype=np.float32)
    spread = config.dark_current_spread
    dark_rate *= np.float32(spread)
    dark_rate -= np.float32(spread * spread / 2)  # log-normal with mean 1
    np.exp(dark_rate, out=dark_rate)
    dark_rate *= np.float32(config.dark_rate())
    photo = maps_rng.standard_normal((height, width), dtype=np.float32)
    photo *= np.float32(config.prnu)
    photo += np.float32(1)
    channel_photo = config.channel_photo_electrons()
    if config.cfa is None:
        photo *= np.float32(channel_photo[0])
    else:
        for plane, electrons in enumerate(channel_photo):
            photo[plane // 2 :: 2, plane % 2 :: 2] *= np.float32(electrons)
    np.maximum(photo, 0, out=photo)

    # Lines: additive offsets, dark and bright alike.
    for axis, index, value, _, start, end in layout.lines():
        if axis == "column":
            offset[start : end + 1, index] += np.float32(value)
        else:
            offset[index, start : end + 1] += np.float32(value)

    # Point defects, runs, clusters: nominal pixels (no DSNU/PRNU/spread of their own,
    # so the designed deviation is what a detector sees) plus the defect.
    rows = np.concatenate(layout.rows) if layout.rows else np.zeros(0, np.int64)
    columns = np.concatenate(layout.columns) if layout.columns else np.zeros(0, np.int64)
    sizes = [r.size for r in layout.rows]
    kinds = np.repeat(np.array(layout.kinds, dtype=object), sizes)
    strength = np.concatenate(layout.strengths) if layout.strengths else np.zeros(0)
    extra = np.concatenate(layout.extras) if layout.extras else np.zeros(0)
    flat = rows * width + columns
    planes = _plane_of(config, rows, columns)
    offset.flat[flat] = np.float32(config.black_level_dn)
    dark_rate.flat[flat] = np.float32(config.dark_rate())
    photo.flat[flat] = np.asarray(channel_photo, np.float32)[planes]

    reference_exposure_s = config.hot_reference_exposure_us * 1e-6
    temperature_factor = 2.0 ** (
        (config.temperature_c - config.hot_reference_temperature_c) / config.dark_current_doubling_c
    )
    heated = (kinds == "hot") | (kinds == "warm")
    extra_rate = strength[heated] / (gain * reference_exposure_s) * temperature_factor
    dark_rate.flat[flat[heated]] += extra_rate.astype(np.float32)
    dimmed = kinds == "dark"
    photo.flat[flat[dimmed]] *= strength[dimmed].astype(np.float32)
    brightened = kinds == "bright"
    # Over-responsive: a response factor, chosen to give the designed deviation at the
    # configured bright level.
    nominal = np.asarray(channel_photo)[planes[brightened]]
    photo.flat[flat[brightened]] *= (1 + strength[brightened] / (gain * nominal)).astype(np.float32)
    stuck = (kinds == "stuck_high") | (kinds == "stuck_low")
    noisy = kinds == "noisy"
    if config.amp_glow_e_s > 0:
        dark_rate += _amp_glow(config)
    noisy_index, noisy_amplitude, noisy_probability = _telegraph(
        config, flat[noisy], strength[noisy], extra[noisy]
    )

    sensor = SimulatedSensor(
        config=config,
        offset_dn=offset,
        dark_rate=dark_rate,
        photo_e=photo,
        stuck_index=flat[stuck],
        stuck_value=strength[stuck].astype(np.float32),
        noisy_index=noisy_index,
        noisy_amplitude=noisy_amplitude,
        noisy_probability=noisy_probability,
        truth=TruthTable.empty(),
        warm=TruthTable.empty(),
        lines=[
            {
                "axis": axis,
                "index": index,
                "offset_dn": round(offset, 6),
                "source": source,
                "start": start,
                "end": end,
            }
            for axis, index, offset, source, start, end in layout.lines()
        ],
    )
    sensor.truth, sensor.warm = _ground_truth(sensor, layout, kinds, rows, columns)
    return sensor


def _amp_glow(config: SimulationConfig) -> np.ndarray:
    """Extra dark current of the amp glow (e-/s), largest at the top-right corner."""
    rows = np.arange(config.height, dtype=np.float32)[:, None]
    columns = (config.width - 1 - np.arange(config.width, dtype=np.float32))[None, :]
    glow = np.hypot(rows, columns)
    glow *= np.float32(-1.0 / (config.amp_glow_radius * config.width))
    np.exp(glow, out=glow)
    glow *= np.float32(config.amp_glow_e_s)
    return glow


def _telegraph(
    config: SimulationConfig, index: np.ndarray, amplitude: np.ndarray, probability: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Telegraph processes sorted by pixel; a pixel may carry two (3-4 levels)."""
    if config.multi_level_fraction > 0 and index.size:
        rng = _rng(config, _KEY_TELEGRAPH)
        count = round(config.multi_level_fraction * index.size)
        chosen = rng.choice(index.size, size=count, replace=False)
        index = np.concatenate([index, index[chosen]])
        amplitude = np.concatenate([amplitude, amplitude[chosen] * rng.uniform(0.4, 0.7, count)])
        probability = np.concatenate([probability, rng.uniform(0.25, 0.5, count)])
    order = np.argsort(index, kind="stable")
    return index[order], amplitude[order], probability[order]
