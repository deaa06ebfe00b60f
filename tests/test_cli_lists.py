"""``fastdefect list ...`` end to end: exit codes, outputs, and never losing a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from fastdefect.defects import DefectList
from fastdefect.formats import read_list, read_list_file, write_list


def av_csv(path: Path, rows, columns) -> Path:
    write_list(path, DefectList(rows, columns), "av-csv")
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    """Run ``fastdefect list ARGS``; outputs with whitespace runs (rich wrapping) collapsed."""
    return run_cli(capsys, "list", *args, collapse_out=True)


# -- check -----------------------------------------------------------------------------------


def test_check_exit_codes_follow_the_worst_verdict(tmp_path, capsys):
    ok = av_csv(tmp_path / "ok.csv", [3, 3, 3, 3], [10, 11, 12, 13])
    code, out, err = run(capsys, "check", ok, "--sensor", "GT5120")
    assert code == 0
    assert "4 entries: 4 ok, 0 warn, 0 error (rules av, sensor 5120 x 5120)" in out
    assert err == ""

    warn = av_csv(tmp_path / "warn.csv", [3] * 5, range(10, 15))
    code, out, _ = run(capsys, "check", warn, "--width", "100", "--height", "10")
    assert code == 0 and "5 entries: 0 ok, 5 warn, 0 error" in out and "│ warn │" in out

    red = av_csv(tmp_path / "red.csv", [3, 20], [0, 5])
    code, out, _ = run(capsys, "check", red, "--width", "100", "--height", "10", "--json")
    assert code == 1
    reasons = [problem["reason"] for problem in json.loads(out)["problems"]]
    assert reasons == ["column 0: no active pixel to the left", "outside the 100 x 10 sensor"]


def test_check_warns_without_a_sensor_size(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [1], [1])
    code, _, err = run(capsys, "check", path)
    assert code == 0 and "no sensor size given" in err


def test_check_json_lists_problems(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [1] * 9 + [2], [*range(1, 10), 5])
    code, out, _ = run(capsys, "check", path, "--sensor", "GT4090", "--json")
    assert code == 1
    document = json.loads(out)
    assert document["counts"] == {"ok": 1, "warn": 0, "error": 9}
    assert document["sensor"] == {"width": 4096, "height": 3072}
    assert len(document["problems"]) == 9
    assert document["problems"][0]["reason"] == (
        "run of 9 (columns 1-9): more than 8 in a row cannot be corrected"
    )


def test_check_uses_the_backup_sensor_size_and_factory_context(tmp_path, capsys):
    backup = tmp_path / "cam.bin"
    defects = DefectList([0, 0, 5], [3, 4, 5], source=["factory", "factory", "user"])
    write_list(backup, defects, width=6, height=6, serial="S1")
    code, out, _ = run(capsys, "check", backup, "--json")
    assert code == 0 and json.loads(out)["sensor"] == {"width": 6, "height": 6}

    factory = av_csv(tmp_path / "factory.csv", [7, 7, 7], [10, 11, 12])
    user = av_csv(tmp_path / "user.csv", [7, 7], [13, 14])
    code, out, _ = run(capsys, "check", user, "--factory", factory, "--json")
    assert json.loads(out)["counts"] == {"ok": 0, "warn": 2, "error": 0}


def test_check_arri_rules(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [10, 10, 11, 11], [10, 11, 10, 11])
    code, out, _ = run(
        capsys, "check", path, "--rules", "arri", "--width", "50", "--height", "50", "--json"
    )
    assert code == 0 and json.loads(out)["counts"]["warn"] == 4
    assert "blurred patch" in json.loads(out)["problems"][0]["reason"]


def test_check_bayer_runs_with_cfa(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [4] * 5, [3, 5, 7, 9, 11])
    code, out, _ = run(capsys, "check", path, "--width", "64", "--height", "8", "--json")
    assert json.loads(out)["counts"]["warn"] == 0
    code, out, _ = run(
        capsys, "check", path, "--width", "64", "--height", "8", "--cfa", "RGGB", "--json"
    )
    assert code == 0 and json.loads(out)["counts"]["warn"] == 5
    assert json.loads(out)["rules"]["column_step"] == 2


def test_check_rejects_conflicting_sensor_options(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [1], [1])
    code, _, err = run(capsys, "check", path, "--sensor", "GT5120", "--width", "4", "--height", "4")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "check", path, "--width", "4")
    assert code == 2 and "give both --width and --height" in err


def test_check_lenient_reads_like_the_vendor_tool(tmp_path, capsys):
    path = tmp_path / "user.csv"
    path.write_text("Row, Column\n5,-1\n7,8\n")
    code, _, err = run(capsys, "check", path, "--sensor", "GT5120")
    assert code == 2 and "line 2, column 3: Column value '-1' is negative" in err
    code, _, err = run(capsys, "check", path, "--sensor", "GT5120", "--lenient")
    assert code == 1  # (5, 0) has no left neighbour
    assert "line 2, column 3: Column value '-1' is negative" in err and "read as 0" in err


# -- edits -----------------------------------------------------------------------------------


def test_add_needs_in_place_or_output(tmp_path, capsys):
    path = av_csv(tmp_path / "user.csv", [1], [1])
    before = path.read_bytes()
    code, _, err = run(capsys, "add", path, 5, 6)
    assert code == 2 and "--in-place" in err and "-o OUT" in err
    assert path.read_bytes() == before and not (tmp_path / "user.csv.bak").exists()


def test_add_in_place_keeps_a_bak(tmp_path, capsys):
    path = av_csv(tmp_path / "user.csv", [1], [1])
    before = path.read_bytes()
    code, _, err = run(capsys, "add", path, 5, 6, 1, 1, "--in-place")
    assert code == 0
    assert "row 1, column 1 is already listed" in err
    assert read_list(path).positions().tolist() == [[1, 1], [5, 6]]
    assert (tmp_path / "user.csv.bak").read_bytes() == before
    assert read_list_file(path).format == "av-csv"


def test_add_to_output_refuses_existing_without_force(tmp_path, capsys):
    path = av_csv(tmp_path / "user.csv", [1], [1])
    out = av_csv(tmp_path / "out.csv", [9], [9])
    code, _, err = run(capsys, "add", path, 2, 2, "-o", out)
    assert code == 2 and "exists already" in err
    assert read_list(out).positions().tolist() == [[9, 9]]
    code, _, _ = run(capsys, "add", path, 2, 2, "-o", out, "--force")
    assert code == 0 and read_list(out).positions().tolist() == [[1, 1], [2, 2]]
    code, _, err = run(capsys, "add", path, 2, 2, "-o", path, "--force")
    assert code == 2 and "is an input file" in err


def test_add_checks_pairs_and_values(tmp_path, capsys):
    path = av_csv(tmp_path / "user.csv", [1], [1])
    code, _, err = run(capsys, "add", path, 5, "--in-place")
    assert code == 2 and "pairs ROW COLUMN" in err
    code, _, err = run(capsys, "add", path, 5, 70000, "--in-place")
    assert code == 2 and "65535" in err
    assert not (tmp_path / "user.csv.bak").exists()


def test_in_place_edit_keeps_a_format_the_name_does_not_tell(tmp_path, capsys):
    path = tmp_path / "sensor-defects"
    path.write_text("# column row timestamp\n10 20 0\n")
    code, _, _ = run(capsys, "add", path, 3, 4, "--in-place", "--from", "dcraw")
    assert code == 0
    assert path.read_text().splitlines()[-2:] == ["10 20 0", "4 3 0"]
    assert (tmp_path / "sensor-defects.bak").read_text() == "# column row timestamp\n10 20 0\n"


def test_remove_and_missing_position(tmp_path, capsys):
    path = av_csv(tmp_path / "user.csv", [1, 2, 2], [1, 2, 2])
    code, _, err = run(capsys, "remove", path, 4, 4, "--in-place")
    assert code == 2 and "row 4, column 4 is not in the list; nothing written" in err
    assert not (tmp_path / "user.csv.bak").exists()
    code, out, _ = run(capsys, "remove", path, 2, 2, "--in-place")
    assert code == 0 and "removed 2 entries" in out
    assert read_list(path).positions().tolist() == [[1, 1]]


def test_clear_keeps_factory_entries_of_a_backup(tmp_path, capsys):
    backup = tmp_path / "cam.bin"
    write_list(
        backup,
        DefectList([0, 1], [1, 1], source=["factory", "user"]),
        width=8,
        height=8,
        serial="S7",
        model="GT",
    )
    code, _, _ = run(capsys, "clear", backup, "-o", tmp_path / "cleared.bin")
    assert code == 0
    cleared = read_list_file(tmp_path / "cleared.bin")
    assert cleared.defects.count_by_source() == {"factory": 1}
    assert (cleared.serial, cleared.width) == ("S7", 8)
    csv = av_csv(tmp_path / "user.csv", [1], [1])
    code, _, _ = run(capsys, "clear", csv, "--in-place")
    assert code == 0 and csv.read_text() == "Row, Column\n"


# -- merge, diff, convert, stats ------------------------------------------------------------------


def test_merge_is_sorted_unique_and_refuses_overwriting_inputs(tmp_path, capsys):
    a = av_csv(tmp_path / "a.csv", [5, 1], [5, 1])
    b = av_csv(tmp_path / "b.csv", [1, 3], [1, 3])
    out = tmp_path / "merged.csv"
    code, text, _ = run(capsys, "merge", a, b, "-o", out)
    assert code == 0 and "into 3 unique entries" in text
    assert read_list_file(out).format == "av-csv"
    assert read_list(out).positions().tolist() == [[1, 1], [3, 3], [5, 5]]
    code, _, err = run(capsys, "merge", a, b, "-o", a, "--force")
    assert code == 2 and "is an input file" in err
    assert read_list(a).positions().tolist() == [[5, 5], [1, 1]]


def test_diff_reports_new_and_healed(tmp_path, capsys):
    old = av_csv(tmp_path / "old.csv", [1, 2], [1, 2])
    new = av_csv(tmp_path / "new.csv", [2, 3], [2, 3])
    code, out, _ = run(capsys, "diff", old, new, "--json")
    document = json.loads(out)
    assert code == 0
    assert (document["new"], document["healed"], document["unchanged"]) == (1, 1, 1)
    assert document["new_defects"] == [{"row": 3, "column": 3, "kind": "unknown"}]
    code, out, _ = run(capsys, "diff", old, new, "-o", tmp_path / "fresh.csv")
    assert code == 0 and "1 new" in out and "1 healed" in out
    assert read_list(tmp_path / "fresh.csv").positions().tolist() == [[3, 3]]


def test_convert_to_arri_with_serial_and_offset(tmp_path, capsys):
    source = av_csv(tmp_path / "user.csv", [10], [20])
    out = tmp_path / "mask.xml"
    code, _, err = run(capsys, "convert", source, out)
    assert code == 2 and "needs the camera serial (--serial)" in err and not out.exists()
    code, _, _ = run(
        capsys,
        "convert",
        source,
        out,
        "--serial",
        "K1.1",
        "--offset-x",
        "3",
        "--offset-y",
        "1",
        "--sensor",
        "GT5120",
    )
    assert code == 0
    assert '<Pixel x="23" y="11" />' in out.read_text()
    assert '<Sensor width="5120" height="5120" />' in out.read_text()
    back = tmp_path / "back.csv"
    code, _, err = run(capsys, "convert", out, back, "--to", "av-csv")
    assert code == 0 and read_list(back).positions().tolist() == [[10, 20]]


def test_convert_warns_about_lost_fields_and_picks_csv_flavour(tmp_path, capsys):
    rich = tmp_path / "detected.json"
    write_list(
        rich, DefectList([1], [2], kinds="hot", source="detected", evidence={"dark_mean": [900.0]})
    )
    code, _, err = run(capsys, "convert", rich, tmp_path / "user.csv", "--to", "av-csv")
    assert code == 0 and "does not carry kinds, evidence" in err
    code, _, err = run(capsys, "convert", rich, tmp_path / "rich.csv")
    assert code == 0 and "use --to av-csv for the Allied Vision tool" in err
    assert read_list(tmp_path / "rich.csv") == read_list(rich).with_source("detected")
    code, _, err = run(
        capsys,
        "convert",
        rich,
        tmp_path / "m.tif",
        "--serial",
        "X",
        "--width",
        "4",
        "--height",
        "4",
    )
    assert code == 0 and "--serial does not apply to the mask format" in err


def test_convert_mask_needs_a_size_and_infers_from_backup(tmp_path, capsys):
    backup = tmp_path / "cam.bin"
    write_list(backup, DefectList([1, 2], [1, 2]), width=4, height=3, serial="S")
    code, _, _ = run(capsys, "convert", backup, tmp_path / "mask.tif")
    assert code == 0
    assert read_list_file(tmp_path / "mask.tif").width == 4
    code, _, err = run(capsys, "convert", tmp_path / "mask.tif", tmp_path / "x.json")
    assert code == 0
    csv = av_csv(tmp_path / "u.csv", [1], [1])
    code, _, err = run(capsys, "convert", csv, tmp_path / "mask2.tif")
    assert code == 2 and "needs the sensor size" in err


def test_stats(tmp_path, capsys):
    path = av_csv(tmp_path / "a.csv", [1, 1, 1, 5, 5], [1, 2, 3, 9, 9])
    code, out, _ = run(capsys, "stats", path, "--json")
    document = json.loads(out)
    assert code == 0
    assert (
        document["entries"],
        document["duplicates"],
        document["clusters"],
        document["longest_run"],
    ) == (5, 1, 2, 3)
    code, out, _ = run(capsys, "stats", path)
    assert code == 0 and "longest run" in out


@pytest.mark.parametrize("command", ["check", "stats"])
def test_missing_file_is_exit_2(tmp_path, capsys, command):
    code, _, err = run(capsys, command, tmp_path / "nope.csv")
    assert code == 2 and "no such file" in err
