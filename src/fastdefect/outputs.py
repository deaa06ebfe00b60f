"""Writing output files safely: atomically, and never over an input by accident.

Every file fastdefect writes goes through :func:`atomic_output`: the content is written
to a temporary file in the destination directory and renamed into place only when it is
complete, so an interrupted run leaves either the old file or the new one, never half of
one. An existing destination is refused unless ``overwrite=True``; ``backup=True`` keeps
the previous content as ``NAME.bak`` (used by ``--in-place`` edits), itself written
atomically (a ``NAME.bak`` symlink is replaced, never followed).

Temporary files are named ``.NAME.HOST-PID-RANDOM.fastdefect-tmp`` (``NAME`` cut to 64
characters, so a legal 255-character name still fits). A killed process cannot remove
its own; the next write to the same destination removes those whose process, on this
host, is gone (:func:`remove_stale_temporaries`).

A failure of the file system (no permission, disk full, name too long, read-only) is an
:class:`~fastdefect.errors.OutputError` naming the file, exit code 2.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, OutputError, OutputExistsError

__all__ = [
    "TEMP_SUFFIX",
    "atomic_output",
    "check_output_path",
    "refuse_input_as_output",
    "remove_stale_temporaries",
    "temporary_name_prefix",
]

#: Every temporary file fastdefect creates ends with this.
TEMP_SUFFIX = ".fastdefect-tmp"
_NAME_CHARACTERS = 64


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:32] or "host"


def _stem(name: str) -> str:
    return f".{name[:_NAME_CHARACTERS]}."


def temporary_name_prefix(name: str) -> str:
    """Prefix of this process's temporary files for a destination named ``name``."""
    return f"{_stem(name)}{_host()}-{os.getpid()}-"


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # it exists (another user's) or we cannot tell: keep its file
    return False


def remove_stale_temporaries(directory: str | os.PathLike, name: str) -> list[Path]:
    """Remove temporary files for ``directory/name`` left by dead processes of this host.

    Only files named by :func:`temporary_name_prefix` are considered, and only those
    whose process id no longer runs on this host; a live writer's file is never touched.
    Returns the files removed.
    """
    directory = Path(directory)
    pattern = re.compile(
        re.escape(_stem(name)) + re.escape(_host()) + r"-([0-9]+)-[^/]*" + re.escape(TEMP_SUFFIX)
    )
    removed = []
    try:
        candidates = list(directory.glob(f"{_glob_escape(_stem(name))}*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match and int(match.group(1)) != os.getpid() and _process_gone(int(match.group(1))):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _glob_escape(text: str) -> str:
    """``text`` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Validate an output path before any work is done; return it as a :class:`Path`.

    Raises :class:`OutputExistsError` when it exists and ``overwrite`` is false, and
    :class:`InputError` when its directory does not exist or it names a directory.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a file name for the output")
        if path.exists() and not overwrite:
            raise OutputExistsError(path)
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"cannot write {path}: directory {parent} does not exist")
    except OSError as error:  # a name too long, a directory we may not look into
        raise _cannot_write(path, error) from error
    return path


def _ours(error: OSError, *paths: Path) -> bool:
    """Whether ``error`` is about writing one of ``paths`` (or names no file at all)."""
    return error.filename is None or os.fspath(error.filename) in {os.fspath(p) for p in paths}


def _cannot_write(path: Path, error: OSError) -> OutputError:
    return OutputError(f"cannot write {path}: {error.strerror or error}")


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    backup: bool = False,
) -> Iterator[Path]:
    """Yield a temporary path to write; move it to ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        Final destination.
    overwrite : bool
        Replace an existing file. Without it an existing file is an error.
    backup : bool
        When replacing, keep the old file as ``path + ".bak"``.

    Raises
    ------
    OutputError
        The file system refused (permission, disk full, ...); nothing is left behind.

    Examples
    --------
    >>> with atomic_output("out.csv") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("row,column\\n")
    """
    path = check_output_path(path, overwrite=overwrite or backup)
    directory = path.parent or Path(".")
    remove_stale_temporaries(directory, path.name)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=temporary_name_prefix(path.name), suffix=TEMP_SUFFIX, dir=directory
        )
    except OSError as error:
        raise _cannot_write(path, error) from error
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except OSError as error:
            if _ours(error, tmp, path):
                raise _cannot_write(path, error) from error
            raise
        try:
            if backup and path.exists():
                _copy_atomically(path, path.with_name(path.name + ".bak"))
            # mkstemp creates files readable by the owner only; give the output normal
            # permissions.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            if overwrite or backup:
                os.replace(tmp, path)
            else:
                _move_exclusively(tmp, path)
        except OSError as error:
            raise _cannot_write(path, error) from error
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _move_exclusively(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` unless ``path`` exists by now (another writer got there
    between the check and the move): a hard link fails instead of replacing a file."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError:  # a file system without hard links: the check above has to do
        os.replace(tmp, path)


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary file: a symlink at ``target`` is
    replaced by the copy, its own target is never written."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=temporary_name_prefix(target.name), suffix=TEMP_SUFFIX, dir=target.parent
    )
    os.close(fd)
    try:
        shutil.copy2(source, tmp_name)
        os.replace(tmp_name, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)


def refuse_input_as_output(
    output: str | os.PathLike, inputs: list[str | os.PathLike], *, hint: str = ""
) -> None:
    """Raise :class:`InputError` when ``output`` is one of ``inputs`` (the same file).

    Checked before any work, so a run that would write over its own input reads nothing.
    ``hint`` is appended to the message (e.g. how to edit a file in place instead).
    """
    output = Path(output)
    for path in inputs:
        try:
            same = output.resolve() == Path(path).resolve()
        except OSError:
            same = False
        if same:
            raise InputError(
                f"-o {output} is an input file; fastdefect never overwrites an input"
                + (f" {hint}" if hint else "")
            )
