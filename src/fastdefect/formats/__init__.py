"""Defect list file formats: a registry, format inference, and read/write entry points.

========  =====================================================  ==========================
name      what                                                   carries
========  =====================================================  ==========================
av-csv    Allied Vision user list CSV (``Row, Column``)          positions, order
csv       fastdefect rich CSV (``row,column,kind,source,...``)   everything
json      fastdefect rich JSON                                   everything
bin       fastdefect camera backup (factory + user, checksum)    positions, factory/user,
                                                                 sensor, model, serial
arri-xml  ARRI User Pixel Mask XML (serial, size, offset)        positions, order, serial,
                                                                 sensor
dcraw     dcraw / UFRaw bad-pixel file (``column row time``)     positions, order, timestamp
mask      mask image TIFF, nonzero = defective                   positions (as a set), sensor
fits-mask FITS mask image, 1 = defective (``fits`` extra)         positions (as a set), sensor
========  =====================================================  ==========================

Formats are inferred from the file extension when not given: ``.json``, ``.bin``,
``.xml``, ``.tif``/``.tiff`` (mask), ``.fits``/``.fit``/``.fts`` (fits-mask),
``.txt``/``.badpixels`` (dcraw). ``.csv`` is
ambiguous: reading sniffs the header (``row,column,kind`` is ours, anything else is read
as the vendor's ``Row, Column``); writing keeps the flavour of the list it came from
(``like=``) and is otherwise the rich ``csv`` (``--to av-csv`` for the vendor tool).
Every write goes through :func:`fastdefect.outputs.atomic_output`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..defects import DefectList
from ..errors import InputError
from ._common import (
    FormatWarning,
    ListFile,
    ListFileError,
    Problem,
    WarningCallback,
    emit_warning,
)
from .backup import CameraBackup, backup_file_name, read_backup, write_backup

__all__ = [
    "FORMATS",
    "CameraBackup",
    "FormatInfo",
    "FormatWarning",
    "ListFile",
    "ListFileError",
    "Problem",
    "backup_file_name",
    "infer_format",
    "list_file_format",
    "lost_in_format",
    "read_backup",
    "read_list",
    "read_list_file",
    "sniff_csv",
    "write_backup",
    "write_list",
    "write_list_file",
]


@dataclass(frozen=True)
class FormatInfo:
    """What the registry knows about a format.

    Attributes
    ----------
    name : str
        The name used by ``--from``/``--to``.
    module : str
        Module in this package with ``read(path, ...)`` and ``write(path, defects, ...)``.
    extensions : tuple of str
    description : str
    carries : frozenset of str
        What survives a round trip: ``positions``, ``order``, ``duplicates``, ``kind``,
        ``source``, ``evidence``, ``metadata``, ``timestamp``, ``sensor``, ``serial``.
    write_options : frozenset of str
        Options the writer accepts besides ``overwrite``/``backup``.
    """

    name: str
    module: str
    extensions: tuple[str, ...]
    description: str
    carries: frozenset[str]
    write_options: frozenset[str] = frozenset()

    def load(self) -> Any:
        return importlib.import_module(f".{self.module}", __name__)

    @property
    def reader(self) -> Callable[..., ListFile]:
        return self.load().read

    @property
    def writer(self) -> Callable[..., Path]:
        return self.load().write


_ALL = frozenset({"positions", "order", "duplicates", "kind", "source", "evidence", "metadata"})
FORMATS: dict[str, FormatInfo] = {
    info.name: info
    for info in (
        FormatInfo(
            "av-csv",
            "av_csv",
            (".csv",),
            "Allied Vision user list CSV (Row, Column)",
            frozenset({"positions", "order", "duplicates"}),
        ),
        FormatInfo(
            "csv", "rich_csv", (".csv",), "fastdefect rich CSV with kind, source, evidence", _ALL
        ),
        FormatInfo("json", "rich_json", (".json",), "fastdefect rich JSON", _ALL),
        FormatInfo(
            "bin",
            "backup",
            (".bin",),
            "fastdefect camera backup (factory + user)",
            frozenset({"positions", "duplicates", "source", "sensor", "serial"}),
            frozenset({"width", "height", "serial", "model"}),
        ),
        FormatInfo(
            "arri-xml",
            "arri_xml",
            (".xml",),
            "ARRI User Pixel Mask XML",
            frozenset({"positions", "order", "duplicates", "sensor", "serial"}),
            frozenset({"width", "height", "serial", "model", "offset_x", "offset_y"}),
        ),
        FormatInfo(
            "dcraw",
            "dcraw",
            (".txt", ".badpixels", ".bpx"),
            "dcraw / UFRaw bad-pixel file (column row timestamp)",
            frozenset({"positions", "order", "duplicates", "timestamp"}),
            frozenset({"timestamp"}),
        ),
        FormatInfo(
            "mask",
            "mask",
            (".tif", ".tiff"),
            "mask image TIFF, nonzero = defective",
            frozenset({"positions", "sensor"}),
            frozenset({"width", "height"}),
        ),
        FormatInfo(
            "fits-mask",
            "fits_mask",
            (".fits", ".fit", ".fts"),
            "FITS mask image, 1 = defective (needs the fits extra)",
            frozenset({"positions", "sensor"}),
            frozenset({"width", "height"}),
        ),
    )
}


def _format(name: str) -> FormatInfo:
    key = name.strip().lower()
    if key not in FORMATS:
        raise InputError(f"unknown list format {name!r}; known: {', '.join(FORMATS)}")
    return FORMATS[key]


def sniff_csv(path: str | os.PathLike) -> str:
    """``"csv"`` when the file's header is ``row,column,kind...``, else ``"av-csv"``."""
    from .rich_csv import sniff_header

    with open(path, "rb") as handle:
        head = handle.read(65536)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for line in text.replace("\r", "\n").split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        return "csv" if sniff_header(line) else "av-csv"
    return "av-csv"


