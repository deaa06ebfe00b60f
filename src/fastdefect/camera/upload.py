"""Safe list changes: back up, write, read back, verify — or put the camera back.

A camera's user list cannot be edited entry by entry: an upload that stops half way
would leave a list nobody asked for. :func:`upload_user_list` therefore

1. reads the factory and user lists into a :class:`CameraBackup` and hands it to an
   optional ``backup_writer`` (which stores it in a file) *before* touching anything;
2. writes the new user list, reads it back and compares;
3. on any failure reads the camera again (reconnecting once if needed): if the user list
   is still the backed-up one, the camera is **unchanged**; otherwise it writes the
   backup back and verifies it: **restored**. Only when even that fails is the outcome
   **unknown**, and the error says to restore from the backup.

The outcome is always stated: :class:`UploadResult` on success,
:class:`UploadFailedError` (a :class:`~fastdefect.errors.CameraError`, exit code 3)
on failure.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import CameraError, InputError
from .protocol import Camera, ProgressCallback, merge_lists, normalize_coords

__all__ = [
    "BackupWriter",
    "CameraBackup",
    "UploadFailedError",
    "UploadResult",
    "restore_backup",
    "take_backup",
    "upload_user_list",
]

Outcome = Literal["unchanged", "restored", "unknown"]


@dataclass(frozen=True)
class CameraBackup:
    """The camera's lists at one moment, with what a restore must check.

    A restore checks the sensor size only (not serial or model), as the vendor's tool
    does; model and serial are kept for the file name and for people.
    """

    model: str
    serial: str
    width: int
    height: int
    factory: np.ndarray
    user: np.ndarray
    taken_at: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )

    @property
    def merged(self) -> np.ndarray:
        return merge_lists(self.factory, self.user)


#: ``backup_writer(backup)`` stores a backup (e.g. a file) before anything is written.
BackupWriter = Callable[[CameraBackup], Any]


@dataclass(frozen=True)
class UploadResult:
    """What an upload did.

    Attributes
    ----------
    backup : CameraBackup
        The lists before the upload.
    user_list : numpy.ndarray
        The user list now on the camera (read back and verified).
    added : numpy.ndarray
        Entries in the new user list that were not in the old one.
    removed : numpy.ndarray
        Entries of the old user list that are gone (only with ``replace=True``).
    already_in_factory : numpy.ndarray
        Requested entries the factory list holds already (the camera applies them once).
    backup_written : object
        Whatever ``backup_writer`` returned (e.g. the backup file's path), else ``None``.
    """

    backup: CameraBackup
    user_list: np.ndarray
    added: np.ndarray
    removed: np.ndarray
    already_in_factory: np.ndarray
    backup_written: Any = None

    @property
    def changed(self) -> bool:
        return bool(len(self.added) or len(self.removed))


class UploadFailedError(CameraError):
    """An upload failed; :attr:`outcome` says what state the camera is in.

    Attributes
    ----------
    outcome : {"unchanged", "restored", "unknown"}
    backup : CameraBackup
        The lists from before the upload: restore them from here when ``unknown``.
    backup_written : object
        What the ``backup_writer`` returned (e.g. the backup file's path).
    """

    def __init__(
        self,
        message: str,
        *,
        outcome: Outcome,
        backup: CameraBackup,
        backup_written: Any = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.backup = backup
        self.backup_written = backup_written


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of ``a`` not in ``b`` (both normalised)."""
    if not len(a):
        return a
    if not len(b):
        return a
    keys_a = a[:, 0].astype(np.uint32) << 16 | a[:, 1]
    keys_b = b[:, 0].astype(np.uint32) << 16 | b[:, 1]
    return a[~np.isin(keys_a, keys_b)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def take_backup(camera: Camera) -> CameraBackup:
    """Read both lists and the sensor size from ``camera``."""
    info = camera.info()
    if not info.defect_list_supported:
        raise CameraError(
            f"defect list not supported: {', '.join(info.missing_features)} (camera {info.id})"
        )
    return CameraBackup(
        model=info.model,
        serial=info.serial,
        width=info.width,
        height=info.height,
        factory=camera.read_factory_list(),
        user=camera.read_user_list(),
    )


def upload_user_list(
    camera: Camera,
    coords: Any,
    *,
    replace: bool = False,
    backup_writer: BackupWriter | None = None,
    progress: ProgressCallback | None = None,
) -> UploadResult:
    """Upload defects to the camera's user list as one transaction.

    Parameters
    ----------
    camera : Camera
        An opened camera.
    coords : array-like
        ``(row, column)`` pairs to upload.
    replace : bool
        ``False`` (default, as the vendor tool): the new entries are *added* to the user
        list. ``True``: the user list becomes exactly ``coords`` (used by restore).
    backup_writer : callable, optional
        Called with the :class:`CameraBackup` before anything is written; if it raises,
        nothing is written.
    progress : callable, optional
        ``progress(done, total)`` while entries are written.

    Returns
    -------
    UploadResult

    Raises
    ------
    InputError
        Coordinates malformed or outside the sensor (nothing written).
    UploadFailedError
        The write or its verification failed; ``outcome`` tells whether the camera is
        ``unchanged``, ``restored`` from the backup, or in an ``unknown`` state.
    CameraError
        The camera cannot transfer lists, or failed before anything was written.
    """
    requested = normalize_coords(coords, name="upload list")
    backup = take_backup(camera)
    if len(requested):
        outside = (requested[:, 0] >= backup.height) | (requested[:, 1] >= backup.width)
        if outside.any():
            shown = ", ".join(f"({r}, {c})" for r, c in requested[outside][:5].tolist())
            raise InputError(
                f"{int(outside.sum())} entries lie outside the {backup.width} x {backup.height} "
                f"sensor of camera {backup.serial}: {shown}; nothing was written"
            )
    written_backup = backup_writer(backup) if backup_writer is not None else None
    target = requested if replace else merge_lists(backup.user, requested)
    try:
        camera.write_user_list(target, progress=progress)
        read_back = camera.read_user_list()
        if not _same(read_back, target):
            raise CameraError(
                f"verification failed: the camera holds {len(read_back)} user entries, "
                f"{len(target)} were written ({len(_difference(target, read_back))} missing, "
                f"{len(_difference(read_back, target))} unexpected)"
            )
    except (Exception, KeyboardInterrupt) as error:
        outcome, detail = _recover(camera, backup)
        if isinstance(error, InputError) and outcome == "unchanged":
            raise  # a value the camera refused before storing anything: the user's to fix
        cause = str(error) or type(error).__name__
        where = f" The backup was kept: {written_backup}." if written_backup is not None else ""
        raise UploadFailedError(
            f"upload to camera {backup.serial} failed: {cause}. {detail}{where}",
            outcome=outcome,
            backup=backup,
            backup_written=written_backup,
        ) from error
    return UploadResult(
        backup=backup,
        user_list=read_back,
        added=_difference(read_back, backup.user),
        removed=_difference(backup.user, read_back),
        already_in_factory=_difference(requested, _difference(requested, backup.factory)),
        backup_written=written_backup,
    )


def _recover(camera: Camera, backup: CameraBackup) -> tuple[Outcome, str]:
    """Put the camera back to ``backup.user``; say what happened."""
    current = None
    for attempt in range(2):
        try:
            if attempt:
                camera.reconnect()
            current = camera.read_user_list()
            break
        except Exception:
            continue
    if current is None:
        return "unknown", (
            "The camera could not be read afterwards, so its user list is UNKNOWN: "
            "reconnect it and restore the backup."
        )
    if _same(current, backup.user):
        return "unchanged", "The camera is unchanged (its user list is as before)."
    try:
        camera.write_user_list(backup.user)
        if _same(camera.read_user_list(), backup.user):
            return "restored", (
                "The camera had been partly written and was restored from the automatic "
                f"backup ({len(backup.user)} user entries)."
            )
    except Exception as error:
        return "unknown", (
            f"Restoring the backup failed too ({error}), so the camera's user list is "
            "UNKNOWN: restore the backup again."
        )
    return "unknown", (
        "The restored list did not verify, so the camera's user list is UNKNOWN: "
        "restore the backup again."
    )


def restore_backup(
    camera: Camera,
    backup: CameraBackup,
    *,
    backup_writer: BackupWriter | None = None,
    progress: ProgressCallback | None = None,
) -> UploadResult:
    """Make the camera's user list the backup's, safely (the current one is backed up
    first). Refuses a backup whose sensor size differs from the camera's."""
    info = camera.info()
    if (info.width, info.height) != (backup.width, backup.height):
        raise InputError(
            f"the backup is for a {backup.width} x {backup.height} sensor; camera "
            f"{info.serial} has {info.width} x {info.height}"
        )
    return upload_user_list(
        camera, backup.user, replace=True, backup_writer=backup_writer, progress=progress
    )
