"""Every figure of the report, drawn from already computed summaries.

Plotting never computes: each function draws the dataclasses of
:mod:`custseg.distributions` (or small DataFrames) it is given, with at most
trivial reshaping. Figures are :class:`matplotlib.figure.Figure` objects
created directly (no pyplot state, no current axes) and rendered with the Agg
backend by :func:`render_png` / :func:`render_svg`.

One style for all figures: :func:`style` (seaborn's ``whitegrid`` theme and
``notebook`` context written out as rcParams, so that drawing never imports
seaborn and scipy, a fixed colour-blind-safe palette, DejaVu Sans, 110 dpi),
applied by every ``plot_*`` function. Segments keep one colour in every figure
(:func:`segment_colors`). Every word comes from the
:class:`~custseg.i18n.Translator` passed as ``tr``.

Cost: the report draws about sixteen figures, so drawing is kept lean: one
Agg draw per figure (:func:`render_png`), 256-colour PNGs, box plots of many
segments as a few collections instead of ``Axes.bxp``'s five artists per box,
no colour bars (values are printed in the cells), rasterised scatter points,
and a layout engine of its own (:class:`_TextMarginLayout`: each panel's
margins sized from the texts around it, measured once at draw time) in place
of constrained layout, which measured every panel twice and cost a fifth of
the drawing.

Conventions: ``plot_x(data, *, tr, ax=None) -> Axes`` for one-panel figures
(a new figure is made when ``ax`` is None; get it with ``ax.figure``) and
``plot_x(data, *, tr, fig=None) -> Figure`` for multi-panel ones.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.layout_engine import LayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator
from matplotlib.transforms import Bbox

from custseg import schema as S
from custseg.distributions import (
    LINE_VARIABLES,
    OTHER,
    UNKNOWN,
    BoxStats,
    CountryTotals,
    FeatureHistograms,
    Histogram,
    MonthlyTotals,
)
from custseg.errors import ColumnError
from custseg.i18n import Translator

logger = logging.getLogger(__name__)

__all__ = [
    "CLUSTER_PALETTE",
    "DPI",
    "NOISE_COLOR",
    "PALETTE",
    "RFM_COLORS",
    "plot_box",
    "plot_boxplots",
    "plot_center_heatmap",
    "plot_countries",
    "plot_crosstab",
    "plot_elbow",
    "plot_feature_histograms",
    "plot_findings",
    "plot_histogram",
    "plot_k_distance",
    "plot_k_scores",
    "plot_line_histograms",
    "plot_monthly",
    "plot_rfm_map",
    "plot_segment_boxplots",
    "plot_segment_scatter",
    "plot_segment_shares",
    "plot_silhouette_diagram",
    "render_png",
    "render_svg",
    "isolated_style",
    "segment_colors",
    "style",
]

PALETTE = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)
"""seaborn's ``colorblind`` palette, fixed so colours never depend on state."""

DPI = 110
"""Resolution of PNG figures."""

_PNG_COMPRESSION = 3
"""zlib level of PNG files: 27 ms for the report's 16 figures (362 KB), 69 ms at 6 (298 KB)."""

_BAR = PALETTE[0]
_ACCENT = PALETTE[3]
_MUTED = PALETTE[7]
_TEXT = "#262626"

# Figure sizes in inches (width, height).
_FULL = 9.0


# seaborn's "whitegrid" style with the "notebook" context at font_scale 0.85,
# written out: importing seaborn (and scipy.stats behind it) costs more than
# drawing half of the report's figures.
_SEABORN_WHITEGRID_NOTEBOOK: dict[str, Any] = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.facecolor": "white",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 10.2,
    "font.size": 10.2,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "legend.fontsize": 9.35,
    "legend.title_fontsize": 10.2,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.labelsize": 9.35,
    "ytick.labelsize": 9.35,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1.0,
    "ytick.minor.width": 1.0,
}


@functools.cache
def _rc() -> dict[str, Any]:
    rc: dict[str, Any] = dict(_SEABORN_WHITEGRID_NOTEBOOK)
    rc.update(
        {
            "font.family": ["sans-serif"],
            "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "sans-serif"],
            "axes.prop_cycle": cycler(color=list(PALETTE)),
            "axes.titlesize": 10.5,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.titley": 1.0,  # fixed title position: no costly automatic placement
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 1.0,
            "grid.linewidth": 0.8,
            "grid.color": "#e3e3e3",
            "xtick.bottom": True,
            "ytick.left": True,
            "xtick.major.size": 3.5,
            "ytick.major.size": 3.5,
            "xtick.minor.size": 2.0,
            "ytick.minor.size": 2.0,
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "legend.frameon": False,
            "hatch.linewidth": 0.8,
            "svg.hashsalt": "custseg",  # deterministic SVG ids
            "text.parse_math": False,  # "$" in data text (countries, names) is literal
        }
    )
    return rc


@contextmanager
def style() -> Iterator[None]:
    """Context manager applying the report's figure style (and nothing global).

    Examples
    --------
    >>> with style():  # doctest: +SKIP
    ...     ax = plot_elbow(table, chosen_k=4, knee=4, tr=Translator("en"))
    """
    import matplotlib as mpl

    with mpl.rc_context(rc=_rc()):
        yield


_NOT_STYLE = ("backend", "backend_fallback", "interactive", "toolbar")


@functools.cache
def _isolated_rc() -> dict[str, Any]:
    import matplotlib as mpl

    rc = {k: v for k, v in mpl.rcParamsDefault.items() if k not in _NOT_STYLE}
    rc.update(_rc())
    return rc


@contextmanager
def isolated_style() -> Iterator[None]:
    """:func:`style` on top of matplotlib's defaults, whatever the global rcParams.

    A figure drawn inside is the same bytes in any process (a worker, or a
    caller who changed ``matplotlib.rcParams``); entered once per figure.
    """
    import matplotlib as mpl

    with mpl.rc_context(rc=_isolated_rc()):
        yield


# ---------------------------------------------------------------------------
# layout: margins sized from the texts around each panel
# ---------------------------------------------------------------------------

_PAD_POINTS = 3.0
"""Space (points) between the figure edge and the outermost text, and on each
side of a panel's texts (constrained layout's ``w_pad``/``h_pad``)."""

_PANEL_SPACE = 0.02
"""Space between the texts of two neighbouring panels, as a fraction of the
figure's width or height shared by the gaps, when more than twice the padding
(constrained layout's ``wspace``/``hspace``)."""

_MIN_PANEL_SHARE = 0.1
"""The panels keep at least this share of the figure's width or height, however
long the texts around them (beyond, texts are cut rather than panels vanish)."""

# Legend location code -> the point of its anchor box (as fractions) a legend is
# pinned to, with the same point of the legend's own box (matplotlib's codes).
_LEGEND_ANCHORS = {
    1: (1.0, 1.0),
    2: (0.0, 1.0),
    3: (0.0, 0.0),
    4: (1.0, 0.0),
    5: (1.0, 0.5),
    6: (0.0, 0.5),
    7: (1.0, 0.5),
    8: (0.5, 0.0),
    9: (0.5, 1.0),
    10: (0.5, 0.5),
}
_OUTSIDE = {"lower": 2, "upper": 3, "left": 0, "right": 1}  # -> edge (left, right, bottom, top)


class _Element:
    """Something drawn around a panel, measured once, and the point it hangs from.

    ``rel`` is its extent relative to its anchor (x0, x1, y0, y1 in pixels):
    fixed, since moving a panel moves a text without changing its size. The
    anchor is linear in the panel's geometry, ``origin + f * size + offset``
    per dimension; ``f`` and ``offset`` are fitted from the anchor seen at one
    or two geometries (:meth:`fit`), so the element's extent is known for any
    geometry without laying text out again.
    """

    __slots__ = ("anchor", "artist", "f", "kind", "offset", "rel")

    def __init__(self, artist: Any, kind: str, extent: Any, anchor: tuple[float, float]) -> None:
        self.artist = artist
        # "text", "legend", "low corner" / "high corner" (of another artist's
        # box, measured again), "pinned" (f and offset given)
        self.kind = kind
        self.anchor = anchor
        self.rel = (
            extent.x0 - anchor[0],
            extent.x1 - anchor[0],
            extent.y0 - anchor[1],
            extent.y1 - anchor[1],
        )
        self.f = [0.0, 0.0]
        self.offset = [0.0, 0.0]

    def where(self, renderer: Any) -> tuple[float, float]:
        """The anchor now (display pixels)."""
        artist = self.artist
        if self.kind == "text":
            if hasattr(artist, "update_positions"):  # an Annotation: its transform is cached
                artist.update_positions(renderer)
            x, y = artist.get_transform().transform(artist.get_unitless_position())
            return (float(x), float(y))
        if self.kind == "legend":
            return _legend_anchor(artist) or self.anchor
        if self.kind in ("low corner", "high corner"):
            extent = artist.get_tightbbox(renderer)
            return (extent.x0, extent.y0) if self.kind == "low corner" else (extent.x1, extent.y1)
        return self.anchor

    def fit(self, seen: tuple[float, ...], now: tuple[float, ...] | None, renderer: Any) -> None:
        """Fit ``f``/``offset`` from the anchor at geometry ``seen`` (and ``now``).

        ``seen`` and ``now`` are panel geometries (x0, width, y0, height). With
        one geometry, or one where the panel kept its size, the anchor is
        taken to scale with the panel.
        """
        if self.kind == "pinned":
            return
        later = self.where(renderer) if now is not None else None
        for dim in (0, 1):
            origin, size = seen[2 * dim], seen[2 * dim + 1]
            first = self.anchor[dim] - origin
            if later is not None and abs(now[2 * dim + 1] - size) > 0.5:
                f = ((later[dim] - now[2 * dim]) - first) / (now[2 * dim + 1] - size)
            else:
                f = first / size if size else 0.0
            self.f[dim] = f
            self.offset[dim] = first - f * size

    def span(self, dim: int, size: float) -> tuple[float, float]:
        """Its extent along ``dim`` relative to the panel origin, for a panel of ``size``."""
        base = self.f[dim] * size + self.offset[dim]
        return base + self.rel[2 * dim], base + self.rel[2 * dim + 1]


