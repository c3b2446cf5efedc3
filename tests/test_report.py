"""The HTML report: escaping, self-containment, section order, and a real browser."""

from __future__ import annotations

import base64
import datetime as dt
import re
from html import unescape

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custseg.distributions import compute_line_distributions, feature_histograms
from custseg.errors import ParameterError
from custseg.i18n import Translator
from custseg.report import (
    SECTION_ORDER,
    BulletList,
    FigureEntry,
    Heading,
    Paragraph,
    ReportContext,
    Section,
    TableEntry,
    appendix_section,
    build_report,
    data_section,
    library_versions,
    preprocessing_section,
    write_report,
)

EVIL = "<script>alert('x')</script>"
INJECT = "<img src=x onerror=alert(1)>"

# one transparent 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

LINES = pd.DataFrame(
    {
        "invoice": ["1", "1", "2", "3", "4", "5", "C6", "7"],
        "stock_code": list("ABACADAE"),
        "description": [EVIL, "MUG", "MUG", "LAMP", "MUG", "BIG", "MUG", "FREE"],
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
        "country": ["United Kingdom", "United Kingdom", EVIL, EVIL, "Germany"]
        + ["United Kingdom", EVIL, "United Kingdom"],
    }
)
LINES["amount"] = LINES["quantity"] * LINES["unit_price"]

FINDINGS = pd.DataFrame(
    {
        "finding": ["missing_customer_id", "cancellation_lines"],
        "rows": [1, 1],
        "row_share": [0.125, 0.125],
        "revenue": [0.0, -7.5],
    }
)


@pytest.fixture(scope="module")
def dist():
    con = duckdb.connect()
    con.register("frame_", LINES)
    con.execute("CREATE TABLE lines AS SELECT * FROM frame_")
    return compute_line_distributions(con, "lines", bins=5, top_countries=5)


def figure(fid: str = "fig_a", caption: str = "look here") -> FigureEntry:
    return FigureEntry(id=fid, title=f"title {fid}", caption=caption, image=PIXEL)


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def assert_self_contained(html: str) -> None:
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert "TODO" not in html


# -- blocks and order ------------------------------------------------------------


def test_sections_follow_the_brief_order_and_empty_ones_vanish():
    sections = [
        Section("appendix", [Paragraph("versions")]),
        Section("segments", []),  # nothing yet: not rendered
        Section("data", [Paragraph("lines"), figure("b")]),
        Section("preprocessing", [figure("a"), TableEntry("t", "tab", ("x",), (("1",),))]),
    ]
    html = build_report(ReportContext(sections=sections), Translator("en"))
    assert_self_contained(html)
    h2 = re.findall(r"<h2>.*?</span> (.*?)</h2>", html)
    assert h2 == ["Data and anomalies", "Preprocessing", "Appendix: parameters, versions, timings"]
    assert "Segments" not in html
    # figures numbered in reading order, tables separately
    assert html.index("Figure 1: title b") < html.index("Figure 2: title a")
    assert "Table 1: tab" in html
    assert SECTION_ORDER[0] == "data" and SECTION_ORDER[-1] == "appendix"


def test_unknown_or_repeated_sections_are_rejected():
    tr = Translator("en")
    with pytest.raises(ParameterError, match="unknown report section 'extra'"):
        build_report(ReportContext(sections=[Section("extra", [Paragraph("x")])]), tr)
    with pytest.raises(ParameterError, match="given twice"):
        build_report(
            ReportContext(sections=[Section("data", [Paragraph("x")])] * 2),
            tr,
        )


def test_figure_ids_must_be_unique():
    sections = [Section("data", [figure("same")]), Section("appendix", [figure("same")])]
    with pytest.raises(ParameterError, match="ids used twice: same"):
        build_report(ReportContext(sections=sections), Translator("en"))


def test_text_from_the_data_is_escaped_everywhere():
    sections = [
        Section(
            "data",
            [
                Heading(EVIL),
                Paragraph(EVIL),
                BulletList((EVIL, "ok")),
                FigureEntry(id="f", title=EVIL, caption=EVIL, image=PIXEL),
                TableEntry("t", EVIL, (EVIL, "n"), ((EVIL, "1"),), caption=EVIL),
            ],
        )
    ]
    html = build_report(
        ReportContext(sections=sections, dataset=EVIL, title=EVIL), Translator("en")
    )
    assert EVIL not in html
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") >= 9


