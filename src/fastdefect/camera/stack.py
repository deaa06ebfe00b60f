"""Capture straight into a multi-page TIFF stack (what ``camera capture -o`` does)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from ..errors import CameraError
from ..frames import write_stack
from ..outputs import check_output_path
from .protocol import Camera, Frame, pixel_format_bits

__all__ = ["capture_to_tiff", "stack_metadata"]


def stack_metadata(first: Frame) -> dict[str, Any]:
    """The metadata a stack records, taken from its first frame."""
    meta = first.meta
    record = {
        "exposure_us": meta.exposure_us,
        "gain": meta.gain,
        "temperature_c": meta.temperature_c,
        "pixel_format": meta.pixel_format,
        "masking": meta.masking,
        "camera_model": meta.camera_model,
        "camera_serial": meta.camera_serial,
        "captured_at": meta.timestamp,
    }
    return {key: value for key, value in record.items() if value is not None}


def capture_to_tiff(
    camera: Camera,
    path: str | os.PathLike,
    n_frames: int,
    *,
    overwrite: bool = False,
    **capture_options: Any,
) -> Path:
    """Capture ``n_frames`` and write them as one multi-page TIFF, streaming.

    The output is checked before the camera is touched and written atomically
    (an interrupted capture leaves no file). Exposure, gain, temperature (at the first
    frame), pixel format, masking, camera model and serial go into the TIFF's JSON
    description, the bit depth into ``MaxSampleValue``; ``fastdefect.frames.open_stack``
    reads them back.

    Parameters
    ----------
    camera : Camera
    path : path-like
    n_frames : int
    overwrite : bool
        Replace an existing file.
    **capture_options
        Passed to :meth:`Camera.capture` (``exposure_us``, ``gain``, ``masking``,
        ``progress`` ...).
    """
    check_output_path(path, overwrite=overwrite)
    frames = iter(camera.capture(n_frames, **capture_options))
    try:
        first = next(frames)
    except StopIteration:  # pragma: no cover - capture delivers n_frames >= 1 or raises
        raise CameraError(f"camera {camera.id} delivered no frame") from None
    bits = pixel_format_bits(first.meta.pixel_format) or 8 * first.data.dtype.itemsize
    try:
        return write_stack(
            path,
            (frame.data for frame in itertools.chain([first], frames)),
            bit_depth=bits,
            metadata=stack_metadata(first),
            overwrite=overwrite,
        )
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()
