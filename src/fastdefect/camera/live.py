"""Stacks captured live: frames accumulated as the camera delivers them, no file written.

:func:`live_stack` gives a :class:`~fastdefect.frames.FrameStack` whose frames come from
:meth:`Camera.capture` while a pass reads them: detection's statistics add each frame to
the accumulators as it arrives (the frame-major pass; a live stream cannot be read band
by band), so nothing but the accumulators and the frame in hand is held. A hook runs
just before the capture starts (cover the lens, switch the light on ...), so a dark and
a bright stack can be given to :func:`fastdefect.detection.analyse` together and are
captured one after the other as it reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CameraError, InputError
from ..frames import FrameStack, _FrameSource
from .base import PREFERRED_PIXEL_FORMATS
from .protocol import Camera, pixel_format_bits

__all__ = ["LiveSource", "live_stack"]


class LiveSource(_FrameSource):
    """Frames of one live capture; iterable once. Records how fast they were consumed.

    Attributes
    ----------
    frames_read : int
    consumer_seconds : list of float
        Time the reader spent on each frame before asking for the next (the accumulation).
    """

    rereadable = False

    def __init__(
        self,
        label: str,
        camera: Camera,
        n_frames: int,
        shape: tuple[int, int],
        dtype: np.dtype,
        bit_depth: int,
        before: Callable[[], None] | None,
        capture_options: dict[str, Any],
    ) -> None:
        super().__init__(Path(label), "live", n_frames, shape, dtype, bit_depth)
        self.camera = camera
        self.before = before
        self.capture_options = capture_options
        self.frames_read = 0
        self.consumer_seconds: list[float] = []
        self._used = False

    @property
    def frames_per_second(self) -> float | None:
        """Frames per second the reader (the accumulation) could take.

        The first frame is left out: it pays for loading (or compiling) the kernels.
        """
        steady = self.consumer_seconds[1:]
        if not steady or sum(steady) <= 0:
            return None
        return len(steady) / sum(steady)

    def frames(self) -> Iterator[np.ndarray]:
        if self._used:
            raise InputError(f"{self.path}: a live capture can be read only once")
        self._used = True
        if self.before is not None:
            self.before()
        captured = self.camera.capture(self.n_frames, **self.capture_options)
        try:
            for frame in captured:
                data = frame.data
                if data.shape != self.shape or data.dtype != self.dtype:
                    raise CameraError(
                        f"{self.path}: the camera delivered {data.shape} {data.dtype} frames, "
                        f"expected {self.shape} {self.dtype} (region of interest or format set?)"
                    )
                started = time.perf_counter()
                yield data
                self.consumer_seconds.append(time.perf_counter() - started)
                self.frames_read += 1
        finally:
            close = getattr(captured, "close", None)
            if close is not None:
                close()


def live_stack(
    camera: Camera,
    n_frames: int,
    *,
    label: str,
    before: Callable[[], None] | None = None,
    pixel_format: str | None = None,
    **capture_options: Any,
) -> FrameStack:
    """A stack of ``n_frames`` captured from ``camera`` while it is read.

    Parameters
    ----------
    camera : Camera
    n_frames : int
    label : str
        Names the stack in messages and results (``"camera GT5120 dark"``).
    before : callable, optional
        Called once, just before the capture starts.
    pixel_format : str, optional
        A single-plane format (``Mono10`` ...); default the camera's current one, or the
        one a capture would pick when that is not single-plane. Its bit depth must be
        known before the first frame, since the accumulators are sized from it.
    **capture_options
        Passed to :meth:`Camera.capture` (``exposure_us``, ``gain``, ``masking`` ...).
    """
    if n_frames < 1:
        raise InputError("a live stack needs at least one frame")
    info = camera.info()
    chosen = pixel_format or info.pixel_format
    if pixel_format is None and pixel_format_bits(chosen) is None:
        # What the capture itself picks when the current format is not single-plane.
        offered = [f for f in PREFERRED_PIXEL_FORMATS if f in info.pixel_formats]
        chosen = offered[0] if offered else chosen
    bits = pixel_format_bits(chosen)
    if bits is None:
        raise InputError(
            f"cannot tell the bit depth of pixel format {chosen!r}; give --pixel-format "
            "(Mono8, Mono10, Mono12 ...)"
        )
    dtype = np.dtype(np.uint8 if bits <= 8 else np.uint16)
    options = dict(capture_options, pixel_format=chosen)
    source = LiveSource(
        label, camera, n_frames, (info.height, info.width), dtype, bits, before, options
    )
    metadata = {"camera_model": info.model, "camera_serial": info.serial}
    for key in ("exposure_us", "gain"):
        if capture_options.get(key) is not None:
            metadata[key] = capture_options[key]
    return FrameStack([source], bits, "metadata", metadata)
