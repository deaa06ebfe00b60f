"""``fastdefect report``: one self-contained HTML page on a sensor's defects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    TruthOption,
    VoteOption,
    console,
    detection_config,
    print_json,
    progress_bar,
    require_frames,
    warn,
)


def report_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file to write (e.g. report.html).")
    ],
    dark: DarkOption = None,
    bright: BrightOption = None,
    saturated: SaturatedOption = None,
    dark_exposure: DarkExposureOption = None,
    defects: Annotated[
        Path | None,
        typer.Option(
            "--defects",
            help="Report on this defect list (any list format) instead of the detected one.",
        ),
    ] = None,
    truth: TruthOption = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            "--sweep",
            help="Add threshold curves for these thresholds: start:stop:step or a comma "
            "list, unit optional (20:200:10, 20:200:10lsb10).",
        ),
    ] = None,
    threshold: PixelThresholdOption = DEFAULT_PIXEL_THRESHOLD,
    line_threshold: LineThresholdOption = DEFAULT_LINE_THRESHOLD,
    noise_factor: NoiseFactorOption = 3.0,
    vote: VoteOption = 0.0,
    rules: Annotated[
        str, typer.Option("--rules", help="Camera rules for the verdicts: av or arri.")
    ] = "av",
    title: Annotated[str | None, typer.Option("--title", help="Title of the page.")] = None,
    serial: Annotated[
        str | None,
        typer.Option("--serial", help="Add this camera's recorded history (see --db)."),
    ] = None,
    db: DbOption = None,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Write one self-contained HTML report on a sensor's defects.

    Summary, defect map, deviation histograms, runs with the camera's verdicts,
    before/after crops, threshold curves (--sweep) and scores (--truth).

    The page needs no network and no other file: open it from disk in any browser.
    """
    from ..outputs import check_output_path
    from ..plots import require_matplotlib
    from ..report import build_report
    from ..rules import rule_set
    from ..threshold_sweep import parse_thresholds

    require_frames("report", dark, bright, saturated)
    check_output_path(output, overwrite=force)
    require_matplotlib()
    rule_set(rules)  # an unknown name fails before the frames are read
    levels = parse_thresholds(sweep) if sweep else None
    history = None
    if serial is not None:
        from ..fleet.db import open_database
        from ..fleet.history import camera_history

        with open_database(db) as database:
            history = camera_history(database, serial, rules=rules)
    config = detection_config(threshold, line_threshold, noise_factor, vote, cfa)
    with progress_bar("reading frames") as progress:
        report = build_report(
            dark=dark or None,
            bright=bright or None,
            saturated=saturated or None,
            defects=defects,
            truth=truth,
            sweep=levels,
            rules=rules,
            title=title,
            history=history,
            bit_depth=bit_depth,
            config=config,
            dark_exposures=dark_exposure,
            progress=progress,
        )
    report.write(output, overwrite=force)
    if json_output:
        summary = report.summary()
        summary["output"] = str(output)
        print_json(summary)
        return
    for message in report.analysis.warnings:
        warn(message)
    counts = report.verdicts.counts()
    best = report.sweep.best if report.sweep is not None else None
    best_text = f"; best threshold {best.threshold} (F1 {best.f1:.4f})" if best else ""
    console.print(
        f"{len(report.defects):,} defective pixels at {report.threshold} "
        f"(ok {counts['ok']:,}, warn {counts['warn']:,}, error {counts['error']:,}){best_text}"
    )
    console.print(
        f"{output}: {len(report.html.encode('utf-8')) / 1e6:.2f} MB, sections "
        f"{', '.join(report.sections)}; analysis {report.analysis.seconds:.2f} s, "
        f"rendering {report.seconds:.2f} s",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("report", no_args_is_help=True)(report_command)
