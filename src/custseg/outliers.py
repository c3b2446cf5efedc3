"""Atypical customers inside their cluster, and the feature that makes them atypical.

The rule (Iglewicz and Hoaglin's modified z-score, applied per cluster)
-----------------------------------------------------------------------
For every cluster ``c`` and feature ``j`` of the matrix used for clustering
(standardised features, e.g. log1p + z-score of recency, frequency, monetary)::

    robust z = (x - median_cj) / scale_cj
    scale_cj = 1.4826 * MAD_cj                 (MAD = median |x - median_cj|)

``1.4826 * MAD`` estimates the standard deviation of normal data while ignoring the
outliers themselves; ``|z| > 3.5`` is Iglewicz and Hoaglin's recommended cut-off
(their ``0.6745 (x - median) / MAD`` is the same quantity). When more than half of a
cluster shares one value (e.g. one-order customers) the MAD is zero; the scale then
falls back to the cluster's ``IQR / 1.349``, and if that is zero too, to the feature's
scale over all clustered customers (``1.4826 * MAD``, else ``IQR / 1.349``, else the
standard deviation). A feature constant over everyone gets an infinite scale (``z =
0``): no infinity, and nobody is flagged on it.

A customer is atypical when ``max_j |z_j| > threshold``; the reason names the feature
with the largest ``|z|`` (first column on ties) and whether the value is above
(``"high"``) or below (``"low"``) the cluster median.

DBSCAN noise (``noise_label``, default ``-1``) is not a cluster: those customers are
skipped (never flagged, score NaN; DBSCAN already marks them as atypical). Pass
``noise_label=None`` to treat ``-1`` as an ordinary group.

Everything is vectorised (one ``groupby`` per statistic, numpy indexing per
customer), so it scales to tens of millions of customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.profiles import align_labels

__all__ = ["MAD_TO_SIGMA", "IQR_TO_SIGMA", "OutlierDetector", "flag_outliers"]

#: 1 / Phi^-1(3/4): turns a MAD into a standard deviation for normal data.
MAD_TO_SIGMA = 1.4826
#: 2 * Phi^-1(3/4): an interquartile range divided by this is a standard deviation.
IQR_TO_SIGMA = 1.349
#: A scale at most this fraction of the feature's overall scale counts as zero.
_ZERO_SCALE = 1e-9

OUTPUT_COLUMNS = (
    "is_outlier",
    "outlier_score",
    "outlier_feature",
    "outlier_direction",
    "outlier_reason",
)


def _validate_matrix(X: pd.DataFrame, features: Iterable[str] | None) -> list[str]:
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            "the clustering matrix must be a pandas DataFrame indexed by customer",
            fix="pass the standardised features as a DataFrame",
        )
    cols = list(X.columns) if features is None else list(features)
    if not cols:
        raise ColumnError("no feature to assess", fix="pass at least one feature")
    missing = [c for c in cols if c not in X.columns]
    if missing:
        raise ColumnError(
            f"the clustering matrix has no column {', '.join(map(repr, missing))}",
            fix=f"choose among {', '.join(map(str, X.columns))}",
        )
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(X[c])]
    if bad:
        raise ColumnError(
            f"column {', '.join(map(repr, bad))} of the clustering matrix is not numeric",
            fix="pass the numeric (standardised) features used for clustering",
        )
    values = X[cols].to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise DataError(
            "the clustering matrix holds missing or infinite values",
            fix="impute or drop them before clustering",
        )
    return cols


def _first_positive(candidates: Sequence[np.ndarray], floor: np.ndarray | float) -> np.ndarray:
    """Element-wise first candidate above ``floor`` (NaN-safe), else ``inf``."""
    out = np.full(np.broadcast(*candidates).shape, np.inf)
    done = np.zeros(out.shape, dtype=bool)
    for cand in candidates:
        ok = ~done & (np.nan_to_num(cand, nan=0.0) > floor)
        out[ok] = cand[ok]
        done |= ok
    return out


class OutlierDetector:
    """Per-cluster robust z-scores; flags customers far from their cluster.

    Parameters
    ----------
    threshold : float, default 3.5
        A customer is atypical when its largest ``|robust z|`` exceeds this.
    features : iterable of str, optional
        Columns of ``X`` to assess; default all of them.
    noise_label : object, default -1
        Label of customers skipped (DBSCAN noise); ``None`` to skip nobody.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The assessed features.
    n_features_in_ : int
        Their number.
    classes_ : ndarray
        The cluster labels seen in ``fit`` (noise excluded), sorted.
    medians_ : DataFrame
        Median of each feature (columns) in each cluster (index).
    scales_ : DataFrame
        The scale dividing ``x - median`` (same shape as ``medians_``).
    scale_source_ : DataFrame
        Where each scale comes from: ``"mad"``, ``"iqr"``, ``"global"`` or
        ``"constant"`` (feature constant over everyone: infinite scale).
    global_scale_ : Series
        Scale of each feature over all clustered customers (the last fallback).

    Notes
    -----
    See the module docstring for the rule.
    """

    def __init__(
        self,
        threshold: float = 3.5,
        features: Iterable[str] | None = None,
        noise_label: object = -1,
    ):
        self.threshold = threshold
        self.features = features
        self.noise_label = noise_label

    # ----------------------------------------------------------------- fitting

    def _kept(self, labels: pd.Series) -> np.ndarray:
        if self.noise_label is None:
            return np.ones(len(labels), dtype=bool)
        return (labels != self.noise_label).to_numpy()

    def fit(self, X: pd.DataFrame, labels: pd.Series | Sequence | np.ndarray) -> OutlierDetector:
        """Learn each cluster's median and robust scale.

        Parameters
        ----------
        X : DataFrame
            Clustering matrix, one row per customer.
        labels : Series or array-like
            Cluster of each customer (see :func:`custseg.profiles.align_labels`).

        Returns
        -------
        OutlierDetector
            ``self``.
        """
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ParameterError(
                f"outlier threshold {threshold!r} is not a number", fix="use e.g. 3.5"
            )
        if not np.isfinite(threshold) or threshold <= 0:
            raise ParameterError(
                f"outlier threshold {threshold} must be a positive number", fix="use e.g. 3.5"
            )
        cols = _validate_matrix(X, self.features)
        if X.empty:
            raise DataError(
                "the clustering matrix holds no customer", fix="check the cleaning step"
            )
        lab = align_labels(labels, X.index)
        kept = self._kept(lab)
        if not kept.any():
            raise DataError(
                "every customer is noise: there is no cluster to compare with",
                fix="fit on a labelling with at least one cluster",
            )
        values = X[cols].to_numpy(dtype="float64")[kept]
        lab = lab[kept]
        codes, classes = pd.factorize(lab, sort=True)
        frame = pd.DataFrame(values, columns=cols)
        grouped = frame.groupby(codes, sort=True)
        medians = grouped.median().to_numpy()
        deviation = pd.DataFrame(np.abs(values - medians[codes]), columns=cols)
        mad = deviation.groupby(codes, sort=True).median().to_numpy()

        g_q25, g_med, g_q75 = np.percentile(values, [25, 50, 75], axis=0)
        g_mad = np.median(np.abs(values - g_med), axis=0)
        g_std = values.std(axis=0)
        g_candidates = [MAD_TO_SIGMA * g_mad, (g_q75 - g_q25) / IQR_TO_SIGMA, g_std]
        scale_of = np.abs(values).max(axis=0)
        g_floor = _ZERO_SCALE * np.where(scale_of > 0, scale_of, 1.0)
        global_scale = _first_positive(g_candidates, g_floor)

        floor = _ZERO_SCALE * np.where(np.isfinite(global_scale), global_scale, 1.0)
        broadcast_global = np.broadcast_to(global_scale, mad.shape)
        mad_scale = MAD_TO_SIGMA * mad
        if (mad_scale > floor).all():  # the IQR fallback is only computed when needed
            iqr = np.zeros_like(mad)
        else:
            iqr = (grouped.quantile(0.75) - grouped.quantile(0.25)).to_numpy()
        candidates = [mad_scale, iqr / IQR_TO_SIGMA, broadcast_global]
        scales = _first_positive(candidates, floor)
        source = np.full(scales.shape, "constant", dtype=object)
        decided = np.zeros(scales.shape, dtype=bool)
        for name, cand in zip(("mad", "iqr", "global"), candidates, strict=True):
            ok = ~decided & (np.nan_to_num(cand, nan=0.0) > floor)
            source[ok] = name
            decided |= ok
        source[np.isinf(scales)] = "constant"

        class_index = pd.Index(classes, name=lab.name)
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)
        self.classes_ = np.asarray(classes)
        self.medians_ = pd.DataFrame(medians, index=class_index, columns=cols)
        self.scales_ = pd.DataFrame(scales, index=class_index, columns=cols)
        self.scale_source_ = pd.DataFrame(source, index=class_index, columns=cols)
        self.global_scale_ = pd.Series(global_scale, index=cols, name="global_scale")
        return self

    # ----------------------------------------------------------------- scoring

    def _check_fitted(self) -> None:
        if not hasattr(self, "medians_"):
            raise ParameterError(
                "this OutlierDetector is not fitted yet", fix="call fit(X, labels) first"
            )

    def robust_z(self, X: pd.DataFrame, labels: pd.Series | Sequence | np.ndarray) -> pd.DataFrame:
        """Robust z of every customer on every feature, against its own cluster.

        Parameters
        ----------
        X : DataFrame
            Customers to assess (same columns as in ``fit``).
        labels : Series or array-like
            Their clusters; every non-noise label must have been seen in ``fit``.

        Returns
        -------
        DataFrame
            Indexed like ``X``, one column per feature; NaN for skipped (noise) rows.
        """
        self._check_fitted()
        cols = _validate_matrix(X, self.feature_names_in_)
        lab = align_labels(labels, X.index)
        kept = self._kept(lab)
        codes = self.medians_.index.get_indexer(lab[kept])
        if (codes < 0).any():
            unseen = sorted(map(str, pd.unique(lab[kept][codes < 0])))
            raise ParameterError(
                f"labels {', '.join(unseen)} were not seen when fitting",
                fix="fit the detector on data covering every cluster",
            )
        z = np.full((len(X), len(cols)), np.nan)
        values = X[cols].to_numpy(dtype="float64")[kept]
        with np.errstate(invalid="ignore"):
            z[kept] = (values - self.medians_.to_numpy()[codes]) / self.scales_.to_numpy()[codes]
        return pd.DataFrame(z, index=X.index, columns=cols)

    def flag(self, X: pd.DataFrame, labels: pd.Series | Sequence | np.ndarray) -> pd.DataFrame:
        """Flag atypical customers and say why.

        Parameters
        ----------
        X : DataFrame
            Customers to assess.
        labels : Series or array-like
            Their clusters.

        Returns
        -------
        DataFrame
            Indexed like ``X``: ``is_outlier`` (bool), ``outlier_score`` (largest
            ``|robust z|``, NaN for skipped noise), ``outlier_feature`` (feature with the
            largest ``|z|``, ``""`` when not atypical), ``outlier_direction``
            (``"high"``/``"low"``/``""``) and ``outlier_reason`` (e.g. ``"monetary far
            above its cluster (robust z = 8.1)"``, ``""`` when not atypical).
        """
        z = self.robust_z(X, labels)
        z_arr = z.to_numpy()
        n = len(z_arr)
        # Skipped (noise) rows are all NaN, assessed rows all finite: max/argmax suffice.
        zabs = np.abs(z_arr)
        score = zabs.max(axis=1) if zabs.shape[1] else np.full(n, np.nan)
        with np.errstate(invalid="ignore"):
            is_out = score > self.threshold
        hit = np.flatnonzero(is_out)
        arg = zabs[hit].argmax(axis=1)
        signed = z_arr[hit, arg]
        up = signed > 0

        feature = np.full(n, "", dtype=object)
        direction = np.full(n, "", dtype=object)
        reason = np.full(n, "", dtype=object)
        if hit.size:
            names = np.asarray(z.columns, dtype=object)[arg]
            feature[hit] = names
            direction[hit] = np.where(up, "high", "low")
            rounded = pd.Series(np.round(score[hit], 1)).astype(str).to_numpy(dtype=object)
            words = np.where(up, " far above", " far below").astype(object)
            reason[hit] = names + words + " its cluster (robust z = " + rounded + ")"
        return pd.DataFrame(
            {
                "is_outlier": is_out,
                "outlier_score": score,
                "outlier_feature": feature,
                "outlier_direction": direction,
                "outlier_reason": reason,
            },
            index=z.index,
        )

    def predict(self, X: pd.DataFrame, labels: pd.Series | Sequence | np.ndarray) -> np.ndarray:
        """Whether each customer is atypical in its cluster (bool array, order of ``X``)."""
        return self.flag(X, labels)["is_outlier"].to_numpy()

    def fit_flag(self, X: pd.DataFrame, labels: pd.Series | Sequence | np.ndarray) -> pd.DataFrame:
        """``fit(X, labels)`` then ``flag(X, labels)``."""
        return self.fit(X, labels).flag(X, labels)


def flag_outliers(
    X: pd.DataFrame,
    labels: pd.Series | Sequence | np.ndarray,
    *,
    threshold: float = 3.5,
    features: Iterable[str] | None = None,
    noise_label: object = -1,
) -> pd.DataFrame:
    """Flag customers far from their own cluster, with the feature responsible.

    Parameters
    ----------
    X : DataFrame
        The standardised matrix used for clustering, one row per customer.
    labels : Series or array-like
        Cluster of each customer.
    threshold : float, default 3.5
        Cut-off on the largest ``|robust z|`` (Iglewicz and Hoaglin).
    features : iterable of str, optional
        Columns of ``X`` to assess; default all.
    noise_label : object, default -1
        Customers with this label are skipped (DBSCAN noise); ``None`` to keep all.

    Returns
    -------
    DataFrame
        See :meth:`OutlierDetector.flag`.

    Examples
    --------
    >>> flags = flag_outliers(X, kmeans_labels)  # doctest: +SKIP
    >>> flags.loc[flags.is_outlier, "outlier_reason"].head()  # doctest: +SKIP
    """
    detector = OutlierDetector(threshold=threshold, features=features, noise_label=noise_label)
    return detector.fit_flag(X, labels)
