"""Choices for the whole process, which only the command line may make: it owns its
process, while the library shares one with its caller's code.

:func:`fastdefect.cli.main` calls :func:`own`; :mod:`fastdefect.kernels` then skips
numba's BLAS probe (see ``kernels._skip_numba_blas_probe``). This module imports
nothing: it is read before numpy and numba load.
"""

from __future__ import annotations

owned = False


def own() -> None:
    """Mark this process as the command line's."""
    global owned
    owned = True
