"""Per-customer features: hand-computed values, properties, transformation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import UCI_COLUMNS

from custseg.cleaning import CleaningPolicy, apply_policy
from custseg.features import FeatureTransformer, customer_features, default_snapshot
from custseg.load import load_transactions

COLS = list(UCI_COLUMNS)


def _frame(rows):
    return pd.DataFrame(rows, columns=COLS)


def _features(df, policy=CleaningPolicy(), as_of=None):
    data = load_transactions(df)
    snap = as_of or default_snapshot(data.con, data.view)
    apply_policy(data.con, policy, view=data.view, before=snap.isoformat())
    return customer_features(data.con, snap, net_returns=policy.returns == "net")


HAND = _frame(
    [
        ("1", "10001", "A", 2, dt.datetime(2011, 1, 1, 9), 5.0, 1.0, "UK"),
        ("1", "10002", "B", 1, dt.datetime(2011, 1, 1, 9), 10.0, 1.0, "UK"),
        ("2", "10001", "A", 4, dt.datetime(2011, 1, 11, 15), 5.0, 1.0, "UK"),
        ("C3", "10001", "A", -2, dt.datetime(2011, 1, 12, 8), 5.0, 1.0, "UK"),
        ("4", "10003", "C", 10, dt.datetime(2011, 1, 5, 12), 1.5, 2.0, "FR"),
        ("5", "10003", "C", 1, dt.datetime(2011, 1, 20, 23, 59), 1.5, "007", "FR"),
    ]
)


def test_hand_computed_features():
    f = _features(HAND)
    # Snapshot: the day after the last invoice (2011-01-20) -> 2011-01-21.
    assert list(f.index) == ["007", "1", "2"]
    c1 = f.loc["1"]
    assert c1["recency"] == 10  # last purchase 2011-01-11
    assert c1["tenure"] == 20  # first purchase 2011-01-01
    assert c1["frequency"] == 2
    assert c1["monetary"] == pytest.approx(2 * 5 + 10 + 4 * 5)
    assert c1["avg_order_value"] == pytest.approx(20)
    assert c1["items_per_order"] == pytest.approx(3.5)
    assert c1["distinct_products"] == 2
    assert c1["return_rate"] == pytest.approx(10 / 40)
    assert f.loc["2", "monetary"] == pytest.approx(15)
    assert f.loc["2", "recency"] == 16
    assert f.loc["007", "recency"] == 1  # leading zeros kept, no '.0'


@pytest.mark.parametrize(
    "columns",
    [
        ["recency", "frequency", "monetary"],
        ["monetary", "recency"],  # the order asked for
        ["distinct_products"],
        ["return_rate", "items_per_order", "tenure", "avg_order_value"],
    ],
)
@pytest.mark.parametrize("returns", ["drop", "net"])
def test_columns_asked_for_are_the_same_values_as_in_the_whole_table(columns, returns):
    policy = CleaningPolicy(returns=returns)
    data = load_transactions(HAND)
    snap = default_snapshot(data.con, data.view)
    apply_policy(data.con, policy, view=data.view, before=snap.isoformat())
    whole = customer_features(data.con, snap, net_returns=returns == "net")
    some = customer_features(data.con, snap, net_returns=returns == "net", columns=columns)
    assert list(some.columns) == columns
    pd.testing.assert_frame_equal(some, whole[columns])


def test_only_the_aggregates_of_the_columns_asked_for_are_computed():
    from custseg.features import customer_features_sql

    snap = dt.date(2011, 1, 21)
    rfm = customer_features_sql(snap, columns=["recency", "frequency", "monetary"])
    assert "return_lines" not in rfm and "stock_code" not in rfm and "quantity" not in rfm
    net = customer_features_sql(snap, net_returns=True, columns=["monetary"])
    assert "return_lines" in net  # monetary nets the returns: they are read
    assert "count(DISTINCT stock_code)" in customer_features_sql(snap)


@pytest.mark.parametrize(
    ("columns", "message"),
    [(["recency", "spend"], "unknown feature column 'spend'"), ([" "], "no feature column")],
)
def test_unknown_feature_columns_are_refused_with_the_list(columns, message):
    from custseg.errors import ParameterError
    from custseg.features import feature_columns

    with pytest.raises(ParameterError, match=message) as info:
        feature_columns(columns)
    assert "recency, frequency, monetary, tenure" in info.value.fix


def test_net_returns_subtracts_cancelled_value():
    f = _features(HAND, CleaningPolicy(returns="net"))
    assert f.loc["1", "monetary"] == pytest.approx(40 - 10)


def test_as_of_leaves_later_lines_out():
    f = _features(HAND, as_of=dt.date(2011, 1, 10))
    assert f.loc["1", "frequency"] == 1
    assert f.loc["1", "recency"] == 9
    assert "007" not in f.index


def test_real_dataset_rfm_of_known_customers(real_loaded):
    snap = default_snapshot(real_loaded.con, real_loaded.view)
    assert snap == dt.date(2011, 12, 10)
    from custseg.cleaning import COMMON_POLICY

    apply_policy(real_loaded.con, COMMON_POLICY, view=real_loaded.view)
    f = customer_features(real_loaded.con, snap)
    assert len(f) == 4_338
    # Customer 12346 bought 74,215 jars once on 2011-01-18 and cancelled them.
    assert f.loc["12346", "frequency"] == 1
    assert f.loc["12346", "monetary"] == pytest.approx(77_183.60)
    assert f.loc["12346", "recency"] == 326
    assert f.loc["12346", "return_rate"] == pytest.approx(1.0)
    assert f["monetary"].sum() == pytest.approx(8_911_407.904, abs=0.01)
    assert f["frequency"].sum() == 18_532


rows = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "3", "4"]),  # invoice suffix
        st.sampled_from(["10001", "10002", "POST"]),
        st.integers(-5, 50),
        st.integers(0, 400),  # day offset
        st.sampled_from([0.0, 0.5, 1.25, 3.0]),
        st.sampled_from([1.0, 2.0, 3.0]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.randoms(use_true_random=False))
def test_feature_properties(lines, rnd):
    base = dt.datetime(2011, 1, 1, 10)
    df = _frame(
        [
            (
                ("C" if q < 0 else "") + inv + str(cust),
                code,
                "x",
                q,
                base + dt.timedelta(days=d),
                p,
                cust,
                "UK",
            )
            for inv, code, q, d, p, cust in lines
        ]
    )
    kept = df[(df.Quantity > 0) & (df.UnitPrice > 0) & ~df.InvoiceNo.str.startswith("C")]
    kept = kept[kept.StockCode != "POST"].drop_duplicates()
    if kept.empty:
        return
    f = _features(df)
    # monetary is the sum of the kept line totals
    expected = (
        (kept.Quantity * kept.UnitPrice).groupby(kept.CustomerID.astype(int).astype(str)).sum()
    )
    pd.testing.assert_series_equal(
        f["monetary"],
        expected.rename("monetary"),
        check_names=False,
        check_index_type=False,
        rtol=1e-9,
    )
    assert (f["recency"] >= 0).all()
    lines_per_customer = kept.groupby(kept.CustomerID.astype(int).astype(str)).size()
    assert (f["frequency"] <= lines_per_customer.reindex(f.index)).all()
    # row order changes nothing
    shuffled = df.sample(frac=1, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    pd.testing.assert_frame_equal(_features(shuffled), f)


def test_transformer_logs_skewed_columns_and_standardises():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "recency": rng.uniform(1, 300, 500),
            "frequency": rng.geometric(0.3, 500),
            "monetary": rng.lognormal(6, 1.2, 500),
        }
    )
    t = FeatureTransformer().fit(X)
    assert "monetary" in t.log_columns_ and "frequency" in t.log_columns_
    assert "recency" not in t.log_columns_  # uniform: not skewed
    Z = t.transform(X)
    assert np.allclose(Z.mean(), 0, atol=1e-9)
    assert np.allclose(Z.std(ddof=0), 1, atol=1e-9)
    assert np.allclose(
        Z["monetary"],
        (np.log1p(X["monetary"]) - np.log1p(X["monetary"]).mean())
        / np.log1p(X["monetary"]).std(ddof=0),
    )


def test_transformer_zero_variance_feature_is_centred_not_divided_by_zero():
    X = pd.DataFrame(
        {"recency": [5.0] * 4, "frequency": [1.0, 2, 3, 4], "monetary": [10.0, 20, 30, 400]}
    )
    Z = FeatureTransformer().fit_transform(X)
    assert np.all(np.isfinite(Z.to_numpy()))
    assert (Z["recency"] == 0).all()


def test_yeo_johnson_handles_negative_monetary():
    X = pd.DataFrame(
        {
            "recency": [1.0, 5, 9, 40],
            "frequency": [1.0, 2, 3, 9],
            "monetary": [-20.0, 20, 300, 4000],
        }
    )
    Z = FeatureTransformer(method="yeo-johnson").fit_transform(X)
    assert np.all(np.isfinite(Z.to_numpy()))
    assert Z["monetary"].is_monotonic_increasing
