"""``fastdefect demo``: the main job on generated data."""

from __future__ import annotations

import json

import pytest

from fastdefect.cli import main


@pytest.mark.slow
def test_demo_json_finds_the_injected_defects(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--width", "256", "--height", "200",
                 "--frames", "6", "--json"])  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    overall = summary["score"]["overall"]
    assert overall["truth"] > 100
    assert overall["recall"] >= 0.99 and overall["false_positive"] == 0
    assert summary["warm_reported"] == 0 and summary["warm_pixels"] > 0
    assert summary["camera_check"]["error"] > 0  # bad rows cannot be corrected
    for role in ("dark", "bright"):
        correction = summary["correction"][role]
        assert correction["masked"] and correction["corrected_still_visible"] == 0
        # What the correction cannot fix is exactly what the camera check marks red.
        assert correction["uncorrected"] == summary["camera_check"]["error"]
    names = {p.name for p in out.iterdir()}
    assert names >= {"dark.tif", "bright.tif", "truth.csv", "defects.csv", "report.html"}
    assert summary["report"] == str(out / "report.html")
    # Existing files are kept unless --force.
    assert main(["demo", "--out", str(out), "--width", "256", "--height", "200"]) == 2


def test_demo_renders_a_summary(capsys):
    assert main(["demo", "--width", "128", "--height", "128", "--frames", "4"]) == 0
    text = capsys.readouterr().out
    assert "injected vs found" in text and "camera check" in text