def test_figure_entry_embeds_png_and_svg():
    entry = figure()
    assert entry.filename == "fig_a.png"
    assert entry.size == (1, 1)
    prefix = "data:image/png;base64,"
    assert entry.data_uri.startswith(prefix)
    assert base64.b64decode(entry.data_uri[len(prefix) :]) == PIXEL
    svg = FigureEntry(id="s", title="t", caption="c", image="<svg/>", format="svg")
    assert svg.filename == "s.svg" and svg.payload == b"<svg/>" and svg.size is None
    assert svg.data_uri == "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()
    html = build_report(ReportContext(sections=[Section("data", [svg])]), Translator("en"))
    assert 'src="data:image/svg+xml;base64,' in html


def test_bad_ids_and_ragged_tables_are_rejected():
    with pytest.raises(ParameterError, match="lowercase slug"):
        FigureEntry(id="../evil", title="t", caption="c", image=PIXEL)
    with pytest.raises(ParameterError, match="format"):
        FigureEntry(id="x", title="t", caption="c", image=PIXEL, format="gif")
    with pytest.raises(ParameterError, match="row of 1 cells for 2 headers"):
        TableEntry("t", "title", ("a", "b"), (("1",),))
    with pytest.raises(ParameterError, match="numeric has 1 flags"):
        TableEntry("t", "title", ("a", "b"), (("1", "2"),), numeric=(True,))


def test_numeric_columns_are_right_aligned():
    table = TableEntry("t", "tab", ("name", "n"), (("a", "1,234"),), numeric=(False, True))
    html = build_report(ReportContext(sections=[Section("data", [table])]), Translator("en"))
    assert '<th scope="col">name</th><th scope="col" class="num">n</th>' in html
    assert '<td>a</td><td class="num">1,234</td>' in html


def test_header_in_french():
    ctx = ReportContext(
        sections=[Section("data", [Paragraph("x"), TableEntry("t", "titre", ("a",), ())])],
        dataset="online_retail.parquet",
        first_date="2010-12-01T08:26:00",
        last_date="2011-12-09",
        generated_on=dt.date(2024, 5, 1),
        version="9.9",
    )
    html = build_report(ctx, Translator("fr"))
    assert '<html lang="fr-FR">' in html
    assert "online_retail.parquet, du 1er déc. 2010 au 9 déc. 2011" in html
    assert "Généré le 1er mai 2024 par custseg 9.9." in html
    assert "Tableau 1\u00a0: titre" in html
    assert "Sommaire" in html and "Données et anomalies" in html


# -- section builders ------------------------------------------------------------------


def test_data_section_tables_figures_and_escaping(dist):
    tr = Translator("en")
    section = data_section(dist, tr, findings=FINDINGS)
    ids = [b.id for b in section.blocks if isinstance(b, FigureEntry | TableEntry)]
    assert ids == [
        "data_key_figures",
        "data_findings",
        "data_findings_table",
        "data_histograms",
        "data_boxplots",
        "data_monthly",
        "data_countries",
        "data_countries_table",
    ]
    key = next(b for b in section.blocks if getattr(b, "id", "") == "data_key_figures")
    assert dict(key.rows) == {
        "Transaction lines": "8",
        "Orders (invoices)": "7",
        "Identified customers": "4",
        "Countries": "3",
        "Period": "5 Jan 2011 to 15 Mar 2011",
        "Net revenue": "£1,040",  # 1,039.50 rounded half up
        "Median line total": "£11.25",  # line totals > 0: 2 2.5 [7.5 15] 20 1000
        "Median order total": "£15.00",
    }
    findings = next(b for b in section.blocks if getattr(b, "id", "") == "data_findings_table")
    assert findings.rows[1][:4] == ("Cancellations", "1", "12.5%", "-£8")
    countries = next(b for b in section.blocks if getattr(b, "id", "") == "data_countries_table")
    assert [r[0] for r in countries.rows] == ["United Kingdom", EVIL, "Germany"]
    monthly = next(b for b in section.blocks if getattr(b, "id", "") == "data_monthly")
    assert monthly.caption == (
        "Look for seasonality: the busiest month is March 2011 with £993; hatched bars are "
        "incomplete months (the data end on 15 Mar 2011)."
    )
    assert section.timings["data_figures"] > 0
    html = build_report(ReportContext(sections=[section]), tr)
    assert_self_contained(html)
    assert EVIL not in html and "&lt;script&gt;" in html
    assert html.count("<img ") == 5


def test_data_section_without_findings_has_no_anomaly_part(dist):
    section = data_section(dist, Translator("fr"), fmt="svg")
    assert [f.id for f in section.figures] == [
        "data_histograms",
        "data_boxplots",
        "data_monthly",
        "data_countries",
    ]
    assert all(f.format == "svg" and f.payload.startswith(b"<?xml") for f in section.figures)
    assert not any(isinstance(b, Heading) and "audit" in b.text for b in section.blocks)


