"""Engine summaries for the report figures: hand-computed fixtures, planted data, real data."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custseg.distributions import (
    OTHER,
    LineDistributions,
    compute_line_distributions,
    country_totals,
    feature_histograms,
    value_summaries,
)
from custseg.errors import ColumnError, ParameterError

# ---------------------------------------------------------------------------
# a tiny hand-made table (amount = quantity * unit_price)
# ---------------------------------------------------------------------------
#   invoice  qty  price  amount  date              customer country
#   536001    1   2.5     2.5    2011-01-05 10:00  c1       United Kingdom
#   536001    2   1.0     2.0    2011-01-05 10:00  c1       United Kingdom
#   536002    3   2.5     7.5    2011-01-20 11:00  c2       France
#   536003    4   5.0    20.0    2011-02-03 09:00  c2       France
#   536004    6   2.5    15.0    2011-02-14 12:00  c3       Germany
#   536005 1000   1.0  1000.0    2011-03-01 08:00  c4       United Kingdom
#   C536006  -3   2.5    -7.5    2011-03-02 15:00  c2       France
#   536007    5   0.0     0.0    2011-03-15 16:00  NULL     United Kingdom
TINY = pd.DataFrame(
    {
        "invoice": [
            "536001",
            "536001",
            "536002",
            "536003",
            "536004",
            "536005",
            "C536006",
            "536007",
        ],
        "stock_code": ["A", "B", "A", "C", "A", "D", "A", "E"],
        "description": [
            "MUG",
            "<script>alert(1)</script>",
            "MUG",
            "LAMP",
            "MUG",
            "BIG",
            "MUG",
            "FREE",
        ],
        "quantity": [1.0, 2.0, 3.0, 4.0, 6.0, 1000.0, -3.0, 5.0],
        "invoice_date": pd.to_datetime(
            [
                "2011-01-05 10:00",
                "2011-01-05 10:00",
                "2011-01-20 11:00",
                "2011-02-03 09:00",
                "2011-02-14 12:00",
                "2011-03-01 08:00",
                "2011-03-02 15:00",
                "2011-03-15 16:00",
            ]
        ),
        "unit_price": [2.5, 1.0, 2.5, 5.0, 2.5, 1.0, 2.5, 0.0],
        "customer_id": ["c1", "c1", "c2", "c2", "c3", "c4", "c2", None],
        "country": [
            "United Kingdom",
            "United Kingdom",
            "France",
            "France",
            "Germany",
            "United Kingdom",
            "France",
            "United Kingdom",
        ],
    }
)
TINY["amount"] = TINY["quantity"] * TINY["unit_price"]


def connect(frame: pd.DataFrame, name: str = "lines") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("frame_", frame)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame_")
    con.unregister("frame_")
    return con


@pytest.fixture(scope="module")
def tiny() -> LineDistributions:
    return compute_line_distributions(connect(TINY), "lines", bins=3, top_countries=2)


def test_histogram_quantity_snaps_integer_edges_and_counts_by_hand(tiny):
    h = tiny.histograms["quantity"]
    # integers 1..1000: log edges from 0.5 to 1000.5 (6.30, 79.39) snapped to half-integers
    assert h.integer is True
    assert h.edges == [0.5, 6.5, 79.5, 1000.5]
    assert h.counts == [6, 0, 1]  # 1,2,3,4,5,6 | - | 1000
    assert (h.n_total, h.n_used, h.n_excluded) == (8, 7, 1)  # the cancellation (-3)


def test_histogram_of_floats_spans_min_to_max_positive(tiny):
    h = tiny.histograms["unit_price"]
    assert h.integer is False
    assert h.edges[0] == 1.0 and h.edges[-1] == 5.0
    assert len(h.counts) == 3
    # log10 edges 0, 0.233, 0.466, 0.699 -> 1, 1.71, 2.92, 5: {1, 1} {2.5 x4} {5}
    assert h.counts == [2, 4, 1]
    assert h.n_excluded == 1  # the free item


def test_order_totals_sum_amount_per_invoice(tiny):
    h = tiny.histograms["order_total"]
    # orders: 4.5, 7.5, 20, 15, 1000 (positive) ; -7.5 and 0 left out
    assert (h.n_total, h.n_used, h.n_excluded) == (7, 5, 2)
    b = tiny.boxes["order_total"]
    assert b.median == 15.0
    assert (b.q1, b.q3) == (7.5, 20.0)


def test_box_stats_quantity_by_hand(tiny):
    b = tiny.boxes["quantity"]
    # positive quantities sorted: 1 2 3 4 5 6 1000 -> q1 2.5, median 4, q3 5.5 (linear)
    assert (b.q1, b.median, b.q3) == (2.5, 4.0, 5.5)
    ratio = (5.5 / 2.5) ** 1.5
    assert b.low_fence == pytest.approx(2.5 / ratio)
    assert b.high_fence == pytest.approx(5.5 * ratio)  # 17.95
    assert (b.whislo, b.whishi) == (1.0, 6.0)
    assert (b.n_low, b.n_high) == (0, 1)
    assert b.fliers_high == [1000.0] and b.fliers_low == []
    assert b.mean == pytest.approx(1021 / 7)
    assert b.approximate is False


def test_monthly_totals_by_hand(tiny):
    m = tiny.monthly
    assert m.months == ["2011-01", "2011-02", "2011-03"]
    assert m.revenue == pytest.approx([12.0, 35.0, 992.5])
    assert m.orders == [2, 2, 3]
    assert m.customers == [2, 2, 2]  # the NULL customer is not counted
    assert m.lines == [3, 2, 3]
    # data start on 5 Jan and end on 15 Mar: both edge months are incomplete
    assert m.partial == [True, False, True]


def test_totals_by_hand(tiny):
    t = tiny.totals
    assert (t.lines, t.orders, t.customers, t.countries) == (8, 7, 4, 3)
    assert t.revenue == pytest.approx(1039.5)
    assert t.first_date == "2011-01-05T10:00:00"
    assert t.last_date == "2011-03-15T16:00:00"


def test_country_ranking_and_other_bucket(tiny):
    c = tiny.countries
    assert c.countries == ["United Kingdom", "France", OTHER]
    assert c.revenue == pytest.approx([1004.5, 20.0, 15.0])
    assert c.customers == [2, 1, 1]
    assert c.orders == [3, 3, 1]
    assert c.lines == [4, 3, 1]
    assert c.revenue_share == pytest.approx([1004.5 / 1039.5, 20 / 1039.5, 15 / 1039.5])
    assert (c.n_countries, c.other_countries) == (3, 1)


def test_other_bucket_counts_distinct_customers_across_its_countries():
    frame = TINY.copy()
    # c1 also buys in Spain and Germany: "other" = {Germany, Spain} has 2 customers, not 3
    extra = frame.iloc[[0]].assign(country="Spain", invoice="536100", amount=0.5)
    extra2 = frame.iloc[[0]].assign(country="Germany", invoice="536101", amount=0.5)
    con = connect(pd.concat([frame, extra, extra2], ignore_index=True))
    c = country_totals(con, "lines", top=2)
    assert c.countries[-1] == OTHER
    assert c.customers[-1] == 2  # c3 and c1
    assert c.other_countries == 2


def test_country_without_name_is_unknown():
    frame = TINY.copy()
    frame.loc[4, "country"] = None
    c = country_totals(connect(frame), "lines", top=5)
    assert "__unknown__" in c.countries


def test_round_trip_through_json(tiny):
    again = LineDistributions.from_dict(json.loads(json.dumps(tiny.to_dict())))
    assert again == tiny


def test_no_temporary_table_is_left_behind():
    con = connect(TINY)
    compute_line_distributions(con, "lines", bins=3)
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert names == {"lines"}


def test_missing_table_and_columns_are_user_errors():
    con = connect(TINY)
    with pytest.raises(ParameterError, match="no DuckDB table"):
        compute_line_distributions(con, "nope")
    con.execute("CREATE VIEW partial AS SELECT invoice, quantity FROM lines")
    with pytest.raises(ColumnError, match="unit_price"):
        compute_line_distributions(con, "partial")
    with pytest.raises(ParameterError, match="bins"):
        compute_line_distributions(con, "lines", bins=0)
    with pytest.raises(ParameterError, match="top"):
        country_totals(con, "lines", top=0)


def test_empty_table_gives_empty_summaries():
    con = connect(TINY.iloc[0:0])
    d = compute_line_distributions(con, "lines")
    assert d.histograms == {} and d.boxes == {}
    assert d.monthly.months == []
    assert d.totals.lines == 0 and d.totals.first_date is None
    assert d.countries.countries == []


def test_approximate_quartiles_beyond_the_threshold():
    con = connect(TINY)
    d = compute_line_distributions(con, "lines", exact_quantile_max_rows=3)
    assert d.boxes["quantity"].approximate is True
    b = d.boxes["quantity"]
    assert b.whislo <= b.q1 <= b.median <= b.q3 <= b.whishi


# ---------------------------------------------------------------------------
# planted structure: log-normal prices
# ---------------------------------------------------------------------------


def test_lognormal_prices_peak_at_their_median_and_density_integrates_to_n():
    rng = np.random.default_rng(7)
    n = 20_000
    prices = np.exp(rng.normal(math.log(3.0), 0.5, n)).round(2)
    frame = pd.DataFrame({"quantity": 1.0, "unit_price": prices, "amount": prices})
    con = duckdb.connect()
    con.register("t", frame)
    hists, boxes = value_summaries(con, "t", {"unit_price": "unit_price"}, bins=40)
    b, h = boxes["unit_price"], hists["unit_price"]
    assert b.median == pytest.approx(float(np.median(prices)))
    assert b.median == pytest.approx(3.0, rel=0.03)
    peak = h.density_x[int(np.argmax(h.density_y))]
    assert peak == pytest.approx(3.0, rel=0.15)
    # curve is in "values per nominal bin": its integral over log10 x / width = n
    logs = np.log10(h.density_x)
    nominal = (math.log10(h.edges[-1]) - math.log10(h.edges[0])) / len(h.counts)
    area = float(np.sum((h.density_y[1:] + np.array(h.density_y[:-1])) / 2 * np.diff(logs)))
    assert area / nominal == pytest.approx(n, rel=0.03)
    assert sum(h.heights) == pytest.approx(n)  # equal-width bins: heights are counts
    # Tukey on log10: a log-normal has about 0.7% of values beyond the fences
    assert 0.001 < (b.n_low + b.n_high) / n < 0.02


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

values = st.lists(
    st.one_of(
        st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
        st.integers(min_value=-50, max_value=10_000).map(float),
        st.none(),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=values, bins=st.integers(min_value=1, max_value=30))
def test_summary_invariants(data, bins):
    frame = pd.DataFrame({"v": pd.array(data, dtype="Float64")})
    con = duckdb.connect()
    con.register("t", frame)
    hists, boxes = value_summaries(con, "t", {"v": "v"}, bins=bins, max_fliers=5)
    positive = np.array([x for x in data if x is not None and x > 0])
    if len(positive) == 0:
        assert hists == {} and boxes == {}
        return
    h, b = hists["v"], boxes["v"]
    edges = np.array(h.edges)
    assert np.all(np.diff(edges) > 0)
    assert edges[0] <= positive.min() and edges[-1] >= positive.max()
    assert sum(h.counts) == h.n_used == len(positive)
    assert h.n_total == len(data)
    # bins are (e_i, e_i+1], the first one closed: the index of the first upper edge >= v
    expected = np.bincount(
        np.searchsorted(edges[1:], positive, side="left"), minlength=len(h.counts)
    )
    assert h.counts == expected.tolist()
    assert b.whislo <= b.q1 <= b.median <= b.q3 <= b.whishi
    assert b.q1 == pytest.approx(np.percentile(positive, 25))
    assert b.q3 == pytest.approx(np.percentile(positive, 75))
    assert b.n_high == int(np.sum(positive > b.high_fence))
    assert b.n_low == int(np.sum(positive < b.low_fence))
    assert all(f > b.high_fence for f in b.fliers_high)
    assert all(f < b.low_fence for f in b.fliers_low)
    assert len(b.fliers_high) == min(5, b.n_high)
    assert b.fliers_high == sorted(positive[positive > b.high_fence], reverse=True)[:5]


# ---------------------------------------------------------------------------
# per-customer features
# ---------------------------------------------------------------------------


def test_feature_histograms_by_hand():
    raw = pd.DataFrame({"monetary": [1.0, 2.0, 3.0, 10.0], "frequency": [1, 1, 2, 8]})
    transformed = np.log1p(raw)
    fh = feature_histograms(raw, transformed, ["monetary", "frequency"], bins=3)
    money = fh.features[0]
    assert money.feature == "monetary"
    assert money.before_edges == [1.0, 4.0, 7.0, 10.0]
    assert money.before_counts == [3, 0, 1]
    assert money.before_median == 2.5
    assert money.before_skew == pytest.approx(raw["monetary"].skew())
    assert money.after_skew == pytest.approx(transformed["monetary"].skew())
    assert abs(money.after_skew) < abs(money.before_skew)
    assert sum(money.after_counts) == 4
    assert type(fh).from_dict(json.loads(json.dumps(fh.to_dict()))) == fh


def test_feature_histograms_reject_missing_columns():
    raw = pd.DataFrame({"monetary": [1.0, 2.0]})
    with pytest.raises(ColumnError, match="recency"):
        feature_histograms(raw, raw, ["monetary", "recency"])


# ---------------------------------------------------------------------------
# the real dataset
# ---------------------------------------------------------------------------

CANONICAL_SQL = """
CREATE VIEW lines AS SELECT
    InvoiceNo AS invoice, StockCode AS stock_code, Description AS description,
    CAST(Quantity AS DOUBLE) AS quantity, InvoiceDate AS invoice_date,
    UnitPrice AS unit_price, CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customer_id,
    Country AS country, Quantity * UnitPrice AS amount
