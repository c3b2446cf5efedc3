"""Figure layout: every text inside the figure, nothing overlapping, no wasted margins.

Each plot function is drawn (Agg) on data with long labels: long country and
segment names, amounts in the millions, French number formats. The layout
engine of :mod:`custseg.plots` sizes each panel's margins from its texts;
these tests check the drawn result, whatever the engine does internally.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from custseg import plots
from custseg.distributions import (
    CountryTotals,
    compute_line_distributions,
    feature_histograms,
)
from custseg.i18n import Translator

PAD = plots._PAD_POINTS * plots.DPI / 72  # space kept at the figure edges (pixels)

LONG_COUNTRIES = [
    "United Kingdom",
    "Saint Vincent and the Grenadines",
    "Democratic Republic of the Congo",
    "Bosnia and Herzegovina",
    "France",
    "Germany",
    "Norway",
    "Spain",
    "Belgium",
    "Portugal",
    "Japan",
    "Iceland",
]

SEGMENTS = [0, 1, 2, 3]
LONG_NAMES = {
    0: "Wholesale buyers spending millions",
    1: "High-value loyal",
    2: "Lapsed mid spenders from abroad",
    3: "Occasional low spenders",
}


def _lines() -> pd.DataFrame:
    """600 lines over 14 months; some customers spend millions."""
    rng = np.random.default_rng(7)
    n = 600
    quantity = rng.integers(1, 5000, n).astype(float)
    quantity[:20] = -quantity[:20]
    return pd.DataFrame(
        {
            "invoice": [f"{'C' if i < 20 else ''}{1000 + i // 3}" for i in range(n)],
            "stock_code": rng.choice(["A", "B", "POST"], n),
            "description": ["MUG"] * n,
            "quantity": quantity,
            "invoice_date": pd.Timestamp("2010-12-05")
            + pd.to_timedelta(rng.integers(0, 420, n), unit="D"),
            "unit_price": np.exp(rng.normal(3.0, 3.0, n)).round(2),
            "customer_id": [f"c{i % 90}" for i in range(n)],
            "country": rng.choice(LONG_COUNTRIES, n),
        }
    ).assign(amount=lambda d: d["quantity"] * d["unit_price"])


@pytest.fixture(scope="module")
def dist():
    con = duckdb.connect()
    con.register("frame_", _lines())
    con.execute("CREATE TABLE lines AS SELECT * FROM frame_")
    return compute_line_distributions(con, "lines", bins=30, top_countries=8)


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(3)
    raw = pd.DataFrame(
        {
            "recency": rng.integers(0, 700, 400).astype(float),
            "frequency": rng.geometric(0.05, 400).astype(float),
            "monetary": np.exp(rng.normal(12, 3.0, 400)),  # up to hundreds of millions
        }
    )
    logged = np.log1p(raw)
    return feature_histograms(raw, (logged - logged.mean()) / logged.std())


K_TABLE = pd.DataFrame(
    {
        "k": list(range(2, 13)),
        "inertia": [9.5e6 / k for k in range(2, 13)],
        "silhouette": np.linspace(0.5, 0.2, 11),
        "calinski_harabasz": np.linspace(1_234_567, 800_000, 11),
        "davies_bouldin": np.linspace(0.8, 1.3, 11),
    }
)

BOXES = {
    feature: [
        {
            "segment": s,
            "q1": scale * (s + 1),
            "median": scale * (s + 2),
            "q3": scale * (s + 4),
            "whislo": scale * 0.5,
            "whishi": scale * (s + 9),
            "fliers": [scale * 40.0],
        }
        for s in SEGMENTS
    ]
    for feature, scale in (("monetary", 250_000.0), ("frequency", 3.0), ("recency", 40.0))
}


def _points() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    return pd.DataFrame(
        {
            "recency": rng.integers(0, 700, n).astype(float),
            "frequency": rng.geometric(0.1, n).astype(float),
            "monetary": np.exp(rng.normal(10, 3, n)),
            "pc1": rng.normal(0, 3, n),
            "pc2": rng.normal(0, 1, n),
            "kmeans_cluster": rng.choice(SEGMENTS, n),
            "is_outlier": rng.random(n) < 0.05,
        }
    )


def _shares() -> dict[str, pd.DataFrame]:
    rfm = ["champions", "loyal_customers", "at_risk", "cant_lose_them", "lost"]
    return {
        "kmeans": pd.DataFrame(
            {
                "segment": SEGMENTS,
                "customer_share": [0.05, 0.25, 0.3, 0.4],
                "revenue_share": [0.62, 0.2, 0.1, 0.08],
            }
        ),
        "rfm": pd.DataFrame(
            {
                "segment": rfm,
                "customer_share": [0.1, 0.2, 0.2, 0.1, 0.4],
                "revenue_share": [0.5, 0.2, 0.1, 0.15, 0.05],
            }
        ),
    }


def _rfm_grid(tr: Translator) -> pd.DataFrame:
    rows = []
    for r in range(1, 6):
        for fm in range(1, 6):
            key = "champions" if r + fm >= 8 else "cant_lose_them" if r <= 2 < fm else "lost"
            rows.append((r, fm, key, 1_000 * r * fm))
    return pd.DataFrame(rows, columns=["r_score", "fm_score", "rfm_segment", "customers"])


FINDINGS = pd.DataFrame(
    {
        "finding": [
            "missing_customer_id",
            "cancellation_lines",
            "bad_debt_adjustment",
            "non_product_codes",
            "extreme_quantity",
        ],
        "rows": [1_350_800, 92_880, 3, 0, 152],
        "row_share": [0.249, 0.017, 0.00001, 0.0, 0.0003],
        "revenue": [14_476_820.0, -8_968_120.0, -1_234_567.0, np.nan, 441_000.0],
    }
)


def _centers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recency": [-1.32, -0.89, 0.49, 1.08],
            "frequency": [2.29, 0.75, 0.01, -0.83],
            "monetary": [1.87, 0.72, 0.32, -0.93],
        },
        index=SEGMENTS,
    )


def _crosstab() -> pd.DataFrame:
    return pd.DataFrame(
        [[3000, 1200, 0, 5], [10, 2500, 300, 0], [0, 40, 1500, 900]],
        index=["champions", "at_risk", "lost"],
        columns=SEGMENTS,
    )


def _silhouette():
    rng = np.random.default_rng(2)
    clusters = rng.choice(SEGMENTS, 400)
    return clusters, rng.uniform(-0.2, 0.8, 400)


CASES = {
    "histogram": lambda d, f, tr: plots.plot_histogram(d.histograms["unit_price"], tr=tr),
    "line_histograms": lambda d, f, tr: plots.plot_line_histograms(d.histograms, tr=tr),
    "box": lambda d, f, tr: plots.plot_box(d.boxes["amount"], tr=tr),
    "boxplots": lambda d, f, tr: plots.plot_boxplots(d.boxes, tr=tr),
    "monthly": lambda d, f, tr: plots.plot_monthly(d.monthly, tr=tr),
    "countries": lambda d, f, tr: plots.plot_countries(d.countries, tr=tr),
    "findings": lambda d, f, tr: plots.plot_findings(FINDINGS, tr=tr),
    "feature_histograms": lambda d, f, tr: plots.plot_feature_histograms(f, tr=tr),
    "elbow": lambda d, f, tr: plots.plot_elbow(K_TABLE, chosen_k=4, knee=5, tr=tr),
    "k_scores": lambda d, f, tr: plots.plot_k_scores(
        K_TABLE, chosen_k=4, admissible=range(3, 10), tr=tr
    ),
    "silhouette": lambda d, f, tr: plots.plot_silhouette_diagram(
        *_silhouette(), names=LONG_NAMES, average=0.3141, tr=tr
    ),
    "k_distance": lambda d, f, tr: plots.plot_k_distance(
        [[i, 0.01 * 1.05**i] for i in range(0, 200, 5)],
        k=9,
        eps=0.5,
        knee_eps=0.4,
        knee_index=150,
        tr=tr,
    ),
    "segment_boxplots": lambda d, f, tr: plots.plot_segment_boxplots(
        BOXES, names=LONG_NAMES, tr=tr
    ),
    "segment_scatter": lambda d, f, tr: plots.plot_segment_scatter(
        _points(),
        label_col="kmeans_cluster",
        names=LONG_NAMES,
        order=SEGMENTS,
        explained=[0.6812, 0.2154],
        tr=tr,
    ),
    "segment_shares": lambda d, f, tr: plots.plot_segment_shares(
        _shares(),
        names={"kmeans": LONG_NAMES, "rfm": {k: tr.segment_name(k) for k in plots.RFM_COLORS}},
        tr=tr,
    ),
    "center_heatmap": lambda d, f, tr: plots.plot_center_heatmap(
        _centers(), names=LONG_NAMES, tr=tr
    ),
    "rfm_map": lambda d, f, tr: plots.plot_rfm_map(
        _rfm_grid(tr), names={k: tr.segment_name(k) for k in plots.RFM_COLORS}, tr=tr
    ),
    "crosstab": lambda d, f, tr: plots.plot_crosstab(
        _crosstab(),
        row_names={k: tr.segment_name(k) for k in plots.RFM_COLORS},
        col_names=LONG_NAMES,
        row_label=tr.t("method.rfm"),
        col_label=tr.t("method.kmeans"),
        tr=tr,
    ),
}


def _figure(out) -> Figure:
    return out if isinstance(out, Figure) else out.figure


def _draw(fig: Figure):
    canvas = FigureCanvasAgg(fig)
    with plots.style():
        canvas.draw()
    return canvas.get_renderer()


def _drawn_tick_labels(axis) -> list[Text]:
    """Tick labels ``Axis.draw`` drew: those of ticks inside the view interval."""
    transform = axis.get_transform()
    lo, hi = sorted(transform.transform(np.asarray(axis.get_view_interval(), dtype=float)))
    tol = 1e-9 * (hi - lo)
    out = []
    for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
        if lo - tol <= transform.transform(tick.get_loc()) <= hi + tol:
            out += [t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text()]
    return out


def _drawn_texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty text of the figure that was drawn."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                ticks |= {id(tick.label1), id(tick.label2)}
            if ax.get_visible() and axis.get_visible():
                drawn += _drawn_tick_labels(axis)
    hidden_axes = [ax for ax in fig.axes if not ax.get_visible()]
    for text in fig.findobj(Text):
        if id(text) in ticks or not (text.get_visible() and text.get_text()):
            continue
        if any(text in ax.findobj(Text) for ax in hidden_axes):
            continue
        drawn.append(text)
    return drawn


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area (pixels²) shared by two boxes."""
    return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))


