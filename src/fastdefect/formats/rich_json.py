"""``json``: fastdefect's rich defect list as JSON.

Layout::

    {
      "format": "fastdefect-defect-list",
      "version": 1,
      "metadata": {"exposure_us": 20000},
      "evidence_names": ["dark_mean", "bright_deviation"],
      "entries": [
        {"row": 17, "column": 2043, "kind": "hot", "source": "detected",
         "evidence": {"dark_mean": 880.5}}
      ]
    }

``kind`` (default ``unknown``), ``source`` (default: the file name) and ``evidence``
(default none) may be left out of an entry; evidence that was not measured is left
out of the entry's ``evidence`` object (NaN in the list); infinities are the strings
``"inf"`` and ``"-inf"``. ``evidence_names`` keeps the evidence columns even when no
entry has a value. A bare JSON array of entries is read too.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..defects import KINDS, MAX_COORDINATE, DefectList
from ..errors import FileFormatError, InputError
from ..outputs import atomic_output
from ._common import MAX_PROBLEMS, ListFile, bulk_parsing, read_text, shown

NAME = "json"
FORMAT_TAG = "fastdefect-defect-list"
VERSION = 1
WHAT = "fastdefect defect list JSON"
_KIND_CODE = {name: code for code, name in enumerate(KINDS)}
_INFINITIES = {"inf": math.inf, "-inf": -math.inf, "Infinity": math.inf, "-Infinity": -math.inf}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


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
    text = read_text(path, WHAT)
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            path, f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from exc
    except ValueError as exc:
        raise FileFormatError(path, f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise FileFormatError(path, "not usable JSON: nested too deeply") from exc
    try:
        return _from_document(path, document, source)
    except RecursionError as exc:  # a deeply nested value quoted in a message
        raise FileFormatError(path, "not usable JSON: a value is nested too deeply") from exc


def _quote(value: Any) -> str:
    """A JSON value for a message, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"


def _from_document(path: Path, document: Any, source: str | None) -> ListFile:
    metadata: dict[str, Any] = {}
    declared: list[str] = []
    if isinstance(document, list):
        entries = document
    elif isinstance(document, dict):
        tag = document.get("format", FORMAT_TAG)
        if tag != FORMAT_TAG:
            raise FileFormatError(path, f"format is {_quote(tag)}; expected {FORMAT_TAG!r}")
        version = document.get("version", VERSION)
        if version != VERSION:
            raise FileFormatError(
                path,
                f"version {_quote(version)} is not supported (this fastdefect reads {VERSION})",
            )
        if "entries" not in document:
            raise FileFormatError(path, "has no 'entries' array")
        entries = document["entries"]
        metadata = document.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise FileFormatError(path, "'metadata' must be an object")
        declared = document.get("evidence_names") or []
        if not isinstance(declared, list) or not all(isinstance(n, str) for n in declared):
            raise FileFormatError(path, "'evidence_names' must be an array of strings")
    else:
        raise FileFormatError(path, "must hold a JSON object with 'entries' or an array of entries")
    if not isinstance(entries, list):
        raise FileFormatError(path, "'entries' must be an array")

    n = len(entries)
    rows = np.zeros(n, dtype=np.int64)
    columns = np.zeros(n, dtype=np.int64)
    kinds = np.full(n, _KIND_CODE["unknown"], dtype=np.uint8)
    default_source = source or path.name
    sources: list[str] = [default_source] * n
    names: list[str] = list(declared)
    values: dict[str, dict[int, float]] = {name: {} for name in names}
    problems: list[str] = []

    def problem(i: int, what: str) -> None:
        problems.append(f"entries[{i}]{what}")

    for i, entry in enumerate(entries):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not isinstance(entry, dict):
            problem(i, f": must be an object, got {_quote(entry)}")
            continue
        for field, target in (("row", rows), ("column", columns)):
            if field not in entry:
                problem(i, f": '{field}' is missing")
                continue
            value = entry[field]
            if type(value) is not int:
                problem(i, f".{field}: {_quote(value)} is not an integer")
            elif not 0 <= value <= MAX_COORDINATE:
                problem(i, f".{field}: {value} is outside 0..{MAX_COORDINATE}")
            else:
                target[i] = value
        kind = entry.get("kind", "unknown")
        if not isinstance(kind, str) or kind not in _KIND_CODE:
            problem(i, f".kind: {_quote(kind)} is unknown; known kinds: {', '.join(KINDS)}")
        else:
            kinds[i] = _KIND_CODE[kind]
        if "source" in entry:
            label = entry["source"]
            if not isinstance(label, str) or not label or "\n" in label or "\r" in label:
                problem(i, f".source: {_quote(label)} must be a non-empty one-line string")
            else:
                sources[i] = label
        evidence = entry.get("evidence", {})
        if not isinstance(evidence, dict):
            problem(i, ".evidence: must be an object")
            continue
        for name, value in evidence.items():
            if value is None:
                continue
            if isinstance(value, str) and value in _INFINITIES:
                value = _INFINITIES[value]
            if isinstance(value, bool) or not isinstance(value, int | float):
                problem(i, f".evidence.{shown(name, 40)}: {_quote(value)} is not a number")
                continue
            try:
                number = float(value)
            except OverflowError:
                problem(i, f".evidence.{shown(name, 40)}: {_quote(value)} is too large")
                continue
            if name not in values:
                values[name] = {}
                names.append(name)
            values[name][i] = number
    if problems:
        listed = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        if len(problems) >= MAX_PROBLEMS:
            more += " (reading stopped there)"
        raise FileFormatError(
            path, f"{len(problems)} bad entr{'ies' if len(problems) > 1 else 'y'}: {listed}{more}"
        )
    evidence_arrays = {}
    for name in names:
        array = np.full(n, np.nan)
        if values[name]:
            array[list(values[name])] = list(values[name].values())
        evidence_arrays[name] = array
    try:
        defects = DefectList(
            rows, columns, kinds=kinds, source=sources, evidence=evidence_arrays, metadata=metadata
        )
    except InputError as exc:
        raise FileFormatError(path, str(exc)) from exc
    return ListFile(defects, NAME, path)


