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

Modules
-------
One topic per module; everything public is re-exported here, so
``from fastdefect.simulate import X`` is the way to import it:

* :mod:`~fastdefect.simulate.config`: :class:`SimulationConfig`, :func:`simulation_config`
* :mod:`~fastdefect.simulate.population`: defect counts and the placement layout
* :mod:`~fastdefect.simulate.sensor`: :func:`build_sensor`, :class:`SimulatedSensor`,
  :func:`realistic_preset`
* :mod:`~fastdefect.simulate.truth`: classification, :class:`TruthTable`, :func:`read_truth`
* :mod:`~fastdefect.simulate.render`: :func:`dark_frames`, :func:`bright_frames`
* :mod:`~fastdefect.simulate.directory`: :func:`simulate_to_directory`,
  :func:`simulate_series_to_directory`
"""

from __future__ import annotations

from .config import SimulationConfig, simulation_config
from .directory import (
    OUTPUT_FILES,
    SimulationResult,
    simulate_series_to_directory,
    simulate_to_directory,
)
from .population import default_population
from .render import bright_frames, dark_frames
from .sensor import SimulatedSensor, build_sensor, realistic_preset
from .truth import AMBIGUOUS_SIGMAS, KINDS, TRUTH_COLUMNS, TruthTable, read_truth

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
