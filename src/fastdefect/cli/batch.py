"""``fastdefect batch``: detection for many cameras at once, on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..defaults import DEFAULT_CHUNK_FRAMES, DEFAULT_LINE_THRESHOLD, DEFAULT_PIXEL_THRESHOLD
from ..errors import ExitCode
from ._common import (
    BitDepthOption,
    CfaOption,
    DbOption,
    JsonOption,
    LineThresholdOption,
    NoiseFactorOption,
    PixelThresholdOption,
    VoteOption,
    console,
    exit_with,
    print_json,
    progress_bar,
    warn,
)


def batch_command(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="CSV with header serial,role,path (optional: exposure_us, bit_depth, cfa, "
            "model, width, height); one row per stack."
        ),
    ],
    outdir: Annotated[
        Path, typer.Option("--output", "-o", help="Output directory (created if missing).")
    ],
    threshold: PixelThresholdOption = DEFAULT_PIXEL_THRESHOLD,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    noise_factor: NoiseFactorOption = 3.0,
    vote: VoteOption = 0.0,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    rules: Annotated[
        str, typer.Option("--rules", help="Camera rules for the verdicts: av or arri.")
    ] = "av",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Worker processes of the local cluster (default: cores)."
        ),
    ] = None,
    threads_per_worker: Annotated[
        int,
        typer.Option(
            "--threads-per-worker", min=1, help="Threads per local worker, numba's included."
        ),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Use a running Dask cluster (tcp://HOST:PORT) instead of a local one; its "
            "workers must see the stacks and the output directory at the same paths.",
        ),
    ] = None,
    chunk_frames: Annotated[
        int,
        typer.Option(
            "--chunk-frames",
            min=0,
            help="Split stacks longer than this into chunks of this many frames, summed on "
            "all the workers and merged exactly (0: never).",
        ),
    ] = DEFAULT_CHUNK_FRAMES,
    reports: Annotated[
        bool, typer.Option("--reports", help="Also write OUTDIR/<serial>/report.html.")
    ] = False,
    db: DbOption = None,  # every camera's run is recorded there
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Redo cameras whose results are complete.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Detect the defects of many cameras at once, on Dask (a local cluster by default).

    Writes OUTDIR/<serial>/defects.csv (what 'fastdefect detect' writes), OUTDIR/fleet.csv
    (one line per camera) and OUTDIR/fleet.html (the fleet report). A camera whose
    files are bad fails alone (status error); re-running skips complete cameras.
    With --db every camera's run is recorded for 'fastdefect history'.
    Exits 2 when a camera failed, after writing everything else.
    """
    from ..fleet.batch import BatchOptions, run_batch
    from ..fleet.db import database_url

    options = BatchOptions(
        threshold=threshold,
        line_threshold=line_threshold,
        noise_factor=noise_factor,
        vote=vote,
        bit_depth=bit_depth,
        cfa=cfa,
        rules=rules,
        reports=reports,
    )
    url = database_url(db) if db is not None else None
    with progress_bar("cameras") as progress:
        result = run_batch(
            manifest,
            outdir,
            options=options,
            workers=workers,
            threads_per_worker=threads_per_worker,
            scheduler=scheduler,
            force=force,
            db_url=url,
            chunk_frames=chunk_frames,
            progress=progress,
        )
    if json_output:
        print_json(result.summary())
    else:
        _render(result)
    if result.failed:
        exit_with(ExitCode.BAD_INPUT)


def _render(result) -> None:
    table = Table(title="Cameras", title_justify="left", box=None, pad_edge=False)
    for column in ("camera", "status", "defects", "ok", "warn", "error", "seconds"):
        table.add_column(column, justify="left" if column in ("camera", "status") else "right")
    for camera in result.cameras:
        if camera["status"] != "ok":
            table.add_row(escape(camera["serial"]), "[red]error[/red]", "", "", "", "", "")
            continue
        verdicts = camera["verdicts"]
        status = "ok (kept)" if camera.get("skipped") else "ok"
        table.add_row(
            escape(camera["serial"]),
            status,
            f"{camera['defects']:,}",
            f"{verdicts['ok']:,}",
            f"{verdicts['warn']:,}",
            f"{verdicts['error']:,}",
            f"{camera['seconds']:.2f}",
        )
    console.print(table)
    for camera in result.failed:
        warn(f"camera {camera['serial']}: {camera['message']}")
    summary = result.summary()
    console.print(
        f"{summary['cameras']} cameras ({summary['ok']} ok, {summary['error']} failed, "
        f"{summary['skipped']} kept from an earlier run) on {result.workers} workers in "
        f"{result.seconds:.1f} s → {result.files['fleet_csv']}, {result.files['fleet_html']}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("batch", no_args_is_help=True)(batch_command)
