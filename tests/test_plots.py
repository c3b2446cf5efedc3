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
from matplotlib.colors import to_rgb
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
from custseg.errors import ColumnError
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
    assert isinstance(fig.get_layout_engine(), plots._TextMarginLayout)  # margins from the texts


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
    assert png[25] == 3  # colour type 3: a 256-colour palette, a third of true colour
    svg = plots.render_svg(plots.plot_countries(dist.countries, tr=en).figure)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    hrefs = [v for el in root.iter() for k, v in el.attrib.items() if k.endswith("href")]
    assert all(h.startswith(("#", "data:")) for h in hrefs)  # nothing to fetch


def test_figures_draw_without_pyplot_and_cli_imports_stay_light():
    code = (
        "import sys, custseg, custseg.i18n, custseg.report, custseg.errors\n"
        "import custseg.report_builder, custseg.cli\n"
        "assert 'matplotlib' not in sys.modules, 'report/i18n/cli import matplotlib'\n"
        "assert 'custseg.plots' not in sys.modules\n"
        "from custseg import plots\n"
        "from custseg.distributions import MonthlyTotals\n"
        "from custseg.i18n import Translator\n"
        "fig = plots.plot_monthly(MonthlyTotals(['2011-01'], [1.0], [1], [1], [1], [False]),"
        " tr=Translator())\n"
        "plots.render_png(fig)\n"
        "assert 'seaborn' not in sys.modules and 'scipy' not in sys.modules, 'slow imports'\n"
        "import matplotlib.pyplot as plt\n"
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


# -- choosing hyper-parameters and segments -----------------------------------------

K_TABLE = pd.DataFrame(
    {
        "k": [2, 3, 4, 5],
        "inertia": [100.0, 60.0, 45.0, 40.0],
        "silhouette": [0.50, 0.40, 0.42, 0.30],
        "calinski_harabasz": [900.0, 800.0, 850.0, 700.0],
        "davies_bouldin": [0.8, 1.0, 0.9, 1.1],
    }
)


def test_elbow_marks_the_knee_and_the_chosen_k():
    ax = plots.plot_elbow(K_TABLE, chosen_k=4, knee=3, tr=en)
    curve, ring = ax.get_lines()[0], ax.get_lines()[-1]
    assert list(curve.get_xdata()) == [2, 3, 4, 5]
    assert list(curve.get_ydata()) == [100.0, 60.0, 45.0, 40.0]
    assert list(ring.get_xdata()) == [4] and list(ring.get_ydata()) == [45.0]
    knee = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert [list(ln.get_xdata()) for ln in knee] == [[3, 3]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Elbow (Kneedle): k = 3",
        "Chosen: k = 4",
    ]
    assert list(ax.get_xticks()) == [2, 3, 4, 5]
    assert ax.get_xlabel() == "Number of segments k"


def test_elbow_without_knee_has_no_dashed_line():
    ax = plots.plot_elbow(K_TABLE, chosen_k=3, knee=None, tr=fr)
    assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Retenu : k = 3"]


def test_k_scores_three_panels_hollow_for_inadmissible_k():
    fig = plots.plot_k_scores(K_TABLE, chosen_k=4, admissible=[3, 4, 5], tr=en)
    assert len(fig.axes) == 3
    titles = [a.get_title(loc="left") for a in fig.axes]
    assert titles == [
        "Silhouette\nhigher is better",
        "Calinski-Harabasz\nhigher is better",
        "Davies-Bouldin\nlower is better",
    ]
    for ax, column in zip(
        fig.axes, ["silhouette", "calinski_harabasz", "davies_bouldin"], strict=True
    ):
        curve, hollow = ax.get_lines()[:2]
        assert list(curve.get_ydata()) == list(K_TABLE[column])
        assert list(hollow.get_xdata()) == [2]  # only k = 2 is not admissible
        assert hollow.get_markerfacecolor() == "white"
        chosen = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert list(chosen[0].get_xdata()) == [4, 4]


def test_silhouette_diagram_one_band_per_cluster_sorted():
    clusters = [0, 0, 0, 1, 1]
    values = [0.1, 0.7, 0.4, -0.2, 0.5]
    ax = plots.plot_silhouette_diagram(
        clusters, values, names={0: "Big", 1: "Small"}, average=0.3, tr=en
    )
    bands = [
        c
        for c in ax.collections
        if type(c).__name__ in ("FillBetweenPolyCollection", "PolyCollection")
    ]
    assert len(bands) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Big", "Small"]
    xs = np.concatenate([b.get_paths()[0].vertices[:, 0] for b in bands])
    assert xs.min() == pytest.approx(-0.2) and xs.max() == pytest.approx(0.7)
    mean = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert list(mean[0].get_xdata()) == [0.3, 0.3]
    assert ax.get_legend().get_texts()[0].get_text() == "Mean silhouette: 0.300"
    with pytest.raises(ColumnError):
        plots.plot_silhouette_diagram([0, 1], [0.5], tr=en)


def test_k_distance_log_scale_with_eps_and_knee():
    curve = [[0, 0.05], [10, 0.1], [20, 0.2], [30, 1.5]]
    ax = plots.plot_k_distance(curve, k=4, eps=0.3, knee_eps=0.2, knee_index=20, tr=fr)
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert list(lines[0].get_ydata()) == [0.05, 0.1, 0.2, 1.5]
    assert [list(ln.get_ydata()) for ln in lines if ln.get_linestyle() in (":", "--")] == [
        [0.2, 0.2],
        [0.3, 0.3],
    ]
    assert ax.get_ylabel() == "k-distance (k = 4, échelle log.)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Coude : 0,200", "eps retenu : 0,300"]


