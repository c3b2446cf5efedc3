"""KMeansSegmenter: hand-computed fits, planted blobs, canonical order, MiniBatch path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_blobs

from custseg.errors import ColumnError, CustsegError, DataError, ParameterError
from custseg.kmeans import KMeansSegmenter, kmeans_segments
from custseg.schema import FREQUENCY, MONETARY, RECENCY

RFM = [RECENCY, FREQUENCY, MONETARY]


# Small fits gain nothing from threads (see the conftest fixture).
pytestmark = pytest.mark.usefixtures("one_openmp_thread")


# Four well-separated blobs; planted monetary centres 3, 1, 0, -3 -> canonical 0, 1, 2, 3.
PLANTED_CENTRES = np.array(
    [
        [0.0, 0.0, 3.0],  # canonical 0 (highest monetary)
        [3.0, 0.0, 0.0],  # canonical 2
        [0.0, 3.0, -3.0],  # canonical 3
        [-3.0, -3.0, 1.0],  # canonical 1
    ]
)
PLANTED_TO_CANONICAL = np.array([0, 2, 3, 1])


def planted_frame(n: int = 400, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    x, y = make_blobs(
        n_samples=n, centers=PLANTED_CENTRES, cluster_std=0.3, random_state=seed, shuffle=True
    )
    index = pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id")
    return pd.DataFrame(x, columns=RFM, index=index), PLANTED_TO_CANONICAL[y]


def skewed_frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A continuum like real RFM data: no separated groups, so local optima exist."""
    rng = np.random.default_rng(seed)
    freq = rng.geometric(0.35, n)
    monetary = np.exp(rng.normal(6, 1.2, n)) * freq
    recency = rng.gamma(1.2, 80, n)
    raw = np.log1p(np.column_stack([recency, freq, monetary]))
    z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    return pd.DataFrame(z, columns=RFM)


# --------------------------------------------------------------------- hand-computed


def test_hand_computed_two_clusters():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0]])
    seg = KMeansSegmenter(2, random_state=0).fit(x)
    # NumPy input: ordered by descending first coordinate.
    np.testing.assert_allclose(seg.cluster_centers_, [[10.0, 10.5], [0.0, 0.5]])
    np.testing.assert_array_equal(seg.labels_, [1, 1, 0, 0])
    assert seg.inertia_ == pytest.approx(4 * 0.25)
    assert seg.algorithm_used_ == "KMeans"
    assert seg.order_by_used_ is None
    assert seg.n_features_in_ == 2
    assert not hasattr(seg, "feature_names_in_")
    # Distance from (0, 0) to (10, 10.5) is sqrt(100 + 110.25) = 14.5.
    np.testing.assert_allclose(seg.transform(x[:1]), [[14.5, 0.5]])
    np.testing.assert_array_equal(seg.predict([[9.0, 9.0], [1.0, -1.0]]), [0, 1])


def test_ties_in_order_column_are_broken_by_next_columns():
    x = np.array([[5.0, 1.0]] * 3 + [[5.0, 9.0]] * 3 + [[0.0, 0.0]] * 3)
    seg = KMeansSegmenter(3, n_init=3).fit(x)
    np.testing.assert_allclose(seg.cluster_centers_, [[5, 9], [5, 1], [0, 0]], atol=1e-12)
    np.testing.assert_array_equal(seg.labels_, [1, 1, 1, 0, 0, 0, 2, 2, 2])


# --------------------------------------------------------------------- planted structure


def test_planted_blobs_are_recovered_in_monetary_order():
    frame, truth = planted_frame()
    seg = KMeansSegmenter(4).fit(frame)
    np.testing.assert_array_equal(seg.labels_, truth)
    assert seg.order_by_used_ == MONETARY
    assert list(seg.feature_names_in_) == RFM
    assert np.all(np.diff(seg.cluster_centers_[:, 2]) < 0)  # monetary descending
    np.testing.assert_allclose(seg.cluster_centers_, PLANTED_CENTRES[[0, 3, 1, 2]], atol=0.1)


def test_order_by_another_feature_and_fallback_to_first_column():
    frame, _ = planted_frame()
    by_recency = KMeansSegmenter(4, order_by=RECENCY).fit(frame)
    assert by_recency.order_by_used_ == RECENCY
    assert np.all(np.diff(by_recency.cluster_centers_[:, 0]) < 0)
    # Unknown column: falls back to the first column (recency here), says so.
    fallback = KMeansSegmenter(4, order_by="no_such_feature").fit(frame)
    assert fallback.order_by_used_ is None
    np.testing.assert_array_equal(fallback.labels_, by_recency.labels_)


