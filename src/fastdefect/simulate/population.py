"""Where the defects go.

:func:`default_population` scales the defect counts with the sensor's area; the layout
places point defects, runs and clusters on a jittered grid and lines in lanes of their own,
so that every 7 x 7 neighbourhood stays clean (see *Isolation* in :mod:`fastdefect.simulate`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..sensor import parse_cfa

if TYPE_CHECKING:
    from .config import SimulationConfig


# Run kinds, cycled over the runs.
_RUN_KINDS = ("hot", "hot", "dark", "stuck_high", "bright")


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

    def lines(self) -> Iterator[tuple[str, int, float, str, int, int]]:
        """Every line as ``(axis, index, offset, source, start, end)``."""
        return zip(
            self.line_axis,
            self.line_index,
            self.line_offset,
            self.line_source,
            self.line_start,
            self.line_end,
            strict=True,
        )

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
