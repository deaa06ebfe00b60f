"""Numba kernels: pure functions on arrays, no I/O, no Python objects.

Every kernel is compiled with ``cache=True`` so only the very first run of a command
compiles. Numba caches beside the source (``__pycache__``) or, when the package is
installed read-only, in the user's cache directory. With neither writable (a read-only
install run by a user without a home directory) numba refuses to cache at all and the
kernels fail to load; :func:`_ensure_cache_directory` points it to a per-user temporary
directory in that case, before any kernel is defined.

Numba loads what it finds in its cache, and a cache in a shared temporary directory
could be planted by another user. The per-user directory is therefore created with mode
0700 and used only when it is a real directory (not a symlink) owned by this user and
writable by nobody else; otherwise a fresh private directory is used for this run
(nothing cached across runs, nothing foreign loaded).

Compiling takes a while on a first run (about 18 s of CPU for ``fastdefect demo``), so
:func:`_announce_compilation` tells the user once, on stderr, when the first kernel
compiles; runs that find everything in the cache print nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path

from .. import _process


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
    shared = os.path.join(tempfile.gettempdir(), f"fastdefect-numba-{uid}")
    config.CACHE_DIR = _private_directory(shared)


def _private_directory(path: str) -> str:
    """``path`` if it is (or can be made) a directory only this user controls, else a
    fresh private temporary directory, removed when the process ends."""
    if not hasattr(os, "getuid"):  # Windows: per-user temp directories already
        os.makedirs(path, exist_ok=True)
        return path
    with contextlib.suppress(FileExistsError, OSError):
        os.mkdir(path, 0o700)
    try:
        info = os.lstat(path)
    except OSError:
        info = None
    if (
        info is not None
        and stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & 0o022
    ):
        return path
    fresh = tempfile.mkdtemp(prefix="fastdefect-numba-private-")
    atexit.register(shutil.rmtree, fresh, ignore_errors=True)
    return fresh


_announced = threading.Event()

COMPILE_NOTICE = (
    "fastdefect: compiling numba kernels for first use (once; they are cached for later runs)"
)


def _announce_compilation() -> None:
    """Print :data:`COMPILE_NOTICE` to stderr when a fastdefect kernel first compiles.

    Numba fires ``numba:compile`` only on a cache miss, so a run that loads every kernel
    from the cache says nothing.
    """
    from numba.core import event

    class _Notice(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
            if module.startswith(__name__) and not _announced.is_set():
                _announced.set()
                print(COMPILE_NOTICE, file=sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            pass

    event.register("numba:compile", _Notice())


def _skip_numba_blas_probe() -> None:
    """Load numba's array functions without their probe for a BLAS.

    The first kernel a process compiles or loads from the cache imports
    ``numba.np.arraymath``, whose import probes for a BLAS by importing
    ``scipy.linalg``: 0.2 s when SciPy is installed, a tenth of a ``fastdefect detect``
    run. Only numba's ``np.convolve``/``np.correlate`` on floats use what it finds,
    and no kernel here calls them. The probe is made to fail (it then uses numba's own
    loops), only in the command line's process (:mod:`fastdefect._process`) and only
    while SciPy's linear algebra is not loaded: user code sharing a process with the
    library keeps numba's behaviour.
    """
    blas = "scipy.linalg.cython_blas"
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules[blas] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    except ImportError:
        pass  # another numba layout: its first kernel then probes as usual
    finally:
        del sys.modules[blas]


_ensure_cache_directory()
_announce_compilation()
if _process.owned:
    _skip_numba_blas_probe()
