"""List file formats: lossless round trips, inference, and format-specific behaviour."""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastdefect.defects import KINDS, DefectList
from fastdefect.errors import FileFormatError, InputError, OutputExistsError
from fastdefect.formats import (
    FORMATS,
    CameraBackup,
    FormatWarning,
    av_csv,
    backup_file_name,
    infer_format,
    list_file_format,
    read_backup,
    read_list,
    read_list_file,
    rich_csv,
    write_backup,
    write_list,
    write_list_file,
)

FILE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SOURCES = ("factory", "user", "detected", "a, b.csv", 'quoted "name".tif')


@st.composite
def rich_lists(draw, max_size: int = 30):
    n = draw(st.integers(0, max_size))
    coordinate = st.integers(0, 65535) if draw(st.booleans()) else st.integers(0, 9)
    rows = draw(st.lists(coordinate, min_size=n, max_size=n))
    columns = draw(st.lists(coordinate, min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    sources = draw(st.lists(st.sampled_from(SOURCES), min_size=n, max_size=n))
    value = st.one_of(st.just(math.nan), st.floats(allow_nan=False), st.floats(-1e3, 1e3, width=32))
    evidence = {
        name: draw(st.lists(value, min_size=n, max_size=n))
        for name in draw(
            st.lists(st.sampled_from(["dark_mean", "temporal std", "x2"]), unique=True, max_size=3)
        )
    }
    metadata = draw(st.sampled_from([{}, {"exposure_us": 2000.5, "stacks": [{"n": 3}]}]))
    return DefectList(
        rows, columns, kinds=kinds, source=sources, evidence=evidence, metadata=metadata
    )


def positions(defects: DefectList) -> list[tuple[int, int]]:
    return list(zip(defects.rows.tolist(), defects.columns.tolist(), strict=True))


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.slow
@FILE_SETTINGS
@given(defects=rich_lists(), fmt=st.sampled_from(["csv", "json"]))
def test_rich_formats_round_trip_everything(tmp_path, defects, fmt):
    path = tmp_path / f"list.{fmt}"
    write_list(path, defects, fmt, overwrite=True)
    back = read_list(path)
    assert back == defects  # coordinates, kinds, sources, evidence (bit-exact), order
    assert back.metadata == defects.metadata


@pytest.mark.slow
@FILE_SETTINGS
@given(defects=rich_lists())
def test_av_csv_round_trips_positions_in_order(tmp_path, defects):
    path = tmp_path / "user.csv"
    write_list(path, defects, "av-csv", overwrite=True)
    back = read_list_file(path)
    assert back.format == "av-csv"
    assert positions(back.defects) == positions(defects)


@pytest.mark.slow
@FILE_SETTINGS
@given(defects=rich_lists(), stamps=st.lists(st.integers(0, 2**40), min_size=30, max_size=30))
def test_dcraw_round_trips_positions_and_timestamps(tmp_path, defects, stamps):
    timestamps = np.array(stamps[: len(defects)], dtype=np.float64)
    dated = DefectList(defects.rows, defects.columns, evidence={"timestamp": timestamps})
    path = tmp_path / "bad.txt"
    write_list(path, dated, overwrite=True)
    back = read_list(path)
    assert positions(back) == positions(defects)
    if timestamps.any():
        assert back.evidence["timestamp"].tolist() == timestamps.tolist()
    else:
        assert "timestamp" not in back.evidence_names


@pytest.mark.slow
@FILE_SETTINGS
@given(defects=rich_lists(), serial=st.text(min_size=1, max_size=12).filter(str.strip))
def test_bin_round_trips_sections_and_header(tmp_path, defects, serial):
    path = tmp_path / "camera.bin"
    write_list(
        path, defects, width=65536, height=65536, serial=serial, model="GT5120", overwrite=True
    )
    back = read_list_file(path)
    factory = defects.filter(sources="factory")
    user = defects.take(defects.sources != "factory")
    assert positions(back.defects.filter(sources="factory")) == positions(factory)
    assert positions(back.defects.filter(sources="user")) == positions(user)
    assert (back.width, back.height, back.serial, back.model) == (65536, 65536, serial, "GT5120")


@pytest.mark.slow
@FILE_SETTINGS
@given(
    defects=rich_lists(),
    offset=st.tuples(st.integers(-5, 5), st.integers(-5, 5)),
    serial=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=10,
    ).filter(lambda s: s.strip() == s and s),
)
def test_arri_xml_round_trips_positions_serial_and_offset(tmp_path, defects, offset, serial):
    shifted_ok = all(
        0 <= c + offset[0] <= 65535 and 0 <= r + offset[1] <= 65535 for r, c in positions(defects)
    )
    path = tmp_path / "mask.xml"
    if not shifted_ok:
        with pytest.raises(InputError, match=r"outside 0\.\.65535"):
            write_list(
                path, defects, serial=serial, offset_x=offset[0], offset_y=offset[1], overwrite=True
            )
        return
    write_list(path, defects, serial=serial, offset_x=offset[0], offset_y=offset[1], overwrite=True)
    back = read_list_file(path)
    assert positions(back.defects) == positions(defects)
    assert back.serial == serial and back.offset == offset


@pytest.mark.slow
@FILE_SETTINGS
@given(defects=rich_lists())
def test_mask_round_trips_the_set_of_positions(tmp_path, defects):
    small = defects.filter(rows=(0, 10), columns=(0, 10))
    path = tmp_path / "mask.tif"
    write_list(path, small, width=40, height=33, overwrite=True)
    back = read_list_file(path)
    assert (back.width, back.height) == (40, 33)
    assert back.defects.same_positions(small)
    assert back.defects.is_sorted() and not back.defects.duplicated().any()


@pytest.mark.slow
def test_round_trip_of_a_large_list_is_fast_and_exact(tmp_path):
    rng = np.random.default_rng(3)
    n = 100_000
    defects = DefectList(
        rng.integers(0, 5120, n),
        rng.integers(0, 5120, n),
        kinds=rng.integers(0, len(KINDS), n),
        source="detected",
        evidence={"dark_mean": rng.normal(size=n)},
    )
    for fmt in ("csv", "json", "av-csv", "dcraw"):
        path = tmp_path / f"big-{fmt}"
        write_list(path, defects, fmt)
        back = read_list(path, fmt)
        assert positions(back) == positions(defects)
        if fmt in ("csv", "json"):
            assert back == defects


# -- av-csv specifics --------------------------------------------------------------------------


def test_av_csv_accepts_bom_crlf_spaces_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "user.csv"
    path.write_bytes(b"\xef\xbb\xbfRow, Column\r\n12, 34\r\n 0 ,65535\r\n\r\n\r\n")
    listfile = read_list_file(path)
    assert listfile.format == "av-csv"
    assert positions(listfile.defects) == [(12, 34), (0, 65535)]
    assert listfile.defects.source_names == ("user.csv",)


def test_av_csv_writes_the_vendor_layout(tmp_path):
    path = tmp_path / "out.csv"
    write_list(path, DefectList([5, 1], [7, 2]), "av-csv")
    assert path.read_bytes() == b"Row, Column\r\n5,7\r\n1,2\r\n"


def test_av_csv_lenient_coerces_to_zero_and_warns_for_each(tmp_path):
    path = tmp_path / "user.csv"
    path.write_text("Row, Column\n5,-3\nabc,7\n70000,1,9\n\n4,4\n")
    messages: list[str] = []
    defects = read_list(path, lenient=True, on_warning=messages.append)
    assert positions(defects) == [(5, 0), (0, 7), (0, 1), (4, 4)]
    assert len(messages) == 5
    assert "line 2, column 3: Column value '-3' is negative" in messages[0]
    assert "line 3, column 1: Row value 'abc' is not a number; read as 0" in messages[1]
    assert "line 4, column 1: Row value '70000' is too large" in messages[2]
    assert "line 4, column 9: 3 values; expected 2" in messages[3]
    assert "line 5: blank line skipped" in messages[4]


def test_lenient_warnings_default_to_python_warnings(tmp_path):
    path = tmp_path / "user.csv"
    path.write_text("Row, Column\n1,x\n")
    with pytest.warns(FormatWarning, match="Column value 'x' is not a number"):
        assert positions(read_list(path, lenient=True)) == [(1, 0)]


def test_av_csv_header_problems_are_errors_even_when_lenient(tmp_path):
    path = tmp_path / "user.csv"
    path.write_text("Column, Row\n1,2\n")
    with pytest.raises(FileFormatError, match="columns swapped"):
        read_list(path, "av-csv", lenient=True)


def test_judge_value_messages():
    assert av_csv.judge_value(" 17 ", "Row") == (17, None)
    assert av_csv.judge_value("+5", "Row")[1] == "Row value '+5' has a sign; write the bare number"
    assert av_csv.judge_value("1e3", "Row")[1] == "Row value '1e3' is not a whole number"
    assert av_csv.judge_value("-0.5", "Row")[1].endswith("is negative (allowed 0..65535)")
    assert av_csv.judge_value("٣", "Row")[1] == "Row value '٣' is not a number"


# -- rich csv / json specifics -----------------------------------------------------------------


def test_rich_csv_layout_for_detection(tmp_path):
    defects = DefectList(
        [17, 17],
        [2043, 2044],
        kinds=["hot", "stuck_low"],
        source="detected",
        evidence={"dark_mean": [880.5, 1.25], "bright_deviation": [np.nan, -412.0]},
    )
    text = rich_csv.format_text(defects)
    assert text.splitlines() == [
        "row,column,kind,source,dark_mean,bright_deviation",
        "17,2043,hot,detected,880.5,",
        "17,2044,stuck_low,detected,1.25,-412.0",
    ]
    path = tmp_path / "detected.csv"
    write_list(path, defects)
    assert infer_format(path) == "csv" and read_list(path) == defects


def test_rich_csv_without_source_column_uses_the_file_name(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("row,column,kind\n1,2,hot\n")
    defects = read_list(path)
    assert defects[0] == (1, 2, "hot", "mine.csv", {})


def test_json_accepts_a_bare_array_and_defaults(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(
        '[{"row": 1, "column": 2}, {"row": 3, "column": 4, "kind": "hot", '
        '"evidence": {"dark_mean": "inf", "x": null}}]'
    )
    defects = read_list(path)
    assert defects[0] == (1, 2, "unknown", "list.json", {})
    assert defects[1].evidence == {"dark_mean": math.inf}


# -- backup (bin) ------------------------------------------------------------------------------


def make_backup(**changes) -> CameraBackup:
    fields = dict(
        model="GT5120",
        serial="02-2110A-06187",
        width=5120,
        height=5120,
        factory=DefectList([0, 100], [5, 7], source="factory"),
        user=DefectList([20], [30], source="user"),
        created=datetime(2025, 7, 22, 9, 30, 5, tzinfo=UTC),
    )
    fields.update(changes)
    return CameraBackup(**fields)


def test_backup_round_trip_and_default_name(tmp_path):
    backup = make_backup()
    assert backup.default_file_name == "backup-02-2110A-06187-20250722-093005.bin"
    path = write_backup(tmp_path, backup)
    assert path == tmp_path / backup.default_file_name
    back = read_backup(path)
    assert (back.model, back.serial, back.width, back.height, back.created) == (
        "GT5120",
        "02-2110A-06187",
        5120,
        5120,
        backup.created,
    )
    assert back.factory == backup.factory and back.user == backup.user
    assert positions(back.combined()) == [(0, 5), (20, 30), (100, 7)]
    back.check_sensor(5120, 5120)
    with pytest.raises(
        InputError, match="is for a 5120 x 5120 sensor; this camera's sensor is 4096 x 3072"
    ):
        back.check_sensor(4096, 3072)


def test_camera_facts_go_where_the_format_has_room(tmp_path):
    backup = make_backup()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # facts a format has no room for are no warning
        assert write_list_file(tmp_path / "l.json", backup.user, facts=backup.header_facts()) == (
            "json"
        )
        write_list_file(tmp_path / "l.bin", backup.combined(), facts=backup.header_facts())
    back = read_backup(tmp_path / "l.bin")
    assert (back.model, back.serial, back.width, back.height) == (
        "GT5120",
        "02-2110A-06187",
        5120,
        5120,
    )
    assert list_file_format(tmp_path / "x.csv") == "csv"
    assert list_file_format(tmp_path / "x.csv", " AV-CSV ") == "av-csv"
    with pytest.raises(InputError, match="cannot tell the list format"):
        list_file_format(tmp_path / "x.xyz")
    with pytest.raises(InputError, match="unknown list format 'nope'"):
        list_file_format(tmp_path / "x.csv", "nope")


def test_backup_layout_is_as_documented(tmp_path):
    data = make_backup().to_bytes()
    assert data[:8] == b"FDBACKUP"
    assert int.from_bytes(data[8:10], "little") == 1
    assert int.from_bytes(data[12:16], "little") == 5120
    assert int.from_bytes(data[28:32], "little") == 2 and int.from_bytes(data[32:36], "little") == 1
    model_len, serial_len = (
        int.from_bytes(data[36:38], "little"),
        int.from_bytes(data[38:40], "little"),
    )
    assert data[40 : 40 + model_len] == b"GT5120"
    entries = np.frombuffer(data[40 + model_len + serial_len : -32], dtype="<u2").reshape(-1, 2)
    assert entries.tolist() == [[0, 5], [100, 7], [20, 30]]
    assert len(data) == 40 + model_len + serial_len + 3 * 4 + 32


def test_backup_accepts_arrays_from_the_camera_layer():
    backup = CameraBackup(
        "GT",
        "S1",
        100,
        100,
        factory=np.array([[1, 2]]),
        user=np.zeros((0, 2), dtype=np.int64),
        created="2025-01-02T03:04:05+00:00",
    )
    assert positions(backup.factory) == [(1, 2)] and len(backup.user) == 0
    assert backup.created == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_backup_file_name_sanitises_the_serial():
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert backup_file_name("AB/12 3", when) == "backup-AB_12_3-20240102-030405.bin"
    assert backup_file_name("", when) == "backup-unknown-20240102-030405.bin"


def test_backup_refuses_entries_outside_its_sensor():
    with pytest.raises(InputError, match="user entry row 20, column 30 is outside the 10 x 10"):
        make_backup(width=10, height=10, factory=DefectList([], []))


def test_clear_of_a_backup_list_keeps_the_factory_section(tmp_path):
    path = write_backup(tmp_path / "b.bin", make_backup())
    listfile = read_list_file(path)
    assert listfile.defects.count_by_source() == {"factory": 2, "user": 1}
    assert listfile.extra["factory_entries"] == 2


# -- arri-xml ----------------------------------------------------------------------------------


def test_arri_export_applies_the_offset_and_requires_the_serial(tmp_path):
    defects = DefectList([10, 3], [20, 4])
    path = tmp_path / "mask.xml"
    with pytest.raises(InputError, match="needs the camera serial"):
        write_list(path, defects)
    assert not path.exists()
    write_list(
        path,
        defects,
        serial="K1.0012345",
        width=100,
        height=50,
        offset_x=2,
        offset_y=-1,
        model="ALEXA Mini LF",
    )
    text = path.read_text()
    assert '<Camera serial="K1.0012345" model="ALEXA Mini LF" />' in text
    assert '<Pixel x="22" y="9" />' in text and '<Pixel x="6" y="2" />' in text
    assert "confirm" in text  # the schema note travels with the file
    back = read_list_file(path)
    assert positions(back.defects) == [(10, 20), (3, 4)]
    assert (back.width, back.height, back.offset) == (100, 50, (2, -1))
    raw = read_list_file(path, "arri-xml")
    assert raw.serial == "K1.0012345"
    with pytest.raises(InputError, match="becomes x 101, y 10, outside the 100 x 50 sensor"):
        write_list(tmp_path / "m2.xml", defects, serial="K1", width=100, height=50, offset_x=81)


def test_arri_reader_is_lenient_about_layout(tmp_path):
    path = tmp_path / "art.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<ns:PixelMask xmlns:ns="urn:x">\n'
        "  <CameraSerialNumber>K1.77</CameraSerialNumber>\n"
        "  <Width>4448</Width><Height>3096</Height>\n"
        "  <DefectPixel><X>5</X><Y>6</Y></DefectPixel>\n"
        '  <pixel Column="7" ROW="8"/>\n'
        "</ns:PixelMask>\n"
    )
    listfile = read_list_file(path)
    assert positions(listfile.defects) == [(6, 5), (8, 7)]
    assert (listfile.serial, listfile.width, listfile.height) == ("K1.77", 4448, 3096)
    assert listfile.offset is None


def test_arri_reader_keeps_file_coordinates_when_asked(tmp_path):
    from fastdefect.formats import arri_xml

    path = tmp_path / "mask.xml"
    write_list(path, DefectList([1], [1]), serial="S", offset_x=3, offset_y=4)
    assert positions(arri_xml.read(path, remove_offset=False).defects) == [(5, 4)]


# -- inference, registry, safety of writes -----------------------------------------------------


def test_format_inference(tmp_path):
    (tmp_path / "a.csv").write_text("Row, Column\n1,2\n")
    (tmp_path / "b.csv").write_text("# comment\nrow,column,kind,source\n")
    (tmp_path / "noext").write_bytes(make_backup().to_bytes())
    assert infer_format(tmp_path / "a.csv") == "av-csv"
    assert infer_format(tmp_path / "b.csv") == "csv"
    assert infer_format(tmp_path / "noext") == "bin"
    assert infer_format(tmp_path / "x.xml", reading=False) == "arri-xml"
    assert infer_format(tmp_path / "x.tiff", reading=False) == "mask"
    assert infer_format(tmp_path / "badpixels", reading=False) == "dcraw"
    assert infer_format(tmp_path / "new.csv", reading=False) == "csv"
    assert infer_format(tmp_path / "new.csv", reading=False, like="av-csv") == "av-csv"
    with pytest.raises(InputError, match="cannot tell the list format"):
        infer_format(tmp_path / "x.dat", reading=False)
    assert set(FORMATS) == {
        "av-csv", "csv", "json", "bin", "arri-xml", "dcraw", "mask", "fits-mask",
    }  # fmt: skip


def test_writes_refuse_existing_files_and_keep_a_bak(tmp_path):
    path = tmp_path / "list.csv"
    write_list(path, DefectList([1], [1]), "av-csv")
    with pytest.raises(OutputExistsError):
        write_list(path, DefectList([2], [2]), "av-csv")
    assert positions(read_list(path)) == [(1, 1)]
    write_list(path, DefectList([2], [2]), "av-csv", backup=True)
    assert positions(read_list(path)) == [(2, 2)]
    assert positions(read_list(tmp_path / "list.csv.bak", "av-csv")) == [(1, 1)]


def test_write_options_are_checked(tmp_path):
    with pytest.raises(InputError, match="the av-csv format takes no serial option"):
        write_list(tmp_path / "x.csv", DefectList(), "av-csv", serial="K1")
    with pytest.raises(InputError, match="needs the sensor size"):
        write_list(tmp_path / "x.tif", DefectList([1], [1]))
    with pytest.raises(InputError, match="needs the sensor size"):
        write_list(tmp_path / "x.bin", DefectList([1], [1]))
    with pytest.raises(InputError, match="unknown list format 'xls'"):
        write_list(tmp_path / "x.xls", DefectList(), "xls")
    assert list(tmp_path.iterdir()) == []


def test_mask_reader_warns_about_images(tmp_path):
    from fastdefect.frames import write_image

    path = tmp_path / "frame.tif"
    write_image(path, np.full((8, 8), 7, dtype=np.uint16), bit_depth=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        defects = read_list(path)
    assert len(defects) == 64
    assert any("is this a defect mask" in str(w.message) for w in caught)


def test_read_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_list(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_list(tmp_path)


def test_source_override(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("Row, Column\n1,1\n")
    assert read_list(path, source="user").source_names == ("user",)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_writes_an_empty_list(tmp_path, fmt):
    path = tmp_path / f"empty.{ {'mask': 'tif', 'fits-mask': 'fits'}.get(fmt, fmt) }"
    options = {
        "bin": {"width": 4, "height": 4},
        "mask": {"width": 4, "height": 4},
        "fits-mask": {"width": 4, "height": 4},
        "arri-xml": {"serial": "K1"},
    }.get(fmt, {})
    write_list(path, DefectList(), fmt, **options)
    assert len(read_list(path, fmt)) == 0


def test_formats_modules_have_read_and_write():
    for info in FORMATS.values():
        assert callable(info.reader) and callable(info.writer)
        assert Path(info.load().__file__).name.endswith(".py")


@st.composite
def vendor_csv_texts(draw):
    """Well-formed vendor CSVs with the variations people's tools produce."""
    blank = st.sampled_from(["", " ", "\t", "  "])
    lines = [draw(st.sampled_from(["Row, Column", "Row,Column", "row , column"]))]
    for _ in range(draw(st.integers(0, 30))):
        row, column = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
        zeros = "0" * draw(st.integers(0, 1)) if row < 10000 else ""
        lines.append(f"{draw(blank)}{zeros}{row}{draw(blank)},{draw(blank)}{column}{draw(blank)}")
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    trailer = ending * draw(st.integers(0, 3))
    return ending.join(lines) + draw(st.sampled_from(["", ending])) + trailer


@FILE_SETTINGS
@given(text=vendor_csv_texts(), bom=st.booleans())
def test_av_csv_bulk_parser_agrees_with_the_line_reader(tmp_path, text, bom):
    path = tmp_path / "user.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    fast = av_csv.read(path).defects
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    slow = av_csv._read_slowly(path, lines, lenient=False, on_warning=None, label="user.csv")
    assert fast == slow.defects
    assert len(fast) == len(lines) - 1
    assert av_csv._parse_fast("\n".join(lines[1:]) + "\n") is not None  # the bulk path ran
