"""Defaults the API and the command line share: the datasheets' thresholds, and more.

One place for the defaults that both the API (:class:`fastdefect.detection.DetectionConfig`)
and the command line (every ``--threshold`` / ``--line-threshold`` option) use. Kept
in a module of its own that imports nothing, so the command line can show them
without loading numba.
"""

from __future__ import annotations

__all__ = ["DEFAULT_CHUNK_FRAMES", "DEFAULT_LINE_THRESHOLD", "DEFAULT_PIXEL_THRESHOLD"]

#: A pixel is defective when it deviates from its local background by more than this
#: (102 LSB at 10 bit, scaled to the data's bit depth).
DEFAULT_PIXEL_THRESHOLD = "102lsb10"
#: A column (row) is bad when its mean deviates from its neighbours' median by more.
DEFAULT_LINE_THRESHOLD = "48lsb10"
#: ``fastdefect batch`` sums stacks longer than this in frame chunks across its workers.
DEFAULT_CHUNK_FRAMES = 512
