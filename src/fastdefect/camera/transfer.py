"""Defect-list transfer at the GenICam feature level.

:class:`DefectListTransfer` reads and writes the camera's factory and user lists through
a :class:`~fastdefect.camera.features.FeatureAccess` following a
:class:`~fastdefect.camera.featuremap.DefectListFeatureMap`. The same code runs against
a real camera (vmbpy features) and against the simulated GT camera (a GenApi node map
with a Python register port).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CameraError, InputError
from .featuremap import DefectListFeatureMap
from .features import FeatureAccess
from .protocol import ProgressCallback, normalize_coords

__all__ = ["DefectListTransfer"]


class DefectListTransfer:
    """List operations on one camera.

    Parameters
    ----------
    features : FeatureAccess
        The camera's features.
    feature_map : DefectListFeatureMap
        Which features to use.
    device : str
        Name of the camera for messages.
    """

    def __init__(
        self, features: FeatureAccess, feature_map: DefectListFeatureMap, device: str
    ) -> None:
        self.features = features
        self.feature_map = feature_map
        self.device = device

    # -- support ---------------------------------------------------------------------

    def missing_features(self) -> tuple[str, ...]:
        """Map features the camera lacks; ``Selector=Entry`` for a missing selector entry."""
        fmap = self.feature_map
        missing = [name for name in fmap.transfer_features if not self.features.has(name)]
        if fmap.selector not in missing:
            available = set(self.features.entries(fmap.selector))
            missing += [
                f"{fmap.selector}={entry}"
                for entry in fmap.selector_entries
                if entry not in available
            ]
        return tuple(missing)

    def supported(self) -> bool:
        return not self.missing_features()

    def require(self) -> None:
        """Raise ``CameraError("defect list not supported: ...")`` naming missing features."""
        missing = self.missing_features()
        if missing:
            raise CameraError(
                f"defect list not supported: {', '.join(missing)} "
                f"(camera {self.device}, feature map '{self.feature_map.family}')"
            )

    def capacity(self) -> int | None:
        """The user list's capacity when the camera tells it."""
        name = self.feature_map.max_size
        if name and self.features.has(name):
            return int(self.features.get(name))
        return None

    # -- masking -----------------------------------------------------------------------

    def masking(self) -> bool | None:
        """``DefectMaskEnable``, or ``None`` when the camera has no such feature."""
        name = self.feature_map.mask_enable
        if not self.features.has(name):
            return None
        return bool(self.features.get(name))

    def set_masking(self, enabled: bool) -> None:
        name = self.feature_map.mask_enable
        if not self.features.has(name):
            raise CameraError(f"defect masking not supported: {name} (camera {self.device})")
        self.features.set(name, bool(enabled))

    # -- lists ---------------------------------------------------------------------------

    def read(self, which: str, progress: ProgressCallback | None = None) -> np.ndarray:
        """Read the ``"factory"`` or ``"user"`` list, sorted and without duplicates."""
        self.require()
        fmap, features = self.feature_map, self.features
        features.set(fmap.selector, self._selector_entry(which))
        count = int(features.get(fmap.size))
        entries = np.empty((count, 2), dtype=np.int64)
        for index in range(count):
            features.set(fmap.index, index)
            entries[index, 0] = int(features.get(fmap.row))
            entries[index, 1] = int(features.get(fmap.column))
            if progress is not None:
                progress(index + 1, count)
        return normalize_coords(entries, name=f"{which} list read from camera {self.device}")

    def write_user(
        self,
        coords: Any,
        *,
        sensor_shape: tuple[int, int] | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Replace the user list: stage every entry, then commit.

        Parameters
        ----------
        coords : array-like
            ``(row, column)`` pairs; sorted and de-duplicated before writing.
        sensor_shape : (height, width), optional
            When given, coordinates outside the sensor are refused before anything is sent.
        """
        self.require()
        entries = normalize_coords(coords, name="user list")
        if sensor_shape is not None and len(entries):
            height, width = sensor_shape
            outside = (entries[:, 0] >= height) | (entries[:, 1] >= width)
            if outside.any():
                bad = entries[outside]
                shown = ", ".join(f"({r}, {c})" for r, c in bad[:5].tolist())
                raise InputError(
                    f"{len(bad)} user-list entries lie outside the {width} x {height} "
                    f"sensor of camera {self.device}: {shown}" + (" ..." if len(bad) > 5 else "")
                )
        capacity = self.capacity()
        if capacity is not None and len(entries) > capacity:
            raise InputError(
                f"the user list has {len(entries)} entries; camera {self.device} holds "
                f"at most {capacity}"
            )
        fmap, features = self.feature_map, self.features
        features.set(fmap.selector, fmap.selector_user)
        features.set(fmap.size, len(entries))
        for index, (row, column) in enumerate(entries.tolist()):
            features.set(fmap.index, index)
            features.set(fmap.row, row)
            features.set(fmap.column, column)
            if progress is not None:
                progress(index + 1, len(entries))
        features.execute(fmap.commit)

    def revert(self) -> None:
        """Clear the user list (the camera keeps its factory list)."""
        self.require()
        self.features.execute(self.feature_map.revert)

    def _selector_entry(self, which: str) -> str:
        if which == "factory":
            return self.feature_map.selector_factory
        if which == "user":
            return self.feature_map.selector_user
        raise InputError(f"unknown defect list {which!r}; use 'factory' or 'user'")
