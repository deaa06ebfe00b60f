"""The cache-blocked (band-major) statistics equal the frame-major pass, exactly.

Every TIFF layout tifffile writes (contiguous, strips, tiles, compressed, big-endian),
``.npy`` files, frames in memory and stacks over several files are read band by band
and compared bit for bit with the frame-major pass over the same stack.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
import tifffile

from fastdefect import stats as stats_module
from fastdefect.detection import detect
from fastdefect.errors import FileFormatError, InputError
from fastdefect.frames import FrameStack, open_bands, open_stack
from fastdefect.kernels.stats import temporal_std
from fastdefect.stats import (
    SummedStack,
    _frame_major_stats,
    _pass,
    merge_sums,
    stack_stats,
    stack_sums,
)

from reference import stack_stats_reference

LAYOUTS = {
    "contiguous": {"contiguous": True},
    "strips of 3 rows": {"rowsperstrip": 3},
    "tiles 16 x 32": {"tile": (16, 32)},
    "deflate strips": {"compression": "zlib", "rowsperstrip": 5},
    "deflate tiles": {"compression": "zlib", "tile": (16, 16)},
    "big-endian": {"byteorder": ">"},
    "big-endian deflate strips": {"byteorder": ">", "compression": "zlib", "rowsperstrip": 7},
    "deflate strips, predictor": {"compression": "zlib", "predictor": True, "rowsperstrip": 4},
    "big-endian deflate tiles, predictor": {
        "byteorder": ">",
        "compression": "zlib",
        "predictor": True,
        "tile": (16, 32),
    },
    "lzma strips": {"compression": "lzma", "rowsperstrip": 6},
}


def assert_same(stats, expected):
    for name in ("total", "std", "minimum", "maximum", "frame_means"):
        got, want = getattr(stats, name), getattr(expected, name)
        if got is None or want is None:
            assert got is None and want is None, name
            continue
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert stats.n_frames == expected.n_frames
    assert stats.bit_depth == expected.bit_depth


def assert_same_without_extremes(stats, expected):
    """``stats`` (``extremes=False``) is ``expected`` without its minimum and maximum."""
    assert stats.minimum is None and stats.maximum is None
    assert_same(stats, replace(expected, minimum=None, maximum=None))


def random_frames(rng, n, height, width, bits):
    dtype = np.uint8 if bits <= 8 else np.uint16
    return rng.integers(0, 2**bits, (n, height, width)).astype(dtype)


@pytest.fixture(autouse=True)
def small_bands(monkeypatch):
    # Bands of a few rows, so that even small test images span many bands.
    monkeypatch.setattr(stats_module, "BAND_BYTES", 600)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(("n", "height", "width"), [(1, 1, 1), (1, 37, 53), (9, 45, 70)])
def test_tiff_layouts_band_major_equals_frame_major(tmp_path, layout, n, height, width):
    rng = np.random.default_rng(n * height + width)
    frames = random_frames(rng, n, height, width, 12)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, frames, photometric="minisblack", **LAYOUTS[layout])
    stack = open_stack(path, bit_depth=12)
    assert open_bands(stack) is not None, "this layout should be read band by band"
    assert_same(stack_stats(stack), _frame_major_stats(stack, None))
    assert_same_without_extremes(stack_stats(stack, extremes=False), stack_stats(stack))
    total, _, minimum, maximum, _ = stack_stats_reference(frames)
    np.testing.assert_array_equal(stack_stats(stack).total, total)
    np.testing.assert_array_equal(stack_stats(stack).minimum, minimum)
    np.testing.assert_array_equal(stack_stats(stack).maximum, maximum)


@pytest.mark.parametrize("bits", [8, 10, 16])
@pytest.mark.parametrize("n", [1, 2, 17])
def test_arrays_npy_and_many_files(tmp_path, bits, n):
    rng = np.random.default_rng(bits * 100 + n)
    frames = random_frames(rng, n, 23, 31, bits)
    in_memory = FrameStack.from_array(frames, bit_depth=bits)
    expected = _frame_major_stats(in_memory, None)
    assert_same(stack_stats(in_memory), expected)
    assert_same_without_extremes(_frame_major_stats(in_memory, None, extremes=False), expected)
    assert_same_without_extremes(stack_stats(in_memory, extremes=False), expected)
    np.save(tmp_path / "stack.npy", frames)
    assert_same(stack_stats(open_stack(tmp_path / "stack.npy", bit_depth=bits)), expected)
    # One file per frame, alternating layouts, in one stack.
    for index, frame in enumerate(frames):
        options = [{"contiguous": True}, {"rowsperstrip": 4}, {"compression": "zlib"}]
        tifffile.imwrite(tmp_path / f"frame{index:03d}.tif", frame, **options[index % 3])
    many = open_stack(sorted(tmp_path.glob("frame*.tif")), bit_depth=bits)
    assert_same(stack_stats(many), expected)


def test_uint64_accumulators_and_16_bit_squares():
    frames = np.full((3, 5, 7), 65535, np.uint16)
    frames[1, 2, 3] = 0
    stack = FrameStack.from_array(frames, bit_depth=16)
    stats = stack_stats(stack)
    assert_same(stats, _frame_major_stats(stack, None))
    assert stats.total.dtype == np.uint32 and int(stats.total[0, 0]) == 3 * 65535


@pytest.mark.parametrize("n", [4, 9, 13])
def test_four_frame_kernel_with_uint64_squares_and_remainders(n):
    # Four full-scale 16-bit squares overflow uint32: the sum of squares is uint64 here,
    # and the four-frame kernel must form its partial sums in that type.
    rng = np.random.default_rng(n)
    frames = rng.integers(65000, 65536, (n, 6, 11)).astype(np.uint16)
    frames[n - 1, 1, 1] = 0
    stack = FrameStack.from_array(frames, bit_depth=16)
    stats = stack_stats(stack)
    assert_same(stats, _frame_major_stats(stack, None))
    assert_same_without_extremes(stack_stats(stack, extremes=False), stats)
    total, std, minimum, maximum, means = stack_stats_reference(frames)
    np.testing.assert_array_equal(stats.total, total)
    np.testing.assert_array_equal(stats.minimum, minimum)
    np.testing.assert_array_equal(stats.maximum, maximum)
    np.testing.assert_allclose(stats.std, std, rtol=1e-6)
    np.testing.assert_allclose(stats.frame_means, means, rtol=1e-12)


def test_rows_too_wide_for_the_four_frame_row_sums():
    # 65,538 full-scale 16-bit pixels overflow a uint32 row sum: one frame at a time.
    frames = np.full((5, 1, 65538), 65535, np.uint16)
    frames[2, 0, ::3] = 7
    stack = FrameStack.from_array(frames, bit_depth=16)
    stats = stack_stats(stack)
    assert_same(stats, _frame_major_stats(stack, None))
    assert_same_without_extremes(stack_stats(stack, extremes=False), stats)
    assert stats.frame_means[0] == 65535 and stats.frame_means[2] < 65535


def test_progress_reaches_the_frame_count(tmp_path):
    frames = random_frames(np.random.default_rng(3), 6, 40, 30, 10)
    calls = []
    stack_stats(
        FrameStack.from_array(frames, bit_depth=10), progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (6, 6)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("extremes", [True, False])
@pytest.mark.parametrize("n", [5, 8])  # a remainder frame, or four-frame calls only
def test_value_above_bit_depth_gives_the_frame_major_error(tmp_path, extremes, n):
    frames = random_frames(np.random.default_rng(4), n, 30, 20, 10)
    frames[3, 17, 11] = 1024
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, frames, photometric="minisblack", contiguous=True)
    stack = open_stack(path, bit_depth=10)
    with pytest.raises(FileFormatError, match=r"frame 4 holds value 1024 at row 17, column 11"):
        stack_stats(stack, extremes=extremes)
    with pytest.raises(FileFormatError, match=r"frame 4 holds value 1024 at row 17, column 11"):
        stack_sums(stack, range(2, n), extremes=extremes)


def test_truncated_data_names_the_file(tmp_path):
    frames = random_frames(np.random.default_rng(5), 3, 30, 20, 10)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, frames, photometric="minisblack", compression="zlib", rowsperstrip=4)
    stack = open_stack(path, bit_depth=10)
    # Damage the compressed data of the last frame after the stack was opened.
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[2].dataoffsets[1]
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xff" * 16)
    with pytest.raises(FileFormatError, match=r"stack\.tif.*frame 3"):
        stack_stats(stack)


# -- the float64 step of the standard deviation ----------------------------------------------


def test_temporal_std_is_exact_up_to_the_stated_frame_count_and_bounded_past_it():
    """``kernels.stats.temporal_std`` states: exact while ``n * sum(x^2) < 2**53`` (1,448
    frames at 16-bit full scale), the variance off by at most ``2**-51 * full_scale**2``
    past that. Pixels at full scale in all frames but 0 to 3, which are one DN lower: a
    variance near zero, where the rounding shows."""
    full = 2**16 - 1
    rng = np.random.default_rng(7)
    for n_frames in (1448, 1449, 65536):
        lower = rng.integers(0, 4, (32, 32))
        total = (n_frames * full - lower).astype(np.uint32)  # stack_stats' dtypes for these n
        total_sq = (n_frames * full**2 - lower * (2 * full - 1)).astype(np.uint64)
        std = np.zeros(total.shape, np.float32)
        temporal_std(total, total_sq, n_frames, std)
        sums = zip(total.ravel().tolist(), total_sq.ravel().tolist(), strict=True)
        numerators = [n_frames * q - t * t for t, q in sums]  # Python integers: exact
        variance = np.array([float(Fraction(v, n_frames * (n_frames - 1))) for v in numerators])
        # The kernel's own expression on the exact numerator.
        unrounded = np.sqrt(
            np.array(numerators, np.float64) * (1.0 / (n_frames * (n_frames - 1.0)))
        )
        matches = std.ravel() == unrounded.astype(np.float32)
        if n_frames <= 1448:
            assert matches.all()
        else:
            assert not matches.all(), n_frames  # the limit is real: rounding shows past it
        error = np.abs(std.ravel().astype(np.float64) ** 2 - variance)
        assert (error <= 2**-51 * full**2 + 2**-22 * variance).all(), n_frames  # + float32 std


# -- frame chunks summed apart and merged (fastdefect batch splits long stacks) -----------


@pytest.mark.parametrize("layout", ["contiguous", "deflate strips"])
@pytest.mark.parametrize("bits", [10, 16])
def test_merged_chunks_equal_one_pass(tmp_path, layout, bits):
    rng = np.random.default_rng(bits)
    frames = random_frames(rng, 11, 19, 26, bits)
    frames[:, 3, 4] = 2**bits - 1  # full scale: 16-bit squares of one frame need uint32,
    path = tmp_path / "stack.tif"  # of two uint64
    tifffile.imwrite(path, frames, photometric="minisblack", **LAYOUTS[layout])
    stack = open_stack(path, bit_depth=bits)
    whole = stack_stats(stack)
    for cuts in ([1], [4, 8], [1, 2, 3, 10], list(range(1, 11))):
        edges = [0, *cuts, 11]
        parts = [stack_sums(stack, range(a, b)) for a, b in pairwise(edges)]
        assert_same(merge_sums(parts).finish(), whole)
    assert stack_sums(stack).finish().total.dtype == whole.total.dtype


def test_chunks_of_a_stack_read_frame_by_frame(tmp_path):
    rng = np.random.default_rng(5)
    frames = random_frames(rng, 7, 9, 13, 12)
    stack = FrameStack.from_array(frames, bit_depth=12)
    whole = _frame_major_stats(stack, None)
    parts = [
        _pass(stack, range(0, 3), None, std=None, extremes=True, frame_major=True),
        _pass(stack, range(3, 7), None, std=None, extremes=True, frame_major=True),
    ]
    assert_same(merge_sums(parts).finish(), whole)


def test_merged_chunks_without_extremes():
    frames = random_frames(np.random.default_rng(6), 9, 12, 17, 10)
    stack = FrameStack.from_array(frames, bit_depth=10)
    whole = stack_stats(stack)
    without = [stack_sums(stack, range(0, 5), extremes=False), stack_sums(stack, range(5, 9))]
    assert_same_without_extremes(merge_sums(without).finish(), whole)


def test_bad_chunks_and_mismatched_parts_are_input_errors(tmp_path):
    frames = np.zeros((4, 5, 6), np.uint16)
    stack = FrameStack.from_array(frames, bit_depth=12)
    for bad in (range(0, 0), range(3, 5), range(-1, 2), range(0, 4, 2)):
        with pytest.raises(InputError, match="frames"):
            stack_sums(stack, bad)
    other = FrameStack.from_array(np.zeros((2, 6, 5), np.uint16), bit_depth=12)
    with pytest.raises(InputError, match="do not match"):
        merge_sums([stack_sums(stack), stack_sums(other)])
    with pytest.raises(InputError, match="no partial sums"):
        merge_sums([])


def test_detection_from_merged_chunks_equals_detection_from_the_files(tmp_path):
    rng = np.random.default_rng(8)
    frames = np.clip(np.rint(rng.normal(64, 3, (9, 40, 48))), 0, 1023).astype(np.uint16)
    frames[:, 7, 9] += 300  # hot
    frames[::2, 20, 30] += 200  # noisy
    path = tmp_path / "dark.tif"
    tifffile.imwrite(path, frames, photometric="minisblack")
    stack = open_stack(path, bit_depth=10)
    merged = merge_sums([stack_sums(stack, range(0, 5)), stack_sums(stack, range(5, 9))])
    from_chunks = detect(dark=SummedStack(stack, merged.finish()))
    from_files = detect(dark=path, bit_depth=10)
    assert len(from_files.defects) >= 2
    for name in ("rows", "columns", "kinds"):
        np.testing.assert_array_equal(
            getattr(from_chunks.defects, name), getattr(from_files.defects, name)
        )
    assert from_chunks.defects.evidence_names == from_files.defects.evidence_names
    for name in from_files.defects.evidence_names:
        np.testing.assert_array_equal(
            from_chunks.defects.evidence[name], from_files.defects.evidence[name]
        )
    with pytest.raises(InputError, match="do not describe"):
        SummedStack(stack, stack_sums(stack, range(0, 5)).finish())
