"""Plots of sweeps, deviations and defect maps, as PNG (matplotlib, the ``plot`` extra).

matplotlib is imported on first use, and only its object-oriented API with the Agg
canvas is used (no ``pyplot``, no global backend switch), so plotting works on servers
without a display and leaves a notebook's own matplotlib setup alone. Without
matplotlib every plotting function raises
:class:`~fastdefect.errors.MissingExtraError` naming the extra.

Deviation histograms (EMVA 1288 style)
--------------------------------------
The histogram of the local deviation ``value - median(neighbours)`` is drawn with a
logarithmic count axis over every pixel of the sensor, as EMVA 1288 draws its
spatial-nonuniformity histograms, so the few defects in the tails show beside the
millions of normal pixels. Computing every pixel's median would cost more than the
detection itself, so the histogram is assembled from what detection computed exactly:

* the **body** (``|deviation| <=`` the analysed threshold) from the exact deviations
  of 65,536 pixels sampled with a fixed seed, each counted ``pixels / 65,536`` times;
* the **tail** (beyond the analysed threshold) from every deviant pixel, exactly.

The body is thus an unbiased estimate whose bins resolve counts in steps of the scale
factor; the tail, where the defects are, is exact. Each figure says so.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .defects import KINDS, DefectList
from .detection import Threshold
from .errors import FastDefectError, import_optional
from .outputs import atomic_output, check_output_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .detection import DetectionAnalysis
    from .threshold_sweep import SweepResult

__all__ = [
    "KIND_COLOURS",
    "count_figure",
    "defect_map_figure",
    "defect_map_image",
    "deviation_histogram",
    "figure_png",
    "histogram_figure",
    "require_matplotlib",
    "score_figure",
    "write_sweep_plots",
]

#: Colour of each kind in every plot and in the report (colour-blind safe, Okabe-Ito
#: based). Strong kinds are drawn over weak ones.
KIND_COLOURS: dict[str, str] = {
    "stuck_high": "#cc3399",
    "stuck_low": "#000000",
    "hot": "#d55e00",
    "dark": "#0072b2",
    "bright": "#e69f00",
    "noisy": "#009e73",
    "column": "#56b4e9",
    "row": "#9467bd",
    "unknown": "#7f7f7f",
}

_UNIT_LABEL = {"dn": "DN", "lsb10": "LSB10", "percent": "% of full scale", "sigma": "sigma"}


def require_matplotlib() -> tuple[Any, Any]:
    """``(Figure, FigureCanvasAgg)``, imported lazily; :class:`MissingExtraError` if absent."""
    purpose = "plots and reports"
    backend = import_optional("matplotlib.backends.backend_agg", extra="plot", purpose=purpose)
    figure = import_optional("matplotlib.figure", extra="plot", purpose=purpose)
    return figure.Figure, backend.FigureCanvasAgg


def _figure(width_in: float, height_in: float) -> Figure:
    figure_class, canvas_class = require_matplotlib()
    figure = figure_class(figsize=(width_in, height_in), dpi=100, layout="constrained")
    canvas_class(figure)
    return figure


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (Agg)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _save(figure: Figure, path: Path, overwrite: bool) -> Path:
    data = figure_png(figure)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path


def _unit_label(unit: str) -> str:
    return _UNIT_LABEL.get(unit, unit)


# -- sweep curves ---------------------------------------------------------------------------


def count_figure(result: SweepResult) -> Figure:
    """Defective pixels per kind and in total against the threshold, log count axis.

    Zero counts cannot be drawn on a log axis and are left out. With truth, the
    F1-maximising threshold is marked.
    """
    from .threshold_sweep import SWEEP_KINDS

    figure = _figure(9.0, 5.0)
    axes = figure.add_subplot()
    x = result.values
    total = result.total.astype(np.float64)
    axes.plot(x, np.where(total > 0, total, np.nan), "-", color="#8c8c8c", lw=4.0, alpha=0.8,
              label=f"total ({int(total[0]):,} → {int(total[-1]):,})", zorder=1)  # fmt: skip
    for kind in SWEEP_KINDS:
        counts = result.count(kind).astype(np.float64)
        if not counts.any():
            continue
        axes.plot(x, np.where(counts > 0, counts, np.nan), "-o", color=KIND_COLOURS[kind],
                  lw=1.4, ms=2.5, label=kind)  # fmt: skip
    axes.set_yscale("log")
    axes.set_xlabel(f"pixel threshold ({_unit_label(result.unit)})")
    axes.set_ylabel("defective pixels")
    _mark_best(axes, result)
    axes.grid(True, which="major", alpha=0.35)
    axes.grid(True, which="minor", axis="y", alpha=0.12)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    axes.set_title("Defective pixels against the pixel threshold", loc="left", fontsize=11)
    return figure


def score_figure(result: SweepResult) -> Figure:
    """Precision, recall and F1 against the threshold: overall, and F1 per kind."""
    from .threshold_sweep import SWEEP_KINDS

    figure = _figure(11.0, 4.6)
    overall, per_kind = figure.subplots(1, 2)
    x = result.values
    for name, label, colour, style in (
        ("precision", "precision", "#0072b2", "-o"),
        ("recall", "recall", "#d55e00", "-s"),
        ("f1", "F1", "#222222", "-"),
        ("kind_agreement", "kind agreement", "#009e73", ":"),
    ):
        overall.plot(x, result.metric(name), style, color=colour, ms=3,
                     lw=2.4 if name == "f1" else 1.5, label=label)  # fmt: skip
    overall.set_title("All kinds, pixel by pixel", loc="left", fontsize=11)
    for kind in SWEEP_KINDS:
        f1 = result.metric("f1", kind)
        if np.isfinite(f1).any():
            per_kind.plot(x, f1, "-o", ms=2.5, lw=1.4, color=KIND_COLOURS[kind], label=kind)
    per_kind.set_title("F1 per kind (found with any kind)", loc="left", fontsize=11)
    for axes in (overall, per_kind):
        axes.set_xlabel(f"pixel threshold ({_unit_label(result.unit)})")
        # Zoom to the data (scores near 1 would be a flat line on 0..1), 0.05 steps.
        lows = [np.nanmin(line.get_ydata()) for line in axes.get_lines()]
        low = min([v for v in lows if np.isfinite(v)] or [0.0])
        axes.set_ylim(max(0.0, math.floor(low / 0.05) * 0.05 - 0.01), 1.005)
        axes.grid(True, alpha=0.35)
        _mark_best(axes, result)
    overall.set_ylabel("score")
    overall.legend(loc="lower right", fontsize=9, framealpha=0.9)
    per_kind.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    return figure


def _mark_best(axes: Any, result: SweepResult) -> None:
    best = result.best
    if best is None:
        return
    if best.tied_from.value < best.tied_to.value:
        axes.axvspan(best.tied_from.value, best.tied_to.value, color="#2ca02c", alpha=0.10, lw=0)
    axes.axvline(best.threshold.value, color="#2ca02c", lw=1.6, ls="--",
                 label=f"best F1: {best.threshold}")  # fmt: skip


# -- deviation histograms --------------------------------------------------------------------


def deviation_histogram(
    entry: Mapping[str, Any], *, n_frames: int = 1, bins: int = 2000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram of every pixel's local deviation: sampled body, exact tail.

    Parameters
    ----------
    entry : mapping
        One item of :meth:`DetectionAnalysis.deviations`: ``sample``, ``deviation``
        (the deviants), ``analysed_threshold_dn`` and ``pixels``.
    n_frames : int
        Frames of the stack: deviations are multiples of ``0.5 / n_frames`` DN, and the
        bin width is a multiple of that step so that no bin gets an extra value (combs).
    bins : int
        Upper bound on the number of bins.

    Returns
    -------
    edges : ndarray
        Bin edges, DN (``len(counts) + 1``).
    body : ndarray of float
        Estimated pixels per bin with ``|deviation| <=`` the analysed threshold (the
        sample's counts times ``pixels / sample size``).
    tail : ndarray of int
        Exact pixels per bin beyond the analysed threshold.
    """
    sample = np.asarray(entry["sample"], np.float64)
    deviants = np.asarray(entry["deviation"], np.float64)
    limit = float(entry["analysed_threshold_dn"])
    body_values = sample[np.abs(sample) <= limit]
    scale = float(entry["pixels"]) / max(sample.size, 1)
    values = np.concatenate([body_values, deviants])
    if values.size == 0:
        return np.array([-1.0, 1.0]), np.zeros(1), np.zeros(1, np.int64)
    low, high = float(values.min()), float(values.max())
    quantum = 0.5 / max(int(n_frames), 1)
    sigma = 1.4826 * float(np.median(np.abs(sample - np.median(sample)))) if sample.size else 0
    # Bins fine enough to show the noise's shape (a quarter sigma), coarse enough to
    # stay within ``bins`` over the whole range, and a whole number of value steps.
    width = max(quantum, sigma / 4.0, (high - low) / bins)
    width = quantum * math.ceil(width / quantum - 1e-9)
    # Edges halfway between representable values, centred on 0.
    first = math.floor(low / width - 0.5) * width + 0.5 * width
    count = math.ceil((high - first) / width + 1e-9) + 1
    edges = first + width * np.arange(count + 1)
    body, _ = np.histogram(body_values, bins=edges)
    tail, _ = np.histogram(deviants, bins=edges)
    return edges, body * scale, tail.astype(np.int64)


