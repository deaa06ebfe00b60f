"""Scoring a defect list against truth, and reading truth in its several forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastdefect.defects import DefectList
from fastdefect.errors import InputError
from fastdefect.scoring import ambiguous, load_truth, score
from fastdefect.simulate import SimulationConfig, read_truth, simulate_to_directory


def test_counts_rates_and_confusion():
    truth = DefectList([1, 2, 3, 4, 5], [1, 2, 3, 4, 5],
                       kinds=["hot", "hot", "dark", "dark", "column"])  # fmt: skip
    found = DefectList(
        [1, 2, 3, 9, 1], [1, 2, 3, 9, 1], kinds=["hot", "dark", "dark", "hot", "hot"]
    )  # fmt: skip (dup of (1,1))
    result = score(found, truth)
    overall = result.overall
    assert (overall.truth, overall.found) == (5, 4)  # the duplicate is dropped
    assert (overall.true_positive_truth, overall.false_positive, overall.false_negative) == (
        3,
        1,
        2,
    )
    assert overall.precision == pytest.approx(3 / 4) and overall.recall == pytest.approx(3 / 5)
    assert overall.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert overall.kind_agreement == pytest.approx(2 / 3)  # (2,2) hot found as dark
    hot = result.per_kind["hot"]
    assert (hot.truth, hot.found, hot.true_positive_truth, hot.true_positive_found) == (2, 2, 2, 1)
    assert hot.kind_agreement == pytest.approx(1 / 2)
    assert math.isnan(result.per_kind["column"].precision)  # nothing found as column
    assert result.per_kind["column"].recall == 0
    assert result.confusion == {
        ("hot", "hot"): 1,
        ("hot", "dark"): 1,
        ("dark", "dark"): 1,
        ("dark", "missed"): 1,
        ("column", "missed"): 1,
        ("spurious", "hot"): 1,
    }
    ignored = score(found, truth, ignore=DefectList([9, 5], [9, 5]))
    assert ignored.overall.false_positive == 0 and ignored.overall.truth == 4


def test_load_truth_from_every_form(tmp_path):
    simulated = simulate_to_directory(
        tmp_path / "sim", SimulationConfig(width=128, height=96, frames=2, seed=2)
    )
    table = read_truth(simulated.files["truth"])
    from_file = load_truth(simulated.files["truth"])
    from_table = load_truth(table)
    assert from_file == from_table and len(from_file) == len(table)
    assert np.array_equal(from_file.kinds, table["kind"])
    assert np.array_equal(from_file.evidence["dark_sigma"], table["dark_sigma"])
    assert load_truth(from_file) is from_file
    odd = read_truth(simulated.files["truth"])
    odd.columns["kind"] = odd.columns["kind"].astype(object)
    odd.columns["kind"][0] = "lukewarm"
    with pytest.raises(InputError, match="lukewarm"):
        load_truth(odd)
    listed = tmp_path / "list.csv"
    listed.write_text("Row, Column\n3, 4\n")
    assert load_truth(listed).positions().tolist() == [[3, 4]]
    with pytest.raises(InputError, match="no such truth file"):
        load_truth(tmp_path / "missing.csv")


def test_ambiguous_pixels_of_simulator_truth_are_left_out():
    truth = DefectList(
        [1, 2, 3], [1, 2, 3], kinds="hot", source="truth", evidence={"ambiguous": [0, 1, 0]}
    )
    plain = DefectList([5], [5], kinds="hot", source="truth")
    marked = ambiguous(truth, plain)
    assert marked.rows.tolist() == [2] and marked.columns.tolist() == [2]
    found = DefectList([1, 2], [1, 2], kinds="hot")
    result = score(found, truth, ignore=marked)
    assert result.overall.truth == 2 and result.overall.false_negative == 1
    assert len(ambiguous(plain)) == 0
