"""Figures: labels, scales and the number of drawn elements (no image comparison)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import duckdb
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle, StepPatch

from custseg import plots
from custseg.distributions import (
    CountryTotals,
    FeatureHistograms,
    MonthlyTotals,
    compute_line_distributions,
    feature_histograms,
)
from custseg.i18n import Translator

LINES = pd.DataFrame(
    {
        "invoice": ["1", "1", "2", "3", "4", "5", "C6", "7"],
        "stock_code": list("ABACADAE"),
        "description": ["MUG"] * 8,
        "quantity": [1.0, 2.0, 3.0, 4.0, 6.0, 1000.0, -3.0, 5.0],
        "invoice_date": pd.to_datetime(
            [
                "2011-01-05",
                "2011-01-05",
                "2011-01-20",
                "2011-02-03",
                "2011-02-14",
                "2011-03-01",
                "2011-03-02",
                "2011-03-15",
            ]
        ),
        "unit_price": [2.5, 1.0, 2.5, 5.0, 2.5, 1.0, 2.5, 0.0],
        "customer_id": ["c1", "c1", "c2", "c2", "c3", "c4", "c2", None],
        "country": ["United Kingdom"] * 2
        + ["France"] * 2
        + ["Germany", "United Kingdom"]
        + ["France", "United Kingdom"],
    }
)
LINES["amount"] = LINES["quantity"] * LINES["unit_price"]

FINDINGS = pd.DataFrame(
    {
        "finding": ["missing_customer_id", "cancellation_lines", "zero_price"],
        "rows": [135_080, 9_288, 2_515],
        "row_share": [0.249, 0.017, 0.0046],
        "revenue": [1_447_682.0, -896_812.0, 0.0],
    }
)


@pytest.fixture(scope="module")
def dist():
    con = duckdb.connect()
    con.register("frame_", LINES)
    con.execute("CREATE TABLE lines AS SELECT * FROM frame_")
    return compute_line_distributions(con, "lines", bins=5, top_countries=2)


@pytest.fixture(scope="module")
def features() -> FeatureHistograms:
    rng = np.random.default_rng(1)
    raw = pd.DataFrame(
        {
            "recency": rng.integers(0, 370, 300).astype(float),
            "frequency": rng.geometric(0.3, 300).astype(float),
            "monetary": np.exp(rng.normal(6, 1.2, 300)),
        }
    )
    transformed = np.log1p(raw)
    return feature_histograms(raw, (transformed - transformed.mean()) / transformed.std())


en, fr = Translator("en"), Translator("fr")


def bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_histogram_is_log_scaled_with_density_curve(dist):
    ax = plots.plot_histogram(dist.histograms["unit_price"], tr=en)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Unit price (£, log scale)"
    assert ax.get_ylabel() == "Lines per bin"
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 1
    np.testing.assert_allclose(steps[0].get_data().values, dist.histograms["unit_price"].heights)
    (curve,) = ax.get_lines()
    assert len(curve.get_xdata()) == len(dist.histograms["unit_price"].density_x)
    assert ax.get_legend().get_texts()[0].get_text() == "Smoothed density"


def test_histogram_draws_into_the_given_axes(dist):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_histogram(dist.histograms["quantity"], tr=fr, ax=ax) is ax
    assert ax.get_xlabel() == "Quantité par ligne (unités, échelle log.)"
    assert ax.get_ylabel() == "Lignes par classe"


def test_line_histograms_2x2_in_french(dist):
    fig = plots.plot_line_histograms(dist.histograms, tr=fr)
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 4
    assert [a.get_xlabel() for a in axes] == [
        "Quantité par ligne (unités, échelle log.)",
        "Prix unitaire (£, échelle log.)",
        "Montant de la ligne (£, échelle log.)",
        "Montant de la commande (£, échelle log.)",
    ]
    assert axes[3].get_ylabel() == "Commandes par classe"
    assert all(a.get_xscale() == "log" for a in axes)
    assert fig.get_layout_engine() is not None  # constrained layout, no tight_layout loop


def test_boxplots_from_stats_show_the_fliers(dist):
    fig = plots.plot_boxplots(dist.boxes, tr=en)
    assert len(fig.axes) == 4
    quantity_ax = fig.axes[0]
    assert quantity_ax.get_xscale() == "log"
    fliers = [ln for ln in quantity_ax.get_lines() if ln.get_marker() == "o"]
    assert [list(ln.get_xdata()) for ln in fliers] == [[1000.0]]
    medians = [ln for ln in quantity_ax.get_lines() if ln.get_color() == plots.PALETTE[3]]
    assert medians and set(medians[0].get_xdata()) == {4.0}
    texts = [t.get_text() for t in quantity_ax.texts]
    assert texts == ["1 above, 0 below the whiskers"]


def test_monthly_has_three_panels_with_one_bar_per_month(dist):
    fig = plots.plot_monthly(dist.monthly, tr=fr)
    revenue, orders, customers = fig.axes
    assert [len(bars(a)) for a in fig.axes] == [3, 3, 3]
    assert [b.get_height() for b in bars(orders)] == [2, 2, 3]
    assert [b.get_height() for b in bars(revenue)] == pytest.approx([12.0, 35.0, 992.5])
    assert revenue.get_ylabel() == "Chiffre d’affaires (£)"
    assert customers.get_ylabel() == "Clients actifs"
    # first and last months are incomplete: hatched
    assert [b.get_hatch() for b in bars(customers)] == ["///", None, "///"]
    assert revenue.get_legend().get_texts()[0].get_text() == "Mois incomplet"
    labels = [t.get_text() for t in customers.get_xticklabels()]
    assert labels == ["janv.\n2011", "févr.", "mars"]


def test_monthly_without_partial_month_has_no_legend():
    m = MonthlyTotals(["2011-01"], [10.0], [1], [1], [1], [False])
    fig = plots.plot_monthly(m, tr=en)
    assert fig.axes[0].get_legend() is None
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["Jan\n2011"]


def test_countries_bars_labels_and_log_scale(dist):
    ax = plots.plot_countries(dist.countries, tr=fr)
    assert len(bars(ax)) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Royaume-Uni",
        "France",
        "Autres (1 pays)",
    ]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Chiffre d’affaires (£, échelle log.)"
    assert ax.texts[0].get_text() == "1,0\u00a0k£ · 96,6\u202f%"


def test_countries_with_negative_revenue_fall_back_to_linear():
    c = CountryTotals(["A", "B"], [100.0, -5.0], [1, 1], [1, 1], [1, 1], [1.05, -0.05], 2, 0)
    ax = plots.plot_countries(c, tr=en)
    assert ax.get_xscale() == "linear"


def test_dollar_sign_in_data_text_is_not_mathtext():
    c = CountryTotals(["A$B$C", "X"], [100.0, 5.0], [1, 1], [1, 1], [1, 1], [0.95, 0.05], 2, 0)
    ax = plots.plot_countries(c, tr=en)
    png = plots.render_png(ax.figure)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_findings_rows_and_revenue_panels():
    fig = plots.plot_findings(FINDINGS, tr=en)
    left, right = fig.axes
    assert len(bars(left)) == 3 and len(bars(right)) == 3
    assert left.get_xscale() == "log" and right.get_xscale() == "linear"
    assert [t.get_text() for t in left.get_yticklabels()] == [
        "Missing customer id",
        "Cancellations",
        "Zero unit price",
    ]
    assert [b.get_width() for b in bars(right)] == [1_447_682.0, -896_812.0, 0.0]
    assert left.texts[0].get_text() == "135,080 (24.9%)"
    assert right.texts[1].get_text() == "-£897k"
    assert right.get_xlabel() == "Net revenue (£)"


def test_findings_need_their_columns():
    from custseg.errors import ColumnError

    with pytest.raises(ColumnError, match="revenue"):
        plots.plot_findings(FINDINGS.drop(columns="revenue"), tr=en)


def test_feature_histograms_before_and_after(features):
    fig = plots.plot_feature_histograms(features, tr=en)
    assert len(fig.axes) == 6
    top, bottom = fig.axes[:3], fig.axes[3:]
    assert [a.get_xlabel() for a in top] == [
        "Recency (days)",
        "Frequency (orders)",
        "Monetary value (£)",
    ]
    assert bottom[2].get_xlabel() == "Monetary value, transformed"
    skew = features.features[2].before_skew
    assert top[2].get_title(loc="left") == f"Before · skewness {en.number(skew, 2)}"
    assert top[0].get_ylabel() == "Customers"


def test_render_png_size_and_svg(dist):
    fig = plots.plot_monthly(dist.monthly, tr=en)
    width, height = fig.get_size_inches()
    png = plots.render_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w = int.from_bytes(png[16:20], "big")
    h = int.from_bytes(png[20:24], "big")
    assert (w, h) == (round(width * plots.DPI), round(height * plots.DPI))
    assert fig.axes == []  # closed (cleared) after rendering
    svg = plots.render_svg(plots.plot_countries(dist.countries, tr=en).figure)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    hrefs = [v for el in root.iter() for k, v in el.attrib.items() if k.endswith("href")]
    assert all(h.startswith(("#", "data:")) for h in hrefs)  # nothing to fetch


def test_figures_draw_without_pyplot_and_cli_imports_stay_light():
    code = (
        "import sys, custseg, custseg.i18n, custseg.report, custseg.errors\n"
        "assert 'matplotlib' not in sys.modules, 'report/i18n import matplotlib'\n"
        "assert 'custseg.plots' not in sys.modules\n"
        "from custseg import plots\n"
        "from custseg.distributions import MonthlyTotals\n"
        "from custseg.i18n import Translator\n"
        "fig = plots.plot_monthly(MonthlyTotals(['2011-01'], [1.0], [1], [1], [1], [False]),"
        " tr=Translator())\n"
        "plots.render_png(fig)\n"
        "import matplotlib.pyplot as plt\n"  # seaborn imports it, but we never use its state
        "assert plt.get_fignums() == [], 'a pyplot figure was created'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_style_does_not_leak_into_global_rcparams(dist):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    plots.render_png(plots.plot_boxplots(dist.boxes, tr=en))
    with plots.style():
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == plots.PALETTE[0]
    assert dict(mpl.rcParams) == before


def test_every_plot_line_has_a_translated_label(dist):
    fig = plots.plot_line_histograms(dist.histograms, tr=fr)
    lines = [ln for a in fig.axes for ln in a.get_lines() if isinstance(ln, Line2D)]
    assert len(lines) == 4  # one density per panel
    assert isinstance(fig.axes[0], type(fig.axes[1]))
    assert not any(isinstance(c, PathCollection) for a in fig.axes for c in a.collections)