def assert_laid_out(fig: Figure) -> None:
    """Texts inside the figure, clear of the axis labels and of other panels;
    margins no wider than the padding."""
    renderer = _draw(fig)
    box = fig.bbox
    texts = _drawn_texts(fig)
    assert texts
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert extent.x0 >= 0 and extent.y0 >= 0 and extent.x1 <= box.x1 and extent.y1 <= box.y1, (
            f"{text.get_text()!r} at {extent.extents.round(1)} leaves the figure {box.extents}"
        )
    panels = []
    for ax in (a for a in fig.axes if a.get_visible()):
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            if not (label.get_visible() and label.get_text()):
                continue
            extent = label.get_window_extent(renderer)
            for tick in _drawn_tick_labels(axis):
                assert _overlap(tick.get_window_extent(renderer), extent) == 0, (
                    f"tick label {tick.get_text()!r} overlaps the axis label {label.get_text()!r}"
                )
        panels.append(ax.get_tightbbox(renderer))
    panels += [legend.get_window_extent(renderer) for legend in fig.legends]
    for i, a in enumerate(panels):
        for b in panels[i + 1 :]:
            assert _overlap(a, b) < 1.0, f"panels overlap: {a.extents} and {b.extents}"
    used = Bbox.union(panels)
    margins = (used.x0, box.x1 - used.x1, used.y0, box.y1 - used.y1)
    assert min(margins) >= 0
    assert max(margins) <= PAD + 3, f"empty margins {np.round(margins, 1)} (padding {PAD:.1f})"


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_plot_keeps_its_texts_inside_and_apart(case, lang, dist, features):
    fig = _figure(CASES[case](dist, features, Translator(lang)))
    assert fig.get_layout_engine() is not None
    assert_laid_out(fig)


