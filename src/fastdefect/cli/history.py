"""``fastdefect history``: a camera's recorded runs, what changed, and where it leads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ._common import DbOption, JsonOption, console, print_json


def history_command(
    serial: Annotated[str, typer.Argument(help="Camera serial number, as recorded.")],
    db: DbOption = None,
    old: Annotated[
        int | None, typer.Option("--old", help="Run id to compare from (default: second last).")
    ] = None,
    new: Annotated[
        int | None, typer.Option("--new", help="Run id to compare to (default: the last).")
    ] = None,
    rules: Annotated[
        str, typer.Option("--rules", help="Camera rules for the run limit: av or arri.")
    ] = "av",
    capacity: Annotated[
        int, typer.Option("--capacity", min=1, help="Entries the camera's defect list holds.")
    ] = 16384,
    show: Annotated[
        int, typer.Option("--show", min=0, help="List at most this many new/healed defects.")
    ] = 20,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the defects-over-time plot to this PNG file."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite --plot.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Show a camera's runs over time, the new, healed and persisting defects between two
    runs (default the last two), the growth per year and when the camera's correction
    limits will be exceeded at that rate.

    Runs are recorded by 'fastdefect detect --db' and 'fastdefect batch --db'.
    """
    from ..fleet.db import open_database
    from ..fleet.history import camera_history, history_figure
    from ..outputs import atomic_output, check_output_path
    from ..rules import rule_set

    rule_set(rules)
    if plot is not None:
        check_output_path(plot, overwrite=force)
    with open_database(db) as database:
        history = camera_history(database, serial, old=old, new=new, rules=rules, capacity=capacity)
    if plot is not None:
        from ..plots import figure_png

        with atomic_output(plot, overwrite=force) as tmp:
            tmp.write_bytes(figure_png(history_figure(history)))
    if json_output:
        document = history.to_dict()
        document["plot"] = str(plot) if plot else None
        print_json(document)
        return
    _render(history, show)


def _render(history, show: int) -> None:
    runs = Table(title=f"Runs of camera {escape(history.serial)}", title_justify="left", box=None)
    for column in ("run", "date (UTC)", "command", "size", "frames", "exposure", "defects",
                   "longest run"):  # fmt: skip
        runs.add_column(
            column,
            justify="left" if column in ("date (UTC)", "command") else "right",
            no_wrap=True,
        )
    for run, longest in zip(history.runs, history.longest_runs, strict=True):
        exposure = f"{run.exposure_us / 1000:g} ms" if run.exposure_us else "?"
        runs.add_row(
            str(run.id),
            run.recorded_at.strftime("%Y-%m-%d %H:%M"),
            escape(run.command),
            f"{run.width} x {run.height}",
            f"{run.dark_frames}+{run.bright_frames}",
            exposure,
            f"{run.defect_count:,}",
            str(longest),
        )
    console.print(runs)
    if history.diff is not None:
        diff = history.diff
        console.print(
            f"run {history.old.id} → run {history.new.id}: [bold]{len(diff.new):,} new[/bold], "
            f"{len(diff.healed):,} healed, {len(diff.unchanged):,} persisting "
            f"({len(diff.kind_changed):,} changed kind)"
        )
        for label, defects in (("new", diff.new), ("healed", diff.healed)):
            if not len(defects) or not show:
                continue
            listed = ", ".join(
                f"({r}, {c}) {k}"
                for r, c, k in zip(
                    defects.rows[:show], defects.columns[:show], defects.kinds[:show], strict=True
                )
            )
            more = f" ... and {len(defects) - show:,} more" if len(defects) > show else ""
            console.print(f"  {label} (row, column): {listed}{more}", soft_wrap=True)
    else:
        console.print("one run recorded: nothing to compare yet")
    if history.growth:
        growth = ", ".join(f"{kind} {rate:+.2f}" for kind, rate in history.growth.items())
        console.print(f"growth per year: {growth}", soft_wrap=True)
    for projection in history.projections:
        text = {
            "exceeded": "exceeded already",
            "not growing": "not growing: no projection",
            "unknown": "needs two runs at different times",
        }.get(projection.status)
        if text is None:
            when = f" ({projection.date:%Y-%m-%d})" if projection.date else ""
            text = (
                f"in {projection.years:,.1f} years{when} at "
                f"{projection.rate_per_year:+.2f} per year"
            )
        console.print(
            f"{projection.limit}: now {projection.current:g} of {projection.value:g} → {text}"
        )


def register(app: typer.Typer) -> None:
    app.command("history", no_args_is_help=True)(history_command)