def _pinned(f: tuple[float, float], offset: tuple[float, float], rel: tuple) -> _Element:
    """An element whose anchor model is known: ``rel`` is (x0, x1, y0, y1) around it."""
    item = _Element(None, "pinned", Bbox.from_extents(rel[0], rel[2], rel[1], rel[3]), (0.0, 0.0))
    item.f, item.offset = list(f), list(offset)
    return item


def _legend_anchor(legend: Any) -> tuple[float, float] | None:
    """Display point a legend is pinned to; None when it places itself ('best')."""
    loc = legend._loc  # the location code or (x, y); matplotlib has no public getter
    if isinstance(loc, tuple):
        fx, fy = loc
    elif loc in _LEGEND_ANCHORS:
        fx, fy = _LEGEND_ANCHORS[loc]
    else:
        return None
    box = legend.get_bbox_to_anchor()
    return (box.x0 + fx * box.width, box.y0 + fy * box.height)


class _AxisLabel:
    """An axis label, which ``Axis.draw`` places beyond the tick labels of its side."""

    __slots__ = ("across", "along", "gap", "out", "side", "ticks")

    def __init__(self, along: _Element, across: int, side: int) -> None:
        self.along = along  # the label, anchored where it is now (its extent around it)
        self.across = across  # the dimension it is stacked in: 1 for an x label
        self.side = side  # -1: below / left of the panel, +1: above / right
        self.ticks: list[_Element] = []  # the tick labels it goes beyond
        self.out = 0.0  # tick marks beyond the panel edge on that side (pixels)
        self.gap = 0.0  # labelpad (pixels)


class _Panel:
    """An Axes of the figure's grid and what is drawn around it."""

    __slots__ = ("ax", "cells", "items", "labels", "locs", "marks", "seen")

    def __init__(self, ax: Axes) -> None:
        spec = ax.get_subplotspec()
        self.ax = ax
        self.cells = (spec.colspan, spec.rowspan)
        self.items: list[_Element] = []
        self.labels: list[_AxisLabel] = []
        self.marks = [0.0, 0.0, 0.0, 0.0]  # tick marks beyond each edge: left, right, bottom, top
        self.locs: list[np.ndarray] = []
        self.seen = self.geometry()

    def geometry(self) -> tuple[float, float, float, float]:
        box = self.ax.bbox
        return (box.x0, box.width, box.y0, box.height)

    def span(self, dim: int, size: float) -> tuple[float, float]:
        """Lowest and highest coordinate (pixels from the panel's origin) reached
        along ``dim`` by what is drawn around the panel, for a panel of ``size``."""
        lo, hi = -self.marks[2 * dim], size + self.marks[2 * dim + 1]
        for item in self.items:
            a, b = item.span(dim, size)
            lo, hi = min(lo, a), max(hi, b)
        for label in self.labels:
            if label.across != dim:
                a, b = label.along.span(dim, size)
            else:  # its anchor goes ``gap`` beyond the tick labels (or marks) of its side
                rel = label.along.rel
                if label.side < 0:
                    edge = min([-label.out] + [t.span(dim, size)[0] for t in label.ticks])
                    anchor = edge - label.gap
                else:
                    edge = max([size + label.out] + [t.span(dim, size)[1] for t in label.ticks])
                    anchor = edge + label.gap
                a, b = anchor + rel[2 * dim], anchor + rel[2 * dim + 1]
            lo, hi = min(lo, a), max(hi, b)
        return lo, hi

    def measure(self, renderer: Any) -> None:
        """Measure, once, every text and legend drawn around the panel."""
        from matplotlib.axis import Axis
        from matplotlib.legend import Legend
        from matplotlib.spines import Spine
        from matplotlib.text import Text

        ax = self.ax
        dpi = ax.get_figure(root=True).dpi
        self.items, self.labels, self.locs = [], [], []
        self.marks = [0.0, 0.0, 0.0, 0.0]
        self.seen = self.geometry()
        if ax.axison:
            for across, axis in ((1, ax.xaxis), (0, ax.yaxis)):
                if axis.get_visible():
                    self._measure_axis(axis, across, renderer, dpi)
        extra = ax.get_default_bbox_extra_artists()  # visible, in the layout, not clipped
        titles = (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None))
        for artist in [*titles, *extra]:
            if artist is None or isinstance(artist, (Axis, Spine)):
                continue
            if isinstance(artist, Text):
                if artist.get_visible() and artist.get_in_layout() and artist.get_text():
                    self.items.append(_text_element(artist, renderer))
                continue
            extent = artist.get_tightbbox(renderer)
            if extent is None or not np.isfinite(extent.extents).all():
                continue
            if isinstance(artist, Legend):
                anchor = _legend_anchor(artist)
                if anchor is not None:  # a 'best' legend stays inside the panel
                    self.items.append(_Element(artist, "legend", extent, anchor))
            elif artist is not ax.patch:  # e.g. an inset: each corner moves on its own
                low, high = (extent.x0, extent.y0), (extent.x1, extent.y1)
                self.items.append(_Element(artist, "low corner", Bbox([low, low]), low))
                self.items.append(_Element(artist, "high corner", Bbox([high, high]), high))
        for item in self.items:
            item.fit(self.seen, None, renderer)

    def _measure_axis(self, axis: Any, across: int, renderer: Any, dpi: float) -> None:
        # the ticks Axis.draw will draw (those in the view interval), labels set
        ticks = axis._update_ticks()
        self.locs += [axis.get_majorticklocs(), axis.get_minorticklocs()]
        sides: tuple[list[_Element], list[_Element]] = ([], [])
        out = [0.0, 0.0]
        for tick in ticks:
            for i, (label, line) in enumerate(
                ((tick.label1, tick.tick1line), (tick.label2, tick.tick2line))
            ):
                if label.get_visible() and label.get_text():
                    sides[i].append(_text_element(label, renderer))
                if line.get_visible():
                    out[i] = max(out[i], tick.get_tick_padding() * dpi / 72)
        self.items += sides[0] + sides[1]
        self.marks[2 * across] = max(self.marks[2 * across], out[0])
        self.marks[2 * across + 1] = max(self.marks[2 * across + 1], out[1])
        label = axis.label
        if label.get_visible() and label.get_text():
            along = _text_element(label, renderer)
            along.fit(self.seen, None, renderer)
            if getattr(axis, "_autolabelpos", True):  # else set_label_coords: where it is
                low = axis.get_label_position() in ("bottom", "left")
                entry = _AxisLabel(along, across=across, side=-1 if low else 1)
                entry.ticks = sides[0] if low else sides[1]
                entry.out = out[0] if low else out[1]
                entry.gap = axis.labelpad * dpi / 72
                self.labels.append(entry)
            else:
                self.items.append(along)
        offset = axis.offsetText
        if offset.get_visible() and offset.get_text():
            self.items.append(_offset_element(axis, across, sides[0], renderer, dpi, self.seen))

    def refit(self, renderer: Any) -> None:
        """Fit the elements again from their anchors at the panel's new geometry."""
        now = self.geometry()
        for item in self.items:
            item.fit(self.seen, now, renderer)
        for label in self.labels:
            label.along.fit(self.seen, now, renderer)

    def ticks_moved(self) -> bool:
        """Whether the tick locators give other ticks at the panel's new size."""
        ax = self.ax
        now: list[np.ndarray] = []
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_visible():
                    now += [axis.get_majorticklocs(), axis.get_minorticklocs()]
        return len(now) != len(self.locs) or any(
            len(a) != len(b) or not np.array_equal(a, b)
            for a, b in zip(now, self.locs, strict=True)
        )


def _text_element(text: Any, renderer: Any) -> _Element:
    extent = text.get_window_extent(renderer)  # also updates an annotation's position
    x, y = text.get_transform().transform(text.get_unitless_position())
    return _Element(text, "text", extent, (float(x), float(y)))


def _offset_element(
    axis: Any, across: int, ticks: list[_Element], renderer: Any, dpi: float, seen: tuple
) -> _Element:
    """The '1e6' offset text, where ``Axis.draw`` puts it: right end of the x axis
    below its tick labels, left end above the y axis."""
    size = axis.offsetText.get_window_extent(renderer)
    pad = axis.OFFSETTEXTPAD * dpi / 72
    if across == 1:
        below = min([t.span(1, seen[3])[0] for t in ticks] + [0.0]) - pad
        return _pinned((1.0, 0.0), (0.0, below), (-size.width, 0.0, -size.height, 0.0))
    return _pinned((0.0, 1.0), (0.0, pad), (0.0, size.width, 0.0, size.height))


