"""See and edit a defect list on the frame before an upload: a local web viewer.

``fastdefect view IMAGE --defects LIST`` serves one page on 127.0.0.1 (a random port, a
random token in the URL) that shows the frame at full resolution with the list over it:

* pan and zoom from the whole sensor to single pixels (a tile pyramid made on demand);
* three modes: *don't mask* (the frame as it is), *mask* (the camera's correction
  simulated with :mod:`fastdefect.correction`, as ``fastdefect correct`` does) and
  *highlight* (listed pixels painted by kind or by the camera's verdict);
* a grey-level stretch that states the range it shows;
* the list beside the image: sort, filter, click to jump; click the frame to add a
  pixel, right-click or the list's × to remove one, undo; verdicts follow every edit;
  save writes the edited list atomically in any list format.

The frame can be a single image, a stack (the viewer shows its mean), a master frame
(float allowed) or a frame captured from a camera (``--camera sim:GT5120``). See
``docs/viewer.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .server import HOST, ViewerServer, serve
from .session import TILE_SIZE, ViewerSession, as_display_frame

__all__ = [
    "HOST",
    "TILE_SIZE",
    "LoadedFrame",
    "ViewerServer",
    "ViewerSession",
    "as_display_frame",
    "load_camera_frame",
    "load_frame",
    "serve",
]


@dataclass
class LoadedFrame:
    """A frame to show and what it is."""

    image: np.ndarray
    label: str
    bit_depth: int
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)


def load_frame(
    spec: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    bit_depth: int | None = None,
    progress: Any = None,
) -> LoadedFrame:
    """Read an image, a stack (its per-pixel mean) or a master frame for the viewer.

    A one-frame file is shown as it is. A stack is reduced to its mean in one streaming
    pass (:func:`fastdefect.stats.stack_stats`) and rounded to whole DN. A float frame or
    a FITS master (a master dark or flat from another tool) is read with
    :func:`fastdefect.masters.read_master`.
    """
    from ..masters import is_float_file, is_master_file, read_master

    paths = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    if len(paths) == 1 and (is_master_file(paths[0]) or is_float_file(paths[0])):
        master = read_master(paths[0], bit_depth=bit_depth)
        return LoadedFrame(
            master.data,
            master.label,
            master.bit_depth,
            ["master frame: one combined frame"],
            dict(master.metadata),
            [Path(paths[0])],
        )
    from ..frames import open_stack
    from ..stats import stack_stats

    stack = open_stack(spec, bit_depth=bit_depth)
    if stack.n_frames == 1:
        image = np.array(next(iter(stack)))
        return LoadedFrame(
            image, stack.label, stack.bit_depth, [], dict(stack.metadata), stack.paths
        )
    stats = stack_stats(stack, extremes=False, progress=progress)
    return LoadedFrame(
        stats.mean,
        f"mean of {stack.n_frames} frames of {stack.label}",
        stack.bit_depth,
        [f"the mean of {stack.n_frames} frames, rounded to whole DN"],
        dict(stack.metadata),
        stack.paths,
    )


def load_camera_frame(
    spec: str,
    *,
    frames: int = 1,
    exposure_us: float | None = None,
    light: float | None = None,
    cti: Any = None,
) -> LoadedFrame:
    """Capture ``frames`` frames from a camera (their mean when more than one).

    ``spec`` is a ``--camera`` value (``sim:GT5120`` for the simulated camera). ``light``
    sets the simulated camera's light level (0 = lens cap on).
    """
    from ..camera import is_sim_spec, open_camera, resolve_camera

    if frames < 1:
        raise InputError(f"--frames must be at least 1, got {frames}")
    resolved = resolve_camera(spec, cti)
    with open_camera(resolved, cti=cti) as camera:
        if light is not None:
            if not is_sim_spec(resolved):
                raise InputError("--light is for the simulated camera only")
            camera.set_light(light)  # type: ignore[attr-defined]
        info = camera.info()
        total: np.ndarray | None = None
        metadata: dict[str, Any] = {}
        for frame in camera.capture(frames, exposure_us=exposure_us, masking=False):
            data = frame.data
            if total is None:
                total = np.zeros(data.shape, np.float64)
                metadata = {"exposure_us": frame.meta.exposure_us, "gain": frame.meta.gain}
                bits = re.search(r"(\d+)$", frame.meta.pixel_format or "")
                depth = int(bits.group(1)) if bits else 8 * data.dtype.itemsize
            total += data
        assert total is not None
        image = total / frames if frames > 1 else total.astype(np.uint16)
    label = f"camera {info.model} {info.serial}"
    notes = [f"captured {frames} frame{'s' if frames > 1 else ''} with masking off"]
    if frames > 1:
        notes.append("the mean of the frames, rounded to whole DN")
    return LoadedFrame(image, label, depth, notes, metadata)
