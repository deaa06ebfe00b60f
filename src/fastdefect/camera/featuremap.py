"""Declarative GenICam feature maps, one per camera family.

Allied Vision does not publish the GenICam features through which the Prosilica GT
cameras with PYTHON sensors (GT4090, GT4096, GT5120) transfer their defect-pixel lists.
The map below is our best reading of the vendor's tool ("Defective Pixel List
Management Tool": factory and user lists, upload, revert, ``DefectMaskEnable``) in the
selector / index / entry / commit style GenICam uses for tables. **It must be confirmed
on real hardware** (see ``docs/camera.md``); until then :attr:`confirmed` is ``False``
and every transfer error names the features it looked for.

Only this module knows feature names; the transfer code
(:mod:`fastdefect.camera.transfer`) reads them from a :class:`DefectListFeatureMap`.
Fixing the map for a real camera is a change of data here, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FEATURE_MAPS",
    "GT_PYTHON",
    "AcquisitionFeatures",
    "DefectListFeatureMap",
    "feature_map_for",
]


@dataclass(frozen=True)
class AcquisitionFeatures:
    """Names of the acquisition features, each with fallbacks tried in order."""

    exposure_us: tuple[str, ...] = ("ExposureTime", "ExposureTimeAbs")
    gain: tuple[str, ...] = ("Gain", "GainAbs")
    temperature_c: tuple[str, ...] = ("DeviceTemperature",)
    pixel_format: str = "PixelFormat"
    sensor_width: tuple[str, ...] = ("SensorWidth", "WidthMax", "Width")
    sensor_height: tuple[str, ...] = ("SensorHeight", "HeightMax", "Height")
    vendor: tuple[str, ...] = ("DeviceVendorName",)
    model: tuple[str, ...] = ("DeviceModelName",)
    serial: tuple[str, ...] = ("DeviceSerialNumber", "DeviceID")
    firmware: tuple[str, ...] = ("DeviceFirmwareVersion",)


@dataclass(frozen=True)
class DefectListFeatureMap:
    """GenICam features that transfer defect-pixel lists on one camera family.

    Transfer protocol (what :class:`~fastdefect.camera.transfer.DefectListTransfer` does):

    * read a list: ``selector = factory|user``; ``n = size``; for ``i`` in ``0..n-1``:
      ``index = i``, read ``row`` and ``column``;
    * write the user list: ``selector = user``; ``size = n`` (starts a staged list);
      for each entry: ``index = i``, ``row = r``, ``column = c``; then execute ``commit``,
      which makes the staged list the camera's user list (and stores it);
    * revert: execute ``revert`` (user list cleared, factory list alone);
    * masking: the boolean ``mask_enable``.

    Attributes
    ----------
    family : str
        Human name of the camera family.
    models : tuple of str
        Model-name prefixes this map applies to.
    confirmed : bool
        ``True`` only once the names were checked against a real camera's XML.
    max_size : str or None
        Optional feature giving the user list's capacity.
    """

    family: str
    models: tuple[str, ...]
    mask_enable: str = "DefectMaskEnable"
    selector: str = "DefectPixelListSelector"
    selector_factory: str = "Factory"
    selector_user: str = "User"
    size: str = "DefectPixelListSize"
    index: str = "DefectPixelListIndex"
    row: str = "DefectPixelListEntryRow"
    column: str = "DefectPixelListEntryColumn"
    commit: str = "DefectPixelListCommit"
    revert: str = "DefectPixelListRevert"
    max_size: str | None = "DefectPixelListMaxSize"
    confirmed: bool = False
    acquisition: AcquisitionFeatures = AcquisitionFeatures()

    @property
    def transfer_features(self) -> tuple[str, ...]:
        """Features every list operation needs (the optional ``max_size`` excluded)."""
        return (
            self.selector,
            self.size,
            self.index,
            self.row,
            self.column,
            self.commit,
            self.revert,
        )

    @property
    def selector_entries(self) -> tuple[str, ...]:
        return (self.selector_factory, self.selector_user)


#: Prosilica GT with ON Semiconductor PYTHON sensors. Unconfirmed: see the module docstring.
GT_PYTHON = DefectListFeatureMap(
    family="Prosilica GT (PYTHON sensors)",
    models=("GT4090", "GT4096", "GT5120"),
)

#: Every known map; the first whose model prefix matches wins.
FEATURE_MAPS: tuple[DefectListFeatureMap, ...] = (GT_PYTHON,)


def feature_map_for(model: str | None) -> DefectListFeatureMap:
    """The feature map for a camera model name; :data:`GT_PYTHON` when none matches.

    Matching ignores case, spaces and a ``Prosilica``/``Allied Vision`` prefix, so
    ``"Prosilica GT5120"`` and ``"GT5120NIR"`` both find the GT map. An unknown model
    gets the GT map too: its missing features then say plainly what is not there.
    """
    key = "".join((model or "").split()).upper()
    key = key.removeprefix("ALLIEDVISION").removeprefix("PROSILICA")
    for feature_map in FEATURE_MAPS:
        if any(key.startswith(prefix.upper()) for prefix in feature_map.models):
            return feature_map
    return GT_PYTHON
