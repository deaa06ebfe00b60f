"""Cameras: enumerate, open, inspect, capture, and transfer defect lists.

Two backends implement one protocol (:class:`Camera`):

* ``vimba`` — real cameras through Vimba X (vmbpy), with any allowed GenTL producer;
* ``sim`` — a simulated Prosilica GT camera (``sim``, ``sim:GT5120``,
  ``sim:640x480:MYSERIAL``) driven through a real GenICam node map.

>>> from fastdefect.camera import open_camera, upload_user_list   # doctest: +SKIP
>>> with open_camera("sim:GT4090") as cam:                          # doctest: +SKIP
...     frames = [f.data for f in cam.capture(8)]
...     result = upload_user_list(cam, [(10, 20), (11, 20)])

Defect lists here are ``(N, 2)`` ``uint16`` arrays of ``(row, column)``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..errors import CameraError, InputError
from .featuremap import FEATURE_MAPS, GT_PYTHON, DefectListFeatureMap, feature_map_for
from .protocol import (
    Camera,
    CameraDescriptor,
    CameraInfo,
    Frame,
    FrameMeta,
    ProgressCallback,
    merge_coords,
    normalize_coords,
)
from .sim import (
    SIM_FAULT_ENV,
    STATE_DIR_ENV,
    FaultPlan,
    SimCamera,
    SimGroundTruth,
    default_state_dir,
    list_sim_cameras,
    open_sim_camera,
)
from .stack import capture_to_tiff, stack_metadata
from .upload import (
    BackupWriter,
    CameraBackup,
    RevertResult,
    UploadFailedError,
    UploadPlan,
    UploadResult,
    backup_writer_to,
    plan_upload,
    restore_backup,
    revert_user_list,
    save_backup,
    take_backup,
    upload_user_list,
)
from .vimba import (
    CONFIG_ENV,
    PRODUCER_ENV,
    ProducerConfig,
    default_vmbc_config,
    list_vimba_cameras,
    open_vimba_camera,
    resolve_producers,
)

__all__ = [
    "CONFIG_ENV",
    "FEATURE_MAPS",
    "GT_PYTHON",
    "PRODUCER_ENV",
    "SIM_FAULT_ENV",
    "STATE_DIR_ENV",
    "BackupWriter",
    "Camera",
    "CameraBackup",
    "CameraDescriptor",
    "CameraInfo",
    "DefectListFeatureMap",
    "FaultPlan",
    "Frame",
    "FrameMeta",
    "ProducerConfig",
    "ProgressCallback",
    "RevertResult",
    "SimCamera",
    "SimGroundTruth",
    "UploadFailedError",
    "UploadPlan",
    "UploadResult",
    "backup_writer_to",
    "capture_to_tiff",
    "default_state_dir",
    "default_vmbc_config",
    "feature_map_for",
    "find_cameras",
    "is_sim_spec",
    "list_cameras",
    "list_sim_cameras",
    "list_vimba_cameras",
    "merge_coords",
    "normalize_coords",
    "open_camera",
    "open_sim_camera",
    "open_vimba_camera",
    "plan_upload",
    "resolve_camera",
    "resolve_producers",
    "restore_backup",
    "revert_user_list",
    "save_backup",
    "stack_metadata",
    "take_backup",
    "upload_user_list",
]

PathArg = str | os.PathLike | Sequence[str | os.PathLike] | None


def is_sim_spec(spec: str) -> bool:
    """Whether a ``--camera`` value names the simulated camera (``sim``, ``sim:...``)."""
    return spec.strip().lower() == "sim" or spec.strip().lower().startswith("sim:")


def open_camera(
    spec: str,
    *,
    cti: PathArg = None,
    config_xml: str | os.PathLike | None = None,
    **sim_options: Any,
) -> Camera:
    """Open a camera from a ``--camera`` value.

    Parameters
    ----------
    spec : str
        ``sim[:MODEL[:SERIAL]]`` for the simulated camera, otherwise a device id (or a
        GigE camera's IP/MAC address) or a serial number.
    cti : path or paths, optional
        GenTL producers for real cameras; default ``$GENICAM_GENTL64_PATH``.
    config_xml : path, optional
        VmbC configuration (which producer vendors are allowed).
    **sim_options
        Options of :class:`SimCamera` (``state_path``, ``fault``, ``width``...).
    """
    if is_sim_spec(spec):
        return open_sim_camera(spec, **sim_options)
    if sim_options:
        raise TypeError(f"options {sorted(sim_options)} apply to simulated cameras only")
    return open_vimba_camera(spec, cti=cti, config_xml=config_xml)


def list_cameras(
    cti: PathArg = None,
    *,
    config_xml: str | os.PathLike | None = None,
) -> list[CameraDescriptor]:
    """Cameras the configured GenTL producers see (see :func:`list_sim_cameras` for
    simulated ones)."""
    return list_vimba_cameras(cti, config_xml=config_xml)


def find_cameras(
    cti: PathArg = None,
    *,
    config_xml: str | os.PathLike | None = None,
    state_dir: str | os.PathLike | None = None,
) -> tuple[list[CameraDescriptor], list[str]]:
    """Every camera a command could use: simulated ones with a state file, then real ones.

    Returns
    -------
    cameras : list of CameraDescriptor
    notes : list of str
        Why real cameras may be missing (no producer configured, Vimba X failed to
        start with the producers of ``GENICAM_GENTL64_PATH``).

    Raises
    ------
    InputError, CameraError
        Only for producers given explicitly with ``cti``.
    """
    cameras = list_sim_cameras(state_dir)
    notes: list[str] = []
    if cti:
        cameras += list_cameras(cti, config_xml=config_xml)
    elif os.environ.get(PRODUCER_ENV, "").strip():
        try:
            cameras += list_cameras(None, config_xml=config_xml)
        except (CameraError, InputError) as error:
            notes.append(f"real cameras not listed: {error}")
    else:
        notes.append(
            f"no GenTL producer configured (--cti PATH or {PRODUCER_ENV}): real cameras not listed"
        )
    return cameras, notes


def resolve_camera(
    spec: str | None,
    cti: PathArg = None,
    *,
    config_xml: str | os.PathLike | None = None,
) -> str:
    """Turn a ``--camera`` value into something :func:`open_camera` opens.

    * ``sim``, ``sim:MODEL``, ``sim:MODEL:SERIAL``: the simulated camera, as given;
    * the serial (or id) of a simulated camera that has a state file: that camera;
    * any other value: a real camera's id, IP/MAC address or serial, as given;
    * nothing: the only camera :func:`find_cameras` sees. None, or several, is an error
      that lists what was found and says how to choose.
    """
    if spec is not None and spec.strip():
        spec = spec.strip()
        if is_sim_spec(spec):
            return spec
        for sim in list_sim_cameras():
            if spec in (sim.serial, sim.id):
                return sim.id
        return spec
    cameras, notes = find_cameras(cti, config_xml=config_xml)
    if len(cameras) == 1:
        return cameras[0].id
    why = "".join(f" ({note})" for note in notes)
    if not cameras:
        raise CameraError(
            f"no camera found{why}; connect one, give producers with --cti PATH, or use "
            "the simulated camera with --camera sim (or sim:GT4090, sim:640x480 ...)"
        )
    found = "; ".join(f"{c.id} (model {c.model}, serial {c.serial})" for c in cameras)
    raise InputError(
        f"{len(cameras)} cameras found: {found}. Choose one with --camera ID or SERIAL"
    )
