"""``dcraw``: the dcraw / UFRaw bad-pixel file (``dcraw -P FILE``).

One defect per line: ``column row timestamp`` separated by blanks — x first, then y,
then the Unix time in seconds from which the defect applies (0: always; dcraw skips
a defect whose time is later than the photo's). ``#`` starts a comment that runs to the
end of the line; blank lines are ignored.

Coordinates are swapped to ``(row, column)`` here, at the file boundary. The timestamp
becomes the ``timestamp`` evidence of the entry when any entry has a non-zero one;
writing takes it from that evidence (missing: the ``timestamp`` option, default 0).

dcraw silently skips a line that does not hold three integers; we report such a line
with its line and column (``lenient=True`` reads a missing timestamp as 0, with a
warning).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..defects import MAX_COORDINATE, DefectList
from ..errors import InputError
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
)

NAME = "dcraw"
WHAT = "dcraw bad-pixel file"
_FIELDS = ("column (x)", "row (y)", "timestamp")
#: Largest timestamp: every whole second up to it is exact in the float64 evidence.
MAX_TIMESTAMP = 2**53 - 1


def _spans(line: str, max_fields: int = 4) -> list[tuple[str, int]]:
    """Blank-separated fields with their columns; at most ``max_fields`` (then it stops)."""
    spans, i, n = [], 0, len(line)
    while i < n and len(spans) < max_fields:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and line[i] not in " \t":
            i += 1
        spans.append((line[start:i], start + 1))
    return spans


def read(
    path: str | os.PathLike,
    *,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
    source: str | None = None,
) -> ListFile:
    """Read a dcraw bad-pixel file; every bad line is reported with its line and column."""
    path = Path(path)
    lines = split_lines(read_text(path, WHAT))
    problems = ProblemList(path)
    rows: list[int] = []
    columns: list[int] = []
    times: list[int] = []
    for number, line in enumerate(lines, start=1):
        hash_at = line.find("#")
        content = line if hash_at < 0 else line[:hash_at]
        spans = _spans(content)
        if not spans:
            continue
        values: list[int] = []
        for index, (text, start) in enumerate(spans[:3]):
            limit = MAX_COORDINATE if index < 2 else MAX_TIMESTAMP
            if not (text.isascii() and text.isdigit()):
                kind = (
                    "negative" if text.startswith("-") and text[1:].isdigit() else "not an integer"
                )
                problems.append(Problem(number, start, f"{_FIELDS[index]} {shown(text)} is {kind}"))
                values.append(0)
                continue
            value = digits_value(text, limit)
            if value is None:
                problems.append(
                    Problem(
                        number,
                        start,
                        f"{_FIELDS[index]} {shown(text)} is too large (largest {limit})",
                    )
                )
                values.append(0)
            else:
                values.append(value)
        if len(spans) == 2:
            why = "2 values; dcraw needs 'column row timestamp' (it skips this line)"
            if lenient:
                emit_warning(f"{path}, line {number}: {why}; timestamp read as 0", on_warning)
                values.append(0)
            else:
                problems.append(Problem(number, len(content.rstrip()) + 1, why))
        elif len(spans) == 1:
            problems.append(
                Problem(
                    number, len(content.rstrip()) + 1, "1 value; expected 'column row timestamp'"
                )
            )
        elif len(spans) > 3:
            problems.append(
                Problem(
                    number,
                    spans[3][1],
                    f"{len(content.split())} values; expected 'column row timestamp'",
                )
            )
        if len(values) == 3:
            columns.append(values[0])
            rows.append(values[1])
            times.append(values[2])
    if problems:
        raise ListFileError(path, problems)
    evidence = {}
    if any(times):
        evidence["timestamp"] = np.asarray(times, dtype=np.float64)
    return ListFile(
        DefectList(rows, columns, source=source or path.name, evidence=evidence), NAME, path
    )


def format_text(defects: DefectList, *, timestamp: int = 0) -> str:
    """The file content for ``defects``."""
    if timestamp < 0:
        raise InputError(f"a dcraw timestamp must be 0 or more, got {timestamp}")
    stamps = np.full(len(defects), float(timestamp))
    if "timestamp" in defects.evidence_names:
        given = defects.evidence["timestamp"]
        stamps = np.where(np.isnan(given), stamps, given)
    bad = ~np.isfinite(stamps) | (stamps < 0) | (stamps != np.floor(stamps))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"timestamp {stamps[i]!r} of row {defects.rows[i]}, column {defects.columns[i]} "
            "is not a whole number of seconds >= 0"
        )
    header = (
        f"# bad-pixel list for dcraw -P / UFRaw, written by fastdefect {__version__} on "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
        "# column row timestamp (x y unix-seconds; 0 = always)\n"
    )
    body = "".join(
        f"{c} {r} {t}\n"
        for c, r, t in zip(
            defects.columns.tolist(),
            defects.rows.tolist(),
            stamps.astype(np.int64).tolist(),
            strict=True,
        )
    )
    return header + body


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    overwrite: bool = False,
    backup: bool = False,
    timestamp: int | None = None,
) -> Path:
    """Write a dcraw bad-pixel file, atomically (``timestamp`` where an entry has none)."""
    text = format_text(defects, timestamp=0 if timestamp is None else int(timestamp))
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)
