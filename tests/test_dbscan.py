"""DBSCAN: k-distance knee, tuning grid and honest interpretation, sample + nearest core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from tests_support import REAL, pandas_rfm

from custseg.dbscan import (
    DBSCANSegmenter,
    eps_from_knee,
    k_distance_curve,
    tune_dbscan,
)
from custseg.errors import ParameterError
from custseg.kmeans import sample_indices
from custseg.schema import FREQUENCY, MONETARY, RECENCY

RFM = [RECENCY, FREQUENCY, MONETARY]


# Small fits gain nothing from threads (see the conftest fixture).
pytestmark = pytest.mark.usefixtures("one_openmp_thread")


REAL_DATA = REAL


def blobs_with_noise(
    per_blob: int | tuple[int, int, int] = 300, n_noise: int = 30
) -> tuple[pd.DataFrame, np.ndarray]:
    """Three tight blobs (labels 0-2) and uniformly scattered points (label -1)."""
    sizes = list(per_blob) if isinstance(per_blob, tuple) else [per_blob] * 3
    x, y = make_blobs(
        n_samples=sizes,
        centers=[[0, 0, 0], [6, 0, 0], [0, 6, 0]],
        cluster_std=0.4,
        random_state=1,
    )
    scattered = np.random.default_rng(0).uniform(-6, 12, size=(n_noise, 3))
    frame = pd.DataFrame(np.vstack([x, scattered]), columns=RFM)
    return frame, np.concatenate([y, np.full(n_noise, -1)])


def one_blob_with_outliers() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    core = rng.normal(size=(2000, 3))
    outliers = rng.uniform(5, 10, size=(20, 3))
    return pd.DataFrame(np.vstack([core, outliers]), columns=RFM)


def layered_by_frequency() -> pd.DataFrame:
    """Whole order counts: log1p(frequency) takes few values with gaps between them."""
    rng = np.random.default_rng(0)
    n = 3000
    freq = rng.choice([1, 2, 3, 4, 6], size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1])
    recency = rng.gamma(2, 50, n)
    monetary = np.exp(rng.normal(6, 1, n)) * freq
    raw = np.log1p(np.column_stack([recency, freq, monetary]))
    return pd.DataFrame((raw - raw.mean(axis=0)) / raw.std(axis=0), columns=RFM)


# --------------------------------------------------------------------- k-distance and knee


def test_k_distance_curve_hand_computed():
    x = np.array([[0.0], [1.0], [3.0], [6.0]])
    # Nearest other point: 0->1, 1->0, 3->1 (2), 6->3 (3).
    np.testing.assert_allclose(k_distance_curve(x, 1), [1, 1, 2, 3])
    # Second nearest other point: 0->3 (3), 1->3 (2), 3->0 or 6 (3), 6->1 (5).
    np.testing.assert_allclose(k_distance_curve(x, 2), [2, 3, 3, 5])
    with pytest.raises(ParameterError, match="k=4 neighbours"):
        k_distance_curve(x, 4)


def test_k_distance_curve_on_a_sample():
    frame, _ = blobs_with_noise()
    curve = k_distance_curve(frame, 4, sample_size=200, random_state=3)
    assert curve.shape == (200,)
    assert np.all(np.diff(curve) >= 0)
    again = k_distance_curve(frame.sample(frac=1.0, random_state=9), 4, sample_size=200)
    np.testing.assert_array_equal(
        k_distance_curve(frame, 4, sample_size=200), again
    )  # same customers sampled whatever the row order


def test_eps_from_knee_on_a_hockey_stick():
    curve = np.concatenate([np.linspace(0.1, 0.3, 900), np.linspace(1, 5, 100)])
    assert eps_from_knee(curve) == pytest.approx(0.3)
    assert eps_from_knee(curve[::-1]) == pytest.approx(0.3)  # unsorted input is sorted
    # A long curve is read at 1,000 quantiles: the knee stays at the break.
    long = np.concatenate([np.linspace(0.1, 0.3, 9000), np.linspace(1, 5, 1000)])
    assert eps_from_knee(long) == pytest.approx(0.3, abs=0.01)
    assert eps_from_knee([0.4, 0.4, 0.4, 0.4]) == 0.4  # flat
    assert eps_from_knee([0.2, 0.5]) == 0.5  # too short for a knee
    with pytest.raises(ParameterError, match="empty or not finite"):
        eps_from_knee([0.1, np.nan, 0.3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=300))
def test_eps_from_knee_lies_on_the_curve(values):
    eps = eps_from_knee(values)
    assert min(values) <= eps <= max(values)
    assert eps_from_knee(sorted(values, reverse=True)) == eps


# --------------------------------------------------------------------- segmenter


def test_hand_computed_dbscan_and_nearest_core_predict():
    x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [20.0]])
    seg = DBSCANSegmenter(eps=0.15, min_samples=2).fit(x)
    # Two clusters of 3: equal sizes, so the higher centroid (5.1) is cluster 0.
    np.testing.assert_array_equal(seg.labels_, [1, 1, 1, 0, 0, 0, -1])
    np.testing.assert_array_equal(seg.core_sample_indices_, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(seg.core_labels_, [1, 1, 1, 0, 0, 0])
    assert seg.n_clusters_ == 2 and seg.noise_share_ == pytest.approx(1 / 7)
    assert not seg.sampled_ and seg.fit_sample_size_ == 7
    # 5.3 is 0.1 from core 5.2; 0.26 is 0.06 from core 0.2; 10 is far from every core.
    np.testing.assert_array_equal(seg.predict([[5.3], [0.26], [10.0]]), [0, 1, -1])


def test_planted_noise_and_blobs_are_found():
    frame, truth = blobs_with_noise()
    seg = DBSCANSegmenter(eps=0.8, min_samples=10).fit(frame)
    assert seg.n_clusters_ == 3
    blob = truth >= 0
    assert adjusted_rand_score(truth[blob], seg.labels_[blob]) == 1.0
    assert (seg.labels_[blob] >= 0).all()
    assert (seg.labels_[~blob] == -1).sum() >= 25  # of 30 scattered points
    np.testing.assert_array_equal(seg.predict(frame), seg.labels_)
    # Same clusters as scikit-learn's DBSCAN on everyone.
    reference = DBSCAN(eps=0.8, min_samples=10).fit_predict(frame)
    assert adjusted_rand_score(reference, seg.labels_) == 1.0


def test_sample_and_extend_matches_the_full_fit():
    frame, truth = blobs_with_noise(per_blob=1000)
    full = DBSCANSegmenter(eps=0.8, min_samples=10).fit(frame)
    part = DBSCANSegmenter(eps=0.8, min_samples=10, max_fit_samples=1000, random_state=4).fit(frame)
    assert part.sampled_ and part.fit_sample_size_ == 1000 and not full.sampled_
    blob = truth >= 0
    assert adjusted_rand_score(full.labels_[blob], part.labels_[blob]) == 1.0
    assert (part.labels_[blob] >= 0).all() and (full.labels_[blob] >= 0).all()
    # Scattered points: one border point of the full fit has no sampled core within eps.
    assert ((part.labels_[~blob] == -1) == (full.labels_[~blob] == -1)).sum() >= 29
    # Core points come from the sample and are rows of X.
    np.testing.assert_array_equal(part.components_, frame.to_numpy()[part.core_sample_indices_])
    assert part.components_.shape[0] <= 1000
    np.testing.assert_array_equal(part.predict(frame), part.labels_)


def test_canonical_numbering_is_order_free_and_by_size():
    frame, truth = blobs_with_noise((300, 200, 300))
    seg = DBSCANSegmenter(eps=0.8, min_samples=10).fit(frame)
    sizes = np.bincount(seg.labels_[seg.labels_ >= 0])
    assert list(sizes) == sorted(sizes, reverse=True)
    assert list(sizes) == [300, 300, 201]  # one scattered point lies within eps of blob 1
    blob1 = seg.labels_[truth == 1]
    assert (blob1 == 2).all()  # the 200-point blob is last
    # The two 300-point blobs tie on size: the higher centroid in the first column comes first.
    first_column = frame[RECENCY].groupby(seg.labels_).mean()
    assert first_column[0] > first_column[1]
    perm = np.random.default_rng(2).permutation(len(frame))
    shuffled = DBSCANSegmenter(eps=0.8, min_samples=10).fit(frame.iloc[perm])
    back = pd.Series(shuffled.labels_, index=frame.index[perm]).reindex(frame.index)
    np.testing.assert_array_equal(back.to_numpy(), seg.labels_)


def test_all_noise_when_eps_is_tiny():
    frame, _ = blobs_with_noise()
    seg = DBSCANSegmenter(eps=1e-6, min_samples=5).fit(frame)
    assert seg.n_clusters_ == 0 and seg.noise_share_ == 1.0
    assert (seg.predict(frame.iloc[:5]) == -1).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"eps": 0}, "eps must be a positive number"),
        ({"eps": float("nan")}, "eps must be a positive number"),
        ({"min_samples": 0}, "min_samples must be an integer >= 1"),
        ({"max_fit_samples": 0}, "max_fit_samples must be an integer >= 1"),
    ],
)
def test_bad_segmenter_parameters(params, message):
    with pytest.raises(ParameterError, match=message):
        DBSCANSegmenter(**params).fit(np.eye(3))


# --------------------------------------------------------------------- tuning


def test_tuning_finds_the_three_blobs_and_the_scattered_points():
    frame, truth = blobs_with_noise()
    tuning = tune_dbscan(frame)
    assert len(tuning.grid) == 15 and tuning.grid["chosen"].sum() == 1
    assert tuning.n_clusters == 3
    # 28 of the 30 scattered points are far from every blob: 3.0% noise.
    assert tuning.noise_share == pytest.approx(28 / 930)
    chosen = tuning.grid[tuning.grid["chosen"]].iloc[0]
    assert chosen["score"] == tuning.grid.loc[tuning.grid["eligible"], "score"].max()
    assert 0.5 * tuning.knee_eps <= tuning.eps <= 1.5 * tuning.knee_eps
    # The knee sits at the break between in-blob distances and scattered points.
    assert 0.4 < tuning.knee_eps_by_min_samples[10] < 1.5
    assert tuning.k_distance_k == tuning.min_samples - 1
    assert tuning.k_distance[tuning.knee_index] >= tuning.knee_eps
    assert "3 density-separated clusters" in tuning.interpretation
    assert "highest" not in tuning.reason and "best score" in tuning.reason
    labels = tuning.segmenter().fit(frame).labels_
    assert adjusted_rand_score(truth[truth >= 0], labels[truth >= 0]) == 1.0
    assert (labels[truth < 0] == -1).sum() == 28
    summary = tuning.to_dict()
    assert summary["n_clusters"] == 3 and len(summary["grid"]) == 15


def test_tuning_reports_one_dense_blob_honestly():
    tuning = tune_dbscan(one_blob_with_outliers())
    assert not tuning.grid["eligible"].any()
    assert (
        tuning.min_samples == 10
        and tuning.grid.loc[tuning.grid["chosen"], "eps_factor"].item() == 1
    )
    assert tuning.reason.startswith("No setting of the 15 gives at least 2 clusters")
    assert tuning.n_clusters == 1
    assert "one dense cluster holding 98.3% of customers and 1.7% noise" in tuning.interpretation
    labels = tuning.segmenter().fit(one_blob_with_outliers()).labels_
    assert (labels[-20:] == -1).all()  # the 20 planted outliers are noise
    assert "continuum" in tuning.interpretation
    assert "outlier detector" in tuning.interpretation


def test_tuning_sees_layers_of_a_discrete_feature():
    tuning = tune_dbscan(layered_by_frequency())
    assert tuning.n_clusters >= 2
    assert "follow the discrete values of frequency" in tuning.interpretation
    assert "not as a segmentation" in tuning.interpretation
    assert "single lowest value of frequency" in tuning.interpretation


def test_tuning_on_a_sample_uses_the_same_rows_as_its_segmenter():
    frame, _ = blobs_with_noise(per_blob=600)
    tuning = tune_dbscan(frame, sample_size=500, min_samples_grid=(5, 10))
    assert tuning.sampled and tuning.sample_size == 500 and tuning.n_samples == 1830
    assert tuning.interpretation.startswith("On a sample of 500 customers, DBSCAN")
    seg = tuning.segmenter().fit(frame)
    assert seg.sampled_ and seg.fit_sample_size_ == 500
    assert seg.n_clusters_ == tuning.n_clusters == 3


def test_tuning_rejects_bad_grids():
    frame, _ = blobs_with_noise()
    with pytest.raises(ParameterError, match="min_samples_grid is empty"):
        tune_dbscan(frame, min_samples_grid=())
    with pytest.raises(ParameterError, match="eps_factors must be positive"):
        tune_dbscan(frame, eps_factors=(0.5, -1))
    with pytest.raises(ParameterError, match="max_noise_share"):
        tune_dbscan(frame, max_noise_share=1.5)
    with pytest.raises(ParameterError, match="neighbours needs more than the 40 customers"):
        tune_dbscan(frame.iloc[:40], min_samples_grid=(50,))


# --------------------------------------------------------------------- real data


def real_rfm() -> pd.DataFrame:
    """log1p + standardised RFM of Online Retail, computed here with pandas."""
    logged = np.log1p(pandas_rfm(REAL_DATA).astype(float))
    return (logged - logged.mean()) / logged.std(ddof=0)


@pytest.mark.slow
@pytest.mark.skipif(not REAL_DATA.exists(), reason="real dataset not available")
def test_real_data_dbscan_splits_one_time_buyers_only():
    x = real_rfm()
    tuning = tune_dbscan(x)
    assert tuning.n_clusters == 2
    assert "follow the discrete values of frequency" in tuning.interpretation
    # The smaller cluster is exactly the one-time buyers.
    labels = tuning.segmenter().fit(x).labels_
    one_time = (x[FREQUENCY] == x[FREQUENCY].min()).to_numpy()
    assert set(np.unique(labels[one_time])) <= {1, -1}
    assert set(np.unique(labels[~one_time])) <= {0, -1}
    assert tuning.noise_share < 0.05


# ------------------------------------------- one radius graph for the whole grid (exact)


def _grid_equals_refits(x: np.ndarray, ms, eps_values) -> None:
    """The grid kernel gives, for every setting, exactly DBSCANSegmenter's fit."""
    from custseg.dbscan import _DBSCANGrid, _kneighbors

    _, nn_idx = _kneighbors(x, max(ms) - 1)
    grid = _DBSCANGrid(x, nn_idx, max(eps_values))
    for m in ms:
        found = grid.fit_many(m, list(eps_values))
        for eps, (labels, n_clusters, core, core_labels) in zip(eps_values, found, strict=True):
            seg = DBSCANSegmenter(eps=eps, min_samples=m, max_fit_samples=len(x)).fit(x)
            assert n_clusters == seg.n_clusters_, (m, eps)
            assert np.array_equal(labels, seg.labels_), (m, eps)
            assert np.array_equal(core, seg.core_sample_indices_), (m, eps)
            # Raw core labels renumbered canonically are the segmenter's.
            if n_clusters:
                relabel = dict(zip(core_labels.tolist(), seg.core_labels_.tolist(), strict=True))
                assert len(set(relabel.values())) == len(relabel)


