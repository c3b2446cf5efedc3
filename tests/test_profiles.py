"""Segment profiles and cluster names: hand-computed fixtures, planted clusters, real data."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_support import REAL, pandas_rfm

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.profiles import (
    DEFAULT_NAMING_RULES,
    LEVELS,
    NamingRule,
    align_labels,
    name_clusters,
    profiles_by_method,
    segment_profiles,
)

REAL_DATA = REAL


@pytest.fixture
def tiny():
    """Six customers, two segments; every figure below is computed by hand."""
    features = pd.DataFrame(
        {
            "recency": [10, 20, 30, 100, 200, 300],
            "frequency": [5, 3, 4, 1, 1, 2],
            "monetary": [500.0, 300.0, 400.0, 100.0, 50.0, 150.0],
        },
        index=pd.Index(["a", "b", "c", "d", "e", "f"], name="customer_id"),
    )
    labels = pd.Series([1, 1, 1, 0, 0, 0], index=features.index, name="kmeans")
    return features, labels


# ------------------------------------------------------------------------ profiles


def test_profile_hand_computed(tiny):
    features, labels = tiny
    prof = segment_profiles(features, labels)
    assert list(prof.columns) == [
        "segment",
        "size",
        "customer_share",
        "revenue",
        "revenue_share",
        "mean_recency",
        "median_recency",
        "mean_frequency",
        "median_frequency",
        "mean_monetary",
        "median_monetary",
    ]
    assert prof["segment"].tolist() == [0, 1]
    assert prof["size"].tolist() == [3, 3]
    assert prof["customer_share"].tolist() == [0.5, 0.5]
    # Total revenue 1500: segment 0 spends 300, segment 1 spends 1200.
    assert prof["revenue"].tolist() == [300.0, 1200.0]
    assert prof["revenue_share"].tolist() == pytest.approx([0.2, 0.8])
    assert prof["mean_recency"].tolist() == [200.0, 20.0]
    assert prof["median_recency"].tolist() == [200.0, 20.0]
    assert prof["mean_frequency"].tolist() == pytest.approx([4 / 3, 4.0])
    assert prof["median_frequency"].tolist() == [1.0, 4.0]
    assert prof["mean_monetary"].tolist() == [100.0, 400.0]
    assert prof["median_monetary"].tolist() == [100.0, 400.0]


def test_profile_uneven_segments_and_feature_subset(tiny):
    features, _ = tiny
    labels = pd.Series(["loyal", "loyal", "new", "lost", "lost", "lost"], index=features.index)
    prof = segment_profiles(features, labels, feature_cols=["frequency"])
    assert prof["segment"].tolist() == ["lost", "loyal", "new"]
    assert prof["size"].tolist() == [3, 2, 1]
    assert prof["customer_share"].tolist() == pytest.approx([0.5, 1 / 3, 1 / 6])
    assert prof["revenue"].tolist() == [300.0, 800.0, 400.0]
    assert prof["median_frequency"].tolist() == [1.0, 4.0, 4.0]
    assert prof["mean_frequency"].tolist() == pytest.approx([4 / 3, 4.0, 4.0])
    assert "mean_recency" not in prof.columns


def test_negative_net_revenue_gives_negative_share(tiny):
    features, labels = tiny
    features = features.assign(monetary=[500.0, 300.0, 400.0, -100.0, -50.0, -50.0])
    prof = segment_profiles(features, labels)
    # Net total 1000: the net-return segment has share -0.2, the other 1.2.
    assert prof["revenue"].tolist() == [-200.0, 1200.0]
    assert prof["revenue_share"].tolist() == pytest.approx([-0.2, 1.2])
    assert prof["revenue_share"].sum() == pytest.approx(1.0)


def test_non_positive_total_revenue_gives_nan_shares(tiny):
    features, labels = tiny
    features = features.assign(monetary=[1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    prof = segment_profiles(features, labels)
    assert prof["revenue_share"].isna().all()
    assert prof["customer_share"].tolist() == [0.5, 0.5]


def test_noise_label_is_profiled_and_sorted_first(tiny):
    features, _ = tiny
    labels = pd.Series([0, 0, -1, 1, 1, -1], index=features.index)
    prof = segment_profiles(features, labels)
    assert prof["segment"].tolist() == [-1, 0, 1]
    assert prof["size"].tolist() == [2, 2, 2]
    assert prof.loc[0, "revenue"] == 550.0  # customers c and f


def test_labels_matched_on_index_not_position(tiny):
    features, labels = tiny
    shuffled = labels.iloc[::-1]
    pd.testing.assert_frame_equal(
        segment_profiles(features, shuffled), segment_profiles(features, labels)
    )
    # A plain array is positional.
    pd.testing.assert_frame_equal(
        segment_profiles(features, labels.to_numpy()), segment_profiles(features, labels)
    )


def test_profile_errors(tiny):
    features, labels = tiny
    with pytest.raises(DataError, match="do not match"):
        segment_profiles(features, labels.iloc[:-1])
    with pytest.raises(DataError, match="do not match"):
        segment_profiles(features, labels.set_axis(list("abcdez")))
    with pytest.raises(DataError, match="got 2 labels"):
        segment_profiles(features, [0, 1])
    with pytest.raises(DataError, match="no label"):
        segment_profiles(features, labels.astype(float).where(labels > 0))
    with pytest.raises(DataError, match="more than once"):
        segment_profiles(features, labels.set_axis(list("aacdef")))
    with pytest.raises(ColumnError, match="'spend'"):
        segment_profiles(features, labels, monetary_col="spend")
    with pytest.raises(ColumnError, match="'tenure'"):
        segment_profiles(features, labels, feature_cols=["tenure"])
    with pytest.raises(DataError, match="no customer"):
        segment_profiles(features.iloc[:0], labels.iloc[:0])
    # The message is one line with a fix.
    with pytest.raises(DataError) as info:
        align_labels(labels.iloc[:-1], features.index)
    assert "\n" not in str(info.value) and "Pass labels" in str(info.value)


def test_profiles_by_method_stacks(tiny):
    features, labels = tiny
    rfm = pd.Series(list("xxyyyy"), index=features.index)
    out = profiles_by_method(features, {"kmeans": labels, "rfm": rfm})
    assert out["method"].tolist() == ["kmeans", "kmeans", "rfm", "rfm"]
    assert out["segment"].tolist() == [0, 1, "x", "y"]
    assert out["size"].tolist() == [3, 3, 2, 4]
    with pytest.raises(ParameterError):
        profiles_by_method(features, {})


@st.composite
def labelled_customers(draw):
    n = draw(st.integers(1, 25))
    monetary = draw(st.lists(st.floats(0.01, 1e5), min_size=n, max_size=n))
    recency = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    index = pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id")
    features = pd.DataFrame({"recency": recency, "monetary": monetary}, index=index)
    return features, pd.Series(labels, index=index), list(order)


@settings(max_examples=60, deadline=None)
@given(labelled_customers())
def test_property_row_order_changes_nothing_and_shares_sum_to_one(case):
    features, labels, order = case
    prof = segment_profiles(features, labels)
    shuffled = segment_profiles(features.iloc[order], labels.iloc[order])
    pd.testing.assert_frame_equal(prof, shuffled, check_exact=False, rtol=1e-9)
    assert prof["customer_share"].sum() == pytest.approx(1.0)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    assert prof["size"].sum() == len(features)
    assert prof["segment"].is_monotonic_increasing


# -------------------------------------------------------------------------- naming


def _planted_population(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Five planted groups (1300 customers) with clearly different R, F, M."""
    rng = np.random.default_rng(seed)
    groups = [
        # (size, recency range, frequency range, monetary range)
        (100, (0, 15), (15, 40), (4000, 9000)),  # 0: recent, frequent, big spenders
        (300, (250, 370), (1, 2), (30, 150)),  # 1: long gone, one order, small
        (100, (60, 110), (8, 20), (2500, 6000)),  # 2: good customers not seen lately
        (200, (0, 15), (1, 3), (20, 100)),  # 3: new, small
        (600, (20, 150), (2, 7), (300, 1000)),  # 4: ordinary
    ]
    parts, labels = [], []
    for i, (n, r, f, m) in enumerate(groups):
        parts.append(
            pd.DataFrame(
                {
                    "recency": rng.integers(r[0], r[1], n),
                    "frequency": rng.integers(f[0], f[1], n),
                    "monetary": rng.uniform(m[0], m[1], n),
                }
            )
        )
        labels += [i] * n
    features = pd.concat(parts, ignore_index=True)
    features.index = pd.Index([f"c{i:04d}" for i in range(len(features))], name="customer_id")
    return features, pd.Series(labels, index=features.index, name="kmeans")


