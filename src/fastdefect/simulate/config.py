"""The simulation's configuration.

:class:`SimulationConfig` holds everything that defines a simulated sensor and its two
stacks (geometry, noise model, operating point, defect counts); :func:`simulation_config`
builds one from a saved ``simulation.json``, a sensor preset and overrides.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, InputError
from ..sensor import SensorSpec, lsb10_to_dn, parse_cfa
from .population import default_population


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that defines a simulated sensor and its two stacks.

    Values given as ``None`` take a default that depends on the sensor (bit depth, size);
    :meth:`resolved` fills them in, and ``simulation.json`` stores the resolved config so
    ``SimulationConfig.from_dict`` reproduces the data exactly.

    Parameters
    ----------
    width, height : int
        Sensor size in pixels.
    bit_depth : int
        ADC bits, 8 to 16. Frames are uint8 for 8 bits, uint16 otherwise.
    cfa : str or None
        Bayer pattern (``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``) or None for mono.
    frames : int
        Frames per stack (dark and bright each).
    seed : int
        Seed of every random choice; the same seed gives identical data.
    black_level : float, optional
        Offset in DN. Default 64 LSB10 scaled to the bit depth.
    conversion_gain : float, optional
        DN per electron at 0 dB. Default ``full_scale / full_well_e``.
    full_well_e : float
        Electrons at full scale, for the default conversion gain.
    gain_db : float
        Analog gain in dB (the vendor advises 0); multiplies the conversion gain.
    read_noise_e : float
        Read noise, electrons rms.
    dark_current_e_s : float
        Mean dark current at ``dark_current_reference_c``, electrons per second.
    dark_current_reference_c, dark_current_doubling_c : float
        Reference temperature and the temperature step that doubles the dark current.
    dark_current_spread : float
        Relative (log-normal sigma) pixel-to-pixel spread of the dark current.
    temperature_c : float
        Sensor temperature.
    dark_exposure_us, bright_exposure_us : float
        Exposure times of the dark and bright frames, microseconds.
    bright_level : float
        Mean of a normal pixel (brightest channel) in bright frames, fraction of full scale.
    dsnu_e : float
        Dark signal non-uniformity: std of the fixed per-pixel offset, electrons.
    prnu : float
        Photo response non-uniformity: relative std of the per-pixel response.
    channel_response : tuple of 3 float
        Relative response of R, G and B pixels of a Bayer sensor to the white light.
    threshold_lsb10, line_threshold_lsb10 : float
        Pixel and line thresholds at 10 bit (scaled with the bit depth), used to design
        the defect strengths and to classify the truth.
    hot_reference_exposure_us, hot_reference_temperature_c : float, optional
        Operating point at which the hot/warm strengths are designed (default: the
        configured dark exposure and temperature).
    n_hot, n_warm, n_stuck_high, n_stuck_low, n_dark, n_bright, n_noisy : int, optional
        Isolated point defects per kind (hot split evenly into just / well / far above).
    n_bad_columns, n_bad_rows, n_faint_columns, n_faint_rows : int, optional
        Line defects and sub-threshold lines.
    run_lengths : tuple of int, optional
        Lengths of the horizontal runs placed in the sensor's interior.
    edge_run_lengths : tuple of int, optional
        Lengths of the runs starting at the first column.
    n_clusters : int, optional
        Hot clusters (2 x 2 and 3 x 3 in turn).
    amp_glow_e_s : float
        Amp glow: extra dark current at the top-right corner, e-/s (it scales with the
        exposure like all dark current), falling off as ``exp(-distance / (radius *
        width))``. Default 0 (none).
    amp_glow_radius : float
        The glow's 1/e distance as a fraction of the sensor width.
    n_partial_columns, n_partial_rows : int
        Partial line defects: a stretch of 64 pixels to a quarter of the line (at least
        half of it on small sensors) offset by 1.3-1.8 x the line threshold. Default 0.
    multi_level_fraction : float
        Fraction of the noisy pixels given a second, independent telegraph process
        (0.4-0.7 x the first amplitude): 3 to 4 levels instead of 2. Default 0.
    noise_stream : int
        Extra key of the per-frame random streams: simulations that differ only in the
        exposure get independent frame noise when given different streams. Default 0
        (the streams of earlier versions).
    """

    width: int = 1024
    height: int = 1024
    bit_depth: int = 10
    cfa: str | None = None
    frames: int = 16
    seed: int = 1
    black_level: float | None = None
    conversion_gain: float | None = None
    full_well_e: float = 10000.0
    gain_db: float = 0.0
    read_noise_e: float = 10.0
    dark_current_e_s: float = 10.0
    dark_current_reference_c: float = 25.0
    dark_current_doubling_c: float = 6.5
    dark_current_spread: float = 0.2
    temperature_c: float = 40.0
    dark_exposure_us: float = 500_000.0
    bright_exposure_us: float = 10_000.0
    bright_level: float = 0.65
    dsnu_e: float = 10.0
    prnu: float = 0.01
    channel_response: tuple[float, float, float] = (0.55, 1.0, 0.45)
    threshold_lsb10: float = 102.0
    line_threshold_lsb10: float = 48.0
    hot_reference_exposure_us: float | None = None
    hot_reference_temperature_c: float | None = None
    n_hot: int | None = None
    n_warm: int | None = None
    n_stuck_high: int | None = None
    n_stuck_low: int | None = None
    n_dark: int | None = None
    n_bright: int | None = None
    n_noisy: int | None = None
    n_bad_columns: int | None = None
    n_bad_rows: int | None = None
    n_faint_columns: int | None = None
    n_faint_rows: int | None = None
    run_lengths: tuple[int, ...] | None = None
    edge_run_lengths: tuple[int, ...] | None = None
    n_clusters: int | None = None
    amp_glow_e_s: float = 0.0
    amp_glow_radius: float = 0.15
    n_partial_columns: int = 0
    n_partial_rows: int = 0
    multi_level_fraction: float = 0.0
    noise_stream: int = 0

    def __post_init__(self) -> None:
        spec = SensorSpec(self.width, self.height, self.bit_depth, self.cfa)
        object.__setattr__(self, "width", spec.width)
        object.__setattr__(self, "height", spec.height)
        object.__setattr__(self, "bit_depth", spec.bit_depth)
        object.__setattr__(self, "cfa", parse_cfa(self.cfa))
        if not 8 <= spec.bit_depth <= 16:
            raise InputError(f"simulate supports bit depths 8 to 16, got {spec.bit_depth}")
        _check_int("frames", self.frames, 1)
        _check_int("seed", self.seed, 0)
        for name in ("n_partial_columns", "n_partial_rows", "noise_stream"):
            _check_int(name, getattr(self, name), 0)
        _check_number("amp_glow_e_s", self.amp_glow_e_s, positive=False)
        _check_number("amp_glow_radius", self.amp_glow_radius, positive=True)
        _check_number("multi_level_fraction", self.multi_level_fraction, positive=False)
        if self.multi_level_fraction > 1:
            raise InputError(
                f"multi_level_fraction is a fraction (0 to 1), got {self.multi_level_fraction}"
            )
        for name in (
            "full_well_e", "dark_current_doubling_c", "dark_exposure_us",
            "bright_exposure_us", "threshold_lsb10", "line_threshold_lsb10",
        ):  # fmt: skip
            _check_number(name, getattr(self, name), positive=True)
        for name in ("read_noise_e", "dark_current_e_s", "dark_current_spread", "dsnu_e", "prnu"):
            _check_number(name, getattr(self, name), positive=False)
        for name in ("gain_db", "dark_current_reference_c", "temperature_c"):
            _check_number(name, getattr(self, name), positive=False, allow_negative=True)
        if self.black_level is not None:
            _check_number("black_level", self.black_level, positive=False)
            if self.black_level >= spec.full_scale:
                raise InputError(
                    f"black_level {self.black_level} must be below the full scale {spec.full_scale}"
                )
        if self.conversion_gain is not None:
            _check_number("conversion_gain", self.conversion_gain, positive=True)
        if self.hot_reference_exposure_us is not None:
            _check_number("hot_reference_exposure_us", self.hot_reference_exposure_us, True)
        if self.hot_reference_temperature_c is not None:
            _check_number(
                "hot_reference_temperature_c", self.hot_reference_temperature_c, False, True
            )
        _check_number("bright_level", self.bright_level, positive=True)
        if self.bright_level > 1:
            raise InputError(
                f"bright_level is a fraction of full scale (0 < level <= 1), got "
                f"{self.bright_level}"
            )
        if self.prnu >= 0.5:
            raise InputError(f"prnu is a relative spread below 0.5, got {self.prnu}")
        try:
            response = tuple(self.channel_response)
        except TypeError:
            response = (self.channel_response,)
        if len(response) != 3:
            raise InputError(f"channel_response needs 3 values (R, G, B), got {response!r}")
        for value in response:
            _check_number("channel_response", value, positive=True)
        object.__setattr__(self, "channel_response", tuple(float(v) for v in response))
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value, 0)
        for name in ("run_lengths", "edge_run_lengths"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, int | str):
                    raise InputError(f"{name} must be a list of run lengths, got {value!r}")
                lengths = tuple(value)
                for length in lengths:
                    _check_int(name, length, 1)
                object.__setattr__(self, name, tuple(int(v) for v in lengths))
        if self.photo_electrons <= 0:
            raise InputError(
                f"bright_level {self.bright_level} is at or below the dark level "
                f"({self.black_level_dn + self.gain * self.dark_electrons('bright'):.1f} DN): "
                "raise the bright level or lower the black level"
            )

    # -- derived quantities ------------------------------------------------------------

    @property
    def sensor(self) -> SensorSpec:
        """The sensor geometry as a :class:`SensorSpec`."""
        return SensorSpec(self.width, self.height, self.bit_depth, self.cfa, "simulated")

    @property
    def full_scale(self) -> int:
        return self.sensor.full_scale

    @property
    def dtype(self) -> np.dtype:
        return self.sensor.dtype

    @property
    def black_level_dn(self) -> float:
        if self.black_level is not None:
            return float(self.black_level)
        return lsb10_to_dn(64, self.bit_depth)

    @property
    def gain(self) -> float:
        """Effective conversion gain in DN per electron (analog gain included)."""
        base = self.conversion_gain
        if base is None:
            base = self.full_scale / self.full_well_e
        return float(base) * 10.0 ** (self.gain_db / 20.0)

    @property
    def threshold_dn(self) -> float:
        return lsb10_to_dn(self.threshold_lsb10, self.bit_depth)

    @property
    def line_threshold_dn(self) -> float:
        return lsb10_to_dn(self.line_threshold_lsb10, self.bit_depth)

    def dark_rate(self, temperature_c: float | None = None) -> float:
        """Mean dark current at ``temperature_c`` (default: the configured one), e-/s."""
        temperature = self.temperature_c if temperature_c is None else temperature_c
        steps = (temperature - self.dark_current_reference_c) / self.dark_current_doubling_c
        return self.dark_current_e_s * 2.0**steps

    def exposure_s(self, stack: str) -> float:
        return (self.dark_exposure_us if stack == "dark" else self.bright_exposure_us) * 1e-6

    def dark_electrons(self, stack: str) -> float:
        """Mean dark signal of a normal pixel in one frame of ``stack``, electrons."""
        return self.dark_rate() * self.exposure_s(stack)

    @property
    def photo_electrons(self) -> float:
        """Photo electrons of a normal pixel of the brightest channel per bright frame."""
        target = self.bright_level * self.full_scale
        dark_dn = self.black_level_dn + self.gain * self.dark_electrons("bright")
        return (target - dark_dn) / self.gain

    def channel_photo_electrons(self) -> tuple[float, ...]:
        """Photo electrons of a normal pixel per channel (plane order of the CFA)."""
        if self.cfa is None:
            return (self.photo_electrons,)
        brightest = max(self.channel_response)
        by_letter = dict(zip("RGB", self.channel_response, strict=True))
        return tuple(self.photo_electrons * by_letter[c] / brightest for c in self.cfa)

    def expected_level(self, stack: str, plane: int = 0) -> float:
        """Mean DN of a normal pixel of colour ``plane`` (index into the CFA) in ``stack``."""
        electrons = self.dark_electrons(stack)
        if stack == "bright":
            electrons += self.channel_photo_electrons()[plane]
        return self.black_level_dn + self.gain * electrons

    def expected_temporal_std(self, stack: str, plane: int = 0) -> float:
        """Temporal std of a normal pixel of colour ``plane`` in ``stack``, DN (with rounding)."""
        electrons = self.dark_electrons(stack)
        if stack == "bright":
            electrons += self.channel_photo_electrons()[plane]
        variance = self.gain**2 * (electrons + self.read_noise_e**2) + 1.0 / 12.0
        return math.sqrt(variance)

    # -- serialisation -----------------------------------------------------------------

    def resolved(self) -> SimulationConfig:
        """The same configuration with every ``None`` default filled in."""
        population = default_population(self.width, self.height, self.cfa)
        changes: dict[str, Any] = {
            name: value for name, value in population.items() if getattr(self, name) is None
        }
        if self.black_level is None:
            changes["black_level"] = self.black_level_dn
        if self.conversion_gain is None:
            changes["conversion_gain"] = self.full_scale / self.full_well_e
        if self.hot_reference_exposure_us is None:
            changes["hot_reference_exposure_us"] = self.dark_exposure_us
        if self.hot_reference_temperature_c is None:
            changes["hot_reference_temperature_c"] = self.temperature_c
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` turns it back into the same config."""
        record = dataclasses.asdict(self)
        for key, value in record.items():
            if isinstance(value, tuple):
                record[key] = list(value)
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SimulationConfig:
        """Build a config from :meth:`to_dict` output (or a ``simulation.json``)."""
        if "config" in record and isinstance(record["config"], dict):
            record = record["config"]
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(record) - names)
        if unknown:
            raise InputError(f"unknown simulation parameters: {', '.join(unknown)}")
        values = dict(record)
        for key in ("channel_response", "run_lengths", "edge_run_lengths"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)


_COUNT_FIELDS = (
    "n_hot", "n_warm", "n_stuck_high", "n_stuck_low", "n_dark", "n_bright", "n_noisy",
    "n_bad_columns", "n_bad_rows", "n_faint_columns", "n_faint_rows", "n_clusters",
)  # fmt: skip


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_number(name: str, value: Any, positive: bool, allow_negative: bool = False) -> None:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))
    if ok and not allow_negative:
        ok = value > 0 if positive else value >= 0
    if not ok:
        need = "a finite number" if allow_negative else ("> 0" if positive else ">= 0")
        raise InputError(f"{name} must be {need}, got {value!r}")


def _plane_of(config: SimulationConfig, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    if config.cfa is None:
        return np.zeros(rows.shape, np.int64)
    return (rows % 2) * 2 + columns % 2


_GEOMETRY = ("width", "height", "bit_depth", "cfa")


def simulation_config(
    base: str | os.PathLike | dict[str, Any] | None = None,
    *,
    sensor: str | None = None,
    **overrides: Any,
) -> SimulationConfig:
    """A :class:`SimulationConfig` from a saved one, a sensor preset and overrides.

    Parameters
    ----------
    base : path-like or dict, optional
        A ``simulation.json`` written by :func:`simulate_to_directory` (or any JSON object
        of parameters), or such a mapping.
    sensor : str, optional
        A sensor or camera preset (see :func:`fastdefect.sensor.sensor_preset`): its size,
        bit depth and CFA replace the base's.
    **overrides
        :class:`SimulationConfig` fields; ``None`` values are ignored. With another
        ``exposure`` or ``temperature`` this is the same sensor at another operating point.

    Another sensor geometry (size, bit depth, CFA) than the base's drops the base's defect
    counts, run lengths, black level and gain: they get the new geometry's defaults.
    """
    from ..sensor import sensor_preset

    label = "simulation parameters"
    if base is None:
        from_base: dict[str, Any] = {}
    elif isinstance(base, dict):
        from_base = dict(base)
    else:
        label = str(base)
        from_base = _read_config(Path(base))
    values = dict(from_base)
    if sensor is not None:
        preset = sensor_preset(sensor)
        values.update(width=preset.width, height=preset.height, bit_depth=preset.bit_depth)
        if preset.cfa is not None:
            values["cfa"] = preset.cfa
    values.update({key: value for key, value in overrides.items() if value is not None})
    if from_base and any(values.get(key) != from_base.get(key) for key in _GEOMETRY):
        # Another sensor geometry needs its own defaults (defect counts, black level, gain).
        for key in list(values):
            if key.startswith("n_") or key.endswith("run_lengths"):
                del values[key]
        values.pop("black_level", None)
        values.pop("conversion_gain", None)
    try:
        return SimulationConfig.from_dict(values)
    except TypeError as exc:  # a JSON value of the wrong shape
        raise InputError(f"{label}: {exc}") from exc


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from exc
    except RecursionError as exc:
        raise FileFormatError(path, "JSON nested too deeply") from exc
    if not isinstance(record, dict):
        raise FileFormatError(path, "expected a JSON object of simulation parameters")
    if isinstance(record.get("config"), dict):
        record = record["config"]
    return dict(record)