def _figure_edges(fig: Figure, renderer: Any) -> list[float]:
    """Room (pixels) taken along each figure edge (left, right, bottom, top) by
    figure legends and texts (suptitle...), each against its nearest edge."""
    width, height = fig.bbox.width, fig.bbox.height
    edges = [0.0, 0.0, 0.0, 0.0]
    for artist in [*fig.legends, *fig.texts]:
        if not (artist.get_visible() and artist.get_in_layout()):
            continue
        if hasattr(artist, "get_text") and not artist.get_text():
            continue
        box = artist.get_window_extent(renderer)
        room = [box.x1, width - box.x0, box.y1, height - box.y0]
        side = _OUTSIDE.get(getattr(artist, "_outside_loc", None) or "")  # legend "outside ..."
        if side is None:
            side = int(np.argmin(room))
        edges[side] = max(edges[side], room[side])
    return edges


def _solve(
    panels: Sequence[_Panel],
    dim: int,
    ratios: np.ndarray,
    total: float,
    edges: tuple[float, float],
    pad: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (pixels) of each grid cell along ``dim``, cells ordered from
    the figure's left (or bottom) edge, leaving each panel room for its texts.

    A fixed-point iteration on the margins: a cell's margin is what its panels'
    texts need at the panel size the margins leave (texts in data coordinates
    move with the panel); it settles in two or three rounds.
    """
    n = len(ratios)
    gap = 2 * max(pad, _PANEL_SPACE * total / (2 * n))
    spans = []
    for panel in panels:
        cells = panel.cells[dim]
        first, last = cells.start, cells.stop - 1
        if dim == 1:  # grid rows count from the top
            first, last = n - 1 - last, n - 1 - first
        spans.append((panel, first, last))
    before, after = np.zeros(n), np.zeros(n)
    for panel, first, last in spans:
        size = panel.seen[2 * dim + 1]
        lo, hi = panel.span(dim, size)
        before[first] = max(before[first], -lo)
        after[last] = max(after[last], hi - size)
    floor = _MIN_PANEL_SHARE * total / ratios.sum()
    starts, ends = np.zeros(n), np.zeros(n)
    for _ in range(50):
        free = total - sum(edges) - 2 * pad - before.sum() - after.sum() - (n - 1) * gap
        unit = max(free / ratios.sum(), floor)
        x = edges[0] + pad
        for c in range(n):
            x += before[c]
            starts[c] = x
            x += ratios[c] * unit
            ends[c] = x
            x += after[c] + gap
        new_before, new_after = np.zeros(n), np.zeros(n)
        for panel, first, last in spans:
            size = ends[last] - starts[first]
            lo, hi = panel.span(dim, size)
            new_before[first] = max(new_before[first], -lo)
            new_after[last] = max(new_after[last], hi - size)
        done = max(np.abs(new_before - before).max(), np.abs(new_after - after).max()) < 0.01
        before, after = new_before, new_after
        if done:
            break
    return starts, ends


class _TextMarginLayout(LayoutEngine):
    """Layout engine: each panel's margins sized from the texts drawn around it.

    At draw time, the texts that need room around the panels of the figure's
    grid (tick labels, axis labels, titles, texts and annotations, legends;
    figure legends and texts along the figure edges) are measured once with
    the renderer's text metrics, which the draw then reuses; the panels are
    then placed so that nothing is cut at the figure's edges and nothing
    overlaps a neighbouring panel's texts, with the padding of constrained
    layout. Each element's extent is modelled as linear in its panel's size
    (texts in data or axes coordinates move with the panel), fitted from two
    placements, so the panels are placed exactly without measuring again;
    only tick locators that pick other ticks at the final size (``'auto'``
    ticks) have their panel measured again.

    Cost, on the report's 16 figures (real data, CPU): about 0.25 s on top of
    drawing without a layout engine, against 0.7 s for constrained layout,
    which computes each panel's full tight bounding box twice per draw (tick
    labels, spines, titles, texts) and solves a constraint system.

    Figures it does not handle (axes off the grid such as colorbars or insets,
    nested grids, subfigures) are laid out by constrained layout instead.
    """

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, *, pad: float = _PAD_POINTS) -> None:
        super().__init__()
        self._params = {"pad": pad}

    def set(self, *, pad: float | None = None) -> None:
        """Set the padding (points) around texts and at the figure edges."""
        if pad is not None:
            self._params["pad"] = pad

    def execute(self, fig: Figure) -> None:
        """Place the panels of ``fig`` (called by ``Figure.draw``)."""
        from matplotlib.gridspec import GridSpec
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        axes = [ax for ax in fig.axes if ax.get_in_layout()]
        specs = [ax.get_subplotspec() for ax in axes]
        grids = {id(s.get_gridspec()) for s in specs if s is not None}
        if not axes:
            return
        grid = specs[0].get_gridspec() if specs[0] is not None else None
        if None in specs or len(grids) > 1 or type(grid) is not GridSpec or fig.subfigs:
            ConstrainedLayoutEngine().execute(fig)
            return
        try:
            self._lay_out(fig, axes, grid)
        except Exception:
            # The engine reads a few private matplotlib attributes (see the helpers
            # below): should a matplotlib release change them, the figure is laid
            # out by constrained layout, as before, rather than not drawn.
            logger.debug("text-margin layout failed: constrained layout instead", exc_info=True)
            ConstrainedLayoutEngine().execute(fig)

    def _lay_out(self, fig: Figure, axes: list[Axes], grid: Any) -> None:
        renderer = fig._get_renderer()  # as matplotlib's own layout engines do
        panels = [_Panel(ax) for ax in axes]
        for panel in panels:
            if panel.ax.get_visible():
                panel.measure(renderer)
        edges = _figure_edges(fig, renderer)
        pad = self._params["pad"] * fig.dpi / 72
        ncols = grid.get_geometry()[1]
        widths = np.asarray(grid.get_width_ratios() or [1.0] * ncols, dtype=float)
        for attempt in range(3):
            self._place(fig, panels, grid, widths, edges, pad)
            for panel in panels:  # anchors seen at a second geometry: the model is exact
                panel.refit(renderer)
            self._place(fig, panels, grid, widths, edges, pad)
            moved = [p for p in panels if p.ax.get_visible() and p.ticks_moved()]
            if not moved or attempt == 2:
                break
            for panel in moved:  # tick locators that depend on the panel size
                panel.measure(renderer)

    @staticmethod
    def _place(
        fig: Figure,
        panels: Sequence[_Panel],
        grid: Any,
        widths: np.ndarray,
        edges: list[float],
        pad: float,
    ) -> None:
        """Set each panel's position from the cells solved along both dimensions."""
        width, height = fig.bbox.width, fig.bbox.height
        nrows, _ = grid.get_geometry()
        heights = np.asarray(grid.get_height_ratios() or [1.0] * nrows, dtype=float)[::-1]
        xs = _solve(panels, 0, widths, width, (edges[0], edges[1]), pad)
        ys = _solve(panels, 1, heights, height, (edges[2], edges[3]), pad)
        for panel in panels:
            cols, rows = panel.cells
            box = Bbox.from_extents(
                xs[0][cols.start] / width,
                ys[0][nrows - rows.stop] / height,
                xs[1][cols.stop - 1] / width,
                ys[1][nrows - 1 - rows.start] / height,
            )
            panel.ax.set_position(box)
            panel.ax.set_in_layout(True)  # set_position takes an Axes out of layouts


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout=_TextMarginLayout())


