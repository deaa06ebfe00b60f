"""The HTML report in a real browser: Debian's headless Chromium, opened from disk.

Three looks at one report of a simulated sensor (all sections, sweep and truth included):

1. the page as written: a screenshot at 1400 x 2400 with Chromium's console logged to
   stderr; no console message may appear (the page has no script, so any message is a
   blocked resource, a Content-Security-Policy violation or a parse problem);
2. the page as written, ``--dump-dom``: the browser's DOM holds every section;
3. a copy with a small checking script appended (and the policy opened for inline
   script, in the copy only): after ``load`` it checks that every section is laid out
   with a real size, every image decoded, no error event fired, and the page is no
   wider than a 1280-pixel laptop window; it writes its verdict into the title, which
   ``--dump-dom`` shows.

The test skips only when no Chromium binary exists; on CI (``CI`` set) a missing
browser is a failure, since CI installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fastdefect.report import SECTIONS, build_report
from fastdefect.simulate import SimulationConfig, simulate_to_directory

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-extensions",
    "--hide-scrollbars",
)
HEADER_COLOUR = (0x17, 0x32, 0x4D)  # the page header's background (report.css)


def find_chromium() -> str | None:
    explicit = os.environ.get("FASTDEFECT_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium binary on CI: .ci/run should have installed Debian's chromium")
        pytest.skip("no chromium binary (apt-get install chromium) for the real-browser test")
    return binary


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("browser")
    simulated = simulate_to_directory(
        directory / "sim", SimulationConfig(width=512, height=384, frames=8, seed=7)
    )
    report = build_report(
        dark=simulated.files["dark"],
        bright=simulated.files["bright"],
        truth=simulated.files["truth"],
        sweep="60:160:20",
        title="Browser test <sensor> & co",
    )
    assert set(report.sections) == set(SECTIONS)
    return report.write(directory / "report.html")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr}"
    return result


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.mark.slow
def test_page_renders_without_console_messages(chromium, report_file, tmp_path):
    shot = tmp_path / "report.png"
    result = run_chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={shot}",
        "--window-size=1400,2400",
        report_file.as_uri(),
    )
    assert console_lines(result.stderr) == []
    from PIL import Image

    with Image.open(shot) as picture:
        assert picture.size == (1400, 2400)
        pixels = np.asarray(picture.convert("RGB"))
    # The header is drawn at the top, and the page below it is not blank: the map and
    # plots bring many colours.
    assert tuple(pixels[10, 700]) == HEADER_COLOUR
    colours = np.unique(pixels[200:].reshape(-1, 3), axis=0)
    assert len(colours) > 200
    keep = os.environ.get("FASTDEFECT_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


@pytest.mark.slow
def test_dom_has_every_section(chromium, report_file, tmp_path):
    result = run_chromium(
        chromium, tmp_path / "profile", "--window-size=1400,2400", "--dump-dom",
        report_file.as_uri(),
    )  # fmt: skip
    dom = result.stdout
    for key, heading in SECTIONS.items():
        assert re.search(rf'<section class="card" id="{key}">\s*<h2>{heading}</h2>', dom), key
    assert "Browser test &lt;sensor&gt; &amp; co" in dom  # the title, escaped
    assert "<script" not in dom


CHECK_SCRIPT = """
<script>
window.__errors = [];
window.addEventListener("error", (event) => {
  const target = event.target && event.target.tagName ? event.target.tagName : "";
  window.__errors.push("error " + target + " " + (event.message || ""));
}, true);
window.addEventListener("load", () => {
  const problems = [];
  for (const id of __IDS__) {
    const element = document.getElementById(id);
    if (!element) { problems.push("missing " + id); continue; }
    const box = element.getBoundingClientRect();
    if (box.width < 600 || box.height < 80) {
      problems.push("tiny " + id + " " + box.width + "x" + box.height);
    }
    if (!element.querySelector("h2")) problems.push("no heading in " + id);
  }
  for (const image of document.images) {
    if (!image.complete || image.naturalWidth === 0) problems.push("undecoded image " + image.alt);
  }
  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) {
    problems.push("page " + width + " px wide in " + window.innerWidth);
  }
  const all = problems.concat(window.__errors);
  const images = document.images.length;
  document.title = all.length ? "FAIL: " + all.join("; ") : "OK " + images + " images";
});
</script>
"""


@pytest.mark.slow
def test_sections_laid_out_and_images_decoded(chromium, report_file, tmp_path):
    page = report_file.read_text(encoding="utf-8")
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    assert policy in page
    ids = "[" + ", ".join(f'"{key}"' for key in SECTIONS) + "]"
    checked = page.replace(policy, policy + "; script-src 'unsafe-inline'").replace(
        "</body>", CHECK_SCRIPT.replace("__IDS__", ids) + "</body>"
    )
    copy = tmp_path / "checked.html"
    copy.write_text(checked, encoding="utf-8")
    result = run_chromium(
        chromium, tmp_path / "profile", "--window-size=1280,800", "--dump-dom",
        "--virtual-time-budget=5000", copy.as_uri(),
    )  # fmt: skip
    title = re.search(r"<title>(.*?)</title>", result.stdout, re.S)
    assert title is not None
    images = len(re.findall(r"<img ", page))
    assert title.group(1) == f"OK {images} images"
