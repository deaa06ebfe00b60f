"""`fastdefect batch` on real Dask clusters: a LocalCluster of worker processes, and a
scheduler plus two workers started as separate processes (`dask scheduler`, `dask worker`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the fleet extra (dask[distributed]) is not installed")

from fastdefect.cli import main
from fastdefect.fleet.batch import FLEET_COLUMNS, BatchOptions, run_batch
from fastdefect.fleet.manifest import read_manifest
from fastdefect.simulate import SimulationConfig, simulate_to_directory

CAMERAS = ("CAM-A", "CAM-B", "CAM-C")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three small simulated cameras, one corrupt camera, and their manifest."""
    base = tmp_path_factory.mktemp("fleet")
    for seed, serial in enumerate(CAMERAS, start=1):
        config = SimulationConfig(width=96, height=80, frames=6, seed=seed)
        simulate_to_directory(base / serial, config)
    (base / "broken").mkdir()
    (base / "broken" / "dark.tif").write_bytes(b"II*\x00 this is not a whole TIFF")
    lines = ["serial,role,path,model"]
    for serial in CAMERAS:
        lines += [
            f"{serial},dark,{serial}/dark.tif,GT1930",
            f"{serial},bright,{serial}/bright.tif,",
        ]
    lines += ["BROKEN,dark,broken/dark.tif,", "BROKEN,bright,CAM-A/bright.tif,"]
    manifest = base / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return base, manifest


def detect_csv(base: Path, serial: str, out: Path, *extra: str) -> bytes:
    target = out / f"{serial}.csv"
    stacks = [
        "--dark",
        str(base / serial / "dark.tif"),
        "--bright",
        str(base / serial / "bright.tif"),
    ]
    code = main(["detect", *stacks, "-o", str(target), "--force", *extra])
    assert code == 0
    return target.read_bytes()


def read_fleet(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames) == FLEET_COLUMNS
        return {row["serial"]: row for row in reader}


def check_outputs(base: Path, out: Path, tmp_path: Path, *extra: str) -> None:
    """Per camera: defects.csv byte-identical to `detect`; the corrupt one isolated."""
    expected_dir = tmp_path / "detect"
    expected_dir.mkdir(exist_ok=True)
    rows = read_fleet(out / "fleet.csv")
    assert list(rows) == [*CAMERAS, "BROKEN"]
    for serial in CAMERAS:
        expected = detect_csv(base, serial, expected_dir, *extra)
        assert (out / serial / "defects.csv").read_bytes() == expected
        row = rows[serial]
        assert row["status"] == "ok" and row["message"] == ""
        assert int(row["defects"]) == expected.count(b"\n") - 1
        assert int(row["ok"]) + int(row["warn"]) + int(row["error"]) == int(row["defects"])
        assert sum(int(row[k]) for k in FLEET_COLUMNS[6:14]) == int(row["defects"])
    broken = rows["BROKEN"]
    assert broken["status"] == "error"
    assert "broken/dark.tif" in broken["message"]
    assert not (out / "BROKEN" / "defects.csv").exists()
    page = (out / "fleet.html").read_text()
    for serial in CAMERAS:
        assert f'href="{serial}/defects.csv"' in page
    assert "broken/dark.tif" in page


def test_local_cluster_matches_detect_and_isolates_a_corrupt_camera(fleet, tmp_path):
    base, manifest = fleet
    out = tmp_path / "out"
    seen = []
    result = run_batch(manifest, out, workers=2, progress=lambda done, total: seen.append(done))
    assert result.workers == 2
    assert [c["serial"] for c in result.failed] == ["BROKEN"]
    assert seen[-1] == 4
    # Two worker processes did the work, each limited to one numba thread.
    pids = {c["worker_pid"] for c in result.cameras if c["status"] == "ok"}
    assert os.getpid() not in pids
    assert {c["threads"] for c in result.cameras if c["status"] == "ok"} == {1}
    check_outputs(base, out, tmp_path)

    # A re-run keeps the complete cameras and retries the failed one ...
    again = run_batch(manifest, out, workers=1)
    assert [bool(c.get("skipped")) for c in again.cameras] == [True, True, True, False]
    check_outputs(base, out, tmp_path)
    # ... and a changed input is redone.
    os.utime(base / "CAM-B" / "dark.tif")
    changed = run_batch(manifest, out, workers=1)
    assert [bool(c.get("skipped")) for c in changed.cameras] == [True, False, True, False]


def test_long_stacks_split_into_frame_chunks_give_the_same_files(fleet, tmp_path):
    """Six-frame stacks in chunks of four (a whole chunk and a remainder), summed on
    both workers and merged: byte for byte what one pass (`detect`) writes."""
    base, manifest = fleet
    out = tmp_path / "chunked"
    result = run_batch(manifest, out, workers=2, chunk_frames=4)
    ok = [c for c in result.cameras if c["status"] == "ok"]
    assert [c["chunks"] for c in ok] == [4, 4, 4]  # two stacks of two chunks per camera
    check_outputs(base, out, tmp_path)
    whole = run_batch(manifest, tmp_path / "whole", workers=1, chunk_frames=0)
    assert {c["chunks"] for c in whole.cameras if c["status"] == "ok"} == {0}


