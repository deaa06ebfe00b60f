"""The HTML report: self-contained, escaped, with the sections, verdict colours and maps
it promises (the browser's view of it is tests/test_report_browser.py)."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest

from fastdefect.cli import main
from fastdefect.defects import DefectList
from fastdefect.detection import analyse
from fastdefect.plots import KIND_COLOURS, defect_map_figure, defect_map_image, figure_png
from fastdefect.report import SECTIONS, build_report, report_from_analysis
from fastdefect.simulate import SimulationConfig, simulate_to_directory


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    return simulate_to_directory(
        tmp_path_factory.mktemp("sim"), SimulationConfig(width=512, height=384, frames=8, seed=7)
    )


@pytest.fixture(scope="module")
def analysis(simulated):
    return analyse(
        dark=simulated.files["dark"], bright=simulated.files["bright"], lowest_threshold=60
    )


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def png_images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


@pytest.mark.slow
def test_full_report_is_self_contained(simulated, analysis, tmp_path):
    report = report_from_analysis(analysis, truth=simulated.files["truth"], sweep="60:160:20")
    page = report.html
    assert report.sections == list(SECTIONS)
    for key, heading in SECTIONS.items():
        assert f'<section class="card" id="{key}">\n<h2>{heading}</h2>' in page
        assert f'<a href="#{key}">' in page
    # Nothing to fetch: every src is a data: URI, every href an anchor, no script, no
    # stylesheet link, no web address; the policy forbids loading anything else.
    assert re.findall(r'\b(?:src|href)="(?!data:image/png;base64,|#)', page) == []
    for forbidden in ("<script", "<link", "@import", "url(", "http://", "https://", "<iframe"):
        assert forbidden not in page
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page
    images = png_images(page)
    assert len(images) == len(re.findall(r"<img ", page)) >= 6
    from PIL import Image

    for data in images:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
    assert "Best threshold" in page and report.sweep.best is not None
    assert report.score.overall.recall > 0.99
    path = report.write(tmp_path / "report.html")
    assert path.read_text(encoding="utf-8") == page
    summary = report.summary()
    assert summary["defects"] == len(report.defects) and summary["sections"] == list(SECTIONS)


@pytest.mark.slow
def test_text_is_escaped(simulated, tmp_path):
    dark = tmp_path / 'dark <b>"x"&y.tif'
    dark.write_bytes(simulated.files["dark"].read_bytes())
    report = build_report(dark=dark, title="<script>alert('t')</script> & more")
    page = report.html
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; &amp; more" in page
    assert "dark &lt;b&gt;&quot;x&quot;&amp;y.tif" in page
    assert report.sections == ["summary", "map", "histograms", "runs", "previews"]


@pytest.mark.slow
def test_run_table_carries_the_camera_verdicts(analysis):
    rows = [10] * 3 + [20] * 6 + [30] * 10 + [40, 5000]
    columns = [*range(100, 103), *range(200, 206), *range(300, 310), 0, 7]
    defects = DefectList(rows, columns, kinds="hot", source="user")
    report = report_from_analysis(analysis, defects=defects)
    page = report.html
    runs = page[page.index('id="runs"') : page.index('id="previews"')]
    found = dict(
        (int(row), (level, cols))
        for level, row, cols in re.findall(
            r'<tr class="(ok|warn|error)"><td class="v">.*?</td><td class="num">(\d+)</td>'
            r'<td class="num">([\d–]+)</td>',
            runs,
        )
    )
    assert found == {
        10: ("ok", "100–102"),
        20: ("warn", "200–205"),
        30: ("error", "300–309"),
        40: ("error", "0–0"),
    }
    assert "outside the sensor" in runs
    assert report.verdicts.counts() == {"ok": 3, "warn": 6, "error": 12}
    summary = page[: page.index('id="map"')]
    assert "Showing the given defect list (21 entries)" in summary
    assert "1 listed pixels lie outside the 512 x 384 sensor" in summary
    # Worst first: errors, then warnings, then ok runs.
    detail = runs[runs.index("Runs and problems") :]
    order = [
        int(r) for r in re.findall(r'<td class="num">(\d+)</td><td class="num">[\d–]+', detail)
    ]
    assert order == [30, 40, 20, 10]


def test_single_pixels_stay_visible_on_a_large_sensor():
    shape = (5120, 5120)
    defects = DefectList.concatenate(
        [
            DefectList([2500], [4000], kinds="hot"),
            DefectList(np.arange(5120), np.full(5120, 77), kinds="column"),
            DefectList([1000], [77], kinds="stuck_high"),  # on the column, drawn over it
            DefectList([6000], [6000], kinds="dark"),  # outside: left out
        ]
    )
    image, factor, radius = defect_map_image(defects, shape)
    assert factor == 7 and radius == 2 and image.shape == (732, 732, 3)
    hot = np.all(image == rgb(KIND_COLOURS["hot"]), axis=2)
    assert np.array_equal(np.argwhere(hot).min(axis=0), [2500 // 7 - 2, 4000 // 7 - 2])
    assert hot.sum() == 25
    column = np.all(image == rgb(KIND_COLOURS["column"]), axis=2)
    assert column[:, 11].sum() == 732 - 5  # the stuck pixel's square covers 5 of it
    assert np.all(image[1000 // 7, 77 // 7] == rgb(KIND_COLOURS["stuck_high"]))
    # Many points: smaller squares.
    rng = np.random.default_rng(1)
    many = DefectList(rng.integers(0, 5120, 3000), rng.integers(0, 5120, 3000), kinds="hot")
    assert defect_map_image(many, shape)[2] == 1
    # The PNG holds the map pixel for pixel: the square is still 5 x 5, nothing resampled.
    from PIL import Image

    png = figure_png(defect_map_figure(defects, shape))
    with Image.open(io.BytesIO(png)) as picture:
        pixels = np.asarray(picture.convert("RGB"))
    assert np.all(pixels == rgb(KIND_COLOURS["hot"]), axis=2).sum() >= 25
    legend_free = pixels[:, : pixels.shape[1] - 190]
    assert np.all(legend_free == rgb(KIND_COLOURS["hot"]), axis=2).sum() == 25


@pytest.mark.slow
def test_cli_report(simulated, tmp_path, capsys):
    out = tmp_path / "report.html"
    args = ["report", "--dark", str(simulated.files["dark"]), "--bright",
            str(simulated.files["bright"]), "-o", str(out)]  # fmt: skip
    assert main([*args, "--truth", str(simulated.files["truth"]), "--sweep", "60:140:40",
                 "--json"]) == 0  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert document["sections"] == list(SECTIONS)
    assert document["output"] == str(out) and out.stat().st_size == document["bytes"]
    assert main(args) == 2  # exists
    assert "exists" in capsys.readouterr().err
    listed = tmp_path / "list.csv"
    listed.write_text("Row, Column\n10, 0\n11, 5\n")
    assert main([*args, "--force", "--defects", str(listed), "--rules", "arri"]) == 0
    text = capsys.readouterr().out
    assert "2 defective pixels" in text and "error 1" not in text  # arri: no left rule
    page = out.read_text(encoding="utf-8")
    assert "ARRI User Pixel Mask" in page
    assert main([*args, "--force", "--rules", "nope"]) == 2
    assert "unknown rule set" in capsys.readouterr().err
    assert main(["report", "-o", str(out), "--force"]) == 2
