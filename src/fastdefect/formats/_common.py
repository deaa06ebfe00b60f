"""Helpers shared by the format modules: text decoding, problems, warnings, results."""

from __future__ import annotations

import contextlib
import gc
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..defects import DefectList
from ..errors import FileFormatError, InputError

__all__ = [
    "FormatWarning",
    "ListFile",
    "ListFileError",
    "Problem",
    "WarningCallback",
    "bulk_parsing",
    "emit_warning",
    "field_spans",
    "read_text",
    "shown",
    "split_lines",
    "unclosed_quote",
]

WarningCallback = Callable[[str], None]

UTF8_BOM = b"\xef\xbb\xbf"
#: How many problems an error message lists; all of them are on ``ListFileError.problems``.
MESSAGE_PROBLEMS = 20
#: A reader stops after this many problems (memory stays bounded on hostile files).
MAX_PROBLEMS = 1000
#: Values quoted in messages are cut to this many characters.
SHOWN_CHARACTERS = 60


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters with its length said.

    A hostile file can hold a value of megabytes; the message stays one readable line.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    if len(text) > limit + 2:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


def digits_value(text: str, limit: int) -> int | None:
    """The value of a string of ASCII digits, or None when it exceeds ``limit``.

    Huge digit runs are judged by their length first: ``int()`` of thousands of digits
    is refused by Python (and slow), so it is never attempted.
    """
    significant = text.lstrip("0")
    if len(significant) > len(str(limit)):
        return None
    value = int(significant) if significant else 0
    return value if value <= limit else None


@contextlib.contextmanager
def bulk_parsing() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small objects are made.

    Parsing a long list creates many short-lived strings and lists but no reference
    cycles; the collector's passes over them cost a third of the time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class FormatWarning(UserWarning):
    """Something in a list file was accepted but changed (``lenient`` coercions)."""


def emit_warning(message: str, on_warning: WarningCallback | None) -> None:
    """Send ``message`` to ``on_warning``, or as a :class:`FormatWarning` when None."""
    if on_warning is not None:
        on_warning(message)
    else:
        warnings.warn(message, FormatWarning, stacklevel=4)


class Problem(NamedTuple):
    """One thing wrong in a text file; ``line`` and ``column`` are 1-based."""

    line: int
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ListFileError(FileFormatError):
    """A list file is malformed; ``problems`` holds every problem found, in file order.

    The message names the file and the first problem's line and column, then lists
    the other problems (the first twenty).
    """

    def __init__(
        self, path: str | os.PathLike, problems: Sequence[Problem], *, stopped: bool = False
    ) -> None:
        problems = sorted(problems, key=lambda p: (p.line, p.column or 0))
        if not problems:
            raise ValueError("ListFileError needs at least one problem")
        self.problems = list(problems)
        #: True when reading stopped at :data:`MAX_PROBLEMS` (there may be more).
        self.stopped = stopped
        first = problems[0]
        reason = first.message
        rest = problems[1:]
        if rest:
            listed = rest[: MESSAGE_PROBLEMS - 1]
            reason += f"\n{len(rest)} more problem{'s' if len(rest) > 1 else ''}:"
            reason += "".join(f"\n  {problem}" for problem in listed)
            if len(rest) > len(listed):
                reason += f"\n  ... and {len(rest) - len(listed)} more"
        if stopped:
            reason += f"\n  (reading stopped after {len(problems)} problems)"
        super().__init__(os.fspath(path), reason, line=first.line, column=first.column)


class ProblemList(list):
    """Problems of one file; raises :class:`ListFileError` when :data:`MAX_PROBLEMS` is hit."""

    def __init__(self, path: str | os.PathLike, *, keep: bool = True) -> None:
        super().__init__()
        self.path = path
        self.keep = keep  # False: count only (lenient reading warns and goes on)
        self.count = 0

    def append(self, problem: Problem) -> None:
        self.count += 1
        if not self.keep:
            return
        super().append(problem)
        if len(self) >= MAX_PROBLEMS:
            raise ListFileError(self.path, self, stopped=True)


