"""The history database on SQLite and on a real PostgreSQL server (tests/conftest.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sqlalchemy", reason="the fleet extra (SQLAlchemy) is not installed")

from fastdefect.cli import main
from fastdefect.defects import DefectList
from fastdefect.detection import DetectionConfig, DetectionResult, StackReport
from fastdefect.errors import InputError
from fastdefect.fleet import db as fleetdb
from fastdefect.fleet.db import SCHEMA_VERSION, database_url, open_database
from fastdefect.fleet.history import camera_history

KINDS = ("hot", "dark", "bright", "stuck_high")


def make_result(seed: int, n: int = 300, shape=(480, 640)) -> DetectionResult:
    """A detection result with ``n`` defects at random positions (no frames needed)."""
    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(shape[0] * shape[1], size=n, replace=False))
    rows, columns = np.divmod(flat, shape[1])
    kinds = [KINDS[i] for i in rng.integers(0, len(KINDS), n)]
    defects = DefectList.from_arrays(rows, columns, kinds=kinds).with_metadata(
        {
            "stacks": [
                {
                    "role": "dark",
                    "frames": 8,
                    "exposure_us": 5e5,
                    "gain": 6.0,
                    "temperature_c": 41.5,
                }
            ]
        }
    )
    report = StackReport("dark", "dark.tif", 8, 10, 5e5, 40.0, 2.0, 2.0, 102.0, n, 0, 0)
    return DetectionResult(defects, [report], shape, 10, DetectionConfig(), 0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return database_url(tmp_path / "history.sqlite")
    return database_url(request.getfixturevalue("postgres_url"))


def test_database_url_forms(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("FASTDEFECT_DB", raising=False)
    assert database_url(None) == f"sqlite:///{tmp_path}/data/fastdefect/history.sqlite"
    assert database_url("default") == database_url(None)
    monkeypatch.setenv("FASTDEFECT_DB", str(tmp_path / "env.sqlite"))
    assert database_url(None) == f"sqlite:///{tmp_path}/env.sqlite"
    assert database_url(tmp_path / "x.db") == f"sqlite:///{tmp_path}/x.db"
    assert database_url("postgresql://u@h:5/d") == "postgresql+psycopg://u@h:5/d"
    with pytest.raises(InputError, match="does not exist"):
        database_url(tmp_path / "missing" / "x.db")
    with pytest.raises(InputError, match="is a directory"):
        database_url(tmp_path)


def test_record_and_read_back(url):
    result = make_result(1)
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with open_database(url) as database:
        assert database.schema_version() == SCHEMA_VERSION
        run = database.record("SN1", result, model="GT5120", recorded_at=when)
        (record,) = database.runs("SN1")
        stored = database.defects(run)
    assert record.id == run and record.serial == "SN1" and record.model == "GT5120"
    assert record.recorded_at == when
    assert (record.width, record.height, record.bit_depth) == (640, 480, 10)
    assert (record.exposure_us, record.gain, record.temperature_c) == (5e5, 6.0, 41.5)
    assert (record.dark_frames, record.bright_frames) == (8, 0)
    assert record.pixel_threshold == "102 LSB10"
    assert record.counts == result.defects.count_by_kind()
    assert np.array_equal(stored.rows, result.defects.rows)
    assert np.array_equal(stored.columns, result.defects.columns)
    assert list(stored.kinds) == list(result.defects.kinds)


def test_migrations_apply_once_and_refuse_newer(url, monkeypatch):
    with open_database(url) as database:
        assert database.migrate() == []  # already current
        assert database.schema_version() == SCHEMA_VERSION

    def add_note(connection, tables):
        connection.exec_driver_sql("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(
        fleetdb, "MIGRATIONS", [*fleetdb.MIGRATIONS, (SCHEMA_VERSION + 1, "note", add_note)]
    )
    monkeypatch.setattr(fleetdb, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with open_database(url) as database:
        assert database.schema_version() == SCHEMA_VERSION + 1
        assert database.migrate() == []
    monkeypatch.undo()
    with pytest.raises(InputError, match="newer than this fastdefect"):
        open_database(url)


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_fleet_db import make_result
    from fastdefect.fleet.db import open_database

    url, worker = sys.argv[1], int(sys.argv[2])
    with open_database(url) as database:
        for run in range(4):
            seed = worker * 100 + run
            database.record("SHARED", make_result(seed, n=2000))
            database.record(f"W{{worker}}", make_result(seed + 50, n=500))
    """
)


