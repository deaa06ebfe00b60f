"""``fastdefect list ...``: check, edit, merge, compare and convert defect lists.

Every command reads lists with :func:`fastdefect.formats.read_list_file` (format from
``--from`` or inferred), calls the API, and renders. Edits never touch the input unless
``--in-place`` is given (then ``FILE.bak`` keeps the old content); ``-o OUT`` writes
elsewhere and refuses an existing ``OUT`` without ``--force``. All writes are atomic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ..errors import ExitCode, InputError
from ._common import (
    CfaOption,
    ForceOption,
    JsonOption,
    LimitOption,
    console,
    exit_with,
    print_json,
    warn,
)

if TYPE_CHECKING:
    from ..defects import DefectList
    from ..formats import ListFile

list_app = typer.Typer(
    name="list",
    help="Check, edit, merge, compare and convert defect lists "
    "(av-csv, csv, json, bin, arri-xml, dcraw, mask, fits-mask).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(app: typer.Typer) -> None:
    app.add_typer(list_app, name="list")


# -- shared options ------------------------------------------------------------------------

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Input format: av-csv, csv, json, bin, arri-xml, dcraw, mask, fits-mask. "
        "Default: from the extension (.csv: from the header).",
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Output format (names as --from). Default: from the extension."),
]
LenientOption = Annotated[
    bool,
    typer.Option(
        "--lenient",
        help="Read bad values of an Allied Vision CSV as 0 like the vendor tool, with a "
        "warning for each (default: refuse the file).",
    ),
]
WidthOption = Annotated[
    int | None, typer.Option("--width", min=1, max=65536, help="Sensor width in pixels.")
]
HeightOption = Annotated[
    int | None, typer.Option("--height", min=1, max=65536, help="Sensor height in pixels.")
]
SensorOption = Annotated[
    str | None,
    typer.Option("--sensor", help="Sensor or camera model preset for the size, e.g. GT5120."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
]
InPlaceOption = Annotated[
    bool, typer.Option("--in-place", help="Replace FILE itself, keeping the old one as FILE.bak.")
]
SerialOption = Annotated[
    str | None, typer.Option("--serial", help="Camera serial (required for arri-xml).")
]
ModelOption = Annotated[str | None, typer.Option("--model", help="Camera model (bin, arri-xml).")]
OffsetXOption = Annotated[
    int | None, typer.Option("--offset-x", help="arri-xml: X offset added on export.")
]
OffsetYOption = Annotated[
    int | None, typer.Option("--offset-y", help="arri-xml: Y offset added on export.")
]

_STYLE = {0: "green", 1: "yellow", 2: "red"}


def _read(path: Path, fmt: str | None, lenient: bool = False) -> ListFile:
    from ..formats import read_list_file

    return read_list_file(path, fmt, lenient=lenient, on_warning=warn)


def _sensor_size(
    width: int | None,
    height: int | None,
    sensor: str | None,
    listfile: ListFile | None = None,
) -> tuple[int, int] | None:
    """Sensor size from --width/--height, else --sensor, else what the file says."""
    if (width is None) != (height is None):
        raise InputError("give both --width and --height")
    if width is not None and sensor is not None:
        raise InputError("give --width/--height or --sensor, not both")
    if width is not None:
        return int(width), int(height)
    if sensor is not None:
        from ..sensor import sensor_preset

        spec = sensor_preset(sensor)
        return spec.width, spec.height
    if listfile is not None and listfile.width is not None:
        return listfile.width, listfile.height
    return None


def _edit_target(
    file: Path, output: Path | None, in_place: bool, force: bool
) -> tuple[Path, bool, bool]:
    """Where an edit of ``file`` goes: ``(path, overwrite, keep_bak)``; checked up front."""
    from ..outputs import check_output_path

    if in_place and output is not None:
        raise InputError("give either --in-place or -o OUT, not both")
    if in_place:
        return file, True, True
    if output is None:
        raise InputError(
            f"this command changes {file}: give --in-place to replace it (keeps "
            f"{file.name}.bak) or -o OUT to write the result elsewhere"
        )
    _refuse_input_as_output(output, [file])
    check_output_path(output, overwrite=force)
    return output, force, False


def _refuse_input_as_output(output: Path, inputs: list[Path]) -> None:
    from ..outputs import refuse_input_as_output

    refuse_input_as_output(
        output, inputs, hint="(edit commands take --in-place, which keeps a .bak)"
    )


def _write(
    path: Path,
    defects: DefectList,
    *,
    to: str | None,
    like: ListFile | None,
    overwrite: bool,
    keep_bak: bool,
    options: dict[str, Any],
) -> str:
    from ..formats import write_list_file

    return write_list_file(
        path,
        defects,
        to,
        like=like,
        overwrite=overwrite,
        backup=keep_bak,
        on_warning=warn,
        **options,
    )


def _records_table(title: str, defects: DefectList, limit: int) -> None:
    from rich.table import Table

    table = Table(title=escape(title), title_justify="left")
    for name in ("Row", "Column", "Kind", "Source"):
        table.add_column(name, justify="right" if name in ("Row", "Column") else "left")
    shown = defects[:limit]
    for record in shown:
        table.add_row(str(record.row), str(record.column), record.kind, escape(record.source))
    console.print(table)
    if len(defects) > limit:
        console.print(f"... and {len(defects) - limit} more (use --limit)")


# -- commands --------------------------------------------------------------------------------


@list_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The list file to check.")],
    width: WidthOption = None,
    height: HeightOption = None,
    sensor: SensorOption = None,
    rules: Annotated[
        str,
        typer.Option(
            "--rules",
            help="Rule set: av (Allied Vision, left neighbour) or "
            "arri (interpolating, cluster density).",
        ),
    ] = "av",
    factory: Annotated[
        Path | None,
        typer.Option("--factory", help="The camera's factory list: counts for runs, not judged."),
    ] = None,
    cfa: CfaOption = None,
    fmt: FromOption = None,
    lenient: LenientOption = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every entry, not only the problems.")
    ] = False,
    limit: LimitOption = 50,
    json_output: JsonOption = False,
) -> None:
    """Judge every entry against the camera's correction rules.

    Colours as in the vendor tool: green ok, yellow not recommended (a run of 5-8),
    red cannot be corrected (a run of more than 8, no active pixel to the left, outside
    the sensor). Exit code 1 when any entry is red, 0 otherwise, 2 when the file cannot
    be read.
    """
    import numpy as np

    from ..defects import KINDS
    from ..rules import Verdict, rule_set

    listfile = _read(file, fmt, lenient)
    size = _sensor_size(width, height, sensor, listfile)
    width, height = size or (None, None)
    ruleset = rule_set(rules).with_sensor(width=width, height=height, cfa=cfa)
    context = _read(factory, None, lenient).defects if factory is not None else None
    verdicts = ruleset.check(listfile.defects, context=context)
    if size is None:
        warn(
            "no sensor size given: coordinates are not checked against the sensor "
            "(give --width/--height or --sensor)"
        )
    indices = list(range(len(verdicts))) if show_all else verdicts.problems().tolist()
    if json_output:
        print_json(
            {
                "file": str(file),
                "format": listfile.format,
                **verdicts.summary(),
                "rules": ruleset.to_dict(),
                "problems" if not show_all else "entries": verdicts.to_records(indices),
            }
        )
    else:
        from rich.table import Table

        counts = verdicts.counts()
        if not show_all and len(verdicts) <= limit:
            indices = list(range(len(verdicts)))
        shown = indices[:limit]
        if shown:
            table = Table(
                title=escape(f"{file} ({listfile.format}, rules {ruleset.name})"),
                title_justify="left",
            )
            defects = listfile.defects
            show_kind = bool(np.any(defects.kind_codes != KINDS.index("unknown")))
            show_source = len(set(defects.source_codes.tolist())) > 1
            columns = ["#", "Row", "Column"]
            columns += ["Kind"] if show_kind else []
            columns += ["Source"] if show_source else []
            for name in [*columns, "Verdict", "Reason"]:
                table.add_column(
                    name, justify="right" if name in ("#", "Row", "Column") else "left"
                )
            records = verdicts.to_records(shown)
            for index, record in zip(shown, records, strict=True):
                level = Verdict[record["verdict"].upper()]
                cells = [str(index + 1), str(record["row"]), str(record["column"])]
                cells += [record["kind"]] if show_kind else []
                cells += [escape(record["source"])] if show_source else []
                cells += [record["verdict"], escape(record["reason"])]
                table.add_row(*cells, style=_STYLE[int(level)])
            console.print(table)
            if len(indices) > len(shown):
                what = "entries" if show_all else "problem entries"
                console.print(
                    f"... and {len(indices) - len(shown)} more {what} (use --limit or --json)"
                )
        where = f", sensor {size[0]} x {size[1]}" if size else ""
        console.print(
            f"{len(verdicts)} entries: [green]{counts['ok']} ok[/green], "
            f"[yellow]{counts['warn']} warn[/yellow], [red]{counts['error']} error[/red] "
            f"(rules {ruleset.name}{where})"
        )
        duplicates = int(verdicts.duplicate.sum())
        if duplicates:
            console.print(f"{duplicates} duplicate entries (the camera keeps one of each)")
    if verdicts.has_errors:
        exit_with(ExitCode.FINDINGS)


@list_app.command("stats")
def stats(
    file: Annotated[Path, typer.Argument(help="The list file.")],
    fmt: FromOption = None,
    lenient: LenientOption = False,
    json_output: JsonOption = False,
) -> None:
    """Counts per kind and source, duplicates, clusters and the longest run."""
    listfile = _read(file, fmt, lenient)
    summary = listfile.defects.statistics()
    document = {"file": str(file), "format": listfile.format, **summary.to_dict()}
    if listfile.width is not None:
        document["sensor"] = {"width": listfile.width, "height": listfile.height}
    if listfile.serial is not None:
        document["serial"] = listfile.serial
    if json_output:
        print_json(document)
        return
    from rich.table import Table

    table = Table(
        title=escape(f"{file} ({listfile.format})"), title_justify="left", show_header=False
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in (
        "entries",
        "unique_positions",
        "duplicates",
        "clusters",
        "single_pixels",
        "largest_cluster",
        "longest_run",
    ):
        table.add_row(key.replace("_", " "), str(document[key]))
    for kind, count in summary.by_kind.items():
        table.add_row(f"kind {kind}", str(count))
    for source, count in summary.by_source.items():
        table.add_row(f"source {escape(source)}", str(count))
    if summary.cluster_sizes:
        sizes = ", ".join(f"{n} x {size}" for size, n in sorted(summary.cluster_sizes.items()))
        table.add_row("clusters by size", sizes)
    if "sensor" in document:
        table.add_row("sensor", f"{listfile.width} x {listfile.height}")
    if "serial" in document:
        table.add_row("serial", escape(listfile.serial or ""))
    console.print(table)


@list_app.command("merge")
def merge(
    files: Annotated[list[Path], typer.Argument(help="Lists to merge (two or more).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged list.")],
    fmt: FromOption = None,
    to: ToOption = None,
    lenient: LenientOption = False,
    force: ForceOption = False,
    width: WidthOption = None,
    height: HeightOption = None,
    sensor: SensorOption = None,
    serial: SerialOption = None,
    model: ModelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Merge lists like the camera does: one entry per pixel (the richest), sorted."""
    from ..defects import merge_lists
    from ..outputs import check_output_path

    if len(files) < 2:
        raise InputError("merge needs at least two lists")
    _refuse_input_as_output(output, files)
    check_output_path(output, overwrite=force)
    listfiles = [_read(path, fmt, lenient) for path in files]
    merged = merge_lists([lf.defects for lf in listfiles])
    size = _sensor_size(width, height, sensor)
    name = _write(
        output,
        merged,
        to=to,
        like=listfiles[0],
        overwrite=force,
        keep_bak=False,
        options={
            "width": size[0] if size else None,
            "height": size[1] if size else None,
            "serial": serial,
            "model": model,
        },
    )
    total = sum(len(lf.defects) for lf in listfiles)
    if json_output:
        print_json(
            {
                "inputs": [str(p) for p in files],
                "entries_in": total,
                "entries_out": len(merged),
                "output": str(output),
                "format": name,
            }
        )
    else:
        console.print(
            f"merged {len(files)} lists ({total} entries) into {len(merged)} unique "
            f"entries: {output} ({name})",
            markup=False,
        )


