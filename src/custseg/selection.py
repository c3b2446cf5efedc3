"""Choosing the number of K-means segments: scores per k, the elbow, a stated rule.

Steps (each one a public function, :func:`select_k` runs them all):

1. :func:`scan_k` fits :class:`~custseg.kmeans.KMeansSegmenter` for every k and
   records inertia, silhouette, Calinski-Harabasz (CH), Davies-Bouldin (DB) and
   the segment sizes.

   * Silhouette is quadratic in the number of points, so it is computed on a
     seeded sample of at most ``silhouette_sample_size`` customers (20,000 by
     default) when there are more; the **same** sample is used for every k, so
     the values are comparable across k.
   * CH and DB are linear and are computed on all customers up to
     ``score_sample_size`` (1,000,000 by default), beyond that on a seeded
     sample of that size (a million points estimate these averages far more
     precisely than they differ between neighbouring k).
   * Inertia and sizes always cover every customer.

2. :func:`find_knee` locates the elbow of the inertia curve with Kneedle (:mod:`custseg.knee`, kneed's algorithm)
   (convex, decreasing), or reports that there is none.

3. :func:`choose_k` applies the rule below (text in :func:`rule_text`):

   * **admissible** k: at least ``min_clusters`` segments (3: two segments are
     rarely actionable for a marketing team, even when the silhouette peaks
     there) and a smallest segment holding at least ``min_cluster_share`` of
     customers (2%: a segment too small to target is not a segment);
   * each admissible k is ranked on silhouette (high), CH (high), DB (low) and
     distance to the elbow (small); ranks are scaled to 0-1 within the
     admissible set (1 = best) and averaged with equal weights. Ranks rather
     than raw values, because the four scores have unrelated units and scales;
     equal weights, because none of them is authoritative alone;
   * the highest average wins; ties go to the k closer to the elbow, then to
     the smaller k;
   * every other k is listed as a runner-up with its scores and why it lost.

   ``forced_k`` (``--k N``) bypasses the rule; the reason then says so and
   notes if the forced k breaks one of the usefulness conditions.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from custseg import knee as kneedle
from custseg.errors import ParameterError
from custseg.kmeans import (
    KMeansSegmenter,
    _check_int,
    _check_random_state,
    canonical_row_order,
    check_features,
    count_distinct_sorted_rows,
    sample_indices,
    silhouette_samples_many,
)
from custseg.schema import MONETARY

__all__ = [
    "KChoice",
    "KSelection",
    "choose_k",
    "find_knee",
    "rule_text",
    "scan_k",
    "select_k",
    "silhouette_diagram_data",
]

DEFAULT_K_VALUES = range(2, 11)
TABLE_COLUMNS = (
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "min_cluster_share",
    "sizes",
    "algorithm",
)


@dataclass(frozen=True, eq=False)
class KChoice:
    """The chosen number of segments and why.

    Attributes
    ----------
    k : int
        Chosen number of segments.
    reason : str
        One or two English sentences with the numbers behind the choice.
    rule : str
        The rule that was applied, in English.
    runners_up : list of dict
        Every other scanned k, best first: ``k``, the scores, ``admissible``,
        ``score`` (combined rank score, None if not admissible) and ``why_not``.
    admissible : list of int
        The k values meeting the usefulness conditions.
    forced : bool
        True when k was set by the user.
    score : float or None
        Combined rank score of the chosen k (None when forced outside the
        admissible set or when the rule fell back).
    ranking : DataFrame
        Per k: ``admissible`` and the four scaled ranks and their mean
        ``score`` (NaN outside the admissible set).
    """

    k: int
    reason: str
    rule: str
    runners_up: list[dict[str, Any]]
    admissible: list[int]
    forced: bool = False
    score: float | None = None
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no NumPy types, NaN as None)."""
        return {
            "k": int(self.k),
            "forced": bool(self.forced),
            "reason": self.reason,
            "rule": self.rule,
            "score": _clean(self.score),
            "admissible": [int(k) for k in self.admissible],
            "runners_up": [{key: _clean(v) for key, v in r.items()} for r in self.runners_up],
        }


