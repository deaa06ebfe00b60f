"""Ground truth: every injected pixel classified from its expected evidence.

The classification follows the domain order (see *Truth* in :mod:`fastdefect.simulate`);
the result is a :class:`TruthTable`, written as ``truth.csv`` / ``warm.csv`` and read back
with :func:`read_truth`. :data:`TRUTH_COLUMNS` says what each column means.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FileFormatError, InputError
from ..outputs import atomic_output
from .config import SimulationConfig, _plane_of
from .population import _Layout

if TYPE_CHECKING:
    from .sensor import SimulatedSensor


#: Defect kinds in classification order (a pixel fitting several takes the first).
KINDS = ("stuck_high", "stuck_low", "hot", "dark", "bright", "noisy", "column", "row")

#: ``source`` of the sub-threshold anomalies injected on purpose (``warm.csv``).
WARM_SOURCES = ("warm", "faint_column", "faint_row")

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
# The neighbourhood of the domain's definition: 7 x 7 without the centre.
_RADIUS = 3
_LINE_NEIGHBOURS = 5
# Partial lines shorter than this are not segments (DetectionConfig.segment_length).
_SEGMENT_LENGTH = 32
#: Truth pixels within this many noise sigmas of a threshold are too close to call.
AMBIGUOUS_SIGMAS = 5.0


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
    for axis, index, _, source, start, end in layout.lines():
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
            for axis, index, _, source, start, end in layout.lines():
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
    extents = {(a, i): e - b + 1 for a, i, _, _, b, e in layout.lines()}
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
