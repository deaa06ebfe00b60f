"""What the vmbpy and simulated backends share: a camera driven through GenICam features.

:class:`FeatureCamera` implements the :class:`~fastdefect.camera.protocol.Camera`
protocol on top of a :class:`~fastdefect.camera.features.FeatureAccess` and a
:class:`~fastdefect.camera.featuremap.DefectListFeatureMap`. A backend supplies the
features, the raw frame stream (:meth:`FeatureCamera._acquire`) and the connection
handling.
"""

from __future__ import annotations

import abc
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CameraError, InputError
from .featuremap import DefectListFeatureMap
from .features import FeatureAccess, check_in_limits, first_present
from .protocol import (
    Camera,
    CameraInfo,
    Frame,
    FrameMeta,
    ProgressCallback,
    pixel_format_bits,
    require_open,
)
from .transfer import DefectListTransfer

__all__ = ["PREFERRED_PIXEL_FORMATS", "FeatureCamera", "RawFrame"]

#: Order in which a capture picks a pixel format when the current one is not usable:
#: unpacked single-plane formats, deepest first after the PYTHON sensors' native 10 bit.
PREFERRED_PIXEL_FORMATS: tuple[str, ...] = tuple(
    f"{family}{bits}"
    for family in ("Mono", "BayerRG", "BayerGR", "BayerGB", "BayerBG")
    for bits in (10, 12, 14, 16, 8)
)


@dataclass(frozen=True)
class RawFrame:
    """One delivery from a backend's stream, before the checks of :meth:`capture`.

    ``data`` is ``None`` and ``complete`` false for an incomplete, lost or timed-out
    frame; ``reason`` says which.
    """

    data: np.ndarray | None
    complete: bool
    reason: str = ""
    device_timestamp: int | None = None
    host_timestamp: float = field(default_factory=time.time)