def test_predict_and_fit_predict_match_labels():
    frame = skewed_frame()
    seg = KMeansSegmenter(5).fit(frame)
    np.testing.assert_array_equal(seg.predict(frame), seg.labels_)
    np.testing.assert_array_equal(KMeansSegmenter(5).fit_predict(frame), seg.labels_)
    np.testing.assert_array_equal(kmeans_segments(frame, 5), seg.labels_)
    # A DataFrame is matched by column name: reordered columns give the same labels.
    np.testing.assert_array_equal(seg.predict(frame[[MONETARY, RECENCY, FREQUENCY]]), seg.labels_)
    distances = seg.transform(frame)
    assert distances.shape == (len(frame), 5)
    np.testing.assert_array_equal(distances.argmin(axis=1), seg.labels_)
    assert seg.inertia_ == pytest.approx(float(np.sum(distances.min(axis=1) ** 2)))


def test_reruns_are_identical():
    frame = skewed_frame()
    a = KMeansSegmenter(6, random_state=11).fit(frame)
    b = KMeansSegmenter(6, random_state=11).fit(frame)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perm_seed=st.integers(0, 2**32 - 1), k=st.integers(2, 7))
def test_labels_do_not_depend_on_row_order(perm_seed, k):
    frame = skewed_frame(300)
    base = KMeansSegmenter(k, n_init=3).fit(frame)
    perm = np.random.default_rng(perm_seed).permutation(len(frame))
    shuffled = KMeansSegmenter(k, n_init=3).fit(frame.iloc[perm])
    back = pd.Series(shuffled.labels_, index=frame.index[perm]).reindex(frame.index)
    np.testing.assert_array_equal(back.to_numpy(), base.labels_)
    np.testing.assert_allclose(shuffled.cluster_centers_, base.cluster_centers_, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    data=st.integers(0, 10_000).map(lambda s: np.random.default_rng(s).normal(size=(40, 3))),
    k=st.integers(1, 6),
)
def test_labels_are_nearest_canonical_centre(data, k):
    seg = KMeansSegmenter(k, n_init=2).fit(data)
    d = seg.transform(data)
    np.testing.assert_array_equal(seg.labels_, d.argmin(axis=1))
    assert seg.inertia_ == pytest.approx(float(np.sum(d.min(axis=1) ** 2)))
    assert np.all(np.diff(seg.cluster_centers_[:, 0]) <= 0)
    assert set(np.unique(seg.labels_)) <= set(range(k))


# --------------------------------------------------------------------- MiniBatch path


def test_minibatch_path_recovers_blobs_and_is_order_free():
    frame, truth = planted_frame(n=1200)
    seg = KMeansSegmenter(4, minibatch_threshold=500, batch_size=256).fit(frame)
    assert seg.algorithm_used_ == "MiniBatchKMeans"
    np.testing.assert_array_equal(seg.labels_, truth)
    np.testing.assert_array_equal(seg.predict(frame), seg.labels_)
    perm = np.random.default_rng(1).permutation(len(frame))
    again = KMeansSegmenter(4, minibatch_threshold=500, batch_size=256).fit(frame.iloc[perm])
    np.testing.assert_array_equal(again.labels_, truth[perm])
    # At the threshold itself the full algorithm runs.
    assert KMeansSegmenter(4, minibatch_threshold=1200).fit(frame).algorithm_used_ == "KMeans"


# --------------------------------------------------------------------- conventions and errors