def test_preprocessing_and_appendix_sections():
    raw = pd.DataFrame({"recency": [1.0, 5, 30, 300], "frequency": [1.0, 2, 2, 40]})
    fh = feature_histograms(raw, np.log1p(raw), ["recency", "frequency"], bins=4)
    tr = Translator("en")
    pre = preprocessing_section(fh, tr, method="yeo-johnson")
    assert "Yeo-Johnson" in pre.blocks[0].text
    assert pre.figures[0].id == "features_before_after"
    assert "Recency" in pre.figures[0].caption
    with pytest.raises(ParameterError, match="unknown transformation"):
        preprocessing_section(fh, tr, method="boxcox")
    app = appendix_section(
        tr,
        parameters={"--k": "auto"},
        versions={"custseg": "0.1.0"},
        timings={"data_figures": 1.25, "custom step": 0.5},
    )
    timing = app.blocks[-1]
    assert timing.rows == (
        ("Figures: data and anomalies", "1.25 s"),
        ("custom step", "0.50 s"),
        ("Total", "1.75 s"),
    )
    assert appendix_section(tr).blocks == []
    versions = library_versions()
    assert {"Python", "custseg", "duckdb", "matplotlib", "pandas"} <= set(versions)


# -- the whole report from a run's summary ------------------------------------------------


