"""Before/after preview of a correction: crops of the worst places in three views.

Like the ARRI Reference Tool's modes, each place is shown three times, side by side:

``don't mask``
    The image as recorded.
``mask``
    The image after the correction simulation (:mod:`fastdefect.correction`).
``highlight``
    The corrected image with every listed pixel painted in its verdict colour: green
    corrected, amber corrected but not recommended (a ``left`` run of 5 to 8, or a dense
    cluster for an interpolating camera), red not corrected.

Places are chosen automatically (:func:`choose_sites`) so that a few crops show every
kind of trouble: taking turns, the largest uncorrected cluster, the largest one with a
warning, the largest corrected cluster or run, and the strongest corrected single pixel
(by the list's deviation evidence when it has some, else measured on the image); each
place at most once. Or give the places: ``at=[(row, column), ...]``.

Display: raw dark frames sit near black, so each crop is stretched on its own: the median
+- 4 robust sigmas (1.4826 x MAD) of its *unlisted* pixels map to 20-80 % grey, so the
background noise is visible, a faint line or gradient still shows, and defects clip to
white (hot, stuck high) or black (dead, stuck low). On a Bayer sensor each colour plane
is stretched on its own (no checkerboard; a defect shows against its own colour). The
same stretch is used for the three views of a place. Crops are enlarged by pixel
repetition (nearest neighbour) so every sensor pixel is a visible square.

Rendering needs Pillow (``pip install 'fastdefect[plot]'``); it is imported on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .correction import CorrectionPlan, check_list_fits, plan_correction, uncorrected_reason
from .defects import KINDS, DefectList, cluster_labels
from .errors import InputError, import_optional
from .frames import FrameStack, open_stack
from .outputs import atomic_output, check_output_path
from .rules import ARRI_INTERPOLATING, AV_LEFT_NEIGHBOUR, RuleSet, Verdict, rule_set

__all__ = [
    "VERDICT_COLOURS",
    "VIEWS",
    "Preview",
    "PreviewSite",
    "choose_sites",
    "render_preview",
    "require_pillow",
    "write_preview",
]

#: The three views, left to right.
VIEWS = ("don't mask", "mask", "highlight")

#: Highlight colour per verdict level (ok, warn, error).
VERDICT_COLOURS: dict[int, tuple[int, int, int]] = {
    int(Verdict.OK): (46, 204, 113),
    int(Verdict.WARN): (243, 156, 18),
    int(Verdict.ERROR): (231, 76, 60),
}

_BACKGROUND = (28, 29, 33)
_PANEL_EDGE = (90, 92, 100)
_TEXT = (230, 231, 235)
_DIM_TEXT = (160, 162, 170)
_MARKER = (241, 196, 15)

_MARGIN = 16
_GAP = 14
_LABEL_WIDTH = 300
_HEADER_HEIGHT = 62
_VIEW_TITLE_HEIGHT = 24
_LINE_HEIGHT = 18
_MARKER_SIZE = 6
_PANEL_TARGET = 252  # pixels per panel side when the scale is automatic


@dataclass(frozen=True)
class PreviewSite:
    """One place of the preview.

    Attributes
    ----------
    row, column : int
        The pixel the place is about (a crop is centred on it where the image allows).
    top, left : int
        Image coordinates of the crop's first row and column.
    height, width : int
        Crop size in image pixels.
    level : int
        Worst verdict (:class:`fastdefect.rules.Verdict`) of the listed pixels of the
        place's cluster; ``-1`` for an ``at`` place without listed pixels.
    title, lines : str, list of str
        The label shown beside the crops.
    """

    row: int
    column: int
    top: int
    left: int
    height: int
    width: int
    level: int
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Preview:
    """A rendered preview: the RGB image and where everything is in it.

    Attributes
    ----------
    image : PIL.Image.Image
        The RGB picture.
    sites : list of PreviewSite
    scale : int
        Screen pixels per image pixel.
    panel_origins : list of list of (x, y)
        Top-left corner of each site's three panels, in :data:`VIEWS` order.
    plan : CorrectionPlan
        The correction that was shown.
    """

    image: Any
    sites: list[PreviewSite]
    scale: int
    panel_origins: list[list[tuple[int, int]]]
    plan: CorrectionPlan

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the picture in pixels."""
        return self.image.size

    def pixel_box(
        self, site: int, view: int | str, row: int, column: int
    ) -> tuple[int, int, int, int] | None:
        """Where image pixel ``(row, column)`` is drawn in a panel: ``(x0, y0, x1, y1)``
        (``x1``, ``y1`` exclusive), or None when it is outside that site's crop."""
        view_index = VIEWS.index(view) if isinstance(view, str) else int(view)
        place = self.sites[site]
        r, c = row - place.top, column - place.left
        if not (0 <= r < place.height and 0 <= c < place.width):
            return None
        x, y = self.panel_origins[site][view_index]
        s = self.scale
        return (x + c * s, y + r * s, x + (c + 1) * s, y + (r + 1) * s)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the picture as PNG, atomically."""
        with atomic_output(path, overwrite=overwrite) as tmp:
            self.image.save(tmp, format="PNG", optimize=True)
        return Path(path)


def require_pillow():
    """Pillow's ``Image``, ``ImageDraw`` and ``ImageFont``; a clear error when missing.

    Call it before long work whose result is a preview, so a missing extra is reported
    first (like :func:`fastdefect.plots.require_matplotlib`).
    """
    modules = ("PIL.Image", "PIL.ImageDraw", "PIL.ImageFont")
    return tuple(
        import_optional(name, extra="plot", purpose="the preview", package="Pillow")
        for name in modules
    )


# -- choosing the places -------------------------------------------------------------------


def _levels(plan: CorrectionPlan, defects: DefectList, rules: RuleSet) -> np.ndarray:
    """Verdict level per unique listed pixel (aligned with ``plan.keys``)."""
    levels = np.zeros(len(plan), np.uint8)
    if plan.method == "left":
        if plan.recommended_run is not None:
            levels[plan.run_lengths > plan.recommended_run] = Verdict.WARN
    elif len(plan):
        unique = DefectList(plan.rows, plan.columns)
        checked = rules.check(unique)
        levels = checked.levels.astype(np.uint8)
    levels[plan.status != 0] = Verdict.ERROR
    return levels


def _strength(plan: CorrectionPlan, defects: DefectList, image: np.ndarray) -> np.ndarray:
    """How strong each unique listed pixel is, in DN: the list's deviation evidence when
    it has some, else the deviation measured on the image."""
    from .detection import local_deviation

    strength = np.full(len(plan), np.nan)
    names = [n for n in defects.evidence_names if n.endswith("_deviation")]
    if names and len(defects) and len(plan):
        index, found = _plan_index(plan, defects)
        unique = defects.deduplicated()
        values = np.stack([np.abs(unique.evidence[n]) for n in names])
        has = found & ~np.all(np.isnan(values), axis=0)
        strength[index[has]] = np.nanmax(values[:, has], axis=0)
    missing = np.isnan(strength)
    if missing.any():
        rows, columns = plan.rows[missing], plan.columns[missing]
        strength[missing] = np.abs(local_deviation(image, rows, columns, cfa=plan.cfa))
    return strength


def _crop_window(centre: int, size: int, extent: int) -> int:
    """First index of a ``size`` window centred on ``centre`` and kept inside ``extent``."""
    return int(min(max(centre - size // 2, 0), extent - size))


def _describe_cluster(
    rows: np.ndarray, columns: np.ndarray, run: int, kinds: list[str], step: int
) -> str:
    """A cluster in words; on a Bayer sensor in pixels of its colour when it has one."""
    size = int(rows.size)
    one_colour = step == 2 and np.unique((rows % 2) * 2 + columns % 2).size == 1
    unit = step if one_colour else 1
    height = int(rows.max() - rows.min()) // unit + 1
    width = int(columns.max() - columns.min()) // unit + 1
    colour = " (one colour)" if one_colour else ""
    if size == 1:
        what = "single pixel"
    elif height == 1:
        what = f"run of {run} in a row{colour}" if run == size else f"{size} pixels in a row"
    elif width == 1:
        what = f"{size} pixels in a column{colour}"
    else:
        what = f"cluster of {size} pixels ({height} x {width}){colour}, longest run {run}"
    if kinds:
        what += " · " + ", ".join(kinds)
    return what


def choose_sites(
    image: np.ndarray,
    defects: DefectList,
    plan: CorrectionPlan,
    *,
    crops: int = 6,
    crop: int = 21,
    at: list[tuple[int, int]] | None = None,
    rules: RuleSet | None = None,
    levels: np.ndarray | None = None,
) -> list[PreviewSite]:
    """The places to show, worst first (see the module documentation).

    Parameters
    ----------
    image : 2-D array
        The uncorrected image (for measured strengths).
    defects : DefectList
        The list as given (kinds and evidence are used for the labels and ranking).
    plan : CorrectionPlan
        The correction of ``defects`` on ``image``.
    crops : int
        How many places at most (ignored with ``at``).
    crop : int
        Crop side in image pixels (clipped to the image).
    at : list of (row, column), optional
        Show these places instead of choosing.
    rules : RuleSet, optional
        For the verdict of an interpolating correction (default the ``arri`` rules).
    levels : ndarray, optional
        Verdict level per pixel of the plan, when already computed.
    """
    height, width = plan.shape
    crop_h, crop_w = min(crop, height), min(crop, width)
    if rules is None:
        rules = AV_LEFT_NEIGHBOUR if plan.method == "left" else ARRI_INTERPOLATING
    n = len(plan)
    rows, columns = plan.rows, plan.columns
    if levels is None:
        levels = _levels(plan, defects, rules)
    strength = _strength(plan, defects, image) if n else np.zeros(0)
    kind_of = _kinds_by_pixel(plan, defects)
    step = plan.step
    if n:
        # On a Bayer sensor cluster the 2 x 2 blocks: same-colour runs (every second
        # column) and lines of both colours of a column hang together.
        block_keys, inverse = np.unique(
            (rows // step) * (width // step + 1) + columns // step, return_inverse=True
        )
        block_rows, block_columns = np.divmod(block_keys, width // step + 1)
        labels = cluster_labels(block_rows, block_columns)[inverse.ravel()]
    else:
        labels = np.zeros(0, np.int64)

    def site_for(centre_row: int, centre_column: int, members: np.ndarray) -> PreviewSite:
        top = _crop_window(centre_row, crop_h, height)
        left = _crop_window(centre_column, crop_w, width)
        if members.size:
            level = int(levels[members].max())
            member_rows, member_columns = rows[members], columns[members]
            run = int(plan.run_lengths[members].max())
            kinds = sorted({kind_of[i] for i in members.tolist()} - {"unknown"}, key=KINDS.index)
            description = _describe_cluster(member_rows, member_columns, run, kinds, step)
            lines = [description, *_verdict_lines(plan, members, levels)]
            peak = float(np.nanmax(strength[members])) if members.size else float("nan")
            if np.isfinite(peak):
                lines.append(f"strongest deviation {peak:.0f} DN")
        else:
            level = -1
            lines = ["no listed pixel here"]
        title = f"row {centre_row}, column {centre_column}"
        return PreviewSite(
            centre_row, centre_column, top, left, crop_h, crop_w, level, title, lines
        )

    sites: list[PreviewSite] = []
    if at is not None:
        for row, column in at:
            if not (0 <= row < height and 0 <= column < width):
                raise InputError(f"--at {row},{column} is outside the {width} x {height} image")
            key = row * width + column
            position = int(np.searchsorted(plan.keys, key))
            if position < n and plan.keys[position] == key:
                members = np.flatnonzero(labels == labels[position])
            else:
                members = np.zeros(0, np.int64)
            sites.append(site_for(row, column, members))
        return sites
    if n == 0 or crops < 1:
        return sites

    n_clusters = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=n_clusters)
    worst = np.zeros(n_clusters, np.int64)
    np.maximum.at(worst, labels, levels.astype(np.int64))
    peak = np.full(n_clusters, -np.inf)
    np.maximum.at(peak, labels, np.nan_to_num(strength, nan=0.0))
    # Four queues, each worst first; the crops take turns between them.
    category = np.where(worst == Verdict.ERROR, 0, np.where(worst == Verdict.WARN, 1, 3))
    category[(category == 3) & (sizes > 1)] = 2
    by_size = np.lexsort((-peak, -sizes))
    by_strength = np.lexsort((-sizes, -peak))
    queues = [
        [int(c) for c in (by_strength if kind == 3 else by_size) if category[c] == kind]
        for kind in range(4)
    ]
    order = []
    for turn in range(max(len(q) for q in queues)):
        order.extend(q[turn] for q in queues if turn < len(q))
    chosen: list[tuple[int, int]] = []
    members_of = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for cluster in order:
        members = members_of[starts[cluster] : starts[cluster + 1]]
        member_rows, member_columns = rows[members], columns[members]
        centre = _cluster_centre(member_rows, member_columns)
        if any(
            abs(centre[0] - r) <= crop_h // 2 and abs(centre[1] - c) <= crop_w // 2
            for r, c in chosen
        ):
            continue
        chosen.append(centre)
        sites.append(site_for(centre[0], centre[1], members))
        if len(sites) >= crops:
            break
    return sites


def _cluster_centre(rows: np.ndarray, columns: np.ndarray) -> tuple[int, int]:
    """The member on the most crowded row and column together (the crossing of a bad row
    and column), ties broken by nearness to the middle of the bounding box (the middle of
    a run)."""
    _, row_index, row_counts = np.unique(rows, return_inverse=True, return_counts=True)
    _, column_index, column_counts = np.unique(columns, return_inverse=True, return_counts=True)
    crowd = row_counts[row_index.ravel()] + column_counts[column_index.ravel()]
    middle_row = (int(rows.min()) + int(rows.max())) / 2
    middle_column = (int(columns.min()) + int(columns.max())) / 2
    distance = np.abs(rows - middle_row) + np.abs(columns - middle_column)
    best = int(np.lexsort((distance, -crowd))[0])
    return int(rows[best]), int(columns[best])


def _kinds_by_pixel(plan: CorrectionPlan, defects: DefectList) -> list[str]:
    kinds = ["unknown"] * len(plan)
    if len(defects) and len(plan):
        index, found = _plan_index(plan, defects)
        names = defects.deduplicated().kinds
        for i, name in zip(index[found].tolist(), names[found].tolist(), strict=True):
            kinds[i] = name
    return kinds


def _plan_index(plan: CorrectionPlan, defects: DefectList) -> tuple[np.ndarray, np.ndarray]:
    """Where each entry of ``defects.deduplicated()`` is in ``plan.keys``, and whether it is
    there at all (entries outside the image are not)."""
    unique = defects.deduplicated()
    rows, columns = unique.rows.astype(np.int64), unique.columns.astype(np.int64)
    inside = (rows < plan.shape[0]) & (columns < plan.shape[1])
    keys = rows * plan.shape[1] + columns
    index = np.minimum(np.searchsorted(plan.keys, keys), len(plan) - 1)
    return index, inside & (plan.keys[index] == keys)


def _verdict_lines(plan: CorrectionPlan, members: np.ndarray, levels: np.ndarray) -> list[str]:
    uncorrected = members[plan.status[members] != 0]
    level = int(levels[members].max())
    if uncorrected.size:
        first = int(uncorrected[0])
        reason = uncorrected_reason(
            int(plan.status[first]),
            int(plan.run_lengths[first]),
            int(plan.run_starts[first]),
            plan.max_run,
            plan.step,
        )
        if uncorrected.size == members.size:
            return ["error: not corrected", reason]
        return [f"error: {uncorrected.size} of {members.size} not corrected", reason]
    if level == Verdict.WARN:
        if plan.method == "left":
            run = int(plan.run_lengths[members].max())
            return [
                f"warn: run of {run} corrected, but more than "
                f"{plan.recommended_run} in a row is not recommended"
            ]
        return ["warn: corrected, but a dense cluster blurs into a visible patch"]
    return [f"ok: corrected ({plan.method})"]


# -- rendering -----------------------------------------------------------------------------


def _stretch(crop: np.ndarray, listed: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Display level and spread per pixel of a crop (maps of the crop's shape).

    Each colour plane's unlisted pixels give a level (median) and a spread (4 robust
    sigmas, 1.4826 x MAD, at least 2 DN); see :func:`_to_grey`. Each plane is stretched on
    its own, so a Bayer mosaic shows no checkerboard and a defect shows against its own
    colour.
    """
    level = np.empty(crop.shape)
    spread = np.empty(crop.shape)
    for r0 in range(min(step, crop.shape[0])):
        for c0 in range(min(step, crop.shape[1])):
            plane = crop[r0::step, c0::step].astype(np.float64)
            good = ~listed[r0::step, c0::step]
            values = plane[good] if good.any() else plane.ravel()
            middle = float(np.median(values))
            sigma = 1.4826 * float(np.median(np.abs(values - middle)))
            level[r0::step, c0::step] = middle
            spread[r0::step, c0::step] = max(4.0 * sigma, 2.0)  # flat: a few DN either side
    return level, spread


