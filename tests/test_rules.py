"""Correction rules: verdict examples and a brute-force reference on random lists."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdefect.defects import DefectList
from fastdefect.errors import InputError
from fastdefect.rules import (
    ARRI_INTERPOLATING,
    AV_LEFT_NEIGHBOUR,
    RuleSet,
    Verdict,
    check_list,
    rule_set,
)
from fastdefect.sensor import SensorSpec, sensor_preset

from reference import reference_verdicts


def verdicts_of(rows, columns, rules, **kwargs):
    return check_list(DefectList(rows, columns), rules, **kwargs)


# -- examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "level"),
    [(1, Verdict.OK), (4, Verdict.OK), (5, Verdict.WARN), (8, Verdict.WARN), (9, Verdict.ERROR)],
)
def test_av_run_limits_judge_the_whole_run(length, level):
    verdicts = verdicts_of([3] * length, list(range(10, 10 + length)), AV_LEFT_NEIGHBOUR)
    assert verdicts.levels.tolist() == [level] * length
    assert verdicts.run_lengths.tolist() == [length] * length


def test_column_zero_has_no_left_neighbour():
    verdicts = verdicts_of([0, 1, 1, 1, 2], [0, 0, 1, 2, 1], AV_LEFT_NEIGHBOUR)
    assert verdicts.levels.tolist() == [2, 2, 2, 2, 0]
    assert verdicts.reason(0) == "column 0: no active pixel to the left"
    assert verdicts.reason(2) == "run of 3 (columns 0-2): no active pixel to the left"
    assert verdicts.reason(4) == "correctable"


def test_reason_texts_for_runs():
    verdicts = verdicts_of(
        [7] * 9 + [8] * 6, list(range(1, 10)) + list(range(4, 10)), AV_LEFT_NEIGHBOUR
    )
    assert verdicts.reason(0) == (
        "run of 9 (columns 1-9): more than 8 in a row cannot be corrected"
    )
    assert verdicts.reason(10) == "run of 6 (columns 4-9): more than 4 in a row is not recommended"


def test_outside_sensor_is_red_and_does_not_extend_runs():
    rules = rule_set("av", width=12, height=5)
    # Columns 8..11 on the sensor, 12..15 outside: the run on the sensor is 4 long.
    verdicts = verdicts_of([2] * 8 + [5], [*range(8, 16), 3], rules)
    assert verdicts.levels.tolist() == [0] * 4 + [2] * 5
    assert verdicts.run_lengths.tolist()[:4] == [4] * 4
    assert verdicts.reason(8) == "outside the 12 x 5 sensor"


def test_sensor_preset_bounds():
    rules = rule_set("av", sensor=sensor_preset("GT5120"))
    verdicts = verdicts_of([5119, 5120], [5119, 1], rules)
    assert verdicts.levels.tolist() == [0, 2]


def test_duplicates_share_the_verdict_and_are_flagged():
    verdicts = verdicts_of([1, 1, 1, 1, 1, 1], [5, 6, 7, 8, 9, 7], AV_LEFT_NEIGHBOUR)
    # The duplicate does not lengthen the run: 5 unique pixels, a warning for all.
    assert verdicts.levels.tolist() == [1] * 6
    assert verdicts.run_lengths.tolist() == [5] * 6
    assert verdicts.duplicate.tolist() == [False] * 5 + [True]
    assert "duplicate (uploaded once)" in verdicts.reason(5)


def test_factory_context_counts_for_runs():
    user = DefectList([4, 4], [13, 14])
    factory = DefectList([4, 4, 4], [10, 11, 12], source="factory")
    verdicts = check_list(user, "av", context=factory)
    assert len(verdicts) == 2
    assert verdicts.levels.tolist() == [1, 1]
    assert verdicts.run_lengths.tolist() == [5, 5]


def test_arri_warns_about_dense_clusters_only():
    rows = [10, 10, 11, 11, 40]
    columns = [10, 11, 10, 12, 40]
    verdicts = verdicts_of(rows, columns, ARRI_INTERPOLATING)
    assert verdicts.levels.tolist() == [1, 1, 1, 1, 0]
    assert verdicts.neighbour_counts.tolist() == [4, 4, 4, 4, 1]
    assert "4 masked pixels in its 5 x 5 neighbourhood" in verdicts.reason(0)
    # Long runs and column 0 mean nothing to an interpolating camera.
    assert verdicts_of([0] * 3, [0, 30, 60], ARRI_INTERPOLATING).levels.tolist() == [0, 0, 0]


def test_counts_summary_and_records():
    verdicts = verdicts_of([0, 3, 3, 3, 3, 3], [0, 1, 2, 3, 4, 5], AV_LEFT_NEIGHBOUR)
    assert verdicts.counts() == {"ok": 0, "warn": 5, "error": 1}
    assert verdicts.has_errors and verdicts.worst == Verdict.ERROR
    assert verdicts.problems().tolist() == [0, 1, 2, 3, 4, 5]
    record = verdicts.to_records([1])[0]
    assert record["verdict"] == "warn" and record["run_length"] == 5
    assert verdicts.summary()["entries"] == 6


def test_bayer_sensor_runs_are_same_colour_pixels():
    rules = rule_set("av", sensor=SensorSpec(64, 16, 10, "RGGB"))
    assert rules.column_step == 2
    # Columns 3, 5, 7, 9, 11 are one same-colour run of 5; column 4 between them is not.
    verdicts = verdicts_of([2] * 6, [3, 5, 7, 9, 11, 4], rules)
    assert verdicts.levels.tolist() == [1] * 5 + [0]
    assert verdicts.reason(0) == (
        "run of 5 (columns 3-11, every second one): more than 4 in a row is not recommended"
    )
    # Column 1 has no pixel of its colour to the left; column 2 has column 0.
    verdicts = verdicts_of([0, 0], [1, 2], rules)
    assert verdicts.levels.tolist() == [2, 0]
    assert verdicts.reason(0) == "column 1: no active pixel of its colour to the left"


def test_rule_set_validation():
    with pytest.raises(InputError, match="unknown rule set 'canon'"):
        rule_set("canon")
    with pytest.raises(InputError, match="give both the sensor width and height"):
        RuleSet("x", width=10)
    with pytest.raises(InputError, match="hard_max_run must be at least 1"):
        AV_LEFT_NEIGHBOUR.replace(hard_max_run=0)


# -- vectorised verdicts agree with the brute-force reference --------------------------------


@st.composite
def lists_with_runs(draw):
    """Random points plus random horizontal segments (so that runs of every length occur)."""
    rows, columns = [], []
    for _ in range(draw(st.integers(0, 25))):
        rows.append(draw(st.integers(0, 14)))
        columns.append(draw(st.integers(0, 40)))
    for _ in range(draw(st.integers(0, 6))):
        row, start, length = (
            draw(st.integers(0, 14)),
            draw(st.integers(0, 35)),
            draw(st.integers(1, 12)),
        )
        rows.extend([row] * length)
        columns.extend(range(start, start + length))
    order = draw(st.permutations(list(range(len(rows)))))
    return [rows[i] for i in order], [columns[i] for i in order]


@st.composite
def rule_sets(draw):
    sized = draw(st.booleans())
    recommended = draw(st.one_of(st.none(), st.integers(1, 6)))
    hard = draw(st.one_of(st.none(), st.integers(1, 10)))
    radius = draw(st.one_of(st.none(), st.integers(1, 2)))
    return RuleSet(
        name="random",
        recommended_max_run=recommended,
        hard_max_run=hard,
        needs_left_neighbour=draw(st.booleans()),
        width=draw(st.integers(1, 45)) if sized else None,
        height=draw(st.integers(1, 16)) if sized else None,
        cluster_radius=radius,
        cluster_warn_count=draw(st.one_of(st.none(), st.integers(2, 6))) if radius else None,
        cluster_error_count=draw(st.one_of(st.none(), st.integers(3, 9))) if radius else None,
        column_step=draw(st.sampled_from([1, 2])),
    )


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    lists_with_runs(),
    st.one_of(st.sampled_from([AV_LEFT_NEIGHBOUR, ARRI_INTERPOLATING]), rule_sets()),
)
def test_verdicts_agree_with_brute_force(positions, rules):
    rows, columns = positions
    verdicts = verdicts_of(rows, columns, rules)
    expected = reference_verdicts(rows, columns, rules)
    assert verdicts.levels.tolist() == [e[0] for e in expected]
    assert verdicts.flags.tolist() == [e[1] for e in expected]
    assert verdicts.run_lengths.tolist() == [e[2] for e in expected]
    seen: set[tuple[int, int]] = set()
    repeats = []
    for cell in zip(rows, columns, strict=True):
        repeats.append(cell in seen)
        seen.add(cell)
    assert verdicts.duplicate.tolist() == repeats


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(lists_with_runs(), lists_with_runs(), rule_sets())
def test_verdicts_with_factory_context_agree_with_brute_force(user, factory, rules):
    context = DefectList(*factory, source="factory")
    verdicts = check_list(DefectList(*user), rules, context=context)
    expected = reference_verdicts(*user, rules, context=list(zip(*factory, strict=True)))
    assert verdicts.levels.tolist() == [e[0] for e in expected]
    assert verdicts.flags.tolist() == [e[1] for e in expected]


def test_verdicts_on_100k_entries_match_reference_on_a_sample():
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 300, 100_000)
    columns = rng.integers(0, 5200, 100_000)
    rules = rule_set("av", width=5120, height=300)
    verdicts = verdicts_of(rows, columns, rules)
    sample = rng.choice(100_000, 300, replace=False)
    cells = list(zip(rows.tolist(), columns.tolist(), strict=True))
    reference = reference_verdicts(
        [cells[i][0] for i in sample], [cells[i][1] for i in sample], rules, context=cells
    )
    assert verdicts.levels[sample].tolist() == [e[0] for e in reference]
    assert verdicts.run_lengths[sample].tolist() == [e[2] for e in reference]
