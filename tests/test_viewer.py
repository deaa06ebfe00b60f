"""The viewer's session and server without a browser: tiles, edits, saving, the token.

Tiles are checked against plain numpy (block means written out as loops over the four
corners), the mask mode against :func:`fastdefect.correction.correct`, verdicts against
:func:`fastdefect.rules.check_list`. The server is the real one on 127.0.0.1, spoken to
with urllib; ``fastdefect view --no-browser`` runs as a real subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from fastdefect.correction import correct
from fastdefect.defects import DefectList
from fastdefect.errors import InputError, OutputExistsError
from fastdefect.formats import read_list, write_list
from fastdefect.rules import check_list
from fastdefect.viewer import TILE_SIZE, ViewerSession, as_display_frame, load_frame, serve
from fastdefect.viewer.session import _halve

from reference import reference_halve


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (7, 5), (16, 9), (33, 64)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_halve_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    array = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    expected = reference_halve(array)
    got = _halve(array)
    assert got.dtype == array.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.fixture()
def frame() -> np.ndarray:
    rng = np.random.default_rng(5)
    image = rng.normal(300, 8, (600, 700)).clip(0, 4095).astype(np.uint16)
    image[100, 200] = 4000
    image[100, 201] = 3900
    image[500, 0] = 0
    return image


@pytest.fixture()
def defects() -> DefectList:
    return DefectList([100, 100, 500], [200, 201, 0], kinds=["hot", "hot", "dark"])


def test_tiles_are_the_frame_and_its_correction(frame, defects):
    session = ViewerSession(frame, defects, label="t", method="left", rules="av")
    assert session.wait_ready(60)
    assert session.levels() == 3  # 700 -> 350 -> 175 fits one tile
    np.testing.assert_array_equal(session.tile("raw", 0, 0, 0), frame[:TILE_SIZE, :TILE_SIZE])
    np.testing.assert_array_equal(session.tile("raw", 0, 2, 2), frame[512:, 512:])
    corrected = correct(frame, defects, method="left").image
    np.testing.assert_array_equal(session.tile("mask", 0, 0, 0), corrected[:256, :256])
    assert session.tile("mask", 0, 0, 0)[100, 200] == frame[100, 199]  # the run's left pixel
    level2 = reference_halve(reference_halve(frame))
    np.testing.assert_array_equal(session.tile("raw", 2, 0, 0), level2)
    with pytest.raises(InputError):
        session.tile("raw", 3, 0, 0)
    with pytest.raises(InputError):
        session.tile("raw", 0, 3, 0)
    with pytest.raises(InputError):
        session.tile("sideways", 0, 0, 0)


def test_edits_verdicts_and_undo(frame, defects):
    session = ViewerSession(frame, defects, rules="av")
    assert session.list_state()["counts"] == {"ok": 2, "warn": 0, "error": 1}
    # Three more pixels make the run at row 100 five long: yellow (not recommended).
    for column in (202, 203, 204):
        assert session.add(100, column)
    assert not session.add(100, 204)  # already listed: nothing changes
    state = session.list_state()
    expected = check_list(session.defects, session.rules)
    assert state["verdicts"] == expected.levels.tolist()
    assert state["counts"] == {"ok": 0, "warn": 5, "error": 1}
    assert state["edits"] == 3
    corrected = session.tile("mask", 0, 0, 0)
    assert corrected[100, 204] == frame[100, 199]  # the correction follows the edit
    assert session.remove(500, 0)
    assert not session.remove(500, 0)
    assert session.list_state()["counts"]["error"] == 0
    assert session.undo()
    assert session.list_state()["counts"]["error"] == 1
    while session.undo():
        pass
    assert session.defects == defects
    with pytest.raises(InputError, match="outside"):
        session.add(600, 0)
    pixel = session.pixel(100, 200)
    assert pixel["value"] == 4000 and pixel["listed"] and pixel["kind"] == "hot"
    assert pixel["corrected"] == frame[100, 199]
    assert session.pixel(0, 0)["listed"] is False


def test_save_is_atomic_and_never_over_a_file_unasked(frame, defects, tmp_path):
    source = tmp_path / "list.csv"
    write_list(source, defects, "av-csv")
    before = source.read_bytes()
    session = ViewerSession(frame, defects, list_path=source, list_format="av-csv")
    session.add(10, 10)
    with pytest.raises(OutputExistsError):
        session.save(source)
    assert source.read_bytes() == before
    result = session.save(source, overwrite=True)
    assert result.replaced and result.format == "av-csv"
    assert (tmp_path / "list.csv.bak").read_bytes() == before  # the input is kept
    assert len(read_list(source)) == 4
    for name, fmt in (("e.json", None), ("e.xml", None), ("e.tif", None), ("e.bin", "bin")):
        try:
            saved = session.save(tmp_path / name, fmt)
        except InputError as error:  # a format that needs what the viewer cannot know
            assert "serial" in str(error)
            continue
        back = read_list(saved.path)
        assert back.contains(10, 10) and back.contains(100, 200), name
    assert not list(tmp_path.glob(".*.tmp"))
    # The frame's own file is never written, confirmed or not.
    np.save(tmp_path / "frame.npy", frame)
    viewing = ViewerSession(frame, defects, frame_paths=[tmp_path / "frame.npy"])
    with pytest.raises(InputError, match="the frame being viewed"):
        viewing.save(tmp_path / "frame.npy", "csv", overwrite=True)
    np.testing.assert_array_equal(np.load(tmp_path / "frame.npy"), frame)


def test_float_frames_are_rounded_with_a_note():
    image = np.array([[1.4, 2.6], [65535.0, 0.0]])
    frame, note = as_display_frame(image, "f")
    np.testing.assert_array_equal(frame, [[1, 3], [65535, 0]])
    assert frame.dtype == np.uint16 and "rounded" in note
    with pytest.raises(InputError, match="values run"):
        as_display_frame(np.array([[-5.0, 1.0]]), "f")
    with pytest.raises(InputError, match="NaN"):
        as_display_frame(np.array([[np.nan, 1.0]]), "f")


def test_a_stack_is_shown_as_its_mean(tmp_path):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 1000, (5, 40, 30)).astype(np.uint16)
    np.save(tmp_path / "stack.npy", frames)
    loaded = load_frame(str(tmp_path / "stack.npy"))
    np.testing.assert_allclose(loaded.image, frames.mean(axis=0))
    assert "mean of 5 frames" in loaded.label
    assert loaded.paths == [tmp_path / "stack.npy"]
    session = ViewerSession(loaded.image, label=loaded.label)
    np.testing.assert_array_equal(session.frame, np.rint(frames.mean(axis=0)).astype(np.uint16))


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_server_refuses_requests_without_the_token(frame, defects):
    session = ViewerSession(frame, defects)
    with serve(session) as server:
        token = {"X-Fastdefect-Token": server.token}
        assert server.url.startswith("http://127.0.0.1:")
        assert server.httpd.server_address[0] == "127.0.0.1"
        for path in ("/", "/api/info", "/api/list", "/api/tile/raw/0/0/0", "/static/viewer.js"):
            status, body = _get(server.port, path)
            assert status == 403, path
            assert b"token" in body
            assert _get(server.port, path + "?token=wrong")[0] == 403
        status, body = _get(server.port, "/api/info", token)
        assert status == 200 and json.loads(body)["width"] == 700
        status, body = _get(server.port, f"/?token={server.token}")
        assert status == 200 and b"<canvas" in body and server.token.encode() in body
        # Another Host (a DNS name pointed at 127.0.0.1) is refused even with the token.
        status, _ = _get(server.port, "/api/info", {**token, "Host": "evil.example:80"})
        assert status == 403
        status, body = _get(server.port, "/api/tile/raw/0/0/0", token)
        assert status == 200
        tile = np.frombuffer(body, "<u2").reshape(256, 256)
        np.testing.assert_array_equal(tile, frame[:256, :256])
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/add",
            data=b'{"row": 1, "column": 2}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        assert not session.defects.contains(1, 2)


@pytest.mark.slow
def test_view_command_prints_the_url_and_serves(tmp_path, frame, defects):
    np.save(tmp_path / "frame.npy", frame)
    write_list(tmp_path / "list.csv", defects, "csv")
    process = subprocess.Popen(
        [sys.executable, "-m", "fastdefect", "view", str(tmp_path / "frame.npy"),
         "--defects", str(tmp_path / "list.csv"), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and "?token=" in line
        port = int(line.split(":")[2].split("/")[0])
        token = line.split("token=")[1]
        assert _get(port, "/api/list")[0] == 403
        status, body = _get(port, f"/api/list?token={token}")
        assert status == 200 and json.loads(body)["counts"]["error"] == 1
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


@pytest.mark.slow
def test_view_opens_on_the_simulated_camera(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "fastdefect", "view", "--camera", "sim:GT5120", "--light", "0.3",
         "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "400", "FASTDEFECT_STATE_DIR": str(tmp_path)},
    )  # fmt: skip
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:"), process.stderr.read()
        port = int(line.split(":")[2].split("/")[0])
        token = line.split("token=")[1]
        status, body = _get(port, f"/api/info?token={token}")
        info = json.loads(body)
        assert status == 200
        assert (info["width"], info["height"], info["bit_depth"]) == (5120, 5120, 10)
        assert info["label"] == "camera GT5120 GT5120-SIM0001"
        status, body = _get(port, f"/api/tile/raw/0/10/10?token={token}")
        tile = np.frombuffer(body, "<u2")
        assert status == 200 and tile.size == 256 * 256
        assert 100 < tile.mean() < 1023  # lit at 30 percent of the 10-bit scale
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_a_float_master_frame_opens(tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    master = np.random.default_rng(2).normal(100, 2, (30, 40)).astype(np.float32)
    hdu = fits.PrimaryHDU(master)
    hdu.header["NCOMBINE"] = 20
    hdu.writeto(tmp_path / "master_dark.fits")
    loaded = load_frame(str(tmp_path / "master_dark.fits"), bit_depth=12)
    np.testing.assert_array_equal(loaded.image, master.astype(np.float64))
    assert loaded.bit_depth == 12 and "master frame" in loaded.notes[0]
    session = ViewerSession(loaded.image, notes=loaded.notes)
    np.testing.assert_array_equal(session.frame, np.rint(master).astype(np.uint16))
    assert any("rounded to whole DN" in note for note in session.notes)