@list_app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(help="The older list.")],
    new: Annotated[Path, typer.Argument(help="The newer list.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the new defects to this file.")
    ] = None,
    fmt: FromOption = None,
    to: ToOption = None,
    lenient: LenientOption = False,
    force: ForceOption = False,
    limit: LimitOption = 20,
    json_output: JsonOption = False,
) -> None:
    """Compare two lists: new, healed and unchanged defects (how a sensor ages)."""
    from ..defects import diff_lists
    from ..outputs import check_output_path

    if output is not None:
        _refuse_input_as_output(output, [old, new])
        check_output_path(output, overwrite=force)
    old_file = _read(old, fmt, lenient)
    new_file = _read(new, fmt, lenient)
    result = diff_lists(old_file.defects, new_file.defects)
    if output is not None:
        _write(
            output, result.new, to=to, like=new_file, overwrite=force, keep_bak=False, options={}
        )
    if json_output:

        def positions(defects: DefectList) -> list[dict[str, Any]]:
            return [{"row": r.row, "column": r.column, "kind": r.kind} for r in defects]

        print_json(
            {
                "old": str(old),
                "new": str(new),
                **result.summary(),
                "new_defects": positions(result.new),
                "healed_defects": positions(result.healed),
                "kind_changed": positions(result.kind_changed),
            }
        )
        return
    summary = result.summary()
    console.print(
        f"{escape(str(old))} -> {escape(str(new))}: [red]{summary['new']} new[/red], "
        f"[green]{summary['healed']} "
        f"healed[/green], {summary['unchanged']} unchanged"
        + (f" ({summary['kind_changed']} changed kind)" if summary["kind_changed"] else "")
    )
    if len(result.new):
        _records_table("new defects", result.new, limit)
    if len(result.healed):
        _records_table("healed defects", result.healed, limit)
    if output is not None:
        console.print(f"new defects written to {output}", markup=False)


