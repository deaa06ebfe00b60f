"""What every command shares: consoles, common options, JSON output, progress bars.

Conventions
-----------
* Results go to stdout: a rich rendering by default, or one JSON document with
  ``--json`` (nothing else is printed on stdout then).
* Progress bars, warnings and errors go to stderr, so ``--json`` output stays clean.
* Commands raise :class:`fastdefect.errors.FastDefectError` for user mistakes; the
  entry point turns it into one readable message and the exit code it carries.
* A check that ran and found problems exits with ``ExitCode.FINDINGS`` (1) via
  :func:`exit_with`.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..errors import ExitCode

if TYPE_CHECKING:
    from ..detection import Threshold

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]
ForceOption = Annotated[
    bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")
]
BitDepthOption = Annotated[
    int | None,
    typer.Option(
        "--bit-depth",
        min=1,
        max=16,
        help="Significant bits per sample (10-bit data in 16-bit TIFFs is normal). "
        "Default: from the file's metadata, else the container size.",
    ),
]
CfaOption = Annotated[
    str | None,
    typer.Option("--cfa", help="Bayer pattern of a colour sensor: RGGB, BGGR, GRBG, GBRG."),
]
LimitOption = Annotated[
    int, typer.Option("--limit", min=0, help="Show at most this many rows per table.")
]


def exit_with(code: ExitCode) -> None:
    """End the command with ``code`` (0 returns normally)."""
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    return value


def print_json(document: Any) -> None:
    """Print ``document`` as JSON on stdout (numpy scalars and paths converted)."""
    typer.echo(json.dumps(_to_jsonable(document), indent=2, allow_nan=False))


def warn(message: str) -> None:
    """A warning on stderr, one readable line."""
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


@contextlib.contextmanager
def progress_bar(
    description: str, total: int | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; yields a ``callback(done, total)`` for the API's hooks.

    The bar is only drawn on a terminal: in pipes, CI logs and ``--json`` runs it is
    silent.
    """
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task(description, total=total)

    def update(done: int, total_now: int) -> None:
        progress.update(task, completed=done, total=total_now)

    with progress:
        yield update


# -- the stack and detection options shared by detect, sweep and report ------------------

DarkOption = Annotated[
    list[str] | None,
    typer.Option("--dark", help="Dark frames (lens cap on): file, directory or glob. Repeatable."),
]
BrightOption = Annotated[
    list[str] | None,
    typer.Option("--bright", help="Bright/flat frames at 60–70 % of full scale. Repeatable."),
]
SaturatedOption = Annotated[
    list[str] | None, typer.Option("--saturated", help="Saturated frames. Repeatable.")
]
DarkExposureOption = Annotated[
    list[float] | None,
    typer.Option(
        "--dark-exposure", help="Exposure in µs of each --dark stack, if the files don't say."
    ),
]
PixelThresholdOption = Annotated[
    str,
    typer.Option(
        "--threshold", help="Pixel deviation threshold: 408 or 408dn (DN), 102lsb10, 10%, 6sigma."
    ),
]
LineThresholdOption = Annotated[
    str, typer.Option("--line-threshold", help="Column/row mean deviation threshold.")
]
NoiseFactorOption = Annotated[
    float,
    typer.Option("--noise-factor", help="Noisy: temporal std above this many times the typical."),
]
VoteOption = Annotated[
    float,
    typer.Option("--vote", help="With several stacks per role: fraction that must flag a pixel."),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="History database (the fleet extra): a file, sqlite:///PATH, "
        "postgresql://USER@HOST:PORT/DB, or 'default' ($FASTDEFECT_DB, else "
        "~/.local/share/fastdefect/history.sqlite).",
    ),
]
TruthOption = Annotated[
    Path | None,
    typer.Option(
        "--truth",
        help="Ground truth: truth.csv of 'fastdefect simulate' or any defect list file.",
    ),
]


def detection_config(
    threshold: str | Threshold,
    line_threshold: str,
    noise_factor: float,
    vote: float,
    cfa: str | None,
):
    """The :class:`DetectionConfig` of the shared command-line options."""
    from ..detection import DetectionConfig

    return DetectionConfig(
        pixel_threshold=threshold,
        line_threshold=line_threshold,
        noise_factor=noise_factor,
        vote=vote,
        cfa=cfa,
    )


def require_frames(command: str, *stacks: list[str] | None) -> None:
    """Refuse a stack command given no frames at all, before anything is read."""
    if not any(stacks):
        from ..errors import InputError

        raise InputError(f"give --dark and/or --bright frames (see fastdefect {command} --help)")
