"""Read, validate and stream frames; write TIFF outputs with metadata.

A *stack* is an ordered set of frames of one shape and dtype, from one or more files:
single TIFF images, multi-page TIFF stacks, directories or glob patterns of TIFFs,
``.npy`` arrays (2-D or 3-D), and raw camera files (DNG, CR2, NEF, ...) through the
optional ``rawpy`` package, which keeps the Bayer mosaic unprocessed.

:func:`open_stack` checks everything it can without reading pixel data (file kinds,
shapes, dtypes, truncation) and returns a :class:`FrameStack`; iterating it yields one
frame at a time. Uncompressed TIFF data is memory-mapped frame by frame, so a stack of
any length never needs more memory than a frame or two. Values above the stated bit
depth are an error, raised when the frame holding them is read.

Bit depth comes from, in order: the caller, the file's metadata (our own TIFF metadata,
the TIFF ``MaxSampleValue`` tag, a raw file's white level), or the container (8 or 16
bits). ``FrameStack.bit_depth_origin`` says which, so a user can be warned that 10-bit
data in a 16-bit container needs ``--bit-depth 10``.

Every page of a TIFF is a frame: a file whose pages differ in shape or type is refused
with the page named, never read in part. Hostile files are refused before memory is
allocated: a frame larger than :func:`max_frame_pixels` (``$FASTDEFECT_MAX_FRAME_PIXELS``,
default 8192 x 8192) is an error, and a compressed page whose data would inflate beyond
its declared size (a "zip bomb") is refused while it is being checked, in bounded memory.
"""

from __future__ import annotations

import abc
import glob
import json
import logging
import lzma
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tifffile

try:  # the same deflate, inflated ~1.5x faster (zlib-ng); the standard library's otherwise
    from zlib_ng import zlib_ng as _zlib
except ImportError:  # pragma: no cover - zlib-ng is a dependency; exotic platforms lack it
    _zlib = zlib

from . import __version__
from .errors import FileFormatError, InputError, import_optional
from .outputs import atomic_output

__all__ = [
    "RAW_SUFFIXES",
    "TIFF_SUFFIXES",
    "FrameStack",
    "StackBands",
    "open_bands",
    "open_stack",
    "read_image",
    "resolve_frame_paths",
    "write_image",
    "write_stack",
]

TIFF_SUFFIXES = (".tif", ".tiff")
NPY_SUFFIXES = (".npy",)
RAW_SUFFIXES = (
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".rw2",
    ".orf", ".pef", ".srw", ".3fr", ".fff", ".iiq", ".erf", ".kdc", ".dcr", ".mos", ".mef",
    ".x3f", ".rwl", ".ari",
)  # fmt: skip
FITS_SUFFIXES = (".fits", ".fit", ".fts")  # read by fastdefect.fits (astropy)
FRAME_SUFFIXES = TIFF_SUFFIXES + NPY_SUFFIXES + RAW_SUFFIXES + FITS_SUFFIXES
SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))

# Metadata keys we understand in our own TIFF descriptions and pass on to results.
METADATA_KEYS = ("exposure_us", "gain", "temperature_c", "cfa", "camera_model", "camera_serial")

ProgressCallback = Callable[[int, int], None]

#: Environment variable: the largest frame, in pixels, fastdefect reads.
MAX_FRAME_PIXELS_ENV = "FASTDEFECT_MAX_FRAME_PIXELS"
DEFAULT_MAX_FRAME_PIXELS = 8192 * 8192


