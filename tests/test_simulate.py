"""The synthetic sensor: files, reproducibility, physics, and truth that matches the data.

The checks of the truth against the data measure the deviations themselves (the plain
numpy references of ``tests/reference.py``: median of the 7 x 7 same-plane neighbours,
centre excluded, outside left out) on the generated stacks; they do not trust the
simulator's own numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tifffile

from fastdefect.cli import main
from fastdefect.errors import FileFormatError, InputError
from fastdefect.frames import open_stack
from fastdefect.simulate import (
    KINDS,
    OUTPUT_FILES,
    TRUTH_COLUMNS,
    SimulationConfig,
    bright_frames,
    build_sensor,
    dark_frames,
    default_population,
    read_truth,
    simulate_to_directory,
)

from reference import (
    horizontal_runs_reference,
    line_deviation_without_centre_reference,
    neighbour_deviation_reference,
)

# -- references -------------------------------------------------------------------------


def plane_slices(cfa: str | None) -> list[tuple[slice, slice]]:
    if cfa is None:
        return [(slice(None), slice(None))]
    return [(slice(p // 2, None, 2), slice(p % 2, None, 2)) for p in range(4)]


def point_defects(table) -> np.ndarray:
    """Pixels that are not part of a line (line kinds and line crossings excluded)."""
    on_line = np.char.find(table["source"].astype(str), "_column") >= 0
    on_line |= np.char.find(table["source"].astype(str), "_row") >= 0
    return ~on_line


# -- fixtures ---------------------------------------------------------------------------


class Simulated:
    """A simulation written to disk and read back, with measured statistics."""

    def __init__(self, directory: Path, config: SimulationConfig) -> None:
        self.result = simulate_to_directory(directory, config)
        self.config = self.result.config
        self.dark = tifffile.imread(directory / "dark.tif")
        self.bright = tifffile.imread(directory / "bright.tif")
        self.truth = read_truth(directory / "truth.csv")
        self.warm = read_truth(directory / "warm.csv")
        self.dark_mean = self.dark.mean(axis=0)
        self.bright_mean = self.bright.mean(axis=0)
        self.dark_std = self.dark.std(axis=0, ddof=1)
        self.dark_deviation = neighbour_deviation_reference(self.dark_mean, 3, self.config.cfa)
        self.bright_deviation = neighbour_deviation_reference(self.bright_mean, 3, self.config.cfa)
        self.defective = np.zeros(self.dark_mean.shape, bool)
        self.defective[self.truth["row"], self.truth["column"]] = True
        self.normal = ~self.defective
        self.normal[self.warm["row"], self.warm["column"]] = False


@pytest.fixture(scope="module", params=[None, "RGGB"], ids=["mono", "rggb"])
def simulated(request, tmp_path_factory) -> Simulated:
    # Not square, so a row/column mix-up shows.
    config = SimulationConfig(width=384, height=320, frames=16, seed=7, cfa=request.param)
    return Simulated(tmp_path_factory.mktemp(f"sim-{request.param}"), config)


# -- the "what it must show" ------------------------------------------------------


@pytest.mark.slow
def test_cli_writes_stacks_and_truth_at_2048(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(
        ["simulate", "--out", str(out), "--width", "2048", "--height", "2048", "--frames", "8"]
    )
    assert code == 0
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    for name in ("dark.tif", "bright.tif"):
        stack = tifffile.imread(out / name)
        assert stack.shape == (8, 2048, 2048)
        assert stack.dtype == np.uint16
        assert int(stack.max()) <= 1023
    text = (out / "truth.csv").read_text()
    assert text.startswith("row,column,kind,")
    truth = read_truth(out / "truth.csv")
    assert set(truth["kind"]) == set(KINDS)  # every kind injected
    order = np.lexsort((truth["column"], truth["row"]))
    assert np.array_equal(order, np.arange(len(truth)))  # sorted by row, then column
    flat = truth["row"] * 2048 + truth["column"]
    assert np.unique(flat).size == flat.size  # one line per pixel
    record = json.loads((out / "simulation.json").read_text())
    assert record["config"]["seed"] == 1 and record["config"]["width"] == 2048
    assert record["counts"] == truth.counts()
    # Every pixel of every bad line is listed (kind column/row unless a higher kind wins).
    for line in record["lines"]:
        if not line["source"].startswith("bad_"):
            continue
        axis = "column" if line["axis"] == "column" else "row"
        on_line = truth[axis] == line["index"]
        assert on_line.sum() == 2048
        # A crossing of two lines may deviate enough to take a higher kind; nothing else.
        other = on_line & ~np.isin(truth["kind"], ("column", "row"))
        assert all("+" in source for source in truth["source"][other])
    assert "Defective pixels" in capsys.readouterr().out


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    config = SimulationConfig(width=200, height=150, frames=3, seed=11)
    first = simulate_to_directory(tmp_path / "a", config)
    second = simulate_to_directory(tmp_path / "b", config)
    other = simulate_to_directory(
        tmp_path / "c", SimulationConfig(width=200, height=150, frames=3, seed=12)
    )
    for name in ("dark.tif", "bright.tif"):
        a = tifffile.imread(first.directory / name)
        assert np.array_equal(a, tifffile.imread(second.directory / name))
        assert not np.array_equal(a, tifffile.imread(other.directory / name))
    for name in ("dark.tif", "bright.tif", "truth.csv", "warm.csv", "simulation.json"):
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes()
    assert (first.directory / "truth.csv").read_bytes() != (
        other.directory / "truth.csv"
    ).read_bytes()


def test_frames_do_not_depend_on_count_or_threads():
    sensor = build_sensor(SimulationConfig(width=96, height=200, frames=4, seed=3))
    few = list(dark_frames(sensor, frames=2, workers=1))
    many = list(dark_frames(sensor, frames=4, workers=3))
    assert all(np.array_equal(a, b) for a, b in zip(few, many[:2], strict=True))
    assert not np.array_equal(many[0], many[1])  # frames are independent draws


def test_frames_are_streamed_not_built_at_once():
    sensor = build_sensor(SimulationConfig(width=64, height=64, frames=1))
    stream = bright_frames(sensor, frames=10**9)  # would never finish if built eagerly
    first = next(stream)
    assert first.shape == (64, 64) and first.dtype == np.uint16
    stream.close()


@pytest.mark.slow
def test_stacks_carry_metadata_for_the_reader(simulated):
    directory = simulated.result.directory
    stack = open_stack(directory / "dark.tif")
    assert stack.bit_depth == 10 and stack.bit_depth_origin == "metadata"
    assert stack.metadata["exposure_us"] == simulated.config.dark_exposure_us
    assert stack.metadata["temperature_c"] == simulated.config.temperature_c
    assert stack.metadata["gain"] == 0.0
    assert stack.metadata["cfa"] == simulated.config.cfa
    bright = open_stack(directory / "bright.tif")
    assert bright.metadata["exposure_us"] == simulated.config.bright_exposure_us
    with tifffile.TiffFile(directory / "dark.tif") as tif:
        assert tif.shaped_metadata[0]["simulation"]["seed"] == 7


@pytest.mark.parametrize(("bit_depth", "dtype"), [(8, np.uint8), (12, np.uint16), (16, np.uint16)])
def test_bit_depths(bit_depth, dtype):
    config = SimulationConfig(width=96, height=80, frames=2, bit_depth=bit_depth)
    sensor = build_sensor(config)
    for frame in (*dark_frames(sensor), *bright_frames(sensor)):
        assert frame.dtype == dtype
        assert int(frame.max()) <= (1 << bit_depth) - 1
    stuck = sensor.truth["kind"] == "stuck_high"
    assert stuck.any()
    assert (sensor.truth["dark_mean"][stuck] >= 0.98 * ((1 << bit_depth) - 1) - 1).all()
    assert sensor.config.threshold_dn == 102 * 2 ** (bit_depth - 10)


# -- physics ----------------------------------------------------------------------------


@pytest.mark.parametrize("cfa", [None, "GRBG"])
def test_levels_and_noise_follow_the_model(cfa):
    config = SimulationConfig(width=256, height=192, frames=24, seed=5, cfa=cfa)
    sensor = build_sensor(config)
    config = sensor.config
    dark = np.stack(list(dark_frames(sensor))).astype(np.float64)
    bright = np.stack(list(bright_frames(sensor))).astype(np.float64)
    normal = np.ones(sensor.shape, bool)
    for table in (sensor.truth, sensor.warm):
        normal[table["row"], table["column"]] = False
    black = config.black_level_dn
    dark_signal = config.gain * config.dark_rate() * config.dark_exposure_us * 1e-6
    for plane, (rows, columns) in enumerate(plane_slices(cfa)):
        here = normal[rows, columns]
        dark_plane, bright_plane = dark[:, rows, columns], bright[:, rows, columns]
        # Dark mean = black level + dark signal; DSNU averages out over the plane.
        assert dark_plane.mean(axis=0)[here].mean() == pytest.approx(black + dark_signal, abs=0.1)
        # Bright mean = the requested level on the brightest channel, the others scaled.
        expected_bright = config.expected_level("bright", plane)
        assert bright_plane.mean(axis=0)[here].mean() == pytest.approx(expected_bright, rel=2e-3)
        for stack, frames in (("dark", dark_plane), ("bright", bright_plane)):
            rms_std = math.sqrt(frames.var(axis=0, ddof=1)[here].mean())
            assert rms_std == pytest.approx(config.expected_temporal_std(stack, plane), rel=0.03)
    if cfa is None:
        assert config.expected_level("bright") == pytest.approx(0.65 * 1023)
    else:
        green = config.sensor.channel_names.index("G1")
        red = config.sensor.channel_names.index("R")
        assert config.expected_level("bright", green) == pytest.approx(0.65 * 1023)
        assert config.expected_level("bright", red) < config.expected_level("bright", green)


def test_shot_noise_is_poisson_where_its_skew_shows():
    """Low read noise: the dark signal's Poisson skew (1 / sqrt(lambda)) is in the data."""
    config = SimulationConfig(
        width=128, height=128, frames=32, read_noise_e=1.0, conversion_gain=2.0, dsnu_e=0.0
    )
    sensor = build_sensor(config)
    config = sensor.config
    dark = np.stack(list(dark_frames(sensor))).astype(np.float64)
    normal = np.ones(sensor.shape, bool)
    for table in (sensor.truth, sensor.warm):
        normal[table["row"], table["column"]] = False
    residual = (dark - dark.mean(axis=0))[:, normal]
    electrons = config.dark_electrons("dark")
    variance = config.gain**2 * (electrons + config.read_noise_e**2) + 1 / 12
    assert residual.var() == pytest.approx(variance * (1 - 1 / 32), rel=0.03)
    skewness = np.mean(residual**3) / residual.var() ** 1.5
    expected = config.gain**3 * electrons / variance**1.5  # third cumulant of Poisson = lambda
    assert skewness == pytest.approx(expected, abs=0.03)
    assert expected > 0.15  # far from a Gaussian's 0


