"""Tests of ``fastdefect.local_median``: exact agreement with scipy, and the networks.

The reference is ``scipy.ndimage.median_filter(image, size, mode="mirror")`` (per colour
plane with a CFA). The generated comparator networks of ``fastdefect.kernels.median``
are also checked on their own, exhaustively, with the 0-1 principle: a network of
min/max operations computes a rank of its inputs for all values if and only if it does
for all inputs of zeros and ones.

This file also holds the generator of those networks (``emit_networks``); run
``python tests/test_median.py --write`` to regenerate the kernel module's generated
section after changing it.
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from fastdefect import InputError
from fastdefect.kernels import median as kernels
from fastdefect.median import local_median

KERNEL_SOURCE = Path(kernels.__file__)
GENERATED_MARKER = "# Generated networks: do not edit by hand."

# --------------------------------------------------------------------------------------
# Generator of the comparator networks (reference for the kernel module's generated code)
# --------------------------------------------------------------------------------------

NETWORK_SIZES = (3, 5, 7)

#: Optimal sorting networks (compare-exchange pairs) for the row windows.
SORTING_NETWORKS = {
    3: ((0, 2), (0, 1), (1, 2)),
    5: ((0, 3), (1, 4), (0, 2), (1, 3), (0, 1), (2, 4), (1, 2), (3, 4), (2, 3)),
    7: (
        (0, 6), (2, 3), (4, 5), (0, 2), (1, 4), (3, 6), (0, 1), (2, 5),
        (3, 4), (1, 2), (4, 6), (2, 3), (4, 5), (1, 2), (3, 4), (5, 6),
    ),
}  # fmt: skip


class _Network:
    """Records min/max operations on named values, each result a new name."""

    def __init__(self):
        self.ops = []

    def op(self, kind, a, b):
        name = f"w{len(self.ops) + 1}"
        self.ops.append((name, kind, a, b))
        return name

    def exchange(self, a, b):
        return [self.op("min", a, b), self.op("max", a, b)]

    def merge(self, a, b):
        """Batcher's odd-even merge of two sorted lists of any lengths."""
        if not a or not b:
            return list(a) + list(b)
        if len(a) == 1 and len(b) == 1:
            return self.exchange(a[0], b[0])
        evens = self.merge(a[0::2], b[0::2])
        odds = self.merge(a[1::2], b[1::2])
        out = [evens[0]]
        i = 0
        while i < len(odds) and i + 1 < len(evens):
            out += self.exchange(odds[i], evens[i + 1])
            i += 1
        return out + odds[i:] + evens[i + 1 :]

    def merge_all(self, lists):
        lists = [list(x) for x in lists]
        while len(lists) > 1:
            merged = [self.merge(lists[i], lists[i + 1]) for i in range(0, len(lists) - 1, 2)]
            lists = merged + lists[len(lists) - len(lists) % 2 :]
        return lists[0]

    def rank_of_two(self, kept, row):
        """Rank ``len(row)`` of the union of sorted ``kept`` (one longer) and sorted ``row``.

        In 0-1 terms the rank-k element is 1 when at most k zeros exist, i.e. when
        ``kept[p]`` and ``row[k - p]`` are both 1 for some p: ``max_p min(...)``.
        """
        k = len(row)
        terms = [kept[0]] + [self.op("min", kept[p], row[k - p]) for p in range(1, k + 1)]
        while len(terms) > 1:
            pairs = [self.op("max", terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
            terms = pairs + terms[len(terms) - len(terms) % 2 :]
        return terms[0]


def tile_network(size):
    """Live min/max ops and output names of 4 vertically adjacent medians.

    Inputs ``r{d}_{k}``: rank k of sorted row d, d = 0 .. size + 2. Output t is the
    median of rows t .. t + size - 1. Of ``m`` values that ``size`` more will join, the
    final median (rank ``size**2 // 2``) can only be one of the merged ranks
    ``size**2 // 2 - size .. size**2 // 2``; only those are kept ("forgetful" merging).
    """
    net = _Network()
    rows = [[f"r{d}_{k}" for k in range(size)] for d in range(size + 3)]
    lo, hi = size * size // 2 - size, size * size // 2
    if size >= 5:
        common = net.merge_all(rows[3:size])  # rows shared by all four outputs
        upper = net.merge(common, net.merge(rows[1], rows[2]))[lo : hi + 1]
        lower = net.merge(common, net.merge(rows[size], rows[size + 1]))[lo : hi + 1]
    else:  # size 3: two independent pairs of outputs
        upper = net.merge_all(rows[1:size])[lo : hi + 1]
        lower = net.merge_all(rows[3 : size + 2])[lo : hi + 1]
    outputs = [
        net.rank_of_two(upper, rows[0]),
        net.rank_of_two(upper, rows[size]),
        net.rank_of_two(lower, rows[2]),
        net.rank_of_two(lower, rows[size + 2]),
    ]
    needed, live = set(outputs), []
    for op in reversed(net.ops):
        if op[0] in needed:
            live.append(op)
            needed.update(op[2:])
    live.reverse()
    # Number the surviving operations 1, 2, ... in order.
    names = {op[0]: f"w{i}" for i, op in enumerate(live, start=1)}
    live = [(names[d], kind, names.get(a, a), names.get(b, b)) for d, kind, a, b in live]
    return live, [names.get(o, o) for o in outputs]


def _offset(index):
    return "x" if index == 0 else f"x + np.uint64({index} * TILE_WIDTH)"


def _emit_sort_windows(size):
    lines = [
        "@njit(cache=True, nogil=True)",
        f"def _sort_windows_{size}(src, start, work, dst, n):",
        f'    """Sort every {size}-wide window of ``src`` into {size} rank rows of ``work``."""',
        "    for x in range(n):",
    ]
    for k in range(size):
        index = "start + x" if k == 0 else f"start + x + np.uint64({k})"
        lines.append(f"        p{k} = src[{index}]")
    for i, j in SORTING_NETWORKS[size]:
        lines.append(f"        p{i}, p{j} = lo(p{i}, p{j}), hi(p{i}, p{j})")
    for k in range(size):
        lines.append(f"        work[dst + {_offset(k)}] = p{k}")
    return lines


_INTRINSIC = {"min": "lo", "max": "hi"}


def _emit_network(function, docstring, size, live, stores):
    """A generated tile kernel: load the sorted-row ranks it reads (``r<row>_<rank>``),
    apply the min/max network ``live``, store ``(slot, value)`` pairs into ``work``."""
    inputs = sorted(
        {a for op in live for a in op[2:] if a.startswith("r")},
        key=lambda name: tuple(int(t) for t in name[1:].split("_")),
    )
    lines = [
        "@njit(cache=True, nogil=True)",
        f"def {function}(work, n):",
        f'    """{docstring}"""',
        "    for x in range(n):",
    ]
    for name in inputs:
        row, rank = (int(t) for t in name[1:].split("_"))
        lines.append(f"        {name} = work[{_offset(row * size + rank)}]")
    for name, kind, a, b in live:
        # lo/hi: integer min/max intrinsics, much faster to compile (kernels/_minmax.py)
        lines.append(f"        {name} = {_INTRINSIC[kind]}({a}, {b})")
    for slot, value in stores:
        lines.append(f"        work[{_offset(slot)}] = {value}")
    return lines


def _emit_tile_medians(size):
    live, outputs = tile_network(size)
    first_output = (size + 3) * size
    docstring = f"Medians of 4 vertically adjacent {size} x {size} windows, {len(live)} min/max."
    stores = [(first_output + t, name) for t, name in enumerate(outputs)]
    return _emit_network(f"_tile_medians_{size}", docstring, size, live, stores)


def emit_networks():
    """Source of the generated section of ``fastdefect/kernels/median.py``."""
    blocks = []
    for size in NETWORK_SIZES:
        blocks.append("\n".join(_emit_sort_windows(size)))
        blocks.append("\n".join(_emit_tile_medians(size)))
    return "\n\n\n".join(blocks) + "\n"


def _generated_section(source):
    """The kernel module's code after the generated-section comment block."""
    tail = source[source.index(GENERATED_MARKER) :]
    return tail[tail.index("\n@njit") + 1 :]


def _write_generated_section():
    source = KERNEL_SOURCE.read_text()
    head = source[: source.index(_generated_section(source))]
    KERNEL_SOURCE.write_text(head + emit_networks())


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


@pytest.mark.slow
def test_generated_section_is_what_the_generator_emits():
    source = KERNEL_SOURCE.read_text()
    assert ast.dump(ast.parse(_generated_section(source))) == ast.dump(
        ast.parse(emit_networks())
    ), "run: python tests/test_median.py --write"


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
    sort_windows = getattr(kernels, f"_sort_windows_{size}")
    width = kernels.TILE_WIDTH
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
    tile_medians = getattr(kernels, f"_tile_medians_{size}")
    width = kernels.TILE_WIDTH
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


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _write_generated_section()
    else:
        print(emit_networks(), end="")
