"""FITS frames, cubes and masks, through :mod:`astropy.io.fits` (the optional ``fits`` extra).

Frames
    The first HDU with image data is read (the primary HDU, else the first image
    extension). A 2-D image is one frame; a 3-D cube ``(NAXIS3, NAXIS2, NAXIS1)`` is a
    stack of ``NAXIS3`` frames. Integer data is scaled with ``BZERO``/``BSCALE`` exactly,
    in integer arithmetic: the usual unsigned 16-bit convention (``BITPIX = 16``,
    ``BZERO = 32768``) gives the camera's values bit for bit. Values must end up in
    0..65535 (an error names the file and frame otherwise). Floating-point data
    (``BITPIX = -32/-64``, or a non-integer ``BSCALE``) is not a stack of raw frames: it
    is a combined master frame, read by :func:`read_fits_image` and
    :mod:`fastdefect.masters`.

Pixel coordinates
    ``row`` is the first numpy axis of the data (FITS ``y - 1``), ``column`` the second
    (FITS ``x - 1``): no flip. Viewers that draw FITS bottom-up (ds9) show row 0 at the
    bottom; the coordinates are the same ones a mask written here uses, so a mask lies on
    its image pixel for pixel.

Header
    ``EXPTIME`` (or ``EXPOSURE``), seconds, gives ``exposure_us``; ``GAIN``/``EGAIN``
    ``gain``; ``CCD-TEMP``/``CCD_TEMP``/``SET-TEMP`` ``temperature_c``; ``BAYERPAT`` the
    CFA; ``INSTRUME`` the camera model; ``NCOMBINE`` and ``IMAGETYP`` are kept (they tell a
    master frame).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError, InputError, import_optional
from .frames import FITS_SUFFIXES
from .outputs import atomic_output

__all__ = [
    "FITS_SUFFIXES",
    "FitsFrames",
    "fits_metadata",
    "open_fits_frames",
    "read_fits_image",
    "write_fits",
]


def astropy_fits() -> Any:
    """:mod:`astropy.io.fits`, or :class:`MissingExtraError` naming the ``fits`` extra."""
    return import_optional("astropy.io.fits", extra="fits", purpose="reading and writing FITS")


def _open(path: Path) -> Any:
    fits = astropy_fits()
    try:
        # Raw stored integers: the scaling is done here, exactly, not in float by astropy.
        return fits.open(path, memmap=True, do_not_scale_image_data=True, mode="readonly")
    except (OSError, ValueError, TypeError) as exc:
        raise FileFormatError(path, f"not a readable FITS file ({exc})") from exc


def _image_hdu(hdul: Any, path: Path, prefer: str | None = None) -> tuple[int, Any]:
    candidates = []
    for index, hdu in enumerate(hdul):
        naxis = int(hdu.header.get("NAXIS", 0))
        is_image = hdu.is_image if hasattr(hdu, "is_image") else False
        if is_image and naxis >= 2:
            candidates.append((index, hdu))
    if not candidates:
        raise FileFormatError(path, "holds no image data (no HDU with NAXIS >= 2)")
    if prefer:
        for index, hdu in candidates:
            if str(hdu.header.get("EXTNAME", "")).upper() == prefer:
                return index, hdu
    return candidates[0]


def _scaling(header: Any) -> tuple[Any, Any]:
    return header.get("BZERO", 0), header.get("BSCALE", 1)


def _is_integer_number(value: Any) -> bool:
    return float(value).is_integer()


def _describe_hdu(header: Any) -> str:
    return f"BITPIX {header.get('BITPIX')}, NAXIS {header.get('NAXIS')}"


def is_float_fits(path: str | os.PathLike) -> bool:
    """Whether the file's image holds float values (``BITPIX < 0`` or a fractional scale)."""
    path = Path(path)
    with _open(path) as hdul:
        _, hdu = _image_hdu(hdul, path)
        header = hdu.header
        bzero, bscale = _scaling(header)
        return int(header["BITPIX"]) < 0 or not (
            _is_integer_number(bzero) and _is_integer_number(bscale)
        )


def fits_metadata(header: Any) -> dict[str, Any]:
    """fastdefect metadata (exposure_us, gain, temperature_c, cfa...) from a FITS header."""
    metadata: dict[str, Any] = {}
    for key in ("EXPTIME", "EXPOSURE"):
        value = header.get(key)
        if isinstance(value, int | float) and value >= 0:
            metadata["exposure_us"] = float(value) * 1e6
            break
    for key in ("GAIN", "EGAIN"):
        value = header.get(key)
        if isinstance(value, int | float):
            metadata["gain"] = float(value)
            break
    for key in ("CCD-TEMP", "CCD_TEMP", "SET-TEMP"):
        value = header.get(key)
        if isinstance(value, int | float):
            metadata["temperature_c"] = float(value)
            break
    pattern = str(header.get("BAYERPAT", "")).strip().upper()
    if pattern in ("RGGB", "BGGR", "GRBG", "GBRG"):
        metadata["cfa"] = pattern
    if header.get("INSTRUME"):
        metadata["camera_model"] = str(header["INSTRUME"]).strip()
    if isinstance(header.get("NCOMBINE"), int):
        metadata["ncombine"] = int(header["NCOMBINE"])
    if header.get("IMAGETYP"):
        metadata["imagetyp"] = str(header["IMAGETYP"]).strip()
    return metadata


