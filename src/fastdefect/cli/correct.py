"""``fastdefect correct``, ``preview`` and ``confirm``: see the corrected image first.

* ``correct IMAGE --defects LIST -o OUT.tif`` simulates the camera's correction on a
  frame or a whole stack (multi-page in, multi-page out, streaming) and says which
  listed pixels stay uncorrected and why. ``--confirm`` also runs the detection rule on
  the corrected frames (exit 1 when a listed defect is still visible).
* ``preview IMAGE --defects LIST -o preview.png`` renders before/after crops of the worst
  places in three views (don't mask / mask / highlight).
* ``confirm IMAGE --defects LIST`` is the vendor's "confirm pixel defects are masked"
  step on frames captured with the camera's masking on (or corrected here): which listed
  defects are still visible, and why (exit 1 when any is).

Everything is checked before anything is written: the list must fit the image (no
entry outside it, the same sensor size when the list states one); an output that exists
needs ``--force``, and an input is never overwritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..defaults import DEFAULT_LINE_THRESHOLD, DEFAULT_PIXEL_THRESHOLD
from ..errors import ExitCode, InputError
from ._common import (
    BitDepthOption,
    CfaOption,
    ForceOption,
    JsonOption,
    LimitOption,
    console,
    exit_with,
    print_json,
    progress_bar,
    warn,
)

if TYPE_CHECKING:
    from ..correction import ConfirmResult, CorrectionReport
    from ..formats import ListFile
    from ..frames import FrameStack


def register(app: typer.Typer) -> None:
    app.command("correct", no_args_is_help=True)(correct_command)
    app.command("preview", no_args_is_help=True)(preview_command)
    app.command("confirm", no_args_is_help=True)(confirm_command)


# -- shared options ------------------------------------------------------------------------

ImageArgument = Annotated[
    str,
    typer.Argument(
        help="The image or stack: a TIFF (multi-page = stack), .npy, raw file, directory or glob.",
        show_default=False,
    ),
]
DefectsOption = Annotated[
    Path,
    typer.Option(
        "--defects",
        "-d",
        help="The defect list (av-csv, csv, json, bin, arri-xml, dcraw, mask TIFF).",
        show_default=False,
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option("--from", help="Format of the defect list. Default: from the file."),
]
MethodOption = Annotated[
    str,
    typer.Option(
        "--method",
        "-m",
        help="left: the Allied Vision camera (copy the nearest good pixel to the left); "
        "mean / median: interpolate from the good same-colour neighbours (ARRI-like).",
    ),
]
RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Rule set for run limits and verdicts: av (default for left) or arri "
        "(default for mean/median).",
    ),
]
MaxRunOption = Annotated[
    int | None,
    typer.Option(
        "--max-run",
        min=0,
        help="left: longest run the camera corrects (default from the rule set: 8); 0 = no limit.",
    ),
]
ThresholdOption = Annotated[
    str,
    typer.Option("--threshold", help="Confirm: pixel deviation threshold (408, 102lsb10, 10%)."),
]
LineThresholdOption = Annotated[
    str, typer.Option("--line-threshold", help="Confirm: column/row mean deviation threshold.")
]


def _read_list(path: Path, fmt: str | None) -> ListFile:
    from ..formats import read_list_file

    return read_list_file(path, fmt, on_warning=warn)


def _open(image: str, bit_depth: int | None) -> FrameStack:
    from ..frames import open_stack

    return open_stack(image, bit_depth=bit_depth)


def _check_fits(listed: ListFile, stack: FrameStack) -> None:
    from ..correction import check_list_fits

    check_list_fits(
        listed.defects,
        stack.shape,
        width=listed.width,
        height=listed.height,
        label=str(listed.path),
    )


def _rules(name: str | None) -> Any:
    from ..rules import rule_set

    if name is None:
        return None
    return rule_set(name)


def _config(threshold: str, line_threshold: str, cfa: str | None) -> Any:
    from ..detection import DetectionConfig

    return DetectionConfig(pixel_threshold=threshold, line_threshold=line_threshold, cfa=cfa)


# -- correct -------------------------------------------------------------------------------


def correct_command(
    image: ImageArgument,
    defects: DefectsOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The corrected image/stack (.tif).", show_default=False
        ),
    ],
    method: MethodOption = "left",
    list_format: FromOption = None,
    rules: RulesOption = None,
    max_run: MaxRunOption = None,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Also check the corrected frames for listed defects still visible "
            "(exit 1 when there are).",
        ),
    ] = False,
    threshold: ThresholdOption = DEFAULT_PIXEL_THRESHOLD,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    limit: LimitOption = 20,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Simulate the camera's correction of a defect list on an image or a whole stack.

    Writes the corrected frames as a TIFF (one page per frame, streaming) with the
    correction in its metadata, and lists the pixels that stay uncorrected and why: runs
    longer than the camera corrects, no active pixel to the left, no good neighbour.
    """
    from ..correction import correct_stack
    from ..outputs import check_output_path, refuse_input_as_output

    if output.suffix.lower() not in (".tif", ".tiff"):
        raise InputError(f"-o {output}: the corrected frames are written as TIFF (.tif)")
    check_output_path(output, overwrite=force)
    listed = _read_list(defects, list_format)
    stack = _open(image, bit_depth)
    refuse_input_as_output(output, [*stack.paths, defects])
    _check_fits(listed, stack)
    config = _config(threshold, line_threshold, cfa) if confirm else None
    corrected = correct_stack(
        stack,
        listed.defects,
        method=method,
        cfa=cfa,
        rules=_rules(rules),
        max_run=max_run,
        label=str(defects),
    )
    with progress_bar("correcting frames", stack.n_frames) as progress:
        corrected.write(
            output,
            overwrite=force,
            metadata={"defect_list": str(defects), "defect_list_format": listed.format},
            progress=progress,
            accumulate=confirm,
        )
    result = corrected.confirm(config) if confirm else None
    report = corrected.report
    if json_output:
        print_json(
            {
                "image": stack.label,
                "defects": str(defects),
                "output": str(output),
                "frames": stack.n_frames,
                "bit_depth": stack.bit_depth,
                "correction": report.to_dict(limit=None),
                "confirm": result.to_dict(limit=None) if result else None,
            }
        )
    else:
        _render_report(report, limit)
        if result is not None:
            _render_confirm(result, limit)
        console.print(
            f"{stack.n_frames} frame{'s' if stack.n_frames != 1 else ''} of "
            f"{stack.shape[1]} x {stack.shape[0]} → {escape(str(output))}"
        )
    if result is not None:
        for message in result.warnings:
            warn(message)
        if result.visible:
            exit_with(ExitCode.FINDINGS)


