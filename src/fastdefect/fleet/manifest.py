"""The batch manifest: which stacks belong to which camera.

A CSV file with the header ``serial,role,path`` and, optionally, the columns
``exposure_us``, ``bit_depth``, ``cfa``, ``model``, ``width`` and ``height``. One row per
stack; ``role`` is ``dark``, ``bright`` or ``saturated``; a camera may have several rows
per role (as ``detect`` takes repeated ``--dark``). Paths are relative to the manifest's
directory unless absolute, and may be files, directories or globs as in ``detect``.

* ``exposure_us`` on dark rows: the exposure of that stack when its files do not say
  (``detect --dark-exposure``); give it on every dark row of a camera or on none.
* ``bit_depth``, ``cfa``, ``model``: per camera; rows of one camera must agree (or leave
  the cell empty).
* ``width``, ``height``: the sensor size the camera must have; a stack of another size
  fails that camera with a clear message.

The whole manifest is checked before any work starts: a malformed one is an error
naming the line and the value.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FileFormatError, InputError
from ..sensor import parse_cfa

__all__ = ["MANIFEST_COLUMNS", "CameraJob", "read_manifest"]

ROLES = ("dark", "bright", "saturated")
REQUIRED_COLUMNS = ("serial", "role", "path")
OPTIONAL_COLUMNS = ("exposure_us", "bit_depth", "cfa", "model", "width", "height")
MANIFEST_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# A serial names the camera's output directory: keep it a plain file name.
_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class CameraJob:
    """Everything needed to run detection on one camera (picklable, sent to a worker)."""

    serial: str
    dark: list[str] = field(default_factory=list)
    bright: list[str] = field(default_factory=list)
    saturated: list[str] = field(default_factory=list)
    dark_exposures: list[float] | None = None
    bit_depth: int | None = None
    cfa: str | None = None
    model: str | None = None
    width: int | None = None
    height: int | None = None
    lines: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _number(text: str, kind: type, path: Path, line: int, column: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise FileFormatError(
            path,
            f"column {column}: {text!r} is not a{'n integer' if kind is int else ' number'}",
            line=line,
        ) from None
    if not value > 0:
        raise FileFormatError(path, f"column {column}: {text!r} must be positive", line=line)
    return value


def _agree(job: CameraJob, name: str, value: Any, path: Path, line: int) -> None:
    current = getattr(job, name)
    if value is None:
        return
    if current is not None and current != value:
        raise FileFormatError(
            path,
            f"camera {job.serial}: {name} {value!r} differs from {current!r} on an earlier row",
            line=line,
        )
    setattr(job, name, value)


def read_manifest(path: str | os.PathLike) -> list[CameraJob]:
    """Read and check a manifest; one :class:`CameraJob` per serial, in first-seen order.

    Raises
    ------
    FileFormatError
        A missing or unknown column, an empty serial or path, an unknown role, a value
        that is not a number, or rows of one camera that disagree; the message names the
        line.
    InputError
        The file cannot be read or holds no rows.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise FileFormatError(path, "not a UTF-8 text file (expected a CSV manifest)") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise InputError(f"{path}: the manifest is empty (expected a header serial,role,path)")
    header = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise FileFormatError(
            path, f"the header lacks {', '.join(missing)} (expected serial,role,path)", line=1
        )
    unknown = [name for name in header if name not in MANIFEST_COLUMNS]
    if unknown:
        raise FileFormatError(
            path,
            f"unknown column {unknown[0]!r}; the columns are {', '.join(MANIFEST_COLUMNS)}",
            line=1,
        )
    if len(set(header)) != len(header):
        raise FileFormatError(path, "a column appears twice in the header", line=1)
    base = path.parent
    jobs: dict[str, CameraJob] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise FileFormatError(path, f"{len(cells)} values for {len(header)} columns", line=line)
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        serial = row["serial"]
        if not _SERIAL.fullmatch(serial):
            raise FileFormatError(
                path,
                f"serial {serial!r}: use letters, digits, '.', '_' and '-' only (it names "
                "the camera's output directory)",
                line=line,
            )
        role = row["role"].lower()
        if role not in ROLES:
            raise FileFormatError(
                path, f"role {row['role']!r}: expected dark, bright or saturated", line=line
            )
        if not row["path"]:
            raise FileFormatError(path, "empty path", line=line)
        stack = row["path"]
        if not os.path.isabs(os.path.expanduser(stack)):
            stack = str(base / stack)
        job = jobs.setdefault(serial, CameraJob(serial=serial))
        job.lines.append(line)
        getattr(job, role).append(os.path.expanduser(stack))
        exposure = row.get("exposure_us", "")
        if role == "dark":
            value = _number(exposure, float, path, line, "exposure_us") if exposure else None
            given = job.dark_exposures is not None
            if len(job.dark) > 1 and given != (value is not None):
                raise FileFormatError(
                    path,
                    f"camera {serial}: give exposure_us on every dark row or on none",
                    line=line,
                )
            if value is not None:
                job.dark_exposures = [*(job.dark_exposures or []), value]
        elif exposure:
            raise FileFormatError(
                path, "exposure_us is for dark rows (the files give the others')", line=line
            )
        depth = row.get("bit_depth", "")
        _agree(job, "bit_depth", _number(depth, int, path, line, "bit_depth") if depth else None,
               path, line)  # fmt: skip
        if row.get("cfa"):
            try:
                cfa = parse_cfa(row["cfa"])
            except InputError as exc:
                raise FileFormatError(path, f"column cfa: {exc}", line=line) from None
            _agree(job, "cfa", cfa, path, line)
        _agree(job, "model", row.get("model") or None, path, line)
        for name in ("width", "height"):
            cell = row.get(name, "")
            _agree(job, name, _number(cell, int, path, line, name) if cell else None, path, line)
    if not jobs:
        raise InputError(f"{path}: the manifest lists no stacks")
    for job in jobs.values():
        if (job.width is None) != (job.height is None):
            raise FileFormatError(
                path, f"camera {job.serial}: give both width and height, or neither",
                line=job.lines[0],
            )  # fmt: skip
        if not (job.dark or job.bright):
            raise FileFormatError(
                path, f"camera {job.serial}: no dark or bright stack", line=job.lines[0]
            )
    return list(jobs.values())