def test_dark_signal_doubles_with_the_doubling_temperature():
    cool = SimulationConfig(temperature_c=30.0)
    warm = SimulationConfig(temperature_c=30.0 + cool.dark_current_doubling_c)
    assert warm.dark_electrons("dark") == pytest.approx(2 * cool.dark_electrons("dark"))
    longer = SimulationConfig(temperature_c=30.0, dark_exposure_us=3 * cool.dark_exposure_us)
    assert longer.dark_electrons("dark") == pytest.approx(3 * cool.dark_electrons("dark"))


def test_hot_pixels_grow_with_exposure_at_a_pinned_reference():
    pinned = {"width": 128, "height": 128, "hot_reference_exposure_us": 500_000.0}
    short = build_sensor(SimulationConfig(dark_exposure_us=500_000.0, **pinned))
    long = build_sensor(SimulationConfig(dark_exposure_us=1_000_000.0, **pinned))
    # Well above (not far above: those would clip at full scale when doubled).
    hot_short = short.truth.select(short.truth["source"] == "hot_well_above")
    hot_long = long.truth.select(long.truth["source"] == "hot_well_above")
    assert np.array_equal(hot_short["row"], hot_long["row"])  # same pixels
    assert np.array_equal(hot_short["column"], hot_long["column"])
    ratio = hot_long["dark_deviation"] / hot_short["dark_deviation"]
    assert len(ratio) > 0 and np.allclose(ratio, 2.0, rtol=0.02)
    # Weak hot pixels at half the exposure fall below the threshold: warm, not truth.
    half = build_sensor(SimulationConfig(dark_exposure_us=250_000.0, **pinned))
    assert not (half.truth["source"] == "hot_just_above").any()
    assert (half.warm["source"] == "hot_just_above").any()