def _render_report(report: CorrectionReport, limit: int) -> None:
    table = Table(title="Correction", title_justify="left", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("pixels", justify="right")
    method = report.method + (f" per colour plane ({report.cfa})" if report.cfa else "")
    table.add_row("method", method)
    table.add_row("listed (unique)", str(report.pixels))
    if report.duplicates:
        table.add_row("duplicate entries", str(report.duplicates))
    table.add_row("[green]corrected[/green]", f"[green]{report.corrected}[/green]")
    if report.not_recommended:
        table.add_row(
            f"  [yellow]in runs of {report.recommended_run + 1}-{report.max_run} "
            "(not recommended)[/yellow]",
            f"[yellow]{report.not_recommended}[/yellow]",
        )
    colour = "red" if report.uncorrected else "green"
    table.add_row(f"[{colour}]not corrected[/{colour}]", f"[{colour}]{report.uncorrected}[/]")
    for reason, count in report.reasons.items():
        table.add_row(f"  {reason.replace('_', ' ')}", str(count))
    console.print(table)
    if report.uncorrected and limit:
        pixels = Table(title="Not corrected", title_justify="left", box=None, pad_edge=False)
        for column in ("row", "column", "run", "why"):
            pixels.add_column(column, justify="right" if column != "why" else "left")
        for record in report.uncorrected_records(limit):
            pixels.add_row(
                str(record["row"]),
                str(record["column"]),
                str(record["run_length"]),
                record["reason"],
            )
        console.print(pixels)
        if report.uncorrected > limit:
            console.print(f"... and {report.uncorrected - limit} more (--limit, --json)")


def _render_confirm(result: ConfirmResult, limit: int) -> None:
    verdict = (
        "[green]every listed defect is masked[/green]"
        if result.clean
        else (
            f"[red]{result.visible} of {result.listed} listed pixels still visible[/red]"
            + (
                f" ([red]{int(result.visible_corrected.sum())} of them corrected[/red])"
                if not result.masked
                else " (all of them left uncorrected)"
            )
        )
    )
    console.print(
        f"Confirm on {escape(result.label)}: {verdict}; thresholds {result.threshold_dn:g} DN "
        f"(pixel), {result.line_threshold_dn:g} DN (line), {result.n_frames} frame(s)"
    )
    if result.visible and limit:
        table = Table(box=None, pad_edge=False)
        for column in ("row", "column", "deviation DN", "why"):
            table.add_column(column, justify="right" if column != "why" else "left")
        for record in result.visible_records(limit):
            deviation = record["deviation"]
            table.add_row(
                str(record["row"]),
                str(record["column"]),
                "line" if deviation != deviation else f"{deviation:.1f}",
                record["reason"],
            )
        console.print(table)
        if result.visible > limit:
            console.print(f"... and {result.visible - limit} more (--limit, --json)")
    unlisted = int(result.unlisted_rows.size)
    if unlisted:
        where = ", ".join(
            f"({r['row']}, {r['column']})" for r in result.unlisted_records(min(limit, 5))
        )
        console.print(
            f"[yellow]{unlisted} pixels above the threshold are not on the list[/yellow]"
            + (f": {where}" + (" ..." if unlisted > 5 else "") if where else "")
        )
    lines = [f"column {c}" for c in result.bad_columns.tolist()[:5]]
    lines += [f"row {r}" for r in result.bad_rows.tolist()[:5]]
    if lines:
        console.print(f"[yellow]lines still deviating:[/yellow] {', '.join(lines)}")


# -- confirm -------------------------------------------------------------------------------


def confirm_command(
    image: ImageArgument,
    defects: DefectsOption,
    method: MethodOption = "left",
    list_format: FromOption = None,
    rules: RulesOption = None,
    max_run: MaxRunOption = None,
    threshold: ThresholdOption = DEFAULT_PIXEL_THRESHOLD,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    limit: LimitOption = 20,
    json_output: JsonOption = False,
) -> None:
    """Confirm that the listed defects are masked in corrected frames.

    Give frames captured with the camera's masking on (DefectMaskEnable) or written by
    ``fastdefect correct``, and the list that was applied. Runs the detection rule on
    them and reports each listed defect that is still visible, and why (not corrected,
    corrected from a defective neighbour, its line still deviates, or still above the
    threshold). Exit 1 when any listed defect is visible.
    """
    from ..correction import confirm_masked

    listed = _read_list(defects, list_format)
    stack = _open(image, bit_depth)
    _check_fits(listed, stack)
    with progress_bar("reading frames", stack.n_frames) as progress:
        result = confirm_masked(
            stack,
            listed.defects,
            method=method,
            cfa=cfa,
            rules=_rules(rules),
            max_run=max_run,
            config=_config(threshold, line_threshold, cfa),
            progress=progress,
        )
    if json_output:
        print_json({"image": stack.label, "defects": str(defects), **result.to_dict(limit=None)})
    else:
        for message in result.warnings:
            warn(message)
        _render_confirm(result, limit)
    if result.visible:
        exit_with(ExitCode.FINDINGS)


# -- preview -------------------------------------------------------------------------------


def _parse_at(values: list[str]) -> list[tuple[int, int]]:
    places = []
    for value in values:
        parts = value.replace(" ", "").split(",")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InputError(f"--at {value!r}: give a place as ROW,COLUMN, e.g. --at 812,301")
        places.append((int(parts[0]), int(parts[1])))
    return places


def preview_command(
    image: ImageArgument,
    defects: DefectsOption,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The preview picture (.png).", show_default=False),
    ],
    at: Annotated[
        list[str] | None,
        typer.Option("--at", help="Show this place, ROW,COLUMN, instead of choosing. Repeatable."),
    ] = None,
    crops: Annotated[
        int, typer.Option("--crops", "-n", min=1, max=50, help="How many places to show.")
    ] = 6,
    crop_size: Annotated[
        int,
        typer.Option("--crop-size", min=1, max=512, help="Side of a crop in sensor pixels."),
    ] = 21,
    scale: Annotated[
        int | None,
        typer.Option(
            "--scale", min=1, max=64, help="Screen pixels per sensor pixel (default: auto)."
        ),
    ] = None,
    method: MethodOption = "left",
    list_format: FromOption = None,
    rules: RulesOption = None,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Render before/after crops of the worst places of a correction as a PNG.

    Three views per place, like the ARRI Reference Tool: don't mask, mask, and
    highlight (listed pixels painted green = corrected, amber = corrected but not
    recommended, red = not corrected). The places are the worst ones (uncorrectable
    runs, warnings, large clusters, strongest defects), or those given with --at. Each
    crop is contrast-stretched on its own so dark frames show their noise. A stack is
    shown as its mean.
    """
    from ..outputs import check_output_path, refuse_input_as_output
    from ..preview import render_preview, require_pillow

    if output.suffix.lower() != ".png":
        raise InputError(f"-o {output}: the preview is written as PNG (.png)")
    check_output_path(output, overwrite=force)
    require_pillow()  # a clear message before any work when Pillow is missing
    places = _parse_at(at) if at else None
    listed = _read_list(defects, list_format)
    stack = _open(image, bit_depth)
    refuse_input_as_output(output, [*stack.paths, defects])
    _check_fits(listed, stack)
    preview = render_preview(
        stack,
        listed.defects,
        method=method,
        cfa=cfa,
        rules=_rules(rules),
        at=places,
        crops=crops,
        crop=crop_size,
        scale=scale,
        title=f"{stack.label} · {defects}",
    )
    preview.save(output, overwrite=force)
    sites = [
        {
            "row": site.row,
            "column": site.column,
            "top": site.top,
            "left": site.left,
            "height": site.height,
            "width": site.width,
            "verdict": ("ok", "warn", "error")[site.level] if site.level >= 0 else None,
            "label": site.lines,
        }
        for site in preview.sites
    ]
    if json_output:
        print_json(
            {
                "image": stack.label,
                "defects": str(defects),
                "output": str(output),
                "method": preview.plan.method,
                "size": list(preview.size),
                "scale": preview.scale,
                "sites": sites,
            }
        )
        return
    table = Table(title="Places shown", title_justify="left", box=None, pad_edge=False)
    for column in ("#", "row", "column", "what"):
        table.add_column(column, justify="right" if column != "what" else "left")
    colours = {0: "green", 1: "yellow", 2: "red"}
    for number, site in enumerate(preview.sites, start=1):
        colour = colours.get(site.level, "white")
        text = f"[{colour}]{escape('; '.join(site.lines[:2]))}[/{colour}]"
        table.add_row(str(number), str(site.row), str(site.column), text)
    console.print(table)
    width, height = preview.size
    console.print(f"→ {escape(str(output))} ({width} x {height} pixels)")
