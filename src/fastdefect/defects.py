"""Defect lists: the numpy-backed model every other part exchanges.

A :class:`DefectList` holds parallel arrays, one element per entry:

``rows``, ``columns``
    0-based pixel coordinates (``int32``, 0..65535), row = y.
``kinds``
    small integer codes into :data:`KINDS` (``uint8``); ``unknown`` for lists that
    carry no kind (the vendor CSV, a mask image).
``sources``
    small integer codes (``uint16``) into the list's own ``source_names`` table:
    ``factory``, ``user``, ``detected`` or a file name.
``evidence``
    a dict of ``float64`` arrays keyed by measurement name (``dark_mean``,
    ``bright_deviation``, ...), NaN where an entry has no such measurement.

The arrays are read-only; every operation returns a new list. Nothing loops over
entries in Python except the display helpers (:meth:`DefectList.to_records`,
iteration), so lists of 100,000 entries and more stay fast.

Line defects (kinds ``column`` and ``row``) are stored as one entry per pixel of the
line, which is what a camera's correction has to deal with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError

__all__ = [
    "KINDS",
    "MAX_COORDINATE",
    "SOURCE_PRECEDENCE",
    "DefectList",
    "DefectRecord",
    "DefectStats",
    "ListDiff",
    "Runs",
    "cluster_labels",
    "diff_lists",
    "horizontal_runs",
    "merge_lists",
    "neighbourhood_counts",
    "run_lengths",
]

#: The kind vocabulary, strongest first: a pixel that fits several kinds takes the
#: first. ``unknown`` (no kind recorded) is the weakest.
KINDS: tuple[str, ...] = (
    "stuck_high",
    "stuck_low",
    "hot",
    "dark",
    "bright",
    "noisy",
    "column",
    "row",
    "unknown",
)
_KIND_CODE = {name: code for code, name in enumerate(KINDS)}
UNKNOWN_KIND = _KIND_CODE["unknown"]

#: Sources that win, in this order, when two entries at one pixel are otherwise equally
#: rich; any other source (a file name) comes after these, alphabetically.
SOURCE_PRECEDENCE: tuple[str, ...] = ("factory", "user", "detected")

#: Largest coordinate a list may hold: sensors have at most 65536 pixels per side.
MAX_COORDINATE = 65535


class DefectRecord(NamedTuple):
    """One entry as plain Python values, for display and scripts."""

    row: int
    column: int
    kind: str
    source: str
    evidence: dict[str, float]


def _as_index_array(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InputError(f"{what} must be a 1-D sequence, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int32)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            bad = int(np.flatnonzero(~np.isfinite(array) | (array != np.round(array)))[0])
            raise InputError(f"{what} must be integers; entry {bad} is {float(array[bad])!r}")
    elif array.dtype.kind not in "iub":
        raise InputError(f"{what} must be integers, got {array.dtype}")
    wide = array.astype(np.int64)
    outside = (wide < 0) | (wide > MAX_COORDINATE)
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise InputError(f"{what} must be in 0..{MAX_COORDINATE}; entry {bad} is {int(wide[bad])}")
    return wide.astype(np.int32)


def _kind_codes(kinds: Any, n: int) -> np.ndarray:
    if kinds is None:
        return np.full(n, UNKNOWN_KIND, dtype=np.uint8)
    if isinstance(kinds, str):
        if kinds not in _KIND_CODE:
            raise InputError(f"unknown defect kind {kinds!r}; known: {', '.join(KINDS)}")
        return np.full(n, _KIND_CODE[kinds], dtype=np.uint8)
    array = np.asarray(kinds)
    if array.shape != (n,):
        raise InputError(f"kinds has {array.size} values for {n} entries")
    if array.dtype.kind in "iu":
        if n and (array.min() < 0 or array.max() >= len(KINDS)):
            raise InputError(f"kind codes must be in 0..{len(KINDS) - 1}")
        return array.astype(np.uint8)
    names, inverse = np.unique(array.astype(str), return_inverse=True)
    lookup = np.empty(len(names), dtype=np.uint8)
    for index, name in enumerate(names.tolist()):
        if name not in _KIND_CODE:
            raise InputError(f"unknown defect kind {name!r}; known: {', '.join(KINDS)}")
        lookup[index] = _KIND_CODE[name]
    return lookup[inverse.reshape(-1)] if n else np.zeros(0, dtype=np.uint8)


def _check_source_name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(ch in name for ch in "\r\n"):
        raise InputError(f"a source must be a non-empty one-line string, got {name!r}")
    return name


def _source_codes(
    source: Any, n: int, source_names: Sequence[str] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    if source_names is not None:
        names = tuple(_check_source_name(s) for s in source_names)
        if len(set(names)) != len(names):
            raise InputError(f"source_names repeats a name: {names}")
        codes = np.asarray(source)
        if codes.shape != (n,) or (codes.dtype.kind not in "iu" and n):
            raise InputError("with source_names, source must be an integer code per entry")
        if n and (codes.min() < 0 or codes.max() >= len(names)):
            raise InputError(f"source codes must be in 0..{len(names) - 1}")
        return codes.astype(np.uint16), names
    if isinstance(source, str):
        return np.zeros(n, dtype=np.uint16), (_check_source_name(source),)
    array = np.asarray(source)
    if array.shape != (n,):
        raise InputError(f"source has {array.size} values for {n} entries")
    names_array, inverse = np.unique(array.astype(str), return_inverse=True)
    names = tuple(_check_source_name(s) for s in names_array.tolist())
    if len(names) > np.iinfo(np.uint16).max:
        raise InputError("a list can hold at most 65535 distinct sources")
    return inverse.reshape(-1).astype(np.uint16), names


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class DefectList:
    """A list of defective pixels with kind, source and measured evidence.

    Parameters
    ----------
    rows, columns : array-like of int
        0-based coordinates, each in 0..65535.
    kinds : str, array-like of str or of int codes, optional
        One kind for all entries, or one per entry (names from :data:`KINDS` or their
        codes). Default ``unknown``.
    source : str or array-like of str, optional
        Where the entries come from: ``factory``, ``user``, ``detected`` or a file name;
        one for all entries or one per entry. Default ``user``. With ``source_names``
        given, ``source`` is an integer code per entry into that table.
    evidence : mapping of str to array-like of float, optional
        Measurements per entry; NaN where absent.
    metadata : mapping, optional
        JSON-able facts about the whole list (operating point, sensor, software).
        Carried by the rich CSV and JSON formats; not part of equality.
    source_names : sequence of str, optional
        The table ``source`` codes index into.

    Examples
    --------
    >>> defects = DefectList([10, 10, 3], [5, 6, 7], kinds="hot", source="detected",
    ...                      evidence={"dark_mean": [880.0, 912.5, float("nan")]})
    >>> len(defects), defects.sorted().to_records()[0].row
    (3, 3)
    """

    __slots__ = (
        "_columns",
        "_evidence",
        "_kinds",
        "_rows",
        "_source_names",
        "_sources",
        "metadata",
    )

    def __init__(
        self,
        rows: Any = (),
        columns: Any = (),
        *,
        kinds: Any = None,
        source: Any = "user",
        evidence: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source_names: Sequence[str] | None = None,
    ) -> None:
        rows_array = _as_index_array(rows, "rows")
        columns_array = _as_index_array(columns, "columns")
        n = rows_array.size
        if columns_array.size != n:
            raise InputError(f"{n} rows but {columns_array.size} columns")
        kind_codes = _kind_codes(kinds, n)
        source_codes, names = _source_codes(source, n, source_names)
        evidence_arrays: dict[str, np.ndarray] = {}
        for name, values in (evidence or {}).items():
            if (
                not isinstance(name, str)
                or not name
                or any(c in name for c in ',\r\n"')
                or (name in ("row", "column", "kind", "source"))
            ):
                raise InputError(f"bad evidence name {name!r}")
            array = np.asarray(values, dtype=np.float64)
            if array.ndim == 0:
                array = np.full(n, float(array))
            if array.shape != (n,):
                raise InputError(f"evidence {name!r} has {array.size} values for {n} entries")
            evidence_arrays[name] = _readonly(array.copy())
        self._rows = _readonly(rows_array)
        self._columns = _readonly(columns_array)
        self._kinds = _readonly(kind_codes)
        self._sources = _readonly(source_codes)
        self._source_names = names
        self._evidence = evidence_arrays
        self.metadata: dict[str, Any] = dict(metadata or {})

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        rows: Any,
        columns: Any,
        *,
        kinds: Any = None,
        source: Any = "detected",
        evidence: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DefectList:
        """Build a list from parallel arrays (what detection produces); source ``detected``."""
        return cls(rows, columns, kinds=kinds, source=source, evidence=evidence, metadata=metadata)

    @classmethod
    def empty(cls, *, source: str = "user", evidence_names: Iterable[str] = ()) -> DefectList:
        """An empty list (optionally with evidence columns)."""
        return cls([], [], source=source, evidence={name: [] for name in evidence_names})

    @classmethod
    def from_mask(cls, mask: Any, *, source: str = "user", kind: str = "unknown") -> DefectList:
        """The nonzero pixels of a 2-D array, in row-major order."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise InputError(f"a mask must be 2-D, got shape {mask.shape}")
        rows, columns = np.nonzero(mask)
        return cls(rows, columns, kinds=kind, source=source)

    @classmethod
    def concatenate(cls, lists: Sequence[DefectList]) -> DefectList:
        """All entries of ``lists`` in order (no sorting, no dedupe)."""
        lists = list(lists)
        if not lists:
            return cls()
        names: list[str] = []
        for item in lists:
            names.extend(n for n in item._source_names if n not in names)
        index = {name: code for code, name in enumerate(names)}
        evidence_names: list[str] = []
        for item in lists:
            evidence_names.extend(n for n in item._evidence if n not in evidence_names)
        codes = [
            np.asarray([index[n] for n in item._source_names], dtype=np.uint16)[item._sources]
            if len(item)
            else np.zeros(0, dtype=np.uint16)
            for item in lists
        ]
        evidence = {
            name: np.concatenate(
                [item._evidence.get(name, np.full(len(item), np.nan)) for item in lists]
            )
            for name in evidence_names
        }
        metadata = lists[0].metadata if len(lists) == 1 else {}
        return cls(
            np.concatenate([item._rows for item in lists]),
            np.concatenate([item._columns for item in lists]),
            kinds=np.concatenate([item._kinds for item in lists]),
            source=np.concatenate(codes) if codes else np.zeros(0, np.uint16),
            source_names=names or ["user"],
            evidence=evidence,
            metadata=metadata,
        )

    # -- access ---------------------------------------------------------------------------

    @property
    def rows(self) -> np.ndarray:
        """Row of each entry (``int32``, read-only)."""
        return self._rows

    @property
    def columns(self) -> np.ndarray:
        """Column of each entry (``int32``, read-only)."""
        return self._columns

    @property
    def kind_codes(self) -> np.ndarray:
        """Kind code of each entry, an index into :data:`KINDS` (``uint8``)."""
        return self._kinds

    @property
    def kinds(self) -> np.ndarray:
        """Kind name of each entry (a numpy string array; built on demand)."""
        return np.asarray(KINDS)[self._kinds]

    @property
    def source_codes(self) -> np.ndarray:
        """Source code of each entry, an index into :attr:`source_names`."""
        return self._sources

    @property
    def source_names(self) -> tuple[str, ...]:
        """The table :attr:`source_codes` index into."""
        return self._source_names

    @property
    def sources(self) -> np.ndarray:
        """Source label of each entry (a numpy string array; built on demand)."""
        return np.asarray(self._source_names)[self._sources]

    @property
    def evidence(self) -> dict[str, np.ndarray]:
        """Evidence arrays by name (a new dict of read-only arrays)."""
        return dict(self._evidence)

    @property
    def evidence_names(self) -> tuple[str, ...]:
        return tuple(self._evidence)

    @property
    def linear_index(self) -> np.ndarray:
        """``row * 65536 + column`` as ``int64``: one sortable key per position."""
        return self._rows.astype(np.int64) * (MAX_COORDINATE + 1) + self._columns

    def __len__(self) -> int:
        return int(self._rows.size)

    def __iter__(self) -> Iterator[DefectRecord]:
        return iter(self.to_records())

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in self.count_by_kind().items())
        return f"<DefectList {len(self)} entries{': ' + kinds if kinds else ''}>"

    def to_records(self) -> list[DefectRecord]:
        """Every entry as a :class:`DefectRecord` (plain Python values; NaN evidence left out)."""
        kinds = [KINDS[k] for k in self._kinds.tolist()]
        sources = [self._source_names[s] for s in self._sources.tolist()]
        names = list(self._evidence)
        columns = [self._evidence[name].tolist() for name in names]
        records = []
        for i, (row, column) in enumerate(
            zip(self._rows.tolist(), self._columns.tolist(), strict=True)
        ):
            evidence = {
                name: values[i]
                for name, values in zip(names, columns, strict=True)
                if not math.isnan(values[i])
            }
            records.append(DefectRecord(row, column, kinds[i], sources[i], evidence))
        return records

    def positions(self) -> np.ndarray:
        """``(n, 2)`` array of ``(row, column)``."""
        return np.stack([self._rows, self._columns], axis=1)

    def to_mask(self, width: int, height: int) -> np.ndarray:
        """A ``(height, width)`` boolean image, True at every entry.

        Raises :class:`InputError` when an entry lies outside the sensor.
        """
        outside = (self._rows >= height) | (self._columns >= width)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise InputError(
                f"row {self._rows[i]}, column {self._columns[i]} is outside the "
                f"{width} x {height} sensor ({int(outside.sum())} entries outside)"
            )
        mask = np.zeros((height, width), dtype=bool)
        mask[self._rows, self._columns] = True
        return mask

    # -- equality -------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Same entries in the same order: coordinates, kind and source names, evidence
        (NaN equals NaN, the same evidence names). ``metadata`` is not compared."""
        if not isinstance(other, DefectList):
            return NotImplemented
        if len(self) != len(other) or set(self._evidence) != set(other._evidence):
            return False
        if not (
            np.array_equal(self._rows, other._rows)
            and np.array_equal(self._columns, other._columns)
            and np.array_equal(self._kinds, other._kinds)
        ):
            return False
        if len(self) and not np.array_equal(self.sources, other.sources):
            return False
        return all(
            np.array_equal(values, other._evidence[name], equal_nan=True)
            for name, values in self._evidence.items()
        )

    __hash__ = None  # type: ignore[assignment]

    def same_positions(self, other: DefectList) -> bool:
        """True when both lists mark exactly the same set of pixels."""
        return np.array_equal(np.unique(self.linear_index), np.unique(other.linear_index))

    # -- selection ------------------------------------------------------------------------

    def take(self, index: Any) -> DefectList:
        """The entries at ``index`` (integer indices or a boolean mask), in that order."""
        index = np.asarray(index)
        if index.size == 0:
            index = index.astype(np.int64)
        if index.dtype == np.bool_:
            if index.shape != (len(self),):
                raise InputError(f"boolean selection has {index.size} values for {len(self)}")
            index = np.flatnonzero(index)
        return DefectList(
            self._rows[index],
            self._columns[index],
            kinds=self._kinds[index],
            source=self._sources[index],
            source_names=self._source_names,
            evidence={name: values[index] for name, values in self._evidence.items()},
            metadata=self.metadata,
        )

    def __getitem__(self, index: Any) -> DefectList | DefectRecord:
        if isinstance(index, int | np.integer):
            i = int(index)
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} out of range for {len(self)} entries")
            i %= len(self)
            return DefectRecord(
                int(self._rows[i]),
                int(self._columns[i]),
                KINDS[self._kinds[i]],
                self._source_names[self._sources[i]],
                {n: float(v[i]) for n, v in self._evidence.items() if not math.isnan(v[i])},
            )
        if isinstance(index, slice):
            return self.take(np.arange(len(self))[index])
        return self.take(index)

    def filter(
        self,
        *,
        kinds: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        rows: tuple[int, int] | None = None,
        columns: tuple[int, int] | None = None,
    ) -> DefectList:
        """Entries matching every given condition.

        Parameters
        ----------
        kinds, sources : str or iterable of str, optional
            Keep these kinds / sources.
        rows, columns : (start, stop), optional
            Keep entries with ``start <= row < stop`` (half-open, like a slice).
        """
        keep = np.ones(len(self), dtype=bool)
        if kinds is not None:
            wanted = [kinds] if isinstance(kinds, str) else list(kinds)
            for name in wanted:
                if name not in _KIND_CODE:
                    raise InputError(f"unknown defect kind {name!r}; known: {', '.join(KINDS)}")
            keep &= np.isin(self._kinds, [_KIND_CODE[name] for name in wanted])
        if sources is not None:
            wanted = [sources] if isinstance(sources, str) else list(sources)
            codes = [code for code, name in enumerate(self._source_names) if name in wanted]
            keep &= np.isin(self._sources, codes)
        if rows is not None:
            keep &= (self._rows >= rows[0]) & (self._rows < rows[1])
        if columns is not None:
            keep &= (self._columns >= columns[0]) & (self._columns < columns[1])
        return self.take(keep)

    def with_source(self, source: str) -> DefectList:
        """The same entries, all labelled with ``source``."""
        return DefectList(
            self._rows,
            self._columns,
            kinds=self._kinds,
            source=source,
            evidence=self._evidence,
            metadata=self.metadata,
        )

    def with_kind(self, kind: str) -> DefectList:
        """The same entries, all of kind ``kind``."""
        return DefectList(
            self._rows,
            self._columns,
            kinds=kind,
            source=self._sources,
            source_names=self._source_names,
            evidence=self._evidence,
            metadata=self.metadata,
        )

    def shifted(self, row_offset: int, column_offset: int) -> DefectList:
        """Every entry moved by the offsets (an error if one leaves 0..65535)."""
        return DefectList(
            self._rows.astype(np.int64) + row_offset,
            self._columns.astype(np.int64) + column_offset,
            kinds=self._kinds,
            source=self._sources,
            source_names=self._source_names,
            evidence=self._evidence,
            metadata=self.metadata,
        )

    # -- ordering and duplicates ----------------------------------------------------------

    def sort_order(self) -> np.ndarray:
        """Indices that sort the entries by ``(row, column)``, stable."""
        return np.argsort(self.linear_index, kind="stable")

    def sorted(self) -> DefectList:
        """The entries ordered by row, then column (stable for equal positions)."""
        return self.take(self.sort_order())

    def is_sorted(self) -> bool:
        key = self.linear_index
        return bool(np.all(key[1:] >= key[:-1]))

    def duplicated(self) -> np.ndarray:
        """Boolean mask: True for every entry whose position appeared earlier in the list."""
        key = self.linear_index
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(self), dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        return repeat

    def _richness_order(self) -> np.ndarray:
        """Indices sorting by position, then richest first, with a total tie-break.

        Richest = most evidence values, then the strongest kind, then the source by
        :data:`SOURCE_PRECEDENCE` (others alphabetically), then the evidence values
        themselves. The order depends only on entry contents, never on their order in the
        list, which makes :func:`merge_lists` order-independent.
        """
        n = len(self)
        names = sorted(self._evidence)
        present = np.zeros(n, dtype=np.int64)
        for name in names:
            present += ~np.isnan(self._evidence[name])
        source_rank_of_name = {
            name: rank for rank, name in enumerate(_ranked_sources(self._source_names))
        }
        source_rank = np.asarray(
            [source_rank_of_name[name] for name in self._source_names], dtype=np.int64
        )[self._sources]
        # np.lexsort sorts by the last key first.
        keys: list[np.ndarray] = []
        for name in reversed(names):
            values = self._evidence[name]
            keys.append(np.where(np.isnan(values), np.inf, values))
            keys.append(np.isnan(values))
        keys.extend([source_rank, self._kinds.astype(np.int64), -present, self.linear_index])
        return np.lexsort(keys)

    def deduplicated(self) -> DefectList:
        """One entry per position, sorted; the richest entry of each position is kept.

        Richest means: most evidence values, then the strongest kind (the order of
        :data:`KINDS`), then the source (``factory``, ``user``, ``detected``, then others
        alphabetically), then the smaller evidence values, so the result never depends on
        the order of the input.
        """
        if len(self) == 0:
            return self.take(np.zeros(0, dtype=np.int64))
        order = self._richness_order()
        key = self.linear_index[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        return self.take(order[first])

    def normalized(self) -> DefectList:
        """Sorted, without duplicates, source table trimmed and in a canonical order."""
        return _canonical_sources(self.deduplicated())

    # -- set operations -------------------------------------------------------------------

    def merge(self, *others: DefectList) -> DefectList:
        """This list and ``others`` as one normalized list (see :func:`merge_lists`)."""
        return merge_lists([self, *others])

    def difference(self, other: DefectList) -> DefectList:
        """Entries whose position is not in ``other``."""
        return self.take(~np.isin(self.linear_index, other.linear_index))

    def intersection(self, other: DefectList) -> DefectList:
        """Entries whose position is also in ``other``."""
        return self.take(np.isin(self.linear_index, other.linear_index))

    def contains(self, row: int, column: int) -> bool:
        key = int(row) * (MAX_COORDINATE + 1) + int(column)
        return bool(np.any(self.linear_index == key))

    def add(
        self,
        rows: Any,
        columns: Any,
        *,
        kind: str = "unknown",
        source: str = "user",
        skip_listed: bool = False,
        on_skipped: Callable[[str], None] | None = None,
    ) -> DefectList:
        """This list with entries appended.

        By default nothing is deduplicated (a camera ignores duplicates). With
        ``skip_listed``, a position already in the list (or given twice) is not added
        again, and ``on_skipped`` receives one message for each one skipped.
        """
        extra = DefectList(rows, columns, kinds=kind, source=source)
        if skip_listed:
            known = np.isin(extra.linear_index, self.linear_index) | extra.duplicated()
            if on_skipped is not None:
                for i in np.flatnonzero(known).tolist():
                    on_skipped(
                        f"row {extra.rows[i]}, column {extra.columns[i]} is already listed; "
                        "not added again"
                    )
            extra = extra.take(~known)
        return DefectList.concatenate([self, extra]).with_metadata(self.metadata)

    def remove(self, rows: Any, columns: Any) -> DefectList:
        """This list without every entry at the given positions.

        Raises :class:`InputError` naming the first position that is not in the list.
        """
        gone = DefectList(rows, columns)
        listed = np.isin(gone.linear_index, self.linear_index)
        if not listed.all():
            i = int(np.flatnonzero(~listed)[0])
            raise InputError(f"row {gone.rows[i]}, column {gone.columns[i]} is not in the list")
        return self.take(~np.isin(self.linear_index, gone.linear_index))

    def with_metadata(self, metadata: Mapping[str, Any]) -> DefectList:
        result = self.take(np.arange(len(self)))
        result.metadata = dict(metadata)
        return result

    # -- statistics -----------------------------------------------------------------------

    def count_by_kind(self) -> dict[str, int]:
        """Number of entries per kind, strongest kind first; kinds with none left out."""
        counts = np.bincount(self._kinds, minlength=len(KINDS))
        return {KINDS[code]: int(n) for code, n in enumerate(counts) if n}

    def count_by_source(self) -> dict[str, int]:
        counts = np.bincount(self._sources, minlength=len(self._source_names))
        return {name: int(n) for name, n in zip(self._source_names, counts, strict=True) if n}

    def statistics(self, *, connectivity: int = 8) -> DefectStats:
        """Counts per kind and source, duplicates, runs and clusters (see :class:`DefectStats`)."""
        unique = self.deduplicated()
        labels = cluster_labels(unique.rows, unique.columns, connectivity=connectivity)
        sizes = np.bincount(labels) if len(unique) else np.zeros(0, dtype=np.int64)
        runs = run_lengths(unique.rows, unique.columns)
        size_histogram = np.bincount(sizes) if sizes.size else np.zeros(1, dtype=np.int64)
        return DefectStats(
            entries=len(self),
            unique_positions=len(unique),
            duplicates=len(self) - len(unique),
            by_kind=self.count_by_kind(),
            by_source=self.count_by_source(),
            clusters=int(sizes.size),
            single_pixels=int(size_histogram[1]) if size_histogram.size > 1 else 0,
            largest_cluster=int(sizes.max()) if sizes.size else 0,
            cluster_sizes={
                int(size): int(n) for size, n in enumerate(size_histogram.tolist()) if n and size
            },
            longest_run=int(runs.max()) if runs.size else 0,
            row_span=(int(unique.rows.min()), int(unique.rows.max())) if len(unique) else None,
            column_span=(
                (int(unique.columns.min()), int(unique.columns.max())) if len(unique) else None
            ),
        )


def _ranked_sources(names: Iterable[str]) -> list[str]:
    names = set(names)
    first = [name for name in SOURCE_PRECEDENCE if name in names]
    return first + sorted(names - set(SOURCE_PRECEDENCE))


def _canonical_sources(defects: DefectList) -> DefectList:
    """Drop unused source names and order the table canonically (codes remapped)."""
    used = sorted({defects.source_names[c] for c in np.unique(defects.source_codes).tolist()})
    names = _ranked_sources(used) or ["user"]
    index = {name: code for code, name in enumerate(names)}
    remap = np.asarray([index.get(name, 0) for name in defects.source_names], dtype=np.uint16)
    return DefectList(
        defects.rows,
        defects.columns,
        kinds=defects.kind_codes,
        source=remap[defects.source_codes] if len(defects) else np.zeros(0, np.uint16),
        source_names=names,
        evidence=defects.evidence,
        metadata=defects.metadata,
    )


def merge_lists(lists: Iterable[DefectList]) -> DefectList:
    """Merge lists the way the camera does: one entry per pixel, sorted by (row, column).

    Where several lists mark a pixel, the richest entry is kept (see
    :meth:`DefectList.deduplicated`). The result depends only on the set of entries:
    ``merge([a, b]) == merge([b, a])`` and ``merge([merge([a, b]), b]) == merge([a, b])``.
    """
    return DefectList.concatenate(list(lists)).normalized().with_metadata({})


@dataclass(frozen=True)
class ListDiff:
    """How a list changed: what sensor ageing looks like.

    Attributes
    ----------
    new : DefectList
        Positions in the new list only (entries as in the new list).
    healed : DefectList
        Positions in the old list only (entries as in the old list).
    unchanged : DefectList
        Positions in both (entries as in the new list).
    kind_changed : DefectList
        The unchanged positions whose kind differs (entries as in the new list).
    """

    new: DefectList
    healed: DefectList
    unchanged: DefectList
    kind_changed: DefectList

    def summary(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "healed": len(self.healed),
            "unchanged": len(self.unchanged),
            "kind_changed": len(self.kind_changed),
        }


def diff_lists(old: DefectList, new: DefectList) -> ListDiff:
    """Compare two lists by position; duplicates are merged first (see :class:`ListDiff`)."""
    old_unique = old.deduplicated()
    new_unique = new.deduplicated()
    in_old = np.isin(new_unique.linear_index, old_unique.linear_index)
    in_new = np.isin(old_unique.linear_index, new_unique.linear_index)
    unchanged = new_unique.take(in_old)
    # Both are sorted by position, so the common entries line up one to one.
    old_common = old_unique.take(in_new)
    changed = unchanged.kind_codes != old_common.kind_codes
    return ListDiff(
        new=new_unique.take(~in_old),
        healed=old_unique.take(~in_new),
        unchanged=unchanged,
        kind_changed=unchanged.take(changed),
    )


@dataclass(frozen=True)
class DefectStats:
    """Summary numbers of a list (see :meth:`DefectList.statistics`).

    Clusters are groups of defective pixels touching each other (8-connected by
    default); ``cluster_sizes`` maps a size to how many clusters have it.
    ``longest_run`` is the longest horizontal run of consecutive columns.
    """

    entries: int
    unique_positions: int
    duplicates: int
    by_kind: dict[str, int]
    by_source: dict[str, int]
    clusters: int
    single_pixels: int
    largest_cluster: int
    cluster_sizes: dict[int, int]
    longest_run: int
    row_span: tuple[int, int] | None
    column_span: tuple[int, int] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "unique_positions": self.unique_positions,
            "duplicates": self.duplicates,
            "by_kind": dict(self.by_kind),
            "by_source": dict(self.by_source),
            "clusters": self.clusters,
            "single_pixels": self.single_pixels,
            "largest_cluster": self.largest_cluster,
            "cluster_sizes": {str(k): v for k, v in self.cluster_sizes.items()},
            "longest_run": self.longest_run,
            "row_span": list(self.row_span) if self.row_span else None,
            "column_span": list(self.column_span) if self.column_span else None,
        }


# -- vectorised geometry helpers (used by the rules too) --------------------------------------


def _linear(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64) * (MAX_COORDINATE + 1) + np.asarray(columns, np.int64)


class Runs(NamedTuple):
    """Horizontal runs of listed pixels, the one run analysis every part uses.

    A run is a maximal set of listed pixels in one row of one colour plane whose columns
    follow each other ``step`` apart (``step`` 1 on a mono sensor, 2 on a Bayer sensor,
    where a pixel's neighbours of the same colour are two columns away).

    Attributes
    ----------
    run_of : ndarray of int64
        Per position (aligned with the input): the index of its run.
    rows, starts, lengths : ndarray of int64
        Per run, in row-major order of their first pixel: its row, first column and
        number of pixels. The run's last column is ``start + (length - 1) * step``.
    step : int
    """

    run_of: np.ndarray
    rows: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    step: int

    def __len__(self) -> int:
        return int(self.lengths.size)

    @property
    def length_of(self) -> np.ndarray:
        """Per position: the length of its run."""
        return self.lengths[self.run_of]

    @property
    def start_of(self) -> np.ndarray:
        """Per position: the first column of its run."""
        return self.starts[self.run_of]


def horizontal_runs(rows: Any, columns: Any, *, step: int = 1) -> Runs:
    """Find the horizontal runs of *unique* positions (see :class:`Runs`).

    ``rows`` and ``columns`` must hold each position once, in any order. ``step`` is 1
    (mono) or 2 (Bayer: runs within a colour plane).
    """
    if step not in (1, 2):
        raise InputError(f"the column step must be 1 or 2, got {step}")
    rows = np.asarray(rows, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    n = rows.size
    # Order by (row, colour plane of the column, column): a run is then a stretch of
    # positions in one row and plane whose columns follow each other ``step`` apart.
    order = np.lexsort((columns, columns % step, rows))
    r, c = rows[order], columns[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1] + step)
    run_ordered = np.cumsum(first) - 1
    lengths = np.bincount(run_ordered) if n else np.zeros(0, dtype=np.int64)
    run_rows, starts = r[first], c[first]
    # Number the runs in row-major order of their first pixel.
    by_position = np.lexsort((starts, run_rows))
    renumber = np.empty(by_position.size, dtype=np.int64)
    renumber[by_position] = np.arange(by_position.size)
    run_of = np.empty(n, dtype=np.int64)
    run_of[order] = renumber[run_ordered]
    return Runs(
        run_of=run_of,
        rows=run_rows[by_position],
        starts=starts[by_position],
        lengths=lengths[by_position],
        step=step,
    )


def run_lengths(rows: Any, columns: Any) -> np.ndarray:
    """Length of the horizontal run each *unique* position belongs to.

    A run is a maximal set of pixels in one row with consecutive columns. ``rows`` and
    ``columns`` must hold each position once, in any order; the result is aligned with them.
    """
    return horizontal_runs(rows, columns).length_of


def neighbourhood_counts(rows: Any, columns: Any, radius: int) -> np.ndarray:
    """For each unique position, how many listed pixels lie in its ``(2r+1)^2`` window.

    The pixel itself is counted. Positions must be unique.
    """
    rows = np.asarray(rows, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    ordered = np.sort(_linear(rows, columns))
    counts = np.zeros(rows.size, dtype=np.int64)
    if rows.size == 0:
        return counts
    # Per window row, the listed pixels between the window's left and right column are a
    # contiguous stretch of the sorted keys: two binary searches count them. Columns are
    # clipped to 0..65535 so that a window never reaches into the neighbouring row.
    left = _linear(np.zeros_like(rows), np.maximum(columns - radius, 0))
    right = _linear(np.zeros_like(rows), np.minimum(columns + radius, MAX_COORDINATE))
    for dr in range(-radius, radius + 1):
        row_key = (rows + dr) * (MAX_COORDINATE + 1)
        counts += np.searchsorted(ordered, row_key + right, side="right")
        counts -= np.searchsorted(ordered, row_key + left, side="left")
    return counts


def cluster_labels(rows: Any, columns: Any, *, connectivity: int = 8) -> np.ndarray:
    """Label touching pixels with one cluster number per group (0, 1, ...).

    Positions must be unique. ``connectivity`` is 4 (edges) or 8 (edges and corners).
    Labels are numbered in order of each cluster's first pixel in row-major order.
    Vectorised: neighbours are found by binary search and the groups by label hooking
    with pointer jumping, which needs a few passes, not one per pixel.
    """
    if connectivity not in (4, 8):
        raise InputError(f"connectivity must be 4 or 8, got {connectivity}")
    rows = np.asarray(rows, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    n = rows.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(_linear(rows, columns), kind="stable")
    r, c = rows[order], columns[order]
    key = _linear(r, c)
    offsets = [(0, 1), (1, 0)] if connectivity == 4 else [(0, 1), (1, -1), (1, 0), (1, 1)]
    sources, targets = [], []
    for dr, dc in offsets:
        probe_r, probe_c = r + dr, c + dc
        ok = (probe_c >= 0) & (probe_c <= MAX_COORDINATE)
        probe = _linear(probe_r, probe_c)
        found = np.minimum(np.searchsorted(key, probe), n - 1)
        hit = ok & (key[found] == probe)
        sources.append(np.flatnonzero(hit))
        targets.append(found[hit])
    a = np.concatenate(sources)
    b = np.concatenate(targets)
    parent = np.arange(n, dtype=np.int64)
    while a.size:
        pa, pb = parent[a], parent[b]
        if np.array_equal(pa, pb):
            break
        low, high = np.minimum(pa, pb), np.maximum(pa, pb)
        np.minimum.at(parent, high, low)
        while True:  # pointer jumping: every node points at its root
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    _, labels_sorted = np.unique(parent, return_inverse=True)
    labels = np.empty(n, dtype=np.int64)
    labels[order] = labels_sorted.reshape(-1)
    return labels