# -- the truth matches the data -------------------------------------------------------------


def test_expected_deviations_match_the_measured_ones(simulated):
    for table in (simulated.truth, simulated.warm):
        rows, columns = table["row"], table["column"]
        for stack in ("dark", "bright"):
            measured = getattr(simulated, f"{stack}_deviation")[rows, columns]
            z = (measured - table[f"{stack}_deviation"]) / table[f"{stack}_sigma"]
            assert np.abs(z).max() < 5.5, stack
            # The sigma column is honest: neither far too small nor far too large.
            assert 0.7 < math.sqrt(np.mean(z**2)) < 1.4, stack


def test_defects_show_their_kind_in_the_data(simulated):
    threshold = simulated.config.threshold_dn
    truth = simulated.truth
    rows, columns, kind = truth["row"], truth["column"], truth["kind"]
    dark_dev = simulated.dark_deviation[rows, columns]
    bright_dev = simulated.bright_deviation[rows, columns]
    assert (dark_dev[kind == "hot"] > threshold).all()
    assert (bright_dev[kind == "dark"] < -threshold).all()
    assert (bright_dev[kind == "bright"] > threshold).all()
    # Dark and bright pixels are normal in the dark; bright ones are not hot.
    assert (np.abs(dark_dev[kind == "dark"]) < threshold / 4).all()
    assert (np.abs(dark_dev[kind == "bright"]) < threshold / 4).all()
    full_scale = simulated.config.full_scale
    for name, low, high in (
        ("stuck_high", math.floor(0.98 * full_scale), full_scale),
        ("stuck_low", 0, simulated.config.black_level_dn / 4),
    ):
        here = kind == name
        assert here.any()
        values = simulated.dark[:, rows[here], columns[here]]
        assert (values == values[0]).all()  # constant over the frames...
        assert (simulated.bright[:, rows[here], columns[here]] == values[0]).all()  # ...and light
        assert (values[0] >= low).all() and (values[0] <= high).all()
    noisy = kind == "noisy"
    typical = np.median(simulated.dark_std[simulated.normal])
    assert (simulated.dark_std[rows[noisy], columns[noisy]] > 10 * typical).all()
    assert (np.abs(dark_dev[noisy]) < threshold).all()