FROM read_parquet('{path}')
"""
# the common cleaning policy: identified customers, no cancellation, positive qty and price
CLEAN_SQL = """
CREATE VIEW clean_lines AS SELECT * FROM lines
WHERE customer_id IS NOT NULL AND NOT starts_with(invoice, 'C')
  AND quantity > 0 AND unit_price > 0
"""


@pytest.fixture(scope="module")
def real(real_path):
    con = duckdb.connect()
    con.execute(CANONICAL_SQL.format(path=real_path))
    con.execute(CLEAN_SQL)
    raw = pd.read_parquet(real_path)
    clean = raw[
        raw["CustomerID"].notna()
        & ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
    ]
    return compute_line_distributions(con, "clean_lines"), clean


def test_real_monthly_revenue_of_november_2011(real):
    dist, clean = real
    month = clean["InvoiceDate"].dt.strftime("%Y-%m")
    expected = (clean["Quantity"] * clean["UnitPrice"]).groupby(month).sum()
    got = dict(zip(dist.monthly.months, dist.monthly.revenue, strict=True))
    assert got["2011-11"] == pytest.approx(expected["2011-11"], rel=1e-9)
    assert got["2011-11"] == pytest.approx(1_161_817.38, abs=0.01)  # measured
    assert dist.monthly.months[0] == "2010-12" and dist.monthly.months[-1] == "2011-12"
    assert dist.monthly.partial == [False] * 12 + [True]  # data end on 9 Dec 2011
    orders = clean.groupby(month)["InvoiceNo"].nunique()
    assert dict(zip(dist.monthly.months, dist.monthly.orders, strict=True)) == orders.to_dict()


def test_real_quartiles_counts_and_countries(real):
    dist, clean = real
    q = clean["Quantity"].to_numpy(dtype=float)
    b = dist.boxes["quantity"]
    assert (b.q1, b.median, b.q3) == tuple(np.percentile(q, [25, 50, 75]))
    assert (b.q1, b.median, b.q3) == (2.0, 6.0, 12.0)
    assert b.n_high == int(np.sum(q > b.high_fence))
    assert max(b.fliers_high) == 80_995.0
    assert sum(dist.histograms["quantity"].counts) == len(clean) == 397_884
    orders = (clean["Quantity"] * clean["UnitPrice"]).groupby(clean["InvoiceNo"]).sum()
    assert dist.boxes["order_total"].median == pytest.approx(float(orders.median()))
    assert dist.countries.countries[0] == "United Kingdom"
    assert dist.countries.revenue_share[0] == pytest.approx(0.8201, abs=1e-4)
    assert dist.countries.countries[-1] == OTHER
    assert dist.totals.customers == clean["CustomerID"].nunique() == 4_338
    assert len(json.dumps(dist.to_dict())) < 100_000  # small, whatever the number of lines
