"""The full-frame deviation path: ``deviation_image`` and its rank network.

``fastdefect.detection.deviation_image`` must equal the brute-force definition
(``reference.neighbour_deviation_reference``) element for element, and
``deviation_outliers`` must give the same pixels whichever path it takes. The generated
rank network (``fastdefect.kernels._networks_rank``) is checked on its own, exhaustively,
with the 0-1 principle, and the identity it relies on (three ranks of the block with the
centre give the neighbours' median) exhaustively over all tie patterns.

The network is built and written out by ``tools/gen_networks.py`` (``tests/test_median.py``
runs its ``--check``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdefect import detection
from fastdefect.detection import deviation_image, deviation_outliers, local_deviation
from fastdefect.kernels._networks_median import sort_windows_7
from fastdefect.kernels._networks_rank import tile_ranks_7
from fastdefect.kernels._shared import TILE_WIDTH

from gen_networks import RANK_SIZE, RANK_TARGETS, SORTING_NETWORKS, tile_rank_network
from reference import deviation_outliers_reference, neighbour_deviation_reference

SIZE = RANK_SIZE
TARGETS = RANK_TARGETS
assert len(SORTING_NETWORKS[SIZE]) == 16


# --------------------------------------------------------------------------------------
# The identity: three ranks of the block give the neighbours' median
# --------------------------------------------------------------------------------------


def _middle_of_neighbours(s_low, s_mid, s_high, value):
    """The kernels' rule: the two middle neighbours from block ranks m-1, m, m+1."""
    low = np.where(value <= s_low, s_mid, s_low)
    high = np.where(value >= s_high, s_mid, s_high)
    return low, high


@pytest.mark.slow
@pytest.mark.parametrize("n_values", [3, 5, 7, 49])
def test_identity_for_every_tie_pattern(n_values):
    """Exhaustive over multisets of ``n_values`` values from {0, 1, 2, 3} and centres.

    The rule compares the centre with three ranks, so four distinct values realise every
    order (tie) pattern among them.
    """
    levels = 4
    counts = np.array(
        [c for c in itertools.product(range(n_values + 1), repeat=levels - 1)
         if sum(c) <= n_values], dtype=np.int64,
    )  # fmt: skip
    counts = np.column_stack([counts, n_values - counts.sum(axis=1)])
    cases = 0
    for value in range(levels):
        present = counts[counts[:, value] > 0]  # the centre is one of the block values
        block = np.repeat(np.tile(np.arange(levels), len(present)), present.ravel())
        block = block.reshape(len(present), n_values)  # each row sorted
        m = n_values // 2
        low, high = _middle_of_neighbours(block[:, m - 1], block[:, m], block[:, m + 1], value)
        neighbours = present.copy()
        neighbours[:, value] -= 1
        rest = np.repeat(np.tile(np.arange(levels), len(present)), neighbours.ravel())
        rest = rest.reshape(len(present), n_values - 1)
        np.testing.assert_array_equal(low, rest[:, m - 1])
        np.testing.assert_array_equal(high, rest[:, m])
        cases += len(present)
    assert cases > (1 if n_values == 3 else 100)


# --------------------------------------------------------------------------------------
# The network on its own
# --------------------------------------------------------------------------------------


def test_each_tile_output_reads_only_its_own_rows():
    """So checking an output over all values of its rows alone (below) is complete."""
    live, outputs = tile_rank_network()
    rows_of = {}
    for name, _kind, a, b in live:
        rows_of[name] = set()
        for operand in (a, b):
            if operand.startswith("r"):
                rows_of[name].add(int(operand[1:].split("_")[0]))
            else:
                rows_of[name] |= rows_of[operand]
    for t, names in enumerate(outputs):
        for name in names:
            assert rows_of[name] == set(range(t, t + SIZE))


def test_sorting_network_sorts_all_zero_one_inputs():
    width = TILE_WIDTH
    work = np.zeros(SIZE * width, dtype=np.uint16)
    for bits in itertools.product((0, 1), repeat=SIZE):
        src = np.array(bits, dtype=np.uint16)
        sort_windows_7(src, np.uint64(0), work, np.uint64(0), np.uint64(1))
        assert work[::width].tolist() == sorted(bits), bits


