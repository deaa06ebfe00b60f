"""Safe list changes: check, back up, write, read back, verify — or put the camera back.

A camera's user list cannot be edited entry by entry: an upload that stops half way
would leave a list nobody asked for. The functions here therefore work as transactions:

:func:`plan_upload`
    judges a list against the camera's correction rules *before* anything is sent: red
    entries (outside the sensor, runs longer than 8, runs with no pixel to their left)
    are refused — the vendor tool ignores them on upload — yellow ones (runs of 5 to 8)
    need confirmation, and entries the camera holds already are left out.
:func:`upload_user_list`
    1. reads the factory and user lists into a
       :class:`~fastdefect.formats.backup.CameraBackup` and hands it to an optional
       ``backup_writer`` (:func:`backup_writer_to` stores it in a file) *before* touching
       anything;
    2. writes the new user list, reads it back and compares;
    3. on any failure reads the camera again (reconnecting once if needed): if the user
       list is still the backed-up one, the camera is **unchanged**; otherwise it writes
       the backup back and verifies it: **restored**. Only when even that fails is the
       outcome **unknown**, and the error says to restore from the backup.
:func:`restore_backup`, :func:`revert_user_list`
    the same transaction for a restore (sensor size checked first) and a revert.

The outcome is always stated: a result on success, :class:`UploadFailedError` (a
:class:`~fastdefect.errors.CameraError`, exit code 3) with ``outcome`` on failure.

Backups are the one documented file format of :mod:`fastdefect.formats.backup`;
:func:`save_backup` writes one under its default name (with the serial) and never
overwrites an existing file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..defects import DefectList
from ..errors import CameraError, InputError, OutputExistsError
from ..formats.backup import CameraBackup, write_backup
from ..rules import RuleSet, Verdict, Verdicts, check_list, rule_set
from .protocol import Camera, ProgressCallback, merge_coords, normalize_coords

__all__ = [
    "BackupWriter",
    "CameraBackup",
    "RevertResult",
    "UploadFailedError",
    "UploadPlan",
    "UploadResult",
    "backup_writer_to",
    "plan_upload",
    "restore_backup",
    "revert_user_list",
    "save_backup",
    "take_backup",
    "upload_user_list",
]

Outcome = Literal["unchanged", "restored", "unknown"]

#: ``backup_writer(backup)`` stores a backup (e.g. a file) before anything is written.
BackupWriter = Callable[[CameraBackup], Any]


def _coords(defects: DefectList) -> np.ndarray:
    """A backup's list as the camera layer's sorted ``(N, 2)`` ``uint16`` array."""
    return normalize_coords(defects)


# -- backups ----------------------------------------------------------------------------


def take_backup(camera: Camera) -> CameraBackup:
    """Read both lists and the sensor size from ``camera``.

    Raises
    ------
    CameraError
        ``defect list not supported: <missing features>`` when the camera lacks them.
    """
    info = camera.info()
    if not info.defect_list_supported:
        raise CameraError(
            f"defect list not supported: {', '.join(info.missing_features)} (camera {info.id})"
        )
    return CameraBackup(
        model=info.model,
        serial=info.serial,
        width=int(info.width),
        height=int(info.height),
        factory=camera.read_factory_list(),
        user=camera.read_user_list(),
    )


def save_backup(backup: CameraBackup, directory: str | os.PathLike | None = None) -> Path:
    """Write ``backup`` under its default name in ``directory`` (default: the current one).

    The default name holds the serial and the time
    (:func:`~fastdefect.formats.backup.backup_file_name`). An existing file is never
    overwritten: when the name is taken (two backups in one second), ``-2``, ``-3`` ...
    is added before the extension. The file appears complete or not at all.

    Returns
    -------
    Path
        The file written.
    """
    folder = Path(directory) if directory is not None else Path.cwd()
    if not folder.is_dir():
        raise InputError(f"backup directory {folder} does not exist")
    try:
        return _save_new(backup, folder)
    except OSError as error:
        raise InputError(f"cannot write a backup file in {folder}: {error}") from error


def _save_new(backup: CameraBackup, folder: Path) -> Path:
    stem = Path(backup.default_file_name).stem
    for attempt in range(1, 1000):
        candidate = folder / (f"{stem}.bin" if attempt == 1 else f"{stem}-{attempt}.bin")
        try:
            return write_backup(candidate, backup)  # atomic, refuses an existing file
        except OutputExistsError:
            continue
    raise InputError(f"no free backup file name for {stem} in {folder}")


def backup_writer_to(directory: str | os.PathLike | None = None) -> BackupWriter:
    """A ``backup_writer`` that saves each backup with :func:`save_backup` and returns
    the file's path (checked now: a missing directory fails before the camera is used)."""
    folder = Path(directory) if directory is not None else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"backup directory {folder} does not exist")

    def writer(backup: CameraBackup) -> Path:
        return save_backup(backup, folder)

    return writer