BOXES = {
    "monetary": [
        {
            "segment": 0,
            "q1": 100.0,
            "median": 200.0,
            "q3": 400.0,
            "whislo": 50.0,
            "whishi": 900.0,
            "fliers": [5000.0, 8000.0],
        },
        {
            "segment": 1,
            "q1": 10.0,
            "median": 20.0,
            "q3": 30.0,
            "whislo": 5.0,
            "whishi": 60.0,
            "fliers": [],
        },
    ],
    "recency": [
        {
            "segment": 0,
            "q1": 5.0,
            "median": 10.0,
            "q3": 20.0,
            "whislo": 0.0,
            "whishi": 40.0,
            "fliers": [90.0],
        },
        {
            "segment": 1,
            "q1": 100.0,
            "median": 200.0,
            "q3": 300.0,
            "whislo": 50.0,
            "whishi": 370.0,
            "fliers": [],
        },
    ],
}


def test_segment_boxplots_from_stats():
    fig = plots.plot_segment_boxplots(BOXES, names={0: "VIP", 1: "Lapsed"}, tr=en)
    monetary, recency = [a for a in fig.axes if a.get_visible()]
    assert monetary.get_xscale() == "log" and recency.get_xscale() == "linear"
    # Labels wrap onto two lines so that side-by-side panels do not collide.
    assert monetary.get_xlabel().replace("\n", " ") == "Monetary value (£, log scale)"
    assert all(len(line) <= 24 for line in monetary.get_xlabel().split("\n"))
    assert recency.get_xlabel() == "Recency (days)"
    boxes = bars(monetary)
    assert [(b.get_x(), b.get_width()) for b in boxes] == [(100.0, 300.0), (10.0, 20.0)]
    assert [b.get_y() + b.get_height() / 2 for b in boxes] == [0.0, 1.0]
    assert [t.get_text() for t in monetary.get_yticklabels()] == ["VIP", "Lapsed"]
    fliers = [ln for ln in monetary.get_lines() if ln.get_marker() == "o"]
    assert list(fliers[0].get_xdata()) == [5000.0, 8000.0]
    medians = monetary.collections[-1].get_segments()
    assert [seg[0][0] for seg in medians] == [200.0, 20.0]
    # segment colours are the same in every figure
    assert boxes[0].get_facecolor()[:3] == pytest.approx(to_rgb(plots.CLUSTER_PALETTE[0]))


def test_segment_boxplots_linear_when_values_not_positive():
    stats = {"monetary": [dict(BOXES["monetary"][0], whislo=-10.0)]}
    fig = plots.plot_segment_boxplots(stats, tr=en)
    assert fig.axes[0].get_xscale() == "linear"


POINTS = pd.DataFrame(
    {
        "recency": [1.0, 5.0, 200.0, 300.0, 10.0],
        "frequency": [10.0, 8.0, 1.0, 1.0, 2.0],
        "monetary": [5000.0, 3000.0, 100.0, 0.0, 800.0],
        "pc1": [2.0, 1.5, -1.0, -1.2, 0.1],
        "pc2": [0.5, 0.2, -0.3, 0.1, 1.0],
        "kmeans_cluster": [0, 0, 1, 1, 0],
        "is_outlier": [True, False, False, False, False],
    }
)


def test_scatter_three_panels_log_money_ringed_outliers():
    fig = plots.plot_segment_scatter(
        POINTS,
        label_col="kmeans_cluster",
        names={0: "VIP", 1: "Lapsed"},
        explained=[0.75, 0.2],
        tr=en,
    )
    rm, fm, pca = fig.axes
    assert rm.get_yscale() == "log" and fm.get_xscale() == "log" and pca.get_xscale() == "linear"
    # the customer with a zero spend cannot sit on a log axis
    assert len(rm.collections[0].get_offsets()) == 4
    assert len(pca.collections[0].get_offsets()) == 5
    assert [list(c.get_offsets()[0]) for c in pca.collections[1:]] == [[2.0, 0.5]]  # ringed
    assert pca.get_xlabel() == "Principal component 1\n(75% of the variance)"
    assert fm.get_ylabel() == ""  # shares the money axis of the first panel
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["VIP", "Lapsed", "Atypical customer"]
    assert all(c.get_rasterized() for c in rm.collections)