def render_png(fig: Figure, *, dpi: int = DPI) -> bytes:
    """PNG bytes of ``fig`` drawn once by the Agg backend.

    ``Figure.savefig`` draws a figure with a layout engine twice (a dry run,
    then the real one); drawing the Agg canvas once and encoding its buffer
    with Pillow gives the same pixels for about half the time. The image is
    stored with a 256-colour palette (no dithering): figures use a handful of
    flat colours, and the file is about a third of a true-colour PNG. zlib
    level 3 (:data:`_PNG_COMPRESSION`) encodes in 40 % of the time of the
    default level 6, for files about a fifth larger.

    Parameters
    ----------
    fig : Figure
        The figure (its layout engine, if any, runs during the draw). It is
        left as it is; drop the reference to free it.
    dpi : int, default DPI
        Resolution.

    Returns
    -------
    bytes
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    buffer = io.BytesIO()
    with style():
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = canvas.buffer_rgba()
        image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        palette.save(buffer, format="png", dpi=(dpi, dpi), compress_level=_PNG_COMPRESSION)
    return buffer.getvalue()


def render_svg(fig: Figure) -> str:
    """SVG text of ``fig`` (scatter points are embedded as one raster image)."""
    buffer = io.StringIO()
    with style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# tick formatting
# ---------------------------------------------------------------------------


def _log_formatter(tr: Translator) -> FuncFormatter:
    """Powers of ten as plain numbers in the report language (0.01, 1,000)."""

    def fmt(x: float, _pos: int | None = None) -> str:
        if x <= 0:
            return ""
        exponent = math.floor(math.log10(x) + 1e-9)
        return tr.number(x, max(0, -exponent))

    return FuncFormatter(fmt)


def _number_formatter(tr: Translator) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos=None: tr.number(x))


def _money_formatter(tr: Translator) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos=None: tr.money_compact(x) if x else tr.number(0))


def _log_axis(axis: Any, tr: Translator, numticks: int = 8) -> None:
    """Decade ticks (every other decade when more than ``numticks`` would show)."""
    axis.set_major_locator(LogLocator(base=10.0, numticks=numticks))
    axis.set_major_formatter(_log_formatter(tr))
    # minor ticks on log axes spanning many decades cost more to lay out than
    # the rest of the figure; the decade grid is enough to read values.
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _own_figure(fig: Figure | None, width: float, height: float) -> Figure:
    """``fig`` cleared, or a new figure of the given size (inches)."""
    if fig is None:
        return _new_figure(width, height)
    fig.clear()
    return fig


def _own_axes(ax: Axes | None, width: float, height: float) -> Axes:
    if ax is not None:
        return ax
    return _new_figure(width, height).add_subplot()


# ---------------------------------------------------------------------------
# data: distributions of the line variables
# ---------------------------------------------------------------------------


def _count_label(variable: str, tr: Translator) -> str:
    return tr.t("axis.orders_per_bin" if variable == "order_total" else "axis.lines_per_bin")


def plot_histogram(
    hist: Histogram, *, tr: Translator, ax: Axes | None = None, legend: bool = True
) -> Axes:
    """Log-binned histogram of one variable with its smoothed density curve.

    Parameters
    ----------
    hist : Histogram
        From :func:`custseg.distributions.value_summaries`.
    tr : Translator
        Language of the labels.
    ax : Axes, optional
        Where to draw; a new figure when None.
    legend : bool, default True
        Show the legend naming the density curve.

    Returns
    -------
    Axes
    """
    with style():
        ax = _own_axes(ax, 4.5, 3.0)
        ax.stairs(
            hist.heights,
            hist.edges,
            fill=True,
            facecolor=to_rgba(_BAR, 0.45),
            edgecolor=_BAR,
            linewidth=0.8,
        )
        ax.plot(
            hist.density_x,
            hist.density_y,
            color=_ACCENT,
            linewidth=1.8,
            label=tr.t("legend.density"),
        )
        ax.set_xscale("log")
        _log_axis(ax.xaxis, tr, numticks=6)
        ax.set_xlim(hist.edges[0], hist.edges[-1])
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.yaxis.set_major_formatter(_number_formatter(tr))
        ax.set_xlabel(tr.variable(hist.variable, log=True))
        ax.set_ylabel(_count_label(hist.variable, tr))
        ax.grid(axis="x", which="major", visible=True)
        if legend:
            ax.legend(loc="upper right")
    return ax


def plot_line_histograms(
    histograms: Mapping[str, Histogram],
    *,
    tr: Translator,
    fig: Figure | None = None,
    variables: Sequence[str] = LINE_VARIABLES,
) -> Figure:
    """2 x 2 histograms of quantity, unit price, line total and order total.

    Parameters
    ----------
    histograms : mapping of str to Histogram
        ``LineDistributions.histograms``; variables absent from it are skipped.
    tr : Translator
        Language of the labels.
    fig : Figure, optional
        Figure to draw into (cleared first); a new one when None.
    variables : sequence of str
        Panels, in order.

    Returns
    -------
    Figure
    """
    present = [v for v in variables if v in histograms]
    with style():
        fig = _own_figure(fig, _FULL, 6.0)
        ncols = 2 if len(present) > 1 else 1
        nrows = max(1, math.ceil(len(present) / ncols))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for i, (variable, ax) in enumerate(zip(present, axes, strict=False)):
            plot_histogram(histograms[variable], tr=tr, ax=ax, legend=i == 0)
        for ax in axes[len(present) :]:
            ax.set_visible(False)
    return fig


def plot_box(box: BoxStats, *, tr: Translator, ax: Axes | None = None) -> Axes:
    """Horizontal box plot from precomputed statistics, on a log axis.

    The box spans q1 to q3 with the median; whiskers end at the most extreme
    values within 1.5 IQR on the log scale; the points are the most extreme
    values beyond (at most ``max_fliers`` per side); the diamond is the mean.
    The numbers of values beyond each whisker are written in the panel.

    Returns
    -------
    Axes
    """
    with style():
        ax = _own_axes(ax, _FULL, 1.6)
        ax.bxp(
            [box.bxp_stats()],
            orientation="horizontal",
            widths=0.55,
            patch_artist=True,
            showmeans=True,
            boxprops={"facecolor": _BAR, "alpha": 0.35, "edgecolor": _BAR},
            medianprops={"color": _ACCENT, "linewidth": 2.0},
            whiskerprops={"color": _BAR},
            capprops={"color": _BAR},
            meanprops={
                "marker": "D",
                "markerfacecolor": "white",
                "markeredgecolor": _TEXT,
                "markersize": 5,
            },
            flierprops={
                "marker": "o",
                "markersize": 3.5,
                "markerfacecolor": _ACCENT,
                "markeredgecolor": "none",
                "alpha": 0.6,
            },
        )
        ax.set_xscale("log")
        _log_axis(ax.xaxis, tr)
        ax.set_yticks([])
        ax.set_xlabel(tr.variable(box.variable, log=True))
        ax.grid(axis="x", which="major", visible=True)
        ax.text(
            1.0,
            1.02,
            tr.t("label.outliers", high=tr.number(box.n_high), low=tr.number(box.n_low)),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8.5,
            color=_MUTED,
        )
    return ax


def plot_boxplots(
    boxes: Mapping[str, BoxStats],
    *,
    tr: Translator,
    fig: Figure | None = None,
    variables: Sequence[str] = LINE_VARIABLES,
) -> Figure:
    """One horizontal box plot per variable, stacked, each on its own log axis.

    Returns
    -------
    Figure
    """
    present = [v for v in variables if v in boxes]
    with style():
        fig = _own_figure(fig, _FULL, 1.45 * max(len(present), 1) + 0.3)
        axes = np.atleast_1d(fig.subplots(max(len(present), 1), 1, squeeze=False)).ravel()
        for variable, ax in zip(present, axes, strict=False):
            plot_box(boxes[variable], tr=tr, ax=ax)
    return fig


# ---------------------------------------------------------------------------
# data: time and countries
# ---------------------------------------------------------------------------


def _month_ticks(months: Sequence[str], tr: Translator) -> list[str]:
    """``Dec\\n2010``, ``Jan\\n2011``, ``Feb``...: the year on January and the first month."""
    labels = []
    for i, month in enumerate(months):
        short = tr.month_short(month)
        labels.append(f"{short}\n{month[:4]}" if i == 0 or month.endswith("-01") else short)
    return labels


def plot_monthly(monthly: MonthlyTotals, *, tr: Translator, fig: Figure | None = None) -> Figure:
    """Monthly revenue, orders and active customers: three bar panels, one x axis.

    Incomplete months (:attr:`MonthlyTotals.partial`) are hatched and lighter.

    Returns
    -------
    Figure
    """
    n = len(monthly.months)
    x = np.arange(n)
    partial = np.asarray(monthly.partial, dtype=bool) if n else np.zeros(0, dtype=bool)
    panels = (
        (monthly.revenue, "axis.revenue", PALETTE[0], True),
        (monthly.orders, "axis.orders", PALETTE[2], False),
        (monthly.customers, "axis.active_customers", PALETTE[1], False),
    )
    with style():
        fig = _own_figure(fig, _FULL, 6.2)
        axes = fig.subplots(3, 1, sharex=True)
        for ax, (values, label, color, money) in zip(axes, panels, strict=True):
            bars = ax.bar(x, values, color=color, width=0.72, edgecolor="white")
            for bar, is_partial in zip(bars, partial, strict=True):
                if is_partial:  # light fill, hatch in the full colour
                    bar.set_facecolor(to_rgba(color, 0.3))
                    bar.set_edgecolor(color)
                    bar.set_hatch("///")
            ax.set_ylabel(tr.t(label))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.yaxis.set_major_formatter(_money_formatter(tr) if money else _number_formatter(tr))
            ax.grid(axis="x", visible=False)
        axes[-1].set_xticks(x, _month_ticks(monthly.months, tr))
        axes[-1].set_xlim(-0.6, n - 0.4)
        if partial.any():
            axes[0].legend(
                handles=[
                    Patch(
                        facecolor="white",
                        edgecolor=_TEXT,
                        hatch="///",
                        label=tr.t("legend.partial_month"),
                    )
                ],
                loc="upper left",
            )
    return fig


def _country_label(country: str, countries: CountryTotals, tr: Translator) -> str:
    if country == OTHER:
        return tr.t("label.other_countries", n=tr.number(countries.other_countries))
    if country == UNKNOWN:
        return tr.t("label.unknown_country")
    return tr.country(country)


def plot_countries(countries: CountryTotals, *, tr: Translator, ax: Axes | None = None) -> Axes:
    """Revenue of the top countries (and "other") as horizontal bars.

    The axis is logarithmic when every revenue is positive (one country
    usually dominates); each bar is labelled with its revenue and share.

    Returns
    -------
    Axes
    """
    n = len(countries.countries)
    with style():
        ax = _own_axes(ax, _FULL, 0.34 * max(n, 3) + 1.0)
        y = np.arange(n)
        colors = [_MUTED if c == OTHER else _BAR for c in countries.countries]
        ax.barh(y, countries.revenue, color=colors, height=0.68)
        ax.set_yticks(y, [_country_label(c, countries, tr) for c in countries.countries])
        ax.invert_yaxis()
        positive = n > 0 and min(countries.revenue) > 0
        if positive:
            ax.set_xscale("log")
            _log_axis(ax.xaxis, tr)
            ax.xaxis.set_major_formatter(_money_formatter(tr))
            ax.set_xlabel(tr.t("axis.revenue_log"))
            ax.set_xlim(left=min(countries.revenue) / 3.0, right=max(countries.revenue) * 4.0)
        else:
            ax.xaxis.set_major_formatter(_money_formatter(tr))
            ax.set_xlabel(tr.t("axis.revenue"))
        for yi, revenue, share in zip(y, countries.revenue, countries.revenue_share, strict=True):
            ax.annotate(
                f"{tr.money_compact(revenue)} · {tr.percent(share)}",
                (revenue, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                ha="left" if revenue >= 0 else "right",
                fontsize=8.5,
                color=_TEXT,
            )
        ax.grid(axis="y", visible=False)
    return ax


# ---------------------------------------------------------------------------
# data: audit findings
# ---------------------------------------------------------------------------


def plot_findings(findings: pd.DataFrame, *, tr: Translator, fig: Figure | None = None) -> Figure:
    """Rows (log scale, with share) and net revenue concerned by each audit finding.

    Parameters
    ----------
    findings : DataFrame
        Columns ``finding`` (catalogue key), ``rows``, ``row_share``
        (fraction) and ``revenue`` (net £, may be negative or missing); drawn
        in the given order, first at the top.
    tr : Translator
        Language of the labels and finding names.
    fig : Figure, optional
        Figure to draw into (cleared first).

    Returns
    -------
    Figure

    Raises
    ------
    ColumnError
        A required column is missing.
    """
    needed = ("finding", "rows", "row_share", "revenue")
    missing = [c for c in needed if c not in findings.columns]
    if missing:
        raise ColumnError(
            f"audit findings lack the columns {', '.join(missing)}",
            fix="pass the findings table of the audit (finding, rows, row_share, revenue)",
        )
    n = len(findings)
    names = [tr.finding_name(k) for k in findings["finding"]]
    rows = findings["rows"].to_numpy(dtype=float)
    shares = findings["row_share"].to_numpy(dtype=float)
    revenue = findings["revenue"].to_numpy(dtype=float)
    y = np.arange(n)
    with style():
        fig = _own_figure(fig, _FULL, 0.36 * max(n, 3) + 1.1)
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=(1.0, 1.0))
        left.barh(y, np.where(rows > 0, rows, np.nan), color=_BAR, height=0.66)
        left.set_xscale("log")
        _log_axis(left.xaxis, tr, numticks=5)
        upper = np.nanmax(rows) if n and np.any(rows > 0) else 10.0
        lower = np.nanmin(rows[rows > 0]) if n and np.any(rows > 0) else 1.0
        left.set_xlim(max(lower / 3.0, 0.5), upper * 20.0)
        left.set_xlabel(tr.t("axis.rows_log"))
        left.set_yticks(y, names)
        left.invert_yaxis()
        for yi, r, s in zip(y, rows, shares, strict=True):
            if r > 0:
                left.annotate(
                    f"{tr.number(r)} ({tr.percent(s)})",
                    (r, yi),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8.5,
                    color=_TEXT,
                )
        colors = [_ACCENT if v < 0 else PALETTE[2] for v in np.nan_to_num(revenue)]
        right.barh(y, np.nan_to_num(revenue), color=colors, height=0.66)
        right.axvline(0, color=_TEXT, linewidth=0.8)
        right.xaxis.set_major_locator(MaxNLocator(nbins=4))
        right.xaxis.set_major_formatter(_money_formatter(tr))
        right.set_xlabel(tr.t("axis.net_revenue"))
        span = np.nanmax(np.abs(revenue)) if n and np.any(np.isfinite(revenue)) else 1.0
        span = span or 1.0
        lo = min(0.0, np.nanmin(revenue) if n else 0.0)
        hi = max(0.0, np.nanmax(revenue) if n else 0.0)
        right.set_xlim(lo - 0.6 * span if lo < 0 else 0, hi + 0.6 * span if hi > 0 else 0)
        for yi, v in zip(y, revenue, strict=True):
            if np.isfinite(v):
                right.annotate(
                    tr.money_compact(v),
                    (v, yi),
                    xytext=(4 if v >= 0 else -4, 0),
                    textcoords="offset points",
                    va="center",
                    ha="left" if v >= 0 else "right",
                    fontsize=8.5,
                    color=_TEXT,
                )
        for ax in (left, right):
            ax.grid(axis="y", visible=False)
        right.tick_params(axis="y", left=False)
    return fig


# ---------------------------------------------------------------------------
# features: before / after the transformation
# ---------------------------------------------------------------------------


_MONEY_FEATURES = (S.MONETARY, S.AVG_ORDER_VALUE)


def plot_feature_histograms(
    hists: FeatureHistograms, *, tr: Translator, fig: Figure | None = None
) -> Figure:
    """Each feature's histogram before (top row) and after (bottom row) transformation.

    Panel titles give the skewness, which the transformation should bring
    close to zero.

    Returns
    -------
    Figure
    """
    k = max(len(hists.features), 1)
    with style():
        fig = _own_figure(fig, _FULL, 5.2)
        axes = fig.subplots(2, k, squeeze=False)
        for j, feat in enumerate(hists.features):
            sides = (
                (feat.before_edges, feat.before_counts, feat.before_skew, "label.before", _BAR),
                (feat.after_edges, feat.after_counts, feat.after_skew, "label.after", PALETTE[2]),
            )
            for i, (edges, counts, skew, title, color) in enumerate(sides):
                ax = axes[i, j]
                if counts:
                    ax.stairs(
                        counts,
                        edges,
                        fill=True,
                        facecolor=to_rgba(color, 0.55),
                        edgecolor=color,
                        linewidth=0.8,
                    )
                skew_text = tr.t("label.skew", value=tr.number(skew, 2))
                ax.set_title(f"{tr.t(title)} · {skew_text}", fontsize=9.5)
                label = tr.variable(feat.feature)
                if i == 1:
                    label = tr.t("axis.transformed", label=tr.variable(feat.feature, unit=False))
                ax.set_xlabel(label)
                ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
                if i == 1:
                    ax.xaxis.set_major_formatter(
                        FuncFormatter(lambda x, _pos=None: tr.number(x, 1))
                    )
                elif feat.feature in _MONEY_FEATURES:  # "£240k": "240,000,000" would collide
                    ax.xaxis.set_major_formatter(_money_formatter(tr))
                else:
                    ax.xaxis.set_major_formatter(_number_formatter(tr))
                ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
                ax.yaxis.set_major_formatter(_number_formatter(tr))
                ax.set_ylim(bottom=0)
                if j == 0:
                    ax.set_ylabel(tr.t("axis.customers_per_bin"))
        for ax in axes.ravel()[2 * len(hists.features) :]:
            ax.set_visible(False)
    return fig


# ---------------------------------------------------------------------------
# segment colours
# ---------------------------------------------------------------------------

CLUSTER_PALETTE = tuple(c for c in PALETTE if c != "#949494")
"""Colours of K-means / DBSCAN clusters 0, 1, 2, ... (grey is kept for noise)."""

NOISE_COLOR = "#a0a0a0"
"""Colour of DBSCAN noise (label -1) and of anything without a segment."""

RFM_COLORS = {
    "champions": "#1b7837",
    "loyal_customers": "#5aae61",
    "potential_loyalists": "#a6dba0",
    "new_customers": "#0173b2",
    "promising": "#56b4e9",
    "need_attention": "#ece133",
    "about_to_sleep": "#f6c16e",
    "at_risk": "#de8f05",
    "cant_lose_them": "#d55e00",
    "hibernating": "#c7b299",
    "lost": "#a0a0a0",
}
"""Fixed colour per RFM segment key: greens for the best customers, blues for new
ones, yellow to red for those slipping away, greys for the lapsed."""


def segment_colors(labels: Sequence[Any]) -> dict[Any, str]:
    """Colour of each segment label, the same in every figure.

    Integers are clusters (``CLUSTER_PALETTE[label]``, ``-1`` is noise);
    strings are RFM segment keys (:data:`RFM_COLORS`, others take the
    cluster palette in order of appearance).

    Parameters
    ----------
    labels : sequence
        Segment labels.

    Returns
    -------
    dict
        Label -> hex colour.
    """
    out: dict[Any, str] = {}
    spare = iter(CLUSTER_PALETTE * 4)
    for label in labels:
        if label in out:
            continue
        if isinstance(label, str):
            out[label] = RFM_COLORS.get(label) or next(spare)
        elif int(label) < 0:
            out[label] = NOISE_COLOR
        else:
            out[label] = CLUSTER_PALETTE[int(label) % len(CLUSTER_PALETTE)]
    return out


def _ink(color: str) -> str:
    """Black or white, whichever reads better on ``color``."""
    r, g, b, _ = to_rgba(color)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return _TEXT if luminance > 0.45 else "white"


def _names_of(labels: Sequence[Any], names: Mapping[Any, str] | None) -> list[str]:
    return [str(names.get(lab, lab)) if names else str(lab) for lab in labels]


def _percent_formatter(tr: Translator, decimals: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos=None: tr.percent(x, decimals))


# ---------------------------------------------------------------------------
# choosing hyper-parameters
# ---------------------------------------------------------------------------


def _k_values(table: pd.DataFrame) -> np.ndarray:
    if "k" not in table.columns:
        raise ColumnError(
            "the k scan table has no column 'k'",
            fix="pass summary['kmeans']['table'] as a DataFrame",
        )
    return table["k"].to_numpy(dtype=int)


def plot_elbow(
    table: pd.DataFrame,
    *,
    chosen_k: int,
    knee: int | None,
    tr: Translator,
    ax: Axes | None = None,
) -> Axes:
    """Inertia against k, with the elbow found by Kneedle and the chosen k.

    Parameters
    ----------
    table : DataFrame
        Columns ``k`` and ``inertia`` (one row per scanned k).
    chosen_k : int
        The k retained (ringed).
    knee : int or None
        The elbow of the inertia curve (dashed line), None when there is none.
    tr : Translator
        Language of the labels.
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    k = _k_values(table)
    inertia = table["inertia"].to_numpy(dtype=float)
    with style():
        ax = _own_axes(ax, 6.4, 3.4)
        ax.plot(k, inertia, marker="o", markersize=5, color=_BAR, linewidth=1.8)
        if knee is not None:
            ax.axvline(
                knee, color=_MUTED, linestyle="--", linewidth=1.2, label=tr.t("legend.knee", k=knee)
            )
        at = k == chosen_k
        if at.any():
            ax.plot(
                k[at],
                inertia[at],
                linestyle="none",
                marker="o",
                markersize=13,
                markerfacecolor="none",
                markeredgecolor=_ACCENT,
                markeredgewidth=2.0,
                label=tr.t("legend.chosen_k", k=chosen_k),
            )
        ax.set_xticks(k)
        ax.set_xlabel(tr.t("axis.k"))
        ax.set_ylabel(tr.t("axis.inertia"))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.yaxis.set_major_formatter(_number_formatter(tr))
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right")
    return ax


