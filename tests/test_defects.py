"""DefectList: construction, ordering, dedupe, merge, diff, filters and statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from fastdefect.defects import (
    KINDS,
    DefectList,
    cluster_labels,
    diff_lists,
    horizontal_runs,
    merge_lists,
    neighbourhood_counts,
    run_lengths,
)
from fastdefect.errors import InputError

from reference import run_ends

SOURCES = ("factory", "user", "detected", "old.csv", "b, with comma.csv")
EVIDENCE_NAMES = ("dark_mean", "bright_deviation")


@st.composite
def defect_lists(draw, max_size: int = 40, span: int = 12, with_evidence: bool = True):
    """Small lists on a small grid, so that positions collide often."""
    n = draw(st.integers(0, max_size))
    rows = draw(st.lists(st.integers(0, span), min_size=n, max_size=n))
    columns = draw(st.lists(st.integers(0, span), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    sources = draw(st.lists(st.sampled_from(SOURCES), min_size=n, max_size=n))
    evidence = {}
    if with_evidence:
        value = st.one_of(st.just(math.nan), st.floats(-1e6, 1e6, allow_nan=False))
        for name in draw(st.lists(st.sampled_from(EVIDENCE_NAMES), unique=True, max_size=2)):
            evidence[name] = draw(st.lists(value, min_size=n, max_size=n))
    return DefectList(rows, columns, kinds=kinds, source=sources, evidence=evidence)


def as_set(defects: DefectList) -> set[tuple]:
    """Entries as a set of comparable tuples (NaN made comparable)."""
    return {(r.row, r.column, r.kind, r.source, tuple(sorted(r.evidence.items()))) for r in defects}


# -- construction ----------------------------------------------------------------------------


def test_constructor_stores_parallel_arrays():
    defects = DefectList(
        [3, 1],
        [4, 2],
        kinds=["hot", "dark"],
        source="detected",
        evidence={"dark_mean": [880.0, np.nan]},
    )
    assert defects.rows.dtype == np.int32 and defects.kind_codes.dtype == np.uint8
    assert defects.kinds.tolist() == ["hot", "dark"]
    assert defects.sources.tolist() == ["detected", "detected"]
    assert defects[0].evidence == {"dark_mean": 880.0}
    assert defects[1].evidence == {}
    assert [r.row for r in defects] == [3, 1]
    assert len(defects) == 2
    with pytest.raises(ValueError):
        defects.rows[0] = 5  # read-only


def test_from_arrays_accepts_kind_codes_and_defaults_to_detected():
    defects = DefectList.from_arrays(
        np.array([1, 2]), np.array([3, 4]), kinds=np.array([2, 0], dtype=np.uint8)
    )
    assert defects.kinds.tolist() == ["hot", "stuck_high"]
    assert defects.source_names == ("detected",)


@pytest.mark.parametrize(
    ("rows", "columns", "kinds", "message"),
    [
        ([-1], [0], None, "rows must be in 0..65535; entry 0 is -1"),
        ([0], [65536], None, "columns must be in 0..65535; entry 0 is 65536"),
        ([0, 1], [0], None, "2 rows but 1 columns"),
        ([0.5], [0], None, "rows must be integers; entry 0 is 0.5"),
        ([0], [0], "warm", "unknown defect kind 'warm'"),
        ([0], [0], ["hot", "cold"], "kinds has 2 values for 1 entries"),
    ],
)
def test_constructor_rejects_bad_values(rows, columns, kinds, message):
    with pytest.raises(InputError, match=message):
        DefectList(rows, columns, kinds=kinds)


def test_bad_evidence_and_sources_are_refused():
    with pytest.raises(InputError, match="evidence 'x' has 1 values for 2 entries"):
        DefectList([0, 1], [0, 1], evidence={"x": [1.0]})
    with pytest.raises(InputError, match="bad evidence name 'kind'"):
        DefectList([0], [0], evidence={"kind": [1.0]})
    with pytest.raises(InputError, match="one-line string"):
        DefectList([0], [0], source="a\nb")


def test_to_mask_and_from_mask_round_trip():
    defects = DefectList([0, 2, 2], [1, 0, 3])
    mask = defects.to_mask(4, 3)
    assert mask.sum() == 3 and mask[2, 3]
    assert DefectList.from_mask(mask).same_positions(defects)
    with pytest.raises(InputError, match="row 2, column 3 is outside the 3 x 3 sensor"):
        defects.to_mask(3, 3)


# -- ordering, dedupe, merge -----------------------------------------------------------------


def test_sorted_orders_by_row_then_column():
    defects = DefectList([5, 1, 1, 0], [0, 9, 2, 7])
    ordered = defects.sorted()
    assert list(zip(ordered.rows.tolist(), ordered.columns.tolist(), strict=True)) == [
        (0, 7),
        (1, 2),
        (1, 9),
        (5, 0),
    ]
    assert ordered.is_sorted() and not defects.is_sorted()


def test_dedupe_keeps_the_richest_entry():
    defects = DefectList(
        [4, 4, 4, 7, 7],
        [2, 2, 2, 1, 1],
        kinds=["unknown", "noisy", "hot", "dark", "stuck_high"],
        source=["user", "detected", "detected", "factory", "user"],
        evidence={"dark_mean": [np.nan, 3.0, np.nan, np.nan, np.nan]},
    )
    unique = defects.deduplicated()
    assert len(unique) == 2
    # (4, 2): the entry with evidence wins over a stronger kind without.
    assert unique[0].kind == "noisy" and unique[0].evidence == {"dark_mean": 3.0}
    # (7, 1): no evidence on either, so the stronger kind wins.
    assert unique[1].kind == "stuck_high"


def test_dedupe_prefers_factory_when_otherwise_equal():
    defects = DefectList([1, 1, 1], [1, 1, 1], source=["zz.csv", "user", "factory"])
    assert defects.deduplicated()[0].source == "factory"


def test_duplicated_marks_later_repeats():
    defects = DefectList([1, 2, 1, 1], [1, 2, 1, 1])
    assert defects.duplicated().tolist() == [False, False, True, True]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(defect_lists(), defect_lists())
def test_merge_is_order_independent_and_idempotent(a, b):
    ab = merge_lists([a, b])
    assert ab == merge_lists([b, a])
    assert merge_lists([ab, b]) == ab
    assert merge_lists([ab, a, b]) == ab
    assert merge_lists([ab]) == ab
    # Shuffling the entries of an input changes nothing either.
    permutation = np.random.default_rng(len(a)).permutation(len(a))
    assert merge_lists([a.take(permutation), b]) == ab


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(defect_lists(), defect_lists())
def test_merge_keeps_one_entry_per_position_from_the_inputs(a, b):
    merged = merge_lists([a, b])
    keys = merged.linear_index
    assert np.all(np.diff(keys) > 0)  # sorted, unique
    assert set(keys.tolist()) == set(a.linear_index.tolist()) | set(b.linear_index.tolist())
    assert as_set(merged) <= as_set(a) | as_set(b)


def test_merge_example_factory_and_user():
    factory = DefectList([0, 5], [3, 5], source="factory")
    user = DefectList([5, 9], [5, 1], source="user", kinds="hot")
    merged = factory.merge(user)
    assert merged.positions().tolist() == [[0, 3], [5, 5], [9, 1]]
    # (5, 5) is in both: the user entry has a kind, so it is the richer one.
    assert merged[1].kind == "hot" and merged[1].source == "user"
    assert merged.count_by_source() == {"factory": 1, "user": 2}


# -- selection and edits ---------------------------------------------------------------------


def test_filter_by_kind_source_and_region():
    defects = DefectList(
        [0, 1, 2, 3],
        [0, 10, 20, 30],
        kinds=["hot", "dark", "hot", "noisy"],
        source=["factory", "user", "user", "detected"],
    )
    assert defects.filter(kinds="hot").rows.tolist() == [0, 2]
    assert defects.filter(kinds=["hot", "noisy"], sources="user").rows.tolist() == [2]
    assert defects.filter(rows=(1, 3)).rows.tolist() == [1, 2]
    assert defects.filter(columns=(15, 100), rows=(0, 3)).rows.tolist() == [2]
    with pytest.raises(InputError, match="unknown defect kind 'warm'"):
        defects.filter(kinds="warm")


def test_add_remove_and_contains():
    defects = DefectList([1], [1]).add([2, 3], [2, 3], kind="hot")
    assert len(defects) == 3 and defects.contains(3, 3)
    smaller = defects.remove([2], [2])
    assert smaller.positions().tolist() == [[1, 1], [3, 3]]
    with pytest.raises(InputError, match="row 8, column 8 is not in the list"):
        defects.remove([1, 8], [1, 8])


# -- diff --------------------------------------------------------------------------------------


def test_diff_example():
    old = DefectList([1, 2, 3], [1, 2, 3], kinds=["hot", "hot", "dark"])
    new = DefectList([2, 3, 4, 4], [2, 3, 4, 4], kinds=["hot", "stuck_low", "hot", "hot"])
    result = diff_lists(old, new)
    assert result.new.positions().tolist() == [[4, 4]]
    assert result.healed.positions().tolist() == [[1, 1]]
    assert result.unchanged.positions().tolist() == [[2, 2], [3, 3]]
    assert result.kind_changed.positions().tolist() == [[3, 3]]
    assert result.summary() == {"new": 1, "healed": 1, "unchanged": 2, "kind_changed": 1}


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(defect_lists(with_evidence=False), defect_lists(with_evidence=False))
def test_diff_partitions_both_lists(old, new):
    result = diff_lists(old, new)
    old_keys, new_keys = set(old.linear_index.tolist()), set(new.linear_index.tolist())
    assert set(result.new.linear_index.tolist()) == new_keys - old_keys
    assert set(result.healed.linear_index.tolist()) == old_keys - new_keys
    assert set(result.unchanged.linear_index.tolist()) == old_keys & new_keys
    assert len(result.new) + len(result.unchanged) == len(new_keys)


# -- geometry helpers against brute force ----------------------------------------------------


@st.composite
def unique_positions(draw, span: int = 15):
    cells = draw(st.sets(st.tuples(st.integers(0, span), st.integers(0, span)), max_size=80))
    cells = sorted(cells, key=lambda _: draw(st.integers(0, 1000)))
    rows = np.array([r for r, _ in cells], dtype=np.int64)
    columns = np.array([c for _, c in cells], dtype=np.int64)
    return rows, columns


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(unique_positions(), st.sampled_from([4, 8]))
def test_cluster_labels_match_scipy_label(positions, connectivity):
    rows, columns = positions
    labels = cluster_labels(rows, columns, connectivity=connectivity)
    image = np.zeros((17, 17), dtype=bool)
    image[rows, columns] = True
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    reference, count = ndimage.label(image, structure=structure)
    assert (labels.max() + 1 if labels.size else 0) == count
    # Same partition: labels map one to one onto scipy's.
    pairs = set(zip(labels.tolist(), reference[rows, columns].tolist(), strict=True))
    assert len(pairs) == count


@settings(max_examples=150, deadline=None)
@given(unique_positions(), st.integers(1, 3))
def test_run_lengths_and_neighbourhood_counts_match_brute_force(positions, radius):
    rows, columns = positions
    cells = set(zip(rows.tolist(), columns.tolist(), strict=True))
    expected_runs, expected_counts = [], []
    for r, c in zip(rows.tolist(), columns.tolist(), strict=True):
        left, right = run_ends(cells, r, c)
        expected_runs.append(right - left + 1)
        expected_counts.append(
            sum(
                (r + dr, c + dc) in cells
                for dr in range(-radius, radius + 1)
                for dc in range(-radius, radius + 1)
            )
        )
    assert run_lengths(rows, columns).tolist() == expected_runs
    assert neighbourhood_counts(rows, columns, radius).tolist() == expected_counts


@settings(max_examples=100, deadline=None)
@given(
    positions=st.sets(st.tuples(st.integers(0, 6), st.integers(0, 20)), max_size=60),
    step=st.sampled_from([1, 2]),
)
def test_horizontal_runs_match_brute_force(positions, step):
    """Every position's run, walked pixel by pixel in its colour plane."""
    cells = sorted(positions)
    rows = np.array([r for r, _ in cells], dtype=np.int64)
    columns = np.array([c for _, c in cells], dtype=np.int64)
    runs = horizontal_runs(rows[::-1], columns[::-1], step=step)  # any order
    expected = {}
    for r, c in cells:
        first, last = run_ends(positions, r, c, step)
        expected[(r, c)] = (r, first, (last - first) // step + 1)
    got = {
        (int(r), int(c)): (int(runs.rows[k]), int(runs.starts[k]), int(runs.lengths[k]))
        for r, c, k in zip(rows[::-1], columns[::-1], runs.run_of, strict=True)
    }
    assert got == expected
    # one entry per run, numbered in row-major order of the first pixel
    assert sorted(set(expected.values())) == list(
        zip(runs.rows.tolist(), runs.starts.tolist(), runs.lengths.tolist(), strict=True)
    )
    assert runs.lengths.sum() == len(cells)


def test_cluster_labels_do_not_alias_across_row_ends():
    # (0, 65535) and (1, 0) are far apart although their linear keys are adjacent.
    labels = cluster_labels(np.array([0, 1]), np.array([65535, 0]))
    assert labels.tolist() == [0, 1]


def test_cluster_labels_on_a_long_snake_is_one_cluster():
    # A serpentine path of 20,000 pixels: one cluster, found in a few vectorised passes.
    rows, columns = [], []
    for r in range(0, 200, 2):
        cols = range(0, 100) if (r // 2) % 2 == 0 else range(99, -1, -1)
        for c in cols:
            rows.append(r)
            columns.append(c)
        rows.append(r + 1)
        columns.append(cols[-1])
    labels = cluster_labels(np.array(rows), np.array(columns))
    assert labels.max() == 0


# -- statistics --------------------------------------------------------------------------------


def test_statistics_example():
    defects = DefectList(
        [0, 0, 0, 5, 5, 9, 9],
        [0, 1, 2, 5, 6, 9, 9],
        kinds=["hot", "hot", "hot", "dark", "dark", "noisy", "noisy"],
        source="detected",
    )
    summary = defects.statistics()
    assert summary.entries == 7 and summary.unique_positions == 6 and summary.duplicates == 1
    assert summary.by_kind == {"hot": 3, "dark": 2, "noisy": 2}
    assert summary.clusters == 3 and summary.largest_cluster == 3 and summary.single_pixels == 1
    assert summary.cluster_sizes == {1: 1, 2: 1, 3: 1}
    assert summary.longest_run == 3
    assert summary.to_dict()["row_span"] == [0, 9]


def test_large_lists_stay_vectorised():
    rng = np.random.default_rng(0)
    n = 100_000
    defects = DefectList(
        rng.integers(0, 5120, n),
        rng.integers(0, 5120, n),
        kinds="hot",
        evidence={"dark_mean": rng.random(n)},
    )
    merged = merge_lists([defects, defects.take(np.arange(0, n, 2))])
    assert len(merged) == len(np.unique(defects.linear_index))
    assert defects.statistics().entries == n
