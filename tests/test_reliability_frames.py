"""Issue 11, frames: every page is a frame, and hostile TIFFs are refused in bounded memory."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
import tifffile

from fastdefect.errors import FileFormatError
from fastdefect.frames import open_stack

PEAK_LIMIT_MB = 500


def test_pages_written_one_by_one_are_all_frames(tmp_path):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as writer:
        for value in range(4):
            writer.write(np.full((8, 10), value, np.uint16), photometric="minisblack")
    stack = open_stack(path)
    assert stack.n_frames == 4
    assert [int(frame[0, 0]) for frame in stack.frames()] == [0, 1, 2, 3]


def test_compressed_pages_written_one_by_one_are_all_frames(tmp_path):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as writer:
        for value in range(3):
            writer.write(np.full((8, 10), value, np.uint8), compression="zlib")
    assert [int(f[0, 0]) for f in open_stack(path).frames()] == [0, 1, 2]


def test_a_page_of_another_shape_refuses_the_file_naming_the_page(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    path = tmp_path / "mixed.tif"
    images = [pil.fromarray(np.full((8, 10), i, np.uint8)) for i in range(3)]
    images.append(pil.fromarray(np.zeros((9, 10), np.uint8)))
    images[0].save(path, save_all=True, append_images=images[1:])
    with pytest.raises(FileFormatError, match="page 4 is 9 x 10"):
        open_stack(path)


def test_a_pillow_stack_is_read_whole(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    path = tmp_path / "pillow.tif"
    images = [pil.fromarray(np.full((8, 10), i, np.uint8)) for i in range(4)]
    images[0].save(path, save_all=True, append_images=images[1:])
    assert [int(f[0, 0]) for f in open_stack(path).frames()] == [0, 1, 2, 3]


def _tiff(width: int, height: int, strip: bytes, compression: int) -> bytes:
    """A one-strip 16-bit mono TIFF with the given strip data (little-endian)."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 16),
        (259, 3, 1, compression),
        (262, 3, 1, 1),
        (273, 4, 1, 0),  # strip offset, patched below
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, len(strip)),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = 8 + ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0)
    return bytes(out) + strip


def _bomb(inflated: int) -> bytes:
    """zlib data that inflates to ``inflated`` zero bytes, made in small memory."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(inflated >> 20)]
    return b"".join(parts) + compressor.flush()


def _peak_mb_of_detect(path) -> tuple[int, float, str]:
    """Run ``fastdefect detect`` on ``path``; its exit code, peak RSS (MiB), stderr.

    The command runs as the only child of a small wrapper that reports
    ``RUSAGE_CHILDREN``: a process started straight from this (large) test process
    inherits its memory high-water mark at exec, and would report that instead.
    """
    command = [sys.executable, "-m", "fastdefect", "detect", "--dark", str(path), "-o",
               str(path) + ".csv"]  # fmt: skip
    wrapper = textwrap.dedent(
        """
        import json, resource, subprocess, sys
        done = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps([done.returncode, peak, done.stderr]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, json.dumps(command)], capture_output=True, text=True
    )
    code, peak, err = json.loads(result.stdout.strip().splitlines()[-1])
    return int(code), float(peak), err


def test_a_header_claiming_100000_squared_is_refused_before_allocating(tmp_path):
    path = tmp_path / "claim.tif"
    path.write_bytes(_tiff(100000, 100000, zlib.compress(bytes(64)), 8))
    assert path.stat().st_size < 200
    with pytest.raises(FileFormatError, match="exceed the limit"):
        open_stack(path)
    code, peak, err = _peak_mb_of_detect(path)
    assert code == 2 and "exceed the limit" in err and "Traceback" not in err
    assert peak < PEAK_LIMIT_MB


def test_the_frame_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "frame.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint16))
    monkeypatch.setenv("FASTDEFECT_MAX_FRAME_PIXELS", "1000")
    with pytest.raises(FileFormatError, match="limit of 1000 pixels"):
        open_stack(path)
    monkeypatch.setenv("FASTDEFECT_MAX_FRAME_PIXELS", "4096")
    assert open_stack(path).shape == (64, 64)


def test_a_zip_bomb_is_refused_in_bounded_memory(tmp_path):
    # 64 x 64 pixels declared, 1 GiB of zeros inside: tifffile alone inflates it all.
    path = tmp_path / "bomb.tif"
    path.write_bytes(_tiff(64, 64, _bomb(1 << 30), 8))
    assert path.stat().st_size < 2_000_000
    stack = open_stack(path)
    with pytest.raises(FileFormatError, match="decompression bomb"):
        next(stack.frames())
    code, peak, err = _peak_mb_of_detect(path)
    assert code == 2 and "decompression bomb" in err and "Traceback" not in err
    assert peak < PEAK_LIMIT_MB


@pytest.mark.slow  # 15 s; test_a_zip_bomb_is_refused_in_bounded_memory is the quick one
def test_a_large_claimed_bomb_is_refused_in_bounded_memory(tmp_path):
    # 3 MB of zlib claiming 40000 x 40000 16-bit pixels (3.2 GB).
    path = tmp_path / "bigbomb.tif"
    path.write_bytes(_tiff(40000, 40000, _bomb(3 << 30), 8))
    code, peak, err = _peak_mb_of_detect(path)
    assert code == 2 and "Traceback" not in err
    assert peak < PEAK_LIMIT_MB
