"""Numba kernels: pure functions on arrays, no I/O, no Python objects.

Every kernel is compiled with ``cache=True`` so only the very first run of a command
compiles. Numba caches beside the source (``__pycache__``) or, when the package is
installed read-only, in the user's cache directory. With neither writable (a read-only
install run by a user without a home directory) numba refuses to cache at all and the
kernels fail to load; :func:`_ensure_cache_directory` points it to a per-user temporary
directory in that case, before any kernel is defined.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(directory: str | os.PathLike) -> bool:
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError:
        return False
    return True


def _ensure_cache_directory() -> None:
    from numba.core import config
    from numba.misc.appdirs import AppDirs

    if config.CACHE_DIR:
        return  # NUMBA_CACHE_DIR was chosen by the user
    beside_source = Path(__file__).parent / "__pycache__"
    user_cache = AppDirs(appname="numba", appauthor=False).user_cache_dir
    if _writable(beside_source) or _writable(user_cache):
        return  # numba's own locators will find a place
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    config.CACHE_DIR = os.path.join(tempfile.gettempdir(), f"fastdefect-numba-{uid}")


_ensure_cache_directory()