def test_constructor_only_stores_parameters():
    seg = KMeansSegmenter(n_clusters=-1, batch_size=0)  # no validation here
    assert seg.get_params()["n_clusters"] == -1
    copy = clone(KMeansSegmenter(3, order_by=RECENCY, random_state=4))
    assert copy.get_params()["order_by"] == RECENCY and copy.random_state == 4
    with pytest.raises(ParameterError, match="n_clusters must be an integer >= 1"):
        seg.fit(np.zeros((5, 2)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_clusters": 0}, "n_clusters must be an integer >= 1"),
        ({"n_clusters": 2.5}, "n_clusters must be an integer"),
        ({"n_init": 0}, "n_init must be"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"random_state": "seed"}, "random_state must be an integer or None"),
        ({"order_by": 3}, "order_by must be a feature name"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ParameterError, match=message):
        KMeansSegmenter(**{"n_clusters": 2, **params}).fit(np.eye(4))


def test_more_clusters_than_distinct_customers():
    x = np.array([[1.0, 2.0]] * 4 + [[3.0, 4.0]] * 4)
    with pytest.raises(ParameterError, match="only 2 distinct customer rows") as info:
        KMeansSegmenter(3).fit(x)
    assert info.value.fix == "choose n_clusters <= 2"
    assert "\n" not in str(info.value)


def test_bad_data():
    frame = skewed_frame(50)
    with_nan = frame.copy()
    with_nan.iloc[7, 1] = np.nan
    with pytest.raises(DataError, match="1 customer"):
        KMeansSegmenter(2).fit(with_nan)
    with pytest.raises(DataError, match="2-D"):
        KMeansSegmenter(2).fit(np.arange(10.0))
    with pytest.raises(DataError, match="empty"):
        KMeansSegmenter(2).fit(frame.iloc[:0])
    with pytest.raises(ColumnError, match="country"):
        KMeansSegmenter(2).fit(frame.assign(country="FR"))
    seg = KMeansSegmenter(2).fit(frame)
    with pytest.raises(ColumnError, match="lacks feature column"):
        seg.predict(frame[[RECENCY, FREQUENCY]])
    with pytest.raises(ColumnError, match="2 features but the model was fitted on 3"):
        seg.predict(frame[[RECENCY, FREQUENCY]].to_numpy())
    for error in (DataError, ColumnError, ParameterError):
        assert issubclass(error, CustsegError)


# ------------------------------------------------------ distance kernels (exact, chunked)


def _real_sample(size: int = 1500) -> np.ndarray:
    """log1p + standardised RFM of a seeded sample of Online Retail customers."""
    from tests_support import REAL, pandas_rfm

    if not REAL.exists():
        pytest.skip("real dataset not available")
    logged = np.log1p(pandas_rfm(REAL).astype(float))
    x = ((logged - logged.mean()) / logged.std(ddof=0)).to_numpy()
    return x[np.random.default_rng(0).choice(len(x), size, replace=False)]


def _planted(n: int = 900) -> tuple[np.ndarray, np.ndarray]:
    x, y = make_blobs(n, centers=[[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6]], random_state=3)
    # Duplicated rows, as in real customer data (one-order customers share values).
    x[:50] = x[0]
    return x, y


def test_fast_silhouettes_equal_sklearn_on_planted_and_real_data(monkeypatch):
    from sklearn.metrics import silhouette_samples

    import custseg.kmeans as km

    monkeypatch.setattr(km, "CHUNK_BYTES", 64 * 1024)  # many blocks, ragged last one
    x, y = _planted()
    real = _real_sample()
    labelings = [y, (x[:, 0] > 3).astype(int), np.arange(x.shape[0]) % 7]
    real_labels = [kmeans_segments(real, k) for k in (2, 5, 9)]
    for data, labs in ((x, labelings), (real, real_labels)):
        fast = km.silhouette_samples_many(data, labs)
        for lab, values in zip(labs, fast, strict=True):
            np.testing.assert_allclose(values, silhouette_samples(data, lab), rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(3, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(-3, 3), min_size=2 * n, max_size=2 * n),
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
        )
    )
)
def test_fast_silhouette_equals_sklearn_for_any_labelling(data):
    """Integer coordinates give duplicates and ties; labels include singletons."""
    from sklearn.metrics import silhouette_samples

    from custseg.kmeans import silhouette_samples_many

    coords, labels = data
    x = np.asarray(coords, dtype=float).reshape(-1, 2)
    lab = np.asarray(labels)
    n_lab = np.unique(lab).size
    if not 2 <= n_lab <= x.shape[0] - 1:
        return
    (fast,) = silhouette_samples_many(x, [lab])
    np.testing.assert_allclose(fast, silhouette_samples(x, lab), rtol=0, atol=1e-12)


def test_cluster_distance_sums_is_the_distance_matrix_product(monkeypatch):
    from scipy.spatial.distance import cdist

    import custseg.kmeans as km

    monkeypatch.setattr(km, "CHUNK_BYTES", 16 * 1024)
    x, y = _planted(300)
    weights = np.random.default_rng(1).random((300, 5))
    np.testing.assert_allclose(
        km.cluster_distance_sums(x, weights), cdist(x, x) @ weights, rtol=1e-13
    )


def test_squared_distances_are_the_kd_trees_own_values():
    """DBSCAN's decisions are reproduced exactly only if these bits match sklearn's tree."""
    from sklearn.neighbors import NearestNeighbors

    from custseg.kmeans import squared_distances

    for x in (_planted()[0], _real_sample()):
        dist, idx = NearestNeighbors(n_neighbors=20).fit(x).kneighbors(x)
        d2 = squared_distances(x, x)
        rows = np.arange(x.shape[0])[:, None]
        assert np.array_equal(np.sqrt(d2[rows, idx]), dist)
