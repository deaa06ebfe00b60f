"""Sensor ageing: the same simulated sensor, years later.

:func:`age_directory` reads a directory written by ``fastdefect simulate`` (its
``simulation.json``), rebuilds the very same sensor with
:func:`fastdefect.simulate.build_sensor`, and ages it:

* **new defects** appear at ``rate`` per megapixel per year (Poisson-distributed count),
  like the hot pixels cosmic-ray neutrons leave in a sensor over its life: each one is a
  nominal pixel with extra dark current giving a dark deviation of 2 to 3 times the
  threshold at the simulation's operating point;
* a **few heal**: each isolated hot pixel (not in a run, a cluster or on a line) goes
  back to normal with probability ``heal_rate`` per year (annealing);
* everything else stays as it was: the same defects, fixed pattern and operating point.
  The frames get fresh temporal noise (the noise seed moves on), as a later recording
  would.

The new defects are placed as the simulator places its own: at least 4 pixels (7 on a
Bayer sensor) from every other injected pixel, every warm pixel and the sensor border,
and 6 (12) rows/columns from every line, so each one's 7 x 7 neighbourhood holds only
normal pixels and its truth is exact.

It writes a complete simulation directory (``dark.tif``, ``bright.tif``, ``truth.csv``,
``warm.csv``, ``simulation.json``) plus ``changes.csv``: ``row,column,kind,change`` with
``change`` ``new`` or ``healed``. In ``truth.csv`` the new defects have the source
``aged_hot``. ``simulation.json`` keeps the original configuration and the list of ageing
steps, so an aged directory can be aged again.
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

from .. import __version__
from ..errors import FileFormatError, InputError
from ..frames import ProgressCallback, write_stack
from ..outputs import atomic_output, check_output_path
from ..simulate import (
    OUTPUT_FILES,
    TRUTH_COLUMNS,
    SimulatedSensor,
    SimulationConfig,
    TruthTable,
    bright_frames,
    build_sensor,
    dark_frames,
    read_truth,
)

__all__ = ["AgeingResult", "AgeingStep", "age_directory", "age_sensor"]

#: New hot pixels per megapixel per year by default: the order of what ground-level
#: sensors collect (a few to ten per megapixel-year; higher in aircraft).
DEFAULT_RATE = 5.0
#: Probability per year that an isolated hot pixel heals (anneals) by default.
DEFAULT_HEAL_RATE = 0.02
CHANGES_FILE = "changes.csv"
_STRENGTH = (2.0, 3.0)  # new defects' dark deviation, in thresholds


@dataclass(frozen=True)
class AgeingStep:
    """One ageing of a sensor: how long, how fast, with which random stream."""

    years: float
    rate: float = DEFAULT_RATE
    heal_rate: float = DEFAULT_HEAL_RATE
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("years", "rate", "heal_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"ageing {name} must be a number >= 0, got {value!r}")
        if self.heal_rate > 1:
            raise InputError(f"heal rate is a probability per year (0..1), got {self.heal_rate}")


@dataclass
class AgeingResult:
    """What :func:`age_directory` wrote: the paths, the new and the healed defects."""

    directory: Path
    files: dict[str, Path]
    new: TruthTable
    healed: TruthTable
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": {k: str(v) for k, v in self.files.items()},
            "new": len(self.new),
            "healed": len(self.healed),
            "counts": self.counts,
        }


def _isolation(sensor: SimulatedSensor) -> tuple[int, int]:
    """(pixel distance, line distance) that keep a neighbourhood clean."""
    return (7, 12) if sensor.config.cfa else (4, 6)


def _free_mask(sensor: SimulatedSensor) -> np.ndarray:
    """Pixels where a new defect would have only normal pixels within its neighbourhood."""
    height, width = sensor.shape
    distance, line_distance = _isolation(sensor)
    taken = np.zeros((height, width), bool)
    for table in (sensor.truth, sensor.warm):
        taken[table["row"], table["column"]] = True
    # Dilate the injected pixels by `distance - 1` (a square): row then column sweeps.
    blocked = taken.copy()
    for shift in range(1, distance):
        blocked[shift:, :] |= taken[:-shift, :]
        blocked[:-shift, :] |= taken[shift:, :]
    taken = blocked.copy()
    for shift in range(1, distance):
        blocked[:, shift:] |= taken[:, :-shift]
        blocked[:, :-shift] |= taken[:, shift:]
    for line in sensor.lines:
        low, high = max(0, line["index"] - line_distance + 1), line["index"] + line_distance
        if line["axis"] == "column":
            blocked[:, low:high] = True
        else:
            blocked[low:high, :] = True
    margin = distance
    blocked[:margin, :] = blocked[-margin:, :] = True
    blocked[:, :margin] = blocked[:, -margin:] = True
    return ~blocked


def _neighbour_background(image: np.ndarray, row: int, column: int, step: int) -> float:
    """Median of the 7 x 7 same-plane neighbours (centre out, outside left out)."""
    rows = row + step * np.arange(-3, 4)
    columns = column + step * np.arange(-3, 4)
    rows = rows[(rows >= 0) & (rows < image.shape[0])]
    columns = columns[(columns >= 0) & (columns < image.shape[1])]
    block = image[np.ix_(rows, columns)].astype(np.float64)
    centre = (rows == row)[:, None] & (columns == column)[None, :]
    return float(np.median(block[~centre]))


def _truth_rows(sensor: SimulatedSensor, rows: np.ndarray, columns: np.ndarray) -> TruthTable:
    """Truth rows of new hot pixels: expected means, backgrounds, deviations, noise."""
    config = sensor.config
    step = 2 if config.cfa else 1
    n = rows.size
    planes = (rows % 2) * 2 + columns % 2 if config.cfa else np.zeros(n, np.int64)
    table: dict[str, np.ndarray] = {
        "row": rows.astype(np.int64),
        "column": columns.astype(np.int64),
        "kind": np.full(n, "hot", dtype=object),
        "source": np.full(n, "aged_hot", dtype=object),
        "plane": planes.astype(np.int64),
        "group": np.zeros(n, np.int64),
        "run_length": np.zeros(n, np.int64),
        "line_deviation": np.full(n, np.nan),
    }
    for stack in ("dark", "bright"):
        mean = sensor.expected_mean(stack)
        std = sensor.expected_std(stack)
        pixel_mean = mean[rows, columns].astype(np.float64)
        background = np.array(
            [_neighbour_background(mean, r, c, step) for r, c in zip(rows, columns, strict=True)]
        )
        pixel_std = std[rows, columns].astype(np.float64)
        typical = np.array([config.expected_temporal_std(stack, int(p)) for p in planes])
        table[f"{stack}_mean"] = pixel_mean
        table[f"{stack}_background"] = background
        table[f"{stack}_deviation"] = pixel_mean - background
        table[f"{stack}_std"] = pixel_std
        # The pixel's own noise plus that of a median of 48 alike neighbours.
        table[f"{stack}_sigma"] = np.sqrt(
            (pixel_std**2 + np.pi / 2 * typical**2 / 48) / config.frames
        )
    # Too close to the threshold to call (the truth's "ambiguous" rule for a hot pixel).
    near = np.abs(table["dark_deviation"] - config.threshold_dn) < 5 * table["dark_sigma"]
    table["ambiguous"] = near.astype(np.float64)
    for name in ("kind", "source"):
        table[name] = table[name].astype(str)
    return TruthTable({name: table[name] for name in TRUTH_COLUMNS})


def _concatenate(a: TruthTable, b: TruthTable) -> TruthTable:
    columns = {name: np.concatenate([a[name], b[name]]) for name in TRUTH_COLUMNS}
    order = np.lexsort((columns["column"], columns["row"]))
    return TruthTable({name: values[order] for name, values in columns.items()})


def age_sensor(
    sensor: SimulatedSensor, step: AgeingStep
) -> tuple[SimulatedSensor, TruthTable, TruthTable]:
    """Age ``sensor`` in place by one step; return it with the new and healed truth rows.

    The sensor's ``truth`` becomes the aged truth (healed rows removed, new rows added)
    and its configuration's seed moves on, so frames drawn later get fresh noise.
    """
    config = sensor.config
    height, width = sensor.shape
    rng = np.random.default_rng([config.seed, step.seed, 0xA6E])
    truth = sensor.truth

    # Healing: isolated hot pixels go back to a nominal pixel's dark current.
    isolated = (
        (truth["kind"] == "hot")
        & (truth["group"] == 0)
        & np.char.startswith(truth["source"].astype(str), "hot_")
    )
    heal_probability = 1.0 - (1.0 - step.heal_rate) ** step.years
    heals = isolated & (rng.random(len(truth)) < heal_probability)
    healed = truth.select(heals)
    nominal_rate = np.float32(config.dark_rate())
    sensor.dark_rate[healed["row"], healed["column"]] = nominal_rate

    # New hot pixels, isolated from everything injected and from each other.
    megapixels = height * width / 1e6
    wanted = int(rng.poisson(step.rate * megapixels * step.years))
    free = _free_mask(sensor)
    distance, _ = _isolation(sensor)
    chosen_rows: list[int] = []
    chosen_columns: list[int] = []
    candidates = np.flatnonzero(free.ravel())
    rng.shuffle(candidates)
    for flat in candidates:
        if len(chosen_rows) == wanted:
            break
        r, c = divmod(int(flat), width)
        if not free[r, c]:
            continue
        chosen_rows.append(r)
        chosen_columns.append(c)
        top, left = max(0, r - distance + 1), max(0, c - distance + 1)
        free[top : r + distance, left : c + distance] = False
    if len(chosen_rows) < wanted:
        raise InputError(
            f"no room for {wanted} new defects on a {width} x {height} sensor with the "
            "isolation detection needs; lower the rate or the years"
        )
    rows = np.asarray(chosen_rows, np.int64)
    columns = np.asarray(chosen_columns, np.int64)
    strength = rng.uniform(*_STRENGTH, size=rows.size) * config.threshold_dn
    # A nominal pixel (no fixed pattern of its own) plus the extra dark current.
    sensor.offset_dn[rows, columns] = np.float32(config.black_level_dn)
    planes = (rows % 2) * 2 + columns % 2 if config.cfa else np.zeros(rows.size, np.int64)
    photo = np.asarray(config.channel_photo_electrons(), np.float32)
    sensor.photo_e[rows, columns] = photo[planes]
    extra = strength / (config.gain * config.exposure_s("dark"))
    sensor.dark_rate[rows, columns] = nominal_rate + extra.astype(np.float32)
    new = _truth_rows(sensor, rows, columns)
    kept = truth.select(~heals)
    sensor.truth = _concatenate(kept, new)
    sensor.config = dataclasses.replace(config, seed=config.seed + 1 + step.seed)
    return sensor, new, healed


def _read_record(directory: Path) -> dict[str, Any]:
    path = directory / "simulation.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read ({exc.strerror}); --aged-from takes a directory written "
            "by fastdefect simulate"
        ) from exc
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from exc
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise FileFormatError(path, 'no simulation configuration ("config") in it')
    return record


def _rebuild(directory: Path, record: dict[str, Any]) -> tuple[SimulatedSensor, list[AgeingStep]]:
    """The sensor ``directory`` holds: the original build plus its ageing steps."""
    config = SimulationConfig.from_dict(record["config"])
    sensor = build_sensor(config)
    steps = [AgeingStep(**step) for step in record.get("ageing", [])]
    for step in steps:
        age_sensor(sensor, step)
    stored = read_truth(directory / "truth.csv")
    if not (
        np.array_equal(stored["row"], sensor.truth["row"])
        and np.array_equal(stored["column"], sensor.truth["column"])
    ):
        raise InputError(
            f"{directory}: rebuilding the sensor from simulation.json does not give its "
            "truth.csv (made by another fastdefect version?); simulate it again first"
        )
    return sensor, steps


def _write_changes(path: Path, new: TruthTable, healed: TruthTable, overwrite: bool) -> Path:
    lines = ["row,column,kind,change"]
    entries = [(int(r), int(c), str(k), "new") for r, c, k in
               zip(new["row"], new["column"], new["kind"], strict=True)]  # fmt: skip
    entries += [(int(r), int(c), str(k), "healed") for r, c, k in
                zip(healed["row"], healed["column"], healed["kind"], strict=True)]  # fmt: skip
    lines += [f"{r},{c},{k},{change}" for r, c, k, change in sorted(entries)]
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return path


def age_directory(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    step: AgeingStep,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
) -> AgeingResult:
    """Write the sensor of simulation directory ``source`` aged by ``step`` into ``out_dir``.

    Raises
    ------
    InputError
        ``source`` is not a simulation directory of this fastdefect, ``out_dir`` is the
        same directory (inputs are never overwritten), an output exists without
        ``overwrite``, or the new defects do not fit.
    """
    source = Path(source)
    directory = Path(out_dir)
    if directory.exists() and source.exists() and directory.resolve() == source.resolve():
        raise InputError(f"{directory}: write the aged sensor to another directory")
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    names = (*OUTPUT_FILES, CHANGES_FILE)
    keys = ("dark", "bright", "truth", "warm", "simulation", "changes")
    paths = {key: directory / name for key, name in zip(keys, names, strict=True)}
    if directory.is_dir():
        for path in paths.values():
            check_output_path(path, overwrite=overwrite)
    record = _read_record(source)
    sensor, steps = _rebuild(source, record)
    sensor, new, healed = age_sensor(sensor, step)
    directory.mkdir(parents=True, exist_ok=True)
    config = sensor.config
    frames = config.frames
    for number, stack in enumerate(("dark", "bright")):
        source_frames = dark_frames(sensor) if stack == "dark" else bright_frames(sensor)
        offset = number * frames

        def stack_progress(done: int, _total: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, 2 * frames)

        write_stack(
            paths[stack],
            source_frames,
            bit_depth=config.bit_depth,
            metadata={
                "stack": stack,
                "exposure_us": config.dark_exposure_us
                if stack == "dark"
                else config.bright_exposure_us,
                "temperature_c": config.temperature_c,
                "gain": config.gain_db,
                "cfa": config.cfa,
                "frames": frames,
                "aged_years": sum(s.years for s in steps) + step.years,
            },
            overwrite=overwrite,
            progress=stack_progress,
            n_frames=frames,
            timestamp=False,
        )
    sensor.truth.write_csv(paths["truth"], overwrite=overwrite)
    sensor.warm.write_csv(paths["warm"], overwrite=overwrite)
    _write_changes(paths["changes"], new, healed, overwrite)
    aged = dict(record)
    aged["fastdefect_version"] = __version__
    aged["ageing"] = [dataclasses.asdict(s) for s in (*steps, step)]
    aged["counts"] = sensor.truth.counts()
    aged["files"] = {**record.get("files", {}), "changes": CHANGES_FILE}
    with atomic_output(paths["simulation"], overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(aged, indent=2) + "\n", encoding="utf-8")
    return AgeingResult(
        directory=directory,
        files=paths,
        new=new,
        healed=healed,
        counts=sensor.truth.counts(),
    )