def _pairs(values: list[int]) -> tuple[list[int], list[int]]:
    if len(values) % 2:
        raise InputError(f"coordinates come in pairs ROW COLUMN; got {len(values)} numbers")
    return values[0::2], values[1::2]


@list_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="The list to add to.")],
    coordinates: Annotated[list[int], typer.Argument(help="ROW COLUMN [ROW COLUMN ...]")],
    kind: Annotated[str, typer.Option("--kind", help="Kind of the new entries.")] = "unknown",
    source: Annotated[str, typer.Option("--source", help="Source label.")] = "user",
    output: OutputOption = None,
    in_place: InPlaceOption = False,
    force: ForceOption = False,
    fmt: FromOption = None,
    to: ToOption = None,
    lenient: LenientOption = False,
) -> None:
    """Add entries (ROW COLUMN pairs, 0-based) to a list; positions already listed are skipped."""
    rows, columns = _pairs(coordinates)
    target, overwrite, keep_bak = _edit_target(file, output, in_place, force)
    listfile = _read(file, fmt, lenient)
    result = listfile.defects.add(
        rows, columns, kind=kind, source=source, skip_listed=True, on_skipped=warn
    )
    _write(target, result, to=to, like=listfile, overwrite=overwrite, keep_bak=keep_bak, options={})
    added = len(result) - len(listfile.defects)
    console.print(f"added {added} entries: {target} now lists {len(result)}", markup=False)


