"""Sensor geometry: size, bit depth and colour filter array.

A :class:`SensorSpec` is what every other part needs to know about a sensor. Presets
exist for the ON Semiconductor PYTHON sensors of the Allied Vision Prosilica GT cameras
and a generic sensor. Camera model names (``GT5120`` ...) map to a preset as a
*convenience*: the camera's own ``Width``/``Height`` features, or the size of the frames
you give, always win over a preset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .errors import InputError

__all__ = [
    "CFA_PATTERNS",
    "MODEL_PRESETS",
    "PRESETS",
    "SensorSpec",
    "lsb10_to_dn",
    "parse_cfa",
    "sensor_preset",
]

#: Bayer patterns, named by the colours of the top-left 2 x 2 block read row by row.
CFA_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")


def parse_cfa(pattern: str | None) -> str | None:
    """Normalise a CFA pattern name; ``None``, ``""`` and ``"mono"`` mean no CFA."""
    if pattern is None:
        return None
    text = pattern.strip().upper()
    if text in ("", "MONO", "NONE"):
        return None
    if text not in CFA_PATTERNS:
        raise InputError(
            f"unknown CFA pattern {pattern!r}; use one of {', '.join(CFA_PATTERNS)} or 'mono'"
        )
    return text


def lsb10_to_dn(value: float, bit_depth: int) -> float:
    """Scale a value stated in 10-bit LSB (the datasheets' unit) to DN at ``bit_depth``.

    >>> lsb10_to_dn(102, 12)
    408.0
    """
    return float(value) * 2.0 ** (bit_depth - 10)


@dataclass(frozen=True)
class SensorSpec:
    """Geometry and sampling of a sensor.

    Parameters
    ----------
    width, height : int
        Active pixels per row and rows.
    bit_depth : int
        Bits per sample delivered by the ADC (10, 12, 14 or 16; 8 for 8-bit data).
    cfa : str or None
        Bayer pattern (``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``) or ``None`` for mono.
    name : str
        Free-form label shown in reports.
    """

    width: int
    height: int
    bit_depth: int = 10
    cfa: str | None = None
    name: str = "generic"

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int | np.integer) and self.width > 0):
            raise InputError(f"sensor width must be a positive integer, got {self.width!r}")
        if not (isinstance(self.height, int | np.integer) and self.height > 0):
            raise InputError(f"sensor height must be a positive integer, got {self.height!r}")
        if self.width > 65536 or self.height > 65536:
            raise InputError(
                f"sensor size {self.width} x {self.height} exceeds 65536 pixels per side"
            )
        if not 1 <= int(self.bit_depth) <= 16:
            raise InputError(f"bit depth must be between 1 and 16, got {self.bit_depth!r}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "bit_depth", int(self.bit_depth))
        object.__setattr__(self, "cfa", parse_cfa(self.cfa))

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, the numpy shape of one frame."""
        return (self.height, self.width)

    @property
    def full_scale(self) -> int:
        """Largest value the ADC can deliver, ``2**bit_depth - 1``."""
        return (1 << self.bit_depth) - 1

    @property
    def dtype(self) -> np.dtype:
        """Smallest unsigned integer dtype holding the samples."""
        return np.dtype(np.uint8 if self.bit_depth <= 8 else np.uint16)

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names of the colour planes: ``("mono",)`` or e.g. ``("R", "G1", "G2", "B")``.

        The planes are ordered as the 2 x 2 block is read row by row, so plane ``k``
        holds the pixels with ``(row % 2) * 2 + column % 2 == k``.
        """
        if self.cfa is None:
            return ("mono",)
        names, greens = [], 0
        for letter in self.cfa:
            if letter == "G":
                greens += 1
                names.append(f"G{greens}")
            else:
                names.append(letter)
        return tuple(names)

    def with_size(self, width: int, height: int) -> SensorSpec:
        """The same sensor with another size (the camera or the frames said so)."""
        return replace(self, width=width, height=height)

    def scale_lsb10(self, value: float) -> float:
        """A value in 10-bit LSB expressed in DN at this sensor's bit depth."""
        return lsb10_to_dn(value, self.bit_depth)


#: Sensor presets. Sizes from the ON Semiconductor PYTHON datasheets (10-bit ADC).
PRESETS: dict[str, SensorSpec] = {
    "PYTHON25K": SensorSpec(5120, 5120, 10, None, "PYTHON 25K"),
    "PYTHON16K": SensorSpec(4096, 4096, 10, None, "PYTHON 16K"),
    "PYTHON12K": SensorSpec(4096, 3072, 10, None, "PYTHON 12K"),
    "GENERIC": SensorSpec(1024, 1024, 10, None, "generic"),
}

#: Camera models and the sensor they are known to carry. A convenience only: the
#: camera's own Width/Height features override it.
MODEL_PRESETS: dict[str, str] = {
    "GT5120": "PYTHON25K",
    "GT4096": "PYTHON16K",
    "GT4090": "PYTHON12K",
}


def sensor_preset(name: str) -> SensorSpec:
    """Return the preset for a sensor name (``PYTHON25K``) or a camera model (``GT5120``).

    Model names are matched leniently: ``"Prosilica GT5120"``, ``"gt5120c"`` and
    ``"GT5120NIR"`` all give the PYTHON 25K preset.
    """
    key = re.sub(r"[\s_\-]", "", name).upper()
    key = key.removeprefix("PROSILICA").removeprefix("ALLIEDVISION")
    if key in PRESETS:
        return PRESETS[key]
    for model, preset in MODEL_PRESETS.items():
        if key.startswith(model):
            return replace(PRESETS[preset], name=f"{model} ({PRESETS[preset].name})")
    known = sorted(PRESETS) + sorted(MODEL_PRESETS)
    raise InputError(f"unknown sensor or camera model {name!r}; known: {', '.join(known)}")