def test_planted_clusters_get_expected_names():
    features, labels = _planted_population()
    names = name_clusters(segment_profiles(features, labels), features)
    assert names["segment"].tolist() == [0, 1, 2, 3, 4]
    assert names["name_key"].tolist() == [
        "vip_champions",
        "lapsed_low_spenders",
        "at_risk_big_spenders",
        "recent_low_spenders",
        "lapsing_mid_spenders",
    ]
    assert names["name"].tolist() == [
        "VIP champions",
        "lapsed low spenders",
        "at-risk big spenders",
        "recent low spenders",
        "lapsing mid spenders",
    ]
    assert names["action"].iloc[0].startswith("dedicated account care")
    assert "win-back" in names["action"].iloc[1]
    assert (names["name_variant"] == 0).all()
    assert names[["r_level", "f_level", "m_level"]].iloc[0].tolist() == ["high", "top", "top"]
    assert names[["r_level", "f_level", "m_level"]].iloc[1].tolist() == ["low"] * 3


def test_scores_are_mid_rank_percentiles():
    population = pd.DataFrame(
        {"recency": [1, 2, 3, 4], "frequency": [1, 1, 2, 3], "monetary": [10, 20, 30, 40]}
    )
    profiles = pd.DataFrame(
        {
            "segment": [0],
            "median_recency": [2.5],  # 2 of 4 below: percentile 0.5, r_score 0.5
            "median_frequency": [1.0],  # tie with 2 of 4: (0 + 2) / 8 = 0.25
            "median_monetary": [40.0],  # (3 + 4) / 8 = 0.875
        }
    )
    out = name_clusters(profiles, population)
    assert out[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [0.5, 0.25, 0.875]
    assert out[["r_level", "f_level", "m_level"]].iloc[0].tolist() == ["mid", "low", "high"]
    assert out["name_key"].iloc[0] == "at_risk_big_spenders"
    # Other cuts move the levels: with (0.2, 0.5) R and F become high and mid.
    out = name_clusters(profiles, population, cuts=(0.2, 0.5))
    assert out[["r_level", "f_level", "m_level"]].iloc[0].tolist() == ["high", "mid", "high"]
    assert out["name_key"].iloc[0] == "high_value_loyal"


def test_default_rules_cover_every_level_combination():
    for combo in itertools.product(LEVELS, repeat=3):
        assert any(rule.matches(*combo) for rule in DEFAULT_NAMING_RULES), combo
    keys = [r.key for r in DEFAULT_NAMING_RULES]
    assert len(set(keys)) == len(keys)
    assert {"high_value_loyal", "recent_low_spenders", "lapsed_low_spenders"} <= set(keys)


def test_same_rule_twice_is_disambiguated_by_spend():
    features, labels = _planted_population()
    # Split the lapsed group (label 1) in two by recency: both halves stay lapsed low.
    lapsed = labels == 1
    older = lapsed & (features["recency"] > features.loc[lapsed, "recency"].median())
    labels = labels.where(~older, 5)
    prof = segment_profiles(features, labels)
    names = name_clusters(prof, features)
    lapsed_rows = names[names["name_key"] == "lapsed_low_spenders"]
    assert lapsed_rows["segment"].tolist() == [1, 5]
    spend = prof.set_index("segment")["median_monetary"]
    assert spend[1] != spend[5]
    # The cluster with the larger median spend is (1).
    expected = [1, 2] if spend[1] > spend[5] else [2, 1]
    assert lapsed_rows["name_variant"].tolist() == expected
    assert lapsed_rows["name"].tolist() == [f"lapsed low spenders ({v})" for v in expected]
    assert names["name"].is_unique
    assert names.loc[names["segment"] == 0, "name"].item() == "VIP champions"
    # Deterministic whatever the order of the profile rows.
    again = name_clusters(prof.iloc[::-1], features)
    pd.testing.assert_frame_equal(
        again.sort_values("segment").reset_index(drop=True), names.reset_index(drop=True)
    )


def test_ties_in_spend_are_broken_by_segment():
    population = pd.DataFrame({"recency": [1, 500], "frequency": [1, 9], "monetary": [1, 99]})
    profiles = pd.DataFrame(
        {
            "segment": [7, 3],
            "median_recency": [500, 500],
            "median_frequency": [1, 1],
            "median_monetary": [1, 1],
        }
    )
    out = name_clusters(profiles, population)
    assert out["name"].tolist() == ["lapsed low spenders (2)", "lapsed low spenders (1)"]


def test_user_can_override_rules():
    features, labels = _planted_population()
    profiles = segment_profiles(features, labels)
    # Reword one rule, keep the rest.
    reworded = tuple(
        dataclasses.replace(r, name="champions", action="thank them")
        if r.key == "vip_champions"
        else r
        for r in DEFAULT_NAMING_RULES
    )
    out = name_clusters(profiles, features, rules=reworded)
    assert out["name"].iloc[0] == "champions"
    assert out["action"].iloc[0] == "thank them"
    assert out["name"].iloc[1] == "lapsed low spenders"
    # A whole new table: spend only, with a catch-all.
    custom = (
        NamingRule("whales", "whales", "call them", monetary="high"),
        NamingRule("others", "everyone else", "newsletter"),
    )
    out = name_clusters(profiles, features, rules=custom)
    assert out["name_key"].tolist() == ["whales", "others", "whales", "others", "others"]
    # Numbered by descending median spend: group 4 (ordinary), then 1, then 3.
    assert out["name"].tolist() == [
        "whales (1)",
        "everyone else (2)",
        "whales (2)",
        "everyone else (3)",
        "everyone else (1)",
    ]
    # A table that leaves a cluster unnamed is refused.
    with pytest.raises(ParameterError, match="no naming rule matches cluster 1"):
        name_clusters(profiles, features, rules=custom[:1])


def test_noise_segment_gets_noise_name(tiny):
    features, _ = tiny
    labels = pd.Series([0, 0, 0, -1, 1, 1], index=features.index)
    out = name_clusters(segment_profiles(features, labels), features)
    assert out.loc[out["segment"] == -1, "name_key"].item() == "noise"
    assert out.loc[out["segment"] != -1, "name_key"].ne("noise").all()


def test_naming_errors(tiny):
    features, labels = tiny
    profiles = segment_profiles(features, labels)
    with pytest.raises(ParameterError, match="snake_case"):
        NamingRule("High Value", "x", "y")
    with pytest.raises(ParameterError, match="levels"):
        NamingRule("x", "x", "y", recency={"very high"})
    with pytest.raises(ParameterError, match="empty"):
        name_clusters(profiles, features, rules=())
    with pytest.raises(ParameterError, match="repeats"):
        name_clusters(profiles, features, rules=DEFAULT_NAMING_RULES[:1] * 2)
    with pytest.raises(ParameterError, match="cuts"):
        name_clusters(profiles, features, cuts=(0.7, 0.3))
    with pytest.raises(ColumnError, match="median_frequency"):
        name_clusters(profiles.drop(columns="median_frequency"), features)
    with pytest.raises(ColumnError, match="'monetary'"):
        name_clusters(profiles, features.drop(columns="monetary"))


# ------------------------------------------------------------------ real dataset


def _real_rfm() -> pd.DataFrame:
    return pandas_rfm(REAL_DATA)


@pytest.mark.skipif(not REAL_DATA.exists(), reason="real dataset not available")
def test_real_dataset_kmeans4_profiles_and_names():
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    features = _real_rfm()
    assert len(features) == 4338
    X = StandardScaler().fit_transform(np.log1p(features))
    km = KMeans(4, random_state=0, n_init=10).fit(X)
    labels = pd.Series(km.labels_, index=features.index)
    prof = segment_profiles(features, labels)
    names = name_clusters(prof, features)
    table = prof.assign(name_key=names["name_key"]).set_index("name_key")
    assert sorted(table.index) == [
        "at_risk_big_spenders",
        "lapsed_low_spenders",
        "recent_mid_spenders",
        "vip_champions",
    ]
    assert table["size"].to_dict() == {
        "vip_champions": 713,
        "at_risk_big_spenders": 1187,
        "lapsed_low_spenders": 1626,
        "recent_mid_spenders": 812,
    }
    # 16 % of customers bring 65 % of the revenue.
    assert table.loc["vip_champions", "revenue_share"] == pytest.approx(0.6470, abs=5e-4)
    assert table.loc["vip_champions", "median_frequency"] == 10
    assert table.loc["lapsed_low_spenders", "median_recency"] == 173
    assert table.loc["recent_mid_spenders", "median_monetary"] == pytest.approx(470.78)
    assert prof["revenue"].sum() == pytest.approx(8_911_407.904, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.permutations(list(range(12))), st.integers(0, 11))
def test_align_labels_matches_any_order_and_rejects_a_stranger(perm, stranger):
    """Customer ids as (Arrow) strings, the dtype features get from DuckDB."""
    index = pd.Index([f"{12346 + i}" for i in range(12)], dtype="str", name="customer_id")
    labels = pd.Series(np.arange(12) % 3, index=index, name="kmeans")
    shuffled = labels.iloc[list(perm)]
    aligned = align_labels(shuffled, index)
    assert aligned.index.equals(index)
    assert aligned.tolist() == labels.tolist()
    renamed = shuffled.rename(index={shuffled.index[stranger]: "99999"})
    with pytest.raises(DataError, match="do not match"):
        align_labels(renamed, index)


def test_align_labels_on_a_non_unique_index():
    index = pd.Index(["a", "a", "b"])
    labels = pd.Series([0, 1, 2], index=pd.Index(["a", "b", "c"]))
    with pytest.raises(DataError, match="do not match"):
        align_labels(labels, index)