@list_app.command("remove")
def remove(
    file: Annotated[Path, typer.Argument(help="The list to remove from.")],
    coordinates: Annotated[list[int], typer.Argument(help="ROW COLUMN [ROW COLUMN ...]")],
    output: OutputOption = None,
    in_place: InPlaceOption = False,
    force: ForceOption = False,
    fmt: FromOption = None,
    to: ToOption = None,
    lenient: LenientOption = False,
) -> None:
    """Remove every entry at the given positions; a position not in the list is an error."""
    rows, columns = _pairs(coordinates)
    target, overwrite, keep_bak = _edit_target(file, output, in_place, force)
    listfile = _read(file, fmt, lenient)
    try:
        result = listfile.defects.remove(rows, columns)
    except InputError as exc:
        raise InputError(f"{file}: {exc}; nothing written") from exc
    _write(target, result, to=to, like=listfile, overwrite=overwrite, keep_bak=keep_bak, options={})
    removed = len(listfile.defects) - len(result)
    console.print(f"removed {removed} entries: {target} now lists {len(result)}", markup=False)


@list_app.command("clear")
def clear(
    file: Annotated[Path, typer.Argument(help="The list to clear.")],
    output: OutputOption = None,
    in_place: InPlaceOption = False,
    force: ForceOption = False,
    fmt: FromOption = None,
    to: ToOption = None,
    lenient: LenientOption = False,
) -> None:
    """Remove every user entry (a camera backup keeps its factory entries)."""
    target, overwrite, keep_bak = _edit_target(file, output, in_place, force)
    listfile = _read(file, fmt, lenient)
    result = listfile.cleared()
    _write(target, result, to=to, like=listfile, overwrite=overwrite, keep_bak=keep_bak, options={})
    kept = f" ({len(result)} factory entries kept)" if len(result) else ""
    console.print(
        f"cleared {len(listfile.defects) - len(result)} entries: {target}{kept}", markup=False
    )


@list_app.command("convert")
def convert(
    source_file: Annotated[Path, typer.Argument(metavar="IN", help="The list to convert.")],
    output: Annotated[Path, typer.Argument(metavar="OUT", help="The file to write.")],
    fmt: FromOption = None,
    to: ToOption = None,
    serial: SerialOption = None,
    model: ModelOption = None,
    offset_x: OffsetXOption = None,
    offset_y: OffsetYOption = None,
    width: WidthOption = None,
    height: HeightOption = None,
    sensor: SensorOption = None,
    lenient: LenientOption = False,
    force: ForceOption = False,
) -> None:
    """Convert a list between formats (inferred from the extensions unless given)."""
    from ..outputs import check_output_path

    _refuse_input_as_output(output, [source_file])
    check_output_path(output, overwrite=force)
    listfile = _read(source_file, fmt, lenient)
    size = _sensor_size(width, height, sensor)
    name = _write(
        output,
        listfile.defects,
        to=to,
        like=listfile,
        overwrite=force,
        keep_bak=False,
        options={
            "serial": serial,
            "model": model,
            "offset_x": offset_x,
            "offset_y": offset_y,
            "width": size[0] if size else None,
            "height": size[1] if size else None,
        },
    )
    console.print(
        f"{source_file} ({listfile.format}) -> {output} ({name}): {len(listfile.defects)} entries",
        markup=False,
    )
