"""A camera's defect history: what changed between runs, how fast, and where it leads.

:func:`camera_history` reads a camera's runs from the history database and compares two
of them (default the last two) by position: **new** defects (in the later run only),
**healed** ones (in the earlier only) and **persisting** ones (in both). Over all runs
it fits the **growth rate**: a least-squares line through the defect count against
time, in defects per year, per kind and in total. From it comes a **projection** of
when the camera's correction limits will be exceeded:

* the list capacity (entries the camera can hold; 16,384 by default, the user list of
  the Prosilica GT): ``(capacity - latest count) / total growth`` years after the
  latest run;
* a horizontal run longer than the rules allow (8 for the Allied Vision left-neighbour
  correction): the longest run of each run's list (bad rows left out: a bad row is a
  run the width of the sensor from its first day, see ``rules.py``) is fitted the same
  way, and the projection is when the line passes the limit.

Both are straight-line extrapolations of the recorded past: a projection needs two runs
at different times, and says "not growing" when the fitted rate is zero or negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ..defects import KINDS, DefectList, ListDiff, diff_lists
from ..errors import InputError
from ..rules import check_list, rule_set
from .db import HistoryDatabase, RunRecord

__all__ = ["DEFAULT_CAPACITY", "CameraHistory", "Projection", "camera_history", "history_figure"]

#: Entries of the Prosilica GT user defect list (the simulated camera's too).
DEFAULT_CAPACITY = 16384
_SECONDS_PER_YEAR = 365.25 * 24 * 3600


@dataclass(frozen=True)
class Projection:
    """When a limit will be exceeded, from the fitted growth.

    ``status`` is ``exceeded`` (already), ``projected`` (``years`` after the latest run,
    on ``date``), ``not growing`` or ``unknown`` (fewer than two runs at distinct times).
    """

    limit: str
    value: float
    current: float
    rate_per_year: float | None
    status: str
    years: float | None = None
    date: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "value": self.value,
            "current": self.current,
            "rate_per_year": self.rate_per_year,
            "status": self.status,
            "years": self.years,
            "date": self.date.isoformat() if self.date else None,
        }


@dataclass
class CameraHistory:
    """What :func:`camera_history` found for one camera.

    Attributes
    ----------
    serial : str
    runs : list of RunRecord
        Oldest first.
    old, new : RunRecord or None
        The two runs compared (None with fewer than two runs).
    diff : ListDiff or None
        ``diff.new``, ``diff.healed``, ``diff.unchanged`` (persisting), ``diff.kind_changed``.
    growth : dict of str to float
        Fitted defects per year per kind seen, and ``total``; empty when not measurable.
    longest_runs : list of int
        Longest horizontal run of each run's list (bad rows left out), aligned with ``runs``.
    projections : list of Projection
    """

    serial: str
    runs: list[RunRecord]
    old: RunRecord | None
    new: RunRecord | None
    diff: ListDiff | None
    growth: dict[str, float]
    longest_runs: list[int]
    projections: list[Projection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (what ``fastdefect history --json`` prints)."""

        def entries(defects: DefectList) -> list[dict[str, Any]]:
            return [
                {"row": int(r), "column": int(c), "kind": str(k)}
                for r, c, k in zip(defects.rows, defects.columns, defects.kinds, strict=True)
            ]

        comparison = None
        if self.diff is not None and self.old is not None and self.new is not None:
            comparison = {
                "old_run": self.old.id,
                "new_run": self.new.id,
                "years_between": _years(self.old.recorded_at, self.new.recorded_at),
                **self.diff.summary(),
                "persisting": len(self.diff.unchanged),
                "new_by_kind": self.diff.new.count_by_kind(),
                "healed_by_kind": self.diff.healed.count_by_kind(),
                "new_defects": entries(self.diff.new),
                "healed_defects": entries(self.diff.healed),
            }
        return {
            "serial": self.serial,
            "runs": [
                {**run.to_dict(), "longest_run": longest}
                for run, longest in zip(self.runs, self.longest_runs, strict=True)
            ],
            "comparison": comparison,
            "growth_per_year": self.growth,
            "projections": [p.to_dict() for p in self.projections],
        }