def test_designed_margins_keep_truth_clear_of_the_threshold(simulated):
    """At the defaults every defect is 3 sigma past its threshold, every warm pixel below."""
    threshold = simulated.config.threshold_dn
    truth = simulated.truth
    kind = truth["kind"]
    deciding = {"hot": ("dark", 1), "dark": ("bright", -1), "bright": ("bright", 1)}
    point_like = point_defects(truth)
    for name, (stack, sign) in deciding.items():
        here = (kind == name) & point_like
        assert here.any()
        margin = sign * truth[f"{stack}_deviation"][here] - threshold
        assert (margin > 3 * truth[f"{stack}_sigma"][here]).all(), name
    warm = simulated.warm.select(simulated.warm["source"] == "warm")
    assert len(warm) > 0
    assert (threshold - warm["dark_deviation"] > 3 * warm["dark_sigma"]).all()
    line_threshold = simulated.config.line_threshold_dn
    lines = truth.select(np.isin(kind, ("column", "row")))
    assert (np.abs(lines["line_deviation"]) > 1.05 * line_threshold).all()
    faint = simulated.warm.select(np.char.startswith(simulated.warm["source"], "faint_"))
    assert len(faint) > 0
    assert (np.abs(faint["line_deviation"]) < 0.6 * line_threshold).all()


