"""Run a serial ``nogil`` kernel over index ranges in a few threads.

Kernels written with ``parallel=True`` cost numba about 1.5 s more to compile each
than the same loop written serially, which made a first run spend most of its time
compiling. So kernels loop over a ``[start, stop)`` range of rows (or bands, tiles,
chunks) serially, release the GIL, and :func:`run_split` runs them over the whole range
in a small shared thread pool: the same speed on this machine, a fraction of the compile
time, and identical results (each index is computed by the same code).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from numba.core import config as numba_config

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_limit: int | None = None


def n_threads() -> int:
    """Threads kernels use: numba's setting (``NUMBA_NUM_THREADS``, default: the CPUs),
    or fewer after :func:`limit_threads`."""
    configured = max(1, int(numba_config.NUMBA_NUM_THREADS))
    return configured if _limit is None else max(1, min(_limit, configured))


def limit_threads(threads: int | None) -> int:
    """Use at most ``threads`` threads in this process from now on (``None``: numba's
    setting); returns the count in effect.

    For a process that shares the machine by design: a Dask worker given one thread must
    not run kernels on two (``fastdefect batch --threads-per-worker``).
    """
    global _limit
    _limit = None if threads is None else max(1, int(threads))
    return n_threads()


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        size = n_threads()
        if _pool is None or _pool._max_workers != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(size, thread_name_prefix="fastdefect-kernel")
        return _pool


def run_split(kernel: Callable[..., object], n: int, *args: object, grain: int = 1) -> None:
    """Call ``kernel(*args, start, stop)`` on pieces of ``range(n)``, in parallel.

    Pieces are multiples of ``grain`` (but the last) and about four per thread, so an
    uneven piece does not leave a thread idle. Exceptions propagate.
    """
    threads = n_threads()
    if n <= 0:
        return
    pieces = min(-(-n // max(grain, 1)), 4 * threads)
    if (
        threads == 1
        or pieces <= 1
        or threading.current_thread().name.startswith("fastdefect-kernel")
    ):
        kernel(*args, 0, n)
        return
    step = -(-n // pieces)
    step = -(-step // grain) * grain
    futures = [
        _shared_pool().submit(kernel, *args, start, min(start + step, n))
        for start in range(0, n, step)
    ]
    for future in futures:
        future.result()