def _summary(dist) -> dict:
    """A small, hand-made summary with every part the pipeline writes."""
    k_table = [
        {
            "k": 2,
            "inertia": 90.0,
            "silhouette": 0.61,
            "calinski_harabasz": 40.0,
            "davies_bouldin": 0.5,
            "min_cluster_share": 0.4,
            "sizes": [4, 5],
        },
        {
            "k": 3,
            "inertia": 40.0,
            "silhouette": 0.52,
            "calinski_harabasz": 55.5,
            "davies_bouldin": 0.6,
            "min_cluster_share": 2 / 9,
            "sizes": [3, 4, 2],
        },
        {
            "k": 4,
            "inertia": 30.0,
            "silhouette": 0.35,
            "calinski_harabasz": 50.0,
            "davies_bouldin": 0.9,
            "min_cluster_share": 1 / 9,
            "sizes": [3, 3, 2, 1],
        },
    ]
    kmeans_profiles = [
        {
            "segment": 0,
            "size": 3,
            "customer_share": 1 / 3,
            "revenue": 700.0,
            "revenue_share": 0.7,
            "median_recency": 5.0,
            "median_frequency": 6.0,
            "median_monetary": 250.0,
            "name_key": "high_value_loyal",
            "name_variant": 1,
            "name": "high-value loyal (1)",
            "action": "x",
            "r_level": "high",
            "f_level": "high",
            "m_level": "top",
        },
        {
            "segment": 1,
            "size": 4,
            "customer_share": 4 / 9,
            "revenue": 250.0,
            "revenue_share": 0.25,
            "median_recency": 1.0,
            "median_frequency": 1.0,
            "median_monetary": 60.0,
            "name_key": "high_value_loyal",
            "name_variant": 2,
            "name": "high-value loyal (2)",
            "action": "x",
            "r_level": "high",
            "f_level": "mid",
            "m_level": "high",
        },
        {
            "segment": 2,
            "size": 2,
            "customer_share": 2 / 9,
            "revenue": 50.0,
            "revenue_share": 0.05,
            "median_recency": 200.0,
            "median_frequency": 1.5,
            "median_monetary": 25.0,
            "name_key": "my_rule",
            "name_variant": 0,
            "name": "my own rule",
            "action": "call them",
            "r_level": "low",
            "f_level": "low",
            "m_level": "low",
        },
    ]
    rfm_profiles = [
        {
            "segment": "lost",
            "size": 4,
            "customer_share": 4 / 9,
            "revenue": 100.0,
            "revenue_share": 0.1,
            "median_recency": 150.0,
            "median_frequency": 1.0,
            "median_monetary": 25.0,
        },
        {
            "segment": "champions",
            "size": 5,
            "customer_share": 5 / 9,
            "revenue": 900.0,
            "revenue_share": 0.9,
            "median_recency": 3.0,
            "median_frequency": 5.0,
            "median_monetary": 180.0,
        },
    ]
    dbscan_profiles = [
        {
            "segment": -1,
            "size": 1,
            "customer_share": 1 / 9,
            "revenue": 400.0,
            "revenue_share": 0.4,
            "median_recency": 2.0,
            "median_frequency": 9.0,
            "median_monetary": 400.0,
        },
        {
            "segment": 0,
            "size": 5,
            "customer_share": 5 / 9,
            "revenue": 500.0,
            "revenue_share": 0.5,
            "median_recency": 10.0,
            "median_frequency": 3.0,
            "median_monetary": 90.0,
        },
        {
            "segment": 1,
            "size": 3,
            "customer_share": 3 / 9,
            "revenue": 100.0,
            "revenue_share": 0.1,
            "median_recency": 100.0,
            "median_frequency": 1.0,
            "median_monetary": 30.0,
        },
    ]
    box = {
        "segment": 0,
        "q1": 1.0,
        "median": 2.0,
        "q3": 3.0,
        "whislo": 1.0,
        "whishi": 4.0,
        "fliers": [],
    }
    return {
        "custseg_version": "0.1.0",
        "created": "2024-05-01T10:00:00+00:00",
        "config": {
            "k": "auto",
            "k_range": [2, 4],
            "seed": 7,
            "features": ["recency", "frequency", "monetary"],
            "transform": "log",
            "policy": {"returns": "drop", "non_product": "keep", "duplicates": "drop"},
            "as_of": None,
            "lang": "en",
            "figure_format": "png",
            "min_clusters": 3,
            "min_cluster_share": 0.15,
            "silhouette_sample_size": 6,
            "minibatch_threshold": 1000,
            "dbscan_sample_size": 20000,
            "memory_limit": "3GB",
        },
        "input": {"source": f"/data/shop{INJECT}.csv"},
        "audit": {
            "rows": 8,
            "revenue": 1039.5,
            "customers": 4,
            "date_min": "2011-01-05 00:00:00",
            "date_max": "2011-03-15 00:00:00",
            "findings": FINDINGS.to_dict("records"),
            "stats": {"order_total": {"count": 7, "p50": 15.0}, "line_total": {"p50": 7.5}},
        },
        "cleaning": {
            "rules": [
                {"rule": "missing_customer_id", "description": "x", "rows_removed": 1},
                {"rule": "cancellation", "description": "x", "rows_removed": 1},
            ],
            "rows_in": 8,
            "rows_kept": 6,
            "customers": 4,
            "policy": {"returns": "drop", "non_product": "keep", "duplicates": "drop"},
        },
        "features": {
            "snapshot_date": "2011-03-16",
            "customers": 9,
            "transform": {
                "method": "log",
                "columns": ["recency", "frequency", "monetary"],
                "log1p_columns": ["frequency", "monetary"],
                "skewness": {"recency": 0.4, "frequency": 2.5, "monetary": 3.25},
                "skew_threshold": 1.0,
            },
            "summary": [
                {
                    "feature": "frequency",
                    "count": 9.0,
                    "mean": 2.5,
                    "min": 1.0,
                    "25%": 1.0,
                    "50%": 2.0,
                    "75%": 3.0,
                    "max": 9.0,
                }
            ],
        },
        "kmeans": {
            "k": 3,
            "chosen_k": 3,
            "forced": False,
            "score": 0.875,
            "knee": 3,
            "admissible": [3],
            "table": k_table,
            "runners_up": [
                {"k": 2, "admissible": False, "score": None},
                {"k": 4, "admissible": False, "score": None},
            ],
            "n_samples": 9,
            "silhouette_sampled": True,
            "silhouette_sample_size": 6,
            "algorithm": "KMeans",
            "centers_standardised": [
                {"segment": 0, "recency": -1.0, "frequency": 1.5, "monetary": 1.2},
                {"segment": 1, "recency": -0.5, "frequency": -0.2, "monetary": 0.1},
                {"segment": 2, "recency": 1.4, "frequency": -0.9, "monetary": -1.1},
            ],
            "sizes": {"0": 3, "1": 4, "2": 2},
        },
        "dbscan": {
            "eps": 0.5,
            "min_samples": 3,
            "knee_eps": 0.4,
            "knee_eps_by_min_samples": {"3": 0.4},
            "n_clusters": 2,
            "noise_share": 1 / 9,
            "cluster_shares": [5 / 9, 3 / 9],
            "n_samples": 9,
            "sample_size": 9,
            "sampled": False,
            "sampled_fit": False,
            "sizes": {"-1": 1, "0": 5, "1": 3},
            "grid": [
                {
                    "min_samples": 3,
                    "eps_factor": 1.0,
                    "eps": 0.4,
                    "n_clusters": 1,
                    "n_major_clusters": 1,
                    "noise_share": 0.0,
                    "silhouette_non_noise": None,
                    "score": None,
                    "eligible": False,
                    "chosen": False,
                },
                {
                    "min_samples": 3,
                    "eps_factor": 1.25,
                    "eps": 0.5,
                    "n_clusters": 2,
                    "n_major_clusters": 2,
                    "noise_share": 1 / 9,
                    "silhouette_non_noise": 0.45,
                    "score": 0.4,
                    "eligible": True,
                    "chosen": True,
                },
            ],
        },
        "rfm": {
            "edges": {
                "recency": [10.0, 30.0, 60.0, 90.0],
                "frequency": [1.0, 1.0, 2.0, 4.0],
                "monetary": [100.0, 200.0, 300.0, 400.0],
            },
            "rules": [
                {"key": "champions", "name": "Champions", "r": [4, 5], "fm": [3, 5], "action": "x"},
                {"key": "lost", "name": "Lost", "r": [1, 5], "fm": [1, 5], "action": "x"},
            ],
            "cells": [
                {"r_score": 5, "fm_score": 5, "rfm_segment": "champions", "customers": 5},
                {"r_score": 1, "fm_score": 1, "rfm_segment": "lost", "customers": 4},
            ],
        },
        "profiles": {"kmeans": kmeans_profiles, "dbscan": dbscan_profiles, "rfm": rfm_profiles},
        "outliers": {
            "count": 2,
            "by_cluster": {"0": 1, "2": 1},
            "customers": [
                {
                    "customer_id": EVIL,
                    "kmeans_cluster": 0,
                    "recency": 1,
                    "frequency": 9,
                    "monetary": 400.0,
                    "outlier_score": 6.35,
                    "outlier_feature": "monetary",
                    "outlier_direction": "high",
                },
                {
                    "customer_id": "c7",
                    "kmeans_cluster": 2,
                    "recency": 300,
                    "frequency": 1,
                    "monetary": 2.0,
                    "outlier_score": 4.0,
                    "outlier_feature": "recency",
                    "outlier_direction": "low",
                },
            ],
        },
        "agreement": {
            "ari": [{"method_a": "kmeans", "method_b": "rfm", "ari": 0.55}],
            "kmeans_vs_rfm": {
                "index": [0, 1, 2],
                "columns": ["champions", "lost"],
                "counts": [[3, 0], [2, 2], [0, 2]],
            },
            "kmeans_vs_dbscan": {
                "index": [0, 1, 2],
                "columns": [-1, 0, 1],
                "counts": [[1, 2, 0], [0, 3, 1], [0, 0, 2]],
            },
        },
        "report_data": {
            "distributions": dist.to_dict(),
            "feature_histograms": {
                "features": [
                    {
                        "feature": "frequency",
                        "before_edges": [1.0, 5.0, 9.0],
                        "before_counts": [8, 1],
                        "after_edges": [-1.0, 0.0, 1.0],
                        "after_counts": [5, 4],
                        "before_skew": 2.5,
                        "after_skew": 0.3,
                        "before_median": 2.0,
                        "after_median": 0.0,
                    }
                ]
            },
            "silhouette_diagram": {
                "cluster": [0, 0, 1, 1, 2, 2],
                "silhouette": [0.6, 0.5, 0.4, 0.3, 0.7, -0.1],
            },
            "k_distance": {
                "k": 2,
                "curve": [[0, 0.1], [4, 0.3], [8, 1.2]],
                "n": 9,
                "knee_index": 4,
                "knee_eps": 0.4,
            },
            "scatter": {
                "customer_id": ["a", "b", "c", "d"],
                "recency": [1.0, 2.0, 200.0, 300.0],
                "frequency": [9.0, 3.0, 1.0, 1.0],
                "monetary": [400.0, 90.0, 30.0, 2.0],
                "pc1": [2.0, 0.5, -1.0, -1.5],
                "pc2": [0.1, -0.2, 0.3, 0.0],
                "kmeans_cluster": [0, 1, 2, 2],
                "rfm_segment": ["champions", "champions", "lost", "lost"],
                "dbscan_cluster": [-1, 0, 1, 1],
                "is_outlier": [True, False, False, True],
            },
            "pca_explained": [0.7, 0.2],
            "boxplots": {
                "kmeans": {"monetary": [dict(box, segment=s) for s in (0, 1, 2)]},
                "rfm": {"monetary": [dict(box, segment=s) for s in ("champions", "lost")]},
            },
            "dbscan_layering": {
                "feature": "frequency",
                "purity": 1.0,
                "single": [[1, "lowest"]],
                "customers": 9,
            },
        },
        "timings": {"load": 0.5, "k selection": 2.0, "total": 2.5},
        "environment": {
            "python": "3.11.7",
            "platform": "Linux",
            "machine": "x86_64",
            "numpy": "2.0",
        },
    }


