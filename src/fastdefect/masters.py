"""Master frames: one dark or flat already combined by another tool, float allowed.

Sensor labs and astronomers often bring a master dark or flat made by ccdproc, Siril,
the LSST pipeline or a camera's own software instead of the raw frames: one image, often
stored as 32-bit float (the mean or median of many frames, bias-subtracted or not).
:func:`read_master` reads one from FITS, TIFF (float or integer) or ``.npy`` and returns
a :class:`MasterFrame`, which detection takes wherever it takes a stack
(``detect(dark=read_master("master_dark.fits"))``, ``fastdefect detect --dark-master``).
A FITS file with float data, ``NCOMBINE > 1`` or ``IMAGETYP`` naming a master is
recognised as one when given as an ordinary stack; a float TIFF or ``.npy`` must be
named as a master (it may be a processed image given by mistake).

What a master frame cannot tell
    Detection measures each pixel's level against its neighbours (the local deviation),
    so hot, warm, dark, bright and stuck pixels (stuck by level: at the rails) and bad
    lines are found as from a stack. But one combined frame carries no *temporal*
    evidence: no pixel's noise over time, so no ``noisy`` pixels and no telling a stuck
    pixel from a hot one other than by level. The result says so: its stack report has
    ``temporal_evidence = False`` and a warning names the master frame.

How it is fed to detection
    Detection works on exact integer sums. The master's values ``v`` (DN) become the
    sum of :data:`MASTER_SCALE` virtual frames, ``round(MASTER_SCALE * (v + offset))``,
    so deviations keep 1/16 DN resolution; ``offset`` is 0 unless the master has
    negative values (a bias-subtracted dark), when it lifts the lowest value to 0 (local
    deviations do not change; the levels in the report include the offset, and a
    warning says so). Thresholds are given in DN (``408dn``), in sigmas of the master's
    own deviation (``6sigma``), or in LSBs of the bit depth.

Bit depth
    From ``bit_depth=`` (``--bit-depth``), else the file's metadata, else the smallest of
    8, 10, 12, 14, 16 bits that holds the master's largest value (with a warning: the
    LSB-based default thresholds and the stuck rails scale with it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from .errors import FileFormatError, InputError
from .frames import FITS_SUFFIXES, NPY_SUFFIXES, TIFF_SUFFIXES, FrameStack, open_stack
from .stats import StackStats

__all__ = [
    "MASTER_SCALE",
    "MasterFrame",
    "is_float_file",
    "is_master_file",
    "master_warnings",
    "open_stack_or_master",
    "read_master",
]

#: Virtual frames a master frame counts as: deviations keep 1/16 DN resolution.
MASTER_SCALE = 16
_DEPTHS = (8, 10, 12, 14, 16)


@dataclass
class MasterFrame:
    """One combined dark or flat frame, in DN (float allowed).

    Attributes
    ----------
    data : ndarray of float64
        The master's values.
    label : str
    bit_depth : int
    bit_depth_origin : str
        ``user``, ``metadata`` or ``guessed``.
    metadata : dict
        Exposure, gain, temperature, ``ncombine``... from the file.
    offset : float
        Added to every value before detection (0 unless the master has negative values).
    """

    data: np.ndarray
    label: str
    bit_depth: int
    bit_depth_origin: str
    metadata: dict[str, Any] = field(default_factory=dict)
    offset: float = 0.0

    #: A master is one frame (it is read at once).
    n_frames = 1

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    @property
    def full_scale(self) -> int:
        return (1 << self.bit_depth) - 1

    def stack_stats(self) -> StackStats:
        """The master as the exact sum of :data:`MASTER_SCALE` identical virtual frames.

        The temporal standard deviation is unknown and given as zeros; detection is told
        not to use it (no noisy pixels from a master frame).
        """
        scaled = np.rint((self.data + self.offset) * MASTER_SCALE)
        total = scaled.astype(np.uint32)
        level = float(total.mean()) / MASTER_SCALE
        return StackStats(
            total=total,
            std=np.zeros(self.shape, np.float32),
            minimum=None,
            maximum=None,
            frame_means=np.full(MASTER_SCALE, level),
            n_frames=MASTER_SCALE,
            bit_depth=self.bit_depth,
            metadata=dict(self.metadata),
            label=self.label,
        )


def _fits_header_says_master(path: Path) -> bool:
    from .fits import astropy_fits

    fits = astropy_fits()
    try:
        with fits.open(path, memmap=True, do_not_scale_image_data=True) as hdul:
            for hdu in hdul:
                header = hdu.header
                if int(header.get("NAXIS", 0)) < 2:
                    continue
                bscale, bzero = header.get("BSCALE", 1), header.get("BZERO", 0)
                kind = str(header.get("IMAGETYP", "")).lower()
                return (
                    int(header.get("BITPIX", 16)) < 0
                    or not float(bscale).is_integer()
                    or not float(bzero).is_integer()
                    or (isinstance(header.get("NCOMBINE"), int) and header["NCOMBINE"] > 1)
                    or "master" in kind
                )
    except (OSError, ValueError, TypeError):
        return False  # not readable: open_stack says why
    return False


def is_master_file(path: str | os.PathLike) -> bool:
    """Whether a FITS file says it holds a combined master frame rather than raw frames.

    True for FITS with float data, a fractional ``BSCALE``/``BZERO``, ``NCOMBINE > 1``
    or ``IMAGETYP`` containing "master": a FITS header says what it holds. A float TIFF
    or ``.npy`` is not taken as a master silently (it may be a processed image given by
    mistake): name it with ``--dark-master``/``--bright-master``.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() in FITS_SUFFIXES:
        return _fits_header_says_master(path)
    return False