def test_grid_kernel_equals_refits_on_planted_blobs():
    frame, _ = blobs_with_noise(150, 40)
    x = frame.to_numpy()
    _grid_equals_refits(x, (3, 5, 10), (0.2, 0.35, 0.5, 0.8, 1.2))


def test_grid_kernel_equals_refits_at_eps_equal_to_a_k_distance():
    """eps = a k-distance is the boundary case (a pair exactly at eps): core or not,
    the kernel must decide as sklearn's tree does."""
    x = layered_by_frequency().to_numpy()[:1200]
    curve = k_distance_curve(x, 9, sample_size=None)
    _grid_equals_refits(x, (10,), tuple(float(v) for v in curve[[100, 600, 1000, 1150]]))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(12, 80).flatmap(
        lambda n: st.lists(st.integers(0, 6), min_size=3 * n, max_size=3 * n)
    ),
    st.sampled_from([1.0, 1.5, 2.0, 2.5]),
)
def test_grid_kernel_equals_refits_on_integer_grids(coords, eps):
    """Integer points: many duplicates, pairs exactly at eps and equidistant cores."""
    x = np.asarray(coords, dtype=float).reshape(-1, 3)
    _grid_equals_refits(x, (2, 4), (eps / 2, eps))


@pytest.mark.skipif(not REAL_DATA.exists(), reason="real dataset not available")
def test_tuning_grid_and_model_on_real_data_equal_the_refits():
    x = real_rfm()
    tuning = tune_dbscan(x)
    assert (tuning.min_samples, round(tuning.eps, 3)) == (10, 0.565)  # as before the kernel
    refit = tuning.segmenter().fit(x)
    assert np.array_equal(tuning.model.labels_, refit.labels_)
    assert np.array_equal(tuning.model.core_sample_indices_, refit.core_sample_indices_)
    assert np.array_equal(tuning.model.core_labels_, refit.core_labels_)
    assert list(tuning.model.feature_names_in_) == RFM
    assert np.array_equal(tuning.model.predict(x.iloc[:500]), refit.predict(x.iloc[:500]))
    # Every grid row is what a refit of that setting gives.
    values = x.to_numpy()
    for row in tuning.grid.itertuples():
        seg = DBSCANSegmenter(eps=row.eps, min_samples=row.min_samples, max_fit_samples=len(x))
        labels = seg.fit(values).labels_
        assert row.n_clusters == seg.n_clusters_
        assert row.noise_share == np.mean(labels == -1)


