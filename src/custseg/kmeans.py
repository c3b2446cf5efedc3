"""K-means segmentation with canonical cluster numbers.

:class:`KMeansSegmenter` wraps scikit-learn's ``KMeans`` (or ``MiniBatchKMeans``
beyond ``minibatch_threshold`` customers) and renumbers the clusters so that the
numbers mean the same thing on every run:

* cluster 0 has the highest centroid in the ``order_by`` column (``monetary`` by
  default, so cluster 0 spends most), cluster 1 the next, and so on; when the
  column is absent (NumPy input, or a DataFrame without it) the first column is
  used; ties are broken by the following columns, in order;
* the fit does not depend on the order of the rows: the rows are put in a
  canonical order (sorted by their values) before fitting, so shuffled input
  gives exactly the same centres and the same label for every customer.

Everything here is linear (or ``n log n`` for the canonical sort) in the number
of customers. The helpers at the bottom (input checks, canonical row order,
seeded samples) are shared with :mod:`custseg.selection` and
:mod:`custseg.dbscan`.
"""

from __future__ import annotations

import logging
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import check_is_fitted

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.schema import MONETARY

logger = logging.getLogger(__name__)

__all__ = ["KMeansSegmenter", "kmeans_segments"]

ALGORITHM_FULL = "KMeans"
ALGORITHM_MINIBATCH = "MiniBatchKMeans"


class KMeansSegmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-means on a standardised feature matrix, with canonical cluster numbers.

    Parameters
    ----------
    n_clusters : int, default=5
        Number of segments.
    order_by : str or None, default="monetary"
        Feature whose centroid value orders the clusters, highest first
        (cluster 0 has the highest value). Used when ``X`` is a DataFrame with
        that column; otherwise, or when None, the first column orders them.
        Ties are broken by the next columns, in order.
    random_state : int or None, default=0
        Seed of the k-means++ initialisation (and of the mini-batches).
    n_init : int, default=10
        Number of k-means++ initialisations; the best (lowest inertia) is kept.
        On the MiniBatch path it is the number of initialisations tried on the
        init sample, as in scikit-learn.
    max_iter : int, default=300
        Maximum number of iterations (epochs on the MiniBatch path).
    minibatch_threshold : int, default=200_000
        Above this many customers, ``MiniBatchKMeans`` is used instead of
        ``KMeans`` (Lloyd): same objective, memory and time that stay flat per
        iteration. Which one ran is recorded in ``algorithm_used_``.
    batch_size : int, default=4096
        Mini-batch size on the MiniBatch path.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Segment of each customer (0 .. n_clusters-1, canonical order). Always
        the nearest centre, so ``predict(X_train)`` equals ``labels_``.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres in canonical order.
    inertia_ : float
        Sum of squared distances from each customer to its centre, over all
        customers (also on the MiniBatch path).
    n_iter_ : int
        Iterations run by the underlying estimator.
    algorithm_used_ : str
        ``"KMeans"`` or ``"MiniBatchKMeans"``.
    order_by_used_ : str or None
        Feature that ordered the clusters, or None when the first column did.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit`` (only when ``X`` was a DataFrame with
        string column names).

    Examples
    --------
    >>> seg = KMeansSegmenter(n_clusters=4).fit(X)            # doctest: +SKIP
    >>> seg.labels_[:5], seg.cluster_centers_                  # doctest: +SKIP
    >>> seg.predict(new_customers)                             # doctest: +SKIP
    """

    def __init__(
        self,
        n_clusters: int = 5,
        *,
        order_by: str | None = MONETARY,
        random_state: int | None = 0,
        n_init: int = 10,
        max_iter: int = 300,
        minibatch_threshold: int = 200_000,
        batch_size: int = 4096,
    ):
        self.n_clusters = n_clusters
        self.order_by = order_by
        self.random_state = random_state
        self.n_init = n_init
        self.max_iter = max_iter
        self.minibatch_threshold = minibatch_threshold
        self.batch_size = batch_size

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> KMeansSegmenter:
        """Fit the clusters and number them canonically.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Standardised features, one row per customer.
        y : ignored

        Returns
        -------
        KMeansSegmenter
            The fitted estimator.

        Raises
        ------
        ParameterError
            A parameter is out of range, or ``n_clusters`` exceeds the number of
            distinct customers' feature rows.
        DataError, ColumnError
            ``X`` is empty, not 2-D, not numeric, or holds NaN / infinity.
        """
        _check_int(self.n_clusters, "n_clusters", 1)
        _check_int(self.n_init, "n_init", 1)
        _check_int(self.max_iter, "max_iter", 1)
        _check_int(self.minibatch_threshold, "minibatch_threshold", 0)
        _check_int(self.batch_size, "batch_size", 1)
        _check_random_state(self.random_state)
        if self.order_by is not None and not isinstance(self.order_by, str):
            raise ParameterError(
                f"order_by must be a feature name or None, got {self.order_by!r}",
                fix="pass a column name such as 'monetary'",
            )

        values, names = check_features(X)
        n = values.shape[0]
        order = canonical_row_order(values)
        ordered = values[order]
        n_distinct = count_distinct_sorted_rows(ordered)
        if self.n_clusters > n_distinct:
            raise ParameterError(
                f"n_clusters={self.n_clusters} but the data has only {n_distinct} distinct "
                f"customer rows ({n} customers)",
                fix=f"choose n_clusters <= {n_distinct}",
            )

        if n > self.minibatch_threshold:
            model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
                n_clusters=self.n_clusters,
                n_init=self.n_init,
                max_iter=self.max_iter,
                batch_size=self.batch_size,
                random_state=self.random_state,
                compute_labels=False,
            )
            self.algorithm_used_ = ALGORITHM_MINIBATCH
        else:
            model = KMeans(
                n_clusters=self.n_clusters,
                n_init=self.n_init,
                max_iter=self.max_iter,
                random_state=self.random_state,
            )
            self.algorithm_used_ = ALGORITHM_FULL
        logger.debug(
            "fitting %s with k=%d on %d customers", self.algorithm_used_, self.n_clusters, n
        )
        model.fit(ordered)

        self.n_features_in_ = values.shape[1]
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        order_col = 0
        self.order_by_used_ = None
        if names is not None and self.order_by is not None and self.order_by in names:
            order_col = names.index(self.order_by)
            self.order_by_used_ = self.order_by
        self.cluster_centers_ = _canonical_centers(model.cluster_centers_, order_col)
        self.n_iter_ = int(model.n_iter_)
        labels, dist = pairwise_distances_argmin_min(values, self.cluster_centers_)
        self.labels_ = labels.astype(np.int64)
        self.inertia_ = float(np.sum(dist**2))
        return self

    # -------------------------------------------------------------- predict
    def predict(self, X: Any) -> np.ndarray:
        """Assign customers to the nearest canonical centre.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features standardised like the training data. A DataFrame is
            matched to the training features by column name.

        Returns
        -------
        ndarray of shape (n_samples,)
            Segment numbers (0 .. n_clusters-1).
        """
        values = self._check_new(X)
        labels, _ = pairwise_distances_argmin_min(values, self.cluster_centers_)
        return labels.astype(np.int64)

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance from each customer to each canonical centre.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            Column ``j`` is the distance to ``cluster_centers_[j]``.
        """
        values = self._check_new(X)
        return euclidean_distances(values, self.cluster_centers_)

    def _check_new(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        return check_features_like(X, self.n_features_in_, getattr(self, "feature_names_in_", None))


def kmeans_segments(
    X: Any,
    n_clusters: int = 5,
    *,
    order_by: str | None = MONETARY,
    random_state: int | None = 0,
    n_init: int = 10,
    max_iter: int = 300,
    minibatch_threshold: int = 200_000,
    batch_size: int = 4096,
) -> np.ndarray:
    """Segment customers with K-means; function form of :class:`KMeansSegmenter`.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Standardised features, one row per customer.
    n_clusters, order_by, random_state, n_init, max_iter, minibatch_threshold, batch_size
        See :class:`KMeansSegmenter`.

    Returns
    -------
    ndarray of shape (n_samples,)
        Canonical segment number of each customer (0 has the highest centroid
        in ``order_by``).
    """
    return (
        KMeansSegmenter(
            n_clusters,
            order_by=order_by,
            random_state=random_state,
            n_init=n_init,
            max_iter=max_iter,
            minibatch_threshold=minibatch_threshold,
            batch_size=batch_size,
        )
        .fit(X)
        .labels_
    )


def _canonical_centers(centers: np.ndarray, order_col: int) -> np.ndarray:
    """Sort centres by descending ``order_col``, ties by the next columns (descending).

    Keys are rounded to 9 decimals so that values equal up to floating-point
    noise count as ties.
    """
    rounded = np.round(centers, 9)
    keys = [-rounded[:, j] for j in range(centers.shape[1]) if j != order_col]
    # np.lexsort sorts by the last key first.
    order = np.lexsort([*reversed(keys), -rounded[:, order_col]])
    return np.ascontiguousarray(centers[order])


# ---------------------------------------------------------------------------
# Shared helpers (also used by custseg.selection and custseg.dbscan).
# ---------------------------------------------------------------------------


def check_features(X: Any) -> tuple[np.ndarray, list[str] | None]:
    """Validate a feature matrix and return it as float64 with its column names.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)

    Returns
    -------
    values : ndarray of float64, C-contiguous
    names : list of str or None
        Column names when ``X`` is a DataFrame whose column names are all
        strings, else None.

    Raises
    ------
    ColumnError
        A DataFrame column is not numeric.
    DataError
        ``X`` is not 2-D, is empty, or holds NaN / infinite values.
    """
    names: list[str] | None = None
    if isinstance(X, pd.DataFrame):
        bad = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        if bad:
            raise ColumnError(
                f"feature column(s) {', '.join(bad)} are not numeric",
                fix="pass only the standardised numeric features",
            )
        if all(isinstance(c, str) for c in X.columns):
            names = [str(c) for c in X.columns]
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(
                "the feature matrix is not numeric",
                fix="pass a numeric array or DataFrame of standardised features",
            ) from exc
    if values.ndim != 2:
        raise DataError(
            f"the feature matrix must be 2-D (customers x features), got {values.ndim}-D",
            fix="pass one row per customer and one column per feature",
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise DataError(
            f"the feature matrix is empty ({values.shape[0]} customers x {values.shape[1]} features)",
            fix="check the cleaning step left customers and features",
        )
    finite = np.isfinite(values)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        row = bad_rows[0]
        label = X.index[row] if isinstance(X, pd.DataFrame) else row
        raise DataError(
            f"{bad_rows.size} customer(s) have missing or infinite feature values "
            f"(first: row {label!r})",
            fix="impute or drop them before clustering",
        )
    return np.ascontiguousarray(values), names


def check_features_like(X: Any, n_features: int, feature_names: np.ndarray | None) -> np.ndarray:
    """Validate new data against the features seen in ``fit``.

    A DataFrame is matched by column name (extra columns are ignored, order does
    not matter) when the estimator was fitted with names.

    Returns
    -------
    ndarray of float64 of shape (n_samples, n_features)

    Raises
    ------
    ColumnError
        Missing columns or a different number of features.
    """
    if feature_names is not None and isinstance(X, pd.DataFrame):
        missing = [c for c in feature_names if c not in X.columns]
        if missing:
            raise ColumnError(
                f"the data lacks feature column(s) {', '.join(missing)} used in fit",
                fix="pass the same features as in fit",
            )
        X = X[list(feature_names)]
    values, _ = check_features(X)
    if values.shape[1] != n_features:
        raise ColumnError(
            f"the data has {values.shape[1]} features but the model was fitted on {n_features}",
            fix="pass the same features as in fit",
        )
    return values


def canonical_row_order(values: np.ndarray) -> np.ndarray:
    """Permutation that sorts the rows by their values (first column first).

    Fitting on ``values[canonical_row_order(values)]`` makes a fit independent of
    the order in which the customers arrive. ``O(n log n)``.
    """
    return np.lexsort(values.T[::-1])


def count_distinct_sorted_rows(sorted_values: np.ndarray) -> int:
    """Number of distinct rows of a matrix whose rows are sorted (linear)."""
    if sorted_values.shape[0] == 0:
        return 0
    changes = np.any(sorted_values[1:] != sorted_values[:-1], axis=1)
    return int(changes.sum()) + 1


def sample_indices(values: np.ndarray, size: int | None, random_state: int | None) -> np.ndarray:
    """Seeded sample of row positions, independent of the row order.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
    size : int or None
        Sample size; None, or a size >= n_samples, returns every row.
    random_state : int or None
        Seed.

    Returns
    -------
    ndarray of int64
        Sorted row positions. The rows are drawn uniformly without replacement
        from the rows in canonical (value-sorted) order, so the same customers
        are drawn whatever order the rows arrive in.
    """
    n = values.shape[0]
    if size is None or size >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    order = canonical_row_order(values)
    picked = rng.choice(n, size=size, replace=False)
    return np.sort(order[picked]).astype(np.int64)


def _check_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ParameterError(
            f"{name} must be an integer >= {minimum}, got {value!r}",
            fix=f"pass {name}={max(minimum, 1)} or more",
        )


def _check_random_state(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, Integral)):
        raise ParameterError(
            f"random_state must be an integer or None, got {value!r}",
            fix="pass an integer seed such as random_state=0",
        )


#: Largest sample whose all-pairs radius graph :mod:`custseg.dbscan` keeps in memory
#: (at most 6,000^2 / 2 pairs).
PRECOMPUTE_MAX = 6_000

#: Rows of a distance block computed at once by the chunked kernels below: the block
#: (``rows x n`` doubles) is reused from chunk to chunk and stays at about 4 MB, so no
#: ``n x n`` matrix is ever allocated (on a 4,334-customer set a fresh ``n x n`` matrix
#: costs more in page faults than computing the distances).
CHUNK_BYTES = 4 * 2**20


def _chunk_rows(n_cols: int) -> int:
    return max(1, CHUNK_BYTES // (8 * max(n_cols, 1)))


def squared_distances(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``a`` and ``b``.

    Each value is ``sum_j (a_j - b_j)**2`` accumulated feature by feature
    (``scipy.spatial.distance.cdist(metric="sqeuclidean")``): bit for bit what
    scikit-learn's KD-tree compares with ``eps**2`` in DBSCAN and takes the
    square root of in ``kneighbors``, so decisions taken on these values are
    the library's decisions. (``sklearn.metrics.pairwise_distances`` uses
    ``|a|^2 + |b|^2 - 2 a.b`` instead, which differs in the last bits.)
    """
    from scipy.spatial.distance import cdist

    return cdist(a, b, "sqeuclidean", out=out)


def cluster_distance_sums(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``D @ weights`` with ``D`` the Euclidean distance matrix of the rows of ``x``.

    With ``weights`` the one-hot indicator of a labelling (one column per
    cluster), entry ``[i, c]`` is the summed distance from point ``i`` to the
    members of cluster ``c``: everything a silhouette needs, and for several
    labellings at once (their indicators side by side) in one pass over the
    distances. Only the upper triangle of ``D`` is computed (``D`` is
    symmetric), block by block into a reused buffer of about
    :data:`CHUNK_BYTES`: memory stays ``O(n * weights.shape[1])``, no ``n x n``
    matrix is allocated.

    Parameters
    ----------
    x : ndarray of shape (n, n_features)
    weights : ndarray of shape (n, c)

    Returns
    -------
    ndarray of shape (n, c)
    """
    from scipy.spatial.distance import cdist
    from threadpoolctl import threadpool_limits

    n = x.shape[0]
    out = np.zeros((n, weights.shape[1]))
    step = _chunk_rows(n)
    buf = np.empty(min(step, n) * n)
    # The blocks are small: a second BLAS thread saves little time and, on a busy
    # machine, doubles the CPU spent (its threads spin while waiting).
    with threadpool_limits(limits=1, user_api="blas"):
        for a in range(0, n, step):
            b = min(a + step, n)
            d = buf[: (b - a) * (n - a)].reshape(b - a, n - a)
            cdist(x[a:b], x[a:], out=d)
            out[a:b] += d @ weights[a:]
            if b < n:
                out[b:] += d[:, b - a :].T @ weights[a:b]
    return out


def silhouettes_from_sums(sums: np.ndarray, codes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per-point silhouette from summed distances to each cluster.

    Same definition as :func:`sklearn.metrics.silhouette_samples`: ``a`` is the
    mean distance to the other members of the point's cluster, ``b`` the
    smallest mean distance to another cluster, ``s = (b - a) / max(a, b)``, and
    0 for a point alone in its cluster.

    Parameters
    ----------
    sums : ndarray of shape (m, c)
        Summed distance from each point to the members of each cluster
        (:func:`cluster_distance_sums`).
    codes : ndarray of int of shape (m,)
        Cluster (column of ``sums``) of each point.
    sizes : ndarray of shape (c,)
        Cluster sizes (all >= 1).

    Returns
    -------
    ndarray of shape (m,)
    """
    m = codes.size
    pos = np.arange(m)
    own = sizes[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[pos, codes] / (own - 1)
        mean_to = sums / sizes
        mean_to[pos, codes] = np.inf
        b = mean_to.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    s[own == 1] = 0.0
    return np.nan_to_num(s)


def silhouette_samples_many(x: np.ndarray, labelings: list[np.ndarray]) -> list[np.ndarray]:
    """Exact per-point silhouettes of several labellings of the same points.

    Equal to ``sklearn.metrics.silhouette_samples(x, labels)`` for each
    labelling (to about 1e-15), with one pass over the pairwise distances for
    all of them together and no ``n x n`` matrix in memory. Labels may be any
    integers; each labelling needs 2 to n-1 distinct values.

    Parameters
    ----------
    x : ndarray of shape (n, n_features)
    labelings : list of ndarray of int of shape (n,)

    Returns
    -------
    list of ndarray of shape (n,)
    """
    n = x.shape[0]
    coded = [np.unique(lab, return_inverse=True)[1].ravel() for lab in labelings]
    widths = [int(c.max()) + 1 for c in coded]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    weights = np.zeros((n, int(offsets[-1])))
    for codes, off in zip(coded, offsets, strict=False):
        weights[np.arange(n), off + codes] = 1.0
    sums = cluster_distance_sums(x, weights)
    out = []
    for codes, lo, hi in zip(coded, offsets[:-1], offsets[1:], strict=True):
        sizes = np.bincount(codes, minlength=hi - lo).astype(float)
        out.append(silhouettes_from_sums(sums[:, lo:hi], codes, sizes))
    return out
