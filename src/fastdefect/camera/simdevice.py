"""The simulated GT camera's device: a register map behind a GenICam port.

The simulated camera (:mod:`fastdefect.camera.sim`) is driven exactly like a real one:
a GenICam GenApi node map (``genicam.genapi.NodeMap``) loads our device description
:file:`sim_gt.xml`, and its ``Device`` port is connected to :class:`SimPort`, a Python
subclass of ``genicam.genapi.AbstractPort``. Every feature access therefore goes
through the real GenApi library down to :meth:`SimDevice.read` / :meth:`SimDevice.write`
here, which implement the camera's behaviour at register level.

Defect-list semantics (our reading of the vendor's, see ``docs/camera.md``):

* ``DefectPixelListSelector`` chooses the factory (read-only) or the user list.
* Writing ``DefectPixelListSize`` with the user list selected starts a *staged* list of
  that many entries; ``DefectPixelListIndex`` / ``EntryRow`` / ``EntryColumn`` fill it.
  The staged list is write-only: reads always return the stored lists.
* ``DefectPixelListCommit`` makes the staged list the user list (sorted, duplicates
  dropped) and stores it; until then the stored list is untouched.
* ``DefectPixelListRevert`` clears the user list.

Register addresses below must match :file:`sim_gt.xml`; a test checks that they do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CameraError

__all__ = ["PIXEL_FORMATS", "REGISTERS", "Register", "SimDevice", "make_port"]

#: PFNC codes of the pixel formats the simulated camera offers.
PIXEL_FORMATS: dict[str, int] = {"Mono8": 0x01080001, "Mono10": 0x01100003, "Mono12": 0x01100005}

SELECTOR_FACTORY, SELECTOR_USER = 0, 1


@dataclass(frozen=True)
class Register:
    """One register: where it is, what it holds, who may write it."""

    name: str
    address: int
    kind: str  # "string" (64 bytes), "int" (uint32), "float" (float64), "command"
    writable: bool

    @property
    def length(self) -> int:
        return {"string": 64, "int": 4, "float": 8, "command": 4}[self.kind]


#: The register map. ``name`` is the GenICam feature the register backs.
REGISTERS: tuple[Register, ...] = (
    Register("DeviceVendorName", 0x0000, "string", False),
    Register("DeviceModelName", 0x0040, "string", False),
    Register("DeviceSerialNumber", 0x0080, "string", False),
    Register("DeviceFirmwareVersion", 0x00C0, "string", False),
    Register("SensorWidth", 0x0200, "int", False),
    Register("SensorHeight", 0x0204, "int", False),
    Register("Width", 0x0208, "int", False),
    Register("Height", 0x020C, "int", False),
    Register("PixelFormat", 0x0210, "int", True),
    Register("ExposureTime", 0x0220, "float", True),
    Register("Gain", 0x0228, "float", True),
    Register("DeviceTemperature", 0x0230, "float", False),
    Register("SimLightLevel", 0x0238, "float", True),
    Register("DefectMaskEnable", 0x0300, "int", True),
    Register("DefectPixelListSelector", 0x0304, "int", True),
    Register("DefectPixelListSize", 0x0308, "int", True),
    Register("DefectPixelListMaxSize", 0x030C, "int", False),
    Register("DefectPixelListIndex", 0x0310, "int", True),
    Register("DefectPixelListEntryRow", 0x0314, "int", True),
    Register("DefectPixelListEntryColumn", 0x0318, "int", True),
    Register("DefectPixelListCommit", 0x031C, "command", True),
    Register("DefectPixelListRevert", 0x0320, "command", True),
)

_BY_ADDRESS = {register.address: register for register in REGISTERS}


class SimDevice:
    """Register-level behaviour of the simulated camera.

    Parameters
    ----------
    camera : object
        The owning :class:`~fastdefect.camera.sim.SimCamera`; the device reads and
        changes its ``state`` (a :class:`~fastdefect.camera.sim.SimState`), asks its
        ``faults`` (a :class:`~fastdefect.camera.sim.FaultPlan`) whether to fail, and
        calls its ``_persist()`` after every change that a real camera keeps.
    """

    def __init__(self, camera: Any) -> None:
        self.camera = camera
        self.selector = SELECTOR_USER
        self.index = 0
        self.staged: np.ndarray | None = None
        self.staged_written = 0
        self.committed_since_read = False

    # -- helpers --------------------------------------------------------------------

    @property
    def state(self) -> Any:
        return self.camera.state

    def _fail(self, message: str) -> CameraError:
        return CameraError(f"camera {self.state.serial}: {message}")

    def _stored_list(self) -> np.ndarray:
        """The selected list as stored: what reads return (a staged list is write-only)."""
        if self.selector == SELECTOR_FACTORY:
            return self.camera.factory_list
        return self.state.user_list

    def _check_index(self, size: int) -> None:
        if self.index >= size:
            raise self._fail(
                f"DefectPixelListIndex {self.index} is beyond the list's {size} entries"
            )

    # -- port interface ---------------------------------------------------------------

    def read(self, address: int, length: int) -> bytes:
        self.camera._link_check()
        register = _BY_ADDRESS.get(address)
        if register is None or length != register.length:
            raise self._fail(f"read of {length} bytes at invalid address 0x{address:04X}")
        value = self._get(register.name)
        return _encode(register, value)

    def write(self, address: int, data: bytes) -> None:
        self.camera._link_check()
        register = _BY_ADDRESS.get(address)
        if register is None or len(data) != register.length:
            raise self._fail(f"write of {len(data)} bytes at invalid address 0x{address:04X}")
        if not register.writable:
            raise self._fail(f"{register.name} is read-only")
        self._set(register.name, _decode(register, data))

    # -- behaviour ----------------------------------------------------------------------

    def _get(self, name: str) -> Any:
        state = self.state
        faults = self.camera.faults
        simple = {
            "DeviceVendorName": "fastdefect simulator",
            "DeviceModelName": state.model,
            "DeviceSerialNumber": state.serial,
            "DeviceFirmwareVersion": state.firmware,
            "SensorWidth": state.width,
            "SensorHeight": state.height,
            "Width": state.width,
            "Height": state.height,
            "ExposureTime": state.exposure_us,
            "Gain": state.gain_db,
            "DeviceTemperature": state.temperature_c,
            "SimLightLevel": state.light,
            "DefectMaskEnable": int(state.masking),
            "DefectPixelListSelector": self.selector,
            "DefectPixelListMaxSize": state.max_user_entries,
            "DefectPixelListIndex": self.index,
            "DefectPixelListCommit": 0,
            "DefectPixelListRevert": 0,
        }
        if name in simple:
            return simple[name]
        if name == "PixelFormat":
            return PIXEL_FORMATS[state.pixel_format]
        if name == "DefectPixelListSize":
            return len(self._stored_list())
        if name in ("DefectPixelListEntryRow", "DefectPixelListEntryColumn"):
            if faults.fire("timeout", "read") or (
                self.committed_since_read and faults.fire("timeout", "verify")
            ):
                raise self._fail("timed out reading the defect list (simulated fault)")
            self.committed_since_read = False
            stored = self._stored_list()
            self._check_index(len(stored))
            return int(stored[self.index, 0 if name.endswith("Row") else 1])
        raise self._fail(f"no behaviour for {name}")  # pragma: no cover - table and code agree

    def _set(self, name: str, value: Any) -> None:
        state = self.state
        faults = self.camera.faults
        if name == "PixelFormat":
            names = {code: fmt for fmt, code in PIXEL_FORMATS.items()}
            if value not in names:
                raise self._fail(f"pixel format code 0x{value:08X} is not offered")
            state.pixel_format = names[value]
        elif name == "ExposureTime":
            state.exposure_us = float(value)
        elif name == "Gain":
            state.gain_db = float(value)
        elif name == "SimLightLevel":
            state.light = float(value)
        elif name == "DefectMaskEnable":
            state.masking = bool(value)
        elif name == "DefectPixelListSelector":
            if value not in (SELECTOR_FACTORY, SELECTOR_USER):
                raise self._fail(f"DefectPixelListSelector value {value} is not defined")
            self.selector = value
            return
        elif name == "DefectPixelListIndex":
            self.index = int(value)
            return
        elif name == "DefectPixelListSize":
            if self.selector != SELECTOR_USER:
                raise self._fail("the factory list is read-only")
            if value > state.max_user_entries:
                raise self._fail(
                    f"the user list holds at most {state.max_user_entries} entries, not {value}"
                )
            self.staged = np.zeros((int(value), 2), dtype=np.uint16)
            self.staged_written = 0
            return
        elif name in ("DefectPixelListEntryRow", "DefectPixelListEntryColumn"):
            self._write_entry(name, int(value))
            return
        elif name == "DefectPixelListCommit":
            self._commit()
        elif name == "DefectPixelListRevert":
            if faults.fire("refuse-write"):
                raise self._fail("the camera refused the revert (access denied; simulated fault)")
            self.staged = None
            state.user_list = np.empty((0, 2), dtype=np.uint16)
        self.camera._persist()

    def _write_entry(self, name: str, value: int) -> None:
        faults = self.camera.faults
        if self.selector != SELECTOR_USER:
            raise self._fail("the factory list is read-only")
        if self.staged is None:
            raise self._fail("write DefectPixelListSize before the entries of a new user list")
        self._check_index(len(self.staged))
        if faults.fire("timeout", "write"):
            raise self._fail("timed out writing the defect list (simulated fault)")
        column = name.endswith("Column")
        limit = self.state.width if column else self.state.height
        if value >= limit:
            what = "column" if column else "row"
            raise self._fail(f"{what} {value} is outside the sensor (0..{limit - 1})")
        self.staged[self.index, 1 if column else 0] = value
        if column:
            self.staged_written += 1
            if faults.fire("disconnect-after", self.staged_written):
                self.camera._link_drop()
                raise self._fail(
                    f"connection lost after {self.staged_written} list entries (simulated fault)"
                )

    def _commit(self) -> None:
        state = self.state
        faults = self.camera.faults
        if self.staged is None:
            return
        if faults.fire("timeout", "commit"):
            raise self._fail("timed out committing the user list (simulated fault)")
        if faults.fire("refuse-write"):
            self.staged = None
            raise self._fail("the camera refused the write (access denied; simulated fault)")
        staged, self.staged = self.staged, None
        self.committed_since_read = True
        partial = faults.partial_commit
        if partial is not None and faults.fire("partial-commit"):
            # A firmware that stores entry by entry and fails half way: the worst case.
            state.user_list = np.unique(staged[:partial], axis=0).astype(np.uint16)
            self.camera._persist()
            raise self._fail(
                f"storing the user list failed after {partial} of {len(staged)} entries "
                "(simulated fault)"
            )
        state.user_list = np.unique(staged, axis=0).astype(np.uint16).reshape(-1, 2)


def _encode(register: Register, value: Any) -> bytes:
    if register.kind == "string":
        raw = str(value).encode("utf-8")[: register.length - 1]
        return raw.ljust(register.length, b"\0")
    if register.kind == "float":
        return struct.pack("<d", float(value))
    return struct.pack("<I", int(value))


def _decode(register: Register, data: bytes) -> Any:
    if register.kind == "float":
        return struct.unpack("<d", bytes(data))[0]
    return struct.unpack("<I", bytes(data))[0]


def make_port(device: SimDevice) -> Any:
    """A ``genicam.genapi.AbstractPort`` that forwards to ``device``.

    The class is built here so that importing this module does not need ``genicam``.
    Exceptions raised by the device (our ``CameraError``) pass through GenApi unchanged.
    """
    from genicam import genapi

    class SimPort(genapi.AbstractPort):
        def __init__(self, target: SimDevice) -> None:
            super().__init__()
            self._target = target

        def get_access_mode(self) -> Any:
            return genapi.EAccessMode.RW

        def read(self, address: int, length: int) -> bytes:
            return self._target.read(address, length)

        def write(self, address: int, data: bytes) -> None:
            self._target.write(address, data)

    return SimPort(device)
