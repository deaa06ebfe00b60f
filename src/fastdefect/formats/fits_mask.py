"""``fits-mask``: a defect mask as a FITS image (optional ``fits`` extra, astropy).

Convention
    One 2-D image the size of the sensor, ``uint8``: **1 = defective, 0 = good**;
    ``data[row, column]`` is the pixel (numpy order: FITS ``x = column + 1``,
    ``y = row + 1``), the same coordinates fastdefect reads FITS frames with, so the mask
    lies on its image pixel for pixel. The header says so: ``MASKCONV =
    'NONZERO=DEFECTIVE'``, ``ORIGIN = 'fastdefect'``, ``NDEFECT`` entries.

Reading takes every nonzero pixel as an entry (the convention of ccdproc's ``MASK``
extension, where ``True`` is bad, and of most tools), from the extension named
``MASK`` when there is one, else from the first image. A mask carries positions only.
A bit-plane mask (the LSST pipeline's) has bits that are not defects (detected
sources, saturation in one exposure): reduce it to the defect bits first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..defects import DefectList
from ..errors import FileFormatError, InputError
from ._common import ListFile, WarningCallback
from .mask import list_from_mask, mask_array

NAME = "fits-mask"
SUFFIXES = (".fits", ".fit", ".fts")


def read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning: WarningCallback | None = None,
) -> ListFile:
    """Read a FITS mask; the entries are its nonzero pixels, in row-major order."""
    del lenient
    from ..fits import read_fits_image

    path = Path(path)
    image, _metadata = read_fits_image(path, prefer="MASK")
    if not np.isfinite(image).all():
        raise FileFormatError(path, "the mask holds NaN or infinite values")
    return list_from_mask(image != 0, NAME, path, source=source, on_warning=on_warning)


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    width: int | None = None,
    height: int | None = None,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write ``defects`` as a ``uint8`` FITS mask (1 = defective) of the sensor size."""
    from ..fits import write_fits

    _check_suffix(Path(path))
    mask = mask_array(path, defects, width, height).astype(np.uint8)
    header = {
        "MASKCONV": ("NONZERO=DEFECTIVE", "1 = defective pixel, 0 = good"),
        "ORIGIN": ("fastdefect", "software that wrote the mask"),
        "NDEFECT": (int(mask.sum()), "defective pixels"),
    }
    return write_fits(path, mask, header=header, overwrite=overwrite, backup=backup)


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"{path}: a FITS mask is named .fits, .fit or .fts")