@pytest.mark.slow
def test_tile_network_selects_the_ranks_of_all_zero_one_inputs():
    """Each output rank, for every combination of sorted 0-1 rows its output reads.

    A sorted 0-1 row of 7 is fixed by its number of zeros; rank k of the block is 1 when
    it has at most k zeros. With sorted rows as input (checked above), this proves the
    network exact for all values by the 0-1 principle.
    """
    width = TILE_WIDTH
    rows = SIZE + 3
    ranks = np.arange(SIZE)
    rng = np.random.default_rng(SIZE)
    work = np.zeros((rows * SIZE + 12) * width, dtype=np.uint16)
    ring = work[: rows * SIZE * width].reshape(rows, SIZE, width)
    results = work[rows * SIZE * width :].reshape(4, 3, width)
    cases = (SIZE + 1) ** SIZE
    for output in range(4):
        zeros = rng.integers(0, SIZE + 1, size=(cases, rows), dtype=np.int8)
        digits = np.arange(cases)
        for d in range(SIZE):
            zeros[:, output + d] = digits % (SIZE + 1)
            digits //= SIZE + 1
        total_zeros = zeros[:, output : output + SIZE].sum(axis=1, dtype=np.int64)
        expected = (total_zeros[:, None] <= np.array(TARGETS)[None, :]).astype(np.uint16)
        got = np.empty_like(expected)
        for start in range(0, cases, width):
            chunk = zeros[start : start + width]
            n = len(chunk)
            ring[:, :, :n] = ranks[None, :, None] >= chunk.T[:, None, :]
            tile_ranks_7(work, np.uint64(n))
            got[start : start + n] = results[output, :, :n].T
        mismatches = np.flatnonzero((got != expected).any(axis=1))
        assert mismatches.size == 0, (output, zeros[mismatches[:3]])


# --------------------------------------------------------------------------------------
# deviation_image against the brute-force definition
# --------------------------------------------------------------------------------------


@st.composite
def images(draw, max_side=30):
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.uint32]))
    top = int(np.iinfo(dtype).max)
    # Narrow ranges make many ties; the full range exercises the top bits.
    high = draw(st.sampled_from([0, 1, 2, 4, 40, top]))
    low = draw(st.integers(0, top - high))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return (low + rng.integers(0, high, size=(height, width), endpoint=True)).astype(dtype)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    image=images(),
    cfa=st.sampled_from([None, "RGGB", "GBRG"]),
    n_frames=st.sampled_from([1, 3]),
)
def test_deviation_image_equals_brute_force(image, cfa, n_frames):
    got = deviation_image(image, cfa=cfa, n_frames=n_frames)
    want = neighbour_deviation_reference(image, 3, cfa) / n_frames
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


SHAPES = [(1, 1), (1, 9), (9, 1), (2, 12), (12, 2), (5, 20), (20, 5), (6, 6), (6, 7), (7, 6),
          (7, 7), (7, 20), (20, 7), (8, 9), (13, 14), (14, 13)]  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cfa", [None, "RGGB"])
def test_small_shapes_around_the_block_size(shape, cfa):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for image in (rng.integers(0, 3, shape, dtype=np.uint16),
                  rng.integers(0, 2**32, shape, dtype=np.uint32)):  # fmt: skip
        want = neighbour_deviation_reference(image, 3, cfa)
        np.testing.assert_array_equal(deviation_image(image, cfa=cfa), want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_many_tiles_and_bands_every_dtype(dtype):
    """Widths across several column tiles, heights across bands and not a multiple of 4;
    equal to the per-pixel kernel everywhere (uint64 past 2**53, where floats round)."""
    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    for shape in ((75, 139), (140, 71)):
        image = rng.integers(0, 6, shape).astype(dtype)
        image[rng.random(shape) < 0.02] = top  # outliers, like hot pixels
        image[rng.random(shape) < 0.02] = 0
        rows, columns = np.indices(shape).reshape(2, -1)
        want = local_deviation(image, rows, columns).reshape(shape)
        np.testing.assert_array_equal(deviation_image(image), want)
        wide = (image.astype(np.uint64) << np.uint64(11)).astype(dtype) | image
        want = local_deviation(wide, rows, columns).reshape(shape)
        np.testing.assert_array_equal(deviation_image(wide), want)
    small = rng.integers(0, 2**16, (30, 40)).astype(dtype)
    np.testing.assert_array_equal(deviation_image(small), neighbour_deviation_reference(small))


def test_any_memory_layout_and_byte_order():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 1024, size=(30, 40), dtype=np.uint16)
    want = neighbour_deviation_reference(base)
    np.testing.assert_array_equal(deviation_image(np.asfortranarray(base)), want)
    np.testing.assert_array_equal(deviation_image(base.astype(">u2")), want)
    read_only = base.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(deviation_image(read_only), want)