@pytest.fixture(scope="module")
def summary(dist):
    return _summary(dist)


@pytest.fixture(scope="module")
def written(summary, tmp_path_factory):
    """The report written in English (PNG) and in French (SVG)."""
    out = {}
    for lang, fmt in (("en", "png"), ("fr", "svg")):
        folder = tmp_path_factory.mktemp(f"report_{lang}")
        path = write_report(summary, folder, lang=lang, figure_format=fmt)
        out[lang] = (folder, path.read_text(encoding="utf-8"))
    return out


def visible_text(html: str) -> str:
    """The text a reader sees, every kind of space (non-breaking too) as one space."""
    body = html[html.index("<body>") :]
    body = re.sub(r"<img[^>]*>", " ", body)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def test_write_report_writes_the_html_and_one_file_per_figure(written):
    folder, html = written["en"]
    assert_self_contained(html)
    files = sorted(p.name for p in (folder / "figures").iterdir())
    assert files == sorted(f"{i}.png" for i in FIGURE_IDS)
    assert html.count("<img ") == len(FIGURE_IDS)
    h2 = re.findall(r"<h2>.*?</span> (.*?)</h2>", html)
    assert h2 == [
        "Data and anomalies",
        "Preprocessing",
        "Segmentation methods",
        "Choosing hyper-parameters",
        "Segments, interpretation and marketing actions",
        "Comparison of methods",
        "Appendix: parameters, versions, timings",
    ]
    folder_fr, html_fr = written["fr"]
    assert sorted(p.suffix for p in (folder_fr / "figures").iterdir()) == [".svg"] * len(FIGURE_IDS)
    assert html_fr.count('src="data:image/svg+xml;base64,') == len(FIGURE_IDS)
    assert '<html lang="fr-FR">' in html_fr


