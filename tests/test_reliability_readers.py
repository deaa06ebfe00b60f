"""Issue 11, readers: hostile list files give a clear error, in linear time and memory.

Each case here crashed with a traceback, lost an entry silently, or took quadratic time
before the fix. Every one is a real file on disk read through the public API.
"""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from fastdefect.defects import DefectList
from fastdefect.errors import FastDefectError, FileFormatError
from fastdefect.formats import CameraBackup, read_list, read_list_file

HUGE = "9" * 5000  # more digits than Python's int() accepts (4300)


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("av.csv", f"Row, Column\n1,{HUGE}\n", "av-csv"),
        ("av-slow.csv", f"Row, Column\n1,2\n3,{HUGE}\n4 ,5\n", "av-csv"),
        ("rich.csv", f"row,column,kind\n{HUGE},1,hot\n", "csv"),
        ("rich-small.csv", "row,column,kind\n99999999999999999999999,1,hot\n", "csv"),
        ("dcraw.txt", f"1 2 {HUGE}\n", "dcraw"),
        ("dcraw2.txt", "1 2 99999999999999999999999999999999999999\n", "dcraw"),
        ("dcraw3.txt", f"{HUGE} 2 0\n", "dcraw"),
        ("arri.xml", f"<UserPixelMask><Pixel x='{HUGE}' y='1'/></UserPixelMask>", "arri-xml"),
        ("arri-enc.xml", "<?xml version='1.0' encoding='UTF-G'?><UserPixelMask/>", "arri-xml"),
        ("kind.json", '{"entries": [{"row": 1, "column": 2, "kind": []}]}', "json"),
        ("deep.json", "[" * 100000 + "]" * 100000, "json"),
        ("deepmeta.csv", "# fastdefect-metadata: " + "[" * 100000 + "\nrow,column,kind\n", "csv"),
        (
            "bigfloat.json",
            '[{"row": 1, "column": 2, "evidence": {"x": 1' + "0" * 400 + "}}]",
            "json",
        ),
        ("field.csv", 'row,column,kind,source\n1,2,hot,"' + "x" * 200000 + '"\n', "csv"),
        ("badname.csv", 'row,column,kind,"a,b"\n1,2,hot,3\n', "csv"),
    ],
)
def test_hostile_values_give_a_clear_error(tmp_path, name, content, fmt):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    try:
        read_list_file(path, fmt)
    except FastDefectError as error:
        message = str(error)
        assert str(path) in message
        assert len(message) < 2000  # values are cut, not copied into the message
    # Reading it without an error is fine too (e.g. a long quoted source is legal).


def test_quoted_source_over_the_csv_field_limit_is_read(tmp_path):
    path = tmp_path / "field.csv"
    path.write_text('row,column,kind,source\n1,2,hot,"' + "x" * 200000 + '"\n', encoding="utf-8")
    defects = read_list(path)
    assert list(defects.source_names) == ["x" * 200000]