def test_tuning_on_a_sample_has_no_model_to_reuse():
    frame, _ = blobs_with_noise()
    tuning = tune_dbscan(frame, sample_size=500)
    assert tuning.sampled and tuning.model is None
    full = tune_dbscan(frame)
    assert not full.sampled
    assert np.array_equal(full.model.labels_, full.segmenter().fit(frame).labels_)


def test_silhouettes_of_the_grid_equal_sklearn():
    from sklearn.metrics import silhouette_score

    from custseg.dbscan import _silhouettes_non_noise

    frame, _ = blobs_with_noise(120, 30)
    x = frame.to_numpy()
    labelings = [
        DBSCANSegmenter(eps=e, min_samples=5, max_fit_samples=len(x)).fit(x).labels_
        for e in (0.3, 0.6, 1.0, 20.0)
    ]
    # size 200 < 390 non-noise points: the sampled path; 10_000: the one-pass path.
    for size in (200, 10_000):
        got = _silhouettes_non_noise(x, labelings, size, 0)
        for lab, value in zip(labelings, got, strict=True):
            keep = lab >= 0
            xk, lk = x[keep], lab[keep]
            pick = sample_indices(xk, size, 0)
            if np.unique(lk[pick]).size < 2:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(silhouette_score(xk[pick], lk[pick]), abs=1e-12)