FIGURE_IDS = (
    "data_findings",
    "data_histograms",
    "data_boxplots",
    "data_monthly",
    "data_countries",
    "features_before_after",
    "k_elbow",
    "k_scores",
    "k_silhouette",
    "dbscan_k_distance",
    "segment_shares",
    "kmeans_centers",
    "kmeans_boxplots",
    "kmeans_scatter",
    "rfm_map",
    "rfm_boxplots",
)


def test_data_from_the_summary_is_escaped(written):
    for _, html in written.values():
        assert EVIL not in html and "<script" not in html
        assert INJECT not in html
        assert "shop&lt;img src=x onerror=alert(1)&gt;.csv" in html  # subtitle
        assert "<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</td>" in html  # outlier id


def test_k_choice_is_explained_from_the_numbers(written):
    text = visible_text(written["en"][1])
    assert (
        "k = 3 is retained: it has the best combined score (0.88) of the 1 admissible values "
        "(3), with a silhouette of 0.520, a Calinski-Harabasz index of 56 and a Davies-Bouldin "
        "index of 0.600; it is also the elbow of the inertia curve. Its smallest segment holds "
        "22.2% of the customers."
    ) in text
    assert "k = 2 has the highest silhouette (0.610) but it gives fewer than 3 segments." in text
    # the scan table: one decision per k
    assert "2 90 0.610 40 0.500 40.0% – Fewer than 3 segments" in text
    assert "4 30 0.350 50 0.900 11.1% – Smallest segment below 15%" in text
    fr = visible_text(written["fr"][1])
    assert (
        "k = 3 est retenu : il obtient le meilleur score combiné (0,88) des 1 valeurs "
        "admissibles (3), avec une silhouette de 0,520"
    ) in fr
    assert "k = 2 a la meilleure silhouette (0,610) mais il donne moins de 3 segments." in fr


def test_forced_k_says_what_the_rule_would_have_chosen(summary):
    from custseg.report_builder import _k_paragraphs, _KFacts

    forced = {
        **summary,
        "kmeans": {**summary["kmeans"], "chosen_k": 4, "forced": True, "score": None},
    }
    forced["kmeans"]["runners_up"] = [{"k": 3, "score": 0.875}, {"k": 2, "score": None}]
    text = _k_paragraphs(_KFacts.of(forced), Translator("en"))
    assert text[1] == (
        "k = 4 was set by the user (--k 4); its scores are given for information: silhouette "
        "0.350, Calinski-Harabasz 50, Davies-Bouldin 0.900, smallest segment 11.1% of the "
        "customers."
    )
    assert text[2] == "The automatic rule would have chosen k = 3."


def test_segments_cards_names_and_actions(written):
    en, fr = visible_text(written["en"][1]), visible_text(written["fr"][1])
    # clusters sharing a naming rule are numbered; a rule unknown to the catalogue keeps its name
    assert "High-value loyal (1)" in en and "Fidèles à forte valeur (2)" in fr
    assert "my own rule" in en and "call them" in en
    assert "Profile Bought recently, among the 10% biggest spenders" not in en  # levels order
    assert "Profile Bought recently, orders often, among the 10% biggest spenders." in en
    assert "Typical customer last order 1 day ago, 1 order, £60 spent" in en
    assert "Client type dernière commande il y a 200 jours, 1,5 commande, 25 £ dépensés" in fr
    assert "Recommended action VIP programme, early access and personal service" in en
    assert "Action recommandée Programme VIP, accès en avant-première" in fr
    # RFM segments in the order of the rules, with the catalogue's actions
    assert en.index("Champions 5 55.6% 90.0%") < en.index("Lost 4 44.4% 10.0%")


