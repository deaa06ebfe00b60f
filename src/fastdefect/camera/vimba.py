"""The real camera path: Vimba X through vmbpy.

Which GenTL producers (``.cti`` files) are loaded, in this order:

1. the ``cti`` argument (``--cti PATH`` on the command line, may be repeated): files or
   directories; ``GENICAM_GENTL64_PATH`` is then ignored;
2. otherwise the entries of ``GENICAM_GENTL64_PATH`` (``os.pathsep``-separated), which a
   Vimba X installation sets;
3. otherwise none: :class:`~fastdefect.errors.CameraError` says how to give one.

vmbpy receives the producers and fastdefect's VmbC configuration XML through
``VmbSystem.set_path_configuration(*producer_paths, config_xml)``. The configuration
(:file:`vmbc_config.xml` beside this module, or ``config_xml=...``, or the
``FASTDEFECT_VMBC_CONFIG`` environment variable) decides which producer vendors VmbC
accepts. Nothing in site-packages is ever edited.

vmbpy is imported only when a function here runs, so the rest of fastdefect works
without it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import CameraError, InputError, import_optional
from .base import FeatureCamera, RawFrame
from .featuremap import DefectListFeatureMap, feature_map_for
from .protocol import CameraDescriptor

__all__ = [
    "CONFIG_ENV",
    "PRODUCER_ENV",
    "ProducerConfig",
    "VimbaCamera",
    "VmbFeatures",
    "default_vmbc_config",
    "list_vimba_cameras",
    "open_vimba_camera",
    "resolve_producers",
]

#: Environment variable with GenTL producer paths (the GenICam standard name).
PRODUCER_ENV = "GENICAM_GENTL64_PATH"
#: Environment variable naming another VmbC configuration XML.
CONFIG_ENV = "FASTDEFECT_VMBC_CONFIG"

NO_PRODUCER_MESSAGE = (
    "no GenTL producer to load: give one with --cti PATH (a .cti file or a directory "
    f"holding .cti files) or set {PRODUCER_ENV}, as a Vimba X installation does"
)


@dataclass(frozen=True)
class ProducerConfig:
    """The producers and VmbC configuration a Vimba X session starts with."""

    producers: tuple[Path, ...]
    source: str
    config_xml: Path

    def path_configuration(self) -> tuple[str, ...]:
        """The arguments for ``VmbSystem.set_path_configuration``."""
        return (*(str(path) for path in self.producers), str(self.config_xml))


def default_vmbc_config() -> Path:
    """The VmbC configuration XML shipped with fastdefect."""
    return Path(str(resources.files("fastdefect.camera").joinpath("vmbc_config.xml")))


def _has_cti(directory: Path) -> bool:
    return any(child.suffix.lower() == ".cti" for child in directory.iterdir())


def resolve_producers(
    cti: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    config_xml: str | os.PathLike | None = None,
    environ: dict[str, str] | None = None,
) -> ProducerConfig:
    """Decide which GenTL producers and VmbC configuration to use.

    Parameters
    ----------
    cti : path or sequence of paths, optional
        Producer files or directories given by the user; they win over the environment.
    config_xml : path, optional
        VmbC configuration; default ``$FASTDEFECT_VMBC_CONFIG`` or the shipped one.
    environ : mapping, optional
        Environment to read (default ``os.environ``).

    Raises
    ------
    InputError
        A given path does not exist, or is a directory without ``.cti`` files.
    CameraError
        No producer is given and ``GENICAM_GENTL64_PATH`` names none that exists.
    """
    env = os.environ if environ is None else environ
    if config_xml is None:
        config_xml = env.get(CONFIG_ENV) or default_vmbc_config()
    config = Path(config_xml)
    if not config.is_file():
        raise InputError(f"VmbC configuration {config} does not exist")
    if cti is not None and not (isinstance(cti, Sequence) and not isinstance(cti, str)):
        cti = [cti]
    if cti:
        producers = []
        for entry in cti:
            path = Path(entry).expanduser()
            if not path.exists():
                raise InputError(f"GenTL producer {path} does not exist (given with --cti)")
            if path.is_dir() and not _has_cti(path):
                raise InputError(f"directory {path} (given with --cti) holds no .cti file")
            producers.append(path.resolve())
        return ProducerConfig(tuple(producers), "--cti", config.resolve())
    raw = env.get(PRODUCER_ENV, "")
    entries = [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]
    existing = [path.resolve() for path in entries if path.exists()]
    if not existing:
        if entries:
            raise CameraError(
                f"{PRODUCER_ENV} names no existing producer ({raw}); " + NO_PRODUCER_MESSAGE
            )
        raise CameraError(NO_PRODUCER_MESSAGE)
    return ProducerConfig(tuple(existing), PRODUCER_ENV, config.resolve())


def _import_vmbpy() -> Any:
    return import_optional("vmbpy", extra="camera", purpose="real cameras (Vimba X)")


def _vmb_errors(vmbpy: Any) -> tuple[type[BaseException], ...]:
    """vmbpy's exception classes (they share no public base class)."""
    names = (
        "VmbSystemError",
        "VmbTransportLayerError",
        "VmbCameraError",
        "VmbInterfaceError",
        "VmbFeatureError",
        "VmbFrameError",
        "VmbTimeout",
        "VmbChunkError",
    )
    errors = [getattr(vmbpy, name) for name in names if hasattr(vmbpy, name)]
    with contextlib.suppress(ImportError, AttributeError):
        from vmbpy.c_binding import VmbCError

        errors.append(VmbCError)
    return tuple(errors)