def test_scatter_needs_the_label_column():
    with pytest.raises(ColumnError, match="dbscan_cluster"):
        plots.plot_segment_scatter(POINTS, label_col="dbscan_cluster", tr=en)


def test_segment_shares_pairs_of_bars():
    groups = {
        "kmeans": pd.DataFrame(
            {"segment": [0, 1], "customer_share": [0.1, 0.9], "revenue_share": [0.6, 0.4]}
        ),
        "rfm": pd.DataFrame(
            {
                "segment": ["champions", "lost"],
                "customer_share": [0.2, 0.8],
                "revenue_share": [0.7, 0.3],
            }
        ),
    }
    names = {"kmeans": {0: "VIP", 1: "Rest"}, "rfm": {"champions": "Champions", "lost": "Perdus"}}
    fig = plots.plot_segment_shares(groups, names=names, tr=fr)
    km, rfm = fig.axes
    assert [b.get_width() for b in bars(km)] == [0.1, 0.9, 0.6, 0.4]
    assert [t.get_text() for t in rfm.get_yticklabels()] == ["Champions", "Perdus"]
    assert km.get_title(loc="left") == "K-moyennes" and rfm.get_title(loc="left") == "Score RFM"
    assert [t.get_text() for t in km.texts[:2]] == ["10,0\u202f%", "60,0\u202f%"]
    champions = bars(rfm)[2]
    assert champions.get_facecolor()[:3] == pytest.approx(to_rgb(plots.RFM_COLORS["champions"]))


def test_center_heatmap_values_and_labels():
    centers = pd.DataFrame(
        {"recency": [-1.2, 0.8], "frequency": [2.0, -0.5], "monetary": [1.5, -0.7]},
        index=[0, 1],
    )
    ax = plots.plot_center_heatmap(centers, names={0: "VIP", 1: "Lapsed"}, tr=fr)
    np.testing.assert_allclose(ax.images[0].get_array(), centers.to_numpy())
    assert ax.images[0].get_clim() == (-2.0, 2.0)  # symmetric around the average customer
    assert [t.get_text() for t in ax.texts] == ["-1,20", "2,00", "1,50", "0,80", "-0,50", "-0,70"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Récence", "Fréquence", "Montant"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["VIP", "Lapsed"]


def test_rfm_map_colours_counts_and_one_name_per_segment():
    grid = pd.DataFrame(
        [(r, fm, "lost" if r == 1 else "champions", 10 * r + fm) for r in (1, 2) for fm in (1, 2)],
        columns=["r_score", "fm_score", "rfm_segment", "customers"],
    )
    ax = plots.plot_rfm_map(grid, names={"lost": "Lost", "champions": "Champions"}, tr=en)
    cells = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(cells) == 4
    assert cells[0].get_facecolor()[:3] == pytest.approx(to_rgb(plots.RFM_COLORS["lost"]))
    texts = [t.get_text() for t in ax.texts]
    assert sorted(t for t in texts if t.isdigit()) == ["11", "12", "21", "22"]
    assert texts.count("Lost") == 1 and texts.count("Champions") == 1
    assert ax.get_xlabel() == "Recency score (2 = most recent)"
    assert list(ax.get_xticks()) == [1, 2]
    with pytest.raises(ColumnError, match="customers"):
        plots.plot_rfm_map(grid.drop(columns="customers"), tr=en)


def test_crosstab_shades_by_row_share_and_prints_counts():
    counts = pd.DataFrame([[30, 10], [0, 5]], index=["champions", "lost"], columns=[0, 1])
    ax = plots.plot_crosstab(
        counts,
        row_names={"champions": "Champions", "lost": "Lost"},
        col_names={0: "High-value loyal", 1: "Lapsed"},
        row_label="RFM",
        col_label="K-means",
        tr=en,
    )
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0.0, 1.0]])
    assert [t.get_text() for t in ax.texts] == ["30", "10", "5"]  # empty cells stay blank
    assert [t.get_text() for t in ax.get_xticklabels()] == ["High-value\nloyal", "Lapsed"]
    assert ax.get_xlabel() == "K-means" and ax.get_ylabel() == "RFM"


def test_segment_colours_are_fixed():
    colors = plots.segment_colors([2, -1, 0, "champions", "custom"])
    assert colors[0] == plots.CLUSTER_PALETTE[0] and colors[2] == plots.CLUSTER_PALETTE[2]
    assert colors[-1] == plots.NOISE_COLOR
    assert colors["champions"] == plots.RFM_COLORS["champions"]
    assert colors["custom"] in plots.CLUSTER_PALETTE
    assert plots.NOISE_COLOR not in plots.CLUSTER_PALETTE