@pytest.mark.slow
def test_cli_force_options_and_history(fleet, tmp_path, capsys):
    base, manifest = fleet
    out = tmp_path / "out"
    db = tmp_path / "history.sqlite"
    args = ["batch", str(manifest), "-o", str(out), "--workers", "2", "--threshold", "90lsb10",
            "--db", str(db), "--json", "--reports"]  # fmt: skip
    assert main(args) == 2  # a camera failed: bad input
    summary = json.loads(capsys.readouterr().out)
    assert (summary["cameras"], summary["ok"], summary["error"]) == (4, 3, 1)
    check_outputs(base, out, tmp_path, "--threshold", "90lsb10")
    capsys.readouterr()
    assert main([*args, "--force"]) == 2
    summary = json.loads(capsys.readouterr().out)
    assert summary["skipped"] == 0
    # Each run of each good camera was recorded: two runs, identical lists.
    assert main(["history", "CAM-A", "--db", str(db), "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [r["command"] for r in history["runs"]] == ["batch", "batch"]
    assert history["comparison"]["new"] == history["comparison"]["healed"] == 0
    # The per-camera reports are linked from the fleet page and show the history.
    page = (out / "fleet.html").read_text()
    for serial in CAMERAS:
        assert f'href="{serial}/report.html"' in page
        report = (out / serial / "report.html").read_text()
        assert 'id="history"' in report and "2 recorded run(s)" in report


def test_manifest_errors_name_the_line(tmp_path):
    from fastdefect.errors import FileFormatError

    cases = {
        "serial,role\nA,dark\n": "lacks path",
        "serial,role,path,colour\nA,dark,x\n": "unknown column 'colour'",
        "serial,role,path\nA,flat,x.tif\n": "line 2: role 'flat'",
        "serial,role,path\nA,dark,x.tif\nB/../x,dark,y.tif\n": "line 3: serial",
        "serial,role,path,bit_depth\nA,dark,x.tif,12\nA,bright,y.tif,10\n": "line 3: camera A",
        "serial,role,path,exposure_us\nA,dark,x.tif,100\nA,dark,y.tif,\n": "every dark row",
        "serial,role,path,exposure_us\nA,dark,x.tif,fast\n": "not a number",
        "serial,role,path,width\nA,dark,x.tif,640\n": "both width and height",
        "serial,role,path\nA,saturated,x.tif\n": "no dark or bright",
    }
    for text, message in cases.items():
        path = tmp_path / "m.csv"
        path.write_text(text)
        with pytest.raises(FileFormatError, match=message):
            read_manifest(path)
    path.write_text("serial,role,path,exposure_us,cfa\nA,dark,d1,100,rggb\nA,dark,/abs/d2,200,\n")
    (job,) = read_manifest(path)
    assert job.dark == [str(tmp_path / "d1"), "/abs/d2"]
    assert job.dark_exposures == [100.0, 200.0] and job.cfa == "RGGB"
    assert main(["batch", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o")]) == 2


def test_wrong_sensor_size_fails_that_camera_only(fleet, tmp_path):
    base, _ = fleet
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "serial,role,path,width,height\n"
        f"RIGHT,dark,{base}/CAM-A/dark.tif,96,80\n"
        f"WRONG,dark,{base}/CAM-B/dark.tif,640,480\n"
    )
    result = run_batch(manifest, tmp_path / "out", workers=1, options=BatchOptions())
    status = {c["serial"]: c for c in result.cameras}
    assert status["RIGHT"]["status"] == "ok"
    assert status["WRONG"]["status"] == "error"
    assert "frames are 96 x 80 pixels but the manifest says 640 x 480" in status["WRONG"]["message"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_existing_cluster_scheduler_and_two_worker_processes(fleet, tmp_path):
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    base, manifest = fleet
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = []

    def start(name: str, *args: str) -> subprocess.Popen:
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        return process

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
              "--no-dashboard")  # fmt: skip
        for number in (1, 2):
            start(f"worker{number}", "worker", address, "--nthreads", "1", "--nworkers", "1",
                  "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{number}")  # fmt: skip
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=60)
                    worker_pids = set(client.run(os.getpid).values())
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        out = tmp_path / "out"
        code = main(["batch", str(manifest), "-o", str(out), "--scheduler", address])
        assert code == 2  # the corrupt camera
        check_outputs(base, out, tmp_path)
        summaries = [json.loads((out / serial / "summary.json").read_text()) for serial in CAMERAS]
        assert {s["worker_pid"] for s in summaries} <= worker_pids
        assert {s["threads"] for s in summaries} == {1}  # each worker's own thread count
        # The cluster outlives the batch: a second one connects again and keeps the results.
        assert main(["batch", str(manifest), "-o", str(out), "--scheduler", address]) == 2
    finally:
        for process, log in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error(fleet, tmp_path, capsys):
    _, manifest = fleet
    address = f"tcp://127.0.0.1:{_free_port()}"
    code = main(["batch", str(manifest), "-o", str(tmp_path / "o"), "--scheduler", address])
    assert code == 2
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