_SCORES = (
    ("silhouette", "score.silhouette", True, 3),
    ("calinski_harabasz", "score.calinski_harabasz", True, 0),
    ("davies_bouldin", "score.davies_bouldin", False, 2),
)


def plot_k_scores(
    table: pd.DataFrame,
    *,
    chosen_k: int,
    tr: Translator,
    admissible: Sequence[int] | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin against k, chosen k marked.

    Parameters
    ----------
    table : DataFrame
        Columns ``k``, ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``.
    chosen_k : int
        The k retained (dashed line).
    tr : Translator
        Language of the labels.
    admissible : sequence of int, optional
        The k values the rule allowed; the others get hollow markers.
    fig : Figure, optional
        Figure to draw into (cleared first).

    Returns
    -------
    Figure
    """
    k = _k_values(table)
    allowed = np.isin(k, list(admissible)) if admissible is not None else np.ones(len(k), bool)
    with style():
        fig = _own_figure(fig, _FULL, 3.0)
        axes = fig.subplots(1, 3)
        for i, (ax, (column, key, higher, decimals)) in enumerate(zip(axes, _SCORES, strict=True)):
            values = table[column].to_numpy(dtype=float)
            color = (PALETTE[0], PALETTE[2], PALETTE[4])[i]
            ax.plot(k, values, color=color, linewidth=1.8, marker="o", markersize=5)
            if not allowed.all():
                ax.plot(
                    k[~allowed],
                    values[~allowed],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    markerfacecolor="white",
                    markeredgecolor=color,
                    label=tr.t("legend.not_admissible"),
                )
            ax.axvline(
                chosen_k,
                color=_ACCENT,
                linestyle="--",
                linewidth=1.2,
                label=tr.t("legend.chosen_k", k=chosen_k),
            )
            better = tr.t("label.higher_better" if higher else "label.lower_better")
            ax.set_title(f"{tr.t(key)}\n{better}", fontsize=9.5)
            ax.set_xticks(k)
            ax.set_xlabel(tr.t("axis.k"))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.yaxis.set_major_formatter(
                FuncFormatter(lambda x, _pos=None, d=decimals: tr.number(x, d))
            )
        axes[0].legend(loc="upper right", fontsize=8.5)
    return fig


def plot_silhouette_diagram(
    clusters: Sequence[int],
    values: Sequence[float],
    *,
    tr: Translator,
    names: Mapping[Any, str] | None = None,
    average: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Per-customer silhouette values, sorted within each cluster.

    Parameters
    ----------
    clusters, values : sequences of the same length
        Cluster and silhouette coefficient of each customer (of the sample
        the silhouette was computed on).
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Cluster -> display name (y tick labels).
    average : float, optional
        Mean silhouette of the clustering (dashed line).
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    c = np.asarray(clusters)
    v = np.asarray(values, dtype=float)
    if c.shape != v.shape:
        raise ColumnError(
            f"{c.size} clusters for {v.size} silhouette values",
            fix="pass one cluster and one silhouette value per customer",
        )
    labels = sorted(np.unique(c).tolist())
    colors = segment_colors(labels)
    gap = max(1, int(0.02 * c.size))
    with style():
        ax = _own_axes(ax, 6.8, 4.2)
        start, ticks = 0, []
        for label in labels:
            vals = np.sort(v[c == label])[::-1]
            y = np.arange(start, start + vals.size)
            ax.fill_betweenx(y, 0, vals, color=colors[label], linewidth=0, alpha=0.9)
            ticks.append(start + vals.size / 2)
            start += vals.size + gap
        ax.axvline(0, color=_TEXT, linewidth=0.8)
        if average is not None:
            ax.axvline(
                average,
                color=_ACCENT,
                linestyle="--",
                linewidth=1.4,
                label=tr.t("legend.mean_silhouette", value=tr.number(average, 3)),
            )
            ax.legend(loc="lower right")
        ax.set_yticks(ticks, _names_of(labels, names))
        ax.set_ylim(start, -gap)
        ax.set_xlim(min(-0.1, float(v.min()) - 0.02) if v.size else -0.1, 1.0)
        ax.set_xlabel(tr.t("axis.silhouette"))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos=None: tr.number(x, 1)))
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
    return ax


def plot_k_distance(
    curve: Sequence[Sequence[float]],
    *,
    k: int,
    eps: float,
    tr: Translator,
    knee_eps: float | None = None,
    knee_index: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Sorted distance of each customer to its k-th nearest neighbour, eps marked.

    Parameters
    ----------
    curve : sequence of (position, distance)
        The sorted k-distance curve (possibly thinned).
    k : int
        Which neighbour (``min_samples - 1``).
    eps : float
        The DBSCAN radius retained (dashed line).
    tr : Translator
        Language of the labels.
    knee_eps, knee_index : float and int, optional
        The knee of the curve (dot and dotted line).
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    points = np.asarray(curve, dtype=float).reshape(-1, 2)
    with style():
        ax = _own_axes(ax, 6.4, 3.4)
        ax.plot(points[:, 0], points[:, 1], color=_BAR, linewidth=1.8)
        if knee_eps is not None:
            ax.axhline(
                knee_eps,
                color=_MUTED,
                linestyle=":",
                linewidth=1.4,
                label=tr.t("legend.knee_eps", value=tr.number(knee_eps, 3)),
            )
            if knee_index is not None:
                ax.plot([knee_index], [knee_eps], marker="o", color=_MUTED, markersize=6)
        ax.axhline(
            eps,
            color=_ACCENT,
            linestyle="--",
            linewidth=1.4,
            label=tr.t("legend.chosen_eps", value=tr.number(eps, 3)),
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda x, _pos=None: tr.number(x, max(0, -math.floor(math.log10(x)))))
        )
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.xaxis.set_major_formatter(_number_formatter(tr))
        ax.set_xlabel(tr.t("axis.customers_sorted"))
        ax.set_ylabel(tr.t("axis.k_distance", k=k))
        ax.legend(loc="upper left")
    return ax


# ---------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------


def _log_ok(values: Sequence[float]) -> bool:
    return len(values) > 0 and min(values) > 0


def _draw_boxes(
    ax: Axes,
    boxes: Sequence[Mapping[str, Any]],
    positions: Sequence[float],
    colors: Sequence[Any],
    *,
    width: float = 0.6,
) -> None:
    """Horizontal box plots from ``Axes.bxp``-style statistics, as a few collections.

    Same look as ``bxp(..., patch_artist=True)`` (box q1-q3, median bar,
    whiskers with caps, flier points), but one artist per element type
    instead of five per box: a panel with a dozen boxes draws several times
    faster.
    """
    if not boxes:
        return
    y = np.asarray(positions, dtype=float)
    q1 = np.array([b["q1"] for b in boxes], dtype=float)
    q3 = np.array([b["q3"] for b in boxes], dtype=float)
    med = np.array([b["med"] for b in boxes], dtype=float)
    lo = np.array([b["whislo"] for b in boxes], dtype=float)
    hi = np.array([b["whishi"] for b in boxes], dtype=float)
    ax.barh(
        y, q3 - q1, left=q1, height=width, color=colors, edgecolor=_TEXT, linewidth=0.8, zorder=2
    )
    half = width / 2
    ax.hlines(
        np.concatenate([y, y]),
        np.concatenate([lo, q3]),
        np.concatenate([q1, hi]),
        colors=_TEXT,
        linewidth=0.8,
        zorder=1,
    )
    ax.vlines(
        np.concatenate([lo, hi]),
        np.concatenate([y, y]) - half / 2,
        np.concatenate([y, y]) + half / 2,
        colors=_TEXT,
        linewidth=0.8,
        zorder=1,
    )
    ax.vlines(med, y - half, y + half, colors=_TEXT, linewidth=1.8, zorder=3)
    fx = np.concatenate([np.asarray(b.get("fliers", []), dtype=float) for b in boxes])
    fy = np.concatenate(
        [np.full(len(b.get("fliers", [])), p, dtype=float) for b, p in zip(boxes, y, strict=True)]
    )
    if fx.size:
        ax.plot(
            fx,
            fy,
            linestyle="none",
            marker="o",
            markersize=2.5,
            markerfacecolor=_TEXT,
            markeredgecolor="none",
            alpha=0.5,
            zorder=1,
        )


def plot_segment_boxplots(
    stats: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    tr: Translator,
    names: Mapping[Any, str] | None = None,
    order: Sequence[Any] | None = None,
    features: Sequence[str] = ("monetary", "frequency", "recency"),
    fig: Figure | None = None,
) -> Figure:
    """Box plots of features per segment, from precomputed statistics.

    Parameters
    ----------
    stats : mapping of str to list of dict
        Feature -> one dict per segment with ``segment``, ``q1``, ``median``,
        ``q3``, ``whislo``, ``whishi`` and ``fliers``
        (``summary["report_data"]["boxplots"]["kmeans"]``).
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Segment -> display name.
    order : sequence, optional
        Segments from top to bottom; default: the order of the records.
    features : sequence of str
        Panels, left to right; features absent from ``stats`` are skipped.
        Monetary value and frequency are drawn on log axes (when positive).
    fig : Figure, optional
        Figure to draw into (cleared first).

    Returns
    -------
    Figure
    """
    present = [f for f in features if f in stats and stats[f]]
    if order is None:
        order = [r["segment"] for r in stats[present[0]]] if present else []
    colors = segment_colors(list(order))
    n = len(order)
    with style():
        fig = _own_figure(fig, _FULL, 0.36 * max(n, 3) + 1.2)
        axes = np.atleast_1d(fig.subplots(1, max(len(present), 1), sharey=True, squeeze=False))
        axes = axes.ravel()
        for j, (ax, feature) in enumerate(zip(axes, present, strict=False)):
            records = {r["segment"]: r for r in stats[feature]}
            boxes = [
                {
                    "med": records[s]["median"],
                    "q1": records[s]["q1"],
                    "q3": records[s]["q3"],
                    "whislo": records[s]["whislo"],
                    "whishi": records[s]["whishi"],
                    "fliers": np.asarray(records[s].get("fliers") or [], dtype=float),
                }
                for s in order
                if s in records
            ]
            shown = [s for s in order if s in records]
            _draw_boxes(
                ax,
                boxes,
                [order.index(s) for s in shown],
                [to_rgba(colors[s], 0.75) for s in shown],
            )
            lows = [b["whislo"] for b in boxes]
            log = feature in ("monetary", "frequency") and _log_ok(lows)
            if log:
                ax.set_xscale("log")
                _log_axis(ax.xaxis, tr, numticks=4 if feature == "monetary" else 6)
                if feature == "monetary":
                    ax.xaxis.set_major_formatter(_money_formatter(tr))
            else:
                ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
                ax.xaxis.set_major_formatter(_number_formatter(tr))
            # Three panels side by side: long labels ("Montant (£, échelle log.)") wrap
            # instead of running into the next panel's.
            ax.set_xlabel("\n".join(textwrap.wrap(tr.variable(feature, log=log), 24)))
            ax.grid(axis="y", visible=False)
            if j:
                ax.tick_params(axis="y", labelleft=False, length=0)
        axes[0].set_yticks(range(n), _names_of(order, names))
        axes[0].set_ylim(n - 0.5, -0.5)
        axes[0].tick_params(axis="y", length=0)
        for ax in axes[len(present) :]:
            ax.set_visible(False)
    return fig


_SCATTER_PANELS = (
    ("recency", "monetary", False, True),
    ("frequency", "monetary", True, True),
    ("pc1", "pc2", False, False),
)


def plot_segment_scatter(
    points: pd.DataFrame,
    *,
    label_col: str,
    tr: Translator,
    names: Mapping[Any, str] | None = None,
    order: Sequence[Any] | None = None,
    explained: Sequence[float] | None = None,
    outlier_col: str | None = "is_outlier",
    fig: Figure | None = None,
) -> Figure:
    """Customers coloured by segment: recency-monetary, frequency-monetary and PCA.

    Atypical customers are ringed in black. Points are rasterised (an SVG
    stays small); axes with a skewed feature are logarithmic (values that
    are not positive are left out of those panels).

    Parameters
    ----------
    points : DataFrame
        One row per customer shown: ``recency``, ``frequency``, ``monetary``,
        ``pc1``, ``pc2``, ``label_col`` and ``outlier_col``; panels whose
        columns are missing are skipped.
    label_col : str
        Column of segment labels.
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Segment -> display name (legend).
    order : sequence, optional
        Legend order; default: sorted labels.
    explained : sequence of float, optional
        Variance explained by the two principal components (axis labels).
    outlier_col : str or None, default "is_outlier"
        Boolean column of atypical customers; None to ring nobody.
    fig : Figure, optional
        Figure to draw into (cleared first).

    Returns
    -------
    Figure
    """
    if label_col not in points.columns:
        raise ColumnError(
            f"the scatter points have no column {label_col!r}",
            fix="pass summary['report_data']['scatter'] as a DataFrame",
        )
    panels = [p for p in _SCATTER_PANELS if p[0] in points.columns and p[1] in points.columns]
    labels = points[label_col].tolist()
    order = (
        list(order) if order is not None else sorted(set(labels), key=lambda x: (str(type(x)), x))
    )
    colors = segment_colors(order)
    point_colors = [colors.get(lab, NOISE_COLOR) for lab in labels]
    flagged = (
        points[outlier_col].to_numpy(dtype=bool)
        if outlier_col and outlier_col in points.columns
        else np.zeros(len(points), dtype=bool)
    )
    with style():
        fig = _own_figure(fig, _FULL, 3.9)
        axes = np.atleast_1d(fig.subplots(1, max(len(panels), 1), squeeze=False)).ravel()
        for j, (ax, (xcol, ycol, xlog, ylog)) in enumerate(zip(axes, panels, strict=False)):
            x = points[xcol].to_numpy(dtype=float)
            y = points[ycol].to_numpy(dtype=float)
            keep = np.ones(len(x), dtype=bool)
            if xlog:
                keep &= x > 0
            if ylog:
                keep &= y > 0
            ax.scatter(
                x[keep],
                y[keep],
                s=5,
                c=[c for c, k in zip(point_colors, keep, strict=True) if k],
                alpha=0.55,
                linewidths=0,
                rasterized=True,
            )
            ring = keep & flagged
            if ring.any():
                ax.scatter(
                    x[ring],
                    y[ring],
                    s=28,
                    facecolors="none",
                    edgecolors=_TEXT,
                    linewidths=0.9,
                    rasterized=True,
                )
            if xlog:
                ax.set_xscale("log")
                _log_axis(ax.xaxis, tr, numticks=5)
            if ylog:
                ax.set_yscale("log")
                _log_axis(ax.yaxis, tr, numticks=6)
            if xcol == "pc1":
                share = list(explained) if explained is not None else []
                ax.set_xlabel(_pc_label(1, share, tr))
                ax.set_ylabel(_pc_label(2, share, tr))
                for axis in (ax.xaxis, ax.yaxis):
                    axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
                    axis.set_major_formatter(FuncFormatter(lambda v, _pos=None: tr.number(v, 0)))
            else:
                ax.set_xlabel(tr.variable(xcol, log=xlog))
                previous = panels[j - 1] if j else None
                if previous is not None and previous[1] == ycol and previous[3] == ylog:
                    ax.sharey(axes[j - 1])
                    ax.tick_params(axis="y", labelleft=False)
                else:
                    ax.set_ylabel(tr.variable(ycol, log=ylog))
                if ycol == "monetary" and ylog:
                    ax.yaxis.set_major_formatter(_money_formatter(tr))
                if not xlog:
                    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
                    ax.xaxis.set_major_formatter(_number_formatter(tr))
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles = [
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=6,
                markerfacecolor=colors[lab],
                markeredgecolor="none",
                label=name,
            )
            for lab, name in zip(order, _names_of(order, names), strict=True)
        ]
        if flagged.any():
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=7,
                    markerfacecolor="none",
                    markeredgecolor=_TEXT,
                    label=tr.t("legend.atypical"),
                )
            )
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=min(len(handles), 3),
            fontsize=8.5,
            handletextpad=0.3,
            columnspacing=1.2,
        )
    return fig


def _pc_label(i: int, explained: Sequence[float], tr: Translator) -> str:
    if len(explained) >= i:
        return tr.t("axis.pc_share", n=i, share=tr.percent(explained[i - 1], 0))
    return tr.t("axis.pc", n=i)


def plot_segment_shares(
    groups: Mapping[str, pd.DataFrame],
    *,
    tr: Translator,
    names: Mapping[str, Mapping[Any, str]] | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Share of customers next to share of revenue, per segment, per method.

    Parameters
    ----------
    groups : mapping of str to DataFrame
        Method key (``kmeans``, ``rfm``; title ``method.<key>``) -> one row per
        segment, in display order, with ``segment``, ``customer_share`` and
        ``revenue_share`` (fractions).
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Method key -> (segment -> display name).
    fig : Figure, optional
        Figure to draw into (cleared first).

    Returns
    -------
    Figure
    """
    sizes = [max(len(g), 1) for g in groups.values()]
    with style():
        fig = _own_figure(fig, _FULL, 0.3 * sum(sizes) + 0.8 * len(sizes) + 0.3)
        axes = np.atleast_1d(
            fig.subplots(len(sizes), 1, height_ratios=sizes, squeeze=False)
        ).ravel()
        upper = max(
            (
                float(np.nanmax(g[["customer_share", "revenue_share"]].to_numpy()))
                for g in groups.values()
                if len(g)
            ),
            default=1.0,
        )
        for ax, (method, frame) in zip(axes, groups.items(), strict=True):
            segments = frame["segment"].tolist()
            colors = segment_colors(segments)
            y = np.arange(len(segments))
            customers = frame["customer_share"].to_numpy(dtype=float)
            revenue = frame["revenue_share"].to_numpy(dtype=float)
            ax.barh(y - 0.2, customers, height=0.38, color="#cfcfcf", edgecolor="white")
            ax.barh(
                y + 0.2,
                revenue,
                height=0.38,
                color=[colors[s] for s in segments],
                edgecolor="white",
            )
            for yi, c, r in zip(y, customers, revenue, strict=True):
                for offset, value in ((-0.2, c), (0.2, r)):
                    ax.annotate(
                        tr.percent(value),
                        (value, yi + offset),
                        xytext=(3, 0),
                        textcoords="offset points",
                        va="center",
                        fontsize=7.5,
                        color=_TEXT,
                    )
            ax.set_yticks(y, _names_of(segments, (names or {}).get(method)))
            ax.set_ylim(len(segments) - 0.5, -0.5)
            ax.set_xlim(0, upper * 1.15)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.xaxis.set_major_formatter(_percent_formatter(tr))
            ax.set_title(tr.t(f"method.{method}"))
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="y", length=0)
        axes[-1].set_xlabel(tr.t("axis.share"))
        axes[0].legend(
            handles=[
                Patch(facecolor="#cfcfcf", label=tr.t("legend.customer_share")),
                Patch(facecolor=_TEXT, label=tr.t("legend.revenue_share")),
            ],
            loc="lower right",
            fontsize=8.5,
        )
    return fig