class _VmbSession:
    """Reference-counted use of vmbpy's process-wide ``VmbSystem``.

    VmbC reads its path configuration once, at start-up; a second, different
    configuration while cameras are open would be silently ignored, so it is refused.
    """

    _lock = threading.Lock()
    _users = 0
    _active: ProducerConfig | None = None

    @classmethod
    def acquire(cls, config: ProducerConfig) -> Any:
        vmbpy = _import_vmbpy()
        with cls._lock:
            system = vmbpy.VmbSystem.get_instance()
            if cls._users and cls._active != config:
                raise CameraError(
                    "Vimba X is already running with producers "
                    f"{', '.join(map(str, cls._active.producers))}; close the open cameras "
                    "before using other producers"
                )
            if not cls._users:
                system.set_path_configuration(*config.path_configuration())
            try:
                system.__enter__()
            except _vmb_errors(vmbpy) as error:
                raise CameraError(
                    "Vimba X could not start with producer(s) "
                    f"{', '.join(map(str, config.producers))} (from {config.source}): {error}. "
                    f"Check that each is a GenTL producer and that its vendor is allowed in "
                    f"{config.config_xml}"
                ) from error
            cls._users += 1
            cls._active = config
            return system

    @classmethod
    def release(cls) -> None:
        vmbpy = _import_vmbpy()
        with cls._lock:
            if not cls._users:
                return
            cls._users -= 1
            if not cls._users:
                cls._active = None
            vmbpy.VmbSystem.get_instance().__exit__(None, None, None)


@contextlib.contextmanager
def _session(config: ProducerConfig) -> Iterator[Any]:
    system = _VmbSession.acquire(config)
    try:
        yield system
    finally:
        _VmbSession.release()


def _local_feature(camera: Any, name: str) -> str:
    with contextlib.suppress(Exception):
        return str(camera.get_local_device().get_feature_by_name(name).get()).strip()
    return ""


def _describe(camera: Any) -> CameraDescriptor:
    transport = ""
    with contextlib.suppress(Exception):
        transport = str(camera.get_transport_layer().get_path())
    vendor = ""
    with contextlib.suppress(Exception):
        vendor = str(camera.get_transport_layer().get_vendor())
    return CameraDescriptor(
        backend="vimba",
        id=camera.get_id(),
        serial=str(camera.get_serial()),
        model=str(camera.get_model()),
        vendor=vendor,
        interface=str(camera.get_interface_id()),
        transport_layer=transport,
    )


def list_vimba_cameras(
    cti: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    config_xml: str | os.PathLike | None = None,
) -> list[CameraDescriptor]:
    """Enumerate the cameras the configured producers see (none opened)."""
    config = resolve_producers(cti, config_xml=config_xml)
    with _session(config) as system:
        cameras = [_describe(camera) for camera in system.get_all_cameras()]
    return sorted(cameras, key=lambda descriptor: descriptor.id)


