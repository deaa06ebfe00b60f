"""``bin``: fastdefect's camera backup file (factory and user lists of one camera).

The vendor's backup format is not public; this is our own, documented here. All
integers little-endian.

======  ======  ==============================================================
offset  size    field
======  ======  ==============================================================
0       8       magic ``b"FDBACKUP"``
8       2       format version, uint16 (1)
10      2       flags, uint16 (0; reserved)
12      4       sensor width in pixels, uint32 (1..65536)
16      4       sensor height in pixels, uint32 (1..65536)
20      8       creation time, int64 Unix seconds (UTC)
28      4       factory entry count ``F``, uint32
32      4       user entry count ``U``, uint32
36      2       model length ``M`` in bytes, uint16
38      2       serial length ``S`` in bytes, uint16
40      M       camera model, UTF-8
40+M    S       camera serial, UTF-8
40+M+S  4*F     factory entries: ``row`` uint16, ``column`` uint16 each
...     4*U     user entries, the same
end-32  32      SHA-256 of every byte before it
======  ======  ==============================================================

A file is refused, with the reason, when it is shorter than its header says
(truncated), longer (something appended), has another magic or version, or its
SHA-256 does not match (edited or corrupted), or an entry lies outside the sensor.
The default file name holds the serial and the creation time:
``backup-<serial>-<YYYYmmdd-HHMMSS>.bin`` (UTC).

As a list format, reading gives the factory entries (source ``factory``) followed by
the user entries (source ``user``); writing puts entries whose source is ``factory``
into the factory section and every other entry into the user section.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..defects import DefectList, merge_lists
from ..errors import FileFormatError, InputError
from ..outputs import atomic_output
from ._common import ListFile

NAME = "bin"
MAGIC = b"FDBACKUP"
VERSION = 1
_HEADER = struct.Struct("<8sHHIIqIIHH")
HEADER_SIZE = _HEADER.size  # 40
DIGEST_SIZE = 32
MAX_TEXT_BYTES = 1024
_ENTRY = np.dtype([("row", "<u2"), ("column", "<u2")])
# Creation times a backup can hold: 1970-01-01 .. 9999-12-31 (datetime's range).
_EARLIEST = 0
_LATEST = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def backup_file_name(serial: str, created: datetime | None = None) -> str:
    """Default name of a backup: ``backup-<serial>-<YYYYmmdd-HHMMSS>.bin`` (UTC time).

    Characters other than letters, digits, ``.``, ``_`` and ``-`` in the serial become
    ``_``; an empty serial is written ``unknown``.
    """
    when = (created or datetime.now(UTC)).astimezone(UTC)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", serial.strip()) or "unknown"
    return f"backup-{safe}-{when:%Y%m%d-%H%M%S}.bin"


@dataclass(frozen=True)
class CameraBackup:
    """The defect lists of one camera with what identifies it.

    Attributes
    ----------
    model, serial : str
    width, height : int
        Sensor size; a restore must check it against the connected camera
        (:meth:`check_sensor`).
    factory, user : DefectList
        The two lists the camera holds (an ``(n, 2)`` array of ``(row, column)`` is
        accepted too and converted).
    created : datetime
        When the backup was made (UTC, whole seconds; an ISO 8601 string is accepted).
    """

    model: str
    serial: str
    width: int
    height: int
    factory: DefectList
    user: DefectList
    created: datetime | str = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        for name in ("factory", "user"):
            value = getattr(self, name)
            if not isinstance(value, DefectList):
                pairs = np.asarray(value, dtype=np.int64).reshape(-1, 2)
                object.__setattr__(self, name, DefectList(pairs[:, 0], pairs[:, 1], source=name))
        if isinstance(self.created, str):
            created = datetime.fromisoformat(self.created)
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            object.__setattr__(self, "created", created)
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or not 0 < int(value) <= 65536:
                raise InputError(f"backup sensor {name} must be 1..65536, got {value!r}")
        for name in ("model", "serial"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value.encode("utf-8")) > MAX_TEXT_BYTES:
                raise InputError(f"backup {name} must be text of at most {MAX_TEXT_BYTES} bytes")
        object.__setattr__(self, "created", self.created.astimezone(UTC).replace(microsecond=0))
        for name in ("factory", "user"):
            entries = getattr(self, name)
            outside = (entries.rows >= self.height) | (entries.columns >= self.width)
            if outside.any():
                i = int(np.flatnonzero(outside)[0])
                raise InputError(
                    f"{name} entry row {entries.rows[i]}, column {entries.columns[i]} is outside "
                    f"the {self.width} x {self.height} sensor"
                )

    @property
    def default_file_name(self) -> str:
        return backup_file_name(self.serial, self.created)

    def header_facts(self) -> dict[str, Any]:
        """Sensor size, serial and model: what a list file downloaded from the camera may
        state (:func:`fastdefect.formats.write_list_file`'s ``facts``)."""
        return {
            "width": self.width,
            "height": self.height,
            "serial": self.serial,
            "model": self.model,
        }

    def combined(self) -> DefectList:
        """The camera's view: factory and user lists merged, one entry per pixel."""
        return merge_lists([self.factory.with_source("factory"), self.user.with_source("user")])

    def select(self, which: str = "merged") -> DefectList:
        """One of the camera's lists: ``merged`` (what the camera corrects, see
        :meth:`combined`), ``user`` or ``factory``, each entry labelled with its source."""
        if which == "merged":
            return self.combined()
        if which in ("user", "factory"):
            return getattr(self, which).with_source(which)
        raise InputError(f"unknown list {which!r}; choose merged, user or factory")

    def entries(self) -> DefectList:
        """Factory entries (source ``factory``) then user entries (source ``user``), as stored."""
        return DefectList.concatenate(
            [self.factory.with_source("factory"), self.user.with_source("user")]
        )

    def matches_sensor(self, width: int, height: int) -> bool:
        return (self.width, self.height) == (int(width), int(height))

    def check_sensor(self, width: int, height: int) -> None:
        """Raise :class:`InputError` unless the backup is for a ``width`` x ``height`` sensor.

        This is the check the vendor tool makes before a restore (not serial, not model).
        """
        if not self.matches_sensor(width, height):
            raise InputError(
                f"the backup of camera {self.serial or '?'} ({self.model or '?'}) is for a "
                f"{self.width} x {self.height} sensor; this camera's sensor is {width} x {height}"
            )

    def to_bytes(self) -> bytes:
        model = self.model.encode("utf-8")
        serial = self.serial.encode("utf-8")
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            0,
            int(self.width),
            int(self.height),
            int(self.created.timestamp()),
            len(self.factory),
            len(self.user),
            len(model),
            len(serial),
        )
        parts = [header, model, serial]
        for entries in (self.factory, self.user):
            packed = np.empty(len(entries), dtype=_ENTRY)
            packed["row"] = entries.rows
            packed["column"] = entries.columns
            parts.append(packed.tobytes())
        body = b"".join(parts)
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, data: bytes, path: str | os.PathLike = "<bytes>") -> CameraBackup:
        """Parse and verify a backup; :class:`FileFormatError` says why one is refused."""
        size = len(data)
        if size >= len(MAGIC) and data[: len(MAGIC)] != MAGIC:
            raise FileFormatError(
                path,
                f"not a fastdefect camera backup (starts with {data[:8]!r}, expected {MAGIC!r})",
            )
        if size < HEADER_SIZE + DIGEST_SIZE:
            raise FileFormatError(
                path, f"truncated: {size} bytes, a backup has at least {HEADER_SIZE + DIGEST_SIZE}"
            )
        (_magic, version, flags, width, height, created, n_factory, n_user, n_model, n_serial) = (
            _HEADER.unpack_from(data)
        )
        if version != VERSION:
            raise FileFormatError(
                path,
                f"backup format version {version} is not supported (this fastdefect "
                f"reads version {VERSION})",
            )
        if flags != 0:
            raise FileFormatError(
                path, f"flags 0x{flags:04x} are set; they are reserved (0) in format version 1"
            )
        expected = HEADER_SIZE + n_model + n_serial + _ENTRY.itemsize * (n_factory + n_user)
        expected += DIGEST_SIZE
        if size < expected:
            raise FileFormatError(
                path,
                f"truncated or altered: the header declares {n_factory} factory and "
                f"{n_user} user entries ({expected} bytes), the file has {size} bytes",
            )
        if size > expected:
            raise FileFormatError(
                path,
                f"altered: {size - expected} unexpected bytes after the declared "
                f"{n_factory} factory and {n_user} user entries ({expected} bytes)",
            )
        body, digest = data[:-DIGEST_SIZE], data[-DIGEST_SIZE:]
        if hashlib.sha256(body).digest() != digest:
            raise FileFormatError(
                path,
                "checksum mismatch: the backup was edited or corrupted after it was "
                "written; it cannot be restored",
            )
        offset = HEADER_SIZE
        try:
            model = data[offset : offset + n_model].decode("utf-8")
            serial = data[offset + n_model : offset + n_model + n_serial].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError(path, "camera model or serial is not UTF-8 text") from exc
        offset += n_model + n_serial
        if not _EARLIEST <= created <= _LATEST:
            raise FileFormatError(
                path,
                f"creation time {created} (Unix seconds) is not a date between the years "
                "1970 and 9999; the backup is damaged",
            )
        entries = np.frombuffer(data, dtype=_ENTRY, count=n_factory + n_user, offset=offset)
        factory, user = entries[:n_factory], entries[n_factory:]
        try:
            return cls(
                model=model,
                serial=serial,
                width=width,
                height=height,
                factory=DefectList(factory["row"], factory["column"], source="factory"),
                user=DefectList(user["row"], user["column"], source="user"),
                created=datetime.fromtimestamp(created, UTC),
            )
        except (InputError, OverflowError, OSError, ValueError) as exc:
            raise FileFormatError(path, str(exc)) from exc