def _jsonable_float(value: float) -> float | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def to_document(defects: DefectList) -> dict[str, Any]:
    """The JSON document for ``defects`` as Python objects."""
    names = list(defects.evidence_names)
    evidence = defects.evidence
    columns = {name: evidence[name].tolist() for name in names}
    kinds = [KINDS[k] for k in defects.kind_codes.tolist()]
    sources = [defects.source_names[s] for s in defects.source_codes.tolist()]
    entries = []
    for i, (row, column) in enumerate(
        zip(defects.rows.tolist(), defects.columns.tolist(), strict=True)
    ):
        entry: dict[str, Any] = {
            "row": row,
            "column": column,
            "kind": kinds[i],
            "source": sources[i],
        }
        measured = {
            name: _jsonable_float(columns[name][i])
            for name in names
            if not math.isnan(columns[name][i])
        }
        if measured:
            entry["evidence"] = measured
        entries.append(entry)
    return {
        "format": FORMAT_TAG,
        "version": VERSION,
        "metadata": defects.metadata,
        "evidence_names": names,
        "entries": entries,
    }


def _entry_lines(defects: DefectList) -> list[str]:
    """Each entry as one line of JSON, built from pre-encoded pieces (fast for long lists)."""
    kind_text = [json.dumps(name) for name in KINDS]
    source_text = [json.dumps(name) for name in defects.source_names]
    names = list(defects.evidence_names)
    name_text = [json.dumps(name) for name in names]
    evidence = defects.evidence
    columns = [evidence[name].tolist() for name in names]
    kinds = defects.kind_codes.tolist()
    sources = defects.source_codes.tolist()
    lines = []
    for i, (row, column) in enumerate(
        zip(defects.rows.tolist(), defects.columns.tolist(), strict=True)
    ):
        line = (
            f'{{"row": {row}, "column": {column}, "kind": {kind_text[kinds[i]]}, '
            f'"source": {source_text[sources[i]]}'
        )
        measured = [
            f"{key}: {_float_text(values[i])}"
            for key, values in zip(name_text, columns, strict=True)
            if values[i] == values[i]  # not NaN
        ]
        if measured:
            line += ', "evidence": {' + ", ".join(measured) + "}"
        lines.append(line + "}")
    return lines


def _float_text(value: float) -> str:
    if math.isinf(value):
        return '"inf"' if value > 0 else '"-inf"'
    return repr(value)


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write ``defects`` as rich JSON (every field kept), atomically.

    The document is laid out with one entry per line: readable, diff-friendly and
    compact for long lists.
    """
    document = {
        "format": FORMAT_TAG,
        "version": VERSION,
        "metadata": defects.metadata,
        "evidence_names": list(defects.evidence_names),
    }
    try:
        head = json.dumps(document, allow_nan=False, indent=1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the list's metadata cannot be written as JSON: {exc}") from exc
    lines = _entry_lines(defects)
    body = ",\n  ".join(lines)
    text = head[:-2] + ',\n "entries": [' + (f"\n  {body}\n ]" if lines else "]") + "\n}"
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)


def read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning=None,
) -> ListFile:
    """Read a rich defect list JSON; problems name the entry (``entries[5].row``) and value."""
    with bulk_parsing():
        return _read(path, source=source, lenient=lenient, on_warning=on_warning)