def _sniff_content(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    from .backup import MAGIC

    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(MAGIC):
        return "bin"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "mask"
    if head.startswith(b"SIMPLE  ="):
        return "fits-mask"
    if stripped.startswith(b"<"):
        return "arri-xml"
    if stripped.startswith((b"{", b"[")):
        return "json"
    return None


def infer_format(
    path: str | os.PathLike,
    *,
    reading: bool = True,
    like: str | None = None,
) -> str:
    """The format of ``path`` from its extension (and for reading, its content).

    Parameters
    ----------
    reading : bool
        Reading may look into the file (``.csv`` header sniffing, unknown extensions).
    like : str, optional
        For writing a ``.csv``: the format of the list's origin; a CSV flavour is kept.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if reading and path.is_file():
            return sniff_csv(path)
        return like if like in ("av-csv", "csv") else "csv"
    for info in FORMATS.values():
        if suffix in info.extensions and info.name not in ("av-csv", "csv"):
            return info.name
    if reading and path.is_file():
        found = _sniff_content(path)
        if found:
            return found
    if "badpixel" in path.name.lower():
        return "dcraw"
    raise InputError(
        f"cannot tell the list format of {path} from its name; give it "
        f"(--from/--to: {', '.join(FORMATS)})"
    )


def read_list_file(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
    source: str | None = None,
) -> ListFile:
    """Read a list file; return the list with what the file says besides (:class:`ListFile`).

    Parameters
    ----------
    path : path-like
    format : str, optional
        A name from :data:`FORMATS`; inferred when not given.
    lenient : bool
        ``av-csv``: coerce bad values to 0 like the vendor tool, each as a warning.
        ``dcraw``: a missing timestamp is 0. Other formats ignore it.
    on_warning : callable, optional
        Receives each warning text; default: a :class:`FormatWarning`.
    source : str, optional
        Source label for formats that carry none (default: the file name).

    Raises
    ------
    FileFormatError
        The file is malformed; the message names the file, line, column and value.
    InputError
        The file does not exist or its format cannot be told.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a list file")
    name = _format(format).name if format else infer_format(path)
    return FORMATS[name].reader(path, lenient=lenient, on_warning=on_warning, source=source)


def read_list(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
    source: str | None = None,
) -> DefectList:
    """Read a list file and return its :class:`DefectList` (see :func:`read_list_file`)."""
    return read_list_file(
        path, format, lenient=lenient, on_warning=on_warning, source=source
    ).defects


def write_list(
    path: str | os.PathLike,
    defects: DefectList,
    format: str | None = None,
    *,
    overwrite: bool = False,
    backup: bool = False,
    like: str | None = None,
    on_warning: WarningCallback | None = None,
    **options: Any,
) -> Path:
    """Write ``defects`` to ``path`` atomically, in ``format`` (inferred when not given).

    Parameters
    ----------
    overwrite : bool
        Replace an existing file (otherwise :class:`OutputExistsError`).
    backup : bool
        Replace and keep the previous file as ``NAME.bak`` (``--in-place`` edits).
    like : str, optional
        The format the list came from; decides the flavour of a ``.csv`` output.
    **options
        Format options: ``width``, ``height`` (bin, arri-xml, mask), ``serial``,
        ``model`` (bin, arri-xml), ``offset_x``, ``offset_y`` (arri-xml), ``timestamp``
        (dcraw). ``None`` values are ignored; an option the format does not take is an
        :class:`InputError`.
    on_warning : callable, optional
        Receives one text naming what the format does not carry and is not written
        (see :func:`lost_in_format`); by default the loss is silent.
    """
    name = _format(format).name if format else infer_format(path, reading=False, like=like)
    info = FORMATS[name]
    given = {key: value for key, value in options.items() if value is not None}
    unknown = sorted(set(given) - info.write_options)
    if unknown:
        raise InputError(f"the {name} format takes no {', '.join(unknown)} option")
    lost = lost_in_format(defects, name)
    if lost and on_warning is not None:
        on_warning(f"the {name} format does not carry {', '.join(lost)}: not written")
    return info.writer(path, defects, overwrite=overwrite, backup=backup, **given)


def lost_in_format(defects: DefectList, format: str) -> list[str]:
    """What of ``defects`` the ``format`` does not carry, as readable phrases.

    For example ``["kinds", "evidence"]`` for a list with kinds and evidence written as
    ``av-csv``; empty when nothing is lost.
    """
    import numpy as np

    from ..defects import KINDS

    carries = _format(format).carries
    lost = []
    if "kind" not in carries and np.any(defects.kind_codes != KINDS.index("unknown")):
        lost.append("kinds")
    if "evidence" not in carries:
        names = [
            n for n in defects.evidence_names if not (n == "timestamp" and "timestamp" in carries)
        ]
        if names:
            lost.append("evidence")
    if "duplicates" not in carries and defects.duplicated().any():
        lost.append("duplicate entries")
    if "source" in carries and format == "bin":
        others = set(defects.count_by_source()) - {"factory", "user"}
        if others:
            lost.append(f"sources ({', '.join(sorted(others))} become user)")
    return lost


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def list_file_format(
    path: str | os.PathLike, format: str | None = None, *, like: ListFile | None = None
) -> str:
    """The format :func:`write_list_file` writes ``path`` in.

    ``format`` if given; else the file's own when ``path`` is ``like``'s path (an in-place
    edit); else from the extension (a ``.csv`` keeps ``like``'s CSV flavour), falling back
    to ``like``'s format for an unknown extension. Call it before slow work (reading a
    camera) to fail early.

    Raises
    ------
    InputError
        An unknown format, or an extension that names none (and no ``like``).
    """
    path = Path(path)
    name = (format or "").strip().lower()
    if not name and like is not None and _same_file(path, like.path):
        name = like.format  # an in-place edit keeps the file's format
    if not name:
        try:
            name = infer_format(path, reading=False, like=like.format if like else None)
        except InputError:
            if like is None:
                raise
            name = like.format  # an unknown extension: keep the input's format
    if name not in FORMATS:
        raise InputError(f"unknown list format {format!r}; known: {', '.join(FORMATS)}")
    return name


def write_list_file(
    path: str | os.PathLike,
    defects: DefectList,
    format: str | None = None,
    *,
    like: ListFile | None = None,
    facts: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    backup: bool = False,
    on_warning: WarningCallback | None = None,
    **options: Any,
) -> str:
    """Write ``defects`` read from (or derived from) the list file ``like``; return the format.

    What an edit, a conversion or a camera download of a list needs, resolved in one place:

    * the format: :func:`list_file_format`;
    * the header facts (size, serial, model): ``like``'s, then ``facts``, overridden by
      ``options``; written where the format has room for them;
    * an option the format does not take is reported and ignored (not an error as in
      :func:`write_list`), and so is what the format does not carry.

    Parameters
    ----------
    facts : mapping, optional
        Header facts known besides ``like`` (``width``, ``height``, ``serial``, ``model``;
        e.g. :meth:`CameraBackup.header_facts` of the camera the list was read from); left
        out silently where the format has no room for them. ``None`` values are ignored.
    on_warning : callable, optional
        Receives each warning text; default: a :class:`FormatWarning`.
    **options
        As :func:`write_list`; ``None`` values are ignored.
    """

    def report(message: str) -> None:
        emit_warning(message, on_warning)

    path = Path(path)
    name = list_file_format(path, format, like=like)
    merged = like.write_options() if like is not None and like.format == name else {}
    if like is not None and like.format != name:
        for key in ("width", "height", "serial", "model"):
            value = getattr(like, key)
            if value is not None:
                merged[key] = value
    merged.update({k: v for k, v in (facts or {}).items() if v is not None})
    merged.update({k: v for k, v in options.items() if v is not None})
    accepted = FORMATS[name].write_options
    dropped = sorted(k for k, v in options.items() if v is not None and k not in accepted)
    if dropped:
        names = ", ".join("--" + k.replace("_", "-") for k in dropped)
        report(f"{names} does not apply to the {name} format; ignored")
    merged = {k: v for k, v in merged.items() if k in accepted}
    if (
        path.suffix.lower() == ".csv"
        and not format
        and (like is None or like.format not in ("av-csv", "csv"))
    ):
        report(f"writing {path} as fastdefect rich CSV; use --to av-csv for the Allied Vision tool")
    write_list(
        path,
        defects,
        name,
        overwrite=overwrite,
        backup=backup,
        on_warning=report,
        **merged,
    )
    return name