def read_backup(path: str | os.PathLike) -> CameraBackup:
    """Read and verify a camera backup file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return CameraBackup.from_bytes(path.read_bytes(), path)


def write_backup(
    path: str | os.PathLike,
    backup: CameraBackup,
    *,
    overwrite: bool = False,
    keep_backup: bool = False,
) -> Path:
    """Write ``backup`` atomically. ``path`` may be a directory: the default name is used."""
    path = Path(path)
    if path.is_dir():
        path = path / backup.default_file_name
    data = backup.to_bytes()
    with atomic_output(path, overwrite=overwrite, backup=keep_backup) as tmp:
        tmp.write_bytes(data)
    return path


def read(
    path: str | os.PathLike, *, source: str | None = None, lenient: bool = False, on_warning=None
) -> ListFile:
    """Read a backup as a list: factory entries then user entries."""
    del source, lenient, on_warning
    backup = read_backup(path)
    return ListFile(
        backup.entries(),
        NAME,
        Path(path),
        width=backup.width,
        height=backup.height,
        serial=backup.serial,
        model=backup.model,
        extra={
            "created": backup.created.isoformat(),
            "factory_entries": len(backup.factory),
            "user_entries": len(backup.user),
        },
    )


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    width: int | None = None,
    height: int | None = None,
    serial: str | None = None,
    model: str | None = None,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write a list as a backup: ``factory`` entries to the factory section, the rest user."""
    if width is None or height is None:
        raise InputError(
            "a camera backup needs the sensor size: give width and height "
            "(--width/--height or --sensor)"
        )
    if "factory" in defects.source_names:
        factory = defects.source_codes == defects.source_names.index("factory")
    else:
        factory = np.zeros(len(defects), dtype=bool)
    camera_backup = CameraBackup(
        model=model or "",
        serial=serial or "",
        width=int(width),
        height=int(height),
        factory=defects.take(factory).with_source("factory"),
        user=defects.take(~factory).with_source("user"),
    )
    return write_backup(path, camera_backup, overwrite=overwrite, keep_backup=backup)