def test_long_country_names_take_room_from_the_bars_not_the_page(dist):
    fig = _figure(plots.plot_countries(dist.countries, tr=Translator("en")))
    _draw(fig)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Saint Vincent and the Grenadines" in labels
    # the panel starts right of its longest name: the layout measured it
    renderer = fig.canvas.get_renderer()
    widest = max(t.get_window_extent(renderer).width for t in ax.get_yticklabels())
    assert ax.bbox.x0 >= PAD + widest
    assert ax.bbox.x0 < PAD + widest + 20  # and not much further


def test_same_figure_same_bytes(dist):
    def png():
        return plots.render_png(plots.plot_findings(FINDINGS, tr=Translator("fr")))

    assert png() == png()
    fig = plots.plot_monthly(dist.monthly, tr=Translator("en"))
    assert plots.render_png(fig) == plots.render_png(fig)  # laid out again: same place


def test_texts_added_after_plotting_are_laid_out_at_draw_time():
    tr = Translator("en")
    ax = plots.plot_elbow(K_TABLE, chosen_k=4, knee=5, tr=tr)
    ax.set_title("A title added by the caller, long enough to need its own room")
    ax.set_ylabel("Inertia\n(sum of squared distances,\nthree lines)")
    ax.tick_params(axis="x", labelrotation=60)
    ax.set_xticks(K_TABLE["k"], [f"k = {k:,} segments" for k in K_TABLE["k"] * 1000])
    assert_laid_out(ax.figure)


