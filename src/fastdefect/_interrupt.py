"""Ctrl-C on the command line: one line ``interrupted`` and exit code 130, always.

Two phases. While Python is still importing (numpy, numba: seconds on a busy machine)
nothing has been done yet, so :func:`exit_at_once_during_startup` makes Ctrl-C end the
process at once. Once :func:`fastdefect.cli.main` runs, :func:`raise_on_interrupt` turns
Ctrl-C into :class:`KeyboardInterrupt` *and remembers it*: ``finally`` blocks and the
upload transaction's recovery still run, and whatever exception the interrupt turns
into on its way out (numba and C extensions wrap it in ``SystemError``) is recognised
by :func:`was_interrupted` and reported as the one line.

This module imports nothing heavy: it is loaded before numpy.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

EXIT_CODE = 130
MESSAGE = "interrupted"

_interrupted = False
_reported = False


def _running_as_command_line() -> bool:
    """True while ``python -m fastdefect`` or the ``fastdefect`` script starts up."""
    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first) in ("fastdefect", "fastdefect.exe")


def _exit_now(signum: int, frame: Any) -> None:
    del signum, frame
    sys.stderr.write(f"{MESSAGE}\n")
    sys.stderr.flush()
    os._exit(EXIT_CODE)  # nothing started yet: no file open, no camera touched


def exit_at_once_during_startup() -> None:
    """Called first thing by the package: Ctrl-C while the command line imports exits."""
    if _running_as_command_line() and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _exit_now)


def _raise(signum: int, frame: Any) -> None:
    global _interrupted
    del signum, frame
    _interrupted = True
    raise KeyboardInterrupt


def raise_on_interrupt() -> Any:
    """Install the running-phase handler; return the previous one (None off the main thread)."""
    global _interrupted, _reported
    _interrupted = _reported = False
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _raise)


def handled() -> None:
    """Forget a Ctrl-C the command took as its normal end (``view`` stops on Ctrl-C)."""
    global _interrupted
    _interrupted = False


def report(say: Callable[[str], object]) -> int:
    """Say :data:`MESSAGE` through ``say``, once however many layers see the interrupt;
    return :data:`EXIT_CODE`."""
    global _reported
    if not _reported:
        _reported = True
        say(MESSAGE)
    return EXIT_CODE


def restore(previous: Any) -> None:
    """Put back the handler :func:`raise_on_interrupt` replaced.

    On the command line the command is over by now: a Ctrl-C while the interpreter
    shuts down (numba's teardown takes a moment) changes nothing, so it is ignored and
    the exit code stays the command's. (Python resets handlers to the default while it
    finalizes, which would kill the process with SIGINT, but leaves an ignored one be.)
    """
    if previous is _exit_now:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    elif previous is not None:
        signal.signal(signal.SIGINT, previous)
    # CPython remembers a KeyboardInterrupt that left an exec'd string (dataclasses,
    # typer and numba build functions that way) and, under ``python -m``, kills the
    # process with SIGINT after it ends normally (exit -2, not 130, even when the
    # interrupt was handled); an exec of a string that completes forgets it.
    exec("")


def was_interrupted(error: BaseException | None = None) -> bool:
    """Whether Ctrl-C was pressed, or ``error`` is (or was caused by) a KeyboardInterrupt."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return _interrupted
