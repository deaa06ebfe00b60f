"""A simulated Prosilica GT camera with the vendor's defect-list semantics.

``SimCamera`` implements the camera protocol like a real camera does: its features live
in a GenICam GenApi node map (the ``genicam`` package) loaded from :file:`sim_gt.xml` and
connected to a Python register port (:mod:`fastdefect.camera.simdevice`). List transfer,
masking and acquisition settings therefore run through exactly the feature-level code
(:mod:`fastdefect.camera.transfer`, :mod:`fastdefect.camera.base`) that drives real
cameras through vmbpy.

What it simulates
-----------------
* A factory list fixed by a seed (derived from the serial): isolated hot, stuck and dark
  pixels, a short run, a run of 10 (too long to correct) and a defect in column 0 (no
  left neighbour).
* *Latent* defects that are not in the factory list — what a user finds and uploads.
* A user list, the merged view (duplicates once), revert, ``DefectMaskEnable`` (on by
  default, like the real camera).
* Frames from a synthetic sensor: black level + signal + noise + the defects; when
  masking is on, listed defects are replaced by the nearest good pixel to their left
  (runs longer than 8 and runs starting in column 0 stay as they are) — by
  :func:`fastdefect.correction.plan_correction`, the same code as ``correct_left``.
* Light: ``SimLightLevel`` (0 = lens cap on) — set it with :meth:`SimCamera.set_light`.

State (user list, masking, settings, light, a fault spec) persists between processes in
a JSON file: ``$FASTDEFECT_STATE_DIR`` or ``$XDG_STATE_HOME/fastdefect`` or
``~/.local/state/fastdefect``, named ``sim-<serial>.json``, written atomically.

Like a real camera opened with exclusive access, a simulated camera is held by one
process at a time: opening it takes an exclusive lock on ``sim-<serial>.json.lock``
(``flock``) and reads the state only then; a second process waits for it up to
``$FASTDEFECT_SIM_LOCK_TIMEOUT`` seconds (default 30), then gets a
:class:`~fastdefect.errors.CameraError` saying the camera is in use. Two uploads at once
therefore run one after the other, and neither list is lost.

Faults
------
A fault spec (constructor ``fault=``, else ``$FASTDEFECT_SIM_FAULT``, else the state
file's ``fault`` field) is a comma-separated list of:

``disconnect-after=K``
    the link drops after K entries of a user-list upload (before the commit);
``disconnect-frames=K``
    the link drops after K delivered frames;
``timeout=OP``
    one timeout on ``read`` (the first list entry read), ``verify`` (the first list
    entry read after a commit: the read-back), ``write`` (a list entry), ``commit`` or
    ``capture`` (a frame); may be repeated;
``refuse-write``
    the camera refuses the next commit or revert (access denied);
``partial-commit=K``
    the next commit stores only the first K entries, then fails (a half-written list);
``incomplete-frames=N``
    the first N frames arrive incomplete;
``stay-away``
    after a link drop, :meth:`SimCamera.reconnect` fails (the cable stays unplugged).

Each fault fires once per opened camera (``incomplete-frames``: N times).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CameraError, InputError, import_optional
from ..outputs import atomic_output
from ..sensor import sensor_preset
from .base import FeatureCamera, RawFrame
from .featuremap import DefectListFeatureMap, feature_map_for
from .features import GenApiFeatures
from .protocol import CameraDescriptor, merge_coords, normalize_coords
from .simdevice import SimDevice, make_port

if TYPE_CHECKING:
    from ..correction import CorrectionPlan

__all__ = [
    "SIM_FAULT_ENV",
    "STATE_DIR_ENV",
    "FaultPlan",
    "SimCamera",
    "SimGroundTruth",
    "SimState",
    "default_state_dir",
    "list_sim_cameras",
    "open_sim_camera",
]

#: Environment variable with a fault spec for simulated cameras.
SIM_FAULT_ENV = "FASTDEFECT_SIM_FAULT"
#: Environment variable naming the directory of simulated cameras' state files.
STATE_DIR_ENV = "FASTDEFECT_STATE_DIR"
#: Environment variable: seconds to wait for a simulated camera another process holds.
LOCK_TIMEOUT_ENV = "FASTDEFECT_SIM_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 30.0

STATE_FORMAT = "fastdefect-sim-camera"
STATE_VERSION = 1
DEFAULT_MODEL = "GT5120"
#: Longest run of adjacent defects in a row the camera corrects.
MAX_CORRECTABLE_RUN = 8
USER_LIST_CAPACITY = 16384


def default_state_dir(environ: dict[str, str] | None = None) -> Path:
    """Directory of the simulated cameras' state files (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]).expanduser() / "fastdefect"
    if os.name == "nt" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "fastdefect" / "state"
    return Path.home() / ".local" / "state" / "fastdefect"


