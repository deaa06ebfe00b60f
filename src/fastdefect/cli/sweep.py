"""``fastdefect sweep``: detection at many thresholds from one reading of the stacks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..defaults import DEFAULT_LINE_THRESHOLD
from ._common import (
    BitDepthOption,
    BrightOption,
    CfaOption,
    DarkExposureOption,
    DarkOption,
    ForceOption,
    JsonOption,
    LineThresholdOption,
    NoiseFactorOption,
    SaturatedOption,
    TruthOption,
    VoteOption,
    console,
    detection_config,
    print_json,
    progress_bar,
    require_frames,
    warn,
)


def sweep_command(
    thresholds: Annotated[
        str,
        typer.Option(
            "--thresholds",
            "-t",
            help="Pixel thresholds: start:stop:step (inclusive) or a comma list; a unit "
            "may follow: 20:200:10, 20:200:10lsb10, 4,6,8,10sigma.",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the sweep as CSV, one line per threshold."),
    ] = None,
    dark: DarkOption = None,
    bright: BrightOption = None,
    saturated: SaturatedOption = None,
    dark_exposure: DarkExposureOption = None,
    truth: TruthOption = None,
    plots: Annotated[
        Path | None,
        typer.Option(
            "--plots",
            help="Write counts.png, scores.png (with --truth) and histograms.png into this "
            "directory (needs the 'plot' extra).",
        ),
    ] = None,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    noise_factor: NoiseFactorOption = 3.0,
    vote: VoteOption = 0.0,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Detect at every threshold of a list, reading the stacks once.

    Prints (and writes with -o) the defective pixels per kind at each threshold; with
    --truth also precision, recall and F1, overall and per kind, and the threshold
    that maximises F1.
    """
    from ..errors import InputError
    from ..outputs import check_output_path
    from ..threshold_sweep import parse_thresholds, sweep

    require_frames("sweep", dark, bright, saturated)
    levels = parse_thresholds(thresholds)
    if output is not None:
        check_output_path(output, overwrite=force)
    if plots is not None:
        from ..plots import require_matplotlib

        require_matplotlib()  # a missing extra is reported before the frames are read
        if plots.exists() and not plots.is_dir():
            raise InputError(f"--plots {plots} exists and is not a directory")
        for name in ("counts.png", "scores.png", "histograms.png"):
            if (plots / name).exists():
                check_output_path(plots / name, overwrite=force)
    config = detection_config(levels[0], line_threshold, noise_factor, vote, cfa)
    with progress_bar("reading frames") as progress:
        result = sweep(
            dark=dark or None,
            bright=bright or None,
            saturated=saturated or None,
            thresholds=levels,
            truth=truth,
            bit_depth=bit_depth,
            config=config,
            dark_exposures=dark_exposure,
            progress=progress,
        )
    if output is not None:
        result.write_csv(output, overwrite=force)
    written = {}
    if plots is not None:
        from ..plots import write_sweep_plots

        written = write_sweep_plots(result, plots, overwrite=force)
    if json_output:
        summary = result.summary()
        summary["output"] = str(output) if output else None
        summary["plots"] = {key: str(path) for key, path in written.items()}
        print_json(summary)
        return
    for message in result.analysis.warnings:
        warn(message)
    _render(result, output, written)


def _render(result, output: Path | None, written: dict) -> None:
    from ..threshold_sweep import SWEEP_KINDS

    kinds = [kind for kind in SWEEP_KINDS if result.count(kind).any()]
    unit = result.thresholds[0].unit_label
    best = result.best

    def table(title: str) -> Table:
        grid = Table(title=title, title_justify="left", box=None, pad_edge=False,
                     padding=(0, 1, 0, 0))  # fmt: skip
        grid.add_column(unit, justify="right", no_wrap=True)
        return grid

    def style(i: int) -> str | None:
        return "bold green" if best is not None and best.index == i else None

    counts = table("Defective pixels per kind")
    for kind in kinds:
        counts.add_column(_SHORT.get(kind, kind), justify="right", no_wrap=True)
    counts.add_column("total", justify="right", no_wrap=True)
    for i, threshold in enumerate(result.thresholds):
        cells = [f"{threshold.value:g}", *(str(int(result.count(k)[i])) for k in kinds)]
        counts.add_row(*cells, str(int(result.total[i])), style=style(i))
    console.print(counts)
    if result.scores is not None:
        scores = table("Scores against the truth")
        for name in ("precision", "recall", "F1", "kind agreement"):
            scores.add_column(name, justify="right", no_wrap=True)
        for i, threshold in enumerate(result.thresholds):
            overall = result.scores[i].overall
            rates = (overall.precision, overall.recall, overall.f1, overall.kind_agreement)
            scores.add_row(f"{threshold.value:g}", *map(_rate, rates), style=style(i))
        console.print(scores)
    if best is not None:
        tied = (
            f" (tied from {best.tied_from} to {best.tied_to})"
            if best.tied_from != best.tied_to
            else ""
        )
        console.print(
            f"best threshold: [bold]{best.threshold}[/bold]{tied}: F1 {best.f1:.4f}, "
            f"precision {best.precision:.4f}, recall {best.recall:.4f}"
        )
    height, width = result.analysis.shape
    targets = [str(p) for p in (output, *written.values()) if p is not None]
    where = f" → {', '.join(targets)}" if targets else ""
    console.print(
        f"{width} x {height}, {len(result.thresholds)} thresholds: analysis "
        f"{result.seconds_analysis:.2f} s, sweep {result.seconds_sweep:.2f} s{where}",
        markup=False,
    )


_SHORT = {"stuck_high": "stuck_hi", "stuck_low": "stuck_lo", "column": "col"}


def _rate(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.4f}"


def register(app: typer.Typer) -> None:
    app.command("sweep", no_args_is_help=True)(sweep_command)
