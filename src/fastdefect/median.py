"""The exact local median of an image: :func:`local_median`.

The numba kernels live in :mod:`fastdefect.kernels.median`; this module validates the
input, builds the mirror index maps and splits colour planes.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import InputError
from .sensor import parse_cfa

__all__ = ["local_median"]

#: Output rows per parallel task of the network kernel (a multiple of 4).
_BAND_HEIGHT = 64

_SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def local_median(image, size=7, *, cfa=None):
    """Exact median of the ``size`` x ``size`` block around every pixel.

    Equal element for element to ``scipy.ndimage.median_filter(image, size=size,
    mode="mirror")``: outside the image, rows and columns are mirrored about the edge
    pixel without repeating it (``d c b | a b c d | c b a``), repeatedly for blocks
    larger than the image, and a single row or column repeats itself.

    Parameters
    ----------
    image : array_like, 2-D, uint8 or uint16
        The image. Any memory layout; it is not modified.
    size : int, default 7
        Side of the square block, odd and at least 1 (1 returns a copy).
    cfa : {None, "RGGB", "BGGR", "GRBG", "GBRG"}, optional
        Bayer pattern of a colour sensor (``"mono"`` or ``""`` mean none). With a
        pattern, the median runs on each colour plane ``image[r0::2, c0::2]`` separately,
        so every pixel is compared with neighbours of its own colour, and the results are
        put back in place. The four planes are the same for every 2 x 2 Bayer pattern, so
        the pattern only selects per-plane processing; it is still validated.

    Returns
    -------
    numpy.ndarray
        The medians, same shape and dtype as ``image``.

    Raises
    ------
    fastdefect.InputError
        For an image that is not 2-D or not uint8/uint16 (float images are refused:
        convert sensor data to integer DN first, or use ``scipy.ndimage.median_filter``,
        whose result with NaNs is undefined anyway), a ``size`` that is not an odd
        integer >= 1, or an unknown CFA pattern.

    Notes
    -----
    Sizes 3, 5 and 7 run a data-oblivious sorting network vectorised with SIMD min/max
    (size 7 on a 5120 x 5120 uint16 frame takes some tens of milliseconds on two
    cores); other sizes use an exact per-pixel selection, ``O(size**2)`` per pixel.
    uint8 images are widened to uint16 for the kernels (exact, one compiled variant).
    The first call of a size compiles its kernel (cached on disk afterwards).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdefect import local_median
    >>> image = np.full((5, 5), 100, dtype=np.uint16)
    >>> image[2, 2] = 1023
    >>> int(local_median(image, 3)[2, 2])
    100
    """
    array = np.asarray(image)
    size = _check_size(size)
    pattern = _check_cfa(cfa)
    if array.ndim != 2:
        raise InputError(
            f"local_median needs a 2-D image (rows, columns); got an array of shape {array.shape}"
        )
    if array.dtype.newbyteorder("=") not in _SUPPORTED_DTYPES:
        kind = "floating-point" if array.dtype.kind == "f" else "unsupported"
        raise InputError(
            f"local_median supports uint8 and uint16 images; got {kind} dtype {array.dtype}. "
            "Convert sensor data to unsigned integer DN first (floats are not supported)."
        )
    # One compiled specialisation serves every input: uint8 is widened (exactly), and a
    # read-only array (e.g. memory-mapped) is copied, as numba would compile it anew.
    native = np.ascontiguousarray(array, dtype=np.uint16)
    if not native.flags.writeable:
        native = native.copy()
    if pattern is None:
        result = _median_plane(native, size)
    else:
        result = np.empty_like(native)
        for r0 in (0, 1):
            for c0 in (0, 1):
                plane = native[r0::2, c0::2]
                if plane.size:
                    result[r0::2, c0::2] = _median_plane(np.ascontiguousarray(plane), size)
    return result.astype(array.dtype, copy=False)


def _check_size(size):
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise InputError(f"size must be an odd integer >= 1 (the side of the block); got {size!r}")
    size = int(size)
    if size < 1 or size % 2 == 0:
        raise InputError(
            f"size must be an odd integer >= 1 (the block is centred on the pixel); got {size}"
        )
    return size


def _check_cfa(cfa):
    if cfa is not None and not isinstance(cfa, str):
        raise InputError(f"cfa must be a Bayer pattern name such as 'RGGB' or None; got {cfa!r}")
    return parse_cfa(cfa)


def _median_plane(image, size):
    """Median of one C-contiguous native uint16 plane (no CFA)."""
    height, width = image.shape
    if size == 1 or image.size == 0:
        return image.copy()
    from .kernels import median as kernels  # numba compiles/loads on first use

    half = size // 2
    # np.pad's "reflect" is scipy's "mirror", including blocks larger than the image.
    row_map = np.pad(np.arange(height, dtype=np.intp), half, mode="reflect")
    col_map = np.pad(np.arange(width, dtype=np.intp), half, mode="reflect")
    out = np.empty_like(image)
    if size in kernels.NETWORK_SIZES:
        # The network computes rows in steps of four; the rows past the end only feed
        # outputs that are never stored.
        steps = -(-height // kernels.ROWS_PER_STEP)
        needed = steps * kernels.ROWS_PER_STEP + size - 1
        row_map = np.concatenate((row_map, np.full(needed - row_map.size, row_map[-1])))
        network = getattr(kernels, f"median_network_{size}")
        network(image, row_map, col_map, out, _BAND_HEIGHT)
    else:
        kernels.median_select(image, size, row_map, col_map, out)
    return out
