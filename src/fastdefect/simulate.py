"""A synthetic image sensor with ground truth: dark and bright stacks plus the defect list.

The simulator makes what a user records for defect detection (a stack of dark frames and
a stack of bright, flat frames) from a physical model of a sensor with injected defects
of every kind in the domain vocabulary, and writes the *truth*: which pixels are
defective, of which kind, and the evidence a detector should see there. It is how
fastdefect is demonstrated, tested and benchmarked without a camera.

Model
-----
Per pixel and frame, in electrons (e-) and digital numbers (DN) at ``bit_depth``::

    signal_e = dark_rate * exposure  (+ photo_e in bright frames)
    value_dn = offset_dn + gain * (signal_e + shot noise) + gain * read noise [+ telegraph]
    frame    = clip(round(value_dn), 0, full_scale)

* ``offset_dn`` is the black level plus DSNU (a fixed per-pixel offset, normal with
  ``dsnu_e`` electrons standard deviation) plus any line-defect offset.
* ``dark_rate`` is ``dark_current_e_s`` at ``dark_current_reference_c``, doubling every
  ``dark_current_doubling_c`` degrees, times a per-pixel log-normal spread of
  ``dark_current_spread`` (mean 1); hot and warm pixels add an extra dark current.
* ``photo_e`` is set so that a normal pixel of the brightest channel has a mean of
  ``bright_level * full_scale`` DN in bright frames (the light is adjusted to the level,
  as the vendor advises); PRNU multiplies it per pixel (normal, ``prnu`` relative std).
  On a Bayer sensor the channels respond with ``channel_response`` (R, G, B relative).
  The bright exposure only sets how much dark current the bright frames collect.
* ``gain`` (DN/e-) is ``conversion_gain`` (default ``full_scale / full_well_e``) times
  the analog gain ``10 ** (gain_db / 20)``.
* Shot noise is Poisson. Where the Poisson skew cannot be seen under the read noise
  (skewness of shot plus read noise ``lambda / (lambda + read_noise_e**2) ** 1.5`` below
  0.05, true everywhere for the default 10 e- read noise) it is drawn as a Gaussian of the
  same mean and variance, merged with the read noise into one draw; elsewhere it is drawn
  exactly from ``numpy.random.Generator.poisson``. This keeps 5120 x 5120 frames at well
  under a second each.
* Noisy pixels carry random telegraph noise: each frame they sit in the high state with
  probability ``p``, adding ``amplitude`` DN; with ``multi_level_fraction`` some carry a
  second, independent process (3-4 levels). Stuck pixels output a constant value in
  every dark and bright frame.
* Amp glow (``amp_glow_e_s``): extra dark current falling off exponentially from the
  top-right corner; it scales with the exposure like all dark current, so the corner is
  brighter and noisier (shot noise) without any defect in it.
* Partial lines (``n_partial_columns``, ``n_partial_rows``): an offset over a stretch of
  a column (row) only.

:func:`realistic_preset` puts this together: a 12-bit sensor at three dark exposures.

Randomness comes from one ``numpy.random.SeedSequence(seed)``: the defect layout and the
fixed-pattern maps from its own child streams, each frame row band from a child keyed by
(stack, frame, band). The same seed and configuration give identical pixels on any
machine and thread count; frame ``i`` does not depend on how many frames are made.

Defects
-------
Thresholds are those of the domain reference: a pixel deviating from the median of its
7 x 7 neighbourhood by more than ``threshold_lsb10`` (102 LSB at 10 bit, scaled with bit
depth), a column or row mean deviating from the median of the +-5 neighbouring column
(row) means by more than ``line_threshold_lsb10`` (48 LSB at 10 bit).

Injected (counts scale with sensor area, see :func:`default_population`):

* ``hot``: extra dark current giving a dark deviation just above (threshold plus
  1 to 1.5 x ``max(5 sigma, 5 %)``), well above (1.8-2.5 x) or far above (4-6 x) the threshold at
  the reference operating point (the configured dark exposure and temperature unless
  ``hot_reference_exposure_us`` / ``hot_reference_temperature_c`` pin it: then the same
  pixels grow with exposure and temperature across simulations).
* ``warm``: the same at 0.15-0.45 x threshold. Not defects: listed in ``warm.csv`` only.
* ``stuck_high``: a constant between 98 % of full scale and full scale (half exactly at
  full scale). ``stuck_low``: a constant between 0 and a quarter of the black level
  (half exactly 0).
* ``dark``: bright response 20-60 % of normal, normal in the dark.
* ``bright``: over-responsive, bright deviation 1.3-2.5 x threshold, normal in the dark.
* ``noisy``: telegraph amplitude 0.4-0.7 x threshold, high-state probability 0.25-0.5, so
  the mean moves by at most 0.35 x threshold while the temporal std is 0.17-0.35 x
  threshold (about 15-30 x the typical dark noise).
* ``column`` / ``row``: additive offsets (dark and bright alike) of 1.1, 1.3 and 1.5 x the
  line threshold in turn (1.1 x or more when the frame count needs it), every other
  1.1 x line darker than its neighbours where the black level leaves room; faint lines
  (0.3-0.5 x line threshold) go to ``warm.csv``. Lines keep at least 8 pixels (14 on a
  Bayer sensor) from the borders and 12 (21) from each other, so each has its +-5
  neighbouring lines clean. Every bad column crosses every bad row; the crossing pixel
  is classified by its summed deviation (it may become hot, dark or bright).
* Runs: horizontal runs of ``run_lengths`` adjacent defects (hot, hot, dark, stuck_high,
  bright in turn), plus ``edge_run_lengths`` runs starting at the first column, and
  hot ``clusters`` of 2 x 2 and 3 x 3 pixels.

Isolation: point defects, runs and clusters are placed on a jittered grid so that no two
of them come closer than 4 pixels (7 on a Bayer sensor) and none comes within that distance
of a line: every 7 x 7 neighbourhood (per colour plane) holds at most the pixels of its own
run or cluster.

Bayer sensors (``cfa="RGGB"`` ...): everything is per colour plane (R, G1, G2, B as
:attr:`fastdefect.sensor.SensorSpec.channel_names`): the neighbourhood of a pixel is the
7 x 7 block of its own plane (a 13 x 13 mosaic window), line means are plane column/row
means, runs and clusters are same-colour runs (every second column), and an edge run starts
at the first column of its colour (mosaic column 0 or 1).

Truth
-----
Every injected pixel is *classified from its expected evidence*, in the domain order:
injected stuck high, injected stuck low, ``dark_deviation > threshold`` (hot),
``bright_deviation < -threshold`` (dark), ``bright_deviation > threshold`` (bright),
injected telegraph noise (noisy), ``|column line_deviation| > line threshold`` (column),
the same for its row (row). The rest goes to ``warm.csv``: warm pixels, faint lines, and
injected defects that the operating point left below their threshold; there ``kind`` is
the kind the anomaly would take past its threshold and ``source`` says what it is.
Pixels of a partial line are ``column`` (``row``) when the stretch is at least 32 pixels
long and its median deviation from the neighbouring lines (the segment rule of
:func:`fastdefect.detection.line_segments`, on the noise-free dark mean) passes the line
threshold. Every row carries ``ambiguous`` = 1 when one of its deviations is within 5
noise sigmas of its threshold (too close to call; :func:`fastdefect.scoring.ambiguous`
lists them for scoring). Both files are fastdefect rich defect-list CSVs; see
:data:`TRUTH_COLUMNS` for the evidence.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import FileFormatError, InputError
from .outputs import atomic_output, check_output_path
from .sensor import SensorSpec, lsb10_to_dn, parse_cfa

__all__ = [
    "AMBIGUOUS_SIGMAS",
    "KINDS",
    "OUTPUT_FILES",
    "TRUTH_COLUMNS",
    "SimulatedSensor",
    "SimulationConfig",
    "SimulationResult",
    "TruthTable",
    "bright_frames",
    "build_sensor",
    "dark_frames",
    "default_population",
    "read_truth",
    "realistic_preset",
    "simulate_series_to_directory",
    "simulate_to_directory",
    "simulation_config",
]

#: Defect kinds in classification order (a pixel fitting several takes the first).
KINDS = ("stuck_high", "stuck_low", "hot", "dark", "bright", "noisy", "column", "row")

#: ``source`` of the sub-threshold anomalies injected on purpose (``warm.csv``).
WARM_SOURCES = ("warm", "faint_column", "faint_row")

#: Files written by :func:`simulate_to_directory`.
OUTPUT_FILES = ("dark.tif", "bright.tif", "truth.csv", "warm.csv", "simulation.json")

#: Columns of ``truth.csv`` and ``warm.csv`` and what they mean. Means, backgrounds and
#: deviations are *expected* values (noise-free, infinitely many frames) in DN. The layout
#: is fastdefect's rich defect-list CSV (``row,column,kind,source`` then numeric evidence),
#: so :func:`fastdefect.formats.rich_csv.read` reads both files too.
TRUTH_COLUMNS: dict[str, str] = {
    "row": "0-based row (y)",
    "column": "0-based column (x)",
    "kind": "defect kind (KINDS); in warm.csv the kind the anomaly would take above its "
    "threshold (warm pixel: hot, faint line: column/row): NOT a defect",
    "source": "what was injected there (hot_just_above, warm, run, edge_run, cluster, "
    "bad_column, faint_row, ...; two joined by + where lines cross)",
    "plane": "colour plane, 0 for mono; on a Bayer sensor (row % 2) * 2 + column % 2, an "
    "index into SensorSpec.channel_names (R, G1, G2, B in pattern order)",
    "group": "number of the deliberate run or cluster the pixel belongs to (0: none)",
    "run_length": "length of that deliberate run (0 if none)",
    "dark_mean": "expected mean of the pixel in the dark stack (DN)",
    "bright_mean": "expected mean of the pixel in the bright stack (DN)",
    "dark_background": "median of the expected dark means of its 7 x 7 same-plane neighbours",
    "bright_background": "median of the expected bright means of its 7 x 7 neighbours",
    "dark_deviation": "dark_mean - dark_background",
    "bright_deviation": "bright_mean - bright_background",
    "dark_std": "expected temporal std of the pixel in the dark stack (DN, incl. rounding)",
    "bright_std": "expected temporal std in the bright stack",
    "dark_sigma": "std of the measured dark deviation from an N-frame mean image",
    "bright_sigma": "std of the measured bright deviation from an N-frame mean image",
    "line_deviation": "expected dark column (row) mean minus the median of the +-5 "
    "neighbouring column (row) means of its plane, for pixels on a bad or faint line; on a "
    "partial line the median over its stretch of the per-pixel deviation from the +-5 "
    "neighbouring lines' pixels (the segment rule)",
    "ambiguous": "1 when a deviation of the pixel (dark; bright up or down) is within 5 "
    "noise sigmas of the pixel threshold, or its line's within 5 sigmas of the line "
    "threshold: too close to call either way; else 0",
}

_INT_COLUMNS = ("row", "column", "plane", "group", "run_length")
_STR_COLUMNS = ("kind", "source")
_FLOAT_COLUMNS = tuple(c for c in TRUTH_COLUMNS if c not in _INT_COLUMNS + _STR_COLUMNS)

ProgressCallback = Callable[[int, int], None]

# Shot noise is drawn exactly (Poisson) where shot plus read noise is skewed more than this.
_POISSON_SKEW = 0.05
# Frames are made in bands of rows, each band from its own random stream (parallel, and
# independent of the thread count).
_BAND_ROWS = 64
# The neighbourhood of the domain's definition: 7 x 7 without the centre.
_RADIUS = 3
_LINE_NEIGHBOURS = 5
# Partial lines shorter than this are not segments (DetectionConfig.segment_length).
_SEGMENT_LENGTH = 32
#: Truth pixels within this many noise sigmas of a threshold are too close to call.
AMBIGUOUS_SIGMAS = 5.0
# Stream keys of the SeedSequence children.
_KEY_LAYOUT, _KEY_MAPS, _KEY_DARK, _KEY_BRIGHT, _KEY_STRENGTH = 0, 1, 2, 3, 4
_KEY_TELEGRAPH = 5
# Run kinds, cycled over the runs.
_RUN_KINDS = ("hot", "hot", "dark", "stuck_high", "bright")


# --------------------------------------------------------------------------------------
# configuration


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
        return (1 << self.bit_depth) - 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.bit_depth <= 8 else np.uint16)

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


# --------------------------------------------------------------------------------------
# defect population


@dataclass(frozen=True)
class _Grid:
    """The jittered placement grid: one isolated defect per cell at most.

    A defect sits at cell origin + ``[0, jitter)`` in each direction, so defects in
    different cells are at least ``cell - jitter + 1`` apart. Runs and clusters reserve as
    many consecutive cells as keep them ``min_distance`` from the next cell's defect. Lines
    run through whole cells of their own (*lanes*), at lane origin + ``[0, line_jitter)``,
    which keeps them ``min_distance`` from every defect of the neighbouring cells.
    """

    cell: int  # cell size in pixels
    jitter: int  # a defect sits at cell origin + [0, jitter)
    step: int  # column step of a same-colour run
    min_distance: int  # between any two separate defects, Chebyshev, mosaic pixels
    line_jitter: int  # a line sits at lane origin + [0, line_jitter)

    @classmethod
    def for_sensor(cls, cfa: str | None) -> _Grid:
        if cfa is None:
            return cls(cell=8, jitter=4, step=1, min_distance=4, line_jitter=5)
        # Same-plane neighbourhoods are 13 x 13 mosaic windows: distances double.
        return cls(cell=14, jitter=6, step=2, min_distance=7, line_jitter=8)

    def cells_for_extent(self, extent: int, jitter: int | None = None) -> int:
        """Cells to reserve along an axis for a defect spanning ``extent`` pixels."""
        jitter = self.jitter if jitter is None else jitter
        return max(1, math.ceil((self.min_distance + jitter - 1 + extent - 1) / self.cell))

    def run_extent(self, length: int) -> int:
        """Mosaic columns spanned by a same-colour run of ``length`` pixels."""
        return self.step * (length - 1) + 1

    def run_cells(self, length: int) -> int:
        return self.cells_for_extent(self.run_extent(length))

    def edge_run_cells(self, length: int) -> int:
        # An edge run starts unjittered at its colour's first column (0 or 1).
        return self.cells_for_extent(self.run_extent(length) + 1, jitter=1)

    def lanes(self, n_cells: int, first: int) -> list[int]:
        """Cells that may carry a line: off the border cells (lines need +-5 neighbouring
        lines of their plane) and from ``first`` on."""
        return list(range(max(1, first), n_cells - 1))


def _max_lanes(candidates: int) -> int:
    """Lanes that fit ``candidates`` consecutive cells two cells apart."""
    return (candidates + 1) // 2


def default_population(width: int, height: int, cfa: str | None = None) -> dict[str, Any]:
    """Default defect counts for a sensor, scaled with its area (lines with its sides).

    At 1024 x 1024: 60 hot (20 just, 20 well, 20 far above the threshold), 40 warm,
    8 stuck high, 8 stuck low, 20 dark, 20 bright, 20 noisy, 3 bad columns and 3 bad rows,
    1 faint column and row, runs of every length 1 to 12, 4 runs from the first column
    (lengths 1, 3, 6, 9) and 2 hot clusters. Counts grow with the area (x 25 at
    5120 x 5120, lines x 5); small sensors get fewer, within what the placement grid holds.
    """
    area = width * height / float(1024 * 1024)
    grid = _Grid.for_sensor(parse_cfa(cfa))
    cell_rows, cell_columns = height // grid.cell, width // grid.cell
    per_area = max(1, round(area))

    def scaled(count: float, minimum: int = 1) -> int:
        return max(minimum, round(count * area))

    edge_lengths = tuple(
        n for _ in range(per_area) for n in (1, 3, 6, 9) if grid.edge_run_cells(n) < cell_columns
    )
    edge_block = max((grid.edge_run_cells(n) for n in edge_lengths), default=0)

    def lines(n_cells: int, first: int, side: int) -> tuple[int, int]:
        room = _max_lanes(len(grid.lanes(n_cells, first)))
        bad = min(max(1, round(3 * side / 1024)), room)
        faint = min(max(1, round(side / 1024)), room - bad, bad)
        return bad, faint

    n_bad_columns, n_faint_columns = lines(cell_columns, edge_block, width)
    n_bad_rows, n_faint_rows = lines(cell_rows, 0, height)
    column_lanes = n_bad_columns + n_faint_columns
    free_rows = cell_rows - n_bad_rows - n_faint_rows
    free_columns = cell_columns - column_lanes
    # Runs must fit between two lanes: the widest gap is at least this wide.
    widest_gap = (cell_columns - column_lanes) // (column_lanes + 1)
    run_lengths = tuple(
        n for _ in range(per_area) for n in range(1, 13) if grid.run_cells(n) <= widest_gap
    )
    points = {
        "n_hot": scaled(60, 6),
        "n_warm": scaled(40, 4),
        "n_stuck_high": scaled(8, 2),
        "n_stuck_low": scaled(8, 2),
        "n_dark": scaled(20, 2),
        "n_bright": scaled(20, 2),
        "n_noisy": scaled(20, 2),
    }
    n_clusters = scaled(2) if widest_gap >= 2 and free_rows >= 2 else 0
    # Keep the grid at most half full so the random placement always succeeds.
    budget = max(0, free_rows * free_columns) // 2
    reserved = sum(grid.run_cells(n) for n in run_lengths)
    reserved += sum(grid.edge_run_cells(n) for n in edge_lengths) + 4 * n_clusters
    if reserved > budget:
        run_lengths = tuple(n for n in run_lengths if grid.run_cells(n) == 1)
        run_lengths = run_lengths[: budget // 4]
        edge_lengths = tuple(n for n in edge_lengths if grid.edge_run_cells(n) == 1)
        edge_lengths = edge_lengths[: min(2, free_rows // 2)]
        n_clusters = 0
        reserved = len(run_lengths) + len(edge_lengths)
    free = max(0, budget - reserved)
    total_points = sum(points.values())
    if total_points > free:
        points = {key: value * free // total_points for key, value in points.items()}
    return {
        **points,
        "n_bad_columns": n_bad_columns,
        "n_bad_rows": n_bad_rows,
        "n_faint_columns": n_faint_columns,
        "n_faint_rows": n_faint_rows,
        "run_lengths": run_lengths,
        "edge_run_lengths": edge_lengths,
        "n_clusters": n_clusters,
    }


@dataclass
class _Layout:
    """Where the defects are and how strong, before they are put into the maps."""

    rows: list[np.ndarray] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # injected kind per block
    sources: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    run_lengths: list[int] = field(default_factory=list)
    strengths: list[np.ndarray] = field(default_factory=list)  # per pixel, kind specific
    extras: list[np.ndarray] = field(default_factory=list)  # second parameter (noisy p)
    line_axis: list[str] = field(default_factory=list)  # "column" or "row"
    line_index: list[int] = field(default_factory=list)
    line_offset: list[float] = field(default_factory=list)  # DN
    line_source: list[str] = field(default_factory=list)
    line_start: list[int] = field(default_factory=list)  # first pixel along the line
    line_end: list[int] = field(default_factory=list)  # last pixel (inclusive)

    def add_line(
        self, axis: str, index: int, offset: float, source: str, start: int, end: int
    ) -> None:
        self.line_axis.append(axis)
        self.line_index.append(index)
        self.line_offset.append(offset)
        self.line_source.append(source)
        self.line_start.append(start)
        self.line_end.append(end)

    def add(
        self,
        rows: np.ndarray,
        columns: np.ndarray,
        kind: str,
        source: str,
        strength: np.ndarray,
        extra: np.ndarray | None = None,
        group: int = 0,
        run_length: int = 0,
    ) -> None:
        self.rows.append(np.asarray(rows, np.int64))
        self.columns.append(np.asarray(columns, np.int64))
        self.kinds.append(kind)
        self.sources.append(source)
        self.groups.append(group)
        self.run_lengths.append(run_length)
        self.strengths.append(np.asarray(strength, np.float64))
        self.extras.append(np.zeros(len(rows)) if extra is None else np.asarray(extra, float))


class _Placer:
    """Reserves grid cells and turns them into pixel positions of a chosen colour plane."""

    def __init__(self, config: SimulationConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self.grid = _Grid.for_sensor(config.cfa)
        self.cell_rows = config.height // self.grid.cell
        self.cell_columns = config.width // self.grid.cell
        self.free = np.ones((self.cell_rows, self.cell_columns), bool)
        self.used_lanes: dict[str, list[int]] = {"column": [], "row": []}

    def lines(self, axis: str, count: int, first: int) -> list[int]:
        """Reserve ``count`` lanes two cells apart; return the line positions in them."""
        if count == 0:
            return []
        n_cells = self.cell_columns if axis == "column" else self.cell_rows
        candidates = np.array(self.grid.lanes(n_cells, first), np.int64)
        chosen: list[int] = []
        for lane in self.rng.permutation(candidates):
            lane = int(lane)
            if all(abs(lane - other) >= 2 for other in chosen + self.used_lanes[axis]):
                chosen.append(lane)
                if len(chosen) == count:
                    break
        if len(chosen) < count:
            raise _NoRoom
        self.used_lanes[axis].extend(chosen)
        positions = []
        for lane in chosen:
            if axis == "column":
                self.free[:, lane] = False
            else:
                self.free[lane, :] = False
            positions.append(
                lane * self.grid.cell + int(self.rng.integers(0, self.grid.line_jitter))
            )
        return positions

    def plane_offset(self, plane: int) -> tuple[int, int]:
        return (plane // 2, plane % 2) if self.config.cfa is not None else (0, 0)

    def random_plane(self, size: int | None = None) -> Any:
        planes = 4 if self.config.cfa is not None else 1
        return self.rng.integers(0, planes, size=size)

    def jitter(self, parity: np.ndarray | int, size: int | None = None) -> Any:
        if self.config.cfa is None:
            return self.rng.integers(0, self.grid.jitter, size=size)
        return 2 * self.rng.integers(0, self.grid.jitter // 2, size=size) + parity

    def reserve_block(
        self, cell_rows: int, cell_columns: int, first_column: bool
    ) -> tuple[int, int]:
        """Find ``cell_rows x cell_columns`` free cells; return the top-left cell."""
        max_row = self.cell_rows - cell_rows
        max_column = 0 if first_column else self.cell_columns - cell_columns
        if max_row < 0 or max_column < 0:
            raise _NoRoom
        for _ in range(2000):
            top = int(self.rng.integers(0, max_row + 1))
            left = int(self.rng.integers(0, max_column + 1))
            block = self.free[top : top + cell_rows, left : left + cell_columns]
            if block.all():
                block[...] = False
                return top, left
        # Random probing failed: scan for any fitting block before giving up.
        for top in range(max_row + 1):
            for left in range(max_column + 1):
                block = self.free[top : top + cell_rows, left : left + cell_columns]
                if block.all():
                    block[...] = False
                    return top, left
        raise _NoRoom

    def run(self, length: int, first_column: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pixel positions of a same-plane horizontal run."""
        grid = self.grid
        plane = int(self.random_plane())
        row_parity, column_parity = self.plane_offset(plane)
        extent = grid.run_extent(length)
        if first_column:
            cells = grid.cells_for_extent(extent + column_parity, jitter=1)
        else:
            cells = grid.cells_for_extent(extent)
        top, left = self.reserve_block(1, cells, first_column)
        row = top * grid.cell + int(self.jitter(row_parity))
        start = (
            column_parity if first_column else left * grid.cell + int(self.jitter(column_parity))
        )
        columns = start + grid.step * np.arange(length)
        return np.full(length, row), columns

    def cluster(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        grid = self.grid
        plane = int(self.random_plane())
        row_parity, column_parity = self.plane_offset(plane)
        cells = grid.cells_for_extent(grid.run_extent(size))
        top, left = self.reserve_block(cells, cells, False)
        row0 = top * grid.cell + int(self.jitter(row_parity))
        column0 = left * grid.cell + int(self.jitter(column_parity))
        offsets = grid.step * np.arange(size)
        rows, columns = np.meshgrid(row0 + offsets, column0 + offsets, indexing="ij")
        return rows.ravel(), columns.ravel()

    def points(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` isolated positions in distinct free cells, in random order."""
        if count == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        available = np.flatnonzero(self.free)
        if count > available.size:
            raise _NoRoom
        chosen = self.rng.choice(available, size=count, replace=False)
        self.free.flat[chosen] = False
        cell_rows, cell_columns = np.divmod(chosen, self.cell_columns)
        planes = self.random_plane(count)
        planes = planes if self.config.cfa is not None else np.zeros(count, np.int64)
        row_parity, column_parity = planes // 2, planes % 2
        if self.config.cfa is None:
            row_parity = column_parity = 0
        rows = cell_rows * self.grid.cell + self.jitter(row_parity, count)
        columns = cell_columns * self.grid.cell + self.jitter(column_parity, count)
        return rows.astype(np.int64), columns.astype(np.int64)


class _NoRoom(Exception):
    pass


def _design_layout(
    config: SimulationConfig, rng: np.random.Generator, strength_rng: np.random.Generator
) -> _Layout:
    """Choose every defect: where (``rng``), which kind, how strong (``strength_rng``).

    Two streams, so positions depend only on the seed, the size and the counts: the same
    seed at another exposure, temperature or bit depth puts the defects at the same pixels.
    """
    threshold = config.threshold_dn
    line_threshold = config.line_threshold_dn
    full_scale = config.full_scale
    layout = _Layout()
    placer = _Placer(config, rng)
    grid = placer.grid

    # Lines first: the point defects keep away from them.
    dark_noise = config.expected_temporal_std("dark")
    line_noise = dark_noise * math.sqrt(1.0 / config.frames)
    room_below = config.black_level_dn - 6 * dark_noise  # a darker line must not clip at 0
    tiers = (
        max(1.1, 1 + 4 * line_noise / line_threshold),
        1.3,
        1.5,
    )
    # Edge runs own the first cells of their rows: no column line there.
    edge_block = max((grid.edge_run_cells(n) for n in config.edge_run_lengths or ()), default=0)
    try:
        for axis, n_bad, n_faint, first in (
            ("column", config.n_bad_columns, config.n_faint_columns, edge_block),
            ("row", config.n_bad_rows, config.n_faint_rows, 0),
        ):
            bad = placer.lines(axis, n_bad or 0, first)
            faint = placer.lines(axis, n_faint or 0, first)
            extent = config.height if axis == "column" else config.width
            for number, index in enumerate(bad):
                magnitude = tiers[number % 3] * line_threshold
                # Every other "just above" line is darker than its neighbours (rows first,
                # so a 1024 x 1024 sensor has a positive and a negative just-above line).
                darker = number % 3 == 0 and (number // 3 + (axis == "row")) % 2 == 1
                sign = -1.0 if darker and magnitude <= room_below else 1.0
                layout.add_line(axis, index, sign * magnitude, f"bad_{axis}", 0, extent - 1)
            for index in faint:
                strength = float(strength_rng.uniform(0.3, 0.5)) * line_threshold
                layout.add_line(axis, index, strength, f"faint_{axis}", 0, extent - 1)
        for axis, n_partial, first in (
            ("column", config.n_partial_columns, edge_block),
            ("row", config.n_partial_rows, 0),
        ):
            extent = config.height if axis == "column" else config.width
            shortest = min(64, extent // 2)
            for number, index in enumerate(placer.lines(axis, n_partial, first)):
                length = int(strength_rng.integers(shortest, max(shortest, extent // 4) + 1))
                start = int(strength_rng.integers(0, extent - length + 1))
                magnitude = float(strength_rng.uniform(1.3, 1.8)) * line_threshold
                sign = -1.0 if number % 2 == 1 and magnitude <= room_below else 1.0
                layout.add_line(
                    axis, index, sign * magnitude, f"partial_{axis}", start, start + length - 1
                )
    except _NoRoom:
        raise InputError(
            f"a {config.width} x {config.height} sensor has no room for the requested line "
            f"defects ({config.n_bad_columns} + {config.n_faint_columns} + "
            f"{config.n_partial_columns} columns, {config.n_bad_rows} + {config.n_faint_rows} + "
            f"{config.n_partial_rows} rows); request fewer"
        ) from None

    hot_margin = _hot_margin(config)
    far_cap = 0.9 * (full_scale - config.expected_level("dark"))
    bright_cap = 0.95 * (full_scale - config.bright_level * full_scale)

    def hot_strength(tier: str, n: int) -> np.ndarray:
        if tier == "just_above":
            return threshold + hot_margin * strength_rng.uniform(1.0, 1.5, n)
        if tier == "well_above":
            return np.minimum(threshold * strength_rng.uniform(1.8, 2.5, n), far_cap)
        return np.minimum(threshold * strength_rng.uniform(4.0, 6.0, n), far_cap)

    def bright_strength(n: int) -> np.ndarray:
        bright_margin = 4 * _deviation_sigma(config, "bright", 1.3 * threshold)
        low = max(1.3 * threshold, threshold + bright_margin)
        return np.minimum(strength_rng.uniform(low, max(low, 2.5 * threshold), n), bright_cap)

    def stuck_values(kind: str, n: int) -> np.ndarray:
        if kind == "stuck_high":
            low = math.floor(0.98 * full_scale)
            values = strength_rng.integers(low, full_scale + 1, n)
            values[::2] = full_scale
        else:
            values = strength_rng.integers(0, int(config.black_level_dn // 4) + 1, n)
            values[::2] = 0
        return values.astype(np.float64)

    def strength_for(kind: str, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        if kind == "hot":
            return hot_strength("well_above", n), None
        if kind == "dark":
            return strength_rng.uniform(0.2, 0.6, n), None
        if kind == "bright":
            return bright_strength(n), None
        if kind in ("stuck_high", "stuck_low"):
            return stuck_values(kind, n), None
        raise AssertionError(kind)

    try:
        # Runs and clusters (several cells each) before the single points.
        requests = [(n, False) for n in config.run_lengths or ()]
        requests += [(n, True) for n in config.edge_run_lengths or ()]
        order = sorted(range(len(requests)), key=lambda i: -requests[i][0])
        placed: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for i in order:
            placed[i] = placer.run(*requests[i])
        for i, (length, at_edge) in enumerate(requests):
            rows, columns = placed[i]
            kind = _RUN_KINDS[i % len(_RUN_KINDS)]
            strength, extra = strength_for(kind, length)
            source = "edge_run" if at_edge else "run"
            layout.add(rows, columns, kind, source, strength, extra, i + 1, length)
        for number in range(config.n_clusters or 0):
            rows, columns = placer.cluster(2 + number % 2)
            strength, _ = strength_for("hot", rows.size)
            group = len(requests) + number + 1
            layout.add(rows, columns, "hot", "cluster", strength, group=group)

        n_hot = config.n_hot or 0
        hot_tiers = [
            ("just_above", n_hot // 3 + (1 if n_hot % 3 > 0 else 0)),
            ("well_above", n_hot // 3 + (1 if n_hot % 3 > 1 else 0)),
            ("far_above", n_hot // 3),
        ]
        requests_points: list[tuple[str, str, int]] = [
            ("hot", f"hot_{tier}", n) for tier, n in hot_tiers
        ]
        requests_points += [
            ("warm", "warm", config.n_warm or 0),
            ("stuck_high", "stuck_high", config.n_stuck_high or 0),
            ("stuck_low", "stuck_low", config.n_stuck_low or 0),
            ("dark", "dark", config.n_dark or 0),
            ("bright", "bright", config.n_bright or 0),
            ("noisy", "noisy", config.n_noisy or 0),
        ]
        rows, columns = placer.points(sum(n for _, _, n in requests_points))
    except _NoRoom:
        raise InputError(
            f"a {config.width} x {config.height} sensor has no room for the requested "
            "defects with their isolation; request fewer defects or shorter runs"
        ) from None

    start = 0
    for kind, source, n in requests_points:
        if n == 0:
            continue
        take = slice(start, start + n)
        start += n
        extra = None
        if kind == "hot":
            strength = hot_strength(source.removeprefix("hot_"), n)
        elif kind == "warm":
            strength = threshold * strength_rng.uniform(0.15, 0.45, n)
        elif kind == "noisy":
            strength = threshold * strength_rng.uniform(0.4, 0.7, n)
            extra = strength_rng.uniform(0.25, 0.5, n)
        else:
            strength, extra = strength_for(kind, n)
        layout.add(rows[take], columns[take], kind, source, strength, extra)
    return layout


def _deviation_sigma(config: SimulationConfig, stack: str, deviation_dn: float) -> float:
    """Std of a measured deviation for a pixel ``deviation_dn`` above a normal pixel."""
    typical = config.expected_temporal_std(stack)
    pixel = math.sqrt(typical**2 + config.gain * max(deviation_dn, 0.0))
    background = typical * math.sqrt(math.pi / (2 * 48))
    return math.sqrt(pixel**2 / config.frames + background**2 / config.frames)


def _hot_margin(config: SimulationConfig) -> float:
    """How far above the threshold a "just above" hot pixel sits (at the reference point)."""
    threshold = config.threshold_dn
    return max(5 * _deviation_sigma(config, "dark", 1.2 * threshold), 0.05 * threshold)


# --------------------------------------------------------------------------------------
# the sensor


@dataclass
class TruthTable:
    """Rows of ``truth.csv`` or ``warm.csv`` as column arrays, sorted by row and column.

    ``table["kind"]``, ``table["dark_deviation"]`` ... give the columns of
    :data:`TRUTH_COLUMNS`; ``len(table)`` the number of pixels.
    """

    columns: dict[str, np.ndarray]

    @classmethod
    def empty(cls) -> TruthTable:
        """A table without rows."""
        columns: dict[str, np.ndarray] = {}
        for name in TRUTH_COLUMNS:
            if name in _INT_COLUMNS:
                columns[name] = np.zeros(0, np.int64)
            elif name in _FLOAT_COLUMNS:
                columns[name] = np.zeros(0)
            else:
                columns[name] = np.zeros(0, np.str_)
        return cls(columns)

    def __len__(self) -> int:
        return int(self.columns["row"].size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def counts(self, by: str = "kind") -> dict[str, int]:
        """Pixels per kind (or per ``source``), in :data:`KINDS` order, then the others."""
        names, numbers = np.unique(self.columns[by], return_counts=True)
        found = dict(zip(names.tolist(), numbers.tolist(), strict=True))
        ordered = [k for k in (*KINDS, *WARM_SOURCES) if k in found]
        ordered += sorted(k for k in found if k not in ordered)
        return {k: int(found[k]) for k in ordered}

    def select(self, mask: np.ndarray) -> TruthTable:
        return TruthTable({k: v[mask] for k, v in self.columns.items()})

    def to_csv(self) -> str:
        """The table as CSV text (header ``row,column,kind,...``), floats with 3 decimals."""
        return "".join(self._csv_chunks())

    def write_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write atomically; an existing file needs ``overwrite=True``."""
        with (
            atomic_output(path, overwrite=overwrite) as tmp,
            open(tmp, "w", encoding="utf-8", newline="\n") as stream,
        ):
            for chunk in self._csv_chunks():
                stream.write(chunk)
        return Path(path)

    def _csv_chunks(self, rows: int = 16384) -> Iterator[str]:
        """The CSV text in pieces of ``rows`` lines (bounded memory for 10**5+ lines)."""
        yield ",".join(TRUTH_COLUMNS) + "\n"
        for start in range(0, len(self), rows):
            fields = []
            for name in TRUTH_COLUMNS:
                values = self.columns[name][start : start + rows].tolist()
                if name in _FLOAT_COLUMNS:
                    fields.append([_format3(v) for v in values])
                else:
                    fields.append([str(v) for v in values])
            yield "\n".join(map(",".join, zip(*fields, strict=True))) + "\n"


def _format3(value: float) -> str:
    """A number with 3 decimals (``-0.000`` as ``0.000``); NaN and inf as an empty field."""
    if not math.isfinite(value):
        return ""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def read_truth(path: str | os.PathLike) -> TruthTable:
    """Read a ``truth.csv`` or ``warm.csv`` written by the simulator.

    Raises
    ------
    FileFormatError
        The file lacks the ``row,column,kind`` header or a value is malformed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    lines = text.splitlines()
    if not lines or not lines[0].startswith("row,column,kind"):
        raise FileFormatError(
            path, "not a truth file: the header must start with row,column,kind", line=1
        )
    header = lines[0].split(",")
    data: dict[str, list[str]] = {name: [] for name in header}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != len(header):
            raise FileFormatError(
                path, f"{len(fields)} fields where the header has {len(header)}", line=number
            )
        for name, value in zip(header, fields, strict=True):
            data[name].append(value)
    columns: dict[str, np.ndarray] = {}
    for position, (name, values) in enumerate(data.items(), start=1):
        try:
            if name in _INT_COLUMNS:
                columns[name] = np.array([int(v) for v in values], dtype=np.int64)
            elif name in _FLOAT_COLUMNS:
                columns[name] = np.array([float(v) if v else np.nan for v in values])
            else:
                columns[name] = np.array(values, dtype=str)
        except ValueError as exc:
            raise FileFormatError(path, f"column {name!r}: {exc}", column=position) from exc
    return TruthTable(columns)


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


def _plane_of(config: SimulationConfig, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    if config.cfa is None:
        return np.zeros(rows.shape, np.int64)
    return (rows % 2) * 2 + columns % 2


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
    for axis, index, value, start, end in zip(
        layout.line_axis,
        layout.line_index,
        layout.line_offset,
        layout.line_start,
        layout.line_end,
        strict=True,
    ):
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
            for axis, index, offset, source, start, end in zip(
                layout.line_axis,
                layout.line_index,
                layout.line_offset,
                layout.line_source,
                layout.line_start,
                layout.line_end,
                strict=True,
            )
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


# --------------------------------------------------------------------------------------
# ground truth


def _neighbour_median(
    image: np.ndarray, rows: np.ndarray, columns: np.ndarray, cfa: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median of the 7 x 7 same-plane neighbours (centre excluded, outside left out).

    Returns the medians, the number of neighbours and their robust spread (1.4826 x the
    median absolute deviation) for each pixel.
    """
    result = np.empty(rows.size)
    counts = np.empty(rows.size, np.int64)
    spreads = np.empty(rows.size)
    offsets = np.arange(-_RADIUS, _RADIUS + 1)
    ring = np.ones((2 * _RADIUS + 1) ** 2, bool)
    ring[ring.size // 2] = False
    planes = ((rows % 2) * 2 + columns % 2) if cfa else np.zeros(rows.size, np.int64)
    for plane in np.unique(planes):
        select = planes == plane
        view = image[plane // 2 :: 2, plane % 2 :: 2] if cfa else image
        plane_rows = rows[select] // 2 if cfa else rows[select]
        plane_columns = columns[select] // 2 if cfa else columns[select]
        window_rows = (plane_rows[:, None] + offsets[None, :])[:, :, None]
        window_columns = (plane_columns[:, None] + offsets[None, :])[:, None, :]
        inside = (
            (window_rows >= 0)
            & (window_rows < view.shape[0])
            & (window_columns >= 0)
            & (window_columns < view.shape[1])
        )
        values = view[
            np.clip(window_rows, 0, view.shape[0] - 1),
            np.clip(window_columns, 0, view.shape[1] - 1),
        ].astype(np.float64)
        values = values.reshape(values.shape[0], -1)[:, ring]
        inside = inside.reshape(inside.shape[0], -1)[:, ring]
        medians = np.empty(values.shape[0])
        spread = np.empty(values.shape[0])
        full = inside.all(axis=1)
        if full.any():
            medians[full] = np.median(values[full], axis=1)
            spread[full] = np.median(np.abs(values[full] - medians[full, None]), axis=1)
        if (~full).any():
            partial = np.where(inside[~full], values[~full], np.nan)
            with warnings.catch_warnings():  # a pixel without neighbours: NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                medians[~full] = np.nanmedian(partial, axis=1)
                spread[~full] = np.nanmedian(np.abs(partial - medians[~full, None]), axis=1)
        result[select] = medians
        counts[select] = inside.sum(axis=1)
        spreads[select] = 1.4826 * spread
    return result, counts, spreads


def _line_deviations(image: np.ndarray, axis: str, cfa: bool) -> dict[int, np.ndarray]:
    """Per plane: each column (row) mean minus the median of its +-5 neighbours' means."""
    result: dict[int, np.ndarray] = {}
    for plane in range(4 if cfa else 1):
        view = image[plane // 2 :: 2, plane % 2 :: 2] if cfa else image
        if view.size == 0:
            result[plane] = np.zeros(view.shape[1 if axis == "column" else 0])
            continue
        means = view.mean(axis=0 if axis == "column" else 1, dtype=np.float64)
        padded = np.pad(means, _LINE_NEIGHBOURS, constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * _LINE_NEIGHBOURS + 1)
        neighbours = np.delete(windows, _LINE_NEIGHBOURS, axis=1)
        with warnings.catch_warnings():  # a line without neighbours (tiny sensor): NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            result[plane] = means - np.nanmedian(neighbours, axis=1)
    return result


def _segment_truth(
    mean: np.ndarray,
    axis: str,
    index: int,
    start: int,
    end: int,
    cfa: bool,
    width: int,
    flat: np.ndarray,
    values: np.ndarray,
) -> None:
    """Write a partial line's deviation into ``values`` at its pixels (indices ``flat``).

    As :func:`fastdefect.detection.line_segments` defines it on the noise-free dark mean:
    per pixel, the line's value minus the median of its ±5 same-colour neighbour lines
    at the same position; per colour plane, the median of that over the stretch.
    """
    image = mean if axis == "column" else mean.T
    step = 2 if cfa else 1
    for parity in range(step):
        along = np.arange(start + (parity - start) % step, end + 1, step)
        if along.size == 0:
            continue
        low = index - _LINE_NEIGHBOURS * step
        neighbours = np.arange(low, index + _LINE_NEIGHBOURS * step + 1, step)
        neighbours = neighbours[(neighbours >= 0) & (neighbours < image.shape[1])]
        rows = image[along].astype(np.float64)
        deviation = rows[:, index] - np.median(rows[:, neighbours], axis=1)
        pixels = along * width + index if axis == "column" else index * width + along
        values[np.isin(flat, pixels)] = float(np.median(deviation))


def _ambiguous(
    config: SimulationConfig,
    columns: dict[str, np.ndarray],
    injected: np.ndarray,
    use_column: np.ndarray,
    extents: dict[tuple[str, int], int],
    rows: np.ndarray,
    pixel_columns: np.ndarray,
) -> np.ndarray:
    """Pixels too close to a threshold to call: within ``AMBIGUOUS_SIGMAS`` noise sigmas.

    A pixel is ambiguous when its dark deviation, or its bright deviation up or down, is
    within that many of its measured deviation's sigmas of the pixel threshold, or its
    line's deviation within that many of the line's noise of the line threshold. Stuck
    and telegraph pixels are called by injection, never ambiguous by level.
    """
    threshold = config.threshold_dn
    near = np.zeros(rows.size, bool)
    for stack in ("dark", "bright"):
        deviation, sigma = columns[f"{stack}_deviation"], columns[f"{stack}_sigma"]
        for signed in (deviation,) if stack == "dark" else (deviation, -deviation):
            near |= np.abs(signed - threshold) < AMBIGUOUS_SIGMAS * sigma
    near &= ~np.isin(injected, ["stuck_high", "stuck_low"])
    line = columns["line_deviation"]
    length = np.array(
        [
            extents.get(("column", int(c)) if u else ("row", int(r)), 1)
            for r, c, u in zip(
                rows.tolist(), pixel_columns.tolist(), use_column.tolist(), strict=True
            )
        ]
    )
    plane_length = length / (2 if config.cfa is not None else 1)
    line_sigma = (
        config.expected_temporal_std("dark")
        * math.sqrt(math.pi / 2)
        / np.sqrt(config.frames * np.maximum(plane_length, 1))
    )
    with np.errstate(invalid="ignore"):
        near |= np.abs(np.abs(line) - config.line_threshold_dn) < AMBIGUOUS_SIGMAS * line_sigma
    return near


def _ground_truth(
    sensor: SimulatedSensor,
    layout: _Layout,
    kinds: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
) -> tuple[TruthTable, TruthTable]:
    config = sensor.config
    width = config.width
    cfa = config.cfa is not None
    n_frames = config.frames

    # Every injected pixel: the point defects plus every pixel of every line.
    sources = np.repeat(np.array(layout.sources, dtype=object), [r.size for r in layout.rows])
    groups = np.repeat(np.array(layout.groups, np.int64), [r.size for r in layout.rows])
    run_lengths = np.repeat(np.array(layout.run_lengths, np.int64), [r.size for r in layout.rows])
    all_rows, all_columns = [rows], [columns]
    all_sources, all_groups, all_lengths, all_kinds = [sources], [groups], [run_lengths], [kinds]
    for axis, index, source, start, end in zip(
        layout.line_axis,
        layout.line_index,
        layout.line_source,
        layout.line_start,
        layout.line_end,
        strict=True,
    ):
        line = np.arange(start, end + 1)
        n = line.size
        all_rows.append(line if axis == "column" else np.full(n, index))
        all_columns.append(np.full(n, index) if axis == "column" else line)
        all_sources.append(np.full(n, source, dtype=object))
        all_groups.append(np.zeros(n, np.int64))
        all_lengths.append(np.zeros(n, np.int64))
        all_kinds.append(np.full(n, source, dtype=object))
    flat = np.concatenate(all_rows) * width + np.concatenate(all_columns)
    source_of = np.concatenate(all_sources)
    group_of = np.concatenate(all_groups)
    length_of = np.concatenate(all_lengths)
    injected = np.concatenate(all_kinds)
    # Crossing lines meet in one pixel: keep it once, naming both sources.
    order = np.argsort(flat, kind="stable")
    flat, source_of, group_of = flat[order], source_of[order], group_of[order]
    length_of, injected = length_of[order], injected[order]
    unique, first = np.unique(flat, return_index=True)
    if unique.size != flat.size:
        source_of = source_of.copy()
        duplicates = np.flatnonzero(np.diff(flat) == 0)
        for position in duplicates[::-1]:
            source_of[position] = f"{source_of[position]}+{source_of[position + 1]}"
            if injected[position + 1] in ("stuck_high", "stuck_low", "noisy"):
                injected[position] = injected[position + 1]
        flat, source_of, group_of = flat[first], source_of[first], group_of[first]
        length_of, injected = length_of[first], injected[first]
    pixel_rows, pixel_columns = np.divmod(flat, width)
    planes = _plane_of(config, pixel_rows, pixel_columns)

    columns_out: dict[str, np.ndarray] = {
        "row": pixel_rows,
        "column": pixel_columns,
        "plane": planes,
        "source": source_of,
        "group": group_of,
        "run_length": length_of,
    }
    for stack in ("dark", "bright"):
        mean = sensor.expected_mean(stack)
        std = sensor.expected_std(stack)
        background, neighbours, spread = _neighbour_median(mean, pixel_rows, pixel_columns, cfa)
        typical = np.array(
            [config.expected_temporal_std(stack, p) for p in range(4 if cfa else 1)]
        )[planes]
        pixel_mean = mean.flat[flat].astype(np.float64)
        pixel_std = std.flat[flat].astype(np.float64)
        # Noise of the neighbour median of N-frame means: (pi / 2) noise^2 / n for alike
        # neighbours; when their fixed pattern spreads them, only the ~n noise / spread
        # neighbours near the median move it, up to one neighbour's full noise.
        noise = typical / math.sqrt(n_frames)
        spread = np.nan_to_num(spread)
        background_variance = np.minimum(
            noise**2,
            np.pi / 2 * noise * np.sqrt(spread**2 + noise**2) / np.maximum(neighbours, 1),
        )
        columns_out[f"{stack}_mean"] = pixel_mean
        columns_out[f"{stack}_background"] = background
        columns_out[f"{stack}_deviation"] = pixel_mean - background
        columns_out[f"{stack}_std"] = pixel_std
        columns_out[f"{stack}_sigma"] = np.sqrt(pixel_std**2 / n_frames + background_variance)
        if stack == "dark":
            column_dev = _line_deviations(mean, "column", cfa)
            row_dev = _line_deviations(mean, "row", cfa)
            line_columns = {
                i for a, i in zip(layout.line_axis, layout.line_index, strict=True) if a == "column"
            }
            line_rows = {
                i for a, i in zip(layout.line_axis, layout.line_index, strict=True) if a == "row"
            }
            plane_columns = pixel_columns // 2 if cfa else pixel_columns
            plane_rows = pixel_rows // 2 if cfa else pixel_rows
            on_column = np.isin(pixel_columns, list(line_columns))
            on_row = np.isin(pixel_rows, list(line_rows))
            column_values = np.full(flat.size, np.nan)
            row_values = np.full(flat.size, np.nan)
            for plane in np.unique(planes):
                here = planes == plane
                column_values[here] = column_dev[int(plane)][plane_columns[here]]
                row_values[here] = row_dev[int(plane)][plane_rows[here]]
            column_values[~on_column] = np.nan
            row_values[~on_row] = np.nan
            for axis, index, source, start, end in zip(
                layout.line_axis,
                layout.line_index,
                layout.line_source,
                layout.line_start,
                layout.line_end,
                strict=True,
            ):
                if source.startswith("partial_"):
                    values = column_values if axis == "column" else row_values
                    _segment_truth(mean, axis, index, start, end, cfa, width, flat, values)
        del mean, std
    threshold = config.threshold_dn
    line_threshold = config.line_threshold_dn
    dark_dev = columns_out["dark_deviation"]
    bright_dev = columns_out["bright_deviation"]
    with np.errstate(invalid="ignore"):
        bad_column = on_column & (np.abs(column_values) > line_threshold)
        bad_row = on_row & (np.abs(row_values) > line_threshold)
    # A partial line is a segment only when it is long enough (DetectionConfig default).
    extents = {
        (a, i): e - b + 1
        for a, i, b, e in zip(
            layout.line_axis, layout.line_index, layout.line_start, layout.line_end, strict=True
        )
    }
    for (axis, index), length in extents.items():
        if length < _SEGMENT_LENGTH:
            if axis == "column":
                bad_column &= pixel_columns != index
            else:
                bad_row &= pixel_rows != index
    # The line that decides the kind: a bad column, else a bad row, else the faint one.
    use_column = bad_column | (on_column & ~bad_row)
    columns_out["line_deviation"] = np.where(use_column, column_values, row_values)
    kind = np.full(flat.size, "", dtype=object)
    rules = [
        ("stuck_high", injected == "stuck_high"),
        ("stuck_low", injected == "stuck_low"),
        ("hot", dark_dev > threshold),
        ("dark", bright_dev < -threshold),
        ("bright", bright_dev > threshold),
        ("noisy", injected == "noisy"),
        ("column", bad_column),
        ("row", bad_row),
    ]
    for name, mask in reversed(rules):
        kind[mask] = name
    columns_out["kind"] = kind
    is_defect = kind != ""
    columns_out["ambiguous"] = _ambiguous(
        config, columns_out, injected, use_column, extents, pixel_rows, pixel_columns
    ).astype(np.float64)
    # warm.csv: the kind each anomaly would take past its threshold.
    warm_kind = np.where(
        on_column, "column", np.where(on_row, "row", np.where(injected == "warm", "hot", injected))
    )
    columns_out = {name: columns_out[name] for name in TRUTH_COLUMNS}
    for name in _STR_COLUMNS:
        columns_out[name] = columns_out[name].astype(str)
    truth = TruthTable({k: v[is_defect] for k, v in columns_out.items()})
    warm_columns = {k: v[~is_defect] for k, v in columns_out.items()}
    warm_columns["kind"] = warm_kind[~is_defect].astype(str)
    return truth, TruthTable(warm_columns)


# --------------------------------------------------------------------------------------
# frames


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


# --------------------------------------------------------------------------------------
# writing a simulation


@dataclass
class SimulationResult:
    """What :func:`simulate_to_directory` wrote.

    Attributes
    ----------
    directory : Path
    files : dict of str to Path
        ``dark``, ``bright``, ``truth``, ``warm``, ``simulation``.
    config : SimulationConfig
        The resolved configuration (as in ``simulation.json``).
    counts : dict of str to int
        Truth pixels per kind.
    warm_counts : dict of str to int
        ``warm.csv`` pixels per source (warm, faint_column, faint_row, ...).
    """

    directory: Path
    files: dict[str, Path]
    config: SimulationConfig
    counts: dict[str, int]
    warm_counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": {k: str(v) for k, v in self.files.items()},
            "width": self.config.width,
            "height": self.config.height,
            "bit_depth": self.config.bit_depth,
            "cfa": self.config.cfa,
            "frames": self.config.frames,
            "seed": self.config.seed,
            "counts": self.counts,
            "defective_pixels": sum(self.counts.values()),
            "warm_counts": self.warm_counts,
        }


def _warm_counts(warm: TruthTable) -> dict[str, int]:
    """``warm.csv`` pixels per source; a crossing of two faint lines counts for the first."""
    first = np.array([source.split("+")[0] for source in warm["source"].tolist()], dtype=np.str_)
    return TruthTable({"source": first}).counts(by="source") if first.size else {}


def _stack_metadata(config: SimulationConfig, stack: str) -> dict[str, Any]:
    return {
        "stack": stack,
        "exposure_us": config.dark_exposure_us if stack == "dark" else config.bright_exposure_us,
        "temperature_c": config.temperature_c,
        "gain": config.gain_db,
        "cfa": config.cfa,
        "frames": config.frames,
        "seed": config.seed,
        "simulation": config.to_dict(),
    }


def _simulation_record(sensor: SimulatedSensor) -> dict[str, Any]:
    """The content of ``simulation.json``: everything needed to reproduce the data."""
    config = sensor.config
    planes = range(4 if config.cfa else 1)
    names = config.sensor.channel_names
    return {
        "format": "fastdefect-simulation/1",
        "fastdefect_version": __version__,
        "config": config.to_dict(),
        "derived": {
            "full_scale": config.full_scale,
            "gain_dn_per_e": config.gain,
            "threshold_dn": config.threshold_dn,
            "line_threshold_dn": config.line_threshold_dn,
            "dark_current_e_s": config.dark_rate(),
            "dark_level_dn": {names[p]: config.expected_level("dark", p) for p in planes},
            "bright_level_dn": {names[p]: config.expected_level("bright", p) for p in planes},
            "dark_temporal_std_dn": {
                names[p]: config.expected_temporal_std("dark", p) for p in planes
            },
            "bright_temporal_std_dn": {
                names[p]: config.expected_temporal_std("bright", p) for p in planes
            },
        },
        "counts": sensor.truth.counts(),
        "warm_counts": _warm_counts(sensor.warm),
        "lines": sensor.lines,
        "files": {
            "dark": "dark.tif",
            "bright": "bright.tif",
            "truth": "truth.csv",
            "warm": "warm.csv",
        },
        "truth_columns": TRUTH_COLUMNS,
        "model": "see the fastdefect.simulate module documentation",
    }


def simulate_to_directory(
    out_dir: str | os.PathLike,
    config: SimulationConfig | None = None,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Simulate a sensor and write its stacks, truth and parameters into ``out_dir``.

    Writes ``dark.tif`` and ``bright.tif`` (multi-page stacks, uint16, or uint8 at 8 bit),
    ``truth.csv``, ``warm.csv`` and ``simulation.json``. The directory is created if
    needed. Every file is written atomically.

    Parameters
    ----------
    out_dir : path-like
        Output directory.
    config : SimulationConfig, optional
        Default ``SimulationConfig()``.
    overwrite : bool
        Replace existing output files. Without it an existing one is an error, raised
        before anything is written.
    progress : callable, optional
        Called as ``progress(frames_done, frames_total)`` over both stacks.

    Returns
    -------
    SimulationResult

    Raises
    ------
    InputError
        ``out_dir`` is a file, an output exists (without ``overwrite``), or the
        configuration cannot be simulated. Nothing is written then.
    """
    config = (config or SimulationConfig()).resolved()
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    paths = {
        key: directory / name
        for key, name in zip(
            ("dark", "bright", "truth", "warm", "simulation"), OUTPUT_FILES, strict=True
        )
    }
    if directory.is_dir():
        for path in paths.values():
            check_output_path(path, overwrite=overwrite)
    sensor = build_sensor(config)  # may refuse the configuration: before any output
    directory.mkdir(parents=True, exist_ok=True)
    total = 2 * config.frames

    def stack_progress(offset: int) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, total)

    for number, stack in enumerate(("dark", "bright")):
        source = dark_frames(sensor) if stack == "dark" else bright_frames(sensor)
        _write_stack(
            paths[stack],
            source,
            config,
            stack,
            overwrite=overwrite,
            progress=stack_progress(number * config.frames),
        )
    truth, warm, record = sensor.truth, sensor.warm, _simulation_record(sensor)
    del sensor, source  # the frame-size maps are not needed any more
    truth.write_csv(paths["truth"], overwrite=overwrite)
    warm.write_csv(paths["warm"], overwrite=overwrite)
    with atomic_output(paths["simulation"], overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return SimulationResult(
        directory=directory,
        files=paths,
        config=config,
        counts=truth.counts(),
        warm_counts=_warm_counts(warm),
    )


def series_dark_name(exposure_us: float) -> str:
    """File name of one dark stack of a series: ``dark_100ms.tif``, ``dark_250us.tif``."""
    if exposure_us >= 1000 and float(exposure_us / 1000).is_integer():
        return f"dark_{exposure_us / 1000:g}ms.tif"
    return f"dark_{exposure_us:g}us.tif"


def simulate_series_to_directory(
    out_dir: str | os.PathLike,
    configs: Sequence[SimulationConfig],
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Simulate one sensor at several dark exposures (:func:`realistic_preset`) into ``out_dir``.

    Writes one dark stack per configuration, ``dark_<exposure>.tif`` (e.g.
    ``dark_100ms.tif``; its exposure is in the stack's metadata, so ``fastdefect detect``
    fits each pixel's dark-current slope without ``--dark-exposure``), then the last
    configuration's ``bright.tif``, ``truth.csv``, ``warm.csv`` and ``simulation.json``
    (its ``"series"`` lists the dark stacks with their exposure and noise stream). The
    truth is the last configuration's: with :func:`realistic_preset`, the longest
    exposure, at which hot pixels were designed.

    Parameters
    ----------
    out_dir : path-like
        Output directory (created if needed).
    configs : sequence of SimulationConfig
        The same sensor at different dark exposures: the configurations may differ only
        in ``dark_exposure_us`` and ``noise_stream``, and the exposures must differ.
    overwrite : bool
        Replace existing output files (without it, an existing one is an error raised
        before anything is written).
    progress : callable, optional
        ``progress(frames_done, frames_total)`` over all the stacks.

    Returns
    -------
    SimulationResult
        ``files`` holds one entry per dark stack (keyed by its file stem, e.g.
        ``dark_100ms``), then ``bright``, ``truth``, ``warm`` and ``simulation``.
    """
    configs = [c.resolved() for c in configs]
    if not configs:
        raise InputError("give at least one simulation configuration")
    varying = ("dark_exposure_us", "noise_stream")

    def sensor_part(config: SimulationConfig) -> dict[str, Any]:
        return {k: v for k, v in config.to_dict().items() if k not in varying}

    if any(sensor_part(c) != sensor_part(configs[0]) for c in configs[1:]):
        raise InputError(
            "a series is one sensor: its configurations may differ only in dark_exposure_us "
            "and noise_stream"
        )
    names = [series_dark_name(c.dark_exposure_us) for c in configs]
    if len(set(names)) != len(names):
        raise InputError(f"the dark exposures of a series must differ: {names}")
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    paths = {name.removesuffix(".tif"): directory / name for name in names}
    rest = ("bright", "truth", "warm", "simulation")
    paths.update({key: directory / name for key, name in zip(rest, OUTPUT_FILES[1:], strict=True)})
    if directory.is_dir():
        for path in paths.values():
            check_output_path(path, overwrite=overwrite)
    sensor = build_sensor(configs[-1])  # may refuse the configuration: before any output
    directory.mkdir(parents=True, exist_ok=True)
    frames = configs[-1].frames
    total = (len(configs) + 1) * frames

    def stack_progress(offset: int) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, total)

    for number, (config, name) in enumerate(zip(configs, names, strict=True)):
        # One sensor's frame-size maps at a time; the last one is kept for the rest.
        here = sensor if number == len(configs) - 1 else build_sensor(config)
        _write_stack(
            paths[name.removesuffix(".tif")],
            dark_frames(here),
            config,
            "dark",
            overwrite=overwrite,
            progress=stack_progress(number * frames),
        )
        del here
    _write_stack(
        paths["bright"],
        bright_frames(sensor),
        configs[-1],
        "bright",
        overwrite=overwrite,
        progress=stack_progress(len(configs) * frames),
    )
    truth, warm, record = sensor.truth, sensor.warm, _simulation_record(sensor)
    del sensor
    record["files"]["dark"] = names
    record["series"] = [
        {"file": name, "exposure_us": c.dark_exposure_us, "noise_stream": c.noise_stream}
        for name, c in zip(names, configs, strict=True)
    ]
    truth.write_csv(paths["truth"], overwrite=overwrite)
    warm.write_csv(paths["warm"], overwrite=overwrite)
    with atomic_output(paths["simulation"], overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return SimulationResult(
        directory=directory,
        files=paths,
        config=configs[-1],
        counts=truth.counts(),
        warm_counts=_warm_counts(warm),
    )


def _write_stack(
    path: Path,
    frames: Iterator[np.ndarray] | Sequence[np.ndarray],
    config: SimulationConfig,
    stack: str,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
) -> Path:
    """Write simulated frames as a stack with the simulation's metadata."""
    from .frames import write_stack

    return write_stack(
        path,
        frames,
        bit_depth=config.bit_depth,
        metadata=_stack_metadata(config, stack),
        overwrite=overwrite,
        progress=progress,
        n_frames=config.frames,
        timestamp=False,  # same seed, same bytes
    )


# -- building a configuration from a saved one, a preset and overrides --------------------


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
    from .sensor import sensor_preset

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