def histogram_figure(
    analysis: DetectionAnalysis,
    *,
    marks: Mapping[str, Threshold | str | float] | None = None,
    band: tuple[Threshold, Threshold] | None = None,
    roles: Sequence[str] = ("dark", "bright", "saturated"),
) -> Figure:
    """EMVA 1288-style log histograms of the deviation, one panel per stack.

    Parameters
    ----------
    analysis : DetectionAnalysis
    marks : mapping of label to threshold, optional
        Thresholds drawn as vertical lines at ``±threshold`` (in each stack's DN).
    band : (Threshold, Threshold), optional
        A range of thresholds shaded (e.g. the thresholds of a sweep).
    roles : sequence of str
        Which stacks to draw.
    """
    panels = []
    for role in roles:
        group = analysis.analyses.get(role, [])
        for number, (stack, entry) in enumerate(
            zip(group, analysis.deviations(role), strict=True), start=1
        ):
            name = role if len(group) == 1 else f"{role} {number}"
            panels.append((name, stack, entry))
    if not panels:
        raise FastDefectError("the analysis has no stacks to draw")
    columns = min(len(panels), 2)
    lines = math.ceil(len(panels) / columns)
    figure = _figure(5.6 * columns, 4.9 * lines)
    grid = figure.subplots(lines, columns, squeeze=False)
    for axes in grid.ravel()[len(panels) :]:
        axes.set_visible(False)
    styles = ["--", "-.", ":", (0, (5, 1))]
    for axes, (name, stack, entry) in zip(grid.ravel(), panels, strict=False):
        report = stack.report
        edges, body, tail = deviation_histogram(entry, n_frames=report.n_frames)
        total = body + tail
        shown = np.where(total > 0, total, np.nan)
        axes.stairs(shown, edges, color="#333333", lw=1.0, label="all pixels")
        tail_shown = np.where(tail > 0, tail.astype(np.float64), np.nan)
        exact = f"exact tail (|d| > {entry['analysed_threshold_dn']:.3g} DN)"
        axes.stairs(tail_shown, edges, color="#d55e00", lw=1.0, fill=True, alpha=0.45, label=exact)
        if band is not None:
            low = stack.threshold_dn(band[0])
            high = stack.threshold_dn(band[1])
            for sign in (-1, 1):
                axes.axvspan(sign * low, sign * high, color="#2ca02c", alpha=0.08, lw=0)
        for (label, threshold), style in zip((marks or {}).items(), styles, strict=False):
            dn = stack.threshold_dn(Threshold.parse(threshold))
            for sign in (-1, 1):
                axes.axvline(sign * dn, color="#2ca02c", lw=1.4, ls=style,
                             label=f"{label}: ±{dn:.4g} DN" if sign > 0 else None)  # fmt: skip
        scale = entry["pixels"] / max(len(entry["sample"]), 1)
        if scale > 1:
            # The body moves in steps of one sampled pixel: below this line it is noise.
            axes.axhline(scale, color="#999999", lw=0.8, ls=":",
                         label=f"one sampled pixel ({scale:.3g} pixels)")  # fmt: skip
        axes.set_yscale("log")
        axes.set_ylim(bottom=0.5)
        axes.set_xlabel("deviation from the 7 x 7 neighbour median (DN)")
        axes.set_ylabel("pixels per bin")
        axes.set_title(
            f"{name}: {report.n_frames} frames, level {report.level:.1f} DN, "
            f"σ {report.deviation_sigma:.3g} DN",
            loc="left",
            fontsize=10,
        )
        axes.text(
            0.99,
            0.99,
            f"body: {len(entry['sample']):,} sampled pixels × {scale:.4g}\n"
            f"tail: every pixel, exact\nbin width {edges[1] - edges[0]:.3g} DN",
            transform=axes.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color="#555555",
        )
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8,
                    frameon=False)  # fmt: skip
    return figure