def test_outlier_reasons_are_built_from_structured_fields(written):
    en, fr = visible_text(written["en"][1]), visible_text(written["fr"][1])
    assert "Monetary value far above the segment's median (robust z = 6.4)" in en
    assert "Récence très en dessous de la médiane du segment (z robuste = 4,0)" in fr
    assert (
        "2 customers (22.2%) are atypical within their segment (High-value loyal (1): 1; my own rule: 1)"
        in en
    )


def test_dbscan_interpretation_in_both_languages(written):
    en, fr = visible_text(written["en"][1]), visible_text(written["fr"][1])
    assert "DBSCAN finds 2 clusters (Cluster 0: 55.6%, Cluster 1: 33.3%) and 11.1% noise." in en
    assert "But the clusters follow the values of frequency" in en
    assert "Cluster 1: only the customers with the lowest frequency (1)." in en
    assert "DBSCAN trouve 2 groupes (Groupe 0 : 55,6 %, Groupe 1 : 33,3 %)" in fr
    assert "Mais les groupes suivent les valeurs de la variable « fréquence »" in fr
    assert "1 3 1.25 0.500 2 2 11.1% 0.450 0.400 Chosen" not in en  # min_samples column first
    assert "3 1.25 0.500 2 2 11.1% 0.450 0.400 Chosen" in en
    assert "3 1.00 0.400 1 1 0.0% – – Fewer than 2 clusters of 1%" in en


def test_rfm_score_ranges_and_full_map(summary, written):
    from custseg.report_builder import _rfm_grid, _score_ranges

    table = _score_ranges(summary, Translator("en"))
    assert table.rows == (
        ("5", "≤ 10", "≥ 5", "> £400"),
        ("4", "11 to 30", "3 to 4", "£300 to £400"),
        ("3", "31 to 60", "2", "£200 to £300"),
        ("2", "61 to 90", "–", "£100 to £200"),  # frequency ties: score 2 is empty
        ("1", "≥ 91", "≤ 1", "≤ £100"),
    )
    grid = _rfm_grid(summary)
    assert len(grid) == 25
    cell = grid.set_index(["r_score", "fm_score"])
    assert cell.loc[(5, 5)].tolist() == ["champions", 5]
    assert cell.loc[(4, 3)].tolist() == ["champions", 0]  # empty cell: segment of the first rule
    assert cell.loc[(3, 5)].tolist() == ["lost", 0]


def test_cross_tables_are_shaded_by_row_share(written):
    html = written["en"][1]
    table = html[html.index('id="tab-kmeans_vs_rfm"') :]
    table = table[: table.index("</table>")]
    # RFM segments as rows, K-means segments as columns, counts shaded by row share
    assert '<th scope="col">RFM segment</th>' in table
    row = re.search(r"<tr><td>Lost</td>(.*?)</tr>", table).group(1)
    cells = re.findall(r"<td([^>]*)>([^<]*)</td>", row)
    assert [text for _, text in cells] == ["", "2", "2", "4"]
    assert cells[0][0] == ' class="num"'  # no customer: blank and unshaded
    assert "rgba(1, 115, 178, 0.52)" in cells[1][0]  # half of the row: 0.08 + 0.87 / 2
    assert 'style="' not in cells[3][0]  # the total is not shaded
    dbscan = html[html.index('id="tab-kmeans_vs_dbscan"') :]
    assert '<th scope="col" class="num">Noise</th>' in dbscan[: dbscan.index("</tr>")]


def test_shades_must_match_the_rows():
    with pytest.raises(ParameterError, match="shades do not have the shape"):
        TableEntry("t", "x", ("a", "b"), (("1", "2"),), shades=((0.5,),))


def test_dbscan_interpretation_without_structure_or_with_one_blob(summary):
    from custseg.report_builder import _dbscan_interpretation, _sampling, segment_names

    tr = Translator("en")
    names = segment_names(summary, tr)
    blob = {**summary, "report_data": {}}
    blob["dbscan"] = {**summary["dbscan"], "sampled": True, "sample_size": 5, "sampled_fit": True}
    blob["profiles"] = {
        **summary["profiles"],
        "dbscan": [
            dict(summary["profiles"]["dbscan"][1], customer_share=0.9, size=8),
            dict(summary["profiles"]["dbscan"][0], customer_share=0.1, size=1),
        ],
    }
    text = _dbscan_interpretation(blob, tr, names)
    assert text[0] == "DBSCAN finds a single cluster (Cluster 0: 90.0%) and 10.0% noise."
    assert text[1].startswith("One dense cluster holds 90.0% of the customers")
    sampling = _sampling(blob, tr)
    assert "DBSCAN tuning: on a random sample (fixed seed) of 5 of the 9 customers." in sampling
    assert any(s.startswith("DBSCAN was fitted on a sample") for s in sampling)