# -- planning an upload -------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPlan:
    """What an upload of ``requested`` would do, judged before anything is written.

    Every index array points into :attr:`requested` and names the first entry of each
    position (a camera stores a pixel once, so duplicates are dropped).

    Attributes
    ----------
    requested : DefectList
        The list as given.
    verdicts : Verdicts
        The rule check of :attr:`requested`, with the camera's sensor size and its
        current lists (factory and user) as context: runs are judged on what the camera
        will hold.
    upload_index : ndarray
        Entries to write: green or yellow and not in the camera yet.
    confirm_index : ndarray
        The yellow ones among them (runs of 5 to 8): they need confirmation.
    refused_index : ndarray
        Red entries: never written (the vendor tool ignores them on upload).
    present_index : ndarray
        Green or yellow entries the camera holds already (factory or user list).
    factory, user : ndarray
        The camera's lists when the plan was made.
    width, height : int
        The camera's sensor size.
    """

    requested: DefectList
    verdicts: Verdicts
    upload_index: np.ndarray
    confirm_index: np.ndarray
    refused_index: np.ndarray
    present_index: np.ndarray
    factory: np.ndarray
    user: np.ndarray
    width: int
    height: int

    @property
    def to_upload(self) -> np.ndarray:
        """``(N, 2)`` ``uint16`` coordinates to add to the user list."""
        return normalize_coords(self.requested.take(self.upload_index))

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.confirm_index.size)

    @property
    def refused(self) -> DefectList:
        return self.requested.take(self.refused_index)

    @property
    def already_present(self) -> DefectList:
        return self.requested.take(self.present_index)

    def records(self, which: str) -> list[dict[str, Any]]:
        """Entries of ``"upload"``, ``"confirm"``, ``"refused"`` or ``"present"`` as dicts
        with their verdict and reason (see :meth:`Verdicts.to_records`)."""
        index = {
            "upload": self.upload_index,
            "confirm": self.confirm_index,
            "refused": self.refused_index,
            "present": self.present_index,
        }[which]
        return self.verdicts.to_records(index)

    def summary(self) -> dict[str, Any]:
        return {
            "requested": len(self.requested),
            "to_upload": int(self.upload_index.size),
            "need_confirmation": int(self.confirm_index.size),
            "refused": int(self.refused_index.size),
            "already_present": int(self.present_index.size),
            "duplicates": int(self.verdicts.duplicate.sum()),
            "sensor": {"width": self.width, "height": self.height},
        }


@contextlib.contextmanager
def _nothing_written_if_failing() -> Iterator[None]:
    """A camera failure before the list transfer started: say that nothing changed.

    Failures during the transfer are :class:`UploadFailedError` and state the camera's
    state themselves.
    """
    try:
        yield
    except UploadFailedError:
        raise
    except CameraError as error:
        raise CameraError(f"{error}. Nothing was written: the camera is unchanged.") from error


def plan_upload(
    camera: Camera,
    defects: DefectList | Any,
    *,
    rules: RuleSet | str = "av",
    width: int | None = None,
    height: int | None = None,
    label: str = "the defect list",
) -> UploadPlan:
    """Judge ``defects`` for an upload to ``camera``; nothing is written.

    Parameters
    ----------
    camera : Camera
        An opened camera that supports list transfer.
    defects : DefectList or (N, 2) array of (row, column)
    rules : RuleSet or str
        The correction rules (default ``av``: the Allied Vision GT camera). The camera's
        sensor (size, and Bayer layout from its pixel format) is applied to them.
    width, height : int, optional
        The sensor size the list states (e.g. from its file); another size than the
        camera's is an :class:`InputError`. Default: the list's ``metadata``, if any.
    label : str
        How errors name the list (e.g. its file).

    Returns
    -------
    UploadPlan

    Raises
    ------
    InputError
        The list states another sensor size than the camera's.
    CameraError
        The camera cannot transfer lists or failed; the message says nothing was written.
    """
    if not isinstance(defects, DefectList):
        pairs = np.asarray(defects, dtype=np.int64).reshape(-1, 2)
        defects = DefectList(pairs[:, 0], pairs[:, 1])
    with _nothing_written_if_failing():
        return _plan(camera, defects, rules, width, height, label)


