"""``arri-xml``: an ARRI User Pixel Mask as XML (one file per camera).

.. warning::
   ARRI does not publish the schema the ARRI Reference Tool (ART) and the cameras
   expect. The layout below is ours, written to be clear and easy to adapt; it must be
   confirmed against a User Pixel Mask exported by ART before a file is installed in a
   camera. The reader is lenient so that it can take ART's files once we see them.

What we write (x = column, y = row, 0-based)::

    <?xml version='1.0' encoding='UTF-8'?>
    <UserPixelMask version="1" generator="fastdefect 0.1.0">
      <Camera serial="K1.0012345" model="ALEXA Mini LF" />
      <Sensor width="4448" height="3096" />
      <Offset x="0" y="0" />
      <Pixels count="2">
        <Pixel x="12" y="34" />
        <Pixel x="13" y="34" />
      </Pixels>
    </UserPixelMask>

* The camera serial is required on export: the camera refuses a mask whose serial does
  not match it.
* The optional X/Y offset (ART's "Save with Offset", for legacy cameras whose sensor
  timing shifts coordinates) is *added* on export: ``x = column + offset_x``,
  ``y = row + offset_y``. The applied offset is recorded in ``<Offset>`` and subtracted
  again on reading, so a round trip gives back the sensor coordinates.
* The sensor size is written when known and shifted coordinates must stay inside it.

The reader ignores case and namespaces and accepts: pixel elements named ``Pixel``,
``DefectPixel``, ``MaskedPixel``, ``UserPixel``, ``BadPixel``, ``Entry`` or ``Point``
with ``x``/``y`` (or ``column``/``row``, ``col``) attributes or child elements; a serial
in a ``serial``/``serialNumber``/``cameraSerial`` attribute or element; the sensor size
in ``width``/``height`` attributes of a ``Sensor``-like element or in ``Width``/``Height``
elements; an offset in an ``Offset`` element (``x``/``y``) or ``OffsetX``/``OffsetY``.
Parsing uses ``defusedxml``: entity declarations and external references are refused.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

import defusedxml.sax
from defusedxml.common import DefusedXmlException

from .. import __version__
from ..defects import MAX_COORDINATE, DefectList
from ..errors import FileFormatError, InputError
from ..outputs import atomic_output
from ._common import ListFile, ListFileError, Problem, ProblemList, digits_value, shown

NAME = "arri-xml"
PIXEL_ELEMENTS = {"pixel", "defectpixel", "maskedpixel", "userpixel", "badpixel", "entry", "point"}
SERIAL_NAMES = {"serial", "serialnumber", "cameraserial", "camera_serial", "cameraserialnumber"}
SENSOR_ELEMENTS = {"sensor", "sensorsize", "resolution", "imagesize"}
MASK_ELEMENTS = {"userpixelmask", "pixelmask", "usermask", "pixelmasking", "defectpixels"}
_X_NAMES = ("x", "column", "col")
_Y_NAMES = ("y", "row")
_INT = re.compile(r"[+-]?[0-9]+")
SCHEMA_NOTE = (
    "ARRI User Pixel Mask written by fastdefect. The schema ART expects is not public: "
    "confirm this layout against a mask exported by ART before installing it in a camera."
)


@dataclass
class _Element:
    name: str
    attrs: dict[str, str]
    line: int
    column: int
    text: list[str] = field(default_factory=list)
    children: dict[str, tuple[str, int, int]] = field(default_factory=dict)


class _Handler(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.locator = None
        self.stack: list[_Element] = []
        self.pixels: list[tuple[int, int, int, int]] = []  # x, y, line, column
        self.problems: list[Problem] = []  # a ProblemList once the file is known
        self.serial: str | None = None
        self.model: str | None = None
        self.width: int | None = None
        self.height: int | None = None
        self.offset: list[int | None] = [None, None]
        self.root: str | None = None
        self.recognised = False

    def setDocumentLocator(self, locator) -> None:
        self.locator = locator

    def position(self) -> tuple[int, int]:
        if self.locator is None:
            return 1, 1
        return self.locator.getLineNumber(), self.locator.getColumnNumber() + 1

    def startElement(self, name, attrs) -> None:
        local = name.rsplit(":", 1)[-1].lower()
        if self.root is None:
            self.root = local
        line, column = self.position()
        cleaned = {key.rsplit(":", 1)[-1].lower(): value for key, value in attrs.items()}
        self.stack.append(_Element(local, cleaned, line, column))

    def characters(self, content) -> None:
        if self.stack:
            self.stack[-1].text.append(content)

    def endElement(self, name) -> None:
        element = self.stack.pop()
        text = "".join(element.text).strip()
        if self.stack:
            self.stack[-1].children.setdefault(element.name, (text, element.line, element.column))
        self._handle(element, text)

    def _int(self, value: str, what: str, line: int, column: int) -> int | None:
        value = value.strip()
        if not _INT.fullmatch(value):
            self.problems.append(Problem(line, column, f"{what} {shown(value)} is not an integer"))
            return None
        # Every value we use lies within 0..65536 (offsets within +-65536); a longer
        # number is judged by its length, never converted (int() of thousands of digits).
        magnitude = digits_value(value.lstrip("+-"), 10**9)
        if magnitude is None:
            self.problems.append(Problem(line, column, f"{what} {shown(value)} is far too large"))
            return None
        return -magnitude if value.startswith("-") else magnitude

    def _pick(self, element: _Element, names: tuple[str, ...]) -> tuple[str, int, int] | None:
        for name in names:
            if name in element.attrs:
                return element.attrs[name], element.line, element.column
        for name in names:
            if name in element.children:
                return element.children[name]
        return None

    def _handle(self, element: _Element, text: str) -> None:
        name = element.name
        if name in MASK_ELEMENTS:
            self.recognised = True
        for key in SERIAL_NAMES:
            if key in element.attrs and self.serial is None:
                self.serial = element.attrs[key].strip()
                self.recognised = True
        if name in SERIAL_NAMES and self.serial is None and text:
            self.serial = text
            self.recognised = True
        if name == "camera" and "model" in element.attrs:
            self.model = element.attrs["model"].strip()
        elif name in ("model", "cameramodel") and text:
            self.model = text
        if name in PIXEL_ELEMENTS:
            self.recognised = True
            x = self._pick(element, _X_NAMES)
            y = self._pick(element, _Y_NAMES)
            if x is None or y is None:
                missing = "x (column)" if x is None else "y (row)"
                self.problems.append(
                    Problem(element.line, element.column, f"<{name}> has no {missing} coordinate")
                )
                return
            x_value = self._int(x[0], "x", element.line, element.column)
            y_value = self._int(y[0], "y", element.line, element.column)
            if x_value is not None and y_value is not None:
                self.pixels.append((x_value, y_value, element.line, element.column))
        elif name in SENSOR_ELEMENTS:
            for attribute in ("width", "height"):
                picked = self._pick(element, (attribute,))
                if picked is not None:
                    value = self._int(
                        picked[0], f"sensor {attribute}", element.line, element.column
                    )
                    setattr(self, attribute, value)
        elif name in ("width", "sensorwidth", "height", "sensorheight") and text:
            attribute = "width" if "width" in name else "height"
            if getattr(self, attribute) is None:
                setattr(
                    self,
                    attribute,
                    self._int(text, f"sensor {attribute}", element.line, element.column),
                )
        elif name == "offset":
            for index, names in enumerate((("x",), ("y",))):
                picked = self._pick(element, names)
                if picked is not None:
                    self.offset[index] = self._int(
                        picked[0], f"offset {names[0]}", element.line, element.column
                    )
        elif name in ("offsetx", "xoffset", "offsety", "yoffset") and text:
            index = 0 if "x" in name.replace("offset", "") else 1
            self.offset[index] = self._int(text, "offset", element.line, element.column)


def read(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    lenient: bool = False,
    on_warning=None,
    remove_offset: bool = True,
) -> ListFile:
    """Read an ARRI User Pixel Mask XML (leniently, safely).

    Parameters
    ----------
    remove_offset : bool
        Subtract the offset recorded in the file (the one applied on export), giving
        sensor coordinates. With False the file's coordinates are returned as they are.
    """
    del lenient, on_warning
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if not data.strip():
        raise FileFormatError(path, "file is empty; expected an ARRI User Pixel Mask XML")
    handler = _Handler()
    handler.problems = ProblemList(path)
    try:
        defusedxml.sax.parseString(
            data, handler, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except SAXParseException as exc:
        raise FileFormatError(
            path,
            f"not well-formed XML ({exc.getMessage()})",
            line=exc.getLineNumber(),
            column=exc.getColumnNumber() + 1,
        ) from exc
    except LookupError as exc:  # <?xml encoding="..."?> names an encoding Python lacks
        raise FileFormatError(
            path, f"the XML declaration names an unknown text encoding ({shown(str(exc))})"
        ) from exc
    except DefusedXmlException as exc:
        line, column = handler.position()
        name = getattr(exc, "name", None)
        what = f"the file declares the entity {name!r}" if name else "the file has a DTD"
        raise FileFormatError(
            path,
            f"refused for safety: {what} (entity declarations and external references "
            "are not allowed in a pixel mask)",
            line=line,
            column=column,
        ) from exc
    if not handler.recognised:
        raise FileFormatError(
            path,
            f"no User Pixel Mask content (root element <{handler.root}>, no pixel "
            "elements, no camera serial)",
        )
    problems = list(handler.problems)
    offset_x = handler.offset[0] or 0
    offset_y = handler.offset[1] or 0
    recorded = handler.offset != [None, None]
    shift_x, shift_y = (offset_x, offset_y) if (remove_offset and recorded) else (0, 0)
    rows, columns = [], []
    for x, y, line, column in handler.pixels:
        x_sensor, y_sensor = x - shift_x, y - shift_y
        for what, value, raw, shift in (("x", x_sensor, x, shift_x), ("y", y_sensor, y, shift_y)):
            if value < 0 or value > MAX_COORDINATE:
                detail = f" after removing the recorded offset {shift}" if shift else ""
                problems.append(
                    Problem(line, column, f"{what} {raw}{detail} is outside 0..{MAX_COORDINATE}")
                )
        rows.append(y_sensor)
        columns.append(x_sensor)
    for what, value in (("width", handler.width), ("height", handler.height)):
        if value is not None and not 0 < value <= MAX_COORDINATE + 1:
            problems.append(Problem(1, None, f"sensor {what} {value} is outside 1..65536"))
    if problems:
        raise ListFileError(path, problems)
    width, height = handler.width, handler.height
    if (width is None) != (height is None):
        width = height = None
    return ListFile(
        DefectList(rows, columns, source=source or path.name),
        NAME,
        path,
        width=width,
        height=height,
        serial=handler.serial,
        model=handler.model,
        offset=(offset_x, offset_y) if recorded else None,
    )


def format_text(
    defects: DefectList,
    *,
    serial: str | None,
    width: int | None = None,
    height: int | None = None,
    offset_x: int = 0,
    offset_y: int = 0,
    model: str | None = None,
) -> str:
    """The XML document for ``defects`` (see the module docstring)."""
    if serial is None or not str(serial).strip():
        raise InputError(
            "an ARRI User Pixel Mask needs the camera serial (--serial): the camera only "
            "installs a mask whose serial matches its own"
        )
    if (width is None) != (height is None):
        raise InputError("give both the sensor width and height, or neither")
    x = defects.columns.astype("int64") + int(offset_x)
    y = defects.rows.astype("int64") + int(offset_y)
    limit_x = width if width is not None else MAX_COORDINATE + 1
    limit_y = height if height is not None else MAX_COORDINATE + 1
    bad = (x < 0) | (y < 0) | (x >= limit_x) | (y >= limit_y)
    if bad.any():
        i = int(bad.argmax())
        where = f"the {width} x {height} sensor" if width is not None else "0..65535"
        raise InputError(
            f"row {defects.rows[i]}, column {defects.columns[i]} with offset "
            f"x {offset_x}, y {offset_y} becomes x {x[i]}, y {y[i]}, outside {where} "
            f"({int(bad.sum())} entries)"
        )
    root = ET.Element("UserPixelMask", {"version": "1", "generator": f"fastdefect {__version__}"})
    camera = {"serial": str(serial).strip()}
    if model:
        camera["model"] = model
    ET.SubElement(root, "Camera", camera)
    if width is not None:
        ET.SubElement(root, "Sensor", {"width": str(int(width)), "height": str(int(height))})
    ET.SubElement(root, "Offset", {"x": str(int(offset_x)), "y": str(int(offset_y))})
    pixels = ET.SubElement(root, "Pixels", {"count": str(len(defects))})
    for px, py in zip(x.tolist(), y.tolist(), strict=True):
        ET.SubElement(pixels, "Pixel", {"x": str(px), "y": str(py)})
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    comment = SCHEMA_NOTE.replace("--", "- -")
    return f"<?xml version='1.0' encoding='UTF-8'?>\n<!-- {comment} -->\n{body}\n"


def write(
    path: str | os.PathLike,
    defects: DefectList,
    *,
    serial: str | None = None,
    width: int | None = None,
    height: int | None = None,
    offset_x: int | None = None,
    offset_y: int | None = None,
    model: str | None = None,
    overwrite: bool = False,
    backup: bool = False,
) -> Path:
    """Write an ARRI User Pixel Mask XML, atomically (serial required; offset added)."""
    text = format_text(
        defects,
        serial=serial,
        width=width,
        height=height,
        offset_x=offset_x or 0,
        offset_y=offset_y or 0,
        model=model,
    )
    with atomic_output(path, overwrite=overwrite, backup=backup) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)
