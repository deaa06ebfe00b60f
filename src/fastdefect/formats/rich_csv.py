"""``csv``: fastdefect's rich defect list CSV (what ``fastdefect detect -o OUT.csv`` writes).

Layout (UTF-8, LF line ends, RFC 4180 quoting where a value needs it)::

    # fastdefect-metadata: {"exposure_us": 20000, "temperature_c": 24.5}
    row,column,kind,source,dark_mean,bright_deviation,...
    17,2043,hot,detected,880.5,
    17,2044,stuck_low,detected,1.25,-412.0

* Optional ``#`` comment lines before the header; one of the form
  ``# fastdefect-metadata: {json object}`` carries the list's metadata.
* The header starts with ``row,column,kind``; ``source`` may follow; every further
  column is an evidence measurement, named by its header.
* ``row`` and ``column``: integers 0..65535, 0-based. ``kind``: one of
  :data:`fastdefect.defects.KINDS`. ``source``: any one-line text (a file name is quoted
  when it holds a comma). Evidence: a decimal number, ``inf``/``-inf``, or empty for
  "not measured" (NaN). Numbers are written with Python's shortest round-trip repr, so
  reading gives back exactly the float64 that was written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from ..defects import KINDS, MAX_COORDINATE, DefectList
from ..errors import InputError
from ..outputs import atomic_output
from ._common import (
    ListFile,
    ListFileError,
    Problem,
    ProblemList,
    bulk_parsing,
    digits_value,
    field_spans,
    read_text,
    shown,
    split_lines,
    unclosed_quote,
)

NAME = "csv"
METADATA_PREFIX = "# fastdefect-metadata:"
FIXED = ("row", "column", "kind")
#: More header columns than this is not a defect list (and would cost memory per line).
MAX_COLUMNS = 1000
_DIGITS = re.compile(r"[0-9]+(?:\n[0-9]+)*")
_KIND_CODE = {name: code for code, name in enumerate(KINDS)}
WHAT = "fastdefect defect list CSV"


def sniff_header(line: str) -> bool:
    """True when ``line`` is a rich CSV header (starts with ``row,column,kind``)."""
    names = [name.strip().lower() for name in line.split(",")]
    return names[:3] == list(FIXED)


def _read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning=None,
) -> ListFile:
    """The work of :func:`read`, with the garbage collector paused."""
    del lenient, on_warning
    path = Path(path)
    lines = split_lines(read_text(path, WHAT))
    metadata: dict = {}
    index = 0
    while index < len(lines) and (lines[index].startswith("#") or not lines[index].strip()):
        line = lines[index]
        if line.startswith(METADATA_PREFIX):
            try:
                metadata = json.loads(line[len(METADATA_PREFIX) :])
            except json.JSONDecodeError as exc:
                raise ListFileError(
                    path,
                    [
                        Problem(
                            index + 1,
                            len(METADATA_PREFIX) + exc.colno,
                            f"metadata is not valid JSON ({exc.msg})",
                        )
                    ],
                ) from exc
            except (ValueError, RecursionError) as exc:  # huge numbers, deep nesting
                why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                raise ListFileError(
                    path, [Problem(index + 1, None, f"metadata is not usable JSON ({why})")]
                ) from exc
            if not isinstance(metadata, dict):
                raise ListFileError(
                    path, [Problem(index + 1, None, "metadata must be a JSON object")]
                )
        index += 1
    if index >= len(lines):
        raise ListFileError(
            path,
            [
                Problem(
                    max(index, 1),
                    None,
                    "no header line 'row,column,kind,...'; the file holds no list",
                )
            ],
        )
    header_number = index + 1
    if lines[index].count(",") >= MAX_COLUMNS:
        raise ListFileError(
            path,
            [Problem(header_number, 1, f"header has more than {MAX_COLUMNS} columns")],
        )
    header = [(name.strip(), start) for name, start in field_spans(lines[index])]
    names = [name for name, _ in header]
    if [n.lower() for n in names[:3]] != list(FIXED):
        raise ListFileError(
            path,
            [
                Problem(
                    header_number,
                    1,
                    f"header is {shown(lines[index])}; expected it to start with 'row,column,kind'",
                )
            ],
        )
    has_source = len(names) > 3 and names[3].lower() == "source"
    evidence_names = names[4:] if has_source else names[3:]
    seen: set[str] = set()
    for offset, name in enumerate(evidence_names):
        column = header[offset + (4 if has_source else 3)][1]
        if not name:
            raise ListFileError(
                path, [Problem(header_number, column, "empty evidence column name")]
            )
        if name in seen or name.lower() in ("row", "column", "kind", "source"):
            raise ListFileError(
                path,
                [Problem(header_number, column, f"evidence column {shown(name)} appears twice")],
            )
        seen.add(name)

    body = lines[index + 1 :]
    while body and not body[-1].strip():
        body.pop()
    first_number = index + 2
    if any(line.startswith("#") for line in body):
        kept_numbers = [n for n, line in enumerate(body, first_number) if not line.startswith("#")]
        body = [line for line in body if not line.startswith("#")]
    else:
        kept_numbers = None
    width = len(names)
    problems = ProblemList(path)

    def line_number(row_index: int) -> int:
        return kept_numbers[row_index] if kept_numbers is not None else first_number + row_index

    if any('"' in line for line in body):
        # Each line is one record: a quote left open is an error here, not a value that
        # runs on into (and swallows) the next lines as the csv module would read it.
        records = []
        for row_index, line in enumerate(body):
            if '"' not in line:
                records.append(line.split(",", width))
                continue
            opened = unclosed_quote(line)
            if opened is not None:
                problems.append(
                    Problem(
                        line_number(row_index),
                        opened,
                        "quote is not closed on this line (a value cannot span lines)",
                    )
                )
                records.append([""] * width)
                continue
            records.append([value for value, _ in field_spans(line, max_fields=width + 1)])
    else:  # nothing quoted: a plain split is much faster
        records = [line.split(",") for line in body]

    if problems or any(len(record) != width for record in records):
        for row_index, (line, record) in enumerate(zip(body, records, strict=True)):
            if len(record) == width:
                continue
            if not line.strip():
                problems.append(Problem(line_number(row_index), 1, "blank line"))
            else:
                spans = field_spans(line, max_fields=width + 1)
                column = spans[width][1] if len(spans) > width else len(line) + 1
                count = f"more than {width}" if len(spans) > width else str(len(spans))
                problems.append(
                    Problem(
                        line_number(row_index), column, f"{count} values; the header has {width}"
                    )
                )
        raise ListFileError(path, problems)
    columns = list(zip(*records, strict=True)) if records else [()] * width

    def locate(field_index: int, row_index: int) -> tuple[int, int]:
        spans = field_spans(body[row_index], max_fields=field_index + 2)
        return line_number(row_index), spans[field_index][1]

    coords = []
    for field_index, name in enumerate(("row", "column")):
        values = list(columns[field_index])
        if values and not _DIGITS.fullmatch("\n".join(values)):
            values = [v.strip() for v in values]
        if values and not _DIGITS.fullmatch("\n".join(values)):
            for row_index, value in enumerate(values):
                if not (value.isascii() and value.isdigit()):
                    line, col = locate(field_index, row_index)
                    what = (
                        "blank"
                        if not value
                        else f"{shown(value)} is not an integer 0..{MAX_COORDINATE}"
                    )
                    problems.append(Problem(line, col, f"{name} value {what}"))
            continue
        if any(len(value) > 5 for value in values):  # judged by length: int() of huge runs fails
            parsed = [digits_value(value, MAX_COORDINATE) for value in values]
            array = np.array([MAX_COORDINATE + 1 if v is None else v for v in parsed], np.int64)
        else:
            array = np.array(values, dtype=np.int64) if values else np.zeros(0, np.int64)
        for row_index in np.flatnonzero(array > MAX_COORDINATE).tolist():
            line, col = locate(field_index, row_index)
            problems.append(
                Problem(
                    line,
                    col,
                    f"{name} value {shown(values[row_index])} is too large "
                    f"(largest allowed {MAX_COORDINATE})",
                )
            )
        coords.append(array)

    kind_list = [_KIND_CODE.get(kind, -1) for kind in columns[2]]
    if -1 in kind_list:
        kind_list = [_KIND_CODE.get(kind.strip(), -1) for kind in columns[2]]
        for row_index, code in enumerate(kind_list):
            if code < 0:
                line, col = locate(2, row_index)
                problems.append(
                    Problem(
                        line,
                        col,
                        f"kind {shown(columns[2][row_index].strip())} is unknown; known kinds: "
                        f"{', '.join(KINDS)}",
                    )
                )
    kind_codes = np.array(
        [max(code, 0) for code in kind_list] if -1 in kind_list else kind_list, dtype=np.uint8
    )

    if has_source:
        sources = list(columns[3])
        if not all(sources):
            for row_index, value in enumerate(sources):
                if not value:
                    line, col = locate(3, row_index)
                    problems.append(Problem(line, col, "source is blank"))
    else:
        sources = source or path.name

    evidence: dict[str, np.ndarray] = {}
    first_evidence = 4 if has_source else 3
    for offset, name in enumerate(evidence_names):
        field_index = first_evidence + offset
        values = columns[field_index]
        try:
            array = np.array([v if v.strip() else "nan" for v in values], dtype=np.float64)
        except ValueError:
            array = np.full(len(values), np.nan)
            filled = [i for i, v in enumerate(values) if v.strip()]
            for row_index in filled:
                text = values[row_index].strip()
                try:
                    float(text)
                except ValueError:
                    line, col = locate(field_index, row_index)
                    problems.append(
                        Problem(line, col, f"{name} value {shown(text)} is not a number")
                    )
        evidence[name] = array

    if problems:
        raise ListFileError(path, problems)
    try:
        defects = DefectList(
            coords[0],
            coords[1],
            kinds=kind_codes,
            source=sources,
            evidence=evidence,
            metadata=metadata,
        )
    except InputError as exc:
        raise ListFileError(path, [Problem(header_number, None, str(exc))]) from exc
    return ListFile(defects, NAME, path)


def _format_float(value: float) -> str:
    if math.isnan(value):
        return ""
    return repr(value)


def format_text(defects: DefectList) -> str:
    """The file content for ``defects``: the layout in the module docstring."""
    buffer = io.StringIO()
    if defects.metadata:
        try:
            encoded = json.dumps(defects.metadata, allow_nan=False, separators=(", ", ": "))
        except (TypeError, ValueError) as exc:
            raise InputError(f"the list's metadata cannot be written as JSON: {exc}") from exc
        buffer.write(f"{METADATA_PREFIX} {encoded}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    names = list(defects.evidence_names)
    writer.writerow(["row", "column", "kind", "source", *names])
    columns = [
        defects.rows.tolist(),
        defects.columns.tolist(),
        [KINDS[k] for k in defects.kind_codes.tolist()],
        [defects.source_names[s] for s in defects.source_codes.tolist()],
    ]
    evidence = defects.evidence
    columns.extend([_format_float(v) for v in evidence[name].tolist()] for name in names)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write ``defects`` as a rich CSV (every field kept), atomically."""
    text = format_text(defects)
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")
    return Path(path)


def read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning=None,
) -> ListFile:
    """Read a rich defect list CSV; every problem is reported with its line and column.

    ``source`` labels the entries when the file has no ``source`` column (default: the
    file name). ``lenient`` and ``on_warning`` are accepted for a uniform interface; this
    format has nothing to coerce.
    """
    with bulk_parsing():
        return _read(path, source=source, lenient=lenient, on_warning=on_warning)
