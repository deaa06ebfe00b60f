"""Defect positions before a correction: does the list fit the image or the camera?

:func:`check_list_fits` and :func:`check_list_size` compare a list's positions and stated
size with an image or a sensor; the planner turns positions into unique pixel keys here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..defects import DefectList
from ..errors import InputError
from ..kernels import correct as _kernels

Positions = DefectList | np.ndarray


def check_list_fits(
    defects: DefectList,
    shape: tuple[int, int],
    *,
    width: int | None = None,
    height: int | None = None,
    label: str = "the defect list",
) -> None:
    """Raise :class:`InputError` when a list cannot belong to an image of ``shape``.

    Checks the sensor size the list states (``width``/``height`` given here, e.g. from a
    backup or ARRI file, else the list's ``metadata``) and that every entry lies inside.
    """
    check_list_size(defects, shape, width=width, height=height, label=label)
    _check_inside(defects.rows, defects.columns, shape, label)


def check_list_size(
    defects: DefectList,
    shape: tuple[int, int],
    *,
    width: int | None = None,
    height: int | None = None,
    label: str = "the defect list",
    target: str = "the image",
) -> None:
    """Raise :class:`InputError` when a list states another sensor size than ``shape``.

    Only the stated size (``width``/``height`` given here, else the list's ``metadata``)
    is checked, not the entries (see :func:`check_list_fits`); ``target`` names what
    ``shape`` is the size of in the message (e.g. a camera's sensor).
    """
    target_height, target_width = shape
    if width is None and height is None:
        width = defects.metadata.get("width")
        height = defects.metadata.get("height")
    stated = isinstance(width, int | np.integer) and isinstance(height, int | np.integer)
    if stated and (int(width), int(height)) != (target_width, target_height):
        raise InputError(
            f"{label} is for a {width} x {height} sensor but {target} is "
            f"{target_width} x {target_height}; is it the list of another camera?"
        )


def _check_inside(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], label: str):
    height, width = shape
    outside = (rows >= height) | (columns >= width)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(
            f"{label}: row {int(rows[i])}, column {int(columns[i])} is outside the "
            f"{width} x {height} image ({int(outside.sum())} of {rows.size} entries outside); "
            "is it the list of another sensor?"
        )


def _listed_keys(
    defects: Positions, shape: tuple[int, int], outside: str, label: str
) -> tuple[np.ndarray, int]:
    """Sorted unique flat indices of the listed pixels, and the number of entries."""
    height, width = shape
    if outside not in ("error", "ignore"):
        raise InputError(f"outside must be 'error' or 'ignore', got {outside!r}")
    if isinstance(defects, DefectList):
        if outside == "error":
            check_list_fits(defects, shape, label=label)
        rows = defects.rows
        columns = defects.columns
    else:
        array = np.asarray(defects)
        if array.dtype == np.bool_:
            if array.shape != shape:
                raise InputError(
                    f"{label}: a mask of shape {array.shape} does not fit the image {shape}"
                )
            keys = np.flatnonzero(array).astype(np.int64)
            return keys, int(keys.size)
        if array.size == 0:
            array = array.reshape(0, 2)
        if array.ndim != 2 or array.shape[1] != 2 or array.dtype.kind not in "iu":
            raise InputError(
                f"{label}: give a DefectList, a boolean mask or an (N, 2) integer array of "
                f"(row, column), not {array.dtype} of shape {array.shape}"
            )
        rows = array[:, 0].astype(np.int64)
        columns = array[:, 1].astype(np.int64)
        if (rows < 0).any() or (columns < 0).any():
            i = int(np.flatnonzero((rows < 0) | (columns < 0))[0])
            raise InputError(f"{label}: entry {i} has a negative coordinate")
        if outside == "error":
            _check_inside(rows, columns, shape, label)
    keys = np.empty(rows.size, np.int64)
    count = _kernels.sorted_positions(rows, columns, height, width, keys)
    return keys[:count], int(rows.size)


def _check_shape(shape: Any) -> tuple[int, int]:
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise InputError(f"an image shape is (height, width), got {shape}")
    return shape  # type: ignore[return-value]