def _to_unsigned(raw: np.ndarray, bzero: Any, bscale: Any, dtype: np.dtype, where: str):
    """Stored integers -> physical values, exactly, as ``dtype`` (uint8 or uint16)."""
    raw = np.asarray(raw)
    if bzero == 0 and bscale == 1:
        values = raw
    elif raw.dtype == np.dtype(">i2") and bzero == 32768 and bscale == 1:
        # The unsigned 16-bit convention: flipping the sign bit is the exact +32768.
        return (raw.view(">u2") ^ np.uint16(0x8000)).astype(dtype)
    else:
        values = raw.astype(np.int64) * int(bscale) + int(bzero)
    low, high = int(values.min()), int(values.max())
    limit = int(np.iinfo(dtype).max)
    if low < 0 or high > limit:
        raise FileFormatError(
            where,
            f"values run from {low} to {high} after BZERO {bzero} / BSCALE {bscale}; "
            f"raw frames hold 0..{limit}",
        )
    return values.astype(dtype)


@dataclass
class FitsFrames:
    """The frames of a FITS image or cube, read one at a time (see :func:`open_fits_frames`)."""

    path: Path
    hdu_index: int
    n_frames: int
    shape: tuple[int, int]
    dtype: np.dtype
    bzero: Any
    bscale: Any

    def __len__(self) -> int:
        return self.n_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        with _open(self.path) as hdul:
            data = hdul[self.hdu_index].data
            data = data[np.newaxis] if data.ndim == 2 else data.reshape(-1, *self.shape)
            for index in range(self.n_frames):
                where = f"{self.path} (frame {index + 1})"
                yield _to_unsigned(data[index], self.bzero, self.bscale, self.dtype, where)


def open_fits_frames(path: str | os.PathLike) -> tuple[FitsFrames, dict[str, Any]]:
    """Check a FITS file of integer frames; return its lazy frames and metadata.

    Raises
    ------
    FileFormatError
        Not FITS, no image, float data (a master frame: use ``--dark-master``), or an
        integer type that cannot hold 0..65535 frames.
    """
    path = Path(path)
    with _open(path) as hdul:
        index, hdu = _image_hdu(hdul, path)
        header = hdu.header
        bitpix = int(header["BITPIX"])
        bzero, bscale = _scaling(header)
        if bitpix < 0 or not (_is_integer_number(bzero) and _is_integer_number(bscale)):
            raise FileFormatError(
                path,
                f"holds floating-point data ({_describe_hdu(header)}, BSCALE {bscale}); a "
                "combined master frame is given with --dark-master / --bright-master",
            )
        bzero, bscale = int(bzero), int(bscale)
        shape = tuple(int(n) for n in hdu.shape)
        if len(shape) < 2 or min(shape) < 1:
            raise FileFormatError(path, f"image has shape {shape}; expected frames")
        n_frames = int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1
        dtype = np.dtype(np.uint8 if bitpix == 8 and bzero == 0 and bscale == 1 else np.uint16)
        metadata = fits_metadata(header)
    frames = FitsFrames(path, index, n_frames, (shape[-2], shape[-1]), dtype, bzero, bscale)
    return frames, metadata


def read_fits_image(
    path: str | os.PathLike, *, prefer: str | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """One 2-D image with its physical values (integers exact, floats as float64).

    ``prefer`` names an extension (``EXTNAME``) to take when present (``"MASK"``).
    """
    path = Path(path)
    with _open(path) as hdul:
        _, hdu = _image_hdu(hdul, path, prefer)
        header = hdu.header
        if int(header.get("NAXIS", 0)) != 2:
            shape = tuple(hdu.shape)
            if not (len(shape) > 2 and int(np.prod(shape[:-2])) == 1):
                raise FileFormatError(path, f"holds a cube of shape {shape}; give one image")
        data = np.asarray(hdu.data).reshape(hdu.shape[-2:])
        bzero, bscale = _scaling(header)
        bitpix = int(header["BITPIX"])
        if bitpix > 0 and _is_integer_number(bzero) and _is_integer_number(bscale):
            values = data.astype(np.int64) * int(bscale) + int(bzero)
        else:
            values = data.astype(np.float64) * float(bscale) + float(bzero)
        return values, fits_metadata(header)


def write_fits(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    header: dict[str, Any] | None = None,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write one image or cube as FITS, atomically.

    ``uint16`` data is stored the FITS way (``BITPIX = 16``, ``BZERO = 32768``), so every
    reader gets the values back exactly. ``header`` adds keywords (8 characters at most;
    a value may be a ``(value, comment)`` pair). ``overwrite``/``backup`` as in
    :func:`fastdefect.outputs.atomic_output`.
    """
    fits = astropy_fits()
    data = np.asarray(data)
    if data.dtype.kind not in "uif" or data.ndim < 2:
        raise InputError(f"cannot write {data.dtype} data of shape {data.shape} as a FITS image")
    hdu = fits.PrimaryHDU(data)
    for key, value in (header or {}).items():
        hdu.header[key] = value
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        hdu.writeto(tmp, overwrite=True, output_verify="exception")
    return Path(path)
