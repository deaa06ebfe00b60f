"""Writing output files safely: atomically, and never over an input by accident.

Every file fastdefect writes goes through :func:`atomic_output`: the content is written
to a temporary file in the destination directory and renamed into place only when it is
complete, so an interrupted run leaves either the old file or the new one, never half of
one. An existing destination is refused unless ``overwrite=True``; ``backup=True`` keeps
the previous content as ``NAME.bak`` (used by ``--in-place`` edits).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, OutputExistsError

__all__ = ["atomic_output", "check_output_path", "refuse_input_as_output"]


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Validate an output path before any work is done; return it as a :class:`Path`.

    Raises :class:`OutputExistsError` when it exists and ``overwrite`` is false, and
    :class:`InputError` when its directory does not exist or it names a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name for the output")
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: directory {parent} does not exist")
    return path


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

    Examples
    --------
    >>> with atomic_output("out.csv") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("row,column\\n")
    """
    path = check_output_path(path, overwrite=overwrite or backup)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if backup and path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        # mkstemp creates files readable by the owner only; give the output normal permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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