# -- defect maps -------------------------------------------------------------------------------


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def defect_map_image(
    defects: DefectList,
    shape: tuple[int, int],
    *,
    max_side: int = 760,
    background: str = "#f7f7f7",
) -> tuple[np.ndarray, int, int]:
    """The sensor as an RGB array with defects coloured by kind, downsampled.

    Each map pixel covers ``factor x factor`` sensor pixels (``factor`` chosen so the
    longer side fits ``max_side``). Point defects are drawn as squares of 3 x 3 map
    pixels (5 x 5 when there are at most 2,000 of them), so that a single defective
    pixel stays visible at any sensor size; columns and rows as lines one map pixel
    wide. Stronger kinds are drawn over weaker ones. Entries outside the sensor are left
    out.

    Returns
    -------
    image : ndarray of uint8, shape (h, w, 3)
    factor : int
        Sensor pixels per map pixel (per side).
    radius : int
        Half-size of the squares drawn for point defects, in map pixels.
    """
    height, width = shape
    factor = max(1, math.ceil(max(height, width) / max_side))
    map_height, map_width = math.ceil(height / factor), math.ceil(width / factor)
    image = np.empty((map_height, map_width, 3), np.uint8)
    image[:] = _hex_rgb(background)
    inside = (defects.rows < height) & (defects.columns < width)
    rows = defects.rows[inside].astype(np.int64) // factor
    columns = defects.columns[inside].astype(np.int64) // factor
    codes = defects.kind_codes[inside]
    line_codes = {KINDS.index("column"), KINDS.index("row")}
    points = ~np.isin(codes, list(line_codes))
    radius = 2 if int(points.sum()) <= 2000 else 1
    for code in range(len(KINDS) - 1, -1, -1):  # weakest first, strongest drawn last
        here = codes == code
        if not here.any():
            continue
        colour = _hex_rgb(KIND_COLOURS[KINDS[code]])
        r, c = rows[here], columns[here]
        if code in line_codes:
            image[r, c] = colour
            continue
        r, c = np.unique(np.stack([r, c]), axis=1)
        for dr in range(-radius, radius + 1):
            for dc in range(-radius, radius + 1):
                image[np.clip(r + dr, 0, map_height - 1), np.clip(c + dc, 0, map_width - 1)] = (
                    colour
                )
    return image, factor, radius


