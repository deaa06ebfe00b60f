"""Malformed list files: a precise error (file, line, column, value) and nothing written.

Each case is a real file on disk. The API must raise :class:`FileFormatError` naming the
place and the offending value; the command line must exit with 2 and leave no output
(``convert``), no edited input and no ``.bak`` (``add --in-place``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fastdefect.cli import main
from fastdefect.defects import DefectList
from fastdefect.errors import FileFormatError
from fastdefect.formats import CameraBackup, read_list


def backup_bytes() -> bytes:
    return CameraBackup(
        "GT5120",
        "SN-1",
        5120,
        5120,
        factory=DefectList([1, 2], [3, 4], source="factory"),
        user=DefectList([5], [6], source="user"),
        created=datetime(2025, 1, 1, tzinfo=UTC),
    ).to_bytes()


def resigned(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()


def flip_entry_byte(data: bytes) -> bytes:
    edited = bytearray(data)
    edited[-33] ^= 0x01  # last byte of the last user entry
    return bytes(edited)


def version_two(data: bytes) -> bytes:
    body = bytearray(data[:-32])
    body[8:10] = (2).to_bytes(2, "little")
    return resigned(bytes(body))


def garbage_tiff() -> bytes:
    return b"II*\x00" + b"\x08\x00\x00\x00" + b"\xff" * 12


@dataclass
class Case:
    name: str
    file_name: str
    content: bytes
    line: int | None
    column: int | None
    expected: tuple[str, ...]
    fmt: str | None = None


CASES = [
    # Allied Vision user list CSV
    Case(
        "av negative", "neg.csv", b"Row, Column\n1,2\n-5,3\n", 3, 1, ("Row value '-5' is negative",)
    ),
    Case(
        "av too large",
        "large.csv",
        b"Row, Column\n1,65536\n",
        2,
        3,
        ("Column value '65536' is too large", "65535"),
    ),
    Case(
        "av not a number",
        "nan.csv",
        b"Row, Column\n1,abc\n",
        2,
        3,
        ("Column value 'abc' is not a number",),
    ),
    Case(
        "av blank value", "blank.csv", b"Row, Column\r\n1, \r\n", 2, 3, ("Column value is blank",)
    ),
    Case(
        "av wrong header",
        "header.csv",
        b"X, Y\n1,2\n",
        1,
        1,
        ("header is 'X, Y'", "expected 'Row, Column'"),
    ),
    Case("av swapped header", "swapped.csv", b"Column, Row\n1,2\n", 1, 1, ("columns swapped",)),
    Case("av semicolon file", "semi.csv", b"Row;Column\n1;2\n", 1, 4, ("wrong delimiter", "';'")),
    Case(
        "av semicolon line",
        "semiline.csv",
        b"Row, Column\n1,2\n3;4\n",
        3,
        2,
        ("wrong delimiter ';' in '3;4'",),
    ),
    Case(
        "av missing field",
        "missing.csv",
        b"Row, Column\n1,2\n7\n",
        3,
        2,
        ("Column value is missing",),
    ),
    Case(
        "av decimal",
        "decimal.csv",
        b"Row, Column\n1.5,2\n",
        2,
        1,
        ("Row value '1.5' is not a whole number",),
    ),
    Case("av blank line", "gap.csv", b"Row, Column\n1,2\n\n3,4\n", 3, 1, ("blank line",)),
    Case("av extra field", "extra.csv", b"Row, Column\n1,2,3\n", 2, 5, ("3 values; expected 2",)),
    Case("av not utf-8", "latin.csv", b"Row, Column\n1,\xb52\n", 2, 3, ("byte 0xb5 is not UTF-8",)),
    Case("av empty", "empty.csv", b"", 1, None, ("file is empty",)),
    Case("av utf-16", "utf16.csv", "Row, Column\n1,2\n".encode("utf-16"), None, None, ("UTF-16",)),
    # fastdefect rich CSV
    Case(
        "csv unknown kind",
        "kind.csv",
        b"row,column,kind\n1,2,warm\n",
        2,
        5,
        ("kind 'warm' is unknown",),
    ),
    Case(
        "csv bad evidence",
        "evidence.csv",
        b"row,column,kind,source,dark_mean\n1,2,hot,detected,abc\n",
        2,
        18,
        ("dark_mean value 'abc' is not a number",),
    ),
    Case(
        "csv short line",
        "short.csv",
        b"row,column,kind\n1,2,hot\n1,2\n",
        3,
        4,
        ("2 values; the header has 3",),
    ),
    Case(
        "csv negative row",
        "negrow.csv",
        b"# list\nrow,column,kind\n-1,2,hot\n",
        3,
        1,
        ("row value '-1' is not an integer 0..65535",),
    ),
    Case(
        "csv duplicate evidence name",
        "dupname.csv",
        b"row,column,kind,source,a,a\n",
        1,
        26,
        ("evidence column 'a' appears twice",),
    ),
    # fastdefect JSON
    Case(
        "json syntax",
        "syntax.json",
        b'{"entries": [\n {"row": 1, "column": 2},\n ]}',
        3,
        2,
        ("not valid JSON",),
    ),
    Case(
        "json negative column",
        "neg.json",
        b'{"entries": [{"row": 1, "column": -4}]}',
        None,
        None,
        ("entries[0].column: -4 is outside 0..65535",),
    ),
    Case(
        "json string row",
        "str.json",
        b'{"entries": [{"row": 1, "column": 1}, {"row": "7", "column": 4}]}',
        None,
        None,
        ('entries[1].row: "7" is not an integer',),
    ),
    Case(
        "json unknown kind",
        "kind.json",
        b'[{"row": 1, "column": 1, "kind": "warm"}]',
        None,
        None,
        ('entries[0].kind: "warm" is unknown',),
    ),
    # dcraw bad-pixel file
    Case(
        "dcraw two values",
        "two.txt",
        b"# column row time\n10 20\n",
        2,
        6,
        ("2 values", "skips this line"),
    ),
    Case("dcraw negative row", "neg.txt", b"10 -20 0\n", 1, 4, ("row (y) '-20' is negative",)),
    Case(
        "dcraw word timestamp",
        "word.txt",
        b"10 20 soon # later\n",
        1,
        7,
        ("timestamp 'soon' is not an integer",),
    ),
    # camera backup
    Case(
        "bin truncated",
        "cut.bin",
        backup_bytes()[:-10],
        None,
        None,
        ("truncated", "1 user entries", "the file has"),
    ),
    Case(
        "bin edited",
        "edited.bin",
        flip_entry_byte(backup_bytes()),
        None,
        None,
        ("checksum mismatch", "edited or corrupted"),
    ),
    Case(
        "bin appended",
        "appended.bin",
        backup_bytes() + b"abc",
        None,
        None,
        ("altered: 3 unexpected bytes",),
    ),
    Case(
        "bin wrong magic",
        "magic.bin",
        b"PK\x03\x04" + backup_bytes()[4:],
        None,
        None,
        ("not a fastdefect camera backup",),
    ),
    Case(
        "bin version",
        "v2.bin",
        version_two(backup_bytes()),
        None,
        None,
        ("version 2 is not supported",),
    ),
    Case("bin header only", "tiny.bin", b"FDBACKUP\x01\x00", None, None, ("truncated: 10 bytes",)),
    # ARRI User Pixel Mask XML
    Case(
        "xml not well-formed",
        "broken.xml",
        b'<UserPixelMask>\n  <Pixel x="1" y="2">\n</UserPixelMask>\n',
        3,
        3,
        ("not well-formed XML", "mismatched tag"),
    ),
    Case(
        "xml entity expansion",
        "laughs.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE m [\n <!ENTITY a "aaaaaaaaaa">\n'
        b' <!ENTITY b "&a;&a;&a;&a;&a;">\n]>\n<UserPixelMask>&b;</UserPixelMask>\n',
        3,
        13,
        ("refused for safety: the file declares the entity 'a'",),
    ),
    Case(
        "xml external entity",
        "xxe.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<UserPixelMask><Pixel x="1" y="&x;"/></UserPixelMask>\n',
        2,
        52,
        ("refused for safety: the file declares the entity 'x'",),
    ),
    Case(
        "xml bad coordinate",
        "coord.xml",
        b'<UserPixelMask>\n<Camera serial="K1"/>\n<Pixel x="1" y="2"/>\n<Pixel x="a" y="2"/>\n'
        b"</UserPixelMask>\n",
        4,
        1,
        ("x 'a' is not an integer",),
    ),
    Case(
        "xml missing y",
        "noy.xml",
        b'<UserPixelMask>\n  <Pixel x="4"/>\n</UserPixelMask>\n',
        2,
        3,
        ("<pixel> has no y (row) coordinate",),
    ),
    Case(
        "xml not a mask",
        "other.xml",
        b"<html><body/></html>",
        None,
        None,
        ("no User Pixel Mask content", "<html>"),
    ),
    # mask image
    Case(
        "mask not a tiff", "text.tif", b"Row, Column\n1,2\n", None, None, ("not a readable TIFF",)
    ),
    Case("mask corrupt tiff", "corrupt.tif", garbage_tiff(), None, None, ("TIFF",)),
]


def write_case(case: Case, directory: Path) -> Path:
    path = directory / case.file_name
    path.write_bytes(case.content)
    return path


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_api_reports_the_place_and_the_value(tmp_path, case):
    path = write_case(case, tmp_path)
    with pytest.raises(FileFormatError) as caught:
        read_list(path, case.fmt)
    error = caught.value
    message = str(error)
    assert message.startswith(str(path))
    assert error.line == case.line
    assert error.column == case.column
    if case.line is not None:
        assert f"line {case.line}" in message
    if case.column is not None:
        assert f"column {case.column}" in message
    for expected in case.expected:
        assert expected in message


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_cli_exits_2_and_writes_nothing(tmp_path, capsys, case):
    path = write_case(case, tmp_path)
    out = tmp_path / "out.json"
    assert main(["list", "convert", str(path), str(out)]) == 2
    assert not out.exists()
    assert main(["list", "add", str(path), "1", "1", "--in-place"]) == 2
    assert path.read_bytes() == case.content
    assert sorted(p.name for p in tmp_path.iterdir()) == [case.file_name]
    assert main(["list", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert case.expected[0] in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.slow
def test_all_problems_of_a_file_are_listed(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("Row, Column\n" + "".join(f"{i},-{i}\n" for i in range(1, 31)))
    with pytest.raises(FileFormatError) as caught:
        read_list(path)
    error = caught.value
    assert len(error.problems) == 30
    assert (error.problems[-1].line, error.problems[-1].column) == (31, 4)
    assert "29 more problems" in str(error) and "... and 10 more" in str(error)


def test_corpus_is_large_and_covers_every_format():
    assert len(CASES) >= 15
    suffixes = {Path(case.file_name).suffix for case in CASES}
    assert suffixes == {".csv", ".json", ".txt", ".bin", ".xml", ".tif"}