def is_float_file(path: str | os.PathLike) -> bool:
    """Whether a TIFF, ``.npy`` or FITS file holds floating-point (or scaled) values."""
    path = Path(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    try:
        if suffix in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                return bool(tif.series) and tif.series[0].dtype.kind == "f"
        if suffix in NPY_SUFFIXES:
            return np.load(path, mmap_mode="r", allow_pickle=False).dtype.kind == "f"
    except (tifffile.TiffFileError, ValueError, OSError):
        return False  # not readable: open_stack says why
    if suffix in FITS_SUFFIXES:
        from .fits import is_float_fits

        try:
            return is_float_fits(path)
        except FileFormatError:
            return False  # open_stack says why
    return False


def _read_values(path: Path) -> tuple[np.ndarray, dict[str, Any], int | None]:
    suffix = path.suffix.lower()
    if suffix in FITS_SUFFIXES:
        from .fits import read_fits_image

        data, metadata = read_fits_image(path)
        return data, metadata, None
    if suffix in TIFF_SUFFIXES:
        try:
            with tifffile.TiffFile(path) as tif:
                data = tif.asarray()
                shaped = tif.shaped_metadata[0] if tif.shaped_metadata else None
        except (tifffile.TiffFileError, ValueError, OSError) as exc:
            raise FileFormatError(path, f"not a readable TIFF file ({exc})") from exc
        metadata: dict[str, Any] = {}
        depth = None
        if isinstance(shaped, dict):
            metadata = {k: shaped[k] for k in ("exposure_us", "gain", "temperature_c", "cfa")
                        if k in shaped}  # fmt: skip
            depth = shaped.get("bit_depth") if isinstance(shaped.get("bit_depth"), int) else None
        return data, metadata, depth
    if suffix in NPY_SUFFIXES:
        try:
            return np.load(path, allow_pickle=False), {}, None
        except (ValueError, OSError, EOFError) as exc:
            raise FileFormatError(path, f"not a readable .npy file ({exc})") from exc
    raise FileFormatError(path, f"unknown master frame type {suffix!r}; use FITS, TIFF or .npy")


def read_master(
    source: str | os.PathLike | np.ndarray,
    *,
    bit_depth: int | None = None,
    label: str | None = None,
) -> MasterFrame:
    """Read a master dark or flat (FITS, TIFF or ``.npy``; float or integer).

    Raises
    ------
    FileFormatError
        Not one 2-D image, or NaN/infinite values.
    InputError
        ``bit_depth`` out of 1..16, or values above it.
    """
    metadata: dict[str, Any] = {}
    stated = None
    if isinstance(source, np.ndarray):
        data, where = source, label or "master array"
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        data, metadata, stated = _read_values(path)
        where = label or str(path)
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2 or min(data.shape) < 1:
        raise FileFormatError(
            where, f"holds data of shape {data.shape}; a master frame is one 2-D image"
        )
    if data.dtype.kind not in "iuf":
        raise FileFormatError(where, f"holds {data.dtype} data; a master frame holds numbers")
    values = data.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise FileFormatError(
            where,
            f"{int((~finite).sum())} values are NaN or infinite (first at row {row}, "
            f"column {column}); fill them (they are usually already-masked pixels)",
        )
    low, high = float(values.min()), float(values.max())
    offset = -low if low < 0 else 0.0
    if bit_depth is not None:
        if not 1 <= bit_depth <= 16:
            raise InputError(f"bit depth {bit_depth} outside 1..16")
        depth, origin = int(bit_depth), "user"
    elif stated:
        depth, origin = int(stated), "metadata"
    else:
        needed = math.ceil(high + offset)
        fitting = [d for d in _DEPTHS if (1 << d) - 1 >= needed]
        if not fitting:
            raise InputError(
                f"{where}: values reach {high:g} DN, beyond 16 bits; give the master in DN"
            )
        depth, origin = fitting[0], "guessed"
    if high + offset > (1 << depth) - 1 + 0.5:
        raise InputError(
            f"{where}: values reach {high + offset:g} DN, above the {depth}-bit full scale "
            f"{(1 << depth) - 1}; pass the right --bit-depth"
        )
    metadata["master"] = True
    return MasterFrame(values, where, depth, origin, metadata, offset)


def open_stack_or_master(spec: Any, bit_depth: int | None = None) -> FrameStack | MasterFrame:
    """:func:`~fastdefect.frames.open_stack`, or :func:`read_master` for a master file."""
    if isinstance(spec, str | os.PathLike) and is_master_file(spec):
        return read_master(spec, bit_depth=bit_depth)
    return open_stack(spec, bit_depth=bit_depth)


def master_warnings(masters: list[tuple[str, MasterFrame]]) -> list[str]:
    """What a user must know about results from master frames (role, master) pairs."""
    messages = []
    for role, master in masters:
        messages.append(
            f"{role} master frame {master.label}: one combined frame, no temporal evidence: "
            "no noisy pixels can be found, and stuck pixels are told from hot ones only by "
            "their level"
        )
        if master.offset:
            messages.append(
                f"{role} master frame {master.label} has values down to {-master.offset:g} "
                f"DN (bias-subtracted?): lifted by {master.offset:g} DN for detection; "
                "reported levels include the lift"
            )
        if master.bit_depth_origin == "guessed":
            messages.append(
                f"{role} master frame {master.label} does not state its bit depth; assuming "
                f"{master.bit_depth}-bit from its values (thresholds in LSB and the stuck "
                "rails scale with it): pass --bit-depth"
            )
    return messages