def test_figures_off_the_grid_fall_back_to_constrained_layout(monkeypatch):
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    calls = []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(
        ConstrainedLayoutEngine,
        "execute",
        lambda self, fig: calls.append(fig) or execute(self, fig),
    )
    with plots.style():
        fig = plots._new_figure(5.0, 3.0)
        ax = fig.add_subplot()
        image = ax.imshow(np.arange(12.0).reshape(3, 4) * 1e6, aspect="auto")
        fig.colorbar(image, ax=ax, label="Revenue (£)")
        ax.set_ylabel("Segment")
    renderer = _draw(fig)
    assert calls == [fig]  # a colorbar is not on the grid
    for text in _drawn_texts(fig):
        extent = text.get_window_extent(renderer)
        assert extent.x0 >= 0 and extent.x1 <= fig.bbox.x1
    assert not calls[1:]
    _draw(plots.plot_elbow(K_TABLE, chosen_k=4, knee=5, tr=Translator("en")).figure)
    assert len(calls) == 1  # the report's figures never need it


def test_an_internal_failure_of_the_engine_falls_back_to_constrained_layout(monkeypatch):
    """The engine reads private matplotlib attributes: if a release changes them, the
    figure is laid out by constrained layout instead of not being drawn."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    def broken(self, renderer):
        raise AttributeError("'XAxis' object has no attribute '_update_ticks'")

    monkeypatch.setattr(plots._Panel, "measure", broken)
    ax = plots.plot_elbow(K_TABLE, chosen_k=4, knee=5, tr=Translator("en"))
    _draw(ax.figure)
    with plots.style():
        ref = plots.plot_elbow(K_TABLE, chosen_k=4, knee=5, tr=Translator("en"))
        ref.figure.set_layout_engine(ConstrainedLayoutEngine())
    _draw(ref.figure)
    assert np.allclose(ax.get_position().bounds, ref.get_position().bounds)


names = (
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ÉéèàçôœABCDEFGHIJKLMNOP-'’"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=12)
@given(
    countries=st.lists(names, min_size=1, max_size=9, unique=True),
    magnitude=st.floats(0, 9),
    lang=st.sampled_from(["en", "fr"]),
)
def test_countries_of_any_name_and_revenue_fit(countries, magnitude, lang):
    revenue = [10**magnitude / (i + 1) for i in range(len(countries))]
    total = sum(revenue)
    totals = CountryTotals(
        countries,
        revenue,
        [1] * len(countries),
        [1] * len(countries),
        [1] * len(countries),
        [r / total for r in revenue],
        len(countries),
        0,
    )
    assert_laid_out(_figure(plots.plot_countries(totals, tr=Translator(lang))))


@settings(max_examples=12)
@given(
    segment_names=st.lists(names, min_size=1, max_size=6, unique=True),
    scale=st.floats(0, 8),
    lang=st.sampled_from(["en", "fr"]),
)
def test_segment_boxplots_with_any_names_and_spend_fit(segment_names, scale, lang):
    stats = {
        feature: [
            {
                "segment": s,
                "q1": 10**scale * (s + 1),
                "median": 10**scale * (s + 2),
                "q3": 10**scale * (s + 3),
                "whislo": 10**scale * 0.5,
                "whishi": 10**scale * (s + 6),
                "fliers": [],
            }
            for s in range(len(segment_names))
        ]
        for feature in ("monetary", "frequency", "recency")
    }
    fig = plots.plot_segment_boxplots(
        stats, names=dict(enumerate(segment_names)), tr=Translator(lang)
    )
    assert_laid_out(fig)
