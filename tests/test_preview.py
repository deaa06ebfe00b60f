"""The preview PNG: its size, the places it shows, and highlighted pixels exactly where the
list says (read back from the PNG file)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from fastdefect.cli import main
from fastdefect.defects import DefectList
from fastdefect.errors import InputError
from fastdefect.formats import write_list
from fastdefect.frames import write_stack
from fastdefect.preview import VERDICT_COLOURS, render_preview

OK, WARN, ERROR = (VERDICT_COLOURS[level] for level in (0, 1, 2))


def scene(cfa: str | None = None):
    """A dark frame with a run of 10 (red), of 6 (amber), of 3 (green), a strong single
    pixel, a weak one, and a pixel in column 0 (red); the expected colour of each."""
    step = 2 if cfa else 1
    rng = np.random.default_rng(1)
    image = (64 + rng.integers(0, 8, (60, 90))).astype(np.uint16)
    expected: dict[tuple[int, int], tuple[int, int, int]] = {}
    for (row, start, length), colour in [
        ((10, 40, 10), ERROR),
        ((30, 12, 6), WARN),
        ((50, 60, 3), OK),
    ]:
        for k in range(length):
            expected[(row, start + k * step)] = colour
    expected[(38, 85)] = OK
    expected[(20, 80)] = OK
    expected[(44, 0)] = ERROR
    for r, c in expected:
        image[r, c] = 400
    image[38, 85] = 1000  # the strongest single pixel
    image[20, 80] = 120  # a weak one
    rows, columns = np.array(list(expected)).T
    return image, DefectList(rows, columns, kinds="hot"), expected


def colour_at(png: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    x0, y0, x1, y1 = box
    return png.getpixel(((x0 + x1) // 2, (y0 + y1) // 2))


@pytest.mark.parametrize("cfa", [None, "RGGB"])
def test_png_size_and_highlighted_pixels_where_the_list_says(tmp_path, cfa):
    image, defects, expected = scene(cfa)
    preview = render_preview(image, defects, crops=4, crop=21, scale=6, cfa=cfa)
    path = preview.save(tmp_path / "preview.png")
    png = Image.open(path).convert("RGB")
    # 16 margin + 300 label column + 3 panels of 21 x 6 pixels + 2 gaps of 14 + 16 margin.
    assert png.size == preview.size
    assert png.size[0] == 16 + 300 + 3 * 126 + 2 * 14 + 16
    assert png.size[1] >= 16 + 62 + 24 + 4 * 126
    assert len(preview.sites) == 4
    # Worst first, then a warning, a corrected run, the strongest single pixel.
    first = preview.sites[0]
    assert expected[(first.row, first.column)] == ERROR
    assert first.lines[0].startswith("run of 10") and first.lines[1].startswith("error")
    assert expected[(preview.sites[1].row, preview.sites[1].column)] == WARN
    assert preview.sites[2].lines[0].startswith("run of 3")
    assert (preview.sites[3].row, preview.sites[3].column) == (38, 85)
    checked = 0
    for index, site in enumerate(preview.sites):
        for r in range(site.top, site.top + site.height):
            for c in range(site.left, site.left + site.width):
                highlight = colour_at(png, preview.pixel_box(index, "highlight", r, c))
                before = colour_at(png, preview.pixel_box(index, "don't mask", r, c))
                assert before[0] == before[1] == before[2]
                if (r, c) in expected:
                    assert highlight == expected[(r, c)], (r, c)
                    checked += 1
                else:
                    assert highlight[0] == highlight[1] == highlight[2], (r, c)
        assert preview.pixel_box(index, "mask", site.top - 1, site.left) is None
    assert checked >= 10 + 6 + 3 + 1
    # Hot pixels are white before correction; the corrected ones take their source's grey.
    step = 2 if cfa else 1
    site = preview.sites[2]
    r = site.row
    run = sorted(c for (rr, c) in expected if rr == r)
    for c in run:
        assert colour_at(png, preview.pixel_box(2, "don't mask", r, c)) == (255, 255, 255)
        after = colour_at(png, preview.pixel_box(2, "mask", r, c))
        source = colour_at(png, preview.pixel_box(2, "mask", r, run[0] - step))
        assert after == source != (255, 255, 255)


def test_places_given_with_at(tmp_path):
    image, defects, _ = scene()
    preview = render_preview(image, defects, at=[(0, 0), (10, 45), (59, 89)], crop=15)
    assert [(s.top, s.left) for s in preview.sites] == [(0, 0), (3, 38), (45, 75)]
    assert preview.sites[0].lines == ["no listed pixel here"] and preview.sites[0].level == -1
    assert preview.sites[1].level == 2
    with pytest.raises(InputError, match="outside the 90 x 60 image"):
        render_preview(image, defects, at=[(60, 0)])


def test_small_images_and_stacks(tmp_path):
    image = np.full((1, 5), 10, np.uint16)
    image[0, 2] = 500
    preview = render_preview(image, DefectList([0], [2]), crop=21)
    assert (preview.sites[0].height, preview.sites[0].width) == (1, 5)
    stack = np.repeat(image[None], 3, axis=0)
    stack[1, 0, 1] = 13  # the mean (10 + 13 + 10) / 3 rounds to 11
    path = write_stack(tmp_path / "stack.tif", stack, bit_depth=10)
    preview = render_preview(path, DefectList([0], [2]), crop=3, scale=10)
    assert preview.plan.report().corrected == 1
    png = preview.image
    assert colour_at(png, preview.pixel_box(0, "mask", 0, 2)) == colour_at(
        png, preview.pixel_box(0, "mask", 0, 1)
    )


@pytest.mark.slow
def test_preview_command(tmp_path, capsys):
    image, defects, _ = scene()
    source = write_stack(tmp_path / "dark.tif", [image], bit_depth=10)
    listed = write_list(tmp_path / "list.csv", defects, "av-csv")
    out = tmp_path / "preview.png"
    code = main(
        ["preview", str(source), "-d", str(listed), "-o", str(out), "--crops", "2", "--json"]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and out.exists()
    assert Image.open(out).size == tuple(document["size"])
    assert [s["verdict"] for s in document["sites"]] == ["error", "warn"]
    code = main(["preview", str(source), "-d", str(listed), "-o", str(out), "--at", "30,12"])
    assert code == 2 and "exists already" in capsys.readouterr().err
    code = main(["preview", str(source), "-d", str(listed), "-o", str(out), "--at", "30,12", "-f"])
    assert code == 0 and "30" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["at", "outside", "suffix", "no_pillow", "image"])
def test_preview_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, case):
    image, defects, _ = scene()
    source = write_stack(tmp_path / "dark.tif", [image], bit_depth=10)
    listed = write_list(tmp_path / "list.csv", defects, "av-csv")
    out = tmp_path / "preview.png"
    extra: list[str] = []
    if case == "at":
        extra, expected = ["--at", "12"], "ROW,COLUMN"
    elif case == "outside":
        listed = write_list(tmp_path / "far.csv", DefectList([5], [90]), "av-csv")
        expected = "outside the 90 x 60 image"
    elif case == "suffix":
        out, expected = tmp_path / "preview.jpg", "written as PNG"
    elif case == "no_pillow":
        for name in ("PIL", "PIL.Image", "PIL.ImageDraw", "PIL.ImageFont"):
            monkeypatch.setitem(sys.modules, name, None)  # as if Pillow were not installed
        with pytest.raises(InputError, match=r"pip install 'fastdefect\[plot\]'"):
            render_preview(image, defects)
        expected = "needs the optional Pillow package, which is not installed: " + (
            "pip install 'fastdefect[plot]'"
        )
    else:
        source = tmp_path / "empty.tif"
        source.write_bytes(b"")
        expected = "empty"
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["preview", str(source), "-d", str(listed), "-o", str(out), *extra])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