def max_frame_pixels() -> int:
    """The largest frame (height x width) fastdefect reads: ``$FASTDEFECT_MAX_FRAME_PIXELS``
    or 67,108,864 (8192 x 8192). A file claiming more is refused before any allocation."""
    text = os.environ.get(MAX_FRAME_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_FRAME_PIXELS
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{MAX_FRAME_PIXELS_ENV}={text!r}: give a whole number of pixels")
    return int(text)


@dataclass
class _FrameSource:
    """One file and how to get its frames."""

    #: Whether the frames can be read again (a second look at some pixels' histories).
    rereadable: ClassVar[bool] = True

    path: Path
    kind: str  # "tiff", "npy", "raw", "fits" or "array"
    n_frames: int
    shape: tuple[int, int]
    dtype: np.dtype
    bit_depth: int | None = None  # from the file's metadata, if it says
    metadata: dict[str, Any] = field(default_factory=dict)
    data_offset: int | None = None  # contiguous uncompressed TIFF data
    array: np.ndarray | None = None  # frames given in memory
    keys: list[tuple[int, int]] | None = None  # (series, page in series) of a mixed TIFF

    def frames(self) -> Iterator[np.ndarray]:
        if self.array is not None:
            yield from self.array
        elif self.kind == "npy":
            array = np.load(self.path, mmap_mode="r")
            if array.ndim == 2:
                yield array
            else:
                yield from array
        elif self.kind == "raw":
            yield _read_raw(self.path)[0]
        elif self.data_offset is not None:
            frame_bytes = self.shape[0] * self.shape[1] * self.dtype.itemsize
            for index in range(self.n_frames):
                # One small map per frame: unmapped when the caller drops it, so the
                # resident memory stays at a frame or two however long the stack.
                yield np.memmap(
                    self.path,
                    dtype=self.dtype,
                    mode="r",
                    offset=self.data_offset + index * frame_bytes,
                    shape=self.shape,
                )
        else:
            keys = self.keys or [(0, index) for index in range(self.n_frames)]
            with tifffile.TiffFile(self.path) as tif:
                for index, (series, key) in enumerate(keys):
                    try:
                        _check_inflation(self.path, tif.series[series].pages[key], index)
                        frame = tif.asarray(series=series, key=key)
                    except FileFormatError:
                        raise
                    except Exception as exc:  # tifffile meets all kinds of corruption
                        raise FileFormatError(
                            self.path, f"cannot read frame {index + 1}: {exc}"
                        ) from exc
                    if frame.size != self.shape[0] * self.shape[1]:  # a page cut short
                        raise FileFormatError(
                            self.path,
                            f"frame {index + 1} holds {frame.size} samples, not "
                            f"{self.shape[1]} x {self.shape[0]}",
                        )
                    yield frame.reshape(self.shape).astype(self.dtype.newbyteorder("="), copy=False)


@dataclass
class FrameStack:
    """A validated stack of frames, read one at a time.

    Attributes
    ----------
    shape : tuple of int
        ``(height, width)`` of every frame.
    dtype : numpy.dtype
        ``uint8`` or ``uint16``.
    n_frames : int
        Number of frames over all files.
    bit_depth : int
        Significant bits per sample; values above ``2**bit_depth - 1`` are an error.
    bit_depth_origin : str
        ``"user"``, ``"metadata"`` or ``"container"``: where ``bit_depth`` came from.
    metadata : dict
        Exposure, gain, temperature, CFA ... when the files state them.
    paths : list of Path
        The files, in frame order.
    """

    sources: list[_FrameSource]
    bit_depth: int
    bit_depth_origin: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.sources[0].shape

    @property
    def dtype(self) -> np.dtype:
        return self.sources[0].dtype

    @property
    def n_frames(self) -> int:
        return sum(source.n_frames for source in self.sources)

    @property
    def rereadable(self) -> bool:
        """Whether the frames can be read a second time (not a live capture)."""
        return all(source.rereadable for source in self.sources)

    @property
    def paths(self) -> list[Path]:
        return [source.path for source in self.sources]

    @property
    def full_scale(self) -> int:
        return (1 << self.bit_depth) - 1

    @property
    def label(self) -> str:
        """Short human description: the file, or the first file and a count."""
        if len(self.sources) == 1:
            return str(self.sources[0].path)
        return f"{self.sources[0].path} and {len(self.sources) - 1} more files"

    def __len__(self) -> int:
        return self.n_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def frames(
        self, *, progress: ProgressCallback | None = None, check_range: bool = True
    ) -> Iterator[np.ndarray]:
        """Yield the frames one by one as read-only 2-D arrays.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(frames_done, n_frames)`` after each frame is consumed.
        check_range : bool
            Raise :class:`FileFormatError` for a frame holding a value above the bit depth.
            A caller that computes the maximum anyway may pass ``False`` and call
            :meth:`check_frame_range` itself.
        """
        total = self.n_frames
        done = 0
        for source in self.sources:
            for index, frame in enumerate(source.frames()):
                if check_range:
                    self.check_frame_range(frame, source.path, index)
                yield frame
                done += 1
                if progress is not None:
                    progress(done, total)

    def check_frame_range(self, frame: np.ndarray, path: Path | str, index: int) -> None:
        """Raise if ``frame`` (frame ``index`` of ``path``) exceeds the bit depth."""
        if self.bit_depth >= 8 * frame.dtype.itemsize:
            return
        peak = int(frame.max())
        if peak > self.full_scale:
            row, column = np.unravel_index(int(np.argmax(frame)), frame.shape)
            raise FileFormatError(
                path,
                f"frame {index + 1} holds value {peak} at row {row}, column {column}, above "
                f"the {self.bit_depth}-bit full scale {self.full_scale} "
                f"(bit depth from {self.bit_depth_origin}; pass the right --bit-depth)",
            )

    @classmethod
    def from_array(
        cls,
        array: np.ndarray,
        *,
        bit_depth: int | None = None,
        label: str = "array",
        metadata: dict[str, Any] | None = None,
    ) -> FrameStack:
        """A stack over frames already in memory: a 2-D frame or an ``(N, H, W)`` array."""
        array = np.asarray(array)
        path = Path(label)
        frames = array[np.newaxis] if array.ndim == 2 else array
        if frames.ndim != 3:
            raise InputError(
                f"{label}: expected a frame (H, W) or a stack (N, H, W), got {array.shape}"
            )
        dtype = _check_dtype(path, frames.dtype)
        shape = _check_shape(path, frames.shape[1:])
        if len(frames) < 1:
            raise InputError(f"{label}: the stack holds no frames")
        frames = frames.astype(dtype, copy=False)
        container_bits = 8 * dtype.itemsize
        if bit_depth is not None and not 1 <= bit_depth <= container_bits:
            raise InputError(
                f"bit depth {bit_depth} does not fit {dtype} data (1..{container_bits})"
            )
        source = _FrameSource(path, "array", len(frames), shape, dtype, array=frames)
        depth, origin = (bit_depth, "user") if bit_depth else (container_bits, "container")
        return cls([source], depth, origin, dict(metadata or {}))

    def read_all(self) -> np.ndarray:
        """Load the whole stack as ``(n_frames, height, width)``; for small stacks only."""
        return np.stack([np.array(frame) for frame in self.frames()])


def resolve_frame_paths(spec: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Expand files, directories and glob patterns into an ordered list of frame files.

    Directories contribute their TIFF, ``.npy`` and raw files sorted by name; glob
    patterns (``frames/dark_*.tif``) their matches sorted by name.
    """
    specs = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    if not specs:
        raise InputError("no frame files given")
    paths: list[Path] = []
    for item in specs:
        text = os.fspath(item)
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
            if not found:
                raise InputError(f"{path} holds no TIFF, .npy or raw frame files")
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        elif glob.has_magic(text):
            found = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
            if not found:
                raise InputError(f"no files match {text!r}")
            paths.extend(found)
        else:
            raise InputError(f"{text}: no such file or directory")
    return paths


def open_stack(
    spec: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    bit_depth: int | None = None,
) -> FrameStack:
    """Open and validate a stack of frames without reading its pixel data.

    Parameters
    ----------
    spec : path, glob pattern, directory, or a sequence of them
        Where the frames are. Frames are taken in the order given, files of a directory
        or pattern sorted by name, pages of a multi-page TIFF in file order.
    bit_depth : int, optional
        Significant bits per sample. Overrides what the files say.

    Returns
    -------
    FrameStack

    Raises
    ------
    FileFormatError
        A file is empty, truncated, not an image, RGB, float, or its frames differ in
        shape or dtype from the first file's.
    InputError
        Nothing matches ``spec``, or ``bit_depth`` does not fit the data type.
    """
    sources = [_open_source(path) for path in resolve_frame_paths(spec)]
    first = sources[0]
    for source in sources[1:]:
        if source.shape != first.shape or source.dtype != first.dtype:
            raise FileFormatError(
                source.path,
                f"frames are {_describe(source.shape, source.dtype)} but {first.path} has "
                f"{_describe(first.shape, first.dtype)}; all frames of a stack must match",
            )
    container_bits = 8 * first.dtype.itemsize
    if bit_depth is not None:
        if not 1 <= bit_depth <= container_bits:
            raise InputError(
                f"bit depth {bit_depth} does not fit {first.dtype} data (1..{container_bits})"
            )
        depth, origin = int(bit_depth), "user"
    else:
        stated = {s.bit_depth for s in sources if s.bit_depth is not None}
        if len(stated) > 1:
            raise InputError(
                f"the files state different bit depths {sorted(stated)}; pass --bit-depth"
            )
        depth, origin = (stated.pop(), "metadata") if stated else (container_bits, "container")
    metadata: dict[str, Any] = {}
    for source in sources:
        for key, value in source.metadata.items():
            metadata.setdefault(key, value)
    return FrameStack(sources, depth, origin, metadata)


def read_image(
    path: str | os.PathLike, *, bit_depth: int | None = None
) -> tuple[np.ndarray, FrameStack]:
    """Read a single frame (a one-frame file) into memory; return it and its stack info."""
    stack = open_stack(path, bit_depth=bit_depth)
    if stack.n_frames != 1:
        raise FileFormatError(
            path, f"holds {stack.n_frames} frames; give a single image or use a stack command"
        )
    return np.array(next(iter(stack))), stack


def _describe(shape: tuple[int, ...], dtype: np.dtype) -> str:
    return f"{' x '.join(str(n) for n in shape)} {dtype}"


def _check_dtype(path: Path, dtype: np.dtype, what: str = "frames") -> np.dtype:
    dtype = np.dtype(dtype)
    native = dtype.newbyteorder("=")
    if native in SUPPORTED_DTYPES:
        return native
    if dtype.kind == "f":
        raise FileFormatError(
            path,
            f"{what} are floating point ({dtype}); fastdefect needs raw integer frames "
            "(uint8 or uint16) as the camera delivers them",
        )
    raise FileFormatError(
        path, f"{what} are {dtype}; fastdefect reads mono integer frames (uint8 or uint16)"
    )


def _check_shape(path: Path, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 2 or min(shape) < 1:
        raise FileFormatError(path, f"frames have shape {shape}; expected 2-D mono frames")
    limit = max_frame_pixels()
    if int(shape[0]) * int(shape[1]) > limit:
        raise FileFormatError(
            path,
            f"frames of {shape[0]} x {shape[1]} pixels exceed the limit of {limit} pixels "
            f"per frame; if the sensor is really that large, set {MAX_FRAME_PIXELS_ENV}",
        )
    return (int(shape[0]), int(shape[1]))


# Decoders tifffile uses without imagecodecs inflate a whole segment, whatever it claims.
_ZLIB_COMPRESSIONS = (8, 32946)
_LZMA_COMPRESSION = 34925
_PACKBITS_COMPRESSION = 32773


def _check_inflation(path: Path, page: Any, index: int) -> None:
    """Refuse a compressed page a segment of which inflates beyond the page's size.

    Each segment (strip or tile) is inflated with an output bound, so a bomb is found
    in the memory of one frame, before tifffile inflates it without a bound.
    """
    bound = _inflation_bound(page)
    if bound is None:
        return
    handle = page.parent.filehandle
    for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
        if not count:
            continue
        handle.seek(offset)
        _check_segment(path, bound, handle.read(count), index)


def _inflation_bound(page: Any) -> tuple[int, int] | None:
    """``(compression, most bytes a segment may inflate to)`` of a page whose compression
    can be bombed (deflate, LZMA, PackBits), else None."""
    layout = getattr(page, "keyframe", None) or page  # a TiffFrame shares its keyframe's
    compression = int(getattr(layout, "compression", 1) or 1)
    if compression not in (*_ZLIB_COMPRESSIONS, _LZMA_COMPRESSION, _PACKBITS_COMPRESSION):
        return None
    itemsize = np.dtype(layout.dtype).itemsize if layout.dtype is not None else 1
    limit = int(np.prod(layout.shape, dtype=np.int64)) * itemsize
    if getattr(layout, "is_tiled", False):
        tile = int(layout.tilewidth) * int(layout.tilelength) * max(int(layout.tiledepth), 1)
        limit = max(limit, tile * int(layout.samplesperpixel) * itemsize)
    return compression, limit


def _check_segment(path: Path, bound: tuple[int, int], data: bytes, index: int) -> None:
    """Inflate one compressed segment no further than the bound; refuse a bomb."""
    compression, limit = bound
    if compression == _PACKBITS_COMPRESSION:
        if _packbits_size(data, limit) > limit:
            raise _bomb(path, index, limit)
    else:
        _inflate_segment(path, bound, data, index)


def _inflate_segment(path: Path, bound: tuple[int, int], data: bytes, index: int) -> bytes:
    """A deflate or LZMA segment inflated, no further than the bound (a bomb is refused)."""
    compression, limit = bound
    inflater = (
        _zlib.decompressobj() if compression in _ZLIB_COMPRESSIONS else lzma.LZMADecompressor()
    )
    try:
        inflated = inflater.decompress(data, limit + 1)
    except (_zlib.error, lzma.LZMAError) as exc:
        raise FileFormatError(path, f"frame {index + 1}: corrupt compressed data ({exc})") from exc
    if len(inflated) > limit:
        raise _bomb(path, index, limit)
    return inflated


def _bomb(path: Path, index: int, limit: int) -> FileFormatError:
    return FileFormatError(
        path,
        f"frame {index + 1}: compressed data inflates beyond the frame's declared "
        f"{limit} bytes (a decompression bomb); refused",
    )


def _packbits_size(data: bytes, limit: int) -> int:
    """Bytes PackBits ``data`` decodes to, counting no further than ``limit + 1``."""
    size = i = 0
    n = len(data)
    while i < n and size <= limit:
        header = data[i]
        if header < 128:
            size += header + 1
            i += header + 2
        elif header > 128:
            size += 257 - header
            i += 2
        else:
            i += 1
    return size


def _open_source(path: Path) -> _FrameSource:
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise FileFormatError(path, "file is empty")
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES:
        return _open_tiff(path)
    if suffix in NPY_SUFFIXES:
        return _open_npy(path)
    if suffix in RAW_SUFFIXES:
        return _open_raw(path)
    if suffix in FITS_SUFFIXES:
        return _open_fits(path)
    raise FileFormatError(
        path, f"unknown frame file type {suffix!r}; use TIFF, .npy, FITS or a raw camera file"
    )


class _TiffLogCatcher(logging.Handler):
    """Collects tifffile's warnings: it logs, rather than raises, many corruptions."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _open_tiff(path: Path) -> _FrameSource:
    logger = logging.getLogger("tifffile")
    catcher = _TiffLogCatcher()
    logger.addHandler(catcher)
    propagate = logger.propagate
    logger.propagate = False
    try:
        with tifffile.TiffFile(path) as tif:
            return _tiff_source(path, tif, catcher)
    except FileFormatError:
        raise
    except Exception as exc:  # a hostile file makes tifffile raise anything
        raise FileFormatError(path, f"not a readable TIFF file ({exc})") from exc
    finally:
        logger.removeHandler(catcher)
        logger.propagate = propagate


def _tiff_source(path: Path, tif: tifffile.TiffFile, catcher: _TiffLogCatcher) -> _FrameSource:
    if not tif.series or not tif.pages:
        reason = "; ".join(catcher.messages) or "no images in the file"
        raise FileFormatError(path, f"not a readable TIFF file ({reason})")
    series = tif.series[0]
    page = series.pages[0] if series.pages else tif.pages[0]
    axes = series.axes
    if "S" in axes or getattr(page, "samplesperpixel", 1) > 1:
        raise FileFormatError(
            path,
            f"frames are colour/multi-sample images (axes {axes}); give mono raw frames, "
            "e.g. saved with colour interpolation off",
        )
    dtype = _check_dtype(path, series.dtype)
    shape = _check_shape(path, tuple(series.shape[-2:]))
    n_frames = int(np.prod(series.shape[:-2], dtype=np.int64)) if len(series.shape) > 2 else 1
    if n_frames < 1:
        raise FileFormatError(path, "holds no frames")
    if len(tif.series) > 1:  # pages written one by one, or of different kinds
        return _mixed_tiff_source(path, tif, catcher, shape, dtype)
    file_size = path.stat().st_size
    frame_bytes = shape[0] * shape[1] * dtype.itemsize
    data_offset = series.dataoffset
    # tifffile reports series dtypes in native order; the file's own order decides
    # whether its bytes can be mapped as they are.
    native = dtype.itemsize == 1 or tif.byteorder == ("<" if np.little_endian else ">")
    if data_offset is not None:
        end = data_offset + n_frames * frame_bytes
        if end > file_size:
            raise FileFormatError(
                path, f"truncated: {n_frames} frames need {end} bytes, the file has {file_size}"
            )
        if not native:
            data_offset = None
    else:
        for index, tiff_page in enumerate(series.pages):
            if tiff_page is None:
                continue
            offsets = getattr(tiff_page, "dataoffsets", ())
            counts = getattr(tiff_page, "databytecounts", ())
            if any(o + c > file_size for o, c in zip(offsets, counts, strict=False)):
                raise FileFormatError(path, f"truncated: page {index + 1} ends past the file end")
    corrupt = [m for m in catcher.messages if "invalid" in m or "corrupt" in m or "raised" in m]
    if corrupt:
        raise FileFormatError(path, f"corrupt TIFF structure ({corrupt[0]})")
    metadata, bit_depth = _tiff_metadata(tif, page, dtype)
    return _FrameSource(path, "tiff", n_frames, shape, dtype, bit_depth, metadata, data_offset)


def _mixed_tiff_source(
    path: Path,
    tif: tifffile.TiffFile,
    catcher: _TiffLogCatcher,
    shape: tuple[int, int],
    dtype: np.dtype,
) -> _FrameSource:
    """A TIFF whose pages tifffile splits into several series: every page is a frame,
    and all must match the first, else the file is refused naming the page that differs."""
    keys: list[tuple[int, int]] = []
    for number, series in enumerate(tif.series):
        pages = series.pages
        first = pages[0] if pages else None
        page_number = (getattr(first, "index", None) or 0) + 1
        page_shape = tuple(series.shape[-2:])
        if (
            "S" in series.axes
            or getattr(first, "samplesperpixel", 1) > 1
            or page_shape != shape
            or np.dtype(series.dtype).newbyteorder("=") != dtype
        ):
            raise FileFormatError(
                path,
                f"page {page_number} is {_describe(page_shape, series.dtype)} "
                f"(axes {series.axes}) but page 1 is {_describe(shape, dtype)}; every page "
                "of a file is a frame of the stack, so all must match",
            )
        count = int(np.prod(series.shape[:-2], dtype=np.int64)) if len(series.shape) > 2 else 1
        keys.extend((number, key) for key in range(count))
    corrupt = [m for m in catcher.messages if "invalid" in m or "corrupt" in m or "raised" in m]
    if corrupt:
        raise FileFormatError(path, f"corrupt TIFF structure ({corrupt[0]})")
    metadata, bit_depth = _tiff_metadata(tif, tif.series[0].pages[0], dtype)
    return _FrameSource(path, "tiff", len(keys), shape, dtype, bit_depth, metadata, None, keys=keys)


def _tiff_metadata(
    tif: tifffile.TiffFile, page: Any, dtype: np.dtype
) -> tuple[dict[str, Any], int | None]:
    metadata: dict[str, Any] = {}
    bit_depth: int | None = None
    shaped = tif.shaped_metadata[0] if tif.shaped_metadata else None
    if isinstance(shaped, dict):
        metadata.update({k: shaped[k] for k in METADATA_KEYS if k in shaped})
        if isinstance(shaped.get("bit_depth"), int):
            bit_depth = shaped["bit_depth"]
    tags = getattr(page, "tags", None)
    if bit_depth is None and tags is not None and 281 in tags:
        max_sample = tags[281].value
        max_sample = max_sample[0] if isinstance(max_sample, tuple) else max_sample
        if isinstance(max_sample, int) and 0 < max_sample < np.iinfo(dtype).max:
            bit_depth = int(max_sample).bit_length()
    if "exposure_us" not in metadata and tags is not None and 33434 in tags:
        exposure = tags[33434].value  # EXIF ExposureTime, seconds as a rational
        if isinstance(exposure, tuple) and len(exposure) == 2 and exposure[1]:
            metadata["exposure_us"] = 1e6 * exposure[0] / exposure[1]
    return metadata, bit_depth


def _open_npy(path: Path) -> _FrameSource:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FileFormatError(path, f"not a readable .npy file ({exc})") from exc
    if array.ndim not in (2, 3):
        raise FileFormatError(
            path, f"array has shape {array.shape}; expected a frame (H, W) or a stack (N, H, W)"
        )
    dtype = _check_dtype(path, array.dtype)
    if array.dtype != dtype:
        raise FileFormatError(path, f"array is big-endian {array.dtype}; save it native-endian")
    shape = _check_shape(path, array.shape[-2:])
    n_frames = 1 if array.ndim == 2 else array.shape[0]
    if n_frames < 1:
        raise FileFormatError(path, "holds no frames")
    return _FrameSource(path, "npy", n_frames, shape, dtype)


def _open_raw(path: Path) -> _FrameSource:
    mosaic, bit_depth, metadata = _read_raw(path)
    dtype = _check_dtype(path, mosaic.dtype)
    return _FrameSource(
        path, "raw", 1, _check_shape(path, mosaic.shape), dtype, bit_depth, metadata
    )


def _open_fits(path: Path) -> _FrameSource:
    from .fits import open_fits_frames

    frames, metadata = open_fits_frames(path)
    return _FrameSource(
        path, "fits", frames.n_frames, frames.shape, frames.dtype, None, metadata, array=frames
    )


def _read_raw(path: Path) -> tuple[np.ndarray, int | None, dict[str, Any]]:
    rawpy = import_optional("rawpy", extra="raw", purpose=f"{path}: reading raw camera files")
    try:
        with rawpy.imread(str(path)) as raw:
            mosaic = np.array(raw.raw_image_visible, copy=True)
            white = int(raw.white_level) if raw.white_level else 0
            metadata: dict[str, Any] = {}
            cfa = _rawpy_cfa(raw)
            if cfa:
                metadata["cfa"] = cfa
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise FileFormatError(path, f"not a readable raw file ({exc})") from exc
    return mosaic, (white.bit_length() if white else None), metadata


def _rawpy_cfa(raw: Any) -> str | None:
    """The Bayer pattern of a rawpy image as ``"RGGB"`` etc., or None if not Bayer."""
    try:
        pattern = np.asarray(raw.raw_pattern)
        colours = raw.color_desc.decode()
    except (AttributeError, ValueError):
        return None
    if pattern.shape != (2, 2) or colours not in ("RGBG", "RGGB"):
        return None
    name = "".join(colours[i] for i in pattern.ravel())
    return name if name in ("RGGB", "BGGR", "GRBG", "GBRG") else None


def _description(
    bit_depth: int, metadata: dict[str, Any] | None, timestamp: bool
) -> dict[str, Any]:
    record: dict[str, Any] = {"bit_depth": int(bit_depth), "software": f"fastdefect {__version__}"}
    if timestamp:
        record["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    for key, value in (metadata or {}).items():
        record[key] = value
    # Fail now, not after the pixels are written, if the metadata cannot be stored.
    json.dumps(record)
    return record


def write_stack(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    bit_depth: int,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    n_frames: int | None = None,
    timestamp: bool = True,
) -> Path:
    """Write frames as one multi-page TIFF, streaming, atomically.

    ``tifffile.imread(path)`` returns the stack as ``(n_frames, height, width)``. The
    first page carries the metadata as JSON (bit depth, software, time, and ``metadata``
    such as exposure or the parameters that made the data) and the ``MaxSampleValue``
    tag, so other readers learn the bit depth too. ``timestamp=False`` leaves out the
    creation time, so the same frames and metadata give byte-identical files.
    """
    description = _description(bit_depth, metadata, timestamp)
    max_sample = (1 << int(bit_depth)) - 1
    written = 0
    with atomic_output(path, overwrite=overwrite) as tmp, tifffile.TiffWriter(tmp) as writer:
        for frame in frames:
            frame = np.asarray(frame)
            if frame.ndim != 2 or frame.dtype not in SUPPORTED_DTYPES:
                raise InputError(f"cannot write {frame.dtype} array of shape {frame.shape}")
            writer.write(
                frame,
                contiguous=True,
                photometric="minisblack",
                metadata=description,
                extratags=[(281, "H", 1, max_sample, True)] if written == 0 else None,
            )
            written += 1
            if progress is not None:
                progress(written, n_frames or written)
        if written == 0:
            raise InputError(f"no frames to write to {path}")
    return Path(path)


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    bit_depth: int | None = None,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one 2-D image (a frame, a corrected frame, a mask) as a TIFF with metadata."""
    image = np.asarray(image)
    if image.dtype == np.bool_:
        image = image.view(np.uint8)
    if bit_depth is None:
        bit_depth = 8 * image.dtype.itemsize
    return write_stack(path, [image], bit_depth=bit_depth, metadata=metadata, overwrite=overwrite)


# -- row bands of every frame, for cache-blocked passes -----------------------------------


class StackBands:
    """Read any band of rows of any frame of a stack, frames in any order.

    A pass that wants its per-pixel accumulators to stay in cache walks the stack band
    by band (the same rows of every frame) instead of frame by frame. Reads are
    positioned (``os.preadv`` into the caller's buffer) so nothing is mapped and the
    resident memory is the caller's buffers, whatever the stack length. Strips and
    tiles are decoded segment by segment with tifffile's own decoder (compressed ones
    too); contiguous data is read straight into the buffer. :meth:`read` is safe to call
    from several threads at once, each with its own buffer.

    Get one with :func:`open_bands`; use it as a context manager (it holds the files
    open).
    """

    def __init__(self, stack: FrameStack, readers: list[_BandSource], row_step: int) -> None:
        self.stack = stack
        self.row_step = row_step  # bands should start at multiples of this (segment rows)
        self._readers = readers
        self._frames = [(r, i) for r in readers for i in range(r.source.n_frames)]

    def bands(self, rows: int) -> list[tuple[int, int]]:
        """``(start, stop)`` row ranges of about ``rows`` rows, aligned to the file layout."""
        height = self.stack.shape[0]
        step = max(1, -(-max(1, rows) // self.row_step)) * self.row_step
        return [(start, min(start + step, height)) for start in range(0, height, step)]

    def read(self, frame: int, start: int, stop: int, buffer: np.ndarray) -> np.ndarray:
        """Rows ``start:stop`` of frame ``frame`` (over the whole stack), as a 2-D array.

        ``buffer`` is a C-contiguous ``(>= stop - start, width)`` array of the stack's
        dtype; the result is a view of it, or of the frames when they are in memory.
        """
        reader, index = self._frames[frame]
        try:
            return reader.read(index, start, stop, buffer)
        except FileFormatError:
            raise
        except Exception as exc:
            raise FileFormatError(
                reader.source.path, f"cannot read frame {index + 1}: {exc}"
            ) from exc

    def close(self) -> None:
        for reader in self._readers:
            reader.close()

    def __enter__(self) -> StackBands:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_bands(stack: FrameStack) -> StackBands | None:
    """A :class:`StackBands` over ``stack``, or None if a file can only be read whole.

    Raw camera files (decoded by libraw as a whole) and TIFF layouts tifffile cannot
    decode segment by segment give None: such stacks are read frame by frame.
    """
    readers: list[_BandSource] = []
    try:
        for source in stack.sources:
            reader = _band_source(source)
            if reader is None:
                for opened in readers:
                    opened.close()
                return None
            readers.append(reader)
    except BaseException:
        for opened in readers:
            opened.close()
        raise
    step = max((reader.row_step for reader in readers), default=1)
    return StackBands(stack, readers, step)


class _BandSource(abc.ABC):
    """Band reads of one file's frames; subclasses know the layout."""

    row_step = 1
    fd = -1  # the file, for readers that read it

    def __init__(self, source: _FrameSource) -> None:
        self.source = source

    def open_file(self) -> None:
        self.fd = os.open(self.source.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    @abc.abstractmethod
    def read(self, index: int, start: int, stop: int, buffer: np.ndarray) -> np.ndarray:
        """Rows ``start:stop`` of frame ``index``, in ``buffer`` (or a view of the file)."""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _ArrayBands(_BandSource):
    def read(self, index: int, start: int, stop: int, buffer: np.ndarray) -> np.ndarray:
        assert self.source.array is not None
        return self.source.array[index, start:stop]


def _pread_exact(fd: int, view: memoryview, offset: int, path: Path) -> None:
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise FileFormatError(path, f"truncated: no data at byte {offset + done}")
        done += got


class _ContiguousBands(_BandSource):
    """Frames stored one after another, rows in order, native byte order."""

    def __init__(self, source: _FrameSource, data_offset: int) -> None:
        super().__init__(source)
        self.data_offset = data_offset
        self.row_bytes = source.shape[1] * source.dtype.itemsize
        self.frame_bytes = self.row_bytes * source.shape[0]
        self.open_file()

    def read(self, index: int, start: int, stop: int, buffer: np.ndarray) -> np.ndarray:
        out = buffer[: stop - start]
        offset = self.data_offset + index * self.frame_bytes + start * self.row_bytes
        _pread_exact(self.fd, memoryview(out).cast("B"), offset, self.source.path)
        return out


class _SegmentBands(_BandSource):
    """Strips or tiles, any compression tifffile decodes: segment by segment."""

    def __init__(
        self,
        source: _FrameSource,
        pages: list[Any],
        decoders: list[Any],
        layout: tuple[int, int, int],
    ) -> None:
        super().__init__(source)
        self.offsets = [tuple(page.dataoffsets) for page in pages]
        self.counts = [tuple(page.databytecounts) for page in pages]
        self.bounds = [_inflation_bound(page) for page in pages]
        self.plain = [_plain_samples(page) for page in pages]
        self.decoders = decoders
        self.row_step, self.per_row, _ = layout
        self.segment_width = int(pages[0].keyframe.tilewidth) if self.per_row > 1 else 0
        self.open_file()

    def read(self, index: int, start: int, stop: int, buffer: np.ndarray) -> np.ndarray:
        out = buffer[: stop - start]
        height, width = self.source.shape
        offsets, counts = self.offsets[index], self.counts[index]
        decode = self.decoders[index]
        for segment_row in range(start // self.row_step, -(-stop // self.row_step)):
            for segment in range(segment_row * self.per_row, (segment_row + 1) * self.per_row):
                data = bytearray(counts[segment])
                _pread_exact(self.fd, memoryview(data), offsets[segment], self.source.path)
                tile = None
                if data and self.bounds[index] is not None:  # tifffile inflates unbounded
                    top = segment_row * self.row_step
                    left = (segment % self.per_row) * self.segment_width
                    tile = self._inflate(index, data, top)
                if tile is None:
                    decoded, position, shape = decode(data if data else None, segment)
                    top, left = int(position[2]), int(position[3])
                    if decoded is None:  # an empty segment reads as zeros, as in tifffile
                        tile = np.zeros((shape[1], shape[2]), out.dtype)
                    else:
                        tile = decoded.reshape(decoded.shape[1], decoded.shape[2])
                row0, row1 = max(top, start), min(top + tile.shape[0], stop, height)
                col1 = min(left + tile.shape[1], width)
                out[row0 - start : row1 - start, left:col1] = tile[
                    row0 - top : row1 - top, : col1 - left
                ]
        return out

    def _inflate(self, index: int, data: bytearray, top: int) -> np.ndarray | None:
        """Check a compressed segment against its bound and, where its samples are plain
        (:func:`_plain_samples`), decode it from that one inflation; else None (tifffile
        decodes it, a second inflation)."""
        bound, plain = self.bounds[index], self.plain[index]
        if plain is None or bound[0] == _PACKBITS_COMPRESSION:
            _check_segment(self.source.path, bound, data, index)
            return None
        inflated = _inflate_segment(self.source.path, bound, data, index)
        dtype, predictor = plain
        height, width = self.source.shape
        if self.per_row > 1:  # tiles are stored whole, also at the edges
            shape = (self.row_step, self.segment_width)
        else:
            shape = (min(self.row_step, height - top), width)
        if len(inflated) != shape[0] * shape[1] * dtype.itemsize:
            return None  # an unusual segment size: tifffile knows what to make of it
        tile = np.frombuffer(inflated, dtype).reshape(shape)
        tile = tile.astype(dtype.newbyteorder("="), copy=predictor == 2)  # cumsum writes
        if predictor == 2:  # horizontal differencing: modular sums undo it exactly
            np.cumsum(tile, axis=1, dtype=tile.dtype, out=tile)
        return tile


def _plain_samples(page: Any) -> tuple[np.dtype, int] | None:
    """``(stored dtype, predictor)`` of a deflate or LZMA page whose inflated bytes are
    the samples as they are (whole bytes, usual bit order, no or horizontal predictor)."""
    key = getattr(page, "keyframe", None) or page
    compression = int(getattr(key, "compression", 1) or 1)
    if compression not in (*_ZLIB_COMPRESSIONS, _LZMA_COMPRESSION) or key.dtype is None:
        return None
    dtype = np.dtype(key.dtype)
    if (
        dtype.kind != "u"
        or int(key.bitspersample) != 8 * dtype.itemsize
        or int(getattr(key, "fillorder", 1)) != 1
        or int(key.samplesperpixel) != 1
        or int(key.predictor) not in (1, 2)
    ):
        return None
    return dtype.newbyteorder(key.parent.byteorder), int(key.predictor)


def _band_source(source: _FrameSource) -> _BandSource | None:
    if source.array is not None:  # frames in memory; FITS frames come frame by frame
        return _ArrayBands(source) if isinstance(source.array, np.ndarray) else None
    if source.kind == "npy":
        array = np.load(source.path, mmap_mode="r", allow_pickle=False)
        if not array.flags.c_contiguous or not isinstance(array, np.memmap):
            return None
        return _ContiguousBands(source, int(array.offset))
    if source.kind != "tiff":
        return None
    if source.data_offset is not None:
        return _ContiguousBands(source, source.data_offset)
    with tifffile.TiffFile(source.path) as tif:
        pages = list(tif.series[0].pages)
        if len(pages) != source.n_frames or any(page is None for page in pages):
            return None
        keys = [page.keyframe for page in pages]
        key = keys[0]
        layout = _segment_layout(key, source.shape)
        if layout is None or any(_segment_layout(k, source.shape) != layout for k in keys):
            return None
        try:
            decoders = [k.decode for k in keys]
        except (ValueError, NotImplementedError, tifffile.TiffFileError):
            return None
        if any(len(page.dataoffsets) != layout[2] for page in pages):
            return None
        return _SegmentBands(source, pages, decoders, layout)


def _segment_layout(key: Any, shape: tuple[int, int]) -> tuple[int, int, int] | None:
    """``(segment rows, segments per row of segments, segments)`` of a mono page."""
    if key.shaped[0] != 1 or key.shaped[1] != 1 or key.shaped[4] != 1:
        return None
    if key.compression in (6, 7) or tuple(key.shaped[2:4]) != shape:
        return None  # JPEG needs tables and headers: read such files whole
    height, width = shape
    if key.is_tiled:
        rows, per_row = int(key.tilelength), -(-width // int(key.tilewidth))
    else:
        rows, per_row = int(min(key.rowsperstrip or height, height)), 1
    return rows, per_row, -(-height // rows) * per_row
