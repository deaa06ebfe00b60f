"""The ageing simulator, and `history` finding exactly its new defects (SQLite, PostgreSQL)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from fastdefect.cli import main
from fastdefect.detection import detect
from fastdefect.fleet.ageing import AgeingStep, age_directory
from fastdefect.simulate import SimulationConfig, read_truth, simulate_to_directory

SIZE = 192


@pytest.fixture(scope="module")
def sensors(tmp_path_factory):
    """A simulated sensor, the same 20 years later, and both detections."""
    base = tmp_path_factory.mktemp("ageing")
    config = SimulationConfig(width=SIZE, height=SIZE, frames=8, seed=5)
    simulate_to_directory(base / "young", config)
    aged = age_directory(
        base / "young", base / "old", AgeingStep(years=20, rate=100, heal_rate=0.1, seed=2)
    )
    young_result = detect(dark=base / "young" / "dark.tif", bright=base / "young" / "bright.tif")
    old_result = detect(dark=base / "old" / "dark.tif", bright=base / "old" / "bright.tif")
    return base, aged, young_result, old_result


def positions(rows, columns):
    return set(zip(np.asarray(rows).tolist(), np.asarray(columns).tolist(), strict=True))


def read_changes(path):
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    return {
        change: {(int(r["row"]), int(r["column"])) for r in rows if r["change"] == change}
        for change in ("new", "healed")
    }


def test_aged_sensor_keeps_old_defects_and_adds_new(sensors):
    base, aged, _, _ = sensors
    young = read_truth(base / "young" / "truth.csv")
    old = read_truth(base / "old" / "truth.csv")
    changes = read_changes(base / "old" / "changes.csv")
    expected_new = 100 * SIZE * SIZE / 1e6 * 20  # 73.7 on average
    assert 40 < len(changes["new"]) < 110
    assert len(changes["healed"]) >= 1
    assert changes["new"] == positions(aged.new["row"], aged.new["column"])
    assert changes["healed"] == positions(aged.healed["row"], aged.healed["column"])
    young_set = positions(young["row"], young["column"])
    old_set = positions(old["row"], old["column"])
    assert old_set == (young_set - changes["healed"]) | changes["new"]
    assert not changes["new"] & young_set
    new_rows = old.select(old["source"] == "aged_hot")
    assert positions(new_rows["row"], new_rows["column"]) == changes["new"]
    assert set(new_rows["kind"].tolist()) == {"hot"}
    threshold = SimulationConfig(width=SIZE, height=SIZE).resolved().threshold_dn
    assert np.all(new_rows["dark_deviation"] > 1.9 * threshold)
    assert expected_new > 0


def test_detection_of_aged_sensor_matches_its_truth(sensors):
    base, _, young_result, old_result = sensors
    for name, result in (("young", young_result), ("old", old_result)):
        truth = read_truth(base / name / "truth.csv")
        found = positions(result.defects.rows, result.defects.columns)
        assert found == positions(truth["row"], truth["column"]), name


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_history_finds_exactly_the_new_defects(sensors, backend, tmp_path, request):
    pytest.importorskip("sqlalchemy")
    from fastdefect.fleet.db import database_url, open_database
    from fastdefect.fleet.history import camera_history

    base, _, young_result, old_result = sensors
    if backend == "sqlite":
        url = database_url(tmp_path / "history.sqlite")
    else:
        url = database_url(request.getfixturevalue("postgres_url"))
    start = datetime(2006, 3, 1, tzinfo=UTC)
    with open_database(url) as database:
        database.record("AGED-1", young_result, model="GT5120", recorded_at=start)
        later = start + timedelta(days=365.25 * 20)
        database.record("AGED-1", old_result, model="GT5120", recorded_at=later)
        history = camera_history(database, "AGED-1")
    changes = read_changes(base / "old" / "changes.csv")
    assert positions(history.diff.new.rows, history.diff.new.columns) == changes["new"]
    assert positions(history.diff.healed.rows, history.diff.healed.columns) == changes["healed"]
    assert set(history.diff.new.kinds.tolist()) == {"hot"}
    rate = (len(changes["new"]) - len(changes["healed"])) / 20
    assert history.growth["total"] == pytest.approx(rate, rel=1e-6)


def test_cli_ages_and_refuses_bad_requests(sensors, tmp_path):
    base, _, _, _ = sensors
    young = base / "young"
    out = tmp_path / "aged"
    assert main(["simulate", "--aged-from", str(young), "--years", "5", "-o", str(out)]) == 0
    assert (out / "changes.csv").is_file()
    # The same again: outputs exist.
    assert main(["simulate", "--aged-from", str(young), "--years", "5", "-o", str(out)]) == 2
    # An aged directory can be aged again (its steps are replayed to rebuild it).
    again = tmp_path / "again"
    assert main(["simulate", "--aged-from", str(out), "--years", "5", "-o", str(again)]) == 0
    first = read_truth(out / "truth.csv")
    second = read_truth(again / "truth.csv")
    changes = read_changes(again / "changes.csv")
    assert (
        positions(second["row"], second["column"])
        == (positions(first["row"], first["column"]) - changes["healed"]) | changes["new"]
    )
    assert main(["simulate", "--aged-from", str(young), "-o", str(tmp_path / "x")]) == 2
    assert main(["simulate", "--aged-from", str(young), "--years", "1", "--width", "64",
                 "-o", str(tmp_path / "y")]) == 2  # fmt: skip
    assert main(["simulate", "--aged-from", str(young), "--years", "1", "-o", str(young)]) == 2
    assert main(["simulate", "--aged-from", str(tmp_path), "--years", "1", "-o",
                 str(tmp_path / "z")]) == 2  # fmt: skip


def test_report_shows_the_camera_history(sensors, tmp_path):
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("matplotlib")
    from fastdefect.fleet.db import database_url, open_database

    base, _, young_result, old_result = sensors
    url = database_url(tmp_path / "history.sqlite")
    start = datetime(2006, 3, 1, tzinfo=UTC)
    with open_database(url) as database:
        database.record("AGED-1", young_result, recorded_at=start)
        database.record("AGED-1", old_result, recorded_at=start + timedelta(days=7305))
    page = tmp_path / "report.html"
    stacks = [
        "--dark",
        str(base / "old" / "dark.tif"),
        "--bright",
        str(base / "old" / "bright.tif"),
    ]
    assert main(["report", *stacks, "-o", str(page), "--serial", "AGED-1", "--db", url]) == 0
    html = page.read_text()
    section = html[html.index('id="history"') :]
    new = len(read_changes(base / "old" / "changes.csv")["new"])
    assert f"{new:,} new" in section
    assert '<img src="data:image/png;base64,' in section
    # Without --serial there is no history section; an unknown serial is a clear error.
    assert main(["report", *stacks, "-o", str(tmp_path / "plain.html")]) == 0
    assert 'id="history"' not in (tmp_path / "plain.html").read_text()
    assert main(["report", *stacks, "-o", str(tmp_path / "x.html"), "--serial", "NOPE",
                 "--db", url]) == 2  # fmt: skip
