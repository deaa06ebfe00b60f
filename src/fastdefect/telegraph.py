"""Random-telegraph (blinking) evidence from the frame histories of a few pixels.

A random-telegraph-signal (RTS) pixel jumps between two or more discrete levels from
frame to frame; its temporal noise is high, but unlike a pixel with broad noise its
values cluster. Once detection has found the noisy pixels, one more pass over the stack
keeps only those pixels' values (``frames x pixels``, never the whole stack) and counts
per pixel:

* **levels**: clusters of its sorted values separated by gaps wider than
  ``gap_sigmas`` times the noise the pixel would have without blinking;
* **amplitude**: mean of the highest cluster minus mean of the lowest (DN);
* **switches**: frames whose cluster differs from the previous frame's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import FrameStack

__all__ = ["TelegraphEvidence", "frame_histories", "telegraph_evidence"]

#: A gap between consecutive sorted values wider than this many sigmas of the pixel's
#: expected noise separates two levels (Gaussian samples practically never leave one).
GAP_SIGMAS = 5.0


@dataclass(frozen=True)
class TelegraphEvidence:
    """Per pixel (flat indices ``index``): levels, amplitude (DN) and switches."""

    index: np.ndarray
    levels: np.ndarray
    amplitude: np.ndarray
    switches: np.ndarray


def frame_histories(stack: FrameStack, index: np.ndarray) -> np.ndarray:
    """The values of the pixels at flat indices ``index`` in every frame, ``(frames, n)``.

    One streaming pass over ``stack``: memory is one frame plus the histories.
    """
    index = np.asarray(index, np.int64)
    out = np.empty((stack.n_frames, index.size), np.float32)
    # The range was checked on the first pass; this one only gathers.
    for number, frame in enumerate(stack.frames(check_range=False)):
        out[number] = frame.reshape(-1)[index]
    return out


def telegraph_evidence(
    histories: np.ndarray,
    noise: np.ndarray,
    index: np.ndarray,
    *,
    gap_sigmas: float = GAP_SIGMAS,
    chunk: int = 4096,
) -> TelegraphEvidence:
    """Levels, amplitude and switches of each pixel's history (columns of ``histories``).

    Parameters
    ----------
    histories : ndarray, (frames, pixels)
        From :func:`frame_histories`.
    noise : ndarray, (pixels,)
        Temporal std each pixel would have without blinking (DN), e.g. the noise
        model's prediction.
    index : ndarray
        The pixels' flat indices (kept in the result).
    """
    n_pixels = histories.shape[1]
    levels = np.ones(n_pixels, np.int64)
    amplitude = np.zeros(n_pixels)
    switches = np.zeros(n_pixels, np.int64)
    for start in range(0, n_pixels, chunk):
        values = histories[:, start : start + chunk].astype(np.float64)
        ordered = np.sort(values, axis=0)
        gaps = np.diff(ordered, axis=0)  # (frames - 1, pixels)
        wide = gaps > gap_sigmas * np.maximum(noise[start : start + chunk], 1e-6)
        middles = (ordered[:-1] + ordered[1:]) / 2
        # Cluster of each frame: how many wide gaps lie below its value.
        label = ((values[:, None, :] > middles[None, :, :]) & wide[None, :, :]).sum(axis=1)
        top = label.max(axis=0)
        levels[start : start + chunk] = top + 1
        low_mean = np.where(label == 0, values, 0).sum(axis=0) / np.maximum(
            (label == 0).sum(axis=0), 1
        )
        is_top = label == top[None, :]
        high_mean = np.where(is_top, values, 0).sum(axis=0) / np.maximum(is_top.sum(axis=0), 1)
        amplitude[start : start + chunk] = high_mean - low_mean
        switches[start : start + chunk] = (np.diff(label, axis=0) != 0).sum(axis=0)
    return TelegraphEvidence(np.asarray(index, np.int64), levels, amplitude, switches)