def _plan(
    camera: Camera,
    defects: DefectList,
    rules: RuleSet | str,
    width: int | None,
    height: int | None,
    label: str,
) -> UploadPlan:
    from ..correction import check_list_size  # lazily: it loads the numba kernels

    info = camera.info()
    try:
        # Only the stated size: entries outside the sensor are refused (red), not an error.
        check_list_size(defects, (info.height, info.width), width=width, height=height,
                        label=label, target=f"camera {info.serial}'s sensor")  # fmt: skip
    except InputError as error:
        raise InputError(f"{error} Nothing was written.") from None
    if not info.defect_list_supported:
        raise CameraError(
            f"defect list not supported: {', '.join(info.missing_features)} (camera {info.id})"
        )
    if isinstance(rules, str):
        rules = rule_set(rules)
    rules = rules.with_sensor(info.sensor_spec())
    factory = camera.read_factory_list()
    user = camera.read_user_list()
    in_camera = merge_coords(factory, user)
    context = DefectList(in_camera[:, 0], in_camera[:, 1], source="factory")
    verdicts = check_list(defects, rules, context=context)
    first = ~verdicts.duplicate
    keys = defects.linear_index
    present = np.isin(keys, context.linear_index)
    red = verdicts.levels == Verdict.ERROR
    yellow = verdicts.levels == Verdict.WARN
    upload = first & ~red & ~present
    return UploadPlan(
        requested=defects,
        verdicts=verdicts,
        upload_index=np.flatnonzero(upload),
        confirm_index=np.flatnonzero(upload & yellow),
        refused_index=np.flatnonzero(first & red),
        present_index=np.flatnonzero(first & ~red & present),
        factory=factory,
        user=user,
        width=int(info.width),
        height=int(info.height),
    )


# -- the transaction ------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    """What an upload (or restore) did.

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
    """A change of the user list failed; :attr:`outcome` says what state the camera is in.

    Attributes
    ----------
    outcome : {"unchanged", "restored", "unknown"}
    backup : CameraBackup
        The lists from before the change: restore them from here when ``unknown``.
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
    if not len(a) or not len(b):
        return a
    keys_a = a[:, 0].astype(np.uint32) << 16 | a[:, 1]
    keys_b = b[:, 0].astype(np.uint32) << 16 | b[:, 1]
    return a[~np.isin(keys_a, keys_b)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def upload_user_list(
    camera: Camera,
    coords: Any,
    *,
    replace: bool = False,
    backup_writer: BackupWriter | None = None,
    progress: ProgressCallback | None = None,
) -> UploadResult:
    """Upload defects to the camera's user list as one transaction.

    This writes what it is given (after checking it lies on the sensor); judge a list
    with :func:`plan_upload` first and upload ``plan.to_upload``.

    Parameters
    ----------
    camera : Camera
        An opened camera.
    coords : DefectList or array-like
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
    with _nothing_written_if_failing():
        backup = take_backup(camera)
    if len(requested):
        outside = (requested[:, 0] >= backup.height) | (requested[:, 1] >= backup.width)
        if outside.any():
            shown = ", ".join(f"({r}, {c})" for r, c in requested[outside][:5].tolist())
            raise InputError(
                f"{int(outside.sum())} entries lie outside the {backup.width} x {backup.height} "
                f"sensor of camera {backup.serial}: {shown}; nothing was written"
            )
    old_user = _coords(backup.user)
    target = requested if replace else merge_coords(old_user, requested)
    _check_capacity(camera, len(target), backup.serial)
    written_backup = backup_writer(backup) if backup_writer is not None else None
    read_back = _change(
        camera,
        backup,
        written_backup,
        "restore to" if replace else "upload to",
        lambda: camera.write_user_list(target, progress=progress),
        target,
    )
    factory = _coords(backup.factory)
    return UploadResult(
        backup=backup,
        user_list=read_back,
        added=_difference(read_back, old_user),
        removed=_difference(old_user, read_back),
        already_in_factory=_difference(requested, _difference(requested, factory)),
        backup_written=written_backup,
    )