class FeatureCamera(Camera):
    """A camera driven through GenICam features (the base of both backends)."""

    def __init__(self, device_id: str) -> None:
        self._device_id = device_id
        self._closed = False

    # -- hooks for backends ---------------------------------------------------------

    @property
    @abc.abstractmethod
    def features(self) -> FeatureAccess:
        """The camera's features (valid while open)."""

    @property
    @abc.abstractmethod
    def feature_map(self) -> DefectListFeatureMap:
        """The defect-list feature map chosen for this camera."""

    @abc.abstractmethod
    def _acquire(self, timeout_s: float) -> Iterator[RawFrame]:
        """Stream frames until the consumer stops; incomplete ones flagged, not raised."""

    def _identity(self) -> dict[str, str]:
        """Fallbacks for vendor/model/serial when the device has no such feature."""
        return {"vendor": "", "model": "", "serial": ""}

    def _extra_info(self) -> dict[str, Any]:
        return {}

    # -- helpers ----------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._device_id

    def _check_open(self) -> None:
        require_open(self._closed, self._device_id)

    @property
    def transfer(self) -> DefectListTransfer:
        self._check_open()
        return DefectListTransfer(self.features, self.feature_map, self._device_id)

    def _read_first(self, names: tuple[str, ...]) -> Any:
        name = first_present(self.features, names)
        return None if name is None else self.features.get(name)

    def _read_float(self, names: tuple[str, ...]) -> float | None:
        value = self._read_first(names)
        return None if value is None else float(value)

    def _read_text(self, names: tuple[str, ...]) -> str | None:
        value = self._read_first(names)
        return None if value is None else str(value).strip()

    def sensor_shape(self) -> tuple[int, int]:
        """``(height, width)`` of the sensor as the camera reports it."""
        acquisition = self.feature_map.acquisition
        width = self._read_first(acquisition.sensor_width)
        height = self._read_first(acquisition.sensor_height)
        if width is None or height is None:
            raise CameraError(
                f"camera {self._device_id} reports no sensor size "
                f"(looked for {', '.join(acquisition.sensor_width + acquisition.sensor_height)})"
            )
        return int(height), int(width)

    # -- protocol -------------------------------------------------------------------

    def info(self) -> CameraInfo:
        self._check_open()
        features = self.features
        fmap = self.feature_map
        acquisition = fmap.acquisition
        fallback = self._identity()
        height, width = self.sensor_shape()
        has_format = features.has(acquisition.pixel_format)
        missing = self.transfer.missing_features()
        return CameraInfo(
            backend=self.backend,
            id=self._device_id,
            vendor=self._read_text(acquisition.vendor) or fallback["vendor"],
            model=self._read_text(acquisition.model) or fallback["model"],
            serial=self._read_text(acquisition.serial) or fallback["serial"],
            firmware=self._read_text(acquisition.firmware) or None,
            width=width,
            height=height,
            pixel_format=str(features.get(acquisition.pixel_format)) if has_format else None,
            pixel_formats=features.entries(acquisition.pixel_format) if has_format else (),
            temperature_c=self._read_float(acquisition.temperature_c),
            masking=self.transfer.masking(),
            defect_list_supported=not missing,
            missing_features=missing,
            feature_map=fmap.family,
            feature_map_confirmed=fmap.confirmed,
            **self._extra_info(),
        )

    def set_masking(self, enabled: bool) -> None:
        self._check_open()
        self.transfer.set_masking(enabled)

    def read_factory_list(self) -> np.ndarray:
        self._check_open()
        return self.transfer.read("factory")

    def read_user_list(self) -> np.ndarray:
        self._check_open()
        return self.transfer.read("user")

    def write_user_list(self, coords: Any, *, progress: ProgressCallback | None = None) -> None:
        self._check_open()
        transfer = self.transfer
        transfer.require()
        transfer.write_user(coords, sensor_shape=self.sensor_shape(), progress=progress)

    def revert(self) -> None:
        self._check_open()
        self.transfer.revert()

    # -- capture ------------------------------------------------------------------------

    def _choose_pixel_format(self, requested: str | None) -> tuple[str | None, str | None]:
        """Return ``(format to set or None, format in use)``; refuse unusable formats."""
        name = self.feature_map.acquisition.pixel_format
        if not self.features.has(name):
            if requested is not None:
                raise CameraError(f"camera {self._device_id} has no {name} feature")
            return None, None
        available = self.features.entries(name)
        current = str(self.features.get(name))
        usable = [fmt for fmt in available if pixel_format_bits(fmt) is not None]
        if requested is not None:
            if requested not in available:
                raise InputError(
                    f"camera {self._device_id} does not offer pixel format {requested!r}; "
                    f"it offers {', '.join(available)}"
                )
            if pixel_format_bits(requested) is None:
                raise InputError(
                    f"pixel format {requested!r} is not an unpacked single-plane format; "
                    f"use one of {', '.join(usable) or '(none offered)'}"
                )
            return (requested if requested != current else None), requested
        if pixel_format_bits(current) is not None:
            return None, current
        for preferred in PREFERRED_PIXEL_FORMATS:
            if preferred in usable:
                return preferred, preferred
        raise CameraError(
            f"camera {self._device_id} offers no unpacked single-plane pixel format "
            f"(it offers {', '.join(available)}); raw mono or Bayer data is needed"
        )

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
        self._check_open()
        self._check_capture_args(n_frames, retries)
        acquisition = self.feature_map.acquisition
        # Resolve everything before the first frame so bad arguments fail at the call.
        plan: list[tuple[str, Any]] = []
        format_to_set, format_in_use = self._choose_pixel_format(pixel_format)
        if format_to_set is not None:
            plan.append((acquisition.pixel_format, format_to_set))
        for value, names, what in (
            (exposure_us, acquisition.exposure_us, "exposure"),
            (gain, acquisition.gain, "gain"),
        ):
            if value is None:
                continue
            name = first_present(self.features, names)
            if name is None:
                raise CameraError(
                    f"camera {self._device_id} has no {what} feature "
                    f"(looked for {', '.join(names)})"
                )
            check_in_limits(self.features, name, float(value), self._device_id)
            plan.append((name, float(value)))
        if masking is not None:
            mask_name = self.feature_map.mask_enable
            if self.features.has(mask_name):
                plan.append((mask_name, bool(masking)))
            elif masking:
                raise CameraError(
                    f"defect masking not supported: {mask_name} (camera {self._device_id})"
                )
        return self._capture_frames(
            int(n_frames),
            plan,
            format_in_use,
            progress,
            retries,
            10.0 if timeout_s is None else float(timeout_s),
        )

    def _capture_frames(
        self,
        n_frames: int,
        plan: list[tuple[str, Any]],
        pixel_format: str | None,
        progress: ProgressCallback | None,
        retries: int,
        timeout_s: float,
    ) -> Iterator[Frame]:
        features = self.features
        acquisition = self.feature_map.acquisition
        previous: list[tuple[str, Any]] = []
        failed = False
        try:
            for name, value in plan:
                previous.append((name, features.get(name)))
                features.set(name, value)
            exposure = self._read_float(acquisition.exposure_us)
            gain = self._read_float(acquisition.gain)
            masking = self.transfer.masking()
            identity = self.info()
            delivered = 0
            bad_in_row = 0
            stream = self._acquire(timeout_s)
            try:
                for raw in stream:
                    if not raw.complete or raw.data is None:
                        bad_in_row += 1
                        if bad_in_row > retries:
                            raise CameraError(
                                f"camera {self._device_id}: frame {delivered + 1} of {n_frames} "
                                f"failed {bad_in_row} times in a row "
                                f"({raw.reason or 'incomplete'}); "
                                "check the cable, the link bandwidth (packet size, "
                                "DeviceLinkThroughputLimit) and the trigger settings"
                            )
                        continue
                    data = np.asarray(raw.data)
                    if data.ndim == 3 and data.shape[2] == 1:
                        data = data[:, :, 0]
                    if data.ndim != 2:
                        raise CameraError(
                            f"camera {self._device_id} delivered a frame of shape {data.shape}; "
                            "a single-plane (mono or raw Bayer) format is needed"
                        )
                    meta = FrameMeta(
                        index=delivered,
                        exposure_us=exposure,
                        gain=gain,
                        temperature_c=self._read_float(acquisition.temperature_c),
                        pixel_format=pixel_format or "",
                        masking=masking,
                        timestamp=raw.host_timestamp,
                        device_timestamp=raw.device_timestamp,
                        retries=bad_in_row,
                        camera_model=identity.model,
                        camera_serial=identity.serial,
                    )
                    bad_in_row = 0
                    delivered += 1
                    yield Frame(data, meta)
                    if progress is not None:
                        progress(delivered, n_frames)
                    if delivered >= n_frames:
                        break
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
        except BaseException:
            failed = True
            raise
        finally:
            self._restore_settings(previous, failed)

    def _restore_settings(self, previous: list[tuple[str, Any]], failed: bool) -> None:
        if self._closed:
            return
        for name, value in reversed(previous):
            if failed:
                # The capture already failed (perhaps the camera is gone): keep that error.
                with contextlib.suppress(Exception):
                    self.features.set(name, value)
            else:
                self.features.set(name, value)
