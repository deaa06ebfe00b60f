"""``av-csv``: the Allied Vision Defective Pixel List Management Tool's user list CSV.

Layout: a header line ``Row, Column``, then one ``row,column`` pair per line, unsigned
integers 0..65535, 0-based. Not camera specific. UTF-8 with or without a BOM, LF or
CRLF line ends. We write ``Row, Column`` and ``row,column`` lines with CRLF ends (the
vendor tool is Windows-only).

The vendor tool silently coerces every bad value to 0. We don't: by default every bad
value (negative, too large, not a whole number, not a number, blank, a wrong delimiter,
a missing or extra field, a blank line) is reported with its line and column and
nothing is read. ``lenient=True`` reproduces the vendor tool's behaviour (bad values
read as 0, extra fields and blank lines skipped) and reports each coercion as a
warning. A wrong or missing header is always an error: a swapped ``Column, Row``
header would otherwise silently transpose the list.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..defects import MAX_COORDINATE, DefectList
from ..outputs import atomic_output
from ._common import (
    ListFile,
    ListFileError,
    Problem,
    ProblemList,
    WarningCallback,
    digits_value,
    emit_warning,
    read_text,
    shown,
    split_lines,
    value_column,
)

NAME = "av-csv"
HEADER = "Row, Column"
_FIELD_NAMES = ("Row", "Column")
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
# No two ways to match one digit run: linear time on a 40k-digit value (no backtracking).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OTHER_DELIMITERS = (";", "\t", "|")
WHAT = "Allied Vision user list CSV"


def judge_value(text: str, name: str) -> tuple[int | None, str | None]:
    """Parse one coordinate; return ``(value, None)`` or ``(None, why it is bad)``."""
    value = text.strip(" \t")
    quoted = shown(value)
    if value == "":
        return None, f"{name} value is blank"
    if value.isascii() and value.isdigit():
        number = digits_value(value, MAX_COORDINATE)
        if number is None:
            return None, f"{name} value {quoted} is too large (largest allowed {MAX_COORDINATE})"
        return number, None
    for delimiter in _OTHER_DELIMITERS:
        if delimiter in value:
            return None, (
                f"{name} value {quoted} contains {delimiter!r}: wrong delimiter, the values "
                "must be separated by a comma"
            )
    if _SIGNED_INT.fullmatch(value):
        if value.startswith("-"):
            return None, f"{name} value {quoted} is negative (allowed 0..{MAX_COORDINATE})"
        return None, f"{name} value {quoted} has a sign; write the bare number"
    if _NUMBER.fullmatch(value):
        if value.startswith("-"):
            return None, f"{name} value {quoted} is negative (allowed 0..{MAX_COORDINATE})"
        return None, f"{name} value {quoted} is not a whole number"
    return None, f"{name} value {quoted} is not a number"


def _header_problem(header: str) -> Problem | None:
    names = [f.strip(" \t").lower() for f in header.split(",", 2)]
    if names == ["row", "column"]:
        return None
    quoted = shown(header)
    for delimiter in _OTHER_DELIMITERS:
        if delimiter in header:
            column = header.index(delimiter) + 1
            return Problem(
                1,
                column,
                f"header {quoted} uses {delimiter!r}: wrong delimiter, "
                f"the file must be comma-separated with the header {HEADER!r}",
            )
    if names == ["column", "row"]:
        return Problem(1, 1, f"header {quoted} has the columns swapped; expected {HEADER!r}")
    first = names[0] if names else ""
    if first.isdigit() or first.lstrip("-").isdigit():
        return Problem(1, 1, f"no header: the first line is {quoted}; expected {HEADER!r}")
    if header.strip() == "":
        return Problem(1, 1, f"the first line is blank; expected the header {HEADER!r}")
    return Problem(1, 1, f"header is {quoted}; expected {HEADER!r}")


def read(
    path: str | os.PathLike,
    *,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
    source: str | None = None,
) -> ListFile:
    """Read an Allied Vision user list CSV.

    Parameters
    ----------
    path : path-like
    lenient : bool
        Coerce bad values to 0 like the vendor tool (each coercion is a warning) instead
        of refusing the file.
    on_warning : callable, optional
        Receives each warning; default: :class:`FormatWarning` via :mod:`warnings`.
    source : str, optional
        Source label of the entries; default the file name.

    Raises
    ------
    ListFileError
        Listing every problem with its line and column (strict mode), or a header problem.
    """
    path = Path(path)
    label = source or path.name
    text = read_text(path, WHAT)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    header_end = text.find("\n")
    if header_end > 0 and _header_problem(text[:header_end]) is None:
        numbers = _parse_fast(text[header_end + 1 :])
        if numbers is not None:
            return ListFile(DefectList(numbers[:, 0], numbers[:, 1], source=label), NAME, path)
    lines = split_lines(text)
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    if not lines:
        raise ListFileError(
            path, [Problem(1, None, f"file is empty; expected the header {HEADER!r}")]
        )
    header_problem = _header_problem(lines[0])
    if header_problem is not None:
        raise ListFileError(path, [header_problem])
    return _read_slowly(path, lines, lenient=lenient, on_warning=on_warning, label=label)


_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[[ord(c) for c in "0123456789, \t\n"]] = True


def _parse_fast(body: str) -> np.ndarray | None:
    """Parse a well-formed body (``row,column`` lines, LF ends) in bulk, or return None.

    Any deviation (a character other than digits, commas and blanks, a line without
    exactly one comma, an empty field, blanks inside a number, more than 5 digits, a
    value above 65535, a blank line) returns None: the line-by-line reader then finds
    and reports it precisely.
    """
    # Two 5-digit numbers, a comma and some blanks around them: a body averaging more
    # than 32 characters a line is not for the fast path (the line reader takes it),
    # and a long bad value is not copied.
    if body.count("\n") * 33 + 33 < len(body):
        return None
    body = body.rstrip(" \t\n")
    if not body:
        return np.zeros((0, 2), dtype=np.int64)
    if not body.isascii():
        return None
    data = np.frombuffer((body + "\n").encode("ascii"), dtype=np.uint8)
    if not _ALLOWED[data].all():
        return None
    separators = np.flatnonzero((data == ord(",")) | (data == ord("\n")))
    kinds = data[separators]
    if separators.size % 2 or not (
        np.all(kinds[0::2] == ord(",")) and np.all(kinds[1::2] == ord("\n"))
    ):
        return None
    digit = (data >= ord("0")) & (data <= ord("9"))
    run_start = digit.copy()
    run_start[1:] &= ~digit[:-1]
    field_starts = np.concatenate(([0], separators[:-1] + 1))
    digits_per_field = np.add.reduceat(digit.astype(np.int32), field_starts)
    runs_per_field = np.add.reduceat(run_start.astype(np.int32), field_starts)
    if not (np.all(runs_per_field == 1) and np.all(digits_per_field <= 5)):
        return None
    values = np.fromstring(body.replace(",", " "), dtype=np.int64, sep=" ")
    if values.size != separators.size or values.max() > MAX_COORDINATE:
        return None
    return values.reshape(-1, 2)


def _read_slowly(
    path: Path,
    lines: list[str],
    *,
    lenient: bool,
    on_warning: WarningCallback | None,
    label: str,
) -> ListFile:
    problems = ProblemList(path, keep=not lenient)
    rows: list[int] = []
    columns: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip(" \t"):
            problems.append(Problem(number, 1, "blank line"))
            if lenient:
                emit_warning(f"{path}, line {number}: blank line skipped", on_warning)
            continue
        fields = _plain_spans(line)
        if len(fields) == 1:
            wrong = [d for d in _OTHER_DELIMITERS if d in line]
            if wrong:
                column = line.index(wrong[0]) + 1
                why = (
                    f"wrong delimiter {wrong[0]!r} in {shown(line.strip())}: the values must be "
                    "separated by a comma"
                )
                problems.append(Problem(number, column, why))
                if lenient:
                    emit_warning(
                        f"{path}, line {number}, column {column}: {why}; read as row 0, column 0",
                        on_warning,
                    )
                rows.append(0)
                columns.append(0)
                continue
        values: list[int] = []
        for index, name in enumerate(_FIELD_NAMES):
            if index < len(fields):
                text, start = fields[index]
                value, why = judge_value(text, name)
                column = value_column(text, start)
            else:
                value, column = None, len(line) + 1
                why = f"{name} value is missing: expected 'row,column'"
                for delimiter in _OTHER_DELIMITERS:
                    if delimiter in line:
                        why += f" (found {delimiter!r}: wrong delimiter)"
                        break
            if why is not None:
                problems.append(Problem(number, column, why))
                if lenient:
                    emit_warning(
                        f"{path}, line {number}, column {column}: {why}; read as 0", on_warning
                    )
                value = 0
            values.append(value)
        if len(fields) > 2:
            text, start = fields[2]
            why = f"{line.count(',') + 1} values; expected 2 (Row, Column)"
            problems.append(Problem(number, start, why))
            if lenient:
                emit_warning(
                    f"{path}, line {number}, column {start}: {why}; extra values ignored",
                    on_warning,
                )
        rows.append(values[0])
        columns.append(values[1])
    if problems and not lenient:
        raise ListFileError(path, problems)
    return ListFile(DefectList(rows, columns, source=label), NAME, path)


def _plain_spans(line: str) -> list[tuple[str, int]]:
    """The first three fields, split on commas (quotes are not special in this format).

    Two values are expected; a third only tells that there are too many, so a line of
    millions of commas is split no further.
    """
    spans, start = [], 0
    for part in line.split(",", 2):
        spans.append((part, start + 1))
        start += len(part) + 1
    return spans


def format_text(defects: DefectList) -> str:
    """The file content for ``defects`` (positions only, in list order)."""
    lines = [HEADER]
    lines.extend(
        f"{r},{c}" for r, c in zip(defects.rows.tolist(), defects.columns.tolist(), strict=True)
    )
    return "\r\n".join(lines) + "\r\n"


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write ``defects`` as an Allied Vision user list CSV (positions only), atomically."""
    text = format_text(defects)
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        tmp.write_bytes(text.encode("ascii"))
    return Path(path)
