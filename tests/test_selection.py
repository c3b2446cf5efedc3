"""k selection: scan, kneed elbow, the stated rule, silhouette sample and diagram."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score
from tests_support import REAL, pandas_rfm

from custseg.errors import ParameterError
from custseg.kmeans import KMeansSegmenter, sample_indices
from custseg.schema import FREQUENCY, MONETARY, RECENCY
from custseg.selection import (
    choose_k,
    find_knee,
    scan_k,
    select_k,
    silhouette_diagram_data,
)

RFM = [RECENCY, FREQUENCY, MONETARY]


# Small fits gain nothing from threads (see the conftest fixture).
pytestmark = pytest.mark.usefixtures("one_openmp_thread")


REAL_DATA = REAL


def blobs4(n: int = 800) -> pd.DataFrame:
    x, _ = make_blobs(
        n_samples=n, centers=4, n_features=3, cluster_std=0.6, center_box=(-8, 8), random_state=3
    )
    return pd.DataFrame(x, columns=RFM)


def skewed_with_wholesalers(n: int = 1500, seed: int = 5) -> pd.DataFrame:
    """Log-normal spend, geometric order counts, and 12 huge wholesale customers (0.8%)."""
    rng = np.random.default_rng(seed)
    freq = rng.geometric(0.3, n).astype(float)
    monetary = np.exp(rng.normal(6, 1.3, n)) * freq
    recency = rng.gamma(1.1, 90, n)
    monetary[:12] *= 200
    freq[:12] += 150
    raw = np.log1p(np.column_stack([recency, freq, monetary]))
    return pd.DataFrame((raw - raw.mean(axis=0)) / raw.std(axis=0), columns=RFM)


# Scores measured on the Online Retail RFM features (rounded): silhouette peaks at k=2.
REALISH_TABLE = pd.DataFrame(
    {
        "k": range(2, 11),
        "inertia": [6486, 4877, 3963, 3330, 2875, 2573, 2360, 2185, 2021],
        "silhouette": [0.434, 0.338, 0.337, 0.317, 0.314, 0.309, 0.302, 0.292, 0.279],
        "calinski_harabasz": [4365, 3616, 3300, 3150, 3055, 2929, 2792, 2682, 2616],
        "davies_bouldin": [0.892, 1.048, 1.013, 0.994, 1.023, 0.978, 0.998, 1.028, 1.019],
        "min_cluster_share": [0.381, 0.172, 0.163, 0.063, 0.063, 0.050, 0.048, 0.041, 0.021],
    }
)


# --------------------------------------------------------------------- knee


def test_find_knee_on_synthetic_elbow():
    # Steep fall to k=4, then a gentle slope of 10 per k.
    assert find_knee(range(2, 11), [1000, 500, 200, 100, 90, 80, 70, 60, 50]) == 4
    # Order of the points does not matter.
    ks, inertias = [6, 2, 4, 3, 5, 7], [150, 900, 200, 500, 180, 120]
    assert find_knee(ks, inertias) == 4


def test_find_knee_reports_no_knee():
    assert find_knee(range(2, 11), np.linspace(100, 10, 9)) is None  # straight line
    assert find_knee([2, 3], [10, 5]) is None  # too few points
    assert find_knee([2, 3, 4, 5], [7, 7, 7, 7]) is None  # flat
    with pytest.raises(ParameterError, match="same length"):
        find_knee([2, 3, 4], [1.0, 2.0])


# --------------------------------------------------------------------- rule, hand-computed


def test_rule_on_realish_table_hand_computed():
    choice = choose_k(REALISH_TABLE, knee=5)
    # Admissible k=3..10 (k=2 has fewer than 3 segments). Scaled ranks (m = 8):
    # k=5: silhouette 5/7, CH 5/7, DB 6/7 (2nd lowest), elbow 1 -> 23/28.
    # k=4: 6/7, 6/7, 4/7, 5.5/7 (tied distance with k=6) -> 21.5/28.
    assert choice.k == 5
    assert choice.score == pytest.approx(23 / 28)
    assert choice.admissible == list(range(3, 11))
    assert not choice.forced
    ranking = choice.ranking.set_index("k")
    assert ranking.loc[4, "score"] == pytest.approx(21.5 / 28)
    assert ranking.loc[3, "score"] == pytest.approx(17.5 / 28)
    assert ranking.loc[7, "score"] == pytest.approx(16.5 / 28)
    assert math.isnan(ranking.loc[2, "score"])
    assert "k=5 has the best combined score (0.82) of the 8 admissible values (k=3-10)" in (
        choice.reason
    )
    assert "it is the elbow" in choice.reason
    assert "k=2 has the highest silhouette (0.434) but fewer than 3 segments" in choice.reason
    # Runners-up: every other k, best first, with why not.
    assert [r["k"] for r in choice.runners_up] == [4, 3, 7, 6, 8, 9, 10, 2]
    assert choice.runners_up[0]["why_not"] == "combined score 0.77, below 0.82 for k=5"
    assert choice.runners_up[-1]["admissible"] is False
    assert "at least 3 segments" in choice.rule and "2%" in choice.rule


def test_rule_without_knee_drops_the_distance_criterion():
    choice = choose_k(REALISH_TABLE, knee=None)
    # Silhouette, CH, DB only: k=3 gets (1 + 1 + 0) / 3, k=4 (6/7 + 6/7 + 4/7) / 3,
    # k=5 (5/7 + 5/7 + 6/7) / 3 = 16/21, the best.
    ranking = choice.ranking.set_index("k")
    assert ranking.loc[4, "score"] == pytest.approx(16 / 21)
    assert ranking.loc[5, "score"] == pytest.approx(16 / 21)
    # Tie without an elbow goes to the smaller k.
    assert choice.k == 4
    assert "no elbow was found" in choice.reason
    assert ranking["rank_knee"].isna().all()


def test_small_segments_are_not_admissible():
    table = REALISH_TABLE.assign(min_cluster_share=[0.4, 0.3, 0.01, 0.2, 0.005, 0.1, 0.1, 0.1, 0.1])
    choice = choose_k(table, knee=4)
    assert 4 not in choice.admissible and 6 not in choice.admissible
    assert choice.k != 4
    why = {r["k"]: r["why_not"] for r in choice.runners_up}
    assert why[4] == "its smallest segment holds only 1% of customers (minimum 2%)"
    assert why[6] == "its smallest segment holds only 0.5% of customers (minimum 2%)"


def test_fallback_when_no_k_is_admissible():
    table = REALISH_TABLE.assign(
        min_cluster_share=[0.4, 0.010, 0.015, 0.005, 0.004, 0.003, 0.002, 0.002, 0.001]
    )
    choice = choose_k(table, knee=5)
    assert choice.admissible == []
    assert choice.k == 4
    assert choice.score is None
    assert "k=4 is kept because its smallest segment is the largest (1.5% of customers)" in (
        choice.reason
    )


def test_forced_k():
    choice = choose_k(REALISH_TABLE, knee=5, forced_k=2)
    assert choice.k == 2 and choice.forced
    assert choice.reason.startswith("k=2 was set by the user (--k 2)")
    assert "Note: fewer than 3 segments; the automatic rule would pick k=5." in choice.reason
    assert all(r["why_not"] == "k=2 was set by the user" for r in choice.runners_up)
    assert len(choice.runners_up) == 8
    outside = choose_k(REALISH_TABLE, knee=5, forced_k=14)
    assert outside.k == 14 and "not in the scan" in outside.reason
    with pytest.raises(ParameterError, match="forced_k must be an integer >= 2"):
        choose_k(REALISH_TABLE, knee=5, forced_k=1)


def test_choose_k_rejects_bad_input():
    with pytest.raises(ParameterError, match="min_cluster_share"):
        choose_k(REALISH_TABLE, knee=5, min_cluster_share=2)
    with pytest.raises(ParameterError, match="k table"):
        choose_k(REALISH_TABLE.iloc[:0], knee=None)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 9),
    min_clusters=st.integers(1, 5),
    min_share=st.sampled_from([0.0, 0.02, 0.05, 0.2]),
)
def test_rule_invariants(data, n, min_clusters, min_share):
    ks = list(range(2, 2 + n))

    def column(lo: float, hi: float) -> list[float]:
        return data.draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n))

    table = pd.DataFrame(
        {
            "k": ks,
            "silhouette": column(-1, 1),
            "calinski_harabasz": column(0, 1e4),
            "davies_bouldin": column(0, 5),
            "min_cluster_share": [x / k for x, k in zip(column(0, 1), ks, strict=True)],
        }
    )
    knee = data.draw(st.one_of(st.none(), st.sampled_from(ks)))
    choice = choose_k(table, knee, min_clusters=min_clusters, min_cluster_share=min_share)
    shares = dict(zip(ks, table["min_cluster_share"], strict=True))
    expected = [k for k in ks if k >= min_clusters and shares[k] >= min_share]
    assert choice.admissible == expected
    assert sorted([choice.k] + [r["k"] for r in choice.runners_up]) == ks
    if expected:
        assert choice.k in expected
        assert shares[choice.k] >= min_share
        others = [r["score"] for r in choice.runners_up if r["admissible"]]
        assert all(choice.score >= s - 1e-9 for s in others)
    else:
        assert choice.score is None


# --------------------------------------------------------------------- scan and select


def test_select_k_recovers_planted_four_blobs():
    selection = select_k(blobs4())
    assert selection.k == 4
    assert selection.knee == 4
    table = selection.table.set_index("k")
    assert list(table.index) == list(range(2, 11))
    assert table["silhouette"].idxmax() == 4
    assert table["calinski_harabasz"].idxmax() == 4
    assert table["davies_bouldin"].idxmin() == 4
    assert table.loc[4, "sizes"] == [200, 200, 200, 200]
    assert table.loc[4, "min_cluster_share"] == 0.25
    assert table.loc[4, "silhouette"] > 0.8
    assert not selection.sampled and selection.sample_size == 800
    assert selection.choice.score == 1.0
    summary = selection.to_dict()
    assert summary["k"] == 4 and summary["knee"] == 4 and len(summary["table"]) == 9


def test_skewed_data_never_gets_a_tiny_segment():
    x = skewed_with_wholesalers()
    selection = select_k(x, n_init=4)
    table = selection.table.set_index("k")
    # k >= 4 isolates the 12 wholesalers (0.8%); the silhouette is highest at k=4.
    assert (table.loc[4:, "min_cluster_share"] == 12 / 1500).all()
    assert table["silhouette"].idxmax() == 4
    assert selection.k == 3
    assert selection.choice.admissible == [3]
    assert table.loc[selection.k, "min_cluster_share"] >= 0.02
    assert (
        "k=4 has the highest silhouette (0.297) but its smallest segment holds only 0.8% of "
        "customers (minimum 2%)" in selection.choice.reason
    )


def test_silhouette_sample_is_the_same_for_every_k_and_feeds_the_diagram():
    x = blobs4()
    selection = select_k(x, range(2, 7), silhouette_sample_size=300, random_state=2)
    assert selection.sampled and selection.sample_size == 300
    diagram = selection.diagram
    assert len(diagram) == 300 and list(diagram.columns) == ["cluster", "silhouette"]
    table = selection.table.set_index("k")
    assert diagram["silhouette"].mean() == pytest.approx(table.loc[4, "silhouette"])
    # Same sample for every k: the public helper reproduces each k's silhouette.
    for k in (3, 4, 6):
        labels = KMeansSegmenter(k, random_state=2).fit(x).labels_
        data = silhouette_diagram_data(x, labels, sample_size=300, random_state=2)
        assert data["silhouette"].mean() == pytest.approx(table.loc[k, "silhouette"])
        if k == 4:
            pd.testing.assert_frame_equal(data, diagram)
    # Sorted for drawing: by cluster, then descending silhouette.
    assert diagram["cluster"].is_monotonic_increasing
    for _, part in diagram.groupby("cluster"):
        assert part["silhouette"].is_monotonic_decreasing
    assert set(diagram.index) <= set(x.index)


def test_ch_and_db_on_a_sample_beyond_score_sample_size():
    x = blobs4(400)
    table = scan_k(x, [3], score_sample_size=150).set_index("k")
    labels = KMeansSegmenter(3).fit(x).labels_
    idx = sample_indices(x.to_numpy(), 150, 0)
    expected = calinski_harabasz_score(x.to_numpy()[idx], labels[idx])
    assert table.loc[3, "calinski_harabasz"] == pytest.approx(expected)
    full = scan_k(x, [3]).set_index("k")
    assert full.loc[3, "calinski_harabasz"] == pytest.approx(calinski_harabasz_score(x, labels))


def test_scan_is_independent_of_row_order():
    x = skewed_with_wholesalers(600)
    a = scan_k(x, range(2, 7), n_init=3, silhouette_sample_size=250)
    perm = np.random.default_rng(0).permutation(len(x))
    b = scan_k(x.iloc[perm], range(2, 7), n_init=3, silhouette_sample_size=250)
    cols = ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    np.testing.assert_allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-9)
    assert a["sizes"].tolist() == b["sizes"].tolist()


def test_minibatch_path_in_scan():
    table = scan_k(blobs4(), [3, 4], minibatch_threshold=100, batch_size=128)
    assert set(table["algorithm"]) == {"MiniBatchKMeans"}
    assert table.set_index("k").loc[4, "sizes"] == [200, 200, 200, 200]


def test_select_k_with_forced_k_adds_it_to_the_scan():
    selection = select_k(blobs4(), range(2, 6), forced_k=7)
    assert selection.k == 7 and selection.choice.forced
    assert list(selection.table["k"]) == [2, 3, 4, 5, 7]
    assert "The automatic rule would pick k=4." in selection.choice.reason
    assert selection.diagram["cluster"].nunique() == 7


def test_scan_rejects_bad_k_values():
    with pytest.raises(ParameterError, match="k_values must be integers >= 2"):
        scan_k(blobs4(), [1, 2])
    with pytest.raises(ParameterError, match="distinct customer rows"):
        scan_k(np.repeat(np.eye(3), 5, axis=0), [2, 4])
    with pytest.raises(ParameterError, match="labels has shape"):
        silhouette_diagram_data(blobs4(), [0, 1])


# --------------------------------------------------------------------- real data


def real_rfm() -> pd.DataFrame:
    """log1p + standardised RFM of Online Retail, computed here with pandas."""
    logged = np.log1p(pandas_rfm(REAL_DATA).astype(float))
    return (logged - logged.mean()) / logged.std(ddof=0)


@pytest.mark.slow
@pytest.mark.skipif(not REAL_DATA.exists(), reason="real dataset not available")
def test_real_data_choice():
    x = real_rfm()
    assert len(x) == 4338
    selection = select_k(x)
    table = selection.table.set_index("k")
    # The silhouette is highest at k=2, which the rule rejects as too coarse.
    assert table["silhouette"].idxmax() == 2
    assert table.loc[2, "silhouette"] == pytest.approx(0.434, abs=0.005)
    assert selection.knee == 5
    assert selection.k == 5
    assert table.loc[5, "sizes"] == [273, 933, 1057, 823, 1252]
    assert "k=2 has the highest silhouette (0.434) but fewer than 3 segments" in (
        selection.choice.reason
    )


def test_scan_silhouettes_equal_sklearn_and_the_model_is_the_refit():
    from sklearn.metrics import silhouette_samples

    x = skewed_with_wholesalers()
    selection = select_k(x, range(2, 8), silhouette_sample_size=700, random_state=3)
    idx = sample_indices(x.to_numpy(), 700, 3)
    table = selection.table.set_index("k")
    for k in range(2, 8):
        labels = KMeansSegmenter(k, random_state=3).fit(x).labels_
        expected = silhouette_samples(x.to_numpy()[idx], labels[idx]).mean()
        assert table.loc[k, "silhouette"] == pytest.approx(expected, abs=1e-12)
    refit = KMeansSegmenter(selection.k, random_state=3).fit(x)
    assert np.array_equal(selection.model.labels_, refit.labels_)
    assert np.array_equal(selection.model.cluster_centers_, refit.cluster_centers_)
    assert selection.model.inertia_ == refit.inertia_
    assert list(selection.model.feature_names_in_) == list(x.columns)