@pytest.mark.slow
def test_eight_concurrent_writers_lose_nothing(url, tmp_path):
    """8 processes create the schema and record 64 runs at once; every row arrives."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(Path(__file__).parent)))
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), url, str(worker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(8)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with open_database(url) as database:
        assert database.schema_version() == SCHEMA_VERSION
        assert database.run_count() == 64
        shared = database.runs("SHARED")
        assert len(shared) == 32
        expected = {
            w * 100 + r: make_result(w * 100 + r, n=2000) for w in range(8) for r in range(4)
        }
        seen = set()
        for run in shared:
            stored = database.defects(run.id)
            assert len(stored) == run.defect_count == 2000
            match = [
                s
                for s, r in expected.items()
                if np.array_equal(r.defects.rows, stored.rows)
                and np.array_equal(r.defects.columns, stored.columns)
            ]
            assert len(match) == 1
            seen.add(match[0])
        assert seen == set(expected)
        for worker in range(8):
            runs = database.runs(f"W{worker}")
            assert [len(database.defects(r.id)) for r in runs] == [500] * 4
        with database.engine.connect() as connection:
            versions = connection.exec_driver_sql(
                "SELECT version FROM fastdefect_schema ORDER BY version"
            ).all()
        assert [v[0] for v in versions] == [m[0] for m in fleetdb.MIGRATIONS]


def test_history_compares_runs_and_fits_growth(url):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    year = timedelta(days=365.25)
    first = make_result(7, n=100)
    extra = DefectList.from_arrays([1, 2, 3], [5, 6, 7], kinds=["hot", "hot", "dark"])
    second_list = first.defects.merge(extra).remove(
        [first.defects.rows[0]], [first.defects.columns[0]]
    )
    second = make_result(7, n=100)
    second.defects = second_list.with_metadata(first.defects.metadata)
    with open_database(url) as database:
        old = database.record("CAM", first, recorded_at=start)
        new = database.record("CAM", second, recorded_at=start + 2 * year)
        history = camera_history(database, "CAM", capacity=130)
        assert history.old.id == old and history.new.id == new
        new = history.diff.new
        assert sorted(zip(new.rows.tolist(), new.columns.tolist(), strict=True)) == [
            (1, 5),
            (2, 6),
            (3, 7),
        ]
        assert len(history.diff.healed) == 1
        assert len(history.diff.unchanged) == 99
        assert history.growth["total"] == pytest.approx(1.0)  # 100 -> 102 in two years
        capacity = history.projections[0]
        assert capacity.status == "projected"
        assert capacity.years == pytest.approx(28.0)  # (130 - 102) / 1 per year
        with pytest.raises(InputError, match="no run recorded for camera 'NOPE'"):
            camera_history(database, "NOPE")
        with pytest.raises(InputError, match="is not a run of camera"):
            camera_history(database, "CAM", old=999)


def test_history_cli_json_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    url = database_url(tmp_path / "h.sqlite")
    with open_database(url) as database:
        database.record("CAM", make_result(1), recorded_at=datetime(2021, 1, 1, tzinfo=UTC))
        database.record("CAM", make_result(2), recorded_at=datetime(2022, 1, 1, tzinfo=UTC))
    plot = tmp_path / "history.png"
    code = main(["history", "CAM", "--db", url, "--json", "--plot", str(plot)])
    assert code == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["history", "CAM", "--db", url, "--plot", str(plot)]) == 2  # exists


def test_detect_db_needs_serial(tmp_path):
    assert main(["detect", "--dark", str(tmp_path / "x.tif"), "--db", "default"]) == 2


def test_history_cli_json_document(tmp_path, capsys):
    url = database_url(tmp_path / "h.sqlite")
    with open_database(url) as database:
        database.record("CAM", make_result(1), recorded_at=datetime(2021, 1, 1, tzinfo=UTC))
        database.record("CAM", make_result(2), recorded_at=datetime(2022, 1, 1, tzinfo=UTC))
    capsys.readouterr()
    assert main(["history", "CAM", "--db", url, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [run["id"] for run in document["runs"]] == [1, 2]
    comparison = document["comparison"]
    assert comparison["old_run"] == 1 and comparison["new_run"] == 2
    first, second = make_result(1).defects, make_result(2).defects
    first_set = set(zip(first.rows.tolist(), first.columns.tolist(), strict=True))
    second_set = set(zip(second.rows.tolist(), second.columns.tolist(), strict=True))
    assert comparison["new"] == len(second_set - first_set)
    assert comparison["healed"] == len(first_set - second_set)
    assert comparison["persisting"] == len(first_set & second_set)
    assert {(d["row"], d["column"]) for d in comparison["new_defects"]} == second_set - first_set


def test_unreachable_or_bad_database_is_a_clear_error(tmp_path, capsys):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()  # nothing listens there now
    url = f"postgresql://nobody@127.0.0.1:{number}/none"
    assert main(["history", "CAM", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "history database postgresql+psycopg://nobody@127.0.0.1" in err
    assert "Traceback" not in err
    assert main(["history", "CAM", "--db", "nosuchdriver://x"]) == 2
    assert "cannot use database URL 'nosuchdriver://x'" in capsys.readouterr().err


def test_history_prints_a_bracketed_serial_as_text(tmp_path, capsys, monkeypatch):
    """A serial is user text: '[red]CAM[/x]' is shown as typed, never as rich markup."""
    from fastdefect.cli._common import console

    monkeypatch.setattr(console, "_width", 300)
    serial = "[red]CAM[/x]"
    url = database_url(tmp_path / "h.sqlite")
    with open_database(url) as database:
        database.record(serial, make_result(1), recorded_at=datetime(2021, 1, 1, tzinfo=UTC))
    capsys.readouterr()
    assert main(["history", serial, "--db", url]) == 0
    assert f"Runs of camera {serial}" in capsys.readouterr().out
