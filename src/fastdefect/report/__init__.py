"""The HTML report: one self-contained page on a sensor's defects.

:func:`build_report` reads the stacks once (:func:`fastdefect.detection.analyse`), and
:func:`report_from_analysis` turns an analysis into a :class:`Report` whose ``html`` is
a single file that needs nothing else: the stylesheet is inline, every image is a
``data:`` URI, there is no script and no font or other resource to fetch, and a
Content-Security-Policy forbids the browser to load anything but those inline parts. It
opens from disk, offline, in any browser.

Sections (their element ids, for links and tests):

``summary``
    sensor size, bit depth, CFA, the stacks (frames, exposure, level, noise, threshold
    in DN), thresholds, defects per kind, camera verdicts and warnings;
``map``
    the sensor with its defects coloured by kind (single pixels enlarged to stay
    visible);
``histograms``
    EMVA 1288-style logarithmic histograms of the local deviation with the threshold
    marked (see :mod:`fastdefect.plots` for how they are assembled);
``runs``
    the runs of consecutive defects in a row with the camera's verdict (green ok,
    yellow warn, red error, :mod:`fastdefect.rules`);
``previews``
    before/after crops: as recorded, as the camera would correct it, highlighted;
``sweep``
    threshold curves, when asked; ``scores``: precision/recall per kind, with truth;
``history``
    with a camera's recorded history (:mod:`fastdefect.fleet.history`): defects over
    time and what changed between the last two runs.

All text put into the page (file names, warnings, reasons) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from .. import __version__
from ..defects import KINDS, DefectList
from ..detection import (
    DetectionAnalysis,
    DetectionConfig,
    StackInput,
    Threshold,
    analyse,
)
from ..frames import ProgressCallback
from ..outputs import atomic_output
from ..plots import (
    KIND_COLOURS,
    count_figure,
    defect_map_figure,
    figure_png,
    histogram_figure,
    score_figure,
)
from ..rules import Verdict, Verdicts, check_list, rule_set
from ..scoring import Score, load_truth, score
from ..threshold_sweep import SWEEP_KINDS, SweepResult, parse_thresholds, sweep_analysis

__all__ = ["EXTRA_SECTIONS", "SECTIONS", "Report", "build_report", "report_from_analysis"]

#: Section ids in page order, with their headings.
SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "map": "Defect map",
    "histograms": "Deviation histograms",
    "runs": "Runs and camera verdicts",
    "previews": "Before / after",
    "sweep": "Threshold sweep",
    "scores": "Scores against truth",
}
#: Sections shown only with data from outside the stacks (a camera's recorded history).
EXTRA_SECTIONS: dict[str, str] = {"history": "Defect history"}
_HEADINGS = {**SECTIONS, **EXTRA_SECTIONS}

MAX_RUN_ROWS = 200  # runs listed one by one; the rest are counted


def _e(value: Any) -> str:
    """Escape for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _img(data: bytes, alt: str, *, width: int | None = None, height: int | None = None) -> str:
    size = f' width="{width}" height="{height}"' if width and height else ""
    return f'<img src="{_png_uri(data)}" alt="{_e(alt)}"{size}>'


def _fraction(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.4f}"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.2f} %"


def _swatch(kind: str) -> str:
    colour = KIND_COLOURS.get(kind, "#7f7f7f")
    return f'<span class="swatch" style="background:{colour}"></span>{_e(kind)}'


def _verdict_badge(level: Verdict) -> str:
    return f'<span class="verdict {level.label}">{level.label}</span>'


# -- the report ------------------------------------------------------------------------------