def defect_map_figure(
    defects: DefectList, shape: tuple[int, int], *, max_side: int = 760, title: str | None = None
) -> Figure:
    """The defect map with sensor coordinates and a legend of counts per kind.

    The map is placed pixel for pixel (``figimage``, integer upscaling for small
    sensors), never resampled, so no marked pixel can disappear in the PNG.
    """
    image, factor, radius = defect_map_image(defects, shape, max_side=max_side)
    map_height, map_width = image.shape[:2]
    upscale = max(1, min(max_side // max(map_height, map_width), 8))
    if upscale > 1:
        image = np.repeat(np.repeat(image, upscale, axis=0), upscale, axis=1)
    height_px, width_px = image.shape[:2]
    left, right, bottom, top = 70, 190, 55, 40
    figure_class, canvas_class = require_matplotlib()
    dpi = 100
    size = (width_px + left + right, height_px + bottom + top)
    figure = figure_class(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    canvas_class(figure)
    # origin="upper": array row 0 at the top, like the sensor's row 0.
    figure.figimage(image, xo=left, yo=bottom, origin="upper", zorder=0)
    axes = figure.add_axes(
        (left / size[0], bottom / size[1], width_px / size[0], height_px / size[1])
    )
    axes.patch.set_alpha(0.0)
    axes.set_xlim(0, map_width * factor)
    axes.set_ylim(map_height * factor, 0)
    axes.set_xlabel("column")
    axes.set_ylabel("row")
    counts = defects.count_by_kind()
    height, width = shape
    outside = int(((defects.rows >= height) | (defects.columns >= width)).sum())
    handles = []
    from matplotlib.patches import Patch

    for kind in KINDS:
        if counts.get(kind):
            handles.append(Patch(color=KIND_COLOURS[kind], label=f"{kind}: {counts[kind]:,}"))
    if outside:
        handles.append(Patch(color="white", label=f"outside sensor: {outside:,}"))
    if handles:
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                    frameon=False, fontsize=9, title="kind: pixels", title_fontsize=9)  # fmt: skip
    square = 2 * radius + 1
    axes.set_title(
        title
        or f"{width} x {height} sensor; 1 map pixel = {factor} x {factor} sensor pixels;\n"
        f"point defects drawn as {square} x {square} map pixels",
        loc="left",
        fontsize=9,
    )
    return figure


# -- files ----------------------------------------------------------------------------------


def write_sweep_plots(
    result: SweepResult, directory: str | os.PathLike, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write the sweep's PNGs into ``directory`` (created if missing).

    Files: ``counts.png`` (count against threshold, log), ``histograms.png`` (deviation
    histograms with the swept range shaded and the best threshold marked), and with
    truth ``scores.png`` (precision, recall, F1). Existing files need ``overwrite``.

    Returns
    -------
    dict of str to Path
        ``counts``, ``histograms`` and maybe ``scores``.
    """
    require_matplotlib()  # fail before creating anything
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FastDefectError(f"{directory} exists and is not a directory")
    names = {"counts": "counts.png", "histograms": "histograms.png"}
    if result.scores is not None:
        names["scores"] = "scores.png"
    if directory.is_dir():
        for name in names.values():
            check_output_path(directory / name, overwrite=overwrite)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    paths["counts"] = _save(count_figure(result), directory / names["counts"], overwrite)
    if result.scores is not None:
        paths["scores"] = _save(score_figure(result), directory / names["scores"], overwrite)
    best = result.best
    marks = {"best F1": best.threshold} if best else {}
    band = (result.thresholds[0], result.thresholds[-1])
    paths["histograms"] = _save(
        histogram_figure(result.analysis, marks=marks, band=band),
        directory / names["histograms"],
        overwrite,
    )
    return paths
