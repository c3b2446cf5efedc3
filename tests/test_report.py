"""The HTML report: escaping, self-containment, section order, and a real browser."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

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
)

EVIL = "<script>alert('x')</script>"

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


# -- a real browser on the real data ------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANONICAL_SQL = """
CREATE VIEW lines AS SELECT
    InvoiceNo AS invoice, StockCode AS stock_code, Description AS description,
    CAST(Quantity AS DOUBLE) AS quantity, InvoiceDate AS invoice_date,
    UnitPrice AS unit_price, CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customer_id,
    Country AS country, Quantity * UnitPrice AS amount
FROM read_parquet('{path}')
"""
# a few audit findings, written out here so the test does not depend on custseg.audit
FINDINGS_SQL = """
SELECT finding, rows, rows / total AS row_share, revenue FROM (
  SELECT count(*) AS total,
    count(*) FILTER (WHERE customer_id IS NULL) AS missing_customer_id,
    sum(amount) FILTER (WHERE customer_id IS NULL) AS missing_customer_id_rev,
    count(*) FILTER (WHERE starts_with(invoice, 'C')) AS cancellation_lines,
    sum(amount) FILTER (WHERE starts_with(invoice, 'C')) AS cancellation_lines_rev,
    count(*) FILTER (WHERE unit_price = 0) AS zero_price,
    coalesce(sum(amount) FILTER (WHERE unit_price = 0), 0) AS zero_price_rev,
    count(*) FILTER (WHERE unit_price < 0) AS negative_price,
    sum(amount) FILTER (WHERE unit_price < 0) AS negative_price_rev
  FROM lines
) UNPIVOT ((rows, revenue) FOR finding IN (
    (missing_customer_id, missing_customer_id_rev) AS 'missing_customer_id',
    (cancellation_lines, cancellation_lines_rev) AS 'cancellation_lines',
    (zero_price, zero_price_rev) AS 'zero_price',
    (negative_price, negative_price_rev) AS 'negative_price'))
"""
FEATURES_SQL = """
SELECT customer_id,
       date_diff('day', max(invoice_date), TIMESTAMP '2011-12-10') AS recency,
       count(DISTINCT invoice) AS frequency, sum(amount) AS monetary
FROM lines
WHERE customer_id IS NOT NULL AND NOT starts_with(invoice, 'C')
  AND quantity > 0 AND unit_price > 0
GROUP BY customer_id
"""


@pytest.fixture(scope="module")
def real_report_parts(real_path):
    con = duckdb.connect()
    con.execute(CANONICAL_SQL.format(path=real_path))
    dist = compute_line_distributions(con, "lines")
    findings = con.execute(FINDINGS_SQL).df()
    raw = con.execute(FEATURES_SQL).df().set_index("customer_id")
    logged = np.log1p(raw)
    fh = feature_histograms(raw, (logged - logged.mean()) / logged.std())
    return dist, findings, fh


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_real_report_in_headless_chromium(real_report_parts, lang, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (apt install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    dist, findings, fh = real_report_parts
    tr = Translator(lang)
    data = data_section(dist, tr, findings=findings)
    pre = preprocessing_section(fh, tr)
    appendix = appendix_section(
        tr,
        parameters={"--lang": lang},
        versions=library_versions(),
        timings={**data.timings, **pre.timings},
    )
    html = build_report(
        ReportContext(
            sections=[appendix, pre, data],
            dataset="online_retail.parquet",
            first_date=dist.totals.first_date,
            last_date=dist.totals.last_date,
            generated_on=dt.date(2024, 5, 1),
        ),
        tr,
    )
    assert_self_contained(html)
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")

    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url[:80]}"))
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            title = page.title()
            headings = page.evaluate(
                "Array.from(document.querySelectorAll('h2')).map(h => h.innerText)"
            )
            page.screenshot(path=f"/tmp/report_{lang}.png", full_page=True)
        finally:
            browser.close()

    assert len(images) == 6
    assert all(complete and width > 0 for complete, width, _ in images), images
    assert all(u.startswith(("data:", "file:")) for u in requests), requests
    assert problems == []
    expected = {
        "en": ("Customer segmentation report", "1. Data and anomalies"),
        "fr": ("Rapport de segmentation de la clientèle", "1. Données et anomalies"),
    }[lang]
    assert title == expected[0]
    assert headings[1] == expected[1]  # headings[0] is the table of contents
    if lang == "fr":
        assert "Royaume-Uni" in html and "9\u202f747\u202f748\u00a0£" in html
    else:
        assert "£9,747,748" in html