def test_comparison_and_appendix(written):
    en, fr = visible_text(written["en"][1]), visible_text(written["fr"][1])
    assert "K-means and RFM scoring 0.55 Strong" in en
    assert "High-value loyal (2): 50.0% in “Champions”, then 50.0% in “Lost”." in en
    assert (
        "Silhouette scores and diagram: computed on a random sample (fixed seed) of 6 of the 9 customers."
        in en
    )
    assert "Scatter plots: a random sample (fixed seed) of 4 of the 9 customers." in en
    assert "Number of K-means segments automatic --k auto" in en
    assert "Limite de mémoire de DuckDB 3 Go" in fr
    assert "Choix de k 2,00 s" in fr  # pipeline stage timings, translated
    assert re.search(r"Figures: segments \d+\.\d\d s \d+\.\d\d s", en)


FRENCH_ONLY = re.compile(r"\b(the|and|with|which|of|than|from|per|customers?|spend|orders?)\b")


def test_every_word_of_the_french_report_is_french(written):
    text = visible_text(written["fr"][1])
    # code the reader types or reads in files: options, file and column names
    text = re.sub(r"--[a-z-]+( [a-z0-9,.]+)?|customers\.csv|is_outlier|min_samples", " ", text)
    assert FRENCH_ONLY.findall(text) == []
    assert "Figures : segments" in text.replace(" ", " ")


def test_write_report_rejects_bad_options(summary, tmp_path):
    with pytest.raises(ParameterError, match="unknown report language 'de'"):
        write_report(summary, tmp_path, lang="de")
    with pytest.raises(ParameterError, match="figure format 'jpg'"):
        write_report(summary, tmp_path, figure_format="jpg")
    with pytest.raises(ParameterError, match="summary as a dict"):
        from custseg.report_builder import report_context

        report_context(["not", "a", "dict"], Translator("en"))


def test_a_summary_without_segmentation_gives_the_first_sections_only(summary, tmp_path):
    partial = {k: summary[k] for k in ("input", "audit", "cleaning", "features", "config")}
    partial["report_data"] = {"distributions": summary["report_data"]["distributions"]}
    html = write_report(partial, tmp_path).read_text(encoding="utf-8")
    h2 = re.findall(r"<h2>.*?</span> (.*?)</h2>", html)
    assert h2 == ["Data and anomalies", "Preprocessing", "Appendix: parameters, versions, timings"]
    assert_self_contained(html)


def test_fallback_thresholds_match_the_segmentation_modules():
    """The report states these rules when a summary does not store them: no drift allowed."""
    import inspect

    from custseg import dbscan, outliers, report_builder

    tune = inspect.signature(dbscan.tune_dbscan).parameters
    assert tune["max_noise_share"].default == report_builder.DBSCAN_MAX_NOISE_SHARE
    assert tune["min_cluster_share"].default == report_builder.DBSCAN_MIN_CLUSTER_SHARE
    assert dbscan.DOMINANT_SHARE == report_builder.DBSCAN_DOMINANT_SHARE
    flag = inspect.signature(outliers.flag_outliers).parameters
    assert flag["threshold"].default == report_builder.OUTLIER_THRESHOLD


@given(st.lists(st.lists(st.integers(0, 50), min_size=3, max_size=3), min_size=1, max_size=6))
def test_cross_table_shades_are_row_shares(counts):
    """Blank exactly where no customer; shades of a row add up to 1; totals are row sums."""
    from custseg.report_builder import _crosstab_table

    frame = pd.DataFrame(counts, columns=[0, 1, -1])
    table = _crosstab_table(
        frame,
        id="x",
        title="x",
        corner="x",
        row_names={},
        col_names={},
        caption="x",
        tr=Translator("en"),
    )
    for row, shades, values in zip(table.rows, table.shades, counts, strict=True):
        assert [cell == "" for cell in row[1:-1]] == [v == 0 for v in values]
        assert row[-1] == f"{sum(values):,}"
        inner = [s for s in shades[1:-1] if s is not None]
        assert shades[0] is None and shades[-1] is None
        if sum(values):
            assert sum(inner) == pytest.approx(1.0)
        else:
            assert inner == []
