"""The sensor's temporal noise model (EMVA 1288 photon transfer), estimated from the stacks.

A pixel's temporal variance is what its own mean predicts::

    variance = read_noise**2 + K * (mean - black_level) + 1/12

with ``K`` the conversion gain in DN per electron (shot noise: the variance of a
Poisson count equals its mean, in electrons) and 1/12 DN² the quantisation noise. A
pixel in an amp-glow corner, under vignetting, or a warm pixel is noisier only because
its signal is higher; detection judges each pixel against this prediction, never
against one figure for the whole sensor.

``K`` is the slope of variance against mean over the pixels of the dark and bright
stacks (the standard's photon-transfer method): one robust (median) point per stack and
colour plane, and a least-squares line through them. With two or more dark exposures
the black level and the read noise are the dark level and the dark temporal noise,
each extrapolated to zero exposure; with one dark exposure the dark level stands in for
the black level and the "read noise" is the dark temporal noise at that exposure
(dark-current shot noise included). Without a bright stack ``K`` cannot be measured:
then a pixel's noise is judged against the median noise of its same-colour neighbours
(:func:`local_variance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .kernels.variance import local_variance_at

__all__ = [
    "QUANTISATION_VARIANCE",
    "NoiseModel",
    "TransferPoint",
    "chi2_median_ratio",
    "chi2_upper_ratio",
    "estimate_noise_model",
    "local_variance",
]

#: Variance of the rounding to integer DN (uniform over one DN).
QUANTISATION_VARIANCE = 1.0 / 12.0
#: Standard normal quantile of the per-pixel false-alarm probability (1e-8: below one
#: chance exceedance per 100 megapixels).
_Z_FALSE_ALARM = 5.61


def chi2_median_ratio(dof: int) -> float:
    """``median(chi2(dof)) / dof`` (Wilson–Hilferty): the median sample variance of Gaussian
    noise over ``dof + 1`` frames is this fraction of the true variance."""
    return (1 - 2 / (9 * dof)) ** 3


def chi2_upper_ratio(dof: int, z: float = _Z_FALSE_ALARM) -> float:
    """``chi2(dof)`` upper quantile at standard-normal ``z``, over ``dof`` (Wilson–Hilferty).

    A sample variance over ``dof + 1`` frames exceeds the true variance by this factor
    with probability about 1e-8 (for the default ``z``).
    """
    return (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


@dataclass(frozen=True)
class TransferPoint:
    """One photon-transfer point: robust mean and temporal variance of a stack's plane."""

    role: str
    plane: int
    exposure_us: float | None
    mean: float  # DN
    variance: float  # DN², corrected for the bias of a median of sample variances
    pixels: int


@dataclass(frozen=True)
class NoiseModel:
    """Temporal noise predicted from a pixel's mean.

    Attributes
    ----------
    conversion_gain : float or None
        K in DN per electron; None when it could not be measured (no bright stack).
    read_noise_dn : float
        Temporal noise at the black level, DN (see ``method``).
    black_level : float
        DN.
    method : str
        ``"photon_transfer"`` (K measured; black level and read noise extrapolated to
        zero exposure from several dark exposures), ``"photon_transfer_one_dark"`` (K
        measured; the one dark stack's level and noise stand in for black level and read
        noise, so the read noise includes the dark-current shot noise) or ``"local"``
        (no K: noise judged against the same-colour neighbourhood).
    points : tuple of TransferPoint
        The measurements the model was fitted to.
    """

    conversion_gain: float | None
    read_noise_dn: float
    black_level: float
    method: str
    points: tuple[TransferPoint, ...] = ()

    @property
    def read_noise_e(self) -> float | None:
        """Read noise in electrons (None without K)."""
        if self.conversion_gain is None:
            return None
        return self.read_noise_dn / self.conversion_gain

    def predicted_variance(self, mean: np.ndarray | float) -> np.ndarray:
        """Temporal variance (DN²) of a pixel of mean ``mean`` (DN); needs K."""
        if self.conversion_gain is None:
            raise ValueError("the noise model has no conversion gain (no bright stack)")
        signal = np.maximum(np.asarray(mean, np.float64) - self.black_level, 0.0)
        return self.read_noise_dn**2 + QUANTISATION_VARIANCE + self.conversion_gain * signal

    def as_dict(self) -> dict[str, object]:
        """JSON-able summary (what ``detect --json`` and the list metadata record)."""
        return {
            "method": self.method,
            "conversion_gain_dn_per_e": self.conversion_gain,
            "read_noise_dn": self.read_noise_dn,
            "read_noise_e": self.read_noise_e,
            "black_level_dn": self.black_level,
            "points": [
                {
                    "role": p.role,
                    "plane": p.plane,
                    "exposure_us": p.exposure_us,
                    "mean_dn": p.mean,
                    "variance_dn2": p.variance,
                    "pixels": p.pixels,
                }
                for p in self.points
            ],
        }


