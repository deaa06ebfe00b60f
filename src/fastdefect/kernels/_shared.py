"""What the median filter and the deviation kernels share.

* The work buffer of the generated networks (``_networks_median.py``,
  ``_networks_rank.py``): sorted rows of a tile of :data:`TILE_WIDTH` columns at
  compile-time constant offsets, :data:`ROWS_PER_STEP` output rows per network pass, and
  :func:`move_down`, which slides that ring of sorted rows.
* :func:`select`, the exact per-pixel selection of the other block sizes and of border
  pixels.

Numba does not notice a change of another file's global: after changing
:data:`TILE_WIDTH`, delete the kernels' numba cache (``__pycache__/*.nbi``, ``*.nbc``).
"""

from __future__ import annotations

from numba import njit

#: Columns per tile of the network kernels. The generated networks address the work
#: buffer in multiples of it, so it is a compile-time constant. 64 and 128 measure the
#: same for the deviation on uint16 and uint32 (32 is slower).
TILE_WIDTH = 128

#: Output rows computed together by one network pass.
ROWS_PER_STEP = 4


@njit(cache=True, nogil=True)
def move_down(work, shift, count):
    """``work[:count] = work[shift : shift + count]``, front to back (ranges may overlap)."""
    for i in range(count):
        work[i] = work[i + shift]


@njit(cache=True, nogil=True)
def select(values, k):
    """The ``k``-th smallest of ``values`` (0-based); reorders ``values``.

    Wirth's variant of Hoare's selection, correct with ties.
    """
    low = 0
    high = values.shape[0] - 1
    while low < high:
        pivot = values[k]
        i = low
        j = high
        while True:
            while values[i] < pivot:
                i += 1
            while pivot < values[j]:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
            if i > j:
                break
        if j < k:
            low = i
        if k < i:
            high = j
    return values[k]
