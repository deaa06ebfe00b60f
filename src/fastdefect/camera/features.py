"""Feature access: the one narrow interface between our camera code and a node map.

:class:`FeatureAccess` is what the transfer and capture code use: ``has``, ``get``,
``set``, ``execute``, ``entries``. Two implementations exist:

* :class:`fastdefect.camera.vimba.VmbFeatures` — the features of a camera opened by
  vmbpy (Vimba X): real hardware, or any GenTL producer;
* :class:`GenApiFeatures` (here) — a GenICam GenApi node map from the ``genicam``
  package, connected to a register port. The simulated camera uses it with a device
  description XML of ours and a Python register port, so the feature-level code that
  talks to real cameras is exercised unchanged.

Errors: a failing device raises :class:`~fastdefect.errors.CameraError` naming the
feature; a value out of the feature's range raises
:class:`~fastdefect.errors.InputError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from ..errors import CameraError, InputError

__all__ = ["FeatureAccess", "GenApiFeatures", "check_in_limits", "first_present"]


@runtime_checkable
class FeatureAccess(Protocol):
    """Named access to GenICam features."""

    def has(self, name: str) -> bool:
        """Whether the feature exists and is currently implemented and available."""
        ...

    def get(self, name: str) -> Any:
        """The feature's value: ``int``, ``float``, ``bool`` or ``str`` (enumerations
        give the entry's symbolic name)."""
        ...

    def set(self, name: str, value: Any) -> None:
        """Write a value (enumerations take the entry's symbolic name)."""
        ...

    def execute(self, name: str, timeout_s: float = 10.0) -> None:
        """Execute a command feature and wait until the device reports it done."""
        ...

    def entries(self, name: str) -> tuple[str, ...]:
        """Available entries of an enumeration feature."""
        ...

    def limits(self, name: str) -> tuple[float, float] | None:
        """``(minimum, maximum)`` of a numeric feature, ``None`` when it has none."""
        ...

    def names(self) -> tuple[str, ...]:
        """Names of all features the camera describes (to confirm a feature map)."""
        ...


def check_in_limits(features: FeatureAccess, name: str, value: float, device: str) -> None:
    """Raise :class:`InputError` when ``value`` is outside the feature's range."""
    limits = features.limits(name)
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise InputError(
            f"camera {device}: {value:g} is outside the range of {name} "
            f"({limits[0]:g} .. {limits[1]:g})"
        )


def first_present(features: FeatureAccess, names: Iterable[str]) -> str | None:
    """The first of ``names`` the camera has, or ``None``."""
    for name in names:
        if features.has(name):
            return name
    return None


def _short_genapi_message(error: BaseException) -> str:
    # GenApi messages end with "... : XxxException thrown in node ... (file ..., line ...)".
    text = str(error).strip()
    return text.split(" : ")[0] if " : " in text else text


class GenApiFeatures:
    """:class:`FeatureAccess` over a ``genicam.genapi.NodeMap``.

    Parameters
    ----------
    node_map : genicam.genapi.NodeMap
        A loaded and connected node map.
    device : str
        Name of the device for messages.
    """

    def __init__(self, node_map: Any, device: str) -> None:
        from genicam import genapi

        self._genapi = genapi
        self._node_map = node_map
        self._device = device

    def _node(self, name: str) -> Any:
        try:
            return self._node_map.get_node(name)
        except self._genapi.LogicalErrorException:
            raise CameraError(f"camera {self._device} has no feature {name}") from None

    def _wrap(self, name: str, action: str, error: BaseException) -> CameraError:
        return CameraError(
            f"camera {self._device}: {action} {name} failed: {_short_genapi_message(error)}"
        )

    def has(self, name: str) -> bool:
        try:
            node = self._node_map.get_node(name)
        except self._genapi.LogicalErrorException:
            return False
        mode = node.node.get_access_mode()
        return mode not in (self._genapi.EAccessMode.NI, self._genapi.EAccessMode.NA)

    def get(self, name: str) -> Any:
        node = self._node(name)
        try:
            return node.value
        except CameraError:
            raise
        except self._genapi.GenericException as error:
            raise self._wrap(name, "reading", error) from error

    def set(self, name: str, value: Any) -> None:
        node = self._node(name)
        try:
            node.value = value
        except CameraError:
            raise
        except (
            self._genapi.OutOfRangeException,
            self._genapi.InvalidArgumentException,
        ) as error:
            raise InputError(
                f"camera {self._device}: {value!r} is not a valid value for {name}: "
                f"{_short_genapi_message(error)}"
            ) from error
        except self._genapi.GenericException as error:
            raise self._wrap(name, "writing", error) from error

    def execute(self, name: str, timeout_s: float = 10.0) -> None:
        node = self._node(name)
        try:
            node.execute()
            deadline = time.monotonic() + timeout_s
            while not node.is_done():
                if time.monotonic() > deadline:
                    raise CameraError(
                        f"camera {self._device}: command {name} did not finish "
                        f"within {timeout_s:g} s"
                    )
                time.sleep(0.005)
        except CameraError:
            raise
        except self._genapi.GenericException as error:
            raise self._wrap(name, "executing", error) from error

    def entries(self, name: str) -> tuple[str, ...]:
        node = self._node(name)
        try:
            return tuple(str(symbol) for symbol in node.symbolics)
        except AttributeError:
            raise CameraError(f"camera {self._device}: {name} is not an enumeration") from None

    def limits(self, name: str) -> tuple[float, float] | None:
        node = self._node(name)
        try:
            return float(node.min), float(node.max)
        except AttributeError:
            return None
        except self._genapi.GenericException as error:
            raise self._wrap(name, "reading the range of", error) from error

    def names(self) -> tuple[str, ...]:
        category = self._genapi.EInterfaceType.intfICategory
        return tuple(
            sorted(
                str(node.node.name)
                for node in self._node_map.nodes
                if node.node.is_feature() and node.node.principal_interface_type != category
            )
        )