@dataclass
class Report:
    """A rendered report and what it was made from.

    Attributes
    ----------
    html : str
        The self-contained page.
    analysis : DetectionAnalysis
    defects : DefectList
        The list the report shows (detected at ``threshold``, or the one given).
    threshold : Threshold
        Pixel threshold of the detection shown.
    verdicts : Verdicts
        The camera rules' verdict on every entry.
    sweep : SweepResult or None
    score : Score or None
        ``defects`` scored against the truth, when given.
    sections : list of str
        Ids of the sections present.
    seconds : float
        Time to render (without the analysis).
    """

    html: str
    analysis: DetectionAnalysis
    defects: DefectList
    threshold: Threshold
    verdicts: Verdicts
    sweep: SweepResult | None
    score: Score | None
    sections: list[str]
    seconds: float

    def write(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the page to ``path`` atomically (UTF-8)."""
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(self.html, encoding="utf-8", newline="\n")
        return Path(path)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (what ``fastdefect report --json`` prints)."""
        return {
            "shape": list(self.analysis.shape),
            "bit_depth": self.analysis.bit_depth,
            "threshold": str(self.threshold),
            "defects": len(self.defects),
            "counts": self.defects.count_by_kind(),
            "verdicts": self.verdicts.counts(),
            "sections": self.sections,
            "best_threshold": (
                self.sweep.best.as_dict() if self.sweep is not None and self.sweep.best else None
            ),
            "score": self.score.as_dict()["overall"] if self.score is not None else None,
            "warnings": list(self.analysis.warnings),
            "bytes": len(self.html.encode("utf-8")),
            "seconds": {"analysis": self.analysis.seconds, "render": self.seconds},
        }


def build_report(
    dark: StackInput | Sequence[StackInput] | None = None,
    bright: StackInput | Sequence[StackInput] | None = None,
    saturated: StackInput | Sequence[StackInput] | None = None,
    *,
    defects: DefectList | str | os.PathLike | None = None,
    truth: Any = None,
    sweep: str | Sequence[str | float | Threshold] | None = None,
    threshold: Threshold | str | float | None = None,
    rules: str = "av",
    title: str | None = None,
    history: Any = None,
    bit_depth: int | None = None,
    cfa: str | None = None,
    config: DetectionConfig | None = None,
    dark_exposures: Sequence[float] | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Read the stacks once and make the report.

    Parameters
    ----------
    dark, bright, saturated, bit_depth, cfa, config, dark_exposures, progress
        As for :func:`fastdefect.detection.detect`.
    defects : DefectList or path, optional
        Report on this list (e.g. an edited user list) instead of the detected one; the
        stacks still give the summary, histograms and previews.
    truth : path, TruthTable or DefectList, optional
        Ground truth: adds the scores section (and scores to the sweep).
    sweep : str or sequence, optional
        Thresholds to sweep (``"20:200:10"``, see
        :func:`fastdefect.threshold_sweep.parse_thresholds`): adds the sweep section.
    threshold : Threshold or str, optional
        Pixel threshold of the detection shown; default ``config.pixel_threshold``.
    rules : str
        Camera rule set for the verdicts: ``av`` (default) or ``arri``.
    title : str, optional
    history : CameraHistory, optional
        The camera's recorded runs (:func:`fastdefect.fleet.history.camera_history`):
        adds the history section.

    Returns
    -------
    Report
        ``report.write("report.html")`` saves it.
    """
    config = config or DetectionConfig()
    if threshold is not None:
        config = replace(config, pixel_threshold=Threshold.parse(threshold))
    levels = parse_thresholds(sweep) if sweep is not None else None
    truth_list = load_truth(truth) if truth is not None else None  # fail before reading
    given = _load_defects(defects) if defects is not None else None
    # analyse() supports both its config's threshold and ``lowest_threshold``, per stack,
    # whatever their units.
    analysis = analyse(
        dark,
        bright,
        saturated,
        bit_depth=bit_depth,
        cfa=cfa,
        config=config,
        dark_exposures=dark_exposures,
        progress=progress,
        lowest_threshold=levels[0] if levels is not None else None,
    )
    return report_from_analysis(
        analysis,
        defects=given,
        truth=truth_list,
        sweep=levels,
        threshold=config.pixel_threshold,
        rules=rules,
        title=title,
        history=history,
    )


def _load_defects(defects: DefectList | str | os.PathLike) -> DefectList:
    if isinstance(defects, DefectList):
        return defects
    from ..formats import read_list

    return read_list(defects)


def report_from_analysis(
    analysis: DetectionAnalysis,
    *,
    defects: DefectList | None = None,
    truth: Any = None,
    sweep: SweepResult | str | Sequence[str | float | Threshold] | None = None,
    threshold: Threshold | str | float | None = None,
    rules: str = "av",
    title: str | None = None,
    history: Any = None,
) -> Report:
    """Render the report of an analysis (no frame is read).

    Parameters are those of :func:`build_report`; ``sweep`` may also be a finished
    :class:`~fastdefect.threshold_sweep.SweepResult`. The analysis must support ``threshold``
    and the sweep's thresholds (``analyse(..., lowest_threshold=...)``).
    """
    started = time.perf_counter()
    shown = Threshold.parse(threshold) if threshold is not None else analysis.config.pixel_threshold
    truth_list = load_truth(truth) if truth is not None else None
    detected = analysis.classify(shown)
    listed = defects if defects is not None else detected
    height, width = analysis.shape
    verdicts = check_list(listed, rule_set(rules, width=width, height=height))
    sweep_result = None
    if isinstance(sweep, SweepResult):
        sweep_result = sweep
    elif sweep is not None:
        sweep_result = sweep_analysis(analysis, sweep, truth=truth_list)
    scored = score(listed, truth_list) if truth_list is not None else None

    page = _Page(analysis, listed, detected, shown, verdicts, given=defects is not None)
    sections = {
        "summary": page.summary(),
        "map": page.defect_map(),
        "histograms": page.histograms(sweep_result),
        "runs": page.runs(),
        "previews": page.previews(),
    }
    if sweep_result is not None:
        sections["sweep"] = page.sweep(sweep_result)
    if scored is not None:
        sections["scores"] = page.scores(scored)
    if history is not None and history.runs:
        sections["history"] = _history_section(history)
    heading = title or f"Defect report: {width} x {height} sensor"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = (
        f"{len(listed):,} defective pixels · threshold {shown} · "
        f"{verdicts.counts()['error']:,} uncorrectable · generated {generated} "
        f"by fastdefect {__version__}"
    )
    template = Template(_resource("report.html"))
    document = template.substitute(
        title=_e(heading),
        generator=_e(f"fastdefect {__version__}"),
        css=_resource("report.css"),
        meta=_e(meta),
        nav="\n".join(f'<a href="#{key}">{_e(_HEADINGS[key])}</a>' for key in sections),
        sections="\n".join(
            f'<section class="card" id="{key}">\n<h2>{_e(_HEADINGS[key])}</h2>\n{body}\n</section>'
            for key, body in sections.items()
        ),
        footer=_e(
            f"fastdefect {__version__} · {generated} · self-contained page: no network, no scripts"
        ),
    )
    return Report(
        html=document,
        analysis=analysis,
        defects=listed,
        threshold=shown,
        verdicts=verdicts,
        sweep=sweep_result,
        score=scored,
        sections=list(sections),
        seconds=time.perf_counter() - started,
    )


def _history_section(history: Any) -> str:
    """Defects over time, and the last comparison, of a camera's recorded history."""
    from ..fleet.history import history_figure

    image = _img(figure_png(history_figure(history)), f"defects of {history.serial} over time")
    text = f"{len(history.runs)} recorded run(s) of camera {_e(history.serial)}."
    if history.diff is not None:
        diff = history.diff
        text += (
            f" Run {history.old.id} ({history.old.recorded_at:%Y-%m-%d}) → run "
            f"{history.new.id} ({history.new.recorded_at:%Y-%m-%d}): {len(diff.new):,} new, "
            f"{len(diff.healed):,} healed, {len(diff.unchanged):,} persisting."
        )
    if history.growth:
        text += f" Growth: {history.growth['total']:+.2f} defects per year."
    for projection in history.projections:
        if projection.status == "projected":
            text += f" {_e(projection.limit)}: in {projection.years:,.1f} years."
        elif projection.status == "exceeded":
            text += f" {_e(projection.limit)}: exceeded already."
    return f"<p>{text}</p>\n<figure>{image}</figure>"


def _resource(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


# -- sections ------------------------------------------------------------------------------


class _Page:
    """Renders the sections of one report (HTML fragments, text escaped)."""

    def __init__(
        self,
        analysis: DetectionAnalysis,
        defects: DefectList,
        detected: DefectList,
        threshold: Threshold,
        verdicts: Verdicts,
        *,
        given: bool,
    ) -> None:
        self.analysis = analysis
        self.defects = defects
        self.detected = detected
        self.threshold = threshold
        self.verdicts = verdicts
        self.given = given

    # summary ---------------------------------------------------------------------------

    def summary(self) -> str:
        analysis = self.analysis
        height, width = analysis.shape
        stacks = analysis.stacks
        config = analysis.config
        metadata = self.detected.metadata.get("stacks", [])
        counts = self.defects.count_by_kind()
        verdict_counts = self.verdicts.counts()
        frames = ", ".join(f"{s.n_frames} {s.role}" for s in stacks)
        exposures = ", ".join(
            f"{s.role} {_exposure(s.exposure_us)}" for s in stacks if s.exposure_us
        )
        temperatures = sorted(
            {f"{m['temperature_c']:g} °C" for m in metadata if m.get("temperature_c") is not None}
        )
        gains = sorted({f"{m['gain']:g}" for m in metadata if m.get("gain") is not None})
        facts = [
            ("sensor", f"{width} x {height}", f"{width * height / 1e6:.1f} Mpix"),
            (
                "bit depth",
                f"{analysis.bit_depth} bit",
                f"full scale {(1 << analysis.bit_depth) - 1}",
            ),
            ("colour", config.cfa or "mono", "per CFA plane" if config.cfa else ""),
            ("frames", frames, ""),
            ("exposure", exposures or "not stated", ""),
            ("pixel threshold", str(self.threshold), self._threshold_dn_text()),
            ("line threshold", str(config.line_threshold), "column/row means, ±5 lines"),
            (
                "defective pixels",
                f"{len(self.defects):,}",
                f"{1e6 * len(self.defects) / (width * height):.1f} per Mpix",
            ),
        ]
        if temperatures:
            facts.append(("temperature", ", ".join(temperatures), ""))
        if gains:
            facts.append(("gain", ", ".join(gains), ""))
        cards = "".join(
            f'<div class="fact"><div class="label">{_e(label)}</div>'
            f'<div class="value">{_e(value)}'
            + (f" <small>{_e(extra)}</small>" if extra else "")
            + "</div></div>"
            for label, value, extra in facts
        )
        parts = [f'<div class="facts">{cards}</div>']
        if self.given:
            parts.append(
                f'<p class="note">Showing the given defect list ({len(self.defects):,} '
                f"entries); detection at {_e(self.threshold)} found "
                f"{len(self.detected):,}.</p>"
            )
        # stacks
        rows = []
        for s in stacks:
            rows.append(
                "<tr>"
                f"<td>{_e(s.role)}</td><td><code>{_e(_short(s.label))}</code></td>"
                f'<td class="num">{s.n_frames}</td>'
                f'<td class="num">{_e(_exposure(s.exposure_us))}</td>'
                f'<td class="num">{s.level:.1f}</td><td class="num">{s.typical_std:.2f}</td>'
                f'<td class="num">{s.deviation_sigma:.2f}</td>'
                f'<td class="num">{s.threshold_dn:.1f}</td><td class="num">{s.flagged:,}</td>'
                f'<td class="num">{s.n_bad_columns} / {s.n_bad_rows}</td>'
                "</tr>"
            )
        stack_table = (
            '<div class="scroll"><table><thead><tr><th>stack</th><th>file</th>'
            '<th class="num">frames</th><th class="num">exposure</th>'
            '<th class="num">level DN</th><th class="num">temporal noise DN</th>'
            '<th class="num">deviation σ DN</th><th class="num">threshold DN</th>'
            '<th class="num">flagged</th><th class="num">bad columns / rows</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
        # kinds
        total = max(len(self.defects), 1)
        kind_rows = (
            "".join(
                f'<tr><td>{_swatch(kind)}</td><td class="num">{counts[kind]:,}</td>'
                f'<td class="num">{100 * counts[kind] / total:.1f} %</td></tr>'
                for kind in KINDS
                if counts.get(kind)
            )
            or '<tr><td colspan="3">no defects</td></tr>'
        )
        kind_table = (
            '<table><thead><tr><th>kind</th><th class="num">pixels</th>'
            f'<th class="num">share</th></tr></thead><tbody>{kind_rows}'
            f'<tr><th>total</th><th class="num">{len(self.defects):,}</th><th></th></tr>'
            "</tbody></table>"
        )
        verdict_rows = "".join(
            f'<tr class="{level.label}"><td class="v">{_verdict_badge(level)}</td>'
            f'<td class="num">{verdict_counts[level.label]:,}</td>'
            f"<td>{_e(_VERDICT_TEXT[level])}</td></tr>"
            for level in Verdict
        )
        verdict_table = (
            f'<table><thead><tr><th>camera verdict</th><th class="num">pixels</th>'
            f"<th>meaning</th></tr></thead><tbody>{verdict_rows}</tbody></table>"
            f'<p class="note">Rules: {_e(self.verdicts.rules.description)}.</p>'
        )
        parts.append(f"<h3>Stacks</h3>{stack_table}")
        parts.append(
            '<div class="columns">'
            f"<div><h3>Defects per kind</h3>{kind_table}</div>"
            f"<div><h3>Camera verdicts</h3>{verdict_table}</div></div>"
        )
        warnings = list(self.analysis.warnings) + self._extra_warnings()
        if warnings:
            items = "".join(f"<li>{_e(w)}</li>" for w in warnings)
            parts.append(f'<div class="warnings"><strong>Warnings</strong><ul>{items}</ul></div>')
        else:
            parts.append('<div class="all-clear">No warnings: the stacks look as advised.</div>')
        return "\n".join(parts)

    def _threshold_dn_text(self) -> str:
        values = []
        for group in self.analysis.analyses.values():
            for stack in group:
                values.append(f"{stack.report.role} {stack.threshold_dn(self.threshold):.4g} DN")
        return " · ".join(values)

    def _extra_warnings(self) -> list[str]:
        out = []
        height, width = self.analysis.shape
        outside = int(((self.defects.rows >= height) | (self.defects.columns >= width)).sum())
        if outside:
            out.append(f"{outside} listed pixels lie outside the {width} x {height} sensor")
        if self.given and len(self.defects) and (self.defects.kinds == "unknown").all():
            out.append("the given list carries no kinds: every entry is shown as 'unknown'")
        return out

    # map and histograms -----------------------------------------------------------------

    def defect_map(self) -> str:
        figure = defect_map_figure(self.defects, self.analysis.shape)
        data = figure_png(figure)
        width, height = (int(v) for v in figure.get_size_inches() * figure.dpi)
        return (
            f'<figure class="map">{_img(data, "defect map", width=width, height=height)}'
            "<figcaption>Each defect is drawn in the colour of its kind; a single pixel is "
            "enlarged to a small square so it stays visible, columns and rows are drawn "
            "as lines. Stronger kinds are drawn over weaker ones.</figcaption></figure>"
        )

    def histograms(self, sweep: SweepResult | None) -> str:
        marks: dict[str, Any] = {f"threshold {self.threshold}": self.threshold}
        band = None
        if sweep is not None:
            band = (sweep.thresholds[0], sweep.thresholds[-1])
            if sweep.best is not None:
                marks[f"best F1 {sweep.best.threshold}"] = sweep.best.threshold
        data = figure_png(histogram_figure(self.analysis, marks=marks, band=band))
        shaded = " The shaded band is the range of thresholds swept." if band else ""
        return (
            f"<figure>{_img(data, 'deviation histograms')}<figcaption>Deviation of every "
            "pixel from the median of its 7 x 7 neighbours (same colour plane), counts on a "
            "log scale. The body comes from 65,536 pixels sampled with a fixed seed, scaled "
            "to the sensor's pixel count; the tail beyond the analysed threshold counts "
            f"every pixel exactly. Dashed lines: the threshold.{shaded}</figcaption></figure>"
        )

    # runs -----------------------------------------------------------------------------------

    def runs(self) -> str:
        verdicts = self.verdicts
        defects = self.defects
        runs = verdicts.runs()
        inside = verdicts.run_starts >= 0
        levels, lengths, starts, ends, run_rows = (
            runs.levels,
            runs.lengths,
            runs.starts,
            runs.ends,
            runs.rows,
        )
        worst = runs.worst_entry
        kind_sets: dict[int, set[str]] = {}
        interesting = np.flatnonzero((levels > 0) | (lengths > 1))
        if interesting.size:
            wanted = np.isin(runs.entry_run, interesting)
            for run, kind in zip(
                runs.entry_run[wanted].tolist(),
                defects.kinds[runs.entries[wanted]].tolist(),
                strict=True,
            ):
                kind_sets.setdefault(run, set()).add(kind)

        # by length class
        classes = [("single pixels", 1, 1), ("runs of 2-4", 2, 4), ("runs of 5-8", 5, 8),
                   ("runs of 9-64", 9, 64), ("runs longer than 64 (lines)", 65, None)]  # fmt: skip
        class_rows = []
        for label, low, high in classes:
            here = (lengths >= low) & (lengths <= (high if high is not None else np.inf))
            if not here.any():
                continue
            by_level = np.bincount(levels[here], minlength=3)
            spread = " ".join(
                f'<span class="verdict {Verdict(i).label}">{Verdict(i).label} '
                f"{int(by_level[i]):,}</span>"
                for i in range(3)
                if by_level[i]
            )
            class_rows.append(
                f"<tr><td>{_e(label)}</td>"
                f'<td class="num">{int(here.sum()):,}</td>'
                f'<td class="num">{int(lengths[here].sum()):,}</td>'
                f"<td>{spread}</td></tr>"
            )
        outside = int((~inside).sum())
        if outside:
            class_rows.append(
                '<tr><td>outside the sensor</td><td class="num">–</td>'
                f'<td class="num">{outside:,}</td>'
                f'<td><span class="verdict error">error {outside:,}</span></td></tr>'
            )
        duplicates = int(verdicts.duplicate.sum())
        class_table = (
            '<table><thead><tr><th>runs in a row</th><th class="num">runs</th>'
            '<th class="num">pixels</th><th>verdicts (runs)</th></tr></thead><tbody>'
            + ("".join(class_rows) or '<tr><td colspan="4">no defects</td></tr>')
            + "</tbody></table>"
        )
        # the runs one by one: every run that is not a single correctable pixel, worst first
        rank = np.lexsort(
            (
                starts[interesting],
                run_rows[interesting],
                -lengths[interesting],
                -levels[interesting].astype(np.int64),
            )
        )
        listed = interesting[rank]
        shown = listed[:MAX_RUN_ROWS]
        detail_rows = []
        for run in shown.tolist():
            level = Verdict(int(levels[run]))
            start, end, length = int(starts[run]), int(ends[run]), int(lengths[run])
            kinds = ", ".join(k for k in KINDS if k in kind_sets.get(run, set()))
            detail_rows.append(
                f'<tr class="{level.label}"><td class="v">{_verdict_badge(level)}</td>'
                f'<td class="num">{int(run_rows[run])}</td>'
                f'<td class="num">{start}–{end}</td>'
                f'<td class="num">{length:,}</td><td>{_e(kinds)}</td>'
                f"<td>{_e(verdicts.reason(int(worst[run])))}</td></tr>"
            )
        more = listed.size - shown.size
        detail = (
            '<div class="scroll"><table><thead><tr><th>verdict</th><th class="num">row</th>'
            '<th class="num">columns</th><th class="num">length</th><th>kinds</th>'
            "<th>reason</th></tr></thead><tbody>"
            + ("".join(detail_rows) or '<tr><td colspan="6">none</td></tr>')
            + "</tbody></table></div>"
        )
        notes = []
        if more:
            notes.append(f"{more:,} more runs not listed (worst first, then longest).")
        if duplicates:
            notes.append(f"{duplicates:,} duplicate entries (uploaded once) are counted once.")
        note = f'<p class="note">{_e(" ".join(notes))}</p>' if notes else ""
        return (
            '<p class="note">A run is a stretch of consecutive defective pixels in one row. '
            f"{_e(self.verdicts.rules.description)}. Green: ok, yellow: warn (allowed, not "
            "recommended), red: error (cannot be corrected).</p>"
            f"<h3>By length</h3>{class_table}"
            f"<h3>Runs and problems ({listed.size:,})</h3>{detail}{note}"
        )

    # previews --------------------------------------------------------------------------------

    def previews(self) -> str:
        from ..preview import render_preview

        height, width = self.analysis.shape
        defects = self.defects
        inside = (defects.rows < height) & (defects.columns < width)
        if not inside.all():
            defects = defects.take(np.flatnonzero(inside))
        if not len(defects):
            return '<p class="note">No defects on the sensor to preview.</p>'
        images = _mean_images(self.analysis)
        rules = self.verdicts.rules
        method = "left" if rules.name == "av" else "mean"
        plans: list[tuple[str, np.ndarray, list[tuple[int, int]] | None, int]] = []
        # Most kinds show in the dark; dark and bright pixels only under light, so the
        # bright mean shows the strongest of those (or everything, without darks).
        if "dark" in images:
            plans.append(("dark", images["dark"], None, 4))
        if "bright" in images:
            places = _light_places(defects) if "dark" in images else None
            if places is None or places:
                plans.append(("bright", images["bright"], places, 4))
        if not plans:
            role, image = next(iter(images.items()))
            plans.append((role, image, None, 4))
        figures = []
        for role, image, places, crops in plans:
            preview = render_preview(
                image,
                defects,
                method=method,
                cfa=self.analysis.config.cfa,
                rules=rules,
                at=places,
                crops=crops,
                title=f"{role} stack, mean image",
            )
            buffer = io.BytesIO()
            preview.image.save(buffer, format="PNG")
            w, h = preview.size
            picture = _img(buffer.getvalue(), f"before and after, {role} mean", width=w, height=h)
            figures.append(
                f"<figure>{picture}"
                f"<figcaption>{_e(role.capitalize())} mean image: as recorded (don't mask), "
                f"after the camera's correction ({_e(_METHOD_TEXT[method])}), and with the "
                "listed pixels painted in their verdict colour.</figcaption></figure>"
            )
        return (
            '<p class="note">Crops of the worst places, side by side as the ARRI Reference '
            "Tool shows them: don't mask / mask / highlight.</p>" + "".join(figures)
        )

    # sweep and scores -------------------------------------------------------------------------

    def sweep(self, result: SweepResult) -> str:
        parts = [
            f"<figure>{_img(figure_png(count_figure(result)), 'defect counts against threshold')}"
            "<figcaption>Defective pixels against the pixel threshold (log scale); only the "
            "pixel threshold moves, so counts per kind can shift between kinds (a pixel on a "
            "bad column is 'hot' below the column's deviation).</figcaption></figure>"
        ]
        if result.scores is not None:
            parts.append(
                f"<figure>{_img(figure_png(score_figure(result)), 'scores against threshold')}"
                "<figcaption>Precision, recall and F1 against the truth, pixel by pixel; "
                "kind agreement: the share of the truth pixels found that got their true "
                "kind.</figcaption></figure>"
            )
        kinds = [k for k in SWEEP_KINDS if result.count(k).any()]
        best = result.best
        head = "".join(f'<th class="num">{_swatch(k)}</th>' for k in kinds)
        scored = result.scores is not None
        if scored:
            head += (
                '<th class="num">precision</th><th class="num">recall</th>'
                '<th class="num">F1</th><th class="num">kind agr.</th>'
            )
        body = []
        for i, threshold in enumerate(result.thresholds):
            cells = "".join(f'<td class="num">{int(result.count(k)[i]):,}</td>' for k in kinds)
            if scored:
                overall = result.scores[i].overall
                cells += "".join(
                    f'<td class="num">{_fraction(v)}</td>'
                    for v in (
                        overall.precision,
                        overall.recall,
                        overall.f1,
                        overall.kind_agreement,
                    )
                )
            css = ' class="best"' if best is not None and best.index == i else ""
            body.append(
                f'<tr{css}><td class="num">{_e(threshold)}</td>'
                f'<td class="num">{int(result.total[i]):,}</td>{cells}</tr>'
            )
        parts.append(
            '<div class="scroll"><table class="compact"><thead><tr>'
            '<th class="num">threshold</th>'
            f'<th class="num">total</th>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>"
        )
        if best is not None:
            parts.append(
                f'<p class="note">Best threshold (highest F1, ties to the highest kind '
                f"agreement, then the middle of the tied range {_e(best.tied_from)} – "
                f"{_e(best.tied_to)}): <strong>{_e(best.threshold)}</strong>, F1 "
                f"{_pct(best.f1)}.</p>"
            )
        return "\n".join(parts)

    def scores(self, scored: Score) -> str:
        rows = []
        entries = [("all kinds", scored.overall), *list(scored.per_kind.items())]
        for name, part in entries:
            label = _swatch(name) if name in KIND_COLOURS else f"<strong>{_e(name)}</strong>"
            rows.append(
                f'<tr><td>{label}</td><td class="num">{part.truth:,}</td>'
                f'<td class="num">{part.found:,}</td>'
                f'<td class="num">{part.true_positive_truth:,}</td>'
                f'<td class="num">{part.false_positive:,}</td>'
                f'<td class="num">{part.false_negative:,}</td>'
                f'<td class="num">{_pct(part.precision)}</td>'
                f'<td class="num">{_pct(part.recall)}</td>'
                f'<td class="num">{_pct(part.f1)}</td>'
                f'<td class="num">{_pct(part.kind_agreement)}</td></tr>'
            )
        confusion = sorted(scored.confusion.items(), key=lambda item: -item[1])
        mixed = [(t, f, n) for (t, f), n in confusion if t != f]
        confusion_rows = (
            "".join(
                f'<tr><td>{_e(t)}</td><td>{_e(f)}</td><td class="num">{n:,}</td></tr>'
                for t, f, n in mixed[:40]
            )
            or '<tr><td colspan="3">every pixel found got its true kind</td></tr>'
        )
        return (
            f'<p class="note">The defects shown (threshold {_e(self.threshold)}) against the '
            "truth, pixel by pixel. Truth found: truth pixels of the kind found with any "
            "kind (recall = truth found / truth); false positive: pixels found as the kind "
            "that are not in the truth (precision = 1 - false positive / found as kind); kind "
            "agreement: the share of the truth found that got its true kind.</p>"
            '<div class="scroll"><table><thead><tr><th>kind</th><th class="num">truth</th>'
            '<th class="num">found as kind</th><th class="num">truth found</th>'
            '<th class="num">false positive</th><th class="num">missed</th>'
            '<th class="num">precision</th><th class="num">recall</th><th class="num">F1</th>'
            '<th class="num">kind agreement</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table></div>"
            "<h3>Kinds confused, missed or spurious</h3>"
            '<table><thead><tr><th>truth</th><th>found as</th><th class="num">pixels</th>'
            f"</tr></thead><tbody>{confusion_rows}</tbody></table>"
        )


_METHOD_TEXT = {
    "left": "left neighbour: a pixel takes the value of the nearest active pixel to its "
    "left; red entries are not uploaded, so not corrected",
    "mean": "interpolation from the neighbours",
}

_VERDICT_TEXT = {
    Verdict.OK: "correctable",
    Verdict.WARN: "allowed but not recommended (asks for confirmation)",
    Verdict.ERROR: "cannot be corrected (ignored on upload)",
}


def _exposure(exposure_us: float | None) -> str:
    if not exposure_us:
        return "?"
    if exposure_us >= 1e6:
        return f"{exposure_us / 1e6:g} s"
    if exposure_us >= 1e3:
        return f"{exposure_us / 1e3:g} ms"
    return f"{exposure_us:g} µs"


def _short(label: str, limit: int = 60) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


# -- preview images ---------------------------------------------------------------------------


def _mean_images(analysis: DetectionAnalysis) -> dict[str, np.ndarray]:
    """The rounded mean image of the first stack of each role (what previews show)."""
    out = {}
    for role, group in analysis.analyses.items():
        if group:
            stats = group[0].stats
            mean = np.rint(stats.total / float(stats.n_frames))
            out[role] = mean.astype(np.uint16 if stats.bit_depth > 8 else np.uint8)
    return out


def _light_places(defects: DefectList, count: int = 3) -> list[tuple[int, int]]:
    """The strongest ``dark`` and ``bright`` pixels, at least a crop apart."""
    codes = defects.kind_codes
    wanted = np.flatnonzero((codes == KINDS.index("dark")) | (codes == KINDS.index("bright")))
    if not wanted.size:
        return []
    strength = defects.evidence.get("bright_deviation")
    if strength is not None:
        wanted = wanted[np.argsort(-np.nan_to_num(np.abs(strength[wanted])), kind="stable")]
    places: list[tuple[int, int]] = []
    for index in wanted.tolist():
        row, column = int(defects.rows[index]), int(defects.columns[index])
        if all(abs(row - r) > 21 or abs(column - c) > 21 for r, c in places):
            places.append((row, column))
        if len(places) >= count:
            break
    return places
