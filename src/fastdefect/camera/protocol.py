"""The camera protocol: what every camera backend offers.

A backend (the real Vimba X path in :mod:`fastdefect.camera.vimba`, the simulated GT
camera in :mod:`fastdefect.camera.sim`) implements :class:`Camera`. Everything above it —
the upload transaction, the command line — talks to this protocol only.

Defect lists at this level are plain numpy arrays of shape ``(N, 2)``, dtype ``uint16``,
columns ``(row, column)``, 0-based. :func:`normalize_coords` is the one place that turns
user input into that form.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..defects import DefectList
from ..errors import CameraError, InputError
from ..sensor import SensorSpec

__all__ = [
    "Camera",
    "CameraDescriptor",
    "CameraInfo",
    "Frame",
    "FrameMeta",
    "ProgressCallback",
    "merge_coords",
    "normalize_coords",
    "pixel_format_bits",
]

#: ``progress(done, total)`` is called after each delivered frame or transferred entry.
ProgressCallback = Callable[[int, int], None]


def normalize_coords(coords: Any, *, name: str = "defect list") -> np.ndarray:
    """Return ``coords`` as a sorted, duplicate-free ``(N, 2)`` ``uint16`` array.

    Parameters
    ----------
    coords : array-like or DefectList
        ``(row, column)`` pairs; an empty sequence is an empty list. A
        :class:`~fastdefect.defects.DefectList` gives its positions.
    name : str
        What the coordinates are, for the error message.

    Raises
    ------
    InputError
        When the shape is not ``(N, 2)`` or a value is not an integer in 0..65535.
    """
    if isinstance(coords, DefectList):
        coords = coords.positions()
    array = np.asarray(coords)
    if array.size == 0:
        return np.empty((0, 2), dtype=np.uint16)
    if array.ndim != 2 or array.shape[1] != 2:
        raise InputError(
            f"{name}: expected (row, column) pairs, got an array of shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.integer):
        as_float = array.astype(np.float64)
        bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
        if bad.any():
            index = int(np.argwhere(bad)[0][0])
            raise InputError(
                f"{name}: entry {index} {array[index].tolist()} is not an integer pair"
            )
        array = as_float.astype(np.int64)
    array = array.astype(np.int64)
    out_of_range = (array < 0) | (array > 65535)
    if out_of_range.any():
        index = int(np.argwhere(out_of_range)[0][0])
        raise InputError(f"{name}: entry {index} {array[index].tolist()} is outside 0..65535")
    return np.unique(array.astype(np.uint16), axis=0)


def merge_coords(*lists: np.ndarray) -> np.ndarray:
    """Union of ``(row, column)`` coordinate arrays, sorted, duplicates counted once (as
    the camera merges its lists). For :class:`~fastdefect.defects.DefectList` objects see
    :func:`fastdefect.defects.merge_lists`."""
    parts = [normalize_coords(part) for part in lists]
    return normalize_coords(np.concatenate(parts, axis=0) if parts else [])


_PIXEL_FORMAT_BITS = {"8": 8, "10": 10, "12": 12, "14": 14, "16": 16}


def pixel_format_bits(pixel_format: str | None) -> int | None:
    """Bits per sample of a single-plane GenICam pixel format name (``Mono12`` -> 12).

    Returns ``None`` for names that are not unpacked single-plane formats.
    """
    if not pixel_format:
        return None
    name = pixel_format.strip()
    for prefix in ("Mono", "BayerRG", "BayerGR", "BayerGB", "BayerBG"):
        if name.startswith(prefix):
            return _PIXEL_FORMAT_BITS.get(name[len(prefix) :])
    return None


@dataclass(frozen=True)
class CameraDescriptor:
    """One camera found by enumeration (not opened)."""

    backend: str
    id: str
    serial: str
    model: str
    vendor: str
    interface: str = ""
    transport_layer: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CameraInfo:
    """What an opened camera says about itself.

    Attributes
    ----------
    backend : str
        ``"vimba"`` or ``"sim"``.
    id, vendor, model, serial : str
        Identity as the camera (or its transport layer) reports it.
    firmware : str or None
        ``DeviceFirmwareVersion`` when the camera has it.
    width, height : int
        Sensor size in pixels (``SensorWidth``/``SensorHeight`` when present, else
        ``WidthMax``/``HeightMax``, else the current ``Width``/``Height``).
    pixel_format : str or None
        The current pixel format.
    pixel_formats : tuple of str
        Pixel formats the camera offers.
    temperature_c : float or None
        ``DeviceTemperature`` when the camera has it.
    masking : bool or None
        State of ``DefectMaskEnable``; ``None`` when the camera has no such feature.
    defect_list_supported : bool
        Whether every feature of the defect-list feature map is present.
    missing_features : tuple of str
        Features of the map the camera lacks (empty when supported).
    feature_map : str
        Name of the feature map used (camera family).
    feature_map_confirmed : bool
        Whether that map has been confirmed on real hardware.
    state_path : str or None
        Simulated cameras: the file that keeps their state between processes.
    transport_layer : str
        Path of the GenTL producer that delivers this camera (real cameras).
    """

    backend: str
    id: str
    vendor: str
    model: str
    serial: str
    firmware: str | None
    width: int
    height: int
    pixel_format: str | None
    pixel_formats: tuple[str, ...]
    temperature_c: float | None
    masking: bool | None
    defect_list_supported: bool
    missing_features: tuple[str, ...]
    feature_map: str
    feature_map_confirmed: bool
    state_path: str | None = None
    transport_layer: str = ""

    def sensor_spec(self) -> SensorSpec:
        """The sensor as this camera reports it (size from the camera, bit depth from
        the current pixel format, 10 when unknown: the PYTHON sensors' ADC)."""
        bits = pixel_format_bits(self.pixel_format) or 10
        cfa = None
        if self.pixel_format and self.pixel_format.startswith("Bayer"):
            bayer = {"RG": "RGGB", "GR": "GRBG", "GB": "GBRG", "BG": "BGGR"}
            cfa = bayer.get(self.pixel_format[5:7])
        return SensorSpec(self.width, self.height, bits, cfa, name=self.model)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pixel_formats"] = list(self.pixel_formats)
        data["missing_features"] = list(self.missing_features)
        return data


@dataclass(frozen=True)
class FrameMeta:
    """How one frame was taken.

    Attributes
    ----------
    index : int
        0-based position in the captured stack.
    exposure_us, gain : float or None
        Read from the camera at the start of the capture (``None`` if it has no such feature).
    temperature_c : float or None
        ``DeviceTemperature`` read right after the frame arrived.
    pixel_format : str
    masking : bool or None
        ``DefectMaskEnable`` during the capture (``None``: the camera has no such feature).
    timestamp : float
        Host time (Unix seconds) when the frame arrived.
    device_timestamp : int or None
        The camera's own timestamp, in its ticks, when it sends one.
    retries : int
        Incomplete or lost frames discarded before this one.
    camera_model, camera_serial : str
    """

    index: int
    exposure_us: float | None
    gain: float | None
    temperature_c: float | None
    pixel_format: str
    masking: bool | None
    timestamp: float
    device_timestamp: int | None = None
    retries: int = 0
    camera_model: str = ""
    camera_serial: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Frame:
    """A complete frame: a 2-D array and its :class:`FrameMeta`."""

    data: np.ndarray
    meta: FrameMeta = field(repr=False)


class Camera(abc.ABC):
    """An opened camera. Use it as a context manager; it closes on exit.

    Every method raises :class:`~fastdefect.errors.CameraError` when the camera fails,
    refuses or vanishes, and :class:`~fastdefect.errors.InputError` for a bad argument.
    """

    #: ``"vimba"`` or ``"sim"``.
    backend: str = ""

    @property
    @abc.abstractmethod
    def id(self) -> str:
        """The identifier the camera was opened with (device id)."""

    @abc.abstractmethod
    def info(self) -> CameraInfo:
        """Identity, sensor size, pixel formats, temperature, masking and list support."""

    @abc.abstractmethod
    def set_masking(self, enabled: bool) -> None:
        """Switch the camera's defect masking (``DefectMaskEnable``) on or off."""

    @abc.abstractmethod
    def capture(
        self,
        n_frames: int,
        *,
        exposure_us: float | None = None,
        gain: float | None = None,
        pixel_format: str | None = None,
        masking: bool | None = False,
        progress: ProgressCallback | None = None,
        retries: int = 3,
        timeout_s: float | None = None,
    ) -> Iterator[Frame]:
        """Acquire ``n_frames`` complete frames, yielding each as it arrives.

        Parameters
        ----------
        n_frames : int
            Number of frames to deliver (each complete).
        exposure_us, gain : float, optional
            Set before acquiring; ``None`` keeps the camera's value.
        pixel_format : str, optional
            A single-plane format (``Mono10`` ...). ``None`` keeps the current one when it
            is single-plane and otherwise picks the deepest mono/raw format the camera has.
        masking : bool or None
            ``DefectMaskEnable`` during the capture. Off by default, as the vendor advises
            for detection; ``None`` leaves it as it is.
        progress : callable, optional
            ``progress(done, total)`` after each delivered frame.
        retries : int
            How many incomplete or lost frames may be discarded in a row before the
            capture fails. Discarded frames are counted in :attr:`FrameMeta.retries`,
            never delivered.
        timeout_s : float, optional
            Longest wait for one frame.

        Notes
        -----
        The camera's exposure, gain, pixel format and masking are put back as they were
        when the capture ends (or fails).
        """

    @abc.abstractmethod
    def read_factory_list(self) -> np.ndarray:
        """The factory defect list, ``(N, 2)`` ``uint16`` ``(row, column)``, sorted."""

    @abc.abstractmethod
    def read_user_list(self) -> np.ndarray:
        """The user defect list, ``(N, 2)`` ``uint16`` ``(row, column)``, sorted."""

    def read_merged_list(self) -> np.ndarray:
        """Factory and user list merged as the camera applies them (duplicates once)."""
        return merge_coords(self.read_factory_list(), self.read_user_list())

    @abc.abstractmethod
    def write_user_list(self, coords: Any, *, progress: ProgressCallback | None = None) -> None:
        """Replace the camera's user list with ``coords`` (sorted, duplicates dropped).

        This is the raw transfer: no backup, no read-back. Use
        :func:`fastdefect.camera.upload_user_list` for the safe transaction.
        """

    @abc.abstractmethod
    def revert(self) -> None:
        """Clear the user list: the camera goes back to its factory list."""

    @abc.abstractmethod
    def reconnect(self) -> None:
        """Close the connection and open the same camera again (after a drop-out)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the camera. Calling it twice is harmless."""

    def __enter__(self) -> Camera:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_capture_args(self, n_frames: int, retries: int) -> None:
        if int(n_frames) != n_frames or n_frames < 1:
            raise InputError(f"frame count must be a positive integer, got {n_frames!r}")
        if retries < 0:
            raise InputError(f"retries must be 0 or more, got {retries!r}")


def require_open(closed: bool, camera_id: str) -> None:
    """Raise the error every backend gives for use after close."""
    if closed:
        raise CameraError(f"camera {camera_id} is closed; open it again")