def test_unclosed_quote_does_not_swallow_the_next_entry(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('row,column,kind,source\n1,2,hot,"open\n3,4,hot,b\n', encoding="utf-8")
    with pytest.raises(FileFormatError) as info:
        read_list(path)
    assert info.value.line == 2
    assert "quote is not closed" in str(info.value)


def test_a_quote_spanning_lines_is_refused_with_its_place(tmp_path):
    path = tmp_path / "span.csv"
    path.write_text('row,column,kind,source\n1,2,hot,"a\nb"\n3,4,hot,c\n', encoding="utf-8")
    with pytest.raises(FileFormatError) as info:
        read_list(path)
    assert (info.value.line, info.value.column) == (2, 9)


def test_the_vendor_number_check_is_linear_not_quadratic(tmp_path):
    # '111...1x' made the number regular expression backtrack: 40k digits took 35 s.
    times = []
    for digits in (20000, 40000):
        path = tmp_path / f"redos{digits}.csv"
        path.write_text(f"Row, Column\n1,{'1' * digits}x\n", encoding="ascii")
        start = time.perf_counter()
        with pytest.raises(FileFormatError, match="is not a number"):
            read_list(path, "av-csv")
        times.append(time.perf_counter() - start)
    assert times[1] < 0.5


@pytest.mark.parametrize(
    ("fmt", "name", "content"),
    [
        ("av-csv", "commas.csv", "Row, Column\n1," + "," * 2_000_000 + "\n"),
        ("csv", "commas-rich.csv", "row,column,kind\n1,2," + "," * 2_000_000 + "\n"),
        ("csv", "quoted-rich.csv", 'row,column,kind\n1,2,"hot"' + "," * 2_000_000 + "\n"),
        ("csv", "header-rich.csv", "row,column,kind" + "," * 2_000_000 + "\n1,2,hot\n"),
        ("av-csv", "blank.csv", "Row, Column\n" + "\n" * 2_000_000 + "1,2\n"),
        ("dcraw", "blanks.txt", "1 2 3" + " 4" * 1_000_000 + "\n"),
    ],
)
def test_memory_stays_bounded_on_2_mb_of_separators(tmp_path, fmt, name, content):
    # 10 MB of commas took 1.2 GB: a field tuple per comma, a problem per blank line.
    path = tmp_path / name
    path.write_text(content, encoding="ascii")
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as info:
            read_list(path, fmt)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(content) + 10_000_000, f"peak {peak / 1e6:.0f} MB"
    assert len(str(info.value)) < 3000


def test_a_huge_bad_value_gives_a_short_message(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("Row, Column\n1," + "y" * 1_000_000 + "\n", encoding="ascii")
    with pytest.raises(FileFormatError) as info:
        read_list(path, "av-csv")
    message = str(info.value)
    assert len(message) < 300
    assert "1000000 characters" in message


def _backup(created: datetime | None = None) -> bytes:
    return CameraBackup(
        "GT5120",
        "SN-1",
        64,
        64,
        factory=DefectList([1], [2], source="factory"),
        user=DefectList([3], [4], source="user"),
        created=created or datetime(2025, 1, 1, tzinfo=UTC),
    ).to_bytes()


def _edit_header(data: bytes, offset: int, value: bytes) -> bytes:
    body = bytearray(data[:-32])
    body[offset : offset + len(value)] = value
    return bytes(body) + hashlib.sha256(bytes(body)).digest()


def test_backup_with_an_impossible_creation_time_says_so(tmp_path):
    path = tmp_path / "b.bin"
    path.write_bytes(_edit_header(_backup(), 20, (2**62).to_bytes(8, "little")))
    with pytest.raises(FileFormatError) as info:
        read_list(path)
    assert "creation time" in str(info.value)
    assert "Errno" not in str(info.value)


def test_backup_with_reserved_flags_is_refused(tmp_path):
    path = tmp_path / "b.bin"
    path.write_bytes(_edit_header(_backup(), 10, (1).to_bytes(2, "little")))
    with pytest.raises(FileFormatError, match="reserved"):
        read_list(path)


def test_bad_evidence_name_names_the_file(tmp_path):
    path = tmp_path / "names.json"
    path.write_text('[{"row": 1, "column": 2, "evidence": {"a,b": 1}}]', encoding="utf-8")
    with pytest.raises(FileFormatError) as info:
        read_list(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("width", "height", "expected"), [
    (5, 5, "outside the 5 x 5 sensor"),
    (0, 5, "sensor width must be 1..65536"),
    (10**9, 10**9, "sensor width must be 1..65536"),
])  # fmt: skip
def test_mask_size_errors_name_the_file(tmp_path, width, height, expected):
    from fastdefect.errors import InputError
    from fastdefect.formats import write_list

    path = tmp_path / "mask.tif"
    with pytest.raises(InputError) as info:
        write_list(path, DefectList([9], [9]), "mask", width=width, height=height)
    assert str(path) in str(info.value) and expected in str(info.value)
    assert not path.exists()
