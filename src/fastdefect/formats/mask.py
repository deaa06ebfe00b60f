"""``mask``: a defect mask image (TIFF), nonzero = defective.

Reading takes every nonzero pixel of a single-frame TIFF (8 or 16 bit) as an entry, in
row-major order; the image size is the sensor size. Writing needs the sensor size
(``width``/``height``) and stores an 8-bit image, 255 at each entry and 0 elsewhere,
with fastdefect's TIFF metadata. A mask carries positions only: kinds, sources,
evidence, order and duplicates are not kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..defects import MAX_COORDINATE, DefectList
from ..errors import InputError
from ..outputs import atomic_output
from ._common import ListFile, WarningCallback, emit_warning

NAME = "mask"
#: More than this fraction of pixels set suggests an image was given instead of a mask.
SUSPICIOUS_FRACTION = 0.5


def read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
) -> ListFile:
    """Read a mask TIFF; the entries are its nonzero pixels."""
    del lenient
    from ..frames import read_image

    path = Path(path)
    _check_suffix(path)
    image, _stack = read_image(path)
    return list_from_mask(image, NAME, path, source=source, on_warning=on_warning)


def list_from_mask(
    image: np.ndarray,
    name: str,
    path: Path,
    *,
    source: str | None = None,
    on_warning: WarningCallback | None = None,
) -> ListFile:
    """The nonzero pixels of a mask image as a :class:`ListFile` of format ``name``.

    Warns when more than half the pixels are set (an image given instead of a mask?).
    """
    defects = DefectList.from_mask(image, source=source or path.name)
    height, width = image.shape
    if len(defects) > SUSPICIOUS_FRACTION * image.size:
        emit_warning(
            f"{path}: {len(defects)} of {image.size} pixels are nonzero; is this a defect "
            "mask (nonzero = defective) and not an image?",
            on_warning,
        )
    return ListFile(defects, name, path, width=width, height=height)


def mask_array(
    path: str | os.PathLike, defects: DefectList, width: int | None, height: int | None
) -> np.ndarray:
    """The boolean ``(height, width)`` mask a mask writer stores; refuses a missing or
    impossible sensor size and entries outside it, naming ``path``."""
    if width is None or height is None:
        raise InputError(
            f"{path}: a mask needs the sensor size: give width and height "
            "(--width/--height or --sensor)"
        )
    for name, value in (("width", width), ("height", height)):
        if not 1 <= int(value) <= MAX_COORDINATE + 1:
            raise InputError(
                f"{path}: a mask's sensor {name} must be 1..{MAX_COORDINATE + 1}, got {value}"
            )
    try:
        return defects.to_mask(int(width), int(height))
    except InputError as exc:
        raise InputError(f"{path}: {exc}; nothing written") from exc


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    width: int | None = None,
    height: int | None = None,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write ``defects`` as an 8-bit mask TIFF of the given sensor size, atomically."""
    from ..frames import write_image

    _check_suffix(Path(path))
    mask = mask_array(path, defects, width, height)
    image = mask.astype(np.uint8) * np.uint8(255)
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        write_image(
            tmp,
            image,
            bit_depth=8,
            overwrite=True,
            metadata={
                "content": "fastdefect defect mask (nonzero = defective)",
                "entries": int(mask.sum()),
            },
        )
    return Path(path)


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise InputError(f"{path}: a mask image is a TIFF file; name it .tif or .tiff")
