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

from .featuremap import FEATURE_MAPS, GT_PYTHON, DefectListFeatureMap, feature_map_for
from .protocol import (
    Camera,
    CameraDescriptor,
    CameraInfo,
    Frame,
    FrameMeta,
    ProgressCallback,
    merge_lists,
    normalize_coords,
)
from .sim import (
    SIM_FAULT_ENV,
    STATE_DIR_ENV,
    FaultPlan,
    SimCamera,
    SimGroundTruth,
    apply_left_neighbour_masking,
    default_state_dir,
    list_sim_cameras,
    open_sim_camera,
)
from .stack import capture_to_tiff, stack_metadata
from .upload import (
    BackupWriter,
    CameraBackup,
    UploadFailedError,
    UploadResult,
    restore_backup,
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
    "SimCamera",
    "SimGroundTruth",
    "UploadFailedError",
    "UploadResult",
    "apply_left_neighbour_masking",
    "capture_to_tiff",
    "default_state_dir",
    "default_vmbc_config",
    "feature_map_for",
    "is_sim_spec",
    "list_cameras",
    "list_sim_cameras",
    "list_vimba_cameras",
    "merge_lists",
    "normalize_coords",
    "open_camera",
    "open_sim_camera",
    "open_vimba_camera",
    "resolve_producers",
    "restore_backup",
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
