"""What the viewer shows and edits: one frame, one defect list, its verdicts and tiles.

A :class:`ViewerSession` holds the frame (a single image, the mean of a stack, a camera
frame) as unsigned integers, the defect list being edited with its undo history, the
verdicts of the camera's rules on it, and the corrected frame (the ``mask`` mode), and
cuts all of it into tiles for the page. Everything is computed on demand and cached:

* the tile pyramid: level ``L`` is the frame reduced by ``2**L`` in each direction (the
  mean of each block), made from level ``L - 1`` the first time a tile of it is asked
  for; the whole-sensor view of a 5120 x 5120 frame needs level 3 (640 x 640 pixels);
* the corrected frame: :func:`fastdefect.correction.plan_correction` and
  :meth:`~fastdefect.correction.CorrectionPlan.apply`, exactly what ``fastdefect
  correct`` does, redone after an edit only when a ``mask`` tile is next asked for.

Tiles are raw little-endian ``uint16`` (or ``uint8``) samples: the page applies the
grey-level stretch and the colours itself, so changing them costs no request, and the
page knows every pixel's value.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..correction import METHODS, CorrectionPlan, plan_correction
from ..defects import KINDS, DefectList
from ..errors import InputError
from ..formats import FORMATS, infer_format, write_list
from ..rules import RuleSet, Verdicts, check_list, rule_set

__all__ = ["TILE_MODES", "TILE_SIZE", "ViewerSession", "as_display_frame"]

#: Side of a tile in frame pixels of its level.
TILE_SIZE = 256
#: What a tile can show: the frame as it is, or as the camera will correct it.
TILE_MODES = ("raw", "mask")
#: Percentiles of the default grey-level stretch.
STRETCH_PERCENTILES = (0.1, 99.9)


def as_display_frame(image: np.ndarray, label: str) -> tuple[np.ndarray, str | None]:
    """The frame as unsigned integers for display and correction; a note if converted.

    Integer frames are used as they are. A float frame (a stack's mean, a master frame)
    is rounded to whole DN when every value is finite and within 0..65535, since the
    camera's correction works on integers; the note says so.
    """
    image = np.asarray(image)
    if image.ndim != 2 or min(image.shape) < 1:
        raise InputError(f"{label}: the viewer shows one 2-D frame, got shape {image.shape}")
    if image.dtype.kind == "u" and image.dtype.itemsize <= 2:
        return np.ascontiguousarray(image), None
    if image.dtype.kind in "iuf":
        if image.dtype.kind == "f" and not np.isfinite(image).all():
            raise InputError(f"{label}: the frame holds NaN or infinite values")
        low, high = float(image.min()), float(image.max())
        if low < -0.5 or high > 65535.5:
            raise InputError(
                f"{label}: values run from {low:g} to {high:g}; the viewer shows data in "
                "0..65535 DN (subtract an offset or give the frame in DN)"
            )
        rounded = np.rint(image).clip(0, 65535).astype(np.uint16)
        note = None
        if image.dtype.kind == "f":
            note = "float values rounded to whole DN for display and correction"
        return rounded, note
    raise InputError(f"{label}: cannot show {image.dtype} data")


@dataclass(frozen=True)
class SaveResult:
    """Where a save went and what it wrote."""

    path: Path
    format: str
    entries: int
    replaced: bool


class ViewerSession:
    """The frame, the list being edited, and everything derived from them.

    Parameters
    ----------
    image : 2-D array
        The frame (see :func:`as_display_frame` for float data).
    defects : DefectList, optional
        The list to show and edit (default: an empty list).
    label : str
        What the frame is (a path, "mean of 16 frames of dark.tif", a camera).
    method : {"left", "mean", "median"}
        The camera's correction, for the ``mask`` mode.
    rules : RuleSet or str
        The rules the verdicts come from (``av`` or ``arri``).
    cfa : str, optional
        Bayer pattern (corrections and runs stay within a colour).
    bit_depth : int, optional
        Significant bits; default the container's.
    list_path : path, optional
        The file the list was read from: saving over it needs a confirmation, and keeps
        the old file as ``NAME.bak``.
    list_format : str, optional
        That file's format (the default of a save).
    notes : list of str
        Shown on the page (how the frame was made).
    frame_paths : list of path, optional
        The files the frame was read from: a save never writes over them.
    """

    def __init__(
        self,
        image: np.ndarray,
        defects: DefectList | None = None,
        *,
        label: str = "frame",
        method: str = "left",
        rules: RuleSet | str = "av",
        cfa: str | None = None,
        bit_depth: int | None = None,
        list_path: str | os.PathLike | None = None,
        list_format: str | None = None,
        notes: list[str] | None = None,
        frame_paths: list[str | os.PathLike] | None = None,
    ) -> None:
        frame, note = as_display_frame(image, label)
        self.frame = frame
        self.label = label
        self.notes = list(notes or []) + ([note] if note else [])
        self.height, self.width = frame.shape
        self.bit_depth = int(bit_depth or 8 * frame.dtype.itemsize)
        self.cfa = cfa
        method = str(method).strip().lower()
        if method not in METHODS:
            raise InputError(f"unknown correction method {method!r}; use {', '.join(METHODS)}")
        self.method = method
        base = rule_set(rules) if isinstance(rules, str) else rules
        self.rules = base.with_sensor(width=self.width, height=self.height)
        if cfa:
            self.rules = self.rules.replace(column_step=2)
        self.list_path = Path(list_path).resolve() if list_path is not None else None
        self.list_format = list_format
        self.frame_paths = {Path(p).resolve() for p in frame_paths or []}
        defects = defects if defects is not None else DefectList.empty()
        self._history: list[DefectList] = []
        self._lock = threading.RLock()  # the list and its history
        # One lock per tile mode: raw tiles never wait for a correction being computed.
        self._mode_locks = {mode: threading.RLock() for mode in TILE_MODES}
        self._levels: dict[tuple[str, int], np.ndarray] = {("raw", 0): frame}
        self._plan: CorrectionPlan | None = None
        self._set_defects(defects)
        self.stretch = self._default_stretch()
        self._ready = threading.Event()
        self._warm = threading.Thread(target=self.warm_up, name="viewer-warm-up", daemon=True)
        self._warm.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until :meth:`warm_up` is done (True), or ``timeout`` seconds (False)."""
        return self._ready.wait(timeout)

    def warm_up(self) -> None:
        """Build the coarse levels and the corrected frame ahead of the first requests.

        The whole-sensor view needs the coarse levels, and the first correction compiles
        the correction kernels; done here, in the background, the page does not wait.
        """
        try:
            with self._mode_locks["raw"]:
                self._level("raw", self.levels() - 1)
            with self._mode_locks["mask"]:
                self._level("mask", 0)
        finally:
            self._ready.set()

    # -- the list -----------------------------------------------------------------------

    def _set_defects(self, defects: DefectList) -> None:
        self.defects = defects
        self.verdicts: Verdicts = check_list(defects, self.rules)
        self.version = getattr(self, "version", 0) + 1
        with self._mode_locks["mask"]:
            self._plan = None
            for key in [k for k in self._levels if k[0] == "mask"]:
                del self._levels[key]

    def _check_pixel(self, row: int, column: int) -> tuple[int, int]:
        row, column = int(row), int(column)
        if not (0 <= row < self.height and 0 <= column < self.width):
            raise InputError(
                f"row {row}, column {column} is outside the {self.width} x {self.height} frame"
            )
        return row, column

    def add(self, row: int, column: int) -> bool:
        """List a pixel (kind ``unknown``, source ``user``); False if already listed."""
        with self._lock:
            row, column = self._check_pixel(row, column)
            if self.defects.contains(row, column):
                return False
            self._history.append(self.defects)
            self._set_defects(self.defects.add([row], [column], source="user"))
            return True

    def remove(self, row: int, column: int) -> bool:
        """Unlist a pixel (every entry at it); False if it was not listed."""
        with self._lock:
            row, column = self._check_pixel(row, column)
            if not self.defects.contains(row, column):
                return False
            self._history.append(self.defects)
            self._set_defects(self.defects.remove([row], [column]))
            return True

    def undo(self) -> bool:
        """Go back one edit; False when there is nothing to undo."""
        with self._lock:
            if not self._history:
                return False
            self._set_defects(self._history.pop())
            return True

    @property
    def edits(self) -> int:
        """Edits that can be undone."""
        return len(self._history)

    def list_state(self) -> dict[str, Any]:
        """The list for the page: parallel arrays, counts, verdict counts."""
        with self._lock:
            defects, verdicts = self.defects, self.verdicts
            return {
                "version": self.version,
                "edits": self.edits,
                "rows": defects.rows.tolist(),
                "columns": defects.columns.tolist(),
                "kinds": defects.kind_codes.tolist(),
                "verdicts": verdicts.levels.tolist(),
                "runs": verdicts.run_lengths.tolist(),
                "counts": verdicts.counts(),
                "kind_counts": defects.count_by_kind(),
            }

    def pixel(self, row: int, column: int) -> dict[str, Any]:
        """Everything about one pixel: value, corrected value, listing and verdict."""
        with self._lock:
            row, column = self._check_pixel(row, column)
            with self._mode_locks["mask"]:
                corrected = self._level("mask", 0)
            info: dict[str, Any] = {
                "row": row,
                "column": column,
                "value": int(self.frame[row, column]),
                "corrected": int(corrected[row, column]),
                "listed": False,
            }
            key = row * 65536 + column
            hits = np.flatnonzero(self.defects.linear_index == key)
            if hits.size:
                index = int(hits[0])
                record = self.verdicts.to_records([index])[0]
                info.update(listed=True, kind=record["kind"], source=record["source"])
                info.update(verdict=record["verdict"], reason=record["reason"])
            return info

    # -- tiles --------------------------------------------------------------------------

    def _default_stretch(self) -> dict[str, Any]:
        step = max(1, int(np.sqrt(self.frame.size / 262144)))
        sample = self.frame[::step, ::step]
        low, high = np.percentile(sample, STRETCH_PERCENTILES)
        low, high = float(np.floor(low)), float(np.ceil(high))
        if high <= low:
            high = low + 1
        return {
            "low": low,
            "high": high,
            "min": int(self.frame.min()),
            "max": int(self.frame.max()),
            "percentiles": list(STRETCH_PERCENTILES),
        }

    def levels(self) -> int:
        """Number of pyramid levels: down to a level that fits in one tile."""
        side = max(self.width, self.height)
        count = 1
        while side > TILE_SIZE:
            side = (side + 1) // 2
            count += 1
        return count

    def _corrected(self) -> np.ndarray:
        if self._plan is None:
            self._plan = plan_correction(
                self.defects,
                self.frame.shape,
                method=self.method,
                cfa=self.cfa,
                rules=self.rules,
                outside="ignore",
            )
        return self._plan.apply(self.frame)

    def _level(self, mode: str, level: int) -> np.ndarray:
        key = (mode, level)
        found = self._levels.get(key)
        if found is not None:
            return found
        # Only "mask" gets to level 0 here: "raw" level 0 is the frame, always cached.
        array = self._corrected() if level == 0 else _halve(self._level(mode, level - 1))
        self._levels[key] = array
        return array

    def tile(self, mode: str, level: int, tile_row: int, tile_column: int) -> np.ndarray:
        """The samples of one tile (at most ``TILE_SIZE`` square, smaller at the edges)."""
        if mode not in TILE_MODES:
            raise InputError(f"unknown tile mode {mode!r}; use {', '.join(TILE_MODES)}")
        if not 0 <= level < self.levels():
            raise InputError(f"level {level} outside 0..{self.levels() - 1}")
        with self._mode_locks[mode]:
            array = self._level(mode, level)
        top, left = tile_row * TILE_SIZE, tile_column * TILE_SIZE
        if not (0 <= top < array.shape[0] and 0 <= left < array.shape[1]):
            raise InputError(f"tile {tile_row}, {tile_column} is outside level {level}")
        return array[top : top + TILE_SIZE, left : left + TILE_SIZE]

    def describe(self) -> dict[str, Any]:
        """What the page needs to start: size, levels, stretch, vocabularies, formats."""
        return {
            "label": self.label,
            "notes": self.notes,
            "width": self.width,
            "height": self.height,
            "dtype": str(self.frame.dtype),
            "bit_depth": self.bit_depth,
            "cfa": self.cfa,
            "method": self.method,
            "rules": self.rules.name,
            "tile_size": TILE_SIZE,
            "levels": self.levels(),
            "stretch": self.stretch,
            "kinds": list(KINDS),
            "verdicts": ["ok", "warn", "error"],
            "formats": list(FORMATS),
            "list_path": str(self.list_path) if self.list_path else None,
            "list_format": self.list_format,
        }

    # -- saving -------------------------------------------------------------------------

    def save(
        self, path: str | os.PathLike, format: str | None = None, *, overwrite: bool = False
    ) -> SaveResult:
        """Write the edited list atomically (see :func:`fastdefect.formats.write_list`).

        An existing file is replaced only with ``overwrite``; replacing the list the
        session was opened from keeps its old content as ``NAME.bak``; the frame's own
        files are never written.
        """
        target = Path(path).expanduser()
        if target.resolve() in self.frame_paths:
            raise InputError(f"{target} is the frame being viewed; save the list elsewhere")
        name = format or infer_format(target, reading=False, like=self.list_format)
        if name not in FORMATS:
            raise InputError(f"unknown list format {name!r}; known: {', '.join(FORMATS)}")
        options: dict[str, Any] = {}
        takes = FORMATS[name].write_options
        if "width" in takes:
            options.update(width=self.width, height=self.height)
        is_input = self.list_path is not None and target.resolve() == self.list_path
        existed = target.exists()
        with self._lock:
            defects = self.defects
        write_list(
            target,
            defects,
            name,
            overwrite=overwrite,
            backup=bool(is_input and overwrite),
            like=self.list_format,
            **options,
        )
        return SaveResult(target, name, len(defects), existed)


def _halve(array: np.ndarray) -> np.ndarray:
    """The mean of each 2 x 2 block (edges repeated for odd sizes), rounded, same dtype."""
    height, width = array.shape
    if height % 2 or width % 2:
        array = np.pad(array, ((0, height % 2), (0, width % 2)), mode="edge")
    total = array[0::2, 0::2].astype(np.uint32)
    total += array[1::2, 0::2]
    total += array[0::2, 1::2]
    total += array[1::2, 1::2]
    total += 2
    total >>= 2
    return total.astype(array.dtype)