def _to_grey(crop: np.ndarray, level: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``level -+ spread`` to 20-80 % grey (uint8); defects beyond clip to black/white."""
    scaled = (crop.astype(np.float64) - level) / spread * 0.3 + 0.5
    return (np.clip(scaled, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def _enlarge(rgb: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)


def _as_image(image: Any, bit_depth: int | None) -> tuple[np.ndarray, FrameStack]:
    """The frame to preview: a single frame, or the rounded mean of a stack."""
    if isinstance(image, np.ndarray):
        stack = FrameStack.from_array(image, bit_depth=bit_depth, label="image array")
    elif isinstance(image, FrameStack):
        stack = image
    else:
        stack = open_stack(image, bit_depth=bit_depth)
    if stack.n_frames == 1:
        return np.array(next(iter(stack))), stack
    total = np.zeros(stack.shape, np.uint64)
    for frame in stack.frames():
        total += frame
    n = np.uint64(stack.n_frames)
    mean = (total + n // np.uint64(2)) // n
    return mean.astype(stack.dtype), stack


def render_preview(
    image: Any,
    defects: DefectList,
    *,
    method: str = "left",
    cfa: str | None = None,
    rules: RuleSet | str | None = None,
    at: list[tuple[int, int]] | None = None,
    crops: int = 6,
    crop: int = 21,
    scale: int | None = None,
    bit_depth: int | None = None,
    title: str | None = None,
) -> Preview:
    """Render before/after crops of the worst places of a correction.

    Parameters
    ----------
    image : path, FrameStack or array
        A frame, or a stack (its rounded per-pixel mean is shown).
    defects : DefectList
        The list to apply.
    method : {"left", "mean", "median"}
    cfa : str, optional
        Bayer pattern (default from the file's metadata).
    rules : RuleSet or str, optional
        Run limits of ``left`` (default ``av``) / cluster verdicts of ``mean``/``median``
        (default ``arri``).
    at : list of (row, column), optional
        Places to show instead of the automatic choice.
    crops : int
        Places to choose (default 6).
    crop : int
        Crop side in image pixels (default 21).
    scale : int, optional
        Screen pixels per image pixel; default about 250 pixels per panel.
    bit_depth : int, optional
    title : str, optional
        Header text (default: the image's name).

    Returns
    -------
    Preview
    """
    Image, ImageDraw, ImageFont = require_pillow()
    if crop < 1 or crop > 512:
        raise InputError(f"the crop size must be 1..512 pixels, got {crop}")
    if scale is not None and not 1 <= scale <= 64:
        raise InputError(f"the scale must be 1..64, got {scale}")
    frame, stack = _as_image(image, bit_depth)
    if cfa is None:
        cfa = stack.metadata.get("cfa")
    if isinstance(rules, str):
        rules = rule_set(rules)
    check_list_fits(defects, frame.shape)
    plan = plan_correction(
        defects, frame.shape, method=method, cfa=cfa, rules=rules if method == "left" else None
    )
    corrected = plan.apply(frame)
    if rules is None:
        rules = AV_LEFT_NEIGHBOUR if plan.method == "left" else ARRI_INTERPOLATING
    levels = _levels(plan, defects, rules)
    sites = choose_sites(
        frame, defects, plan, crops=crops, crop=crop, at=at, rules=rules, levels=levels
    )
    crop_h, crop_w = min(crop, frame.shape[0]), min(crop, frame.shape[1])
    if scale is None:
        scale = int(max(2, min(24, _PANEL_TARGET // max(crop_h, crop_w))))
    panel_w, panel_h = crop_w * scale, crop_h * scale
    label_lines = max([2 + len(site.lines) for site in sites] or [2])
    row_h = max(panel_h, label_lines * _LINE_HEIGHT + 8)
    x0 = _MARGIN + _LABEL_WIDTH
    width = x0 + 3 * panel_w + 2 * _GAP + _MARGIN
    y0 = _MARGIN + _HEADER_HEIGHT + _VIEW_TITLE_HEIGHT
    height = y0 + max(len(sites), 1) * (row_h + _GAP) - _GAP + _MARGIN
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = _BACKGROUND

    mask = np.zeros(frame.shape, bool)
    mask.reshape(-1)[plan.keys] = True
    level_map = np.full(frame.shape, -1, np.int8)
    level_map.reshape(-1)[plan.keys] = levels.astype(np.int8)
    origins: list[list[tuple[int, int]]] = []
    for index, site in enumerate(sites):
        top = y0 + index * (row_h + _GAP)
        window = (slice(site.top, site.top + crop_h), slice(site.left, site.left + crop_w))
        before, after, listed = frame[window], corrected[window], mask[window]
        # One stretch for the three views, from the uncorrected crop's unlisted pixels
        # (which the correction does not change).
        level, spread = _stretch(before, listed, plan.step)
        grey_before = _to_grey(before, level, spread)
        grey_after = _to_grey(after, level, spread)
        highlight = np.repeat(grey_after[:, :, None], 3, axis=2)
        for level, colour in VERDICT_COLOURS.items():
            highlight[level_map[window] == level] = colour
        views = [
            np.repeat(grey_before[:, :, None], 3, axis=2),
            np.repeat(grey_after[:, :, None], 3, axis=2),
            highlight,
        ]
        site_origins = []
        for view, rgb in enumerate(views):
            left = x0 + view * (panel_w + _GAP)
            canvas[top : top + panel_h, left : left + panel_w] = _enlarge(rgb, scale)
            site_origins.append((left, top))
        origins.append(site_origins)

    picture = Image.fromarray(canvas, mode="RGB")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    big = ImageFont.load_default(size=17)
    report = plan.report()
    header = title or stack.label
    if stack.n_frames > 1:
        header += f" (mean of {stack.n_frames} frames)"
    draw.text((_MARGIN, _MARGIN), header, fill=_TEXT, font=big)
    summary = (
        f"{plan.method} correction{' per colour plane (' + plan.cfa + ')' if plan.cfa else ''}"
        f" · {report.pixels} listed pixels: {report.corrected} corrected, "
        f"{report.uncorrected} not corrected"
    )
    draw.text((_MARGIN, _MARGIN + 24), summary, fill=_DIM_TEXT, font=font)
    _legend(draw, small, _MARGIN, _MARGIN + 44, plan)
    for view, name in enumerate(VIEWS):
        left = x0 + view * (panel_w + _GAP)
        text = f"{name} ({plan.method})" if name == "mask" else name
        draw.text((left, y0 - _VIEW_TITLE_HEIGHT + 4), text, fill=_TEXT, font=font)
    for index, site in enumerate(sites):
        top = y0 + index * (row_h + _GAP)
        colour = VERDICT_COLOURS.get(site.level, _DIM_TEXT)
        draw.rectangle(
            [_MARGIN, top, _MARGIN + 4, top + min(row_h, max(panel_h, 60)) - 1], fill=colour
        )
        draw.text((_MARGIN + 12, top), f"#{index + 1}  {site.title}", fill=_TEXT, font=font)
        line_y = top + _LINE_HEIGHT + 4
        for number, line in enumerate(site.lines):
            is_verdict = line.startswith(("ok:", "warn:", "error:"))
            fill = colour if is_verdict else (_DIM_TEXT if number else _TEXT)
            for part in _wrap(draw, line, small, _LABEL_WIDTH - 24):
                draw.text((_MARGIN + 12, line_y), part, fill=fill, font=small)
                line_y += _LINE_HEIGHT - 2
        for view in range(3):
            left, panel_top = origins[index][view]
            draw.rectangle(
                [left - 1, panel_top - 1, left + panel_w, panel_top + panel_h], outline=_PANEL_EDGE
            )
            _markers(draw, site, left, panel_top, scale)
    return Preview(picture, sites, scale, origins, plan)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    words, lines, current = text.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _markers(draw: Any, site: PreviewSite, left: int, top: int, scale: int) -> None:
    """Small triangles outside the panel's top and left edges pointing at the site."""
    x = left + (site.column - site.left) * scale + scale // 2
    y = top + (site.row - site.top) * scale + scale // 2
    m = _MARKER_SIZE
    draw.polygon([(x - m, top - m - 3), (x + m, top - m - 3), (x, top - 2)], fill=_MARKER)
    draw.polygon([(left - m - 3, y - m), (left - m - 3, y + m), (left - 2, y)], fill=_MARKER)


def _legend(draw: Any, font: Any, x: int, y: int, plan: CorrectionPlan) -> None:
    warn = (
        f"run of {(plan.recommended_run or 0) + 1}-{plan.max_run} (not recommended)"
        if plan.method == "left" and plan.recommended_run and plan.max_run
        else "dense cluster"
    )
    entries = [
        (VERDICT_COLOURS[int(Verdict.OK)], "corrected"),
        (VERDICT_COLOURS[int(Verdict.WARN)], f"corrected, {warn}"),
        (VERDICT_COLOURS[int(Verdict.ERROR)], "not corrected"),
    ]
    draw.text((x, y), "highlight:", fill=_DIM_TEXT, font=font)
    x += int(draw.textlength("highlight:", font=font)) + 8
    for colour, text in entries:
        draw.rectangle([x, y + 2, x + 10, y + 12], fill=colour)
        draw.text((x + 15, y), text, fill=_DIM_TEXT, font=font)
        x += 15 + int(draw.textlength(text, font=font)) + 16


def write_preview(
    path: str | os.PathLike,
    image: Any,
    defects: DefectList,
    *,
    overwrite: bool = False,
    **options: Any,
) -> Preview:
    """Render a preview (see :func:`render_preview` for ``options``) and save it as PNG.

    The output path is checked before any work is done; the PNG is written atomically.
    """
    check_output_path(path, overwrite=overwrite)
    preview = render_preview(image, defects, **options)
    preview.save(path, overwrite=overwrite)
    return preview