# -- faults ---------------------------------------------------------------------------

_FAULT_INT = {"disconnect-after", "disconnect-frames", "partial-commit", "incomplete-frames"}
_TIMEOUT_OPS = ("read", "verify", "write", "commit", "capture")


@dataclass
class FaultPlan:
    """Which failures a simulated camera plays (parsed from a fault spec)."""

    disconnect_after: int | None = None
    disconnect_frames: int | None = None
    timeouts: frozenset[str] = frozenset()
    refuse_write: bool = False
    partial_commit: int | None = None
    incomplete_frames: int = 0
    stay_away: bool = False
    spec: str = ""
    _fired: set[str] = field(default_factory=set, repr=False)
    _incomplete_sent: int = field(default=0, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """Parse ``"disconnect-after=3,timeout=commit"``; ``None`` or ``""``: no faults."""
        plan = cls(spec=(spec or "").strip())
        timeouts: set[str] = set()
        for item in re.split(r"[,;]", plan.spec):
            item = item.strip().lower()
            if not item:
                continue
            key, _, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if key in _FAULT_INT:
                if not value.isdigit():
                    raise InputError(f"simulated fault {item!r}: {key} needs a count, e.g. {key}=3")
                count = int(value)
                if key == "disconnect-after":
                    plan.disconnect_after = count
                elif key == "disconnect-frames":
                    plan.disconnect_frames = count
                elif key == "partial-commit":
                    plan.partial_commit = count
                else:
                    plan.incomplete_frames = count
            elif key == "timeout":
                if value not in _TIMEOUT_OPS:
                    raise InputError(
                        f"simulated fault {item!r}: timeout needs one of {', '.join(_TIMEOUT_OPS)}"
                    )
                timeouts.add(value)
            elif key == "refuse-write" and not value:
                plan.refuse_write = True
            elif key == "stay-away" and not value:
                plan.stay_away = True
            else:
                raise InputError(
                    f"unknown simulated fault {item!r}; known: disconnect-after=K, "
                    "disconnect-frames=K, timeout=read|verify|write|commit|capture, refuse-write, "
                    "partial-commit=K, incomplete-frames=N, stay-away"
                )
        plan.timeouts = frozenset(timeouts)
        return plan

    def fire(self, kind: str, arg: Any = None) -> bool:
        """Whether the fault ``kind`` happens now; each fires once (see module docstring)."""
        if kind == "incomplete-frames":
            if self._incomplete_sent < self.incomplete_frames:
                self._incomplete_sent += 1
                return True
            return False
        armed = {
            "timeout": arg in self.timeouts,
            "refuse-write": self.refuse_write,
            "partial-commit": self.partial_commit is not None,
            "disconnect-after": self.disconnect_after is not None and arg == self.disconnect_after,
            "disconnect-frames": self.disconnect_frames is not None
            and arg == self.disconnect_frames,
        }[kind]
        key = f"{kind}:{arg}" if kind == "timeout" else kind
        if armed and key not in self._fired:
            self._fired.add(key)
            return True
        return False


# -- state ------------------------------------------------------------------------------


@dataclass
class SimState:
    """What a simulated camera keeps between processes."""

    model: str
    serial: str
    width: int
    height: int
    seed: int
    bit_depth: int = 10
    firmware: str = "00.01.00 (fastdefect simulator)"
    user_list: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.uint16))
    masking: bool = True
    exposure_us: float = 10_000.0
    gain_db: float = 0.0
    pixel_format: str = "Mono10"
    light: float = 0.0
    temperature_c: float = 38.0
    max_user_entries: int = USER_LIST_CAPACITY
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "model": self.model,
            "serial": self.serial,
            "width": self.width,
            "height": self.height,
            "bit_depth": self.bit_depth,
            "seed": self.seed,
            "firmware": self.firmware,
            "user_list": self.user_list.astype(int).tolist(),
            "masking": self.masking,
            "exposure_us": self.exposure_us,
            "gain_db": self.gain_db,
            "pixel_format": self.pixel_format,
            "light": self.light,
            "temperature_c": self.temperature_c,
            "fault": self.fault,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path) -> SimState:
        if data.get("format") != STATE_FORMAT or data.get("version") != STATE_VERSION:
            raise CameraError(
                f"{path} is not a fastdefect simulated-camera state file (version {STATE_VERSION})"
            )
        try:
            return cls(
                model=str(data["model"]),
                serial=str(data["serial"]),
                width=int(data["width"]),
                height=int(data["height"]),
                seed=int(data["seed"]),
                bit_depth=int(data.get("bit_depth", 10)),
                firmware=str(data.get("firmware", cls.firmware)),
                user_list=normalize_coords(data.get("user_list", []), name=f"{path} user_list"),
                masking=bool(data.get("masking", True)),
                exposure_us=float(data.get("exposure_us", 10_000.0)),
                gain_db=float(data.get("gain_db", 0.0)),
                pixel_format=str(data.get("pixel_format", "Mono10")),
                light=float(data.get("light", 0.0)),
                temperature_c=float(data.get("temperature_c", 38.0)),
                fault=data.get("fault") or None,
            )
        except (KeyError, TypeError, ValueError, InputError) as error:
            raise CameraError(
                f"simulated-camera state file {path} is damaged ({error}); "
                "delete it to start afresh"
            ) from error