@dataclass(frozen=True, eq=False)
class KSelection:
    """Everything :func:`select_k` computed.

    Attributes
    ----------
    table : DataFrame
        One row per scanned k (see :func:`scan_k`).
    knee : int or None
        Elbow of the inertia curve (Kneedle), None if there is none.
    choice : KChoice
        The chosen k, the reason and the runners-up.
    n_samples : int
        Number of customers.
    sampled : bool
        True when the silhouette was computed on a sample.
    sample_size : int
        Number of customers the silhouette was computed on.
    diagram : DataFrame
        Per-customer silhouette of the chosen k on that sample, columns
        ``cluster`` and ``silhouette`` (see :func:`silhouette_diagram_data`).
    model : KMeansSegmenter or None
        The scan's fit with the chosen k, on the customers given to
        :func:`select_k`: the same as fitting
        :class:`~custseg.kmeans.KMeansSegmenter` with that k and the same
        parameters on them, so it need not be fitted again (None when the
        chosen k was not scanned).
    """

    table: pd.DataFrame
    knee: int | None
    choice: KChoice
    n_samples: int
    sampled: bool
    sample_size: int
    diagram: pd.DataFrame
    model: KMeansSegmenter | None = None

    @property
    def k(self) -> int:
        """The chosen number of segments."""
        return self.choice.k

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: choice, knee, sampling and the score table."""
        table = [
            {c: _clean(row[c]) if c != "sizes" else [int(s) for s in row[c]] for c in TABLE_COLUMNS}
            for _, row in self.table.iterrows()
        ]
        return {
            **self.choice.to_dict(),
            "knee": None if self.knee is None else int(self.knee),
            "n_samples": int(self.n_samples),
            "silhouette_sampled": bool(self.sampled),
            "silhouette_sample_size": int(self.sample_size),
            "table": table,
        }


# ---------------------------------------------------------------------------
# 1. scan
# ---------------------------------------------------------------------------


def scan_k(
    X: Any,
    k_values: Iterable[int] = DEFAULT_K_VALUES,
    *,
    random_state: int | None = 0,
    silhouette_sample_size: int = 20_000,
    score_sample_size: int | None = 1_000_000,
    order_by: str | None = MONETARY,
    n_init: int = 10,
    max_iter: int = 300,
    minibatch_threshold: int = 200_000,
    batch_size: int = 4096,
) -> pd.DataFrame:
    """Fit K-means for each k and score it.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Standardised features, one row per customer.
    k_values : iterable of int, default=range(2, 11)
        Numbers of clusters to try (each >= 2).
    random_state : int or None, default=0
        Seed of the K-means fits and of the samples.
    silhouette_sample_size : int, default=20_000
        Silhouette is computed on a seeded sample of this many customers when
        there are more (the same sample for every k).
    score_sample_size : int or None, default=1_000_000
        CH and DB use every customer up to this many, a seeded sample of this
        size beyond. None: always every customer.
    order_by, n_init, max_iter, minibatch_threshold, batch_size
        Passed to :class:`~custseg.kmeans.KMeansSegmenter`.

    Returns
    -------
    DataFrame
        One row per k, sorted by k: ``k``, ``inertia``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``min_cluster_share``
        (smallest segment / customers), ``sizes`` (list, canonical order),
        ``algorithm`` (``KMeans`` or ``MiniBatchKMeans``).
    """
    values, names = check_features(X)
    table, _, _, _ = _scan(
        values,
        names,
        _check_k_values(k_values),
        random_state=random_state,
        silhouette_sample_size=silhouette_sample_size,
        score_sample_size=score_sample_size,
        order_by=order_by,
        n_init=n_init,
        max_iter=max_iter,
        minibatch_threshold=minibatch_threshold,
        batch_size=batch_size,
    )
    return table


def _scan(
    values: np.ndarray,
    names: list[str] | None,
    ks: list[int],
    *,
    random_state: int | None,
    silhouette_sample_size: int,
    score_sample_size: int | None,
    order_by: str | None,
    n_init: int,
    max_iter: int,
    minibatch_threshold: int,
    batch_size: int,
) -> tuple[
    pd.DataFrame,
    np.ndarray,
    dict[int, tuple[np.ndarray, np.ndarray]],
    dict[int, KMeansSegmenter],
]:
    """The scan; also returns the silhouette sample, per-k sample labels/values and the fits."""
    _check_int(silhouette_sample_size, "silhouette_sample_size", 2)
    if score_sample_size is not None:
        _check_int(score_sample_size, "score_sample_size", 2)
    _check_random_state(random_state)
    n = values.shape[0]
    n_distinct = count_distinct_sorted_rows(values[canonical_row_order(values)])
    if ks[-1] > n_distinct:
        raise ParameterError(
            f"k={ks[-1]} is more than the {n_distinct} distinct customer rows",
            fix=f"scan k values up to {n_distinct}",
        )
    frame = pd.DataFrame(values, columns=names) if names is not None else values
    sil_idx = sample_indices(values, silhouette_sample_size, random_state)
    score_idx = sample_indices(values, score_sample_size, random_state)
    sil_x = values[sil_idx]
    score_x = values[score_idx]
    rows = []
    fitted: dict[int, KMeansSegmenter] = {}
    for k in ks:
        fitted[k] = KMeansSegmenter(
            k,
            order_by=order_by,
            random_state=random_state,
            n_init=n_init,
            max_iter=max_iter,
            minibatch_threshold=minibatch_threshold,
            batch_size=batch_size,
        ).fit(frame)
    # The silhouette sample is the same for every k: the silhouettes of all k come
    # from one pass over its pairwise distances.
    sil_all = _silhouette_values_many(sil_x, [fitted[k].labels_[sil_idx] for k in ks])
    per_k: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k, sil_values in zip(ks, sil_all, strict=True):
        seg = fitted[k]
        labels = seg.labels_
        sizes = np.bincount(labels, minlength=k)
        per_k[k] = (labels[sil_idx], sil_values)
        score_labels = labels[score_idx]
        several = np.unique(score_labels).size >= 2
        rows.append(
            {
                "k": k,
                "inertia": seg.inertia_,
                "silhouette": float(np.mean(sil_values)),
                "calinski_harabasz": (
                    float(calinski_harabasz_score(score_x, score_labels)) if several else math.nan
                ),
                "davies_bouldin": (
                    float(davies_bouldin_score(score_x, score_labels)) if several else math.nan
                ),
                "min_cluster_share": float(sizes.min() / n),
                "sizes": [int(s) for s in sizes],
                "algorithm": seg.algorithm_used_,
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)), sil_idx, per_k, fitted


def _silhouette_values_many(x: np.ndarray, labelings: list[np.ndarray]) -> list[np.ndarray]:
    """Per-point silhouettes of several labellings of ``x`` (one pass over the distances).

    Equal to ``sklearn.metrics.silhouette_samples`` for each; all NaN for a
    labelling that does not form 2..n-1 clusters.
    """
    n = x.shape[0]
    valid = [i for i, lab in enumerate(labelings) if 2 <= np.unique(lab).size <= n - 1]
    out = [np.full(n, np.nan) for _ in labelings]
    if valid:
        for i, values in zip(
            valid, silhouette_samples_many(x, [labelings[i] for i in valid]), strict=True
        ):
            out[i] = values
    return out


def _check_k_values(k_values: Iterable[int]) -> list[int]:
    try:
        ks = list(k_values)
    except TypeError as exc:
        raise ParameterError(
            f"k_values must be a list of integers, got {k_values!r}", fix="pass e.g. range(2, 11)"
        ) from exc
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, Integral) or k < 2]
    if not ks or bad:
        raise ParameterError(
            f"k_values must be integers >= 2, got {ks!r}", fix="pass e.g. range(2, 11)"
        )
    return sorted({int(k) for k in ks})


# ---------------------------------------------------------------------------
# 2. knee
# ---------------------------------------------------------------------------


def find_knee(k_values: Sequence[int], inertias: Sequence[float]) -> int | None:
    """Elbow of the inertia curve, located by Kneedle (:mod:`custseg.knee`).

    Parameters
    ----------
    k_values : sequence of int
        Numbers of clusters.
    inertias : sequence of float
        Inertia for each k.

    Returns
    -------
    int or None
        The k at the elbow (Kneedle as ``kneed.KneeLocator`` computes it, curve="convex",
        direction="decreasing", sensitivity S=1), or None when there is no
        elbow: fewer than three points, a flat curve, or Kneedle finds none.

    Raises
    ------
    ParameterError
        The two sequences differ in length or hold non-finite values.
    """
    x = np.asarray(list(k_values), dtype=float)
    y = np.asarray(list(inertias), dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ParameterError(
            f"k_values ({x.size}) and inertias ({y.size}) must have the same length",
            fix="pass one inertia per k",
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError("k_values and inertias must be finite", fix="drop the failed fits")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x.size < 3 or np.unique(x).size != x.size or np.ptp(y) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knee = kneedle.find_knee(x, y, curve="convex", direction="decreasing")
    return None if knee is None else round(knee)


# ---------------------------------------------------------------------------
# 3. rule
# ---------------------------------------------------------------------------


def rule_text(min_clusters: int = 3, min_cluster_share: float = 0.02) -> str:
    """The k-selection rule in English, with its thresholds."""
    return (
        f"A k is admissible when it gives at least {min_clusters} segments and its smallest "
        f"segment holds at least {_pct(min_cluster_share)} of customers. Each admissible k is "
        "ranked on silhouette (higher is better), Calinski-Harabasz (higher), Davies-Bouldin "
        "(lower) and distance to the elbow of the inertia curve found by Kneedle (smaller); the "
        "ranks are scaled to 0-1 within the admissible values (1 = best) and averaged with "
        "equal weights, the distance criterion being dropped when there is no elbow. The "
        "highest average wins; ties go to the k closer to the elbow, then to the smaller k. "
        "If no k is admissible, the k with the largest smallest segment among those with at "
        f"least {min_clusters} segments is taken."
    )


def choose_k(
    table: pd.DataFrame,
    knee: int | None,
    *,
    min_clusters: int = 3,
    min_cluster_share: float = 0.02,
    forced_k: int | None = None,
) -> KChoice:
    """Pick k from a :func:`scan_k` table with the stated rule (see :func:`rule_text`).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`scan_k` (columns ``k``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``min_cluster_share``; the
        others are optional).
    knee : int or None
        Elbow from :func:`find_knee`.
    min_clusters : int, default=3
        Fewest segments considered useful.
    min_cluster_share : float, default=0.02
        Smallest segment share (of customers) considered useful.
    forced_k : int or None, default=None
        k set by the user (``--k N``): it is returned as is, with the reason
        "set by the user" and a note if it breaks a usefulness condition.

    Returns
    -------
    KChoice

    Raises
    ------
    ParameterError
        Bad thresholds, an empty table, or ``forced_k`` < 2.
    """
    _check_int(min_clusters, "min_clusters", 1)
    if (
        isinstance(min_cluster_share, bool)
        or not isinstance(min_cluster_share, Real)
        or not 0 <= min_cluster_share < 1
    ):
        raise ParameterError(
            f"min_cluster_share must be a fraction in [0, 1), got {min_cluster_share!r}",
            fix="pass e.g. min_cluster_share=0.02 for 2%",
        )
    needed = {"k", "silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_share"}
    if not needed <= set(table.columns) or table.empty:
        raise ParameterError(
            "the k table is empty or lacks score columns", fix="pass the output of scan_k"
        )
    if forced_k is not None:
        _check_int(forced_k, "forced_k", 2)

    rule = rule_text(min_clusters, min_cluster_share)
    t = table.sort_values("k").reset_index(drop=True)
    ks = [int(k) for k in t["k"]]
    finite = np.isfinite(t[["silhouette", "calinski_harabasz", "davies_bouldin"]]).all(axis=1)
    big_enough = t["k"] >= min_clusters
    large_segments = t["min_cluster_share"] >= min_cluster_share
    admissible_mask = (finite & big_enough & large_segments).to_numpy()
    ranking = _rank(t, admissible_mask, knee)
    scores = dict(zip(ks, ranking["score"], strict=True))
    rows = {int(r["k"]): r for _, r in t.iterrows()}
    admissible = [k for k, a in zip(ks, admissible_mask, strict=True) if a]

    def why_not(k: int, chosen: int) -> str:
        r = rows[k]
        if k < min_clusters:
            return f"fewer than {min_clusters} segments"
        if not finite[ks.index(k)]:
            return "its scores could not be computed"
        if r["min_cluster_share"] < min_cluster_share:
            return (
                f"its smallest segment holds only {_pct(r['min_cluster_share'])} of customers "
                f"(minimum {_pct(min_cluster_share)})"
            )
        if chosen not in admissible:
            return "not chosen"
        s, best = scores[k], scores[chosen]
        if round(s, 9) < round(best, 9):
            return f"combined score {s:.2f}, below {best:.2f} for k={chosen}"
        if knee is not None and abs(k - knee) > abs(chosen - knee):
            return f"same combined score ({s:.2f}) as k={chosen} but further from the elbow"
        return f"same combined score ({s:.2f}) as k={chosen} but more segments"

    auto_k, auto_score, auto_reason = _auto_choice(
        t, ks, admissible, scores, rows, finite, knee, min_clusters, min_cluster_share, why_not
    )
    if forced_k is None:
        chosen, score, reason, forced = auto_k, auto_score, auto_reason, False
    else:
        chosen, forced = int(forced_k), True
        score = scores.get(chosen) if chosen in admissible else None
        reason = _forced_reason(chosen, rows, admissible, auto_k, why_not)

    ordered = sorted(
        [k for k in ks if k != chosen],
        key=lambda k: (
            k not in admissible,
            -scores[k] if k in admissible else 0.0,
            abs(k - knee) if knee is not None else 0,
            k,
        ),
    )
    runners_up = []
    for k in ordered:
        r = rows[k]
        runners_up.append(
            {
                "k": k,
                "silhouette": float(r["silhouette"]),
                "calinski_harabasz": float(r["calinski_harabasz"]),
                "davies_bouldin": float(r["davies_bouldin"]),
                "min_cluster_share": float(r["min_cluster_share"]),
                "admissible": k in admissible,
                "score": float(scores[k]) if k in admissible else None,
                "why_not": f"k={chosen} was set by the user" if forced else why_not(k, chosen),
            }
        )
    return KChoice(
        k=chosen,
        reason=reason,
        rule=rule,
        runners_up=runners_up,
        admissible=admissible,
        forced=forced,
        score=None if score is None or not math.isfinite(score) else float(score),
        ranking=ranking,
    )


def _rank(t: pd.DataFrame, admissible: np.ndarray, knee: int | None) -> pd.DataFrame:
    """Scaled ranks (1 = best, 0 = worst) within the admissible rows, and their mean."""
    out = pd.DataFrame({"k": t["k"].astype(int), "admissible": admissible})
    adm = t[admissible]
    m = len(adm)
    criteria = {
        "rank_silhouette": (adm["silhouette"], True),
        "rank_calinski_harabasz": (adm["calinski_harabasz"], True),
        "rank_davies_bouldin": (adm["davies_bouldin"], False),
    }
    if knee is not None:
        criteria["rank_knee"] = ((adm["k"] - knee).abs(), False)
    for name, (vals, higher_better) in criteria.items():
        out[name] = np.nan
        if m:
            r = vals.rank(ascending=not higher_better, method="average")
            out.loc[adm.index, name] = 1.0 if m == 1 else (m - r) / (m - 1)
    rank_cols = list(criteria)
    out["score"] = out[rank_cols].mean(axis=1, skipna=False)
    if knee is None:
        out["rank_knee"] = np.nan
    return out


def _auto_choice(
    t: pd.DataFrame,
    ks: list[int],
    admissible: list[int],
    scores: dict[int, float],
    rows: dict[int, pd.Series],
    finite: pd.Series,
    knee: int | None,
    min_clusters: int,
    min_cluster_share: float,
    why_not: Callable[[int, int], str],
) -> tuple[int, float | None, str]:
    """The automatic choice and its reason."""
    if admissible:
        best = sorted(
            admissible,
            key=lambda k: (-round(scores[k], 9), abs(k - knee) if knee is not None else 0, k),
        )[0]
        r = rows[best]
        if knee is None:
            knee_text = "no elbow was found in the inertia curve"
        elif best == knee:
            knee_text = "it is the elbow of the inertia curve"
        else:
            knee_text = f"the elbow is at k={knee}"
        listed = _k_list(admissible)
        reason = (
            f"k={best} has the best combined score ({scores[best]:.2f}) of the "
            f"{len(admissible)} admissible values ({listed}): silhouette "
            f"{r['silhouette']:.3f}, Calinski-Harabasz {r['calinski_harabasz']:,.0f}, "
            f"Davies-Bouldin {r['davies_bouldin']:.3f}, and {knee_text}; its smallest segment "
            f"holds {_pct(r['min_cluster_share'])} of customers."
        )
        sil = t.loc[finite, ["k", "silhouette"]]
        if not sil.empty:
            top = int(sil.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]["k"])
            if top != best:
                reason += (
                    f" k={top} has the highest silhouette ({rows[top]['silhouette']:.3f}) but "
                    f"{why_not(top, best)}."
                )
        return best, float(scores[best]), reason

    relaxed = [k for k in ks if k >= min_clusters and finite[ks.index(k)]]
    if relaxed:
        best = sorted(relaxed, key=lambda k: (-rows[k]["min_cluster_share"], k))[0]
        reason = (
            f"No k gives at least {min_clusters} segments with a smallest segment of "
            f"{_pct(min_cluster_share)} or more; k={best} is kept because its smallest segment "
            f"is the largest ({_pct(rows[best]['min_cluster_share'])} of customers)."
        )
        return best, None, reason

    candidates = [k for k in ks if finite[ks.index(k)]] or ks
    best = sorted(
        candidates,
        key=lambda k: (
            -(rows[k]["silhouette"] if finite[ks.index(k)] else -math.inf),
            k,
        ),
    )[0]
    reason = (
        f"No scanned k gives at least {min_clusters} segments; k={best} is kept as the value "
        f"with the highest silhouette. Scan larger k values to apply the rule."
    )
    return best, None, reason


def _forced_reason(
    chosen: int,
    rows: dict[int, pd.Series],
    admissible: list[int],
    auto_k: int,
    why_not: Callable[[int, int], str],
) -> str:
    """Reason for a k set by the user, with a note when it breaks the rule."""
    if chosen not in rows:
        return (
            f"k={chosen} was set by the user (--k {chosen}); it was not in the scan, so no "
            f"scores are available; the automatic rule would pick k={auto_k}."
        )
    r = rows[chosen]
    reason = (
        f"k={chosen} was set by the user (--k {chosen}): silhouette {r['silhouette']:.3f}, "
        f"Calinski-Harabasz {r['calinski_harabasz']:,.0f}, Davies-Bouldin "
        f"{r['davies_bouldin']:.3f}, smallest segment {_pct(r['min_cluster_share'])} of "
        "customers."
    )
    if chosen not in admissible:
        reason += f" Note: {why_not(chosen, auto_k)}; the automatic rule would pick k={auto_k}."
    elif chosen != auto_k:
        reason += f" The automatic rule would pick k={auto_k}."
    return reason


# ---------------------------------------------------------------------------
# 4. all together, and the silhouette diagram
# ---------------------------------------------------------------------------


def select_k(
    X: Any,
    k_values: Iterable[int] = DEFAULT_K_VALUES,
    *,
    forced_k: int | None = None,
    min_clusters: int = 3,
    min_cluster_share: float = 0.02,
    random_state: int | None = 0,
    silhouette_sample_size: int = 20_000,
    score_sample_size: int | None = 1_000_000,
    order_by: str | None = MONETARY,
    n_init: int = 10,
    max_iter: int = 300,
    minibatch_threshold: int = 200_000,
    batch_size: int = 4096,
) -> KSelection:
    """Scan k, find the elbow, choose k and prepare its silhouette diagram.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Standardised features, one row per customer.
    k_values : iterable of int, default=range(2, 11)
        Values to scan; ``forced_k`` is added when missing.
    forced_k : int or None, default=None
        ``--k N``: use this k (the scan and runners-up are still reported).
        None is ``--k auto``.
    min_clusters, min_cluster_share
        Usefulness conditions of the rule, see :func:`choose_k`.
    random_state, silhouette_sample_size, score_sample_size, order_by, n_init, max_iter, minibatch_threshold, batch_size
        See :func:`scan_k`.

    Returns
    -------
    KSelection
        Fitting :class:`~custseg.kmeans.KMeansSegmenter` with the chosen k and
        the same ``random_state``, ``order_by`` and fitting parameters gives
        exactly the segments that were scored.
    """
    values, names = check_features(X)
    ks = list(k_values)
    if forced_k is not None:
        _check_int(forced_k, "forced_k", 2)
        ks = [*ks, forced_k]
    ks = _check_k_values(ks)
    table, sil_idx, per_k, fitted = _scan(
        values,
        names,
        ks,
        random_state=random_state,
        silhouette_sample_size=silhouette_sample_size,
        score_sample_size=score_sample_size,
        order_by=order_by,
        n_init=n_init,
        max_iter=max_iter,
        minibatch_threshold=minibatch_threshold,
        batch_size=batch_size,
    )
    knee = find_knee(table["k"], table["inertia"])
    choice = choose_k(
        table,
        knee,
        min_clusters=min_clusters,
        min_cluster_share=min_cluster_share,
        forced_k=forced_k,
    )
    sil_labels, sil_values = per_k[choice.k]
    index = (
        X.index[sil_idx] if isinstance(X, pd.DataFrame) else pd.RangeIndex(values.shape[0])[sil_idx]
    )
    diagram = _diagram_frame(sil_labels, sil_values, index)
    return KSelection(
        table=table,
        knee=knee,
        choice=choice,
        n_samples=values.shape[0],
        sampled=bool(sil_idx.size < values.shape[0]),
        sample_size=int(sil_idx.size),
        diagram=diagram,
        model=fitted.get(choice.k),
    )


def silhouette_diagram_data(
    X: Any,
    labels: Any,
    sample_size: int = 20_000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Per-customer silhouette values for a silhouette diagram, on a seeded sample.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Standardised features.
    labels : array-like of shape (n_samples,)
        Segment of each customer.
    sample_size : int, default=20_000
        At most this many customers (the same seeded sample as :func:`scan_k`
        with the same ``silhouette_sample_size`` and ``random_state``).
    random_state : int or None, default=0
        Seed of the sample.

    Returns
    -------
    DataFrame
        Columns ``cluster`` (int) and ``silhouette`` (float), indexed by the
        customers' index labels (row positions for arrays), sorted by cluster
        then by descending silhouette, ready to draw. Silhouette is NaN when
        the sample holds fewer than two clusters.

    Raises
    ------
    ParameterError
        ``labels`` does not have one value per customer.
    """
    values, _ = check_features(X)
    _check_int(sample_size, "sample_size", 2)
    _check_random_state(random_state)
    lab = np.asarray(labels)
    if lab.shape != (values.shape[0],):
        raise ParameterError(
            f"labels has shape {lab.shape} but there are {values.shape[0]} customers",
            fix="pass one label per customer, in the same row order as X",
        )
    idx = sample_indices(values, sample_size, random_state)
    (sil,) = _silhouette_values_many(values[idx], [lab[idx]])
    index = X.index[idx] if isinstance(X, pd.DataFrame) else pd.RangeIndex(values.shape[0])[idx]
    return _diagram_frame(lab[idx], sil, index)


def _diagram_frame(labels: np.ndarray, sil: np.ndarray, index: pd.Index) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"cluster": labels.astype(np.int64), "silhouette": sil.astype(float)}, index=index
    )
    return frame.sort_values(["cluster", "silhouette"], ascending=[True, False], kind="stable")


# ---------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------


def _pct(x: float) -> str:
    """Share as a percentage: 0.02 -> '2%', 0.0634 -> '6.3%', 0.0062 -> '0.62%'."""
    value = 100 * float(x)
    text = f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:.1f}"
    text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _k_list(ks: list[int]) -> str:
    """[3, 4, 5, 7] -> '3-5, 7'."""
    parts, start, prev = [], ks[0], ks[0]
    for k in [*ks[1:], None]:
        if k is not None and k == prev + 1:
            prev = k
            continue
        parts.append(f"k={start}" if start == prev else f"k={start}-{prev}")
        if k is not None:
            start = prev = k
    return ", ".join(parts)


def _clean(v: Any) -> Any:
    """NumPy scalars to Python, NaN to None (JSON-ready)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