def test_nothing_unlisted_looks_defective(simulated):
    threshold = simulated.config.threshold_dn
    others = ~simulated.defective
    assert np.abs(simulated.dark_deviation[others]).max() < threshold
    assert np.abs(simulated.bright_deviation[others]).max() < threshold
    warm = simulated.warm
    assert (simulated.dark_deviation[warm["row"], warm["column"]] < threshold).all()


def test_line_defects_are_exactly_the_listed_lines(simulated):
    line_threshold = simulated.config.line_threshold_dn
    truth = simulated.truth
    cfa = simulated.config.cfa
    listed = {
        "column": set(truth["column"][truth["kind"] == "column"].tolist()),
        "row": set(truth["row"][truth["kind"] == "row"].tolist()),
    }
    assert listed["column"] and listed["row"]
    found: dict[str, set[int]] = {"column": set(), "row": set()}
    for rows, columns in plane_slices(cfa):
        plane = simulated.dark_mean[rows, columns]
        row_start = rows.start or 0
        column_start = columns.start or 0
        step = 1 if cfa is None else 2
        for axis, numpy_axis, start in (("column", 0, column_start), ("row", 1, row_start)):
            deviation = line_deviation_without_centre_reference(plane, numpy_axis)
            for index in np.flatnonzero(np.abs(deviation) > line_threshold):
                found[axis].add(int(start + step * index))
    assert found == listed


def test_runs_of_every_length_and_some_from_the_first_column(simulated):
    truth = simulated.truth
    point = point_defects(truth)
    step = 1 if simulated.config.cfa is None else 2
    runs = horizontal_runs_reference(truth["row"][point], truth["column"][point], step)
    lengths = {length for _, _, length in runs}
    assert set(range(1, 13)) <= lengths
    first_columns = {0} if simulated.config.cfa is None else {0, 1}
    assert any(column in first_columns for _, column, _ in runs)
    # The deliberate runs are listed as groups with their length.
    runs = truth.select(np.isin(truth["source"], ("run", "edge_run")))
    for group in set(runs["group"].tolist()):
        members = runs["group"] == group
        assert group > 0 and members.sum() == runs["run_length"][members][0]