def _find_camera(system: Any, id_or_serial: str) -> Any:
    cameras = list(system.get_all_cameras())
    for camera in cameras:
        if camera.get_id() == id_or_serial:
            return camera
    by_serial = [camera for camera in cameras if str(camera.get_serial()) == id_or_serial]
    if len(by_serial) == 1:
        return by_serial[0]
    if len(by_serial) > 1:
        ids = ", ".join(camera.get_id() for camera in by_serial)
        raise InputError(f"serial {id_or_serial!r} is shared by cameras {ids}; give an id")
    with contextlib.suppress(Exception):
        # vmbpy also finds GigE cameras by IP or MAC address.
        return system.get_camera_by_id(id_or_serial)
    found = ", ".join(f"{c.get_id()} (serial {c.get_serial()})" for c in cameras) or "none"
    raise CameraError(f"no camera with id or serial {id_or_serial!r}; cameras found: {found}")


def open_vimba_camera(
    id_or_serial: str,
    *,
    cti: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    config_xml: str | os.PathLike | None = None,
) -> VimbaCamera:
    """Open a camera by device id (or IP/MAC for GigE) or by serial number."""
    config = resolve_producers(cti, config_xml=config_xml)
    return VimbaCamera(id_or_serial, config)


class VmbFeatures:
    """:class:`~fastdefect.camera.features.FeatureAccess` over a vmbpy feature container."""

    def __init__(self, container: Any, device: str) -> None:
        self._vmbpy = _import_vmbpy()
        self._errors = _vmb_errors(self._vmbpy)
        self._container = container
        self._device = device

    def _feature(self, name: str) -> Any:
        try:
            return self._container.get_feature_by_name(name)
        except self._vmbpy.VmbFeatureError:
            raise CameraError(f"camera {self._device} has no feature {name}") from None
        except self._errors as error:
            raise CameraError(f"camera {self._device}: {error}") from error

    def has(self, name: str) -> bool:
        try:
            feature = self._container.get_feature_by_name(name)
            readable, writeable = feature.get_access_mode()
        except self._errors:
            return False
        return bool(readable or writeable)

    def get(self, name: str) -> Any:
        feature = self._feature(name)
        try:
            value = feature.get()
        except self._errors as error:
            raise CameraError(f"camera {self._device}: reading {name} failed: {error}") from error
        if isinstance(feature, self._vmbpy.EnumFeature):
            return str(value)
        return value

    def set(self, name: str, value: Any) -> None:
        feature = self._feature(name)
        try:
            feature.set(value)
        except self._errors as error:
            limits = None
            with contextlib.suppress(Exception):
                limits = feature.get_range()
            if limits is not None and not limits[0] <= value <= limits[1]:
                raise InputError(
                    f"camera {self._device}: {value!r} is outside the range of {name} "
                    f"({limits[0]:g} .. {limits[1]:g})"
                ) from error
            raise CameraError(f"camera {self._device}: writing {name} failed: {error}") from error

    def execute(self, name: str, timeout_s: float = 10.0) -> None:
        feature = self._feature(name)
        try:
            feature.run()
            deadline = time.monotonic() + timeout_s
            while not feature.is_done():
                if time.monotonic() > deadline:
                    raise CameraError(
                        f"camera {self._device}: command {name} did not finish "
                        f"within {timeout_s:g} s"
                    )
                time.sleep(0.005)
        except self._errors as error:
            raise CameraError(f"camera {self._device}: executing {name} failed: {error}") from error

    def entries(self, name: str) -> tuple[str, ...]:
        feature = self._feature(name)
        if not isinstance(feature, self._vmbpy.EnumFeature):
            raise CameraError(f"camera {self._device}: {name} is not an enumeration")
        try:
            return tuple(str(entry) for entry in feature.get_available_entries())
        except self._errors as error:
            raise CameraError(f"camera {self._device}: reading {name} failed: {error}") from error

    def limits(self, name: str) -> tuple[float, float] | None:
        feature = self._feature(name)
        if not hasattr(feature, "get_range"):
            return None
        try:
            low, high = feature.get_range()
        except self._errors as error:
            raise CameraError(
                f"camera {self._device}: reading the range of {name} failed: {error}"
            ) from error
        return float(low), float(high)

    def names(self) -> tuple[str, ...]:
        try:
            return tuple(sorted(f.get_name() for f in self._container.get_all_features()))
        except self._errors as error:
            raise CameraError(f"camera {self._device}: listing features failed: {error}") from error


