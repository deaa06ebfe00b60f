"""The ``fastdefect`` command line: a thin typer layer over the Python API.

Each command group lives in its own module with a ``register(app)`` function; the
modules import the heavy API parts inside the commands, so ``fastdefect --help``
starts fast. :func:`main` is the console entry point: it turns every
:class:`~fastdefect.errors.FastDefectError` into one readable message and its exit
code (``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import click
import typer

from .. import __version__
from ..errors import ExitCode, FastDefectError
from ._common import err_console

app = typer.Typer(
    name="fastdefect",
    help="Find, judge and fix defective pixels on image sensors, fast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"fastdefect {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="FASTDEFECT_DEBUG", help="Show full tracebacks for errors."),
    ] = False,
) -> None:
    """Find, judge and fix defective pixels on image sensors, fast.

    Exit codes: 0 ok, 1 findings (a check found problems), 2 bad input,
    3 camera or device error.
    """


def _register_commands() -> None:
    from . import simulate

    for module in (simulate,):
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args or os.environ.get("FASTDEFECT_DEBUG", "") not in ("", "0")
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="fastdefect", standalone_mode=False)
    except FastDefectError as exc:
        if debug:
            traceback.print_exc()
        err_console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except click.ClickException as exc:
        try:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
        except Exception:  # typer's rich formatting is a nicety; never hide the error
            exc.show()
        return int(ExitCode.BAD_INPUT)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    return int(result) if isinstance(result, int) else 0