# -- the synthetic sensor -------------------------------------------------------------

KINDS = ("hot", "stuck_high", "stuck_low", "dark", "bright")
_HOT, _STUCK_HIGH, _STUCK_LOW, _DARK, _BRIGHT = range(5)
REFERENCE_EXPOSURE_US = 10_000.0


@dataclass(frozen=True)
class SimGroundTruth:
    """The simulated sensor's defects (simulation only; a real camera has no such thing).

    ``factory`` is what the camera's factory list holds; ``latent`` are real defects the
    factory list misses — what detection should find and a user should upload.
    """

    factory: np.ndarray
    factory_kinds: tuple[str, ...]
    latent: np.ndarray
    latent_kinds: tuple[str, ...]


class _SimSensor:
    """Internal generator: offset + signal + noise + defects. Deterministic per seed."""

    def __init__(self, width: int, height: int, bit_depth: int, seed: int) -> None:
        self.width, self.height, self.bit_depth = width, height, bit_depth
        self.full_scale = (1 << bit_depth) - 1
        scale = 2.0 ** (bit_depth - 10)
        self.black = 32.0 * scale
        self.read_noise = 2.5 * scale
        self.dn_per_electron = 0.25 * scale
        rng = np.random.default_rng(seed)
        taken: list[tuple[int, int]] = []
        factory: list[tuple[int, int, int, float]] = []
        n_factory = max(8, round(width * height * 15e-6))
        kinds = rng.choice(
            [_HOT, _STUCK_HIGH, _STUCK_LOW, _DARK], size=n_factory, p=[0.5, 0.15, 0.1, 0.25]
        )
        for kind, (row, col) in zip(kinds, self._place(rng, n_factory, taken), strict=False):
            factory.append((row, col, int(kind), float(rng.uniform(250, 600)) * scale))
        # Structures the vendor's rules care about.
        for row, col, run, kind in self._structures(rng, taken):
            for offset in range(run):
                factory.append((row, col + offset, kind, 400.0 * scale))
        latent: list[tuple[int, int, int, float]] = []
        n_latent = max(6, n_factory // 2)
        latent_kinds = rng.choice([_HOT, _DARK], size=n_latent, p=[0.6, 0.4])
        for kind, (row, col) in zip(latent_kinds, self._place(rng, n_latent, taken), strict=False):
            latent.append((row, col, int(kind), float(rng.uniform(250, 600)) * scale))
        self.factory = np.array(factory, dtype=np.float64).reshape(-1, 4)
        self.latent = np.array(latent, dtype=np.float64).reshape(-1, 4)
        everything = np.concatenate([self.factory, self.latent])
        self._rows = everything[:, 0].astype(np.intp)
        self._cols = everything[:, 1].astype(np.intp)
        self._kinds = everything[:, 2].astype(np.int8)
        self._strength = everything[:, 3].astype(np.float32)

    def _free(self, row: int, col: int, taken: list[tuple[int, int]], span: int = 1) -> bool:
        return all(abs(row - r) >= 4 or c < col - 4 or c > col + span + 3 for r, c in taken)

    def _place(
        self, rng: np.random.Generator, count: int, taken: list[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """Isolated positions away from the borders and from each other."""
        margin = 4
        if self.width <= 2 * margin + 1 or self.height <= 2 * margin + 1:
            raise InputError(
                f"a simulated sensor needs at least {2 * margin + 2} x {2 * margin + 2} pixels"
            )
        placed: list[tuple[int, int]] = []
        for _ in range(count * 50):
            if len(placed) == count:
                break
            row = int(rng.integers(margin, self.height - margin))
            col = int(rng.integers(margin, self.width - margin))
            if self._free(row, col, taken):
                taken.append((row, col))
                placed.append((row, col))
        return placed

    def _structures(
        self, rng: np.random.Generator, taken: list[tuple[int, int]]
    ) -> list[tuple[int, int, int, int]]:
        """(row, first column, run length, kind): a short run, a long run, column 0."""
        wanted = [(3, _HOT), (10, _STUCK_HIGH)] if self.width >= 64 else [(3, _HOT)]
        out = []
        for run, kind in wanted:
            for _ in range(200):
                row = int(rng.integers(4, self.height - 4))
                col = int(rng.integers(8, self.width - run - 8))
                if self._free(row, col, taken, span=run):
                    taken.extend((row, col + k) for k in range(run))
                    out.append((row, col, run, kind))
                    break
        for _ in range(200):
            row = int(rng.integers(4, self.height - 4))
            if self._free(row, 0, taken):
                taken.append((row, 0))
                out.append((row, 0, 1, _STUCK_HIGH))
                break
        return out

    def ground_truth(self) -> SimGroundTruth:
        def coords(table: np.ndarray) -> np.ndarray:
            return table[:, :2].astype(np.uint16)

        def kinds(table: np.ndarray) -> tuple[str, ...]:
            order = np.lexsort((table[:, 1], table[:, 0]))
            return tuple(KINDS[int(k)] for k in table[order, 2])

        factory_order = np.lexsort((self.factory[:, 1], self.factory[:, 0]))
        latent_order = np.lexsort((self.latent[:, 1], self.latent[:, 0]))
        return SimGroundTruth(
            factory=coords(self.factory[factory_order]),
            factory_kinds=kinds(self.factory),
            latent=coords(self.latent[latent_order]),
            latent_kinds=kinds(self.latent),
        )

    def frame(
        self, rng: np.random.Generator, exposure_us: float, gain_db: float, light: float
    ) -> np.ndarray:
        """One frame in DN at the sensor's bit depth, ``uint16``."""
        exposure = exposure_us / REFERENCE_EXPOSURE_US
        gain = 10.0 ** (gain_db / 20.0)
        signal = float(light) * self.full_scale * exposure
        sigma = np.sqrt(self.read_noise**2 + max(signal, 0.0) * self.dn_per_electron)
        image = rng.standard_normal((self.height, self.width), dtype=np.float32)
        image *= np.float32(sigma * gain)
        image += np.float32(self.black + signal * gain)
        rows, cols, kinds, strength = self._rows, self._cols, self._kinds, self._strength
        hot = kinds == _HOT
        image[rows[hot], cols[hot]] += strength[hot] * np.float32(exposure * gain)
        dark = kinds == _DARK
        image[rows[dark], cols[dark]] -= np.float32(0.65 * signal * gain)
        bright = kinds == _BRIGHT
        image[rows[bright], cols[bright]] += np.float32(0.5 * signal * gain)
        high = kinds == _STUCK_HIGH
        image[rows[high], cols[high]] = self.full_scale
        low = kinds == _STUCK_LOW
        image[rows[low], cols[low]] = 0
        np.clip(image, 0, self.full_scale, out=image)
        return np.rint(image).astype(np.uint16)


def _convert_format(frame: np.ndarray, bit_depth: int, pixel_format: str) -> np.ndarray:
    bits = {"Mono8": 8, "Mono10": 10, "Mono12": 12}[pixel_format]
    if bits == bit_depth:
        return frame
    shifted = frame << (bits - bit_depth) if bits > bit_depth else frame >> (bit_depth - bits)
    return shifted.astype(np.uint8 if bits == 8 else np.uint16)


# -- the camera -------------------------------------------------------------------------


def _model_and_size(model: str, width: int | None, height: int | None) -> tuple[str, int, int]:
    text = model.strip()
    # "640x480", and "SIM640x480" as the simulator names such a model itself.
    match = re.fullmatch(r"(?:SIM)?(\d+)\s*[xX]\s*(\d+)", text, flags=re.IGNORECASE)
    if match:
        return f"SIM{match[1]}x{match[2]}", int(match[1]), int(match[2])
    preset = sensor_preset(text)
    name = re.sub(r"[\s_\-]", "", text).upper()
    return name, width or preset.width, height or preset.height


def _state_text(state: SimState) -> str:
    """The state as JSON, one user-list entry per line (readable, diff-friendly)."""
    data = state.to_json()
    entries = data.pop("user_list")
    head = json.dumps(data, indent=1)[:-2]
    rows = ",\n  ".join(f"[{row}, {column}]" for row, column in entries)
    body = f"[\n  {rows}\n ]" if entries else "[]"
    return f'{head},\n "user_list": {body}\n}}\n'


def _seed_from(serial: str) -> int:
    return int.from_bytes(hashlib.sha256(serial.encode("utf-8")).digest()[:4], "little")


class SimCamera(FeatureCamera):
    """A simulated Prosilica GT camera (see the module docstring).

    Parameters
    ----------
    model : str
        ``"GT5120"``, ``"GT4096"``, ``"GT4090"``, a sensor preset name, or ``"WxH"``.
    serial : str, optional
        Default ``"<model>-SIM0001"``. The serial names the state file and seeds the
        factory list.
    width, height : int, optional
        Override the preset's sensor size (tests use small sensors).
    state_path : path, optional
        State file; default ``<state dir>/sim-<serial>.json``.
    fault : str, optional
        Fault spec; ``None`` falls back to ``$FASTDEFECT_SIM_FAULT``, then the state file.
    seed : int, optional
        Seed of the sensor's defects for a *new* state file (default: from the serial).
    persist : bool
        Write the state file (default). ``False`` keeps everything in memory.
    """

    backend = "sim"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        serial: str | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        state_path: str | os.PathLike | None = None,
        fault: str | None = None,
        seed: int | None = None,
        persist: bool = True,
    ) -> None:
        model_name, width, height = _model_and_size(model, width, height)
        serial = serial or f"{model_name}-SIM0001"
        if not re.fullmatch(r"[A-Za-z0-9._\-]+", serial):
            raise InputError(f"simulated camera serial {serial!r}: use letters, digits, . _ -")
        super().__init__(f"sim:{model_name}:{serial}")
        self.persist = persist
        self.state_path = (
            Path(state_path)
            if state_path is not None
            else default_state_dir() / f"sim-{serial}.json"
        )
        self._lock_handle: Any = None
        if persist:
            self._lock_handle = _take_lock(self.state_path, serial)
        try:
            self.state = self._load_or_create(model_name, serial, width, height, seed)
        except BaseException:
            self._release_lock()
            raise
        if fault is None:
            fault = os.environ.get(SIM_FAULT_ENV) or self.state.fault
        self.faults = FaultPlan.parse(fault)
        self._sensor = _SimSensor(
            self.state.width, self.state.height, self.state.bit_depth, self.state.seed
        )
        truth = self._sensor.ground_truth()
        self.factory_list = normalize_coords(truth.factory)
        self._frame_rng = np.random.default_rng([self.state.seed, 0x5EED])
        self._frames_sent = 0
        self._plan: CorrectionPlan | None = None
        self._plan_key = b""
        self._link_up = True
        self._feature_map = feature_map_for(model_name)
        self._connect()

    # -- state ----------------------------------------------------------------------

    def _load_or_create(
        self, model: str, serial: str, width: int, height: int, seed: int | None
    ) -> SimState:
        path = self.state_path
        if self.persist and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CameraError(
                    f"simulated-camera state file {path} is unreadable ({error}); "
                    "delete it to start afresh"
                ) from error
            state = SimState.from_json(data, path)
            if (state.width, state.height) != (width, height) or state.serial != serial:
                raise CameraError(
                    f"state file {path} belongs to simulated camera {state.serial} "
                    f"({state.width} x {state.height}), not {serial} ({width} x {height}); "
                    "give another serial or state file"
                )
            return state
        state = SimState(
            model=model,
            serial=serial,
            width=width,
            height=height,
            seed=_seed_from(serial) if seed is None else int(seed),
        )
        self.state = state
        self._persist()
        return state

    def _persist(self) -> None:
        if not self.persist:
            return
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.state_path, overwrite=True) as tmp:
                tmp.write_text(_state_text(self.state), encoding="utf-8")
        except OSError as error:
            raise CameraError(
                f"cannot store simulated-camera state in {self.state_path}: {error}"
            ) from error

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> None:
        genapi = import_optional("genicam.genapi", extra="camera", purpose="the simulated camera")
        xml = resources.files("fastdefect.camera").joinpath("sim_gt.xml").read_text("utf-8")
        node_map = genapi.NodeMap()
        node_map.load_xml_from_string(xml)
        self._device = SimDevice(self)
        self._port = make_port(self._device)
        node_map.connect(self._port, "Device")
        self._node_map = node_map
        self._features = GenApiFeatures(node_map, self.state.serial)
        self._link_up = True
        self._closed = False

    def _link_check(self) -> None:
        if not self._link_up:
            raise CameraError(
                f"camera {self.state.serial} is not connected (the link dropped); "
                "reconnect or open it again"
            )

    def _link_drop(self) -> None:
        self._link_up = False

    def reconnect(self) -> None:
        if not self._link_up and self.faults.stay_away:
            raise CameraError(
                f"camera {self.state.serial} did not come back (simulated fault: stay-away)"
            )
        self._disconnect()
        self._connect()

    def _disconnect(self) -> None:
        node_map = getattr(self, "_node_map", None)
        if node_map is not None:
            node_map.disconnect()
            self._node_map = None
        self._closed = True

    def close(self) -> None:
        self._disconnect()
        self._release_lock()

    def _release_lock(self) -> None:
        handle, self._lock_handle = getattr(self, "_lock_handle", None), None
        if handle is not None:
            handle.close()  # closing the file releases the flock

    def __del__(self) -> None:
        self._release_lock()

    # -- FeatureCamera hooks -------------------------------------------------------------

    @property
    def features(self) -> GenApiFeatures:
        self._check_open()
        return self._features

    @property
    def feature_map(self) -> DefectListFeatureMap:
        return self._feature_map

    def _identity(self) -> dict[str, str]:
        return {
            "vendor": "fastdefect simulator",
            "model": self.state.model,
            "serial": self.state.serial,
        }

    def _extra_info(self) -> dict[str, Any]:
        return {"state_path": str(self.state_path) if self.persist else None}

    def _acquire(self, timeout_s: float) -> Iterator[RawFrame]:
        while True:
            self._link_check()
            if self.faults.fire("disconnect-frames", self._frames_sent):
                self._link_drop()
                raise CameraError(
                    f"camera {self.state.serial} disappeared after {self._frames_sent} frames "
                    "(link dropped; simulated fault)"
                )
            if self.faults.fire("incomplete-frames"):
                yield RawFrame(None, False, "frame incomplete: packets lost (simulated fault)")
                continue
            if self.faults.fire("timeout", "capture"):
                yield RawFrame(None, False, f"no frame within {timeout_s:g} s (simulated fault)")
                continue
            state = self.state
            frame = self._sensor.frame(
                self._frame_rng, state.exposure_us, state.gain_db, state.light
            )
            frame = _convert_format(frame, state.bit_depth, state.pixel_format)
            if state.masking:
                self._masking_plan().apply(frame, out=frame)
            self._frames_sent += 1
            yield RawFrame(frame, True, device_timestamp=time.monotonic_ns())

    def _masking_plan(self) -> CorrectionPlan:
        """The camera's correction of the merged list (planned once per list).

        The one implementation of the left-neighbour idea is
        :func:`fastdefect.correction.plan_correction` (what ``correct_left`` uses): the
        simulated camera applies it, so the simulation and the preview agree.
        """
        from ..correction import plan_correction  # numba: loaded on the first masked frame

        merged = merge_coords(self.factory_list, self.state.user_list)
        key = merged.tobytes()
        if self._plan is None or self._plan_key != key:
            self._plan = plan_correction(
                merged,
                (self.state.height, self.state.width),
                method="left",
                max_run=MAX_CORRECTABLE_RUN,
                outside="ignore",
                label=f"the merged defect list of camera {self.state.serial}",
            )
            self._plan_key = key
        return self._plan

    # -- simulation controls ------------------------------------------------------------

    def set_light(self, level: float) -> None:
        """Light on the sensor as a fraction of full scale at 10 ms and 0 dB (0 = dark)."""
        self._check_open()
        self.features.set("SimLightLevel", float(level))

    def set_fault(self, spec: str | None, *, persist: bool = True) -> None:
        """Arm a fault spec now; with ``persist`` also for later processes (state file)."""
        self.faults = FaultPlan.parse(spec)
        if persist:
            self.state.fault = spec or None
            self._persist()

    def ground_truth(self) -> SimGroundTruth:
        """The simulated sensor's defects: factory-listed and latent."""
        return self._sensor.ground_truth()


def _lock_timeout() -> float:
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    try:
        return float(text) if text else DEFAULT_LOCK_TIMEOUT_S
    except ValueError:
        raise InputError(f"{LOCK_TIMEOUT_ENV}={text!r}: give a number of seconds") from None


def _take_lock(state_path: Path, serial: str) -> Any:
    """Hold ``<state file>.lock`` exclusively (waiting up to the lock timeout); return the
    open lock file, whose closing releases it. Without ``fcntl`` (Windows) nothing is
    locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    lock_path = state_path.with_name(state_path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - held until the camera is closed
    except OSError as error:
        raise CameraError(
            f"cannot lock simulated camera {serial} ({lock_path}): {error}"
        ) from error
    deadline = time.monotonic() + _lock_timeout()
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise CameraError(
                    f"simulated camera {serial} is in use by another process (lock "
                    f"{lock_path}); close it there, or wait and try again"
                ) from None
            time.sleep(0.05)
        except OSError as error:
            handle.close()
            raise CameraError(f"cannot lock simulated camera {serial}: {error}") from error
        else:
            return handle


def open_sim_camera(spec: str = "sim", **options: Any) -> SimCamera:
    """Open a simulated camera from a spec ``sim[:MODEL[:SERIAL]]``.

    ``MODEL`` is a GT model (default GT5120), a sensor preset or ``WIDTHxHEIGHT``.
    ``options`` are passed to :class:`SimCamera`.
    """
    parts = spec.strip().split(":")
    if parts[0].lower() != "sim" or len(parts) > 3:
        raise InputError(f"simulated camera spec {spec!r}: use sim, sim:MODEL or sim:MODEL:SERIAL")
    model = parts[1] if len(parts) > 1 and parts[1] else DEFAULT_MODEL
    serial = parts[2] if len(parts) > 2 and parts[2] else None
    return SimCamera(model, serial, **options)


def list_sim_cameras(state_dir: str | os.PathLike | None = None) -> list[CameraDescriptor]:
    """Simulated cameras that have a state file in ``state_dir``."""
    directory = Path(state_dir) if state_dir is not None else default_state_dir()
    found = []
    if directory.is_dir():
        for path in sorted(directory.glob("sim-*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                state = SimState.from_json(data, path)
            except (OSError, ValueError, CameraError):
                continue
            found.append(
                CameraDescriptor(
                    backend="sim",
                    id=f"sim:{state.model}:{state.serial}",
                    serial=state.serial,
                    model=state.model,
                    vendor="fastdefect simulator",
                    interface="simulated",
                    transport_layer=str(path),
                )
            )
    return found
