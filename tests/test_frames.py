"""Reading, validating and streaming frames; writing TIFF outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from fastdefect import frames
from fastdefect.cli import main
from fastdefect.errors import FileFormatError, InputError, OutputExistsError


@pytest.fixture
def stack_array():
    rng = np.random.default_rng(0)
    return rng.integers(0, 1024, (5, 24, 32)).astype(np.uint16)


def test_write_then_read_stack_roundtrip(tmp_path, stack_array):
    path = tmp_path / "s.tif"
    frames.write_stack(path, stack_array, bit_depth=10, metadata={"exposure_us": 2500.0})
    assert tifffile.imread(path).shape == (5, 24, 32)
    stack = frames.open_stack(path)
    assert (stack.n_frames, stack.shape, stack.dtype) == (5, (24, 32), np.uint16)
    assert (stack.bit_depth, stack.bit_depth_origin) == (10, "metadata")
    assert stack.metadata["exposure_us"] == 2500.0
    np.testing.assert_array_equal(stack.read_all(), stack_array)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags[281].value == 1023  # MaxSampleValue for other readers
        assert json.loads(tif.pages[0].description)["bit_depth"] == 10


def test_uncompressed_frames_are_memory_mapped_one_at_a_time(tmp_path, stack_array):
    path = tmp_path / "s.tif"
    frames.write_stack(path, stack_array, bit_depth=10)
    seen = [frame for frame in frames.open_stack(path)]
    assert all(isinstance(frame, np.memmap) and frame.shape == (24, 32) for frame in seen)


def test_compressed_and_big_endian_tiffs_read(tmp_path, stack_array):
    compressed = tmp_path / "c.tif"
    tifffile.imwrite(compressed, stack_array, compression="zlib")
    np.testing.assert_array_equal(
        frames.open_stack(compressed, bit_depth=10).read_all(), stack_array
    )
    big = tmp_path / "be.tif"
    tifffile.imwrite(big, stack_array, byteorder=">")
    got = frames.open_stack(big, bit_depth=10).read_all()
    np.testing.assert_array_equal(got, stack_array)
    assert got.dtype == np.dtype("uint16")


def test_directories_globs_npy_and_lists(tmp_path, stack_array):
    for i, frame in enumerate(stack_array):
        tifffile.imwrite(tmp_path / f"f{i:02d}.tif", frame)
    np.save(tmp_path / "more.npy", stack_array[:2])
    by_dir = frames.open_stack(tmp_path, bit_depth=10)
    assert by_dir.n_frames == 7
    by_glob = frames.open_stack(str(tmp_path / "f*.tif"), bit_depth=10)
    np.testing.assert_array_equal(by_glob.read_all(), stack_array)
    combined = frames.open_stack([tmp_path / "more.npy", tmp_path / "f00.tif"], bit_depth=10)
    assert combined.n_frames == 3


def test_bit_depth_from_user_metadata_or_container(tmp_path, stack_array):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, stack_array)
    stack = frames.open_stack(plain)
    assert (stack.bit_depth, stack.bit_depth_origin) == (16, "container")
    assert frames.open_stack(plain, bit_depth=12).bit_depth_origin == "user"
    with pytest.raises(InputError, match="does not fit"):
        frames.open_stack(plain, bit_depth=17)


def test_value_above_bit_depth_names_file_frame_and_pixel(tmp_path, stack_array):
    data = stack_array.copy()
    data[3, 7, 9] = 1500
    path = tmp_path / "over.tif"
    tifffile.imwrite(path, data)
    stack = frames.open_stack(path, bit_depth=10)
    with pytest.raises(FileFormatError) as error:
        stack.read_all()
    message = str(error.value)
    assert "over.tif" in message and "frame 4" in message and "1500" in message
    assert "row 7, column 9" in message


def _bad_files(tmp_path, stack_array):
    good = tmp_path / "good.tif"
    frames.write_stack(good, stack_array, bit_depth=10)
    data = good.read_bytes()
    cases = {}
    (tmp_path / "empty.tif").write_bytes(b"")
    cases["empty.tif"] = "empty"
    (tmp_path / "truncated.tif").write_bytes(data[: len(data) - 100])
    cases["truncated.tif"] = "truncated"
    (tmp_path / "half.tif").write_bytes(data[: len(data) // 2])
    cases["half.tif"] = "truncated"
    (tmp_path / "header.tif").write_bytes(data[:8])
    cases["header.tif"] = "TIFF"
    (tmp_path / "text.tif").write_text("this is not an image\n")
    cases["text.tif"] = "TIFF"
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    cases["rgb.tif"] = "colour"
    tifffile.imwrite(tmp_path / "float.tif", np.zeros((8, 8), np.float32))
    cases["float.tif"] = "floating point"
    tifffile.imwrite(tmp_path / "int32.tif", np.zeros((8, 8), np.int32))
    cases["int32.tif"] = "int32"
    np.save(tmp_path / "float.npy", np.zeros((4, 4)))
    cases["float.npy"] = "floating point"
    np.save(tmp_path / "vector.npy", np.zeros(4, np.uint16))
    cases["vector.npy"] = "shape"
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    cases["junk.npy"] = ".npy"
    (tmp_path / "notes.txt").write_text("x")
    cases["notes.txt"] = "unknown frame file type"
    return cases


def test_bad_files_get_clear_errors_naming_the_file(tmp_path, stack_array):
    for name, fragment in _bad_files(tmp_path, stack_array).items():
        with pytest.raises(FileFormatError) as error:
            frames.open_stack(tmp_path / name).read_all()
        assert name in str(error.value), str(error.value)
        assert fragment in str(error.value), str(error.value)


def test_mismatched_frame_shapes_and_dtypes(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((8, 8), np.uint16))
    tifffile.imwrite(tmp_path / "b.tif", np.zeros((8, 9), np.uint16))
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(FileFormatError, match=r"b\.tif.*8 x 9"):
        frames.open_stack([tmp_path / "a.tif", tmp_path / "b.tif"])
    with pytest.raises(FileFormatError, match=r"c\.tif.*uint8"):
        frames.open_stack([tmp_path / "a.tif", tmp_path / "c.tif"])


def test_nothing_to_read(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        frames.open_stack(tmp_path / "missing.tif")
    with pytest.raises(InputError, match="no files match"):
        frames.open_stack(str(tmp_path / "*.tif"))
    with pytest.raises(InputError, match="holds no"):
        frames.open_stack(tmp_path)
    with pytest.raises(InputError, match="no frame files"):
        frames.open_stack([])


def test_outputs_are_atomic_and_never_overwrite(tmp_path, stack_array):
    path = tmp_path / "out.tif"
    frames.write_stack(path, stack_array, bit_depth=10)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        frames.write_stack(path, stack_array, bit_depth=10)

    def failing():
        yield stack_array[0]
        raise RuntimeError("source vanished")

    with pytest.raises(RuntimeError):
        frames.write_stack(path, failing(), bit_depth=10, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]  # no temp files left


@pytest.mark.parametrize(
    "name",
    ["empty.tif", "truncated.tif", "rgb.tif", "float.tif", "text.tif", "junk.npy"],
)
def test_cli_bad_frames_exit_2_and_write_nothing(tmp_path, stack_array, capsys, name):
    _bad_files(tmp_path, stack_array)
    out = tmp_path / "result.csv"
    code = main(["detect", "--dark", str(tmp_path / name), "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert name in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()


def write_dng(path, mosaic, white_level=1023):
    """A minimal real DNG (CFA RGGB) as cameras write them, for libraw to read."""
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "fastdefect test camera", True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: R G / G B
        (50717, "I", 1, white_level, True),  # WhiteLevel
        (50714, "H", 1, 64, True),  # BlackLevel
    ]
    tifffile.imwrite(path, mosaic, photometric=32803, extratags=tags, subfiletype=0)


def test_raw_dng_frames_keep_the_bayer_mosaic(tmp_path):
    pytest.importorskip("rawpy", reason="the raw extra is not installed")
    rng = np.random.default_rng(5)
    mosaics = rng.integers(60, 70, (3, 64, 96)).astype(np.uint16)
    mosaics[:, 10, 12] = 500  # a hot red pixel in every frame
    for i, mosaic in enumerate(mosaics):
        write_dng(tmp_path / f"frame{i}.dng", mosaic)
    stack = frames.open_stack(tmp_path)
    assert (stack.n_frames, stack.shape) == (3, (64, 96))
    assert (stack.bit_depth, stack.bit_depth_origin) == (10, "metadata")  # white level
    assert stack.metadata["cfa"] == "RGGB"
    np.testing.assert_array_equal(stack.read_all(), mosaics)  # unprocessed mosaic
    from fastdefect import detect

    result = detect(dark=tmp_path)  # the CFA comes from the files
    assert result.config.cfa == "RGGB"
    assert [(r.row, r.column, r.kind) for r in result.defects] == [(10, 12, "hot")]


def test_broken_raw_file_names_the_file(tmp_path):
    path = tmp_path / "photo.dng"
    path.write_bytes(b"II*\x00not really a dng")
    try:
        import rawpy  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="rawpy"):
            frames.open_stack(path)
    else:
        with pytest.raises(FileFormatError, match=r"photo\.dng"):
            frames.open_stack(path)
