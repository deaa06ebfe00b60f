"""``fastdefect detect``: find and classify defects from dark and bright stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..defaults import DEFAULT_LINE_THRESHOLD, DEFAULT_PIXEL_THRESHOLD
from ._common import (
    BitDepthOption,
    BrightOption,
    CfaOption,
    DarkExposureOption,
    DarkOption,
    DbOption,
    ForceOption,
    JsonOption,
    LineThresholdOption,
    NoiseFactorOption,
    PixelThresholdOption,
    SaturatedOption,
    VoteOption,
    console,
    detection_config,
    print_json,
    progress_bar,
    require_frames,
    warn,
)


def detect_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the defect list (.csv, .json, .txt ...)."),
    ] = None,
    dark: DarkOption = None,
    bright: BrightOption = None,
    saturated: SaturatedOption = None,
    dark_exposure: DarkExposureOption = None,
    threshold: PixelThresholdOption = DEFAULT_PIXEL_THRESHOLD,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    noise_factor: NoiseFactorOption = 3.0,
    vote: VoteOption = 0.0,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
    dark_master: Annotated[
        list[str] | None,
        typer.Option(
            "--dark-master",
            help="A master dark already combined by another tool (FITS, TIFF, .npy; float "
            "allowed) instead of or besides --dark. No temporal evidence: no noisy pixels.",
        ),
    ] = None,
    bright_master: Annotated[
        list[str] | None,
        typer.Option("--bright-master", help="A master flat already combined (see --dark-master)."),
    ] = None,
    db: DbOption = None,  # record the run there (with --serial)
    serial: Annotated[
        str | None, typer.Option("--serial", help="Camera serial number, for --db.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Camera model, for --db.")] = None,
    recorded_at: Annotated[
        str | None,
        typer.Option(
            "--recorded-at",
            help="When the frames were recorded, for --db (ISO date/time, UTC if no zone; "
            "default now).",
        ),
    ] = None,
) -> None:
    """Find and classify defective pixels from dark and/or bright stacks.

    Writes one line per defective pixel (line defects list their pixels), sorted by
    row then column, with the evidence that made the call. A master frame (one combined
    frame, float allowed) can stand in for a stack: --dark-master/--bright-master, or a
    FITS file whose header says it is one (NCOMBINE > 1, IMAGETYP master, float data).
    With --db the run (camera, operating point, thresholds and the list) is recorded for
    'fastdefect history'.
    """
    from ..detection import detect
    from ..masters import read_master
    from ..outputs import check_output_path

    require_frames("detect", dark, bright, saturated, dark_master, bright_master)
    darks = [*(dark or []), *(read_master(p, bit_depth=bit_depth) for p in dark_master or [])]
    brights = [
        *(bright or []),
        *(read_master(p, bit_depth=bit_depth) for p in bright_master or []),
    ]
    if output is not None:
        check_output_path(output, overwrite=force)
    config = detection_config(threshold, line_threshold, noise_factor, vote, cfa)
    database = _open_history(db, serial, recorded_at) if db is not None else None
    with progress_bar("reading frames") as progress:
        result = detect(
            dark=darks or None,
            bright=brights or None,
            saturated=saturated or None,
            bit_depth=bit_depth,
            config=config,
            dark_exposures=dark_exposure,
            progress=progress,
        )
    write_detected(result, output, force=force)
    extra: dict[str, Any] = {}
    notes = []
    if database is not None:
        handle, when = database
        with handle:
            extra["run_id"] = handle.record(serial, result, model=model, recorded_at=when)
        notes.append(f"recorded as run {extra['run_id']} of camera {escape(serial.strip())}")
    show_detected(result, output, json_output=json_output, extra=extra, notes=notes)


def write_detected(result, output: Path | None, *, force: bool) -> None:
    """Write the detected list to ``output`` (when given), as ``detect -o`` does."""
    from ..formats import write_list

    if output is None:
        return
    defects = result.defects
    if output.suffix.lower() == ".csv":
        # The CSV's first line is its header (spreadsheets, csv readers); the operating
        # point lives in the JSON summary and the .json list format.
        defects = defects.with_metadata({})
    write_list(output, defects, like="csv", overwrite=force)


def show_detected(
    result, output: Path | None, *, json_output: bool, extra: dict[str, Any], notes: list[str]
) -> None:
    """Print a detection's summary: one JSON document (with ``extra``), or the warnings,
    the tables and ``notes`` (rich markup)."""
    if json_output:
        summary = result.summary()
        summary["output"] = str(output) if output else None
        summary.update(extra)
        print_json(summary)
        return
    for message in result.warnings:
        warn(message)
    _render(result, output)
    for note in notes:
        console.print(note)


def _open_history(db: str, serial: str | None, recorded_at: str | None):
    """The history database and the run's time, checked before any frame is read."""
    from datetime import datetime

    from ..errors import InputError
    from ..fleet.db import open_database

    if not serial or not serial.strip():
        raise InputError("--db records a camera's run: give its --serial too")
    when = None
    if recorded_at is not None:
        try:
            when = datetime.fromisoformat(recorded_at)
        except ValueError:
            raise InputError(
                f"--recorded-at {recorded_at!r}: expected an ISO date or time such as "
                "2026-03-01 or 2026-03-01T14:30"
            ) from None
    return open_database(db), when


def _render(result, output: Path | None) -> None:
    table = Table(title="Stacks", title_justify="left", box=None, pad_edge=False)
    for column in ("role", "frames", "exposure", "level DN", "noise DN", "threshold DN", "flagged"):
        table.add_column(column, justify="right" if column != "role" else "left")
    for stack in result.stacks:
        exposure = f"{stack.exposure_us:g} µs" if stack.exposure_us else "?"
        table.add_row(
            stack.role,
            str(stack.n_frames) if stack.temporal_evidence else "master",
            exposure,
            f"{stack.level:.1f}",
            f"{stack.typical_std:.2f}" if stack.temporal_evidence else "unknown",
            f"{stack.threshold_dn:.1f}",
            str(stack.flagged),
        )
    console.print(table)
    noise = result.noise
    if noise is not None and noise.conversion_gain is not None:
        console.print(
            f"noise model ({noise.method}): K {noise.conversion_gain:.4g} DN/e-, read noise "
            f"{noise.read_noise_dn:.3g} DN ({noise.read_noise_e:.3g} e-), black level "
            f"{noise.black_level:.1f} DN"
        )
    counts = result.counts()
    kinds = Table(title="Defects", title_justify="left", box=None, pad_edge=False)
    kinds.add_column("kind")
    kinds.add_column("pixels", justify="right")
    for kind, count in counts.items():
        kinds.add_row(kind, str(count))
    kinds.add_row("[bold]total[/bold]", f"[bold]{len(result.defects)}[/bold]")
    console.print(kinds)
    height, width = result.shape
    where = f" → {output}" if output else ""
    console.print(
        f"{width} x {height}, {result.bit_depth}-bit, "
        f"{sum(s.n_frames for s in result.stacks)} frames in {result.seconds:.2f} s{where}",
        markup=False,  # the output name is the user's text
    )


def register(app: typer.Typer) -> None:
    app.command("detect", no_args_is_help=True)(detect_command)
