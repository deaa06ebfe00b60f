"""The ``fastdefect`` command line: a thin typer layer over the Python API.

Each command group lives in its own module with a ``register(app)`` function; the
modules import the heavy API parts inside the commands, so ``fastdefect --help``
starts fast. :func:`main` is the console entry point: it turns every
:class:`~fastdefect.errors.FastDefectError` into one readable message and its exit
code (``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import traceback
from typing import Annotated

import typer
import typer.core
from rich.markup import escape

from .. import __version__, _interrupt, _process
from ..errors import ExitCode, FastDefectError
from ._common import err_console


class _Commands(typer.core.TyperGroup):
    """The root group: turns our errors into one readable message and their exit code."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except FastDefectError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            # Messages quote user text and pip extras ("fastdefect[plot]"): not markup.
            err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err_console.print(_interrupt.MESSAGE, markup=False)
            raise typer.Exit(_interrupt.EXIT_CODE) from None
        except Exception as exc:
            # Ctrl-C inside numba or a C extension surfaces as SystemError & co.
            if not _interrupt.was_interrupted(exc):
                if isinstance(exc, OSError | MemoryError) and not ctx.params.get("debug"):
                    # The file system or the machine refused: one line, bad input (2).
                    what = "out of memory" if isinstance(exc, MemoryError) else str(exc)
                    err_console.print(f"[bold red]error:[/bold red] {escape(what)}", soft_wrap=True)
                    raise typer.Exit(int(ExitCode.BAD_INPUT)) from None
                raise
            err_console.print(_interrupt.MESSAGE, markup=False)
            raise typer.Exit(_interrupt.EXIT_CODE) from None


app = typer.Typer(
    name="fastdefect",
    cls=_Commands,
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
    from . import (
        batch,
        camera,
        correct,
        demo,
        detect,
        history,
        lists,
        report,
        simulate,
        sweep,
        view,
    )

    for module in (
        demo,
        simulate,
        detect,
        lists,
        correct,
        sweep,
        report,
        view,
        camera,
        batch,
        history,
    ):
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it).

    Usage errors (unknown options, bad values) exit with 2 like other bad input. Ctrl-C
    exits with 130 and the one line ``interrupted``, whatever was running.
    """
    previous = _interrupt.raise_on_interrupt()
    _process.own()
    try:
        app(args=argv, prog_name="fastdefect")
    except SystemExit as exc:
        if exc.code is None:
            return int(ExitCode.OK)
        if exc.code != _interrupt.EXIT_CODE and _interrupt.was_interrupted():
            err_console.print(_interrupt.MESSAGE, markup=False)  # click said "Aborted!"
            return _interrupt.EXIT_CODE
        return exc.code if isinstance(exc.code, int) else int(ExitCode.BAD_INPUT)
    except BaseException as exc:
        if not _interrupt.was_interrupted(exc):
            raise
        err_console.print(_interrupt.MESSAGE, markup=False)
        return _interrupt.EXIT_CODE
    finally:
        _interrupt.restore(previous)
    return int(ExitCode.OK)
