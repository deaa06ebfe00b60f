"""The one exception family of fastdefect.

Every error a user can cause (a bad file, a bad coordinate, a wrong sensor size, a
missing camera) is a :class:`FastDefectError`. The command line prints its message as
one readable paragraph and exits with :attr:`FastDefectError.exit_code`; a notebook
user catches it like any exception.

Exit codes used by the command line:

====  =================================================================
0     ok
1     findings: a check ran and found problems (not an error)
2     bad input: unreadable, malformed or inconsistent files and values
3     camera or device error
====  =================================================================
"""

from __future__ import annotations

import importlib
from enum import IntEnum
from pathlib import Path
from types import ModuleType

__all__ = [
    "CameraError",
    "ExitCode",
    "FastDefectError",
    "FileFormatError",
    "InputError",
    "MissingExtraError",
    "OutputError",
    "OutputExistsError",
    "import_optional",
]


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    DEVICE = 3


class FastDefectError(Exception):
    """Base class of every error fastdefect raises on purpose."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class InputError(FastDefectError, ValueError):
    """A value or file given by the user cannot be used."""


class FileFormatError(InputError):
    """A file is malformed; the message names the file and, where known, line and column.

    Parameters
    ----------
    path : path-like or str
        The offending file.
    reason : str
        What is wrong, in words a user understands.
    line, column : int, optional
        1-based position of the problem in a text file.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f", line {line}"
            if column is not None:
                where += f", column {column}"
        super().__init__(f"{where}: {reason}")


class OutputExistsError(InputError):
    """An output file exists already and overwriting was not asked for."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        super().__init__(f"{self.path} exists already; use --force to overwrite it")


class OutputError(InputError):
    """An output file cannot be written (permission, disk full, name too long ...)."""


class CameraError(FastDefectError):
    """The camera or its transport failed or refused an operation."""

    exit_code = ExitCode.DEVICE


class MissingExtraError(InputError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def import_optional(
    module: str, *, extra: str, purpose: str, package: str | None = None
) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingExtraError` saying what to install.

    ``package`` is the name users know it by, when it differs from the module (Pillow).

    >>> import_optional("rawpy", extra="raw", purpose="reading raw files")  # doctest: +SKIP
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = package or module.split(".")[0]
        raise MissingExtraError(
            f"{purpose} needs the optional {package} package, which is not installed: "
            f"pip install 'fastdefect[{extra}]'"
        ) from exc