def read_text(path: str | os.PathLike, what: str) -> str:
    """Read a UTF-8 text file (an optional BOM is dropped); precise errors otherwise."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFormatError(path, f"is UTF-16 text; save the {what} as UTF-8")
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        column = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise FileFormatError(
            path, f"is not a text file (NUL byte); expected a {what}", line=line, column=column
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise FileFormatError(
            path,
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text; save the {what} as UTF-8",
            line=line,
            column=column,
        ) from exc


def split_lines(text: str) -> list[str]:
    """Lines without their endings; LF, CRLF and lone CR all end a line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def field_spans(
    line: str, delimiter: str = ",", max_fields: int | None = None
) -> list[tuple[str, int]]:
    """Split ``line`` on ``delimiter`` honouring double quotes; each field with its 1-based
    start column. Quotes are removed and ``""`` unescaped.

    ``max_fields`` stops after that many fields (the last one holds the rest of the
    line), so a line of millions of delimiters costs no more than a short one. A quote
    left open runs to the end of the line; :func:`unclosed_quote` finds it.
    """
    fields: list[tuple[str, int]] = []
    i, n = 0, len(line)
    while True:
        start = i
        if max_fields is not None and len(fields) == max_fields - 1:
            fields.append((line[i:], start + 1))
            return fields
        if i < n and line[i] == '"':
            value = []
            i += 1
            while True:
                quote = line.find('"', i)
                if quote < 0:  # unclosed: the rest of the line
                    value.append(line[i:])
                    i = n
                    break
                value.append(line[i:quote])
                if line.startswith('""', quote):
                    value.append('"')
                    i = quote + 2
                    continue
                i = quote + 1
                break
            end = line.find(delimiter, i)
            end = n if end < 0 else end
            fields.append(("".join(value) + line[i:end], start + 1))
        else:
            end = line.find(delimiter, i)
            end = n if end < 0 else end
            fields.append((line[i:end], start + 1))
        if end >= n:
            return fields
        i = end + 1


def unclosed_quote(line: str, delimiter: str = ",") -> int | None:
    """1-based column of a field's opening quote that is never closed on ``line``, or None."""
    i, n = 0, len(line)
    while i < n:
        if line[i] == '"':
            opened = i
            i += 1
            while True:
                quote = line.find('"', i)
                if quote < 0:
                    return opened + 1
                if line.startswith('""', quote):
                    i = quote + 2
                    continue
                i = quote + 1
                break
        end = line.find(delimiter, i)
        if end < 0:
            return None
        i = end + 1
    return None


def value_column(text: str, start: int) -> int:
    """Column of the first non-blank character of a field starting at ``start``."""
    stripped = len(text) - len(text.lstrip(" \t"))
    return start + (stripped if text.strip() else 0)


@dataclass
class ListFile:
    """A list read from a file, with what the file said besides the entries.

    Attributes
    ----------
    defects : DefectList
    format : str
        The format name it was read as.
    path : Path
    width, height : int or None
        Sensor size, when the file states it (backup, ARRI XML).
    serial, model : str or None
        Camera serial and model, when the file states them.
    offset : (int, int) or None
        ``(x, y)`` offset recorded in an ARRI file (already removed from the entries).
    extra : dict
        Anything else a format reports (e.g. the backup's creation time).
    """

    defects: DefectList
    format: str
    path: Path
    width: int | None = None
    height: int | None = None
    serial: str | None = None
    model: str | None = None
    offset: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def cleared(self) -> DefectList:
        """The list with every user entry removed, as the camera's "clear user list" does.

        A camera backup (``bin``) keeps its factory entries; any other list file is a
        user list and becomes empty.
        """
        if self.format == "bin":
            return self.defects.filter(sources="factory")
        return self.defects.take([])

    def write_options(self) -> dict[str, Any]:
        """Options to write the list back in its own format with the same header facts."""
        options: dict[str, Any] = {}
        if self.width is not None:
            options["width"] = self.width
            options["height"] = self.height
        if self.serial is not None:
            options["serial"] = self.serial
        if self.model is not None:
            options["model"] = self.model
        if self.offset is not None:
            options["offset_x"], options["offset_y"] = self.offset
        return options
