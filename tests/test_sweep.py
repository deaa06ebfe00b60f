"""Threshold sweeps: threshold lists, one-pass sweeps on simulated sensors, the F1 choice,
the CSV, the plots and the command line."""

from __future__ import annotations

import csv
import io
import json
import math
import sys

import numpy as np
import pytest

from fastdefect import detection
from fastdefect.cli import main
from fastdefect.detection import DetectionConfig, Threshold, analyse, detect, local_deviation
from fastdefect.errors import InputError, MissingExtraError
from fastdefect.plots import (
    count_figure,
    deviation_histogram,
    figure_png,
    histogram_figure,
    score_figure,
)
from fastdefect.scoring import KindScore, Score, load_truth
from fastdefect.simulate import SimulationConfig, simulate_to_directory
from fastdefect.threshold_sweep import SWEEP_KINDS, SweepResult, parse_thresholds, sweep


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A 1 Mpix simulated sensor with every kind of defect and its truth."""
    return simulate_to_directory(
        tmp_path_factory.mktemp("sim"), SimulationConfig(width=1024, height=1024, seed=3)
    )


@pytest.fixture(scope="module")
def swept(simulated):
    return sweep(
        dark=simulated.files["dark"],
        bright=simulated.files["bright"],
        thresholds="40:240:10",
        truth=simulated.files["truth"],
    )


# -- threshold lists --------------------------------------------------------------------------


def test_parse_thresholds_ranges_lists_and_units():
    assert [t.value for t in parse_thresholds("20:200:10")] == list(range(20, 201, 10))
    assert [t.value for t in parse_thresholds("20:205:10")][-1] == 200  # stop is a bound
    assert [t.value for t in parse_thresholds("0.1:0.5:0.1")] == [0.1, 0.2, 0.3, 0.4, 0.5]
    levels = parse_thresholds("20:200:10lsb10")
    assert {t.unit for t in levels} == {"lsb10"} and len(levels) == 19
    assert parse_thresholds("20lsb10:40:10") == parse_thresholds("20:40:10lsb10")
    assert [str(t) for t in parse_thresholds("8, 4 ,6sigma")] == ["4 sigma", "6 sigma", "8 sigma"]
    assert [t.value for t in parse_thresholds("50,20,50")] == [20, 50]
    assert parse_thresholds(["10%", "5%"]) == [Threshold(5, "percent"), Threshold(10, "percent")]
    assert parse_thresholds(102) == [Threshold(102, "dn")]
    for bad in ("20:200", "20:200:0", "200:20:10", "20:200:10furlongs", "a,b", "", "1:100000:1",
                "20dn,30lsb10", "0:10:5"):  # fmt: skip
        with pytest.raises(InputError):
            parse_thresholds(bad)


# -- the sweep on a simulated sensor -------------------------------------------------------------


@pytest.mark.slow
def test_counts_are_monotone_and_equal_fresh_detection(simulated, swept):
    total = swept.total
    assert np.all(np.diff(total) <= 0), total  # more threshold, fewer defective pixels
    # The defective pixels at a higher threshold are a subset of those at a lower one.
    previous = None
    for threshold in swept.thresholds[::4]:
        found = set(swept.defects(threshold).linear_index.tolist())
        if previous is not None:
            assert found <= previous
        previous = found
    # One threshold against a fresh, independent detection.
    index = 6
    fresh = detect(
        dark=simulated.files["dark"],
        bright=simulated.files["bright"],
        config=DetectionConfig(pixel_threshold=swept.thresholds[index]),
    )
    counts = fresh.counts()
    assert {k: int(swept.count(k)[index]) for k in SWEEP_KINDS} == {
        k: counts.get(k, 0) for k in SWEEP_KINDS
    }
    assert int(total[index]) == len(fresh.defects)


def test_scores_are_consistent_and_recall_does_not_rise(swept):
    recall = swept.metric("recall")
    assert np.all(np.diff(recall) <= 1e-12), recall
    truth = load_truth(swept.truth)
    for i, item in enumerate(swept.scores):
        # Every threshold classified afresh: the sweep's reuse of a result where no
        # deviant lies between two thresholds changes nothing.
        found = swept.defects(swept.thresholds[i])
        by_kind = found.count_by_kind()
        assert [by_kind.get(k, 0) for k in SWEEP_KINDS] == swept.counts[i].tolist()
        hit = np.isin(found.linear_index, truth.linear_index)
        assert item.overall.found == len(found) == int(swept.total[i])
        assert item.overall.true_positive_found == int(hit.sum())
        assert item.overall.precision == pytest.approx(hit.mean())
        p, r = item.overall.precision, item.overall.recall
        assert item.overall.f1 == pytest.approx(2 * p * r / (p + r))
    # Low thresholds flag noise: precision rises from the lowest threshold.
    assert swept.metric("precision")[0] < swept.metric("precision")[-1]


def test_best_threshold_recovers_the_injected_defects(swept):
    """At the F1-optimal threshold: >= 99 % of the defects that exceed it by 3 noise sigma
    are found, and at most 1 false positive per 10 Mpix."""
    best = swept.best
    assert best is not None and best.f1 == np.nanmax(swept.metric("f1"))
    found = swept.defects(best.threshold)
    truth = load_truth(swept.truth)
    limits = swept.threshold_dn(best.index)
    evidence = truth.evidence
    clear = (np.abs(evidence["dark_deviation"]) - 3 * evidence["dark_sigma"] > limits["dark"]) | (
        np.abs(evidence["bright_deviation"]) - 3 * evidence["bright_sigma"] > limits["bright"]
    )
    assert clear.sum() > 150  # hot, dark, bright, stuck pixels, runs and clusters
    recovered = np.isin(truth.linear_index[clear], found.linear_index).mean()
    assert recovered >= 0.99, recovered
    false_positive = int((~np.isin(found.linear_index, truth.linear_index)).sum())
    pixels = swept.analysis.shape[0] * swept.analysis.shape[1]
    assert false_positive * 10e6 / pixels <= 1, false_positive
    # The CSV flags that row.
    assert [row["f1_best"] for row in swept.rows()].index(1) == best.index


def _score(found, truth_found, agreed, truth=100):
    part = KindScore(truth, found, truth_found, truth_found, agreed)
    return Score(part, {"hot": part})


def test_best_threshold_ties_go_to_kind_agreement_then_the_middle(swept):
    thresholds = [Threshold(v) for v in (10, 20, 30, 40, 50, 60, 70)]
    # F1 ties at 30..70; kind agreement ties at 40..60 among those: the middle is 50.
    scores = [
        _score(200, 90, 90),
        _score(150, 95, 90),
        _score(100, 100, 90),
        _score(100, 100, 100),
        _score(100, 100, 100),
        _score(100, 100, 100),
        _score(100, 100, 95),
    ]
    result = SweepResult(thresholds, np.zeros((7, len(SWEEP_KINDS)), np.int64), scores,
                         swept.analysis)  # fmt: skip
    best = result.best
    assert (best.threshold.value, best.tied_from.value, best.tied_to.value) == (50, 40, 60)
    # Two separate runs of the top score: the longer one wins.
    scores = [_score(100, 100, 100), _score(150, 95, 90)] + [_score(100, 100, 100)] * 3
    result = SweepResult(thresholds[:5], np.zeros((5, len(SWEEP_KINDS)), np.int64), scores,
                         swept.analysis)  # fmt: skip
    assert result.best.threshold.value == 40
    no_truth = SweepResult(thresholds[:1], np.zeros((1, len(SWEEP_KINDS)), np.int64), None,
                           swept.analysis)  # fmt: skip
    assert no_truth.best is None
    with pytest.raises(InputError):
        no_truth.metric("f1")


def test_csv_has_a_line_per_threshold(swept, tmp_path):
    path = swept.write_csv(tmp_path / "sweep.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == len(swept.thresholds)
    first = rows[0]
    expected = ["threshold", "unit", "dark_threshold_dn", "bright_threshold_dn", *SWEEP_KINDS]
    expected += ["total", "precision", "recall", "f1", "hot_recall", "row_f1", "f1_best"]
    for column in expected:
        assert column in first
    for row, total, f1 in zip(rows, swept.total, swept.metric("f1"), strict=True):
        assert int(row["total"]) == total == sum(int(row[k]) for k in SWEEP_KINDS)
        assert float(row["f1"]) == f1  # written in full
    with pytest.raises(InputError):
        swept.write_csv(path)  # exists
    # An undefined score is an empty field.
    assert any(value == "" for row in rows for value in row.values()) == any(
        math.isnan(v) for row in swept.rows() for v in row.values() if isinstance(v, float)
    )


def test_thresholds_without_deviants_between_them_are_classified_once():
    rng = np.random.default_rng(4)
    frames = np.clip(np.round(rng.normal(200, 2, (3, 64, 80))), 0, 1023).astype(np.uint16)
    frames[:, 10, 10] += 110  # deviation ~110 DN
    frames[:, 30, 50] += 310  # ~310 DN
    result = sweep(dark=frames, bit_depth=10, thresholds="50:400:25")
    total = result.total.tolist()
    assert total == [2] * 3 + [1] * 8 + [0] * 4  # 50..100 | 125..300 | 325..400
    assert result.classifications == 3
    analysis = result.analysis
    assert [len(analysis.classify(t)) for t in result.thresholds] == total


def _same_list(a, b):
    assert np.array_equal(a.rows, b.rows) and np.array_equal(a.columns, b.columns)
    assert np.array_equal(a.kinds, b.kinds)
    assert a.evidence_names == b.evidence_names
    for name in a.evidence_names:
        np.testing.assert_array_equal(a.evidence[name], b.evidence[name], err_msg=name)


@pytest.mark.parametrize("cfa", [None, "RGGB"])
def test_classifying_down_in_the_noise_then_higher_equals_a_fresh_analysis(cfa, monkeypatch):
    """A sweep reuses the deviations it computed for the lowest threshold's candidates
    (pixels flagged in one stack but not the other, enough to take the full-frame path);
    every later classification must equal one from a fresh analysis, evidence included."""
    monkeypatch.setattr(detection, "FULL_FRAME_MIN_CANDIDATES", 0)
    rng = np.random.default_rng(11)
    dark = np.clip(np.round(rng.normal(64, 3, (4, 96, 112))), 0, 1023).astype(np.uint16)
    bright = np.clip(np.round(rng.normal(600, 12, (4, 96, 112))), 0, 1023).astype(np.uint16)
    dark[:, 5, 7] += 200
    bright[:, 40, 41] = 0
    stacks = dict(dark=dark, bright=bright, bit_depth=10, cfa=cfa)
    levels = parse_thresholds("6:60:6")
    reused = analyse(**stacks, lowest_threshold=levels[0])
    lowest = reused.classify(levels[0])
    assert len(lowest) > 0.003 * dark[0].size  # the full-frame path was taken
    for threshold in levels[1:]:
        fresh = analyse(**stacks, lowest_threshold=levels[0]).classify(threshold)
        _same_list(reused.classify(threshold), fresh)
        assert len(fresh) > 0


@pytest.mark.parametrize("cfa", [None, "RGGB"])
def test_analysis_deep_in_the_noise_goes_full_frame_and_flags_the_same(cfa, monkeypatch):
    """When the noise sample shows the candidates would swamp the bounded path, the
    analysis takes the full-frame path at once: the very pixels the bounded one finds."""
    rng = np.random.default_rng(12)
    bright = np.clip(np.round(rng.normal(600, 12, (4, 96, 112))), 0, 1023).astype(np.uint16)
    methods = []
    original = detection.deviation_outliers

    def spy(*args, **kwargs):
        methods.append(kwargs.get("method", "auto"))
        return original(*args, **kwargs)

    monkeypatch.setattr(detection, "deviation_outliers", spy)
    for threshold, expected in ((5.0, "full"), (200.0, "auto")):
        methods.clear()
        analysis = analyse(bright=bright, bit_depth=10, cfa=cfa, lowest_threshold=threshold)
        assert methods == [expected]
        stack = analysis.analyses["bright"][0]
        rows, columns, deviation = original(
            bright.astype(np.uint32).sum(axis=0), stack.analysed_threshold_dn, cfa=cfa,
            n_frames=4, method="bounded",
        )  # fmt: skip
        np.testing.assert_array_equal(stack.flagged_rows, rows)
        np.testing.assert_array_equal(stack.flagged_columns, columns)
        np.testing.assert_array_equal(stack.flagged_deviation, deviation)
    assert rows.size == 0 and stack.flagged_rows.size == 0


def test_sigma_thresholds_are_per_stack(simulated):
    analysis = analyse(dark=simulated.files["dark"], lowest_threshold="8sigma")
    with pytest.raises(InputError, match="below"):
        analysis.classify("6sigma")
    result = sweep(dark=simulated.files["dark"], thresholds="8,12,16sigma")
    sigma = result.analysis.stacks[0].deviation_sigma
    assert result.threshold_dn(0)["dark"] == pytest.approx(8 * sigma)
    assert result.unit == "sigma" and result.scores is None


# -- histograms and plots --------------------------------------------------------------------------


def test_deviation_histogram_is_exact_when_the_sample_is_every_pixel():
    rng = np.random.default_rng(5)
    image = rng.normal(400, 3, (256, 256))  # 65,536 pixels: the sample is every pixel
    image[rng.integers(0, 256, 40), rng.integers(0, 256, 40)] += rng.uniform(30, 300, 40)
    frames = np.clip(np.round(image), 0, 1023).astype(np.uint16)[None]
    analysis = analyse(dark=frames, bit_depth=10, lowest_threshold=15)
    entry = analysis.deviations("dark")[0]
    edges, body, tail = deviation_histogram(entry, n_frames=1)
    assert body.sum() + tail.sum() == 256 * 256
    rows, columns = np.divmod(np.arange(256 * 256), 256)
    every = local_deviation(frames[0], rows, columns)
    expected, _ = np.histogram(every, bins=edges)
    assert np.array_equal(body + tail, expected)
    beyond, _ = np.histogram(every[np.abs(every) > 15], bins=edges)
    assert np.array_equal(tail, beyond)  # the tail is the exact deviants
    width = edges[1] - edges[0]
    assert width / 0.5 == pytest.approx(round(width / 0.5))  # whole value steps: no combs


@pytest.mark.slow
def test_sweep_figures_render(swept):
    from PIL import Image

    for figure in (
        count_figure(swept),
        score_figure(swept),
        histogram_figure(swept.analysis, marks={"best": swept.best.threshold}),
    ):
        with Image.open(io.BytesIO(figure_png(figure))) as picture:
            assert picture.format == "PNG" and picture.size[0] >= 800


def test_missing_matplotlib_names_the_extra(swept, monkeypatch, simulated, tmp_path, capsys):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError, match=r"fastdefect\[plot\]"):
        count_figure(swept)
    code = main(["sweep", "--dark", str(simulated.files["dark"]), "--thresholds", "50:60:10",
                 "--plots", str(tmp_path / "plots")])  # fmt: skip
    assert code == 2
    assert "pip install 'fastdefect[plot]'" in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()


# -- command line ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_sweep_writes_csv_plots_and_json(simulated, tmp_path, capsys):
    out, plots = tmp_path / "sweep.csv", tmp_path / "plots"
    args = ["sweep", "--dark", str(simulated.files["dark"]), "--bright",
            str(simulated.files["bright"]), "--thresholds", "60:140:20", "--truth",
            str(simulated.files["truth"]), "--plots", str(plots), "-o", str(out)]  # fmt: skip
    assert main([*args, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["thresholds"] == [60, 80, 100, 120, 140]
    assert document["best"]["threshold"] == "100 DN"
    assert set(document["plots"]) == {"counts", "scores", "histograms"}
    assert len(out.read_text().splitlines()) == 6
    from PIL import Image

    for path in document["plots"].values():
        with Image.open(path) as picture:
            assert picture.format == "PNG"
    assert main(args) == 2  # outputs exist: --force needed
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    text = capsys.readouterr().out
    assert "best threshold: 100 DN" in text


@pytest.mark.slow
def test_cli_sweep_rejects_bad_input(simulated, capsys):
    dark = str(simulated.files["dark"])
    assert main(["sweep", "--dark", dark, "--thresholds", "10:5:1"]) == 2
    assert "ends below its start" in capsys.readouterr().err
    assert main(["sweep", "--thresholds", "10:50:10"]) == 2
    assert main(["sweep", "--dark", dark, "-t", "50", "--truth", "/nonexistent.csv"]) == 2
    assert "no such truth file" in capsys.readouterr().err
