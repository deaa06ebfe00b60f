"""Tests of ``fastdefect.local_median``: exact agreement with scipy, and the networks.

The reference is ``scipy.ndimage.median_filter(image, size, mode="mirror")`` (per colour
plane with a CFA). The generated comparator networks (``fastdefect.kernels._networks_median``)
are also checked on their own, exhaustively, with the 0-1 principle: a network of
min/max operations computes a rank of its inputs for all values if and only if it does
for all inputs of zeros and ones.

The networks are built and written out by ``tools/gen_networks.py``; a test here runs
its ``--check``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from fastdefect import InputError
from fastdefect.kernels import _networks_median as networks
from fastdefect.kernels._shared import TILE_WIDTH
from fastdefect.median import local_median

import gen_networks
from gen_networks import NETWORK_SIZES, tile_network

# --------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------


def scipy_median(image, size, cfa=None):
    if cfa is None:
        return ndimage.median_filter(image, size=size, mode="mirror")
    out = np.empty_like(image)
    for r0, c0 in itertools.product((0, 1), (0, 1)):
        plane = image[r0::2, c0::2]
        if plane.size:
            out[r0::2, c0::2] = ndimage.median_filter(plane, size=size, mode="mirror")
    return out


def assert_matches_scipy(image, size, cfa=None):
    before = image.copy()
    ours = local_median(image, size, cfa=cfa)
    expected = scipy_median(image, size, cfa)
    assert ours.dtype == image.dtype
    assert ours.shape == image.shape
    np.testing.assert_array_equal(ours, expected, err_msg=f"size={size} cfa={cfa}")
    np.testing.assert_array_equal(image, before)  # input untouched


# --------------------------------------------------------------------------------------
# Agreement with scipy
# --------------------------------------------------------------------------------------

SIZES = (1, 3, 5, 7, 9)
CFAS = (None, "RGGB", "BGGR", "GRBG", "GBRG")


@st.composite
def images(draw, max_side=24):
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from([np.uint8, np.uint16]))
    top = np.iinfo(dtype).max
    # Narrow ranges make many ties; the full range exercises the top bits.
    high = draw(st.sampled_from([1, 2, 4, 16, top]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return rng.integers(0, high, size=(height, width), endpoint=True).astype(dtype)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(image=images(), size=st.sampled_from(SIZES), cfa=st.sampled_from(CFAS))
def test_matches_scipy_on_random_images(image, size, cfa):
    assert_matches_scipy(image, size, cfa)


SHAPES = [(1, 1), (1, 2), (2, 1), (1, 13), (13, 1), (2, 2), (2, 3), (3, 2), (4, 5), (6, 6), (7, 7)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", SIZES)
def test_tiny_images_and_windows_larger_than_the_image(shape, size):
    rng = np.random.default_rng(hash((shape, size)) % 2**32)
    image = rng.integers(0, 2**16, size=shape, dtype=np.uint16)
    assert_matches_scipy(image, size)
    assert_matches_scipy(image.astype(np.uint8) % 3, size, cfa="RGGB")


@pytest.mark.parametrize("size", NETWORK_SIZES)
@pytest.mark.parametrize("height", [1, 5, 6, 7, 8, 67, 133])
def test_many_tiles_and_bands(size, height):
    """Widths across several column tiles (interior and border), heights across bands
    and not a multiple of the 4 rows the network computes at a time."""
    rng = np.random.default_rng(size * 1000 + height)
    for width in (129, 300):
        image = rng.integers(0, 6, size=(height, width), dtype=np.uint16)
        image[rng.random(image.shape) < 0.01] = 65535  # outliers, like hot pixels
        assert_matches_scipy(image, size)


@pytest.mark.parametrize("size", SIZES)
def test_full_range_uint16_and_uint8(size):
    rng = np.random.default_rng(size)
    image16 = rng.integers(0, 2**16, size=(41, 150), dtype=np.uint16)
    assert_matches_scipy(image16, size)
    assert_matches_scipy((image16 >> 8).astype(np.uint8), size)


def test_larger_size_uses_exact_general_path():
    rng = np.random.default_rng(11)
    image = rng.integers(0, 50, size=(23, 31), dtype=np.uint16)
    for size in (11, 13, 31, 45):
        assert_matches_scipy(image, size)


def test_constant_image_and_single_outlier():
    image = np.full((20, 20), 517, dtype=np.uint16)
    np.testing.assert_array_equal(local_median(image), image)
    image[10, 10] = 1023
    np.testing.assert_array_equal(local_median(image)[10, 10], 517)
    # 24 bright pixels among 49 are not enough to move the median; 25 are.
    block = np.zeros((7, 7), dtype=np.uint8)
    block.flat[:24] = 9
    assert local_median(block, 7)[3, 3] == 0
    block.flat[24] = 9
    assert local_median(block, 7)[3, 3] == 9


def test_cfa_uses_same_colour_neighbours_only():
    # A Bayer mosaic with very different colour levels: a mono median mixes them,
    # the per-plane median returns each plane's own level.
    levels = np.array([[100, 600], [650, 300]], dtype=np.uint16)
    image = np.tile(levels, (8, 8))
    np.testing.assert_array_equal(local_median(image, 7, cfa="RGGB"), image)
    assert not np.array_equal(local_median(image, 7), image)
    for pattern in ("mono", "", None):
        np.testing.assert_array_equal(local_median(image, 5, cfa=pattern), local_median(image, 5))


def test_any_memory_layout_and_byte_order():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 1024, size=(30, 40), dtype=np.uint16)
    expected = scipy_median(base, 7)
    np.testing.assert_array_equal(local_median(np.asfortranarray(base), 7), expected)
    strided = np.zeros((60, 80), dtype=np.uint16)
    strided[::2, ::2] = base
    np.testing.assert_array_equal(local_median(strided[::2, ::2], 7), expected)
    read_only = base.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(local_median(read_only, 7), expected)
    big_endian = base.astype(">u2")
    result = local_median(big_endian, 7)
    assert result.dtype == big_endian.dtype
    np.testing.assert_array_equal(result, expected)


def test_size_one_is_a_copy():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    result = local_median(image, 1)
    np.testing.assert_array_equal(result, image)
    assert not np.shares_memory(result, image)


def test_empty_image():
    image = np.zeros((0, 5), dtype=np.uint16)
    assert local_median(image, 3).shape == (0, 5)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1, 2, 4, 8])
def test_even_or_small_size_is_an_input_error(size):
    with pytest.raises(InputError, match="odd integer >= 1"):
        local_median(np.zeros((5, 5), np.uint16), size)


@pytest.mark.parametrize("size", [7.0, "7", None, True])
def test_non_integer_size_is_an_input_error(size):
    with pytest.raises(InputError, match="size must be an odd integer"):
        local_median(np.zeros((5, 5), np.uint16), size)


def test_numpy_integer_size_is_accepted():
    image = np.arange(25, dtype=np.uint16).reshape(5, 5)
    np.testing.assert_array_equal(local_median(image, np.int64(3)), scipy_median(image, 3))


@pytest.mark.parametrize("shape", [(5,), (2, 5, 5), ()])
def test_non_2d_image_is_an_input_error(shape):
    with pytest.raises(InputError, match="2-D image"):
        local_median(np.zeros(shape, np.uint16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.int32, np.uint32, bool])
def test_unsupported_dtype_is_an_input_error(dtype):
    with pytest.raises(InputError, match="uint8 and uint16") as info:
        local_median(np.zeros((5, 5), dtype))
    if np.dtype(dtype).kind == "f":
        assert "floating-point" in str(info.value)


@pytest.mark.parametrize("cfa", ["RGBG", "XYZ", 3])
def test_bad_cfa_is_an_input_error(cfa):
    with pytest.raises(InputError, match=r"CFA pattern|Bayer pattern"):
        local_median(np.zeros((5, 5), np.uint16), cfa=cfa)


# --------------------------------------------------------------------------------------
# The networks on their own
# --------------------------------------------------------------------------------------


def test_generated_modules_are_what_the_generator_emits(capsys):
    assert gen_networks.stale_modules() == [], "run: python tools/gen_networks.py --write"
    assert gen_networks.main(["--check"]) == 0
    assert capsys.readouterr().err == ""


def test_check_names_a_stale_module_and_write_regenerates_it(tmp_path, monkeypatch, capsys):
    module = tmp_path / "_networks_median.py"
    module.write_text(gen_networks.median_module().replace("lo(p0, p2)", "hi(p0, p2)", 1))
    monkeypatch.setattr(gen_networks, "ROOT", tmp_path)
    monkeypatch.setattr(gen_networks, "GENERATED", {module: gen_networks.median_module})
    assert gen_networks.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "_networks_median.py is not what tools/gen_networks.py emits" in err
    assert gen_networks.main(["--write"]) == 0
    assert module.read_text() == gen_networks.median_module()
    assert gen_networks.main(["--check"]) == 0


@pytest.mark.parametrize("size", NETWORK_SIZES)
def test_each_tile_output_reads_only_its_own_rows(size):
    """So checking an output over all values of its rows alone (below) is complete."""
    live, outputs = tile_network(size)
    rows_of = {}
    for name, _kind, a, b in live:
        rows_of[name] = set()
        for operand in (a, b):
            if operand.startswith("r"):
                rows_of[name].add(int(operand[1:].split("_")[0]))
            else:
                rows_of[name] |= rows_of[operand]
    for t, name in enumerate(outputs):
        assert rows_of[name] == set(range(t, t + size))


@pytest.mark.parametrize("size", NETWORK_SIZES)
def test_sorting_networks_sort_all_zero_one_inputs(size):
    sort_windows = getattr(networks, f"sort_windows_{size}")
    width = TILE_WIDTH
    work = np.zeros(size * width, dtype=np.uint16)
    for bits in itertools.product((0, 1), repeat=size):
        src = np.array(bits, dtype=np.uint16)
        sort_windows(src, np.uint64(0), work, np.uint64(0), np.uint64(1))
        assert work[::width].tolist() == sorted(bits), bits


def _zero_one_tile_inputs(size, output, rng):
    """All sorted 0-1 rows for the 'size' rows of one output, random other rows.

    Returns (zeros per row for every case, expected 0-1 median per case). A sorted 0-1
    row of length ``size`` is fixed by its number of zeros.
    """
    rows = size + 3
    cases = (size + 1) ** size
    zeros = rng.integers(0, size + 1, size=(cases, rows), dtype=np.int8)
    digits = np.arange(cases)
    for d in range(size):
        zeros[:, output + d] = digits % (size + 1)
        digits //= size + 1
    ones = (size - zeros[:, output : output + size]).sum(axis=1)
    return zeros, (ones >= size * size // 2 + 1).astype(np.uint8)


@pytest.mark.slow
@pytest.mark.parametrize("size", NETWORK_SIZES)
def test_tile_networks_select_the_median_of_all_zero_one_inputs(size):
    """Each of the four outputs, for every combination of sorted 0-1 rows it reads.

    With sorted rows as input (checked above), this proves the networks exact for all
    values by the 0-1 principle.
    """
    tile_medians = getattr(networks, f"tile_medians_{size}")
    width = TILE_WIDTH
    rows = size + 3
    ranks = np.arange(size)
    rng = np.random.default_rng(size)
    work = np.zeros((rows * size + 4) * width, dtype=np.uint16)
    ring = work[: rows * size * width].reshape(rows, size, width)
    results = work[rows * size * width :].reshape(4, width)
    for output in range(4):
        zeros, expected = _zero_one_tile_inputs(size, output, rng)
        got = np.empty_like(expected)
        for start in range(0, len(expected), width):
            chunk = zeros[start : start + width]
            n = len(chunk)
            # ring[d, k, x] = 1 when rank k of row d is past its zeros
            ring[:, :, :n] = ranks[None, :, None] >= chunk.T[:, None, :]
            tile_medians(work, np.uint64(n))
            got[start : start + n] = results[output, :n]
        mismatches = np.flatnonzero(got != expected)
        assert mismatches.size == 0, (output, zeros[mismatches[:3]])
