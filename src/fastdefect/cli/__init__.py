"""The ``fastdefect`` command line: a thin typer layer over the Python API.

Each command group lives in its own module with a ``register(app)`` function; the
modules import the heavy API parts inside the commands, so ``fastdefect --help``
starts fast. :func:`main` is the console entry point: it turns every
:class:`~fastdefect.errors.FastDefectError` into one readable message and its exit
code (``--debug`` shows the traceback instead). It registers only the module of the
command it runs (typer builds every registered command's parameters first: 0.06 s for
all of them); help and unknown names get them all, as does :data:`app`.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Annotated

import typer
import typer.core
from rich.markup import escape

from .. import __version__, _interrupt, _process
from ..errors import ExitCode, FastDefectError
from ._common import err_console


def _say(message: str) -> None:
    err_console.print(message, markup=False)


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
            raise typer.Exit(_interrupt.report(_say)) from None
        except Exception as exc:
            # Ctrl-C inside numba or a C extension surfaces as SystemError & co.
            if not _interrupt.was_interrupted(exc):
                if isinstance(exc, OSError | MemoryError) and not ctx.params.get("debug"):
                    # The file system or the machine refused: one line, bad input (2).
                    what = "out of memory" if isinstance(exc, MemoryError) else str(exc)
                    err_console.print(f"[bold red]error:[/bold red] {escape(what)}", soft_wrap=True)
                    raise typer.Exit(int(ExitCode.BAD_INPUT)) from None
                raise
            raise typer.Exit(_interrupt.report(_say)) from None


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"fastdefect {__version__}")
        raise typer.Exit()


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


# Command name -> the module that registers it, in the order help lists them.
_COMMAND_MODULES = {
    "demo": "demo",
    "simulate": "simulate",
    "detect": "detect",
    "list": "lists",
    "correct": "correct",
    "preview": "correct",
    "confirm": "correct",
    "sweep": "sweep",
    "report": "report",
    "view": "view",
    "camera": "camera",
    "batch": "batch",
    "history": "history",
}


def build_app(command: str | None = None) -> typer.Typer:
    """The command line with every command, or only ``command``'s module."""
    application = typer.Typer(
        name="fastdefect",
        cls=_Commands,
        help="Find, judge and fix defective pixels on image sensors, fast.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(_root)
    names = dict.fromkeys(_COMMAND_MODULES.values())
    if command is not None:
        names = {_COMMAND_MODULES[command]: None}
    for name in names:
        importlib.import_module(f".{name}", __name__).register(application)
    return application


def _command_of(args: list[str]) -> str | None:
    """The command ``args`` run, when known and not after a request for help."""
    for arg in args:
        if arg in ("-h", "--help", "--version"):
            return None
        if not arg.startswith("-"):
            return arg if arg in _COMMAND_MODULES else None
    return None


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # every command, built on first use (PEP 562)
        globals()["app"] = application = build_app()
        return application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it).

    Usage errors (unknown options, bad values) exit with 2 like other bad input. Ctrl-C
    exits with 130 and the one line ``interrupted``, whatever was running.
    """
    previous = _interrupt.raise_on_interrupt()
    _process.own()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        build_app(_command_of(args))(args=args, prog_name="fastdefect")
    except SystemExit as exc:
        if exc.code is None:
            return int(ExitCode.OK)
        if _interrupt.was_interrupted():  # typer ends a Ctrl-C while parsing with 130, quietly
            return _interrupt.report(_say)
        return exc.code if isinstance(exc.code, int) else int(ExitCode.BAD_INPUT)
    except BaseException as exc:
        if not _interrupt.was_interrupted(exc):
            raise
        return _interrupt.report(_say)
    finally:
        _interrupt.restore(previous)
    return int(ExitCode.OK)
