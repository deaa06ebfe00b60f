"""``fastdefect demo``: the whole pipeline on a generated sensor, no hardware needed."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from ._common import JsonOption, console, err_console, print_json


def demo_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Keep the generated files here (default: a temp directory)."),
    ] = None,
    width: Annotated[int, typer.Option(min=16, help="Sensor width.")] = 1024,
    height: Annotated[int, typer.Option(min=16, help="Sensor height.")] = 1024,
    frames: Annotated[int, typer.Option(min=3, help="Frames per stack.")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic sensor.")] = 2025,
    cfa: Annotated[
        str | None, typer.Option("--cfa", help="Simulate a Bayer sensor (RGGB ...).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Replace files in --out.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Simulate a sensor, detect its defects, score them against the truth, check the list.

    Everything runs on generated data: a sensor with every kind of defect (and faint
    "warm" pixels that must not be reported) is simulated, its dark and bright stacks are
    written as TIFF, detected, scored against the injected truth and judged with the
    Allied Vision camera's correction rules.
    """
    if out is None:
        with tempfile.TemporaryDirectory(prefix="fastdefect-demo-") as directory:
            _run(Path(directory), width, height, frames, seed, cfa, True, json_output, False)
    else:
        _run(out, width, height, frames, seed, cfa, force, json_output, True)


def _run(
    directory: Path,
    width: int,
    height: int,
    frames: int,
    seed: int,
    cfa: str | None,
    overwrite: bool,
    json_output: bool,
    keep: bool,
) -> None:
    import numpy as np

    from ..correction import confirm_masked, correct_stack
    from ..detection import analyse
    from ..formats import read_list, write_list
    from ..rules import rule_set
    from ..scoring import score
    from ..sensor import SensorSpec
    from ..simulate import SimulationConfig, simulate_to_directory

    timings: dict[str, float] = {}
    config = SimulationConfig(width=width, height=height, frames=frames, seed=seed, cfa=cfa)
    with err_console.status("simulating a sensor ...") as status:
        started = time.perf_counter()
        simulated = simulate_to_directory(directory, config, overwrite=overwrite)
        timings["simulate"] = time.perf_counter() - started

        status.update("detecting defects ...")
        started = time.perf_counter()
        analysis = analyse(dark=simulated.files["dark"], bright=simulated.files["bright"])
        result = analysis.result()
        timings["detect"] = time.perf_counter() - started
        defects_path = directory / "defects.csv"
        write_list(defects_path, result.defects.with_metadata({}), like="csv", overwrite=True)

        status.update("scoring and checking ...")
        truth = read_list(simulated.files["truth"])
        warm = read_list(simulated.files["warm"])
        assessment = score(result.defects, truth)
        sensor = SensorSpec(width, height, config.bit_depth or 10, cfa)
        rules = rule_set("av", sensor=sensor)
        verdicts = rules.check(result.defects)

        status.update("simulating the camera's correction ...")
        started = time.perf_counter()
        confirmations = {}
        for role in ("dark", "bright"):
            corrected = correct_stack(simulated.files[role], result.defects, rules=rules)
            confirmations[role] = (corrected.report, confirm_masked(corrected))
        timings["correct"] = time.perf_counter() - started

        report_path = _write_report(analysis, simulated.files["truth"], directory) if keep else None

    warm_reported = int(np.isin(warm.linear_index, result.defects.linear_index).sum())
    summary = {
        "directory": str(directory) if keep else None,
        "sensor": {"width": width, "height": height, "bit_depth": result.bit_depth, "cfa": cfa},
        "frames": frames,
        "seed": seed,
        "score": assessment.as_dict(),
        "warm_pixels": len(warm),
        "warm_reported": warm_reported,
        "camera_check": verdicts.counts(),
        "correction": {
            role: {
                "corrected": report.corrected,
                "uncorrected": report.uncorrected,
                "uncorrected_reasons": report.reasons,
                "corrected_still_visible": int(confirm.visible_corrected.sum()),
                "masked": confirm.masked,
            }
            for role, (report, confirm) in confirmations.items()
        },
        "report": str(report_path) if report_path else None,
        "timings": timings,
    }
    if json_output:
        print_json(summary)
        return
    _render(summary, assessment, result, verdicts, defects_path)


def _write_report(analysis, truth: Path, directory: Path) -> Path | None:
    """The HTML report of the demo, when the plot extra is installed."""
    from ..errors import InputError
    from ..report import report_from_analysis

    try:
        report = report_from_analysis(analysis, truth=truth, title="fastdefect demo sensor")
    except InputError:  # matplotlib missing: the demo still ran
        return None
    return report.write(directory / "report.html", overwrite=True)


def _percent(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def _render(summary, assessment, result, verdicts, defects_path) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("kind", "injected", "found", "recall", "right kind"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for kind, value in assessment.per_kind.items():
        table.add_row(
            kind,
            str(value.truth),
            str(value.found),
            _percent(value.recall),
            _percent(value.kind_agreement),
        )
    overall = assessment.overall
    table.add_row(
        "[bold]all[/bold]",
        f"[bold]{overall.truth}[/bold]",
        f"[bold]{overall.found}[/bold]",
        f"[bold]{_percent(overall.recall)}[/bold]",
        f"[bold]{_percent(overall.kind_agreement)}[/bold]",
    )
    sensor = summary["sensor"]
    counts = verdicts.counts()
    timings = summary["timings"]
    colour = f", {sensor['cfa']}" if sensor["cfa"] else ""
    n_frames = summary["frames"]
    lines = [
        f"sensor {sensor['width']} x {sensor['height']}, {sensor['bit_depth']}-bit{colour}, "
        f"{n_frames} dark + {n_frames} bright frames (seed {summary['seed']})",
        f"false positives: {overall.false_positive}   "
        f"warm pixels reported: {summary['warm_reported']} of {summary['warm_pixels']} "
        "(they are below the threshold and must not be)",
        f"camera check (Allied Vision rules): [green]{counts.get('ok', 0)} ok[/green]  "
        f"[yellow]{counts.get('warn', 0)} warn[/yellow]  [red]{counts.get('error', 0)} error[/red]",
        _correction_line(summary["correction"]),
        f"simulate {timings['simulate']:.1f} s · detect {timings['detect']:.2f} s · "
        f"correct and confirm {timings['correct']:.2f} s",
    ]
    if summary["directory"]:
        files = "dark.tif, bright.tif, truth.csv, defects.csv"
        if summary["report"]:
            files += ", report.html"
        lines.append(f"files: {summary['directory']} ({files})")
    console.print(
        Panel.fit(
            table,
            title="[bold]fastdefect demo[/bold]: injected vs found",
            border_style="cyan",
        )
    )
    for line in lines:
        console.print(line)


def _correction_line(correction: dict) -> str:
    bright = correction["bright"]
    masked = all(entry["masked"] for entry in correction.values())
    reasons = ", ".join(
        f"{reason.replace('_', ' ')} {count}"
        for reason, count in bright["uncorrected_reasons"].items()
    )
    verdict = (
        "[green]every corrected defect is masked[/green]"
        if masked
        else "[red]some corrected defects are still visible[/red]"
    )
    return (
        f"left-neighbour correction: {bright['corrected']} pixels corrected, {verdict}; "
        f"{bright['uncorrected']} cannot be ({reasons})"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
