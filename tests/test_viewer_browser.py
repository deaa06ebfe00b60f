"""The viewer in a real browser: Debian's headless Chromium driven by Playwright.

One 5120 x 5120 16-bit frame with defects at known places, served by the real server on
127.0.0.1. The tests load the page (no console message, no request that is not to the
server), zoom to a known defect and read the canvas in each mode (the drawn grey level
is the stretch of the pixel's value; the mask mode shows the value the camera's
correction gives, computed here with :func:`fastdefect.correction.correct`; highlight
paints the kind's colour), click to add a pixel and save it through the page, save over
the opened list only after the confirmation, and check that the token is required.

The first view and tile times are measured in the browser and written to the file named
by ``FASTDEFECT_VIEWER_TIMINGS`` (and printed); they are not asserted (speed targets live
in benchmarks/). ``FASTDEFECT_VIEWER_SCREENSHOTS`` names a directory for screenshots of
the three modes at whole-sensor and pixel zoom.

Skips only when Chromium or Playwright is missing; on CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import numpy as np
import pytest

from fastdefect.correction import correct
from fastdefect.defects import DefectList
from fastdefect.formats import read_list, write_list
from fastdefect.viewer import ViewerSession, serve
from test_report_browser import find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 5120
HOT = (2500, 3000)  # start of a run of two hot pixels
WARN_RUN = (4000, 100)  # a run of five: not recommended (warn)
ERROR = (10, 0)  # no pixel to its left
NEW = (3000, 3000)  # not listed: the test adds it
KIND_RGB = {"hot": (255, 48, 48), "dark": (0, 213, 255)}
VERDICT_RGB = {"ok": (46, 204, 113), "warn": (241, 196, 15), "error": (231, 76, 60)}

WAIT_IDLE = """() => new Promise((resolve) => {
  const check = () => requestAnimationFrame(() => requestAnimationFrame(() => {
    const s = window.fastdefectViewer && window.fastdefectViewer.state;
    if (s && s.list && document.body.dataset.ready === "1" && s.pending.size === 0
        && document.body.dataset.pendingTiles === "0") resolve(true);
    else setTimeout(check, 10);
  }));
  check();
})"""


@pytest.fixture(scope="module")
def playwright_browser():
    if os.environ.get("CI"):
        from playwright.sync_api import sync_playwright
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
        sync_playwright = sync_api.sync_playwright
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium binary on CI: .ci/run should have installed Debian's chromium")
        pytest.skip("no chromium binary (apt-get install chromium) for the real-browser test")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    directory = tmp_path_factory.mktemp("viewer")
    rng = np.random.default_rng(14)
    frame = rng.normal(300, 6, (SIZE, SIZE)).astype(np.uint16)
    frame[HOT] = 3000
    frame[HOT[0], HOT[1] + 1] = 2800
    frame[WARN_RUN[0], WARN_RUN[1] : WARN_RUN[1] + 5] = 20
    frame[ERROR] = 4000
    rows = [HOT[0], HOT[0], *([WARN_RUN[0]] * 5), ERROR[0]]
    columns = [HOT[1], HOT[1] + 1, *range(WARN_RUN[1], WARN_RUN[1] + 5), ERROR[1]]
    kinds = ["hot", "hot", *(["dark"] * 5), "hot"]
    defects = DefectList(rows, columns, kinds=kinds, source="detected")
    list_path = write_list(directory / "list.csv", defects, "csv")
    session = ViewerSession(
        frame, defects, label="browser test", rules="av", list_path=list_path, list_format="csv"
    )
    assert session.wait_ready(120)
    server = serve(session)
    yield {"frame": frame, "defects": defects, "session": session, "server": server,
           "dir": directory, "list": list_path}  # fmt: skip
    server.stop()


@pytest.fixture(scope="module")
def page(playwright_browser, scene):
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    messages: list[str] = []
    foreign: list[str] = []
    origin = f"http://127.0.0.1:{scene['server'].port}/"
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.on("requestfailed", lambda request: messages.append(f"failed: {request.url}"))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith((origin, "data:")) else foreign.append(request.url)
        ),
    )
    timings: dict[str, object] = {}
    for attempt in ("cold", "warm"):  # a fresh browser, then the page loaded again
        page.goto(scene["server"].url)
        page.evaluate(WAIT_IDLE)
        timings[f"first_view_ms_{attempt}"] = float(
            page.evaluate("document.body.dataset.firstView")
        )
    page.messages = messages
    page.foreign = foreign
    page.timings = timings
    yield page
    context.close()


def idle(page) -> None:
    page.evaluate(WAIT_IDLE)


def screenshot(page, name: str) -> None:
    directory = os.environ.get("FASTDEFECT_VIEWER_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"))


def canvas_rgb(page, row: int, column: int) -> tuple[int, int, int]:
    where = page.evaluate(f"fastdefectViewer.screenOf({row}, {column})")
    rgba = page.evaluate(f"fastdefectViewer.canvasPixel({where['canvasX']}, {where['canvasY']})")
    return tuple(rgba[:3])


def set_stretch(page, low: int, high: int) -> None:
    page.fill("#low", str(low))
    page.dispatch_event("#low", "change")
    page.fill("#high", str(high))
    page.dispatch_event("#high", "change")
    idle(page)


def grey(value: int, low: int, high: int) -> int:
    return int(min(255, max(0, round((value - low) / (high - low) * 255))))


def test_page_loads_clean_and_fast(page, scene):
    assert page.messages == []
    assert page.foreign == []
    assert page.title() == "fastdefect viewer"
    assert "5120 x 5120" in page.text_content("#label")
    assert page.text_content("#counts").startswith("8 — ok 2, warn 5, error 1")
    stretch = page.text_content("#stretch-text")
    low, high = scene["session"].stretch["low"], scene["session"].stretch["high"]
    assert f"black ≤ {low:g} DN, white ≥ {high:g} DN" in stretch
    for mode in ("raw", "mask", "highlight"):
        page.click(f"button[data-mode={mode}]")
        idle(page)
        screenshot(page, f"whole-sensor-{mode}")
    page.click("button[data-mode=raw]")
    idle(page)
    # Tile times: level-0 tiles fetched after a jump to a part not seen yet.
    before = page.evaluate("fastdefectViewer.state.tileTimings.length")
    page.evaluate("fastdefectViewer.jumpTo(4800, 4800, 4)")
    idle(page)
    fetched = page.evaluate(f"fastdefectViewer.state.tileTimings.slice({before})")
    level0 = [t for t in fetched if t["key"].split("/")[1] == "0"]
    assert level0
    server_ms = [float(t["server"].split("dur=")[1]) for t in level0]
    page.timings.update(
        tiles_fetched=len(level0),
        tile_ms_median=statistics.median(t["ms"] for t in level0),
        tile_ms_max=max(t["ms"] for t in level0),
        tile_server_ms_median=statistics.median(server_ms),
        single_tile_ms=page.evaluate(
            """async () => {
              const token = document.querySelector('meta[name="fastdefect-token"]').content;
              const started = performance.now();
              const response = await fetch('/api/tile/raw/0/19/0', {
                headers: {'X-Fastdefect-Token': token}});
              await response.arrayBuffer();
              return performance.now() - started;
            }"""
        ),
    )
    report = json.dumps(page.timings, indent=1)
    print(f"\nviewer timings on {SIZE} x {SIZE}: {report}")
    target = os.environ.get("FASTDEFECT_VIEWER_TIMINGS")
    if target:
        Path(target).write_text(report + "\n", encoding="utf-8")
    assert page.messages == []


def test_a_known_defect_in_the_three_modes(page, scene):
    frame, defects = scene["frame"], scene["defects"]
    corrected = correct(frame, defects, method="left").image
    row, column = HOT
    page.evaluate(f"fastdefectViewer.jumpTo({row}, {column}, 32)")
    set_stretch(page, 0, 4095)
    assert "black ≤ 0 DN, white ≥ 4095 DN" in page.text_content("#stretch-text")
    where = page.evaluate(f"fastdefectViewer.screenOf({row}, {column})")

    page.click("button[data-mode=raw]")
    idle(page)
    assert canvas_rgb(page, row, column) == (grey(3000, 0, 4095),) * 3
    assert canvas_rgb(page, row, column + 1) == (grey(2800, 0, 4095),) * 3
    left = int(frame[row, column - 1])
    assert canvas_rgb(page, row, column - 1) == (grey(left, 0, 4095),) * 3
    page.mouse.move(where["x"], where["y"])
    assert f"row {row}, column {column}: 3000 DN" in page.text_content("#hover")
    screenshot(page, "pixel-zoom-raw")

    page.click("button[data-mode=mask]")
    idle(page)
    # The camera copies the pixel left of the run into both pixels of the run.
    assert corrected[row, column] == corrected[row, column + 1] == left
    assert canvas_rgb(page, row, column) == (grey(left, 0, 4095),) * 3
    assert canvas_rgb(page, row, column + 1) == (grey(left, 0, 4095),) * 3
    page.mouse.move(where["x"] + 1, where["y"])
    assert f"3000 DN, masked {left} DN" in page.text_content("#hover")
    screenshot(page, "pixel-zoom-mask")

    page.click("button[data-mode=highlight]")
    idle(page)
    assert canvas_rgb(page, row, column) == KIND_RGB["hot"]
    assert canvas_rgb(page, row, column - 1) == (grey(left, 0, 4095),) * 3  # not listed
    screenshot(page, "pixel-zoom-highlight")
    page.select_option("#colour-by", "verdict")
    idle(page)
    assert canvas_rgb(page, row, column) == VERDICT_RGB["ok"]
    page.evaluate(f"fastdefectViewer.jumpTo({WARN_RUN[0]}, {WARN_RUN[1] + 2}, 16)")
    idle(page)
    assert canvas_rgb(page, *WARN_RUN) == VERDICT_RGB["warn"]
    screenshot(page, "pixel-zoom-highlight-verdict")
    page.select_option("#colour-by", "kind")
    idle(page)  # the redraw comes with the next animation frame
    assert canvas_rgb(page, *WARN_RUN) == KIND_RGB["dark"]
    # The list: filter by verdict, click a row to jump there.
    page.select_option("#filter-verdict", "2")
    rows = page.locator("#table tbody tr")
    assert rows.count() == 1
    rows.first.click()
    idle(page)
    # select() fetches the pixel first: wait for its answer (a slow machine lags).
    page.wait_for_function(
        "row => JSON.parse(document.body.dataset.selected || '{}').row === row",
        arg=ERROR[0],
        timeout=15_000,
    )
    selected = json.loads(page.evaluate("document.body.dataset.selected"))
    assert (selected["row"], selected["column"]) == ERROR
    assert selected["verdict"] == "error" and "no active pixel" in selected["reason"]
    page.select_option("#filter-verdict", "")
    # Pictures for people: the hot pair at pixel zoom with the automatic stretch.
    page.click("#auto")
    page.evaluate(f"fastdefectViewer.jumpTo({row}, {column}, 32)")
    for mode in ("raw", "mask", "highlight"):
        page.click(f"button[data-mode={mode}]")
        idle(page)
        screenshot(page, f"pixel-zoom-auto-{mode}")
    page.evaluate(f"fastdefectViewer.jumpTo({row}, {column}, 48)")  # values written on pixels
    page.click("button[data-mode=raw]")
    idle(page)
    screenshot(page, "pixel-values-raw")
    page.click("button[data-mode=raw]")
    assert page.messages == []


def test_click_adds_a_pixel_and_save_writes_it(page, scene):
    session, directory = scene["session"], scene["dir"]
    row, column = NEW
    page.evaluate(f"fastdefectViewer.jumpTo({row}, {column}, 32)")
    idle(page)
    version = page.evaluate("document.body.dataset.listVersion")
    where = page.evaluate(f"fastdefectViewer.screenOf({row}, {column})")
    page.mouse.click(where["x"], where["y"])
    page.wait_for_selector(f"body:not([data-list-version='{version}'])", state="attached")
    assert session.defects.contains(row, column)
    assert page.text_content("#counts").startswith("9 — ok 3")
    # The mask mode now corrects the new pixel too.
    page.click("button[data-mode=mask]")
    idle(page)
    expected = scene["frame"][row, column - 1]
    assert page.evaluate(f"fastdefectViewer.state.tiles.get('mask/0/{row // 256}/{column // 256}')"
                         f".samples[{(row % 256) * 256 + column % 256}]") == expected  # fmt: skip
    page.click("button[data-mode=raw]")

    target = directory / "edited.json"
    page.fill("#save-path", str(target))
    page.click("#save")
    page.wait_for_selector("body[data-saved]", state="attached")
    saved = read_list(target)
    assert len(saved) == 9 and saved.contains(row, column)
    assert "saved 9 entries" in page.text_content("#status")

    # Over the opened list: refused unless confirmed; confirmed keeps the old as .bak.
    original = scene["list"].read_bytes()
    page.fill("#save-path", str(scene["list"]))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#save")
    page.wait_for_selector("#status:text('not saved')")
    assert scene["list"].read_bytes() == original
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#save")
    page.wait_for_selector("#status:text('saved 9 entries')")
    assert read_list(scene["list"]).contains(row, column)
    assert (directory / "list.csv.bak").read_bytes() == original

    # Right-click removes it, undo brings it back.
    version = page.evaluate("document.body.dataset.listVersion")
    page.mouse.click(where["x"], where["y"], button="right")
    page.wait_for_selector(f"body:not([data-list-version='{version}'])", state="attached")
    assert not session.defects.contains(row, column)
    version = page.evaluate("document.body.dataset.listVersion")
    page.click("#undo")
    page.wait_for_selector(f"body:not([data-list-version='{version}'])", state="attached")
    assert session.defects.contains(row, column)
    assert page.messages == []


def test_the_token_is_required(page, scene):
    port = scene["server"].port
    response = page.request.get(f"http://127.0.0.1:{port}/api/info")
    assert response.status == 403
    response = page.request.get(f"http://127.0.0.1:{port}/?token=not-the-token")
    assert response.status == 403
    response = page.request.post(f"http://127.0.0.1:{port}/api/add", data={"row": 1, "column": 1})
    assert response.status == 403
    assert not scene["session"].defects.contains(1, 1)
    response = page.request.get(f"http://127.0.0.1:{port}/api/info?token={scene['server'].token}")
    assert response.status == 200