def _years(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / _SECONDS_PER_YEAR


def _slope(times: np.ndarray, values: np.ndarray) -> float:
    centred = times - times.mean()
    return float((centred * (values - values.mean())).sum() / (centred**2).sum())


def _project(
    limit: str,
    value: float,
    current: float,
    rate: float | None,
    latest: datetime,
    *,
    exceeded: bool,
) -> Projection:
    if exceeded:
        return Projection(limit, value, current, rate, "exceeded", 0.0, latest)
    if rate is None:
        return Projection(limit, value, current, None, "unknown")
    if rate <= 0:
        return Projection(limit, value, current, rate, "not growing")
    years = (value - current) / rate
    try:
        date = latest + timedelta(seconds=years * _SECONDS_PER_YEAR)
    except OverflowError:  # beyond the year 9999: no calendar date
        date = None
    return Projection(limit, value, current, rate, "projected", years, date)


def _longest_run(defects: DefectList, run: RunRecord, rules: str) -> int:
    points = defects.filter(kinds=[k for k in KINDS if k != "row"])
    if not len(points):
        return 0
    verdicts = check_list(points, rule_set(rules, width=run.width, height=run.height))
    return int(verdicts.run_lengths.max())


def camera_history(
    database: HistoryDatabase,
    serial: str,
    *,
    old: int | None = None,
    new: int | None = None,
    rules: str = "av",
    capacity: int = DEFAULT_CAPACITY,
) -> CameraHistory:
    """The history of camera ``serial``: comparison, growth and projections.

    Parameters
    ----------
    database : HistoryDatabase
    serial : str
    old, new : int, optional
        Run ids to compare; default the last two runs.
    rules : str
        Rule set giving the longest correctable run (``av``: 8).
    capacity : int
        Entries the camera's list holds.

    Raises
    ------
    InputError
        No run of that serial, or a run id that is not one of its runs.
    """
    runs = database.runs(serial)
    if not runs:
        known = database.serials()
        hint = f"; cameras recorded: {', '.join(known[:10])}" if known else "; none recorded yet"
        raise InputError(f"no run recorded for camera {serial!r} in {database!r}{hint}")
    by_id = {run.id: run for run in runs}
    for given in (old, new):
        if given is not None and given not in by_id:
            raise InputError(
                f"run {given} is not a run of camera {serial!r} (its runs: "
                f"{', '.join(str(r.id) for r in runs)})"
            )
    lists = {run.id: database.defects(run.id) for run in runs}
    longest = [_longest_run(lists[run.id], run, rules) for run in runs]

    old_run = new_run = diff = None
    if len(runs) >= 2 or (old is not None and new is not None):
        new_run = by_id[new] if new is not None else runs[-1]
        if old is not None:
            old_run = by_id[old]
        else:
            position = runs.index(new_run)
            old_run = runs[position - 1] if position > 0 else None
        if old_run is not None:
            diff = diff_lists(lists[old_run.id], lists[new_run.id])
        else:
            new_run = None

    times = np.array([_years(runs[0].recorded_at, run.recorded_at) for run in runs])
    growth: dict[str, float] = {}
    measurable = len(runs) >= 2 and np.ptp(times) > 0
    if measurable:
        kinds_seen = [k for k in KINDS if any(run.counts.get(k) for run in runs)]
        for kind in kinds_seen:
            counts = np.array([run.counts.get(kind, 0) for run in runs], np.float64)
            growth[kind] = _slope(times, counts)
        totals = np.array([run.defect_count for run in runs], np.float64)
        growth["total"] = _slope(times, totals)
    latest = runs[-1]
    hard_max = rule_set(rules).hard_max_run
    run_rate = _slope(times, np.array(longest, np.float64)) if measurable else None
    projections = [
        _project(
            "list capacity",
            float(capacity),
            float(latest.defect_count),
            growth.get("total"),
            latest.recorded_at,
            exceeded=latest.defect_count > capacity,
        )
    ]
    if hard_max is not None:
        projections.append(
            _project(
                f"run longer than {hard_max}",
                float(hard_max + 1),
                float(longest[-1]),
                run_rate,
                latest.recorded_at,
                exceeded=longest[-1] > hard_max,
            )
        )
    return CameraHistory(
        serial=serial,
        runs=runs,
        old=old_run,
        new=new_run,
        diff=diff,
        growth=growth,
        longest_runs=longest,
        projections=projections,
    )


def history_figure(history: CameraHistory):
    """Defects per kind and in total over time (matplotlib Figure; the ``plot`` extra)."""
    from ..plots import KIND_COLOURS, _figure

    figure = _figure(9.0, 4.5)
    axes = figure.add_subplot()
    times = [run.recorded_at for run in history.runs]
    totals = [run.defect_count for run in history.runs]
    axes.plot(times, totals, "-o", color="#8c8c8c", lw=3.0, label="total")
    for kind in KINDS:
        counts = [run.counts.get(kind, 0) for run in history.runs]
        if any(counts):
            axes.plot(times, counts, "-o", color=KIND_COLOURS[kind], lw=1.4, ms=3, label=kind)
    axes.set_ylabel("defective pixels")
    axes.set_xlabel("run date (UTC)")
    axes.grid(True, alpha=0.35)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    axes.set_title(
        f"Camera {history.serial}: {len(history.runs)} recorded runs", loc="left", fontsize=11
    )
    figure.autofmt_xdate()
    return figure