# --------------------------------------------------------------------------------------
# deviation_outliers: both paths give the brute-force pixels
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "bounded", "full"])
@pytest.mark.parametrize("band_rows", [256, 5])
def test_threshold_in_the_noise_every_path(method, band_rows, monkeypatch):
    """A flat noisy frame at 2.5 sigma: most pixels are candidates ("auto" goes full:
    the floor that keeps small frames on the per-pixel path is lifted); the full path
    thresholds the deviation band by band (here also in bands of 5 rows)."""
    monkeypatch.setattr(detection, "FULL_FRAME_MIN_CANDIDATES", 0)
    monkeypatch.setattr(detection, "_BAND_ROWS", band_rows)
    rng = np.random.default_rng(11)
    image = rng.normal(400, 8, (90, 110)).round().astype(np.uint16)
    image[rng.random(image.shape) < 0.01] = 1023
    for threshold, n_frames in ((20.0, 1), (6.5, 3)):
        got = deviation_outliers(image, threshold, n_frames=n_frames, method=method)
        want = deviation_outliers_reference(image, threshold, n_frames=n_frames)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_candidate_count_decides_the_path():
    """``find_candidates`` with ``max_count`` gives up past the limit, and only then."""
    from fastdefect.kernels.candidates import find_candidates

    rng = np.random.default_rng(13)
    image = rng.normal(400, 8, (100, 120)).round().astype(np.uint16)
    image[rng.random(image.shape) < 0.002] = 1023
    for threshold in (20.0, 60.0, 500.0):
        rows, columns = find_candidates(image, 3, threshold, threshold)
        got = find_candidates(image, 3, threshold, threshold, rows.size)
        np.testing.assert_array_equal(got[0], rows)
        np.testing.assert_array_equal(got[1], columns)
        if rows.size:
            assert find_candidates(image, 3, threshold, threshold, rows.size - 1) is None
    tiny = image[:2, :3]  # too few neighbours for the bound: every pixel a candidate
    assert find_candidates(tiny, 3, 500.0, 500.0, 5) is None
    assert find_candidates(tiny, 3, 500.0, 500.0, 6)[0].size == 6


def test_unknown_method_is_an_input_error():
    from fastdefect.errors import InputError

    with pytest.raises(InputError, match="method"):
        deviation_outliers(np.zeros((9, 9), np.uint16), 10, method="fast")


@pytest.mark.parametrize("band_rows", [1, 4, 7, 10, 64])
@pytest.mark.parametrize("cfa", [None, "GBRG"])
def test_deviation_in_bands_equals_the_whole_image(band_rows, cfa, monkeypatch):
    """Bands of any height (the last one short, bands thinner than the 7 x 7 block)
    give the whole-image deviation bit for bit, and so does the banded gather."""
    monkeypatch.setattr(detection, "_BAND_ROWS", band_rows)
    rng = np.random.default_rng(band_rows)
    image = rng.integers(0, 5000, (45, 38)).astype(np.uint32)
    image[rng.random(image.shape) < 0.05] = 65000
    plane = image if cfa is None else np.ascontiguousarray(image[1::2, 0::2])
    whole = detection._plane_deviation(plane)
    bands = [(first, band.copy()) for first, band in detection._deviation_bands(plane)]
    assert [first for first, _ in bands] == list(range(0, plane.shape[0], band_rows))
    np.testing.assert_array_equal(np.concatenate([band for _, band in bands]), whole)
    inner = [band.copy() for _, band in detection._deviation_bands(plane, borders=False)]
    np.testing.assert_array_equal(np.concatenate(inner)[3:-3, 3:-3], whole[3:-3, 3:-3])
    rows, columns = np.nonzero(rng.random(image.shape) < 0.3)
    np.testing.assert_array_equal(
        detection._full_deviation_at(image, rows, columns, cfa),
        local_deviation(image, rows, columns, cfa=cfa),
    )