def transfer_points(
    role: str,
    exposure_us: float | None,
    means: np.ndarray,
    stds: np.ndarray,
    planes: np.ndarray,
    n_frames: int,
) -> list[TransferPoint]:
    """Robust photon-transfer points of one stack, one per colour plane.

    ``means``, ``stds`` and ``planes`` are of a sample of pixels. Defects are left out
    by level (beyond 5 robust sigmas of the plane's levels); the median of the sample
    variances is divided by the median of ``chi2(n - 1) / (n - 1)`` so it estimates the
    variance itself, not its median.
    """
    if n_frames < 3:
        return []
    points = []
    for plane in np.unique(planes):
        here = planes == plane
        level, variance = means[here], stds[here].astype(np.float64) ** 2
        centre = float(np.median(level))
        spread = 1.4826 * float(np.median(np.abs(level - centre)))
        typical = np.abs(level - centre) <= 5 * spread + 0.5
        if typical.sum() < 100:
            continue
        points.append(
            TransferPoint(
                role=role,
                plane=int(plane),
                exposure_us=exposure_us,
                mean=float(np.median(level[typical])),
                variance=float(np.median(variance[typical])) / chi2_median_ratio(n_frames - 1),
                pixels=int(typical.sum()),
            )
        )
    return points


def estimate_noise_model(points: Sequence[TransferPoint]) -> NoiseModel | None:
    """Fit :class:`NoiseModel` to photon-transfer points (None without a dark or bright point).

    K is the least-squares slope of variance against mean over the dark and bright
    points. It is only measured when the bright points sit clearly above the dark ones
    (by more than 10 times the dark variance, in DN), or, without a bright stack, from
    two or more dark exposures whose variances differ by more than 20 % (the dark
    current's shot noise; method ``"dark_exposures"``); otherwise the method is
    ``"local"``.
    """
    dark = [p for p in points if p.role == "dark"]
    bright = [p for p in points if p.role == "bright"]
    if not dark and not bright:
        return None
    lowest = min(dark or bright, key=lambda p: p.mean)
    local = NoiseModel(
        conversion_gain=None,
        read_noise_dn=math.sqrt(max(lowest.variance - QUANTISATION_VARIANCE, 0.0)),
        black_level=lowest.mean,
        method="local",
        points=tuple(points),
    )
    exposures = {p.exposure_us for p in dark}
    several_darks = len(exposures) >= 2 and None not in exposures
    fit = dark + bright
    mean = np.array([p.mean for p in fit])
    variance = np.array([p.variance for p in fit])
    if bright:
        usable = bool(dark) and mean.max() - mean.min() >= 10 * max(lowest.variance, 1.0)
    else:  # dark only: the dark current's shot noise must show across the exposures
        usable = several_darks and variance.max() - variance.min() > 0.2 * variance.min()
    if not usable:
        return local
    slope = float(np.polyfit(mean, variance, 1)[0])
    if not slope > 0:
        return local
    if several_darks:
        # Black level and read noise: the dark level and the dark variance, each
        # extrapolated to zero exposure (least-squares lines against exposure).
        seconds = np.array([p.exposure_us for p in dark]) * 1e-6
        black = float(np.polyfit(seconds, [p.mean for p in dark], 1)[1])
        at_zero = float(np.polyfit(seconds, [p.variance for p in dark], 1)[1])
        read_variance = at_zero - QUANTISATION_VARIANCE
        method = "photon_transfer" if bright else "dark_exposures"
    else:
        black = lowest.mean
        read_variance = lowest.variance - QUANTISATION_VARIANCE
        method = "photon_transfer_one_dark"
    return NoiseModel(
        conversion_gain=slope,
        read_noise_dn=math.sqrt(max(read_variance, 0.0)),
        black_level=black,
        method=method,
        points=tuple(points),
    )


def local_variance(
    std: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
    *,
    step: int = 1,
    radius: int = 5,
    n_frames: int,
) -> np.ndarray:
    """Typical temporal variance around each given pixel, from the noise map ``std``.

    The median of the sample variances of the same-colour neighbours (``step`` 2 on a
    Bayer sensor) in the ``(2 radius + 1)²`` block of the pixel's colour plane, the
    pixel itself excluded and pixels outside the image left out, divided by the median
    of ``chi2(n - 1) / (n - 1)``: an estimate of the variance a normal pixel has there.
    """
    out = np.empty(np.shape(rows), np.float64)
    local_variance_at(
        std, np.asarray(rows, np.int64), np.asarray(columns, np.int64), step, radius, out
    )
    return out / chi2_median_ratio(max(n_frames - 1, 1))