class VimbaCamera(FeatureCamera):
    """A camera opened through Vimba X (vmbpy), in full (read/write) access.

    Use :func:`open_vimba_camera` or :func:`fastdefect.camera.open_camera`.
    """

    backend = "vimba"

    def __init__(self, id_or_serial: str, config: ProducerConfig) -> None:
        self._vmbpy = _import_vmbpy()
        self._errors = _vmb_errors(self._vmbpy)
        self._config = config
        self._system = _VmbSession.acquire(config)
        try:
            camera = _find_camera(self._system, id_or_serial)
            super().__init__(camera.get_id())
            self._open(camera)
        except BaseException:
            _VmbSession.release()
            raise

    def _open(self, camera: Any) -> None:
        try:
            camera.set_access_mode(self._vmbpy.AccessMode.Full)
            camera.__enter__()
        except self._errors as error:
            raise CameraError(
                f"cannot open camera {camera.get_id()}: {error} (is another program using it?)"
            ) from error
        self._camera = camera
        self._features = VmbFeatures(camera, camera.get_id())
        self._descriptor = _describe(camera)
        self._feature_map = feature_map_for(self._descriptor.model)
        self._closed = False

    @property
    def features(self) -> VmbFeatures:
        self._check_open()
        return self._features

    @property
    def feature_map(self) -> DefectListFeatureMap:
        return self._feature_map

    def _identity(self) -> dict[str, str]:
        return {
            "vendor": _local_feature(self._camera, "DeviceVendorName") or self._descriptor.vendor,
            "model": self._descriptor.model,
            "serial": self._descriptor.serial,
        }

    def _extra_info(self) -> dict[str, Any]:
        return {"transport_layer": self._descriptor.transport_layer}

    def _acquire(self, timeout_s: float) -> Iterator[RawFrame]:
        vmbpy = self._vmbpy
        camera = self._camera
        # A few frames in flight; a slow consumer makes the camera drop frames, which the
        # capture counts as incomplete instead of buffering without bound.
        arrived: queue.Queue[RawFrame] = queue.Queue(maxsize=4)

        def handler(cam: Any, stream: Any, frame: Any) -> None:
            try:
                if frame.get_status() == vmbpy.FrameStatus.Complete:
                    try:
                        data = frame.as_numpy_ndarray().copy()
                        item = RawFrame(data, True, device_timestamp=frame.get_timestamp())
                    except Exception as error:  # unsupported layout: report, never guess
                        item = RawFrame(None, False, f"cannot read frame data: {error}")
                else:
                    item = RawFrame(None, False, f"frame status {frame.get_status().name}")
                with contextlib.suppress(queue.Full):
                    arrived.put_nowait(item)
            finally:
                with contextlib.suppress(Exception):
                    cam.queue_frame(frame)

        try:
            camera.start_streaming(handler, buffer_count=5)
        except _vmb_errors(vmbpy) as error:
            raise CameraError(f"camera {self.id}: cannot start acquisition: {error}") from error
        try:
            while True:
                try:
                    yield arrived.get(timeout=timeout_s)
                except queue.Empty:
                    self._check_present()
                    yield RawFrame(None, False, f"no frame within {timeout_s:g} s")
        finally:
            with contextlib.suppress(Exception):
                camera.stop_streaming()

    def _check_present(self) -> None:
        present = {camera.get_id() for camera in self._system.get_all_cameras()}
        if self.id not in present:
            raise CameraError(
                f"camera {self.id} disappeared (unplugged, powered off or its network "
                "link dropped); check it and open it again"
            )

    def reconnect(self, timeout_s: float = 10.0) -> None:
        self._close_camera()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                camera = self._system.get_camera_by_id(self.id)
                self._open(camera)
                return
            except (*self._errors, CameraError) as error:
                if time.monotonic() > deadline:
                    raise CameraError(
                        f"camera {self.id} did not come back within {timeout_s:g} s: {error}"
                    ) from error
                time.sleep(0.25)

    def _close_camera(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._camera.__exit__(None, None, None)

    def close(self) -> None:
        if getattr(self, "_released", False):
            return
        self._close_camera()
        self._released = True
        _VmbSession.release()