def _check_capacity(camera: Camera, entries: int, serial: str) -> None:
    """Refuse a user list larger than the camera holds, before any backup or write."""
    transfer = getattr(camera, "transfer", None)
    capacity = transfer.capacity() if transfer is not None else None
    if capacity is not None and entries > capacity:
        raise InputError(
            f"the user list would have {entries} entries; camera {serial} holds at most "
            f"{capacity}; nothing was written"
        )


def _change(
    camera: Camera,
    backup: CameraBackup,
    written_backup: Any,
    what: str,
    action: Callable[[], None],
    expected: np.ndarray,
) -> np.ndarray:
    """Run ``action``, read the user list back and compare; recover on any failure."""
    try:
        action()
        read_back = camera.read_user_list()
        if not _same(read_back, expected):
            raise CameraError(
                f"verification failed: the camera holds {len(read_back)} user entries, "
                f"{len(expected)} were written ({len(_difference(expected, read_back))} "
                f"missing, {len(_difference(read_back, expected))} unexpected)"
            )
    except (Exception, KeyboardInterrupt) as error:
        outcome, detail = _recover(camera, backup)
        if isinstance(error, InputError) and outcome == "unchanged":
            raise  # a value the camera refused before storing anything: the user's to fix
        cause = str(error) or type(error).__name__
        where = f" The backup was kept: {written_backup}." if written_backup is not None else ""
        raise UploadFailedError(
            f"{what} camera {backup.serial} failed: {cause}. {detail}{where}",
            outcome=outcome,
            backup=backup,
            backup_written=written_backup,
        ) from error
    return read_back


def _recover(camera: Camera, backup: CameraBackup) -> tuple[Outcome, str]:
    """Put the camera back to ``backup.user``; say what happened."""
    before = _coords(backup.user)
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
    if _same(current, before):
        return "unchanged", "The camera is unchanged (its user list is as before)."
    try:
        camera.write_user_list(before)
        if _same(camera.read_user_list(), before):
            return "restored", (
                "The camera's user list had been changed and was put back as it was, from "
                f"the automatic backup ({len(before)} user entries)."
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
    """Make the camera's user list the backup's, safely (the current lists are backed up
    first with ``backup_writer``).

    As the vendor tool does, only the sensor size must match the camera's (not the serial,
    not the model): :meth:`CameraBackup.check_sensor` raises :class:`InputError` otherwise.
    The factory list is the camera's own and is not written. When the camera holds the
    backup's user list already, nothing is backed up or written (``result.changed`` is
    false, ``result.backup_written`` is ``None``).
    """
    with _nothing_written_if_failing():
        info = camera.info()
        backup.check_sensor(info.width, info.height)
        current = camera.read_user_list()
    wanted = normalize_coords(backup.user)
    if _same(current, wanted):
        # Nothing to change: no backup, nothing sent (``result.changed`` is false).
        nothing = np.empty((0, 2), dtype=np.uint16)
        return UploadResult(
            backup=backup, user_list=current, added=nothing, removed=nothing,
            already_in_factory=nothing,
        )  # fmt: skip
    return upload_user_list(
        camera, backup.user, replace=True, backup_writer=backup_writer, progress=progress
    )


@dataclass(frozen=True)
class RevertResult:
    """What a revert did: the lists before it, and where they were saved."""

    backup: CameraBackup
    removed: np.ndarray
    backup_written: Any = None


def revert_user_list(camera: Camera, *, backup_writer: BackupWriter | None = None) -> RevertResult:
    """Clear the user list (back to the factory list) after backing it up, and verify.

    An empty user list is left alone (no backup, nothing sent). On failure:
    :class:`UploadFailedError` with the camera's state as ``outcome``.
    """
    with _nothing_written_if_failing():
        backup = take_backup(camera)
    before = _coords(backup.user)
    if not len(before):
        return RevertResult(backup, before, None)
    written_backup = backup_writer(backup) if backup_writer is not None else None
    _change(
        camera,
        backup,
        written_backup,
        "revert of",
        camera.revert,
        np.empty((0, 2), dtype=np.uint16),
    )
    return RevertResult(backup, before, written_backup)