def test_isolated_defects_have_a_clean_neighbourhood(simulated):
    points = simulated.truth.select(point_defects(simulated.truth))
    injected = np.zeros(simulated.dark_mean.shape, np.int64)
    for table in (simulated.truth, simulated.warm):
        injected[table["row"], table["column"]] = 1
    step = 1 if simulated.config.cfa is None else 2
    for row, column, group in zip(points["row"], points["column"], points["group"], strict=True):
        if group:
            continue
        top = row - step * min(3, row // step)  # same plane, inside the image
        left = column - step * min(3, column // step)
        window = injected[top : row + 3 * step + 1 : step, left : column + 3 * step + 1 : step]
        assert window.sum() == 1, (row, column)


def test_default_population_scales_with_the_area():
    small = default_population(1024, 1024)
    assert small["run_lengths"] == tuple(range(1, 13))
    assert small["edge_run_lengths"] == (1, 3, 6, 9)
    assert small["n_hot"] == 60 and small["n_warm"] == 40 and small["n_noisy"] == 20
    assert small["n_bad_columns"] == 3 and small["n_bad_rows"] == 3
    large = default_population(5120, 5120)
    assert large["n_hot"] == 1500 and large["n_warm"] == 1000
    assert sorted(large["run_lengths"]) == sorted(list(range(1, 13)) * 25)
    assert large["n_bad_columns"] == 15 and large["n_faint_columns"] == 5
    colour = default_population(1024, 1024, "RGGB")
    assert colour["run_lengths"] == tuple(range(1, 13))


@pytest.mark.parametrize("cfa", [None, "BGGR"])
def test_a_1024_sensor_holds_every_run_length(cfa):
    sensor = build_sensor(SimulationConfig(cfa=cfa))
    truth = sensor.truth
    runs = truth.select(np.isin(truth["source"], ("run", "edge_run")))
    assert set(runs["run_length"].tolist()) == set(range(1, 13))
    edge = runs.select(runs["source"] == "edge_run")
    assert len(edge) > 0
    starts = {g: edge["column"][edge["group"] == g].min() for g in set(edge["group"].tolist())}
    assert set(starts.values()) <= ({0} if cfa is None else {0, 1})


@pytest.mark.parametrize(
    ("width", "height", "cfa"), [(1, 1, None), (16, 16, None), (37, 53, "RGGB"), (64, 64, None)]
)
def test_tiny_sensors_work_with_the_defaults(width, height, cfa):
    sensor = build_sensor(SimulationConfig(width=width, height=height, frames=2, cfa=cfa))
    frame = next(dark_frames(sensor))
    assert frame.shape == (height, width)


def test_too_many_requested_defects_is_a_clear_error():
    with pytest.raises(InputError, match="no room"):
        build_sensor(SimulationConfig(width=64, height=64, n_hot=500))


def test_truth_file_round_trip_and_bad_header(tmp_path, simulated):
    text = simulated.truth.to_csv()
    assert text.splitlines()[0] == ",".join(TRUTH_COLUMNS)
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(FileFormatError, match="row,column,kind"):
        read_truth(path)


def test_progress_counts_both_stacks(tmp_path):
    calls = []
    simulate_to_directory(
        tmp_path / "p",
        SimulationConfig(width=32, height=32, frames=3),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (6, 6)
    assert [d for d, _ in calls] == list(range(1, 7))


# -- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width", "0"], "width"),
        (["--height", "-3"], "height"),
        (["--cfa", "XYZ"], "CFA"),
        (["--frames", "0"], "frames"),
        (["--bit-depth", "4"], "bit depth"),
        (["--bit-depth", "17"], "bit depth"),
        (["--bright-level", "1.5"], "bright_level"),
        (["--exposure", "-1"], "dark_exposure_us"),
        (["--sensor", "NOPE9000"], "unknown sensor"),
        (["--config", "missing.json"], "missing.json"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code = main(["simulate", "--out", str(out), *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_config_file_exits_2(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"width": 64, "colour": "red"}))
    assert main(["simulate", "--out", str(tmp_path / "o"), "--config", str(config)]) == 2
    assert "colour" in capsys.readouterr().err
    config.write_text("{not json")
    assert main(["simulate", "--out", str(tmp_path / "o"), "--config", str(config)]) == 2
    assert not (tmp_path / "o").exists()


def test_out_is_a_file_exits_2(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep")
    assert main(["simulate", "--out", str(target), "--width", "32", "--height", "32"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert target.read_text() == "keep"


def test_existing_outputs_need_force(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["simulate", "--out", str(out), "--width", "48", "--height", "40", "--frames", "2"]
    assert main(args) == 0
    before = {name: (out / name).read_bytes() for name in OUTPUT_FILES}
    stamps = {name: (out / name).stat().st_mtime_ns for name in OUTPUT_FILES}
    assert main([*args, "--seed", "9"]) == 2
    assert "--force" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in OUTPUT_FILES} == before
    assert {name: (out / name).stat().st_mtime_ns for name in OUTPUT_FILES} == stamps
    assert main([*args, "--seed", "9", "--force"]) == 0
    assert (out / "truth.csv").read_bytes() != before["truth.csv"]


def test_json_output(tmp_path, capsys):
    out = tmp_path / "j"
    code = main(
        [
            "simulate",
            "--out",
            str(out),
            "--width",
            "64",
            "--height",
            "48",
            "--frames",
            "2",
            "--cfa",
            "rggb",
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["cfa"] == "RGGB" and document["width"] == 64
    assert document["counts"] == read_truth(out / "truth.csv").counts()
    assert set(document["files"]) == {"dark", "bright", "truth", "warm", "simulation"}


def test_sensor_preset_and_overrides(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(
        [
            "simulate",
            "--out",
            str(out),
            "--sensor",
            "GT5120",
            "--width",
            "64",
            "--height",
            "32",
            "--frames",
            "1",
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["width"], document["height"], document["bit_depth"]) == (64, 32, 10)


def test_config_file_reproduces_and_moves_the_operating_point(tmp_path):
    first = tmp_path / "first"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(first),
                "--width",
                "96",
                "--height",
                "64",
                "--frames",
                "2",
                "--seed",
                "4",
            ]
        )
        == 0
    )
    again = tmp_path / "again"
    assert main(["simulate", "--out", str(again), "--config", str(first / "simulation.json")]) == 0
    assert np.array_equal(tifffile.imread(first / "dark.tif"), tifffile.imread(again / "dark.tif"))
    assert (first / "truth.csv").read_bytes() == (again / "truth.csv").read_bytes()
    longer = tmp_path / "longer"
    exposure = str(2 * SimulationConfig().dark_exposure_us)
    assert (
        main(
            [
                "simulate",
                "--out",
                str(longer),
                "--config",
                str(first / "simulation.json"),
                "--exposure",
                exposure,
            ]
        )
        == 0
    )
    before, after = read_truth(first / "truth.csv"), read_truth(longer / "truth.csv")
    far = before.select(before["source"] == "hot_well_above")
    far_after = after.select(after["source"] == "hot_well_above")
    assert len(far) > 0 and np.array_equal(far["row"], far_after["row"])
    assert np.allclose(far_after["dark_deviation"], 2 * far["dark_deviation"], rtol=0.03)


# -- the sample data ------------------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_sample_data_is_reproduced_by_its_own_record(tmp_path):
    """data/sample is what its simulation.json makes (provenance that can be checked)."""
    record = json.loads((SAMPLE / "simulation.json").read_text())
    config = SimulationConfig.from_dict(record)
    assert (config.width, config.height, config.frames, config.bit_depth) == (256, 256, 8, 10)
    result = simulate_to_directory(tmp_path / "again", config)
    for name in ("dark.tif", "bright.tif", "truth.csv", "warm.csv"):
        assert (SAMPLE / name).read_bytes() == (result.directory / name).read_bytes()
    assert set(read_truth(SAMPLE / "truth.csv")["kind"]) == set(KINDS)
    total = sum(path.stat().st_size for path in SAMPLE.iterdir())
    assert total < 5_000_000


def test_truth_files_are_rich_defect_lists(simulated):
    """truth.csv and warm.csv read with fastdefect's own defect-list reader."""
    from fastdefect.formats import rich_csv

    directory = simulated.result.directory
    for name, table in (("truth.csv", simulated.truth), ("warm.csv", simulated.warm)):
        listed = rich_csv.read(directory / name)
        assert len(listed.defects if hasattr(listed, "defects") else listed) == len(table)
    planes = simulated.truth["plane"]
    if simulated.config.cfa is None:
        assert (planes == 0).all()
    else:
        expected = (simulated.truth["row"] % 2) * 2 + simulated.truth["column"] % 2
        assert np.array_equal(planes, expected)