def plot_center_heatmap(
    centers: pd.DataFrame,
    *,
    tr: Translator,
    names: Mapping[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean of each standardised feature per cluster, as an annotated heat map.

    Parameters
    ----------
    centers : DataFrame
        One row per cluster (index: cluster label, in display order), one
        column per clustering feature; values in standard deviations from
        the average customer.
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Cluster -> display name.
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    values = centers.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) if values.size else 1.0
    limit = limit or 1.0
    rows, cols = values.shape
    with style():
        ax = _own_axes(ax, min(_FULL, 2.4 + 1.4 * cols), 0.45 * rows + 0.7)
        ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        for i in range(rows):
            for j in range(cols):
                v = values[i, j]
                ax.text(
                    j,
                    i,
                    tr.number(v, 2),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if abs(v) > 0.55 * limit else _TEXT,
                )
        ax.set_xticks(range(cols), [tr.variable(c, unit=False) for c in centers.columns])
        ax.set_yticks(range(rows), _names_of(list(centers.index), names))
        ax.tick_params(length=0)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.xaxis.tick_top()
    return ax


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def plot_rfm_map(
    grid: pd.DataFrame,
    *,
    tr: Translator,
    names: Mapping[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The RFM segment map: recency score against frequency-monetary score.

    Each cell is coloured by its segment and shows its number of customers;
    each segment is named once, in its most central cell.

    Parameters
    ----------
    grid : DataFrame
        One row per cell of the grid (empty cells included): ``r_score``,
        ``fm_score``, ``rfm_segment`` (key) and ``customers``.
    tr : Translator
        Language of the labels.
    names : mapping, optional
        Segment key -> display name.
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    needed = ("r_score", "fm_score", "rfm_segment", "customers")
    missing = [c for c in needed if c not in grid.columns]
    if missing:
        raise ColumnError(
            f"the RFM grid lacks the columns {', '.join(missing)}",
            fix="pass one row per (r_score, fm_score) cell with its segment and customers",
        )
    from matplotlib.patches import Rectangle

    r = grid["r_score"].to_numpy(dtype=int)
    fm = grid["fm_score"].to_numpy(dtype=int)
    segments = grid["rfm_segment"].tolist()
    counts = grid["customers"].to_numpy(dtype=float)
    colors = segment_colors(segments)
    # the cell that carries each segment's name: the one nearest its centre
    named: dict[Any, int] = {}
    for seg in dict.fromkeys(segments):
        idx = [i for i, s in enumerate(segments) if s == seg]
        cr, cf = np.mean(r[idx]), np.mean(fm[idx])
        named[seg] = min(idx, key=lambda i: ((r[i] - cr) ** 2 + (fm[i] - cf) ** 2, -fm[i], r[i]))
    n_r, n_fm = int(r.max(initial=1)), int(fm.max(initial=1))
    with style():
        ax = _own_axes(ax, 7.6, 5.2)
        for i, seg in enumerate(segments):
            color = colors[seg]
            ax.add_patch(
                Rectangle(
                    (r[i] - 0.5, fm[i] - 0.5),
                    1,
                    1,
                    facecolor=color,
                    edgecolor="white",
                    linewidth=2.5,
                )
            )
            ink = _ink(color)
            count = tr.number(counts[i])
            if named[seg] == i:
                name = _wrap(str((names or {}).get(seg, seg)), 13)
                ax.text(
                    r[i],
                    fm[i] + 0.1,
                    name,
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                    color=ink,
                    fontweight="bold",
                    linespacing=1.1,
                )
                ax.text(r[i], fm[i] - 0.05, count, ha="center", va="top", fontsize=10, color=ink)
            else:
                ax.text(r[i], fm[i], count, ha="center", va="center", fontsize=10, color=ink)
        ax.set_xlim(0.5, n_r + 0.5)
        ax.set_ylim(0.5, n_fm + 0.5)
        ax.set_xticks(range(1, n_r + 1))
        ax.set_yticks(range(1, n_fm + 1))
        ax.set_xlabel(tr.t("axis.r_score", best=n_r))
        ax.set_ylabel(tr.t("axis.fm_score", best=n_fm))
        ax.grid(False)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    return ax


def plot_crosstab(
    counts: pd.DataFrame,
    *,
    tr: Translator,
    row_names: Mapping[Any, str] | None = None,
    col_names: Mapping[Any, str] | None = None,
    row_label: str | None = None,
    col_label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Customers in each pair of segments of two methods, shaded by row share.

    Parameters
    ----------
    counts : DataFrame
        Rows: segments of one method, columns: segments of the other, values:
        customers (in display order).
    tr : Translator
        Language of the labels.
    row_names, col_names : mapping, optional
        Segment -> display name for rows and columns.
    row_label, col_label : str, optional
        Axis titles (the methods' names).
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
    """
    values = counts.to_numpy(dtype=float)
    totals = values.sum(axis=1, keepdims=True)
    shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    rows, cols = values.shape
    with style():
        ax = _own_axes(ax, min(_FULL, 2.4 + 1.1 * cols), 0.36 * rows + 1.0)
        ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(rows):
            for j in range(cols):
                if values[i, j] > 0:
                    ax.text(
                        j,
                        i,
                        tr.number(values[i, j]),
                        ha="center",
                        va="center",
                        fontsize=8.5,
                        color="white" if shares[i, j] > 0.6 else _TEXT,
                    )
        ax.set_xticks(
            range(cols), [_wrap(n, 12) for n in _names_of(list(counts.columns), col_names)]
        )
        ax.set_yticks(range(rows), _names_of(list(counts.index), row_names))
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.tick_params(length=0, labelsize=8.5)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if row_label:
            ax.set_ylabel(row_label)
        if col_label:
            ax.set_xlabel(col_label)
    return ax
