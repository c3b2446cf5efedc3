"""Every figure of the report, drawn from already computed summaries.

Plotting never computes: each function draws the dataclasses of
:mod:`custseg.distributions` (or small DataFrames) it is given, with at most
trivial reshaping. Figures are :class:`matplotlib.figure.Figure` objects
created directly (no pyplot state, no current axes) and rendered with the Agg
backend by :func:`render_png` / :func:`render_svg`.

One style for all figures: :func:`style` (seaborn's ``whitegrid`` theme and
``notebook`` context, a fixed colour-blind-safe palette, DejaVu Sans, 110 dpi),
applied by every ``plot_*`` function. Every word comes from the
:class:`~custseg.i18n.Translator` passed as ``tr``.

Conventions: ``plot_x(data, *, tr, ax=None) -> Axes`` for one-panel figures
(a new figure is made when ``ax`` is None; get it with ``ax.figure``) and
``plot_x(data, *, tr, fig=None) -> Figure`` for multi-panel ones.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

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

__all__ = [
    "DPI",
    "PALETTE",
    "plot_box",
    "plot_boxplots",
    "plot_countries",
    "plot_feature_histograms",
    "plot_findings",
    "plot_histogram",
    "plot_line_histograms",
    "plot_monthly",
    "render_png",
    "render_svg",
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

_BAR = PALETTE[0]
_ACCENT = PALETTE[3]
_MUTED = PALETTE[7]
_TEXT = "#262626"

# Figure sizes in inches (width, height).
_FULL = 9.0


def _rc() -> dict[str, Any]:
    import seaborn as sns  # lazy: seaborn pulls in scipy.stats

    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook", font_scale=0.85))
    rc.update(
        {
            "font.family": ["sans-serif"],
            "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "sans-serif"],
            "axes.prop_cycle": cycler(color=list(PALETTE)),
            "axes.titlesize": 10.5,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
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
    ...     fig = Figure(layout="constrained")
    """
    import matplotlib as mpl

    with mpl.rc_context(rc=_rc()):
        yield


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def render_png(fig: Figure, *, dpi: int = DPI, close: bool = True) -> bytes:
    """PNG bytes of ``fig`` drawn once by the Agg backend.

    ``Figure.savefig`` draws a figure with a layout engine twice (a dry run,
    then the real one); drawing the Agg canvas once and encoding its buffer
    with Pillow gives the same pixels for about half the time.

    Parameters
    ----------
    fig : Figure
        The figure (its layout engine, if any, runs during the draw).
    dpi : int, default DPI
        Resolution.
    close : bool, default True
        Clear the figure afterwards to free its artists.

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
        image.convert("RGB").save(buffer, format="png", dpi=(dpi, dpi))
    if close:
        fig.clear()
    return buffer.getvalue()


def render_svg(fig: Figure, *, close: bool = True) -> str:
    """SVG text of ``fig``; clears the figure unless ``close=False``."""
    buffer = io.StringIO()
    with style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    if close:
        fig.clear()
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
        fig = fig or _new_figure(_FULL, 6.0)
        fig.clear()
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
        fig = fig or _new_figure(_FULL, 1.45 * max(len(present), 1) + 0.3)
        fig.clear()
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
        fig = fig or _new_figure(_FULL, 6.2)
        fig.clear()
        axes = fig.subplots(3, 1, sharex=True)
        for ax, (values, label, color, money) in zip(axes, panels, strict=True):
            bars = ax.bar(x, values, color=color, width=0.72, edgecolor="white")
            for bar, is_partial in zip(bars, partial, strict=True):
                if is_partial:
                    bar.set_alpha(0.45)
                    bar.set_hatch("///")
                    bar.set_edgecolor(color)
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
        fig = fig or _new_figure(_FULL, 0.36 * max(n, 3) + 1.1)
        fig.clear()
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
        fig = fig or _new_figure(_FULL, 5.2)
        fig.clear()
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
                ax.xaxis.set_major_formatter(
                    _number_formatter(tr)
                    if i == 0
                    else FuncFormatter(lambda x, _pos=None: tr.number(x, 1))
                )
                ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
                ax.yaxis.set_major_formatter(_number_formatter(tr))
                ax.set_ylim(bottom=0)
                if j == 0:
                    ax.set_ylabel(tr.t("axis.customers_per_bin"))
        for ax in axes.ravel()[2 * len(hists.features) :]:
            ax.set_visible(False)
    return fig
