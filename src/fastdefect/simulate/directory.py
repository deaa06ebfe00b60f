"""Writing a simulation to a directory.

:func:`simulate_to_directory` writes the dark and bright stacks, ``truth.csv``,
``warm.csv`` and ``simulation.json`` (:data:`OUTPUT_FILES`);
:func:`simulate_series_to_directory` writes one sensor at several dark exposures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import InputError
from ..outputs import atomic_output, check_output_path
from .config import SimulationConfig
from .render import ProgressCallback, bright_frames, dark_frames
from .sensor import SimulatedSensor, build_sensor
from .truth import TRUTH_COLUMNS, TruthTable

#: Files written by :func:`simulate_to_directory`.
OUTPUT_FILES = ("dark.tif", "bright.tif", "truth.csv", "warm.csv", "simulation.json")


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
    return _finish(directory, paths, config, truth, warm, record, overwrite)


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
    return _finish(directory, paths, configs[-1], truth, warm, record, overwrite)


def _finish(
    directory: Path,
    paths: dict[str, Path],
    config: SimulationConfig,
    truth: TruthTable,
    warm: TruthTable,
    record: dict[str, Any],
    overwrite: bool,
) -> SimulationResult:
    """Write the truth, the warm list and ``simulation.json`` after the stacks."""
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
    from ..frames import write_stack

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
