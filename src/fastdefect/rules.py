"""Correction rules: which listed defects a camera can actually correct.

A :class:`RuleSet` describes one camera family's correction; :func:`check_list` judges
every entry of a :class:`~fastdefect.defects.DefectList` against it and returns
:class:`Verdicts`: a level per entry (``ok`` green, ``warn`` yellow, ``error`` red, as
the vendor tool colours them) and the reasons as bit flags, all as numpy arrays.

Two named rule sets ship:

``av`` — Allied Vision Prosilica GT with PYTHON sensors (left-neighbour correction)
    The camera replaces a defective pixel with the value to its left. Horizontal runs of
    consecutive defects in a row: up to 4 recommended (ok), 5 to 8 allowed but not
    recommended (warn: the vendor tool asks for confirmation on upload), more than 8
    cannot be corrected (error: ignored on upload). A run with no active pixel to its left
    (one that includes column 0) cannot be masked (error). Coordinates outside the sensor
    are errors. On a Bayer sensor (``column_step=2``) "to the left" means the nearest
    pixel of the same colour, as in :mod:`fastdefect.correction`.

``arri`` — ARRI User Pixel Mask (interpolating correction)
    The camera interpolates a masked pixel from its neighbours. There is no hard limit,
    but many masked pixels close together make a visible blurred patch: an entry whose
    5 x 5 neighbourhood (itself included) holds 4 or more masked pixels is a warning.
    This density limit is our heuristic, not a vendor figure; change it with
    :meth:`RuleSet.replace`. Coordinates outside the sensor are errors.

How we read "the pixel to the left will be omitted"
---------------------------------------------------
The Allied Vision application note says, in its section on rows highlighted in red:
"When entering more than four pixel defect coordinates the pixel to the left will be
omitted", and goes straight on: "The algorithm used to correct the pixel defect always
uses the value to the left of the pixel defect. If there is no active pixel to the left
of the pixel defect, then the pixel defect cannot be masked."

We read the sentence as a description of the *correction*, not of an edit to the list:
inside a run of consecutive defects the pixel immediately to the left of a defect is
itself defective, so it is passed over ("omitted") as the source of the correction,
and the value comes from the nearest *active* pixel to the left of the whole run. A
run of ``n`` defects is therefore filled with one value copied ``n`` pixels across,
which is why runs longer than four are discouraged and runs longer than eight refused.
We follow this reading everywhere:

1. Nothing is dropped or shifted because of this sentence: lists are checked, written
   and uploaded as they are. (The only entries the vendor tool leaves out of an upload
   are the red ones, and we report those.)
2. A run is judged as a whole: every entry of a run of length ``n`` gets the verdict
   of ``n`` (all green, all yellow or all red), not only the entries past the fourth.
3. The correction needs an active pixel left of the *run*: a run that includes column 0
   has none, so all of its entries are red.
4. Runs are counted on what the camera will hold: the user list together with the
   factory list when one is given (``context=``), each position once (duplicates are
   uploaded once), and without entries outside the sensor (ignored on upload).
5. A left-neighbour correction simulation should fill each run with the value of the
   active pixel left of the run (the same reading, applied to pixels).

We reject the other literal reading, "for runs longer than four the tool drops the
leftmost entry from the upload": the yellow section says runs of 5 to 8 *are*
uploaded after confirmation, and the note calls eight in a row the maximum that can be
corrected, which dropping an entry would contradict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from .defects import MAX_COORDINATE, DefectList, Runs, horizontal_runs, neighbourhood_counts
from .errors import InputError
from .sensor import SensorSpec

__all__ = [
    "ARRI_INTERPOLATING",
    "AV_LEFT_NEIGHBOUR",
    "FLAG_DENSE_CLUSTER",
    "FLAG_LONG_RUN",
    "FLAG_NO_LEFT_NEIGHBOUR",
    "FLAG_OUTSIDE_SENSOR",
    "FLAG_RUN_TOO_LONG",
    "FLAG_VERY_DENSE_CLUSTER",
    "RULE_SETS",
    "ListRuns",
    "RuleSet",
    "Verdict",
    "Verdicts",
    "check_list",
    "rule_set",
]


class Verdict(IntEnum):
    """Level of an entry, coloured like the vendor tool: green, yellow, red."""

    OK = 0
    WARN = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


#: Reason flags (bits of :attr:`Verdicts.flags`); several may apply to one entry.
FLAG_OUTSIDE_SENSOR = 1
FLAG_NO_LEFT_NEIGHBOUR = 2
FLAG_RUN_TOO_LONG = 4
FLAG_LONG_RUN = 8
FLAG_DENSE_CLUSTER = 16
FLAG_VERY_DENSE_CLUSTER = 32

_FLAG_LEVEL = {
    FLAG_OUTSIDE_SENSOR: Verdict.ERROR,
    FLAG_NO_LEFT_NEIGHBOUR: Verdict.ERROR,
    FLAG_RUN_TOO_LONG: Verdict.ERROR,
    FLAG_LONG_RUN: Verdict.WARN,
    FLAG_DENSE_CLUSTER: Verdict.WARN,
    FLAG_VERY_DENSE_CLUSTER: Verdict.ERROR,
}


@dataclass(frozen=True)
class RuleSet:
    """A camera's correction limits, named and configurable.

    Parameters
    ----------
    name : str
        Short name (``av``, ``arri``).
    description : str
        One line for reports.
    recommended_max_run : int or None
        Longest horizontal run that is fine; longer runs are warnings. None: no limit.
    hard_max_run : int or None
        Longest run the camera can correct; longer runs are errors. None: no limit.
    needs_left_neighbour : bool
        Correction copies the pixel to the left: a run that includes column 0 is an error.
    width, height : int or None
        Sensor size; entries outside are errors. None: not checked.
    cluster_radius : int or None
        Radius ``r`` of the ``(2r+1) x (2r+1)`` window for the density check.
    cluster_warn_count, cluster_error_count : int or None
        Warn / error when the window centred on an entry holds at least this many
        listed pixels (the entry included).
    column_step : int
        1 on a mono sensor; 2 on a Bayer sensor, where the pixel "to the left" is the
        nearest one of the same colour: runs are same-colour pixels two columns apart,
        and columns 0 and 1 have no left neighbour. Set from a sensor's CFA by
        :meth:`with_sensor`.
    """

    name: str
    description: str = ""
    recommended_max_run: int | None = 4
    hard_max_run: int | None = 8
    needs_left_neighbour: bool = True
    width: int | None = None
    height: int | None = None
    cluster_radius: int | None = None
    cluster_warn_count: int | None = None
    cluster_error_count: int | None = None
    column_step: int = 1

    def __post_init__(self) -> None:
        if self.column_step not in (1, 2):
            raise InputError(f"column_step must be 1 (mono) or 2 (Bayer), got {self.column_step}")
        for field in (
            "recommended_max_run",
            "hard_max_run",
            "cluster_warn_count",
            "cluster_error_count",
        ):
            value = getattr(self, field)
            if value is not None and value < 1:
                raise InputError(f"{field} must be at least 1, got {value}")
        if self.cluster_radius is not None and not 0 < self.cluster_radius <= 16:
            raise InputError(f"cluster_radius must be 1..16, got {self.cluster_radius}")
        if (self.width is None) != (self.height is None):
            raise InputError("give both the sensor width and height, or neither")
        for field in ("width", "height"):
            value = getattr(self, field)
            if value is not None and not 0 < value <= MAX_COORDINATE + 1:
                raise InputError(f"sensor {field} must be 1..{MAX_COORDINATE + 1}, got {value}")

    @property
    def has_sensor(self) -> bool:
        return self.width is not None

    def with_sensor(
        self,
        sensor: SensorSpec | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        cfa: str | None = None,
    ) -> RuleSet:
        """The same rules with sensor bounds (from a :class:`SensorSpec` or a size).

        A :class:`SensorSpec` with a CFA pattern, or a ``cfa`` pattern given with a size,
        also sets ``column_step=2`` (on a Bayer sensor the pixel "to the left" is the
        nearest one of the same colour); ``cfa="mono"`` sets it to 1.
        """
        if sensor is not None:
            step = 2 if sensor.cfa else 1
            return dataclasses.replace(
                self, width=sensor.width, height=sensor.height, column_step=step
            )
        changes: dict[str, Any] = {"width": width, "height": height}
        if cfa is not None:
            from .sensor import parse_cfa

            changes["column_step"] = 2 if parse_cfa(cfa) else 1
        return dataclasses.replace(self, **changes)

    def replace(self, **changes: Any) -> RuleSet:
        """The same rules with some fields changed (``rules.replace(hard_max_run=6)``)."""
        return dataclasses.replace(self, **changes)

    def check(self, defects: DefectList, *, context: DefectList | None = None) -> Verdicts:
        """Judge every entry; see :func:`check_list`."""
        return check_list(defects, self, context=context)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


AV_LEFT_NEIGHBOUR = RuleSet(
    name="av",
    description="Allied Vision Prosilica GT (PYTHON): left-neighbour correction, "
    "runs <= 4 recommended, 5-8 need confirmation, > 8 not corrected",
    recommended_max_run=4,
    hard_max_run=8,
    needs_left_neighbour=True,
)

ARRI_INTERPOLATING = RuleSet(
    name="arri",
    description="ARRI User Pixel Mask: interpolating correction, warn when a 5 x 5 "
    "neighbourhood holds 4 or more masked pixels (blurred patch)",
    recommended_max_run=None,
    hard_max_run=None,
    needs_left_neighbour=False,
    cluster_radius=2,
    cluster_warn_count=4,
)

#: Rule sets by name.
RULE_SETS: dict[str, RuleSet] = {
    rules.name: rules for rules in (AV_LEFT_NEIGHBOUR, ARRI_INTERPOLATING)
}


def rule_set(
    name: str,
    *,
    sensor: SensorSpec | None = None,
    width: int | None = None,
    height: int | None = None,
) -> RuleSet:
    """The named rule set (``av`` or ``arri``), with sensor bounds when given."""
    key = name.strip().lower()
    if key not in RULE_SETS:
        raise InputError(f"unknown rule set {name!r}; known: {', '.join(RULE_SETS)}")
    rules = RULE_SETS[key]
    if sensor is not None or width is not None or height is not None:
        rules = rules.with_sensor(sensor, width=width, height=height)
    return rules


@dataclass(frozen=True)
class Verdicts:
    """The verdict on every entry of a list, aligned with the list.

    Attributes
    ----------
    defects : DefectList
        The judged list (as given, same order).
    rules : RuleSet
    levels : ndarray of uint8
        :class:`Verdict` value per entry.
    flags : ndarray of uint8
        ``FLAG_*`` bits per entry: every reason that applies.
    run_lengths : ndarray of int32
        Length of the horizontal run the entry belongs to (0 when outside the sensor).
    run_starts : ndarray of int32
        First column of that run (-1 when outside the sensor).
    neighbour_counts : ndarray of int32 or None
        Listed pixels in the density window (when the rules have one).
    duplicate : ndarray of bool
        True for an entry whose position appears earlier in the list (uploaded once).
    run_index : ndarray of int64
        Index into ``camera_runs`` of the entry's run (-1 when outside the sensor).
    camera_runs : Runs
        The runs of everything the camera holds: the unique on-sensor positions of the
        list and its context (see :func:`~fastdefect.defects.horizontal_runs`).
    """

    defects: DefectList
    rules: RuleSet
    levels: np.ndarray
    flags: np.ndarray
    run_lengths: np.ndarray
    run_starts: np.ndarray
    neighbour_counts: np.ndarray | None
    duplicate: np.ndarray
    run_index: np.ndarray
    camera_runs: Runs

    def __len__(self) -> int:
        return int(self.levels.size)

    def counts(self) -> dict[str, int]:
        """``{"ok": n, "warn": n, "error": n}``."""
        counts = np.bincount(self.levels, minlength=3)
        return {level.label: int(counts[level]) for level in Verdict}

    @property
    def worst(self) -> Verdict:
        return Verdict(int(self.levels.max())) if self.levels.size else Verdict.OK

    @property
    def has_errors(self) -> bool:
        return bool(np.any(self.levels == Verdict.ERROR))

    def problems(self) -> np.ndarray:
        """Indices of the entries that are not ok, in list order."""
        return np.flatnonzero(self.levels != Verdict.OK)

    def reason(self, index: int) -> str:
        """Why entry ``index`` got its verdict, in words."""
        flags = int(self.flags[index])
        if not flags:
            run = int(self.run_lengths[index])
            text = "correctable" if run <= 1 else f"correctable, run of {run}"
            if self.duplicate[index]:
                text += "; duplicate (uploaded once)"
            return text
        rules = self.rules
        run, start = int(self.run_lengths[index]), int(self.run_starts[index])
        step = rules.column_step
        if run > 1:
            every = ", every second one" if step == 2 else ""
            where = f"run of {run} (columns {start}-{start + (run - 1) * step}{every})"
        else:
            where = f"column {start}"
        issues = []
        if flags & FLAG_RUN_TOO_LONG:
            issues.append(f"more than {rules.hard_max_run} in a row cannot be corrected")
        if flags & FLAG_LONG_RUN:
            issues.append(f"more than {rules.recommended_max_run} in a row is not recommended")
        if flags & FLAG_NO_LEFT_NEIGHBOUR:
            colour = " of its colour" if rules.column_step == 2 else ""
            issues.append(f"no active pixel{colour} to the left")
        parts = [f"{where}: {'; '.join(issues)}"] if issues else []
        if flags & FLAG_OUTSIDE_SENSOR:
            parts.append(f"outside the {rules.width} x {rules.height} sensor")
        if flags & (FLAG_DENSE_CLUSTER | FLAG_VERY_DENSE_CLUSTER):
            size = 2 * int(rules.cluster_radius or 0) + 1
            count = int(self.neighbour_counts[index]) if self.neighbour_counts is not None else 0
            parts.append(
                f"{count} masked pixels in its {size} x {size} neighbourhood (blurred patch)"
            )
        if self.duplicate[index]:
            parts.append("duplicate (uploaded once)")
        return "; ".join(parts)

    def runs(self) -> ListRuns:
        """The runs that hold entries of the list, with the worst verdict of each.

        Runs made only of context (factory) entries are left out; duplicates and entries
        outside the sensor belong to no run.
        """
        entries = np.flatnonzero((self.run_index >= 0) & ~self.duplicate)
        run_ids, entry_run = np.unique(self.run_index[entries], return_inverse=True)
        levels = np.zeros(run_ids.size, np.uint8)
        np.maximum.at(levels, entry_run, self.levels[entries])
        # the worst entry of each run (the first such in list order), for its reason
        order = np.lexsort((-self.levels[entries].astype(np.int64), entry_run))
        first = np.ones(order.size, bool)
        first[1:] = entry_run[order][1:] != entry_run[order][:-1]
        camera = self.camera_runs
        return ListRuns(
            rows=camera.rows[run_ids],
            starts=camera.starts[run_ids],
            lengths=camera.lengths[run_ids],
            levels=levels,
            worst_entry=entries[order][first],
            entries=entries,
            entry_run=entry_run.reshape(-1),
            step=camera.step,
        )

    def to_records(self, indices: Any = None) -> list[dict[str, Any]]:
        """Entries as dicts (row, column, kind, source, verdict, reason, run_length)."""
        if indices is None:
            indices = np.arange(len(self))
        indices = np.asarray(indices, dtype=np.int64)
        rows = self.defects.rows[indices].tolist()
        columns = self.defects.columns[indices].tolist()
        kinds = self.defects.kinds[indices].tolist() if indices.size else []
        sources = self.defects.sources[indices].tolist() if indices.size else []
        levels = self.levels[indices].tolist()
        runs = self.run_lengths[indices].tolist()
        return [
            {
                "row": rows[k],
                "column": columns[k],
                "kind": kinds[k],
                "source": sources[k],
                "verdict": Verdict(levels[k]).label,
                "reason": self.reason(int(i)),
                "run_length": runs[k],
            }
            for k, i in enumerate(indices.tolist())
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "rules": self.rules.name,
            "entries": len(self),
            "counts": self.counts(),
            "duplicates": int(self.duplicate.sum()),
            "sensor": (
                {"width": self.rules.width, "height": self.rules.height}
                if self.rules.has_sensor
                else None
            ),
        }


@dataclass(frozen=True)
class ListRuns:
    """The runs of a judged list (:meth:`Verdicts.runs`), one element per run.

    Attributes
    ----------
    rows, starts, lengths : ndarray of int64
        Row, first column and number of pixels of each run, in row-major order; the run's
        last column is ``start + (length - 1) * step``. Lengths count the context
        (factory) pixels of the run too: the camera corrects them together.
    levels : ndarray of uint8
        The worst :class:`Verdict` among the run's entries.
    worst_entry : ndarray of int64
        Index into the list of the run's worst entry (whose reason explains the verdict).
    entries, entry_run : ndarray of int64
        The list entries that lie in a run (duplicates and off-sensor entries excluded),
        and the run each belongs to.
    step : int
        1 on a mono sensor, 2 when runs are taken within a Bayer colour plane.
    """

    rows: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    levels: np.ndarray
    worst_entry: np.ndarray
    entries: np.ndarray
    entry_run: np.ndarray
    step: int

    def __len__(self) -> int:
        return int(self.lengths.size)

    @property
    def ends(self) -> np.ndarray:
        """Last column of each run."""
        return self.starts + (self.lengths - 1) * self.step


def check_list(
    defects: DefectList,
    rules: RuleSet | str = AV_LEFT_NEIGHBOUR,
    *,
    context: DefectList | None = None,
) -> Verdicts:
    """Judge every entry of ``defects`` against ``rules``; vectorised.

    Parameters
    ----------
    defects : DefectList
        The list to judge (e.g. a user list).
    rules : RuleSet or str
        A rule set or its name (``"av"``, ``"arri"``).
    context : DefectList, optional
        Entries that are in the camera as well (the factory list): they count for runs
        and neighbourhoods but get no verdict of their own.

    Returns
    -------
    Verdicts
        Aligned with ``defects``.

    Notes
    -----
    Runs and neighbourhoods are computed on the unique positions of ``defects`` and
    ``context`` that lie on the sensor (entries outside it are ignored on upload, so they
    neither extend a run nor fill a neighbourhood). See the module docstring for how the
    note's "the pixel to the left will be omitted" is read.
    """
    if isinstance(rules, str):
        rules = rule_set(rules)
    n = len(defects)
    keys = defects.linear_index
    if rules.has_sensor:
        inside = (defects.rows < rules.height) & (defects.columns < rules.width)
    else:
        inside = np.ones(n, dtype=bool)
    inside_index = np.flatnonzero(inside)
    all_keys = keys[inside_index]
    if context is not None and len(context):
        context_inside = (
            (context.rows < rules.height) & (context.columns < rules.width)
            if rules.has_sensor
            else np.ones(len(context), dtype=bool)
        )
        all_keys = np.concatenate([all_keys, context.linear_index[context_inside]])

    # One stable sort gives the unique on-sensor positions of the camera's view (row-major),
    # each entry's position among them, and which entries repeat an earlier one.
    order = np.argsort(all_keys, kind="stable")
    sorted_keys = all_keys[order]
    first = np.ones(sorted_keys.size, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    unique_keys = sorted_keys[first]
    position_of = np.empty(sorted_keys.size, dtype=np.int64)
    position_of[order] = np.cumsum(first) - 1
    repeated = np.empty(sorted_keys.size, dtype=bool)
    repeated[order] = ~first

    rows_u = unique_keys // (MAX_COORDINATE + 1)
    columns_u = unique_keys % (MAX_COORDINATE + 1)
    m = unique_keys.size
    step = rules.column_step
    runs = horizontal_runs(rows_u, columns_u, step=step)

    where = position_of[: inside_index.size]
    run_index = np.full(n, -1, dtype=np.int64)
    run_index[inside_index] = runs.run_of[where]
    run_lengths = np.zeros(n, dtype=np.int32)
    run_starts = np.full(n, -1, dtype=np.int32)
    run_lengths[inside_index] = runs.lengths[run_index[inside_index]]
    run_starts[inside_index] = runs.starts[run_index[inside_index]]

    # Stable sort, defects first: an entry repeats an earlier one exactly when it is not
    # the first of its key. Entries off the sensor are compared among themselves.
    duplicate = np.zeros(n, dtype=bool)
    duplicate[inside_index] = repeated[: inside_index.size]
    if inside_index.size < n:
        outside_index = np.flatnonzero(~inside)
        duplicate[outside_index] = defects.take(outside_index).duplicated()

    flags = np.zeros(n, dtype=np.uint8)
    flags[~inside] |= FLAG_OUTSIDE_SENSOR
    if rules.needs_left_neighbour:
        flags[inside & (run_starts >= 0) & (run_starts < step)] |= FLAG_NO_LEFT_NEIGHBOUR
    if rules.hard_max_run is not None:
        flags[inside & (run_lengths > rules.hard_max_run)] |= FLAG_RUN_TOO_LONG
    if rules.recommended_max_run is not None:
        too_long = run_lengths > rules.recommended_max_run
        if rules.hard_max_run is not None:
            too_long &= run_lengths <= rules.hard_max_run
        flags[inside & too_long] |= FLAG_LONG_RUN

    neighbour_counts = None
    if rules.cluster_radius is not None and (
        rules.cluster_warn_count is not None or rules.cluster_error_count is not None
    ):
        counts_u = neighbourhood_counts(rows_u, columns_u, rules.cluster_radius)
        neighbour_counts = np.zeros(n, dtype=np.int32)
        if m:
            neighbour_counts[inside_index] = counts_u[where]
        very = np.zeros(n, dtype=bool)
        if rules.cluster_error_count is not None:
            very = inside & (neighbour_counts >= rules.cluster_error_count)
            flags[very] |= FLAG_VERY_DENSE_CLUSTER
        if rules.cluster_warn_count is not None:
            flags[inside & ~very & (neighbour_counts >= rules.cluster_warn_count)] |= (
                FLAG_DENSE_CLUSTER
            )

    levels = np.zeros(n, dtype=np.uint8)
    for flag, level in _FLAG_LEVEL.items():
        levels = np.maximum(levels, np.where(flags & flag, np.uint8(level), np.uint8(0)))
    return Verdicts(
        defects=defects,
        rules=rules,
        levels=levels.astype(np.uint8),
        flags=flags,
        run_lengths=run_lengths,
        run_starts=run_starts,
        neighbour_counts=neighbour_counts,
        duplicate=duplicate,
        run_index=run_index,
        camera_runs=runs,
    )
