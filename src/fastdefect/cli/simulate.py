"""``fastdefect simulate``: write a synthetic sensor's dark and bright stacks with the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ._common import CfaOption, ForceOption, JsonOption, console, print_json, progress_bar


def register(app: typer.Typer) -> None:
    app.command("simulate", no_args_is_help=True)(simulate)


def simulate(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output directory (created if missing).")
    ],
    width: Annotated[
        int | None, typer.Option("--width", help="Sensor width in pixels (default 1024).")
    ] = None,
    height: Annotated[
        int | None, typer.Option("--height", help="Sensor height in pixels (default 1024).")
    ] = None,
    bit_depth: Annotated[
        int | None, typer.Option("--bit-depth", help="ADC bits, 8 to 16 (default 10).")
    ] = None,
    frames: Annotated[
        int | None, typer.Option("--frames", "-n", help="Frames per stack (default 16).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed; same seed, same data (default 1).")
    ] = None,
    cfa: CfaOption = None,
    sensor: Annotated[
        str | None,
        typer.Option(
            "--sensor",
            help="Sensor or camera model preset (PYTHON25K, GT5120, ...) for the size and "
            "bit depth; --width/--height/--bit-depth override it.",
        ),
    ] = None,
    exposure: Annotated[
        float | None,
        typer.Option("--exposure", help="Dark exposure in microseconds (default 500000)."),
    ] = None,
    bright_exposure: Annotated[
        float | None,
        typer.Option("--bright-exposure", help="Bright exposure in microseconds (default 10000)."),
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option("--temperature", help="Sensor temperature in degrees C (default 40)."),
    ] = None,
    bright_level: Annotated[
        float | None,
        typer.Option(
            "--bright-level", help="Bright mean as a fraction of full scale (default 0.65)."
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Start from a simulation.json (or a JSON object of parameters); options "
            "given here override it. With --exposure or --temperature this is the same "
            "sensor at another operating point: hot pixels grow with both.",
        ),
    ] = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
    aged_from: Annotated[
        Path | None,
        typer.Option(
            "--aged-from",
            help="Age the sensor of this simulation directory by --years instead: the same "
            "defects, new ones at --new-rate, a few healed; changes.csv says which.",
        ),
    ] = None,
    years: Annotated[
        float | None, typer.Option("--years", min=0, help="Years of ageing (--aged-from).")
    ] = None,
    new_rate: Annotated[
        float,
        typer.Option("--new-rate", min=0, help="New defects per megapixel per year (ageing)."),
    ] = 5.0,
    heal_rate: Annotated[
        float,
        typer.Option(
            "--heal-rate", min=0, max=1, help="Chance per year that a hot pixel heals (ageing)."
        ),
    ] = 0.02,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="'realistic': a 12-bit CMOS-like sensor (default 1024 x 768, 16 frames) at "
            "three dark exposures (100, 400, 1600 ms), with amp glow, partial lines and "
            "multi-level telegraph pixels; --width/--height/--bit-depth/--frames/--seed/"
            "--cfa/--sensor apply.",
        ),
    ] = None,
) -> None:
    """Simulate a sensor with known defects: dark and bright stacks plus the truth.

    Writes DIR/dark.tif and DIR/bright.tif (multi-page TIFF stacks),
    DIR/truth.csv (every defective pixel: row, column, kind, expected evidence),
    DIR/warm.csv (sub-threshold pixels a detector must not report)
    and DIR/simulation.json (everything needed to reproduce the data).

    With --aged-from SIMDIR --years Y: the same sensor Y years later, plus
    DIR/changes.csv (row,column,kind,change: new or healed).

    With --preset realistic: DIR/dark_100ms.tif, dark_400ms.tif and dark_1600ms.tif
    (each stack's exposure in its metadata) instead of dark.tif; the truth is the
    longest exposure's.
    """
    if aged_from is not None or years is not None:
        given = [width, height, bit_depth, frames, cfa, sensor, exposure, bright_exposure,
                 temperature, bright_level, config_file]  # fmt: skip
        _age(aged_from, years, new_rate, heal_rate, seed, out, force, json_output,
             any(v is not None for v in given))  # fmt: skip
        return
    if preset is not None:
        others = [exposure, bright_exposure, temperature, bright_level, config_file]
        _simulate_preset(preset, out, width, height, bit_depth, frames, seed, cfa, sensor,
                         any(v is not None for v in others), force, json_output)  # fmt: skip
        return
    from ..simulate import simulate_to_directory, simulation_config

    config = simulation_config(
        config_file,
        sensor=sensor,
        width=width,
        height=height,
        bit_depth=bit_depth,
        frames=frames,
        seed=seed,
        cfa=cfa,
        dark_exposure_us=exposure,
        bright_exposure_us=bright_exposure,
        temperature_c=temperature,
        bright_level=bright_level,
    )
    with progress_bar("simulating frames", total=2 * config.frames) as update:
        result = simulate_to_directory(out, config, overwrite=force, progress=update)

    if json_output:
        print_json(result.to_dict())
        return
    _render(result)


def _simulate_preset(
    preset: str,
    out: Path,
    width: int | None,
    height: int | None,
    bit_depth: int | None,
    frames: int | None,
    seed: int | None,
    cfa: str | None,
    sensor: str | None,
    other_options: bool,
    force: bool,
    json_output: bool,
) -> None:
    from ..errors import InputError
    from ..sensor import sensor_preset
    from ..simulate import realistic_preset, simulate_series_to_directory

    if preset.lower() != "realistic":
        raise InputError(f"unknown preset {preset!r}; the presets are: realistic")
    if other_options:
        raise InputError(
            "--preset realistic sets the exposures, temperature and levels itself: give only "
            "--out, --width, --height, --bit-depth, --frames, --seed, --cfa, --sensor, --force "
            "and --json with it"
        )
    size = {"width": 1024, "height": 768, "bit_depth": 12, "cfa": cfa}
    if sensor is not None:
        model = sensor_preset(sensor)
        size.update(width=model.width, height=model.height, bit_depth=model.bit_depth)
        size["cfa"] = cfa or model.cfa
    given = {"width": width, "height": height, "bit_depth": bit_depth}
    size.update({key: value for key, value in given.items() if value is not None})
    configs = realistic_preset(
        size["width"],
        size["height"],
        cfa=size["cfa"],
        seed=1 if seed is None else seed,
        frames=16 if frames is None else frames,
        bit_depth=size["bit_depth"],
    )
    total = (len(configs) + 1) * configs[0].frames
    with progress_bar("simulating frames", total=total) as update:
        result = simulate_series_to_directory(out, configs, overwrite=force, progress=update)
    if json_output:
        print_json(result.to_dict())
        return
    _render(result)


def _age(
    aged_from: Path | None,
    years: float | None,
    new_rate: float,
    heal_rate: float,
    seed: int | None,
    out: Path,
    force: bool,
    json_output: bool,
    other_options: bool,
) -> None:
    from ..errors import InputError
    from ..fleet.ageing import AgeingStep, age_directory

    if aged_from is None or years is None:
        raise InputError("ageing needs both --aged-from SIMDIR and --years Y")
    if other_options:
        raise InputError(
            "--aged-from keeps the sensor and its operating point: give only --out, --years, "
            "--new-rate, --heal-rate, --seed, --force and --json with it"
        )
    step = AgeingStep(years=years, rate=new_rate, heal_rate=heal_rate, seed=seed or 0)
    with progress_bar("simulating frames") as update:
        result = age_directory(aged_from, out, step, overwrite=force, progress=update)
    if json_output:
        print_json(result.to_dict())
        return
    console.print(
        f"[bold]{aged_from}[/bold] aged {years:g} years: {len(result.new):,} new defects, "
        f"{len(result.healed):,} healed, {sum(result.counts.values()):,} defective pixels now",
        soft_wrap=True,
    )
    console.print(
        f"Files written to [bold]{result.directory}[/bold]: "
        f"{', '.join(path.name for path in result.files.values())}",
        soft_wrap=True,
    )


def _duration(microseconds: float) -> str:
    if microseconds >= 1000:
        return f"{microseconds / 1000:g} ms"
    return f"{microseconds:g} µs"


def _human_size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"  # pragma: no cover


def _render(result: Any) -> None:
    from rich.table import Table

    config = result.config
    colour = config.cfa or "mono"
    darks = [key for key in result.files if key.startswith("dark_")]
    console.print(
        f"[bold]Simulated sensor[/bold] {config.width} x {config.height}, {config.bit_depth} bit, "
        f"{colour}, {config.frames} frames per stack"
        + (f" ({len(darks)} dark stacks + bright)" if darks else "")
        + f", seed {config.seed}"
    )
    dark_text = f"dark {_duration(config.dark_exposure_us)}"
    if darks:
        dark_text = "darks " + ", ".join(key.removeprefix("dark_") for key in darks)
    console.print(
        f"{dark_text}, bright {_duration(config.bright_exposure_us)}"
        f" at {config.bright_level:.0%} FS, {config.temperature_c:g} °C; "
        f"threshold {config.threshold_dn:g} DN, line {config.line_threshold_dn:g} DN"
    )
    table = Table(title="Defective pixels (truth.csv)", title_justify="left")
    table.add_column("kind")
    table.add_column("pixels", justify="right")
    for kind, count in result.counts.items():
        table.add_row(kind, str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{sum(result.counts.values())}[/bold]")
    if result.warm_counts:
        table.add_section()
        table.add_row("[dim]not defects (warm.csv):[/dim]", "")
        for source, count in result.warm_counts.items():
            table.add_row(f"[dim]{source}[/dim]", f"[dim]{count}[/dim]")
    console.print(table)
    console.print(f"Files written to [bold]{escape(str(result.directory))}[/bold]:", soft_wrap=True)
    files = Table()
    files.add_column("file")
    files.add_column("size", justify="right")
    for path in result.files.values():
        files.add_row(escape(path.name), _human_size(path.stat().st_size))
    console.print(files)
