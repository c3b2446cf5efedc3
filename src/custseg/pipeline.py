"""The end-to-end flow: load, audit, clean, features, segment, profile, write.

:func:`run_pipeline` is pure apart from reading the input (through
:mod:`custseg.load`); :func:`run_and_write` adds the writers. Each stage is a
function of its own module; this module only wires them and times them.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg import __version__
from custseg import schema as S
from custseg.cleaning import CleaningPolicy, CleaningResult, apply_policy
from custseg.errors import CustsegError, DataError, ParameterError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

CUSTOMER_COLUMNS = (
    *S.FEATURE_COLUMNS,
    "kmeans_cluster",
    "kmeans_label",
    "dbscan_cluster",
    "rfm_score",
    "rfm_segment",
    "is_outlier",
    "outlier_reason",
)

SCATTER_SAMPLE = 5_000  # customers drawn on scatter plots (seeded, stratified by cluster)
MIN_CUSTOMERS = 5  # RFM scores are quintiles; K-means needs 2 <= k < customers
EXACT_DECIMALS = 6  # line totals and quantities are summed exactly, to a millionth
DBSCAN_MIN_SAMPLES = (5, 10, 20)  # tune_dbscan's grid, capped on very small inputs


def parse_k(value: str | int) -> str | int:
    """``"auto"`` or a whole number of clusters (at least 2)."""
    if isinstance(value, int):
        k = value
    elif str(value).strip().lower() == "auto":
        return "auto"
    else:
        try:
            k = int(str(value).strip())
        except ValueError:
            raise ParameterError(
                f"--k must be 'auto' or a whole number, not '{value}'",
                fix="use --k auto or e.g. --k 4",
            ) from None
    if k < 2:
        raise ParameterError(f"--k must be at least 2, not {k}", fix="use --k auto or e.g. --k 4")
    return k


@dataclass
class PipelineConfig:
    """Every option of a run (all stored in summary.json)."""

    k: str | int = "auto"
    k_range: tuple[int, int] = (2, 10)
    seed: int = 0
    features: tuple[str, ...] = S.RFM_COLUMNS
    transform: str = "log"
    policy: CleaningPolicy = field(default_factory=CleaningPolicy)
    as_of: str | None = None
    overrides: dict[str, str | None] = field(default_factory=dict)
    date_format: str | None = None
    lang: str = "en"
    figure_format: str = "png"
    report: bool = True
    min_clusters: int = 3
    min_cluster_share: float = 0.02
    silhouette_sample_size: int = 20_000
    minibatch_threshold: int = 1_000_000
    k_scan_sample_size: int = 200_000
    dbscan_sample_size: int = 20_000
    memory_limit: str | None = "auto"

    def validate(self) -> PipelineConfig:
        """Raise :class:`ParameterError` on options out of range."""
        lo, hi = self.k_range
        if lo < 2 or hi < lo:
            raise ParameterError(
                f"k range {lo}..{hi} is invalid", fix="use --k-min >= 2 and --k-max >= --k-min"
            )
        if hi > 50:
            raise ParameterError(f"--k-max {hi} is too large", fix="use --k-max 50 or less")
        unknown = [f for f in self.features if f not in S.FEATURE_COLUMNS]
        if unknown or not self.features:
            raise ParameterError(
                f"unknown clustering feature(s): {', '.join(unknown) or '(none given)'}",
                fix=f"choose among {', '.join(S.FEATURE_COLUMNS)}",
            )
        if self.as_of is not None:
            try:
                dt.date.fromisoformat(self.as_of)
            except ValueError:
                raise ParameterError(
                    f"--as-of '{self.as_of}' is not a date", fix="use the form YYYY-MM-DD"
                ) from None
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**32
        ):
            raise ParameterError(
                f"--seed must be a whole number from 0 to {2**32 - 1}, not {self.seed}",
                fix="use e.g. --seed 0",
            )
        if self.lang not in ("en", "fr"):
            raise ParameterError(
                f"--lang '{self.lang}' is not supported", fix="use --lang en or --lang fr"
            )
        if self.figure_format not in ("png", "svg"):
            raise ParameterError(
                f"--figure-format '{self.figure_format}' is not supported", fix="use png or svg"
            )
        self.policy.validate()
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["policy"] = self.policy.to_dict()
        d["k_range"] = list(self.k_range)
        d["features"] = list(self.features)
        return d


@dataclass
class PipelineResult:
    """What a run computed. ``customers`` and ``summary`` are what gets written."""

    customers: pd.DataFrame
    summary: dict[str, Any]
    features: pd.DataFrame
    transformed: pd.DataFrame
    models: dict[str, Any]
    cleaning: CleaningResult


class _Timer:
    def __init__(self, progress: Progress | None):
        self.times: dict[str, float] = {}
        self.progress = progress
        self._start = time.perf_counter()

    def stage(self, name: str):
        timer = self

        class _Stage:
            def __enter__(self):
                if timer.progress:
                    timer.progress(name)
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.times[name] = round(time.perf_counter() - self.t0, 3)
                return False

        return _Stage()

    def total(self) -> float:
        return round(time.perf_counter() - self._start, 3)


SINGLE_THREAD_CUSTOMERS = 50_000


def _model_threads(n_customers: int):
    """Context: OpenMP and BLAS limited to one thread for small inputs, else unchanged."""
    import contextlib

    if n_customers >= SINGLE_THREAD_CUSTOMERS:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _scatter_sample(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Positions of at most ``size`` customers, every cluster represented, seeded."""
    n = len(labels)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keys = rng.random(n)
    order = np.lexsort((keys,))
    chosen = order[:size]
    # Make sure small clusters appear: add up to 20 of each cluster missing from the sample.
    extra = []
    present = set(labels[chosen].tolist())
    for lab in np.unique(labels):
        if lab not in present:
            extra.extend(np.flatnonzero(labels == lab)[:20].tolist())
    return np.sort(np.concatenate([chosen, np.asarray(extra, dtype=int)]).astype(int))


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.floating,)):
                v = float(v)
            elif isinstance(v, np.bool_):
                v = bool(v)
            row[str(k)] = v
        out.append(row)
    return out


def exact_customer_features(
    con: Any,
    snapshot: dt.date,
    *,
    net_returns: bool = False,
    clean: str = "clean_lines",
    returns: str = "return_lines",
) -> pd.DataFrame:
    """:func:`custseg.features.customer_features` with money and quantities summed exactly.

    DuckDB adds DOUBLE values in whatever order its threads meet the rows, so the
    last bits of a sum change with the row order of the input and, on inputs read
    in parallel (several parquet row groups, CSV), from one run to the next. Line
    totals and quantities are therefore rounded to :data:`EXACT_DECIMALS` decimals
    and summed as DECIMAL, which is exact: the same lines, in any order, give the
    same features bit for bit (and so the same segments, and customers who spent
    the same are tied exactly).
    """
    from custseg.engine import has_column
    from custseg.features import customer_features

    clean, returns = _exact_views(con, clean, returns)
    return customer_features(
        con,
        snapshot,
        net_returns=net_returns,
        clean=clean,
        returns=returns,
        customer_key=has_column(con, clean, S.CUSTOMER_KEY),
    )


def _exact_views(con: Any, *relations: str) -> tuple[str, ...]:
    """Views of ``relations`` with amount and quantity as DECIMAL; returns their names."""
    names = []
    for rel in relations:
        name = f"{rel}_exact"
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {name} AS SELECT * REPLACE (
                    CAST(round({S.AMOUNT}, {EXACT_DECIMALS}) AS DECIMAL(38, {EXACT_DECIMALS})) AS {S.AMOUNT},
                    CAST(round({S.QUANTITY}, {EXACT_DECIMALS}) AS DECIMAL(38, {EXACT_DECIMALS})) AS {S.QUANTITY})
                FROM {rel}"""
        )
        names.append(name)
    return tuple(names)


def run_pipeline(
    data: str | Path | pd.DataFrame,
    config: PipelineConfig | None = None,
    *,
    progress: Progress | None = None,
    renderer: Any = None,
) -> PipelineResult:
    """Run every stage on a transaction log.

    Parameters
    ----------
    data : path or DataFrame
        Transaction file (.xlsx, .csv, .parquet) or a DataFrame.
    config : PipelineConfig, optional
        Options; defaults match ``custseg run``.
    progress : callable, optional
        Called with the name of each stage as it starts.
    renderer : custseg.report.FigureWorker, optional
        A started figure worker: the figures of the report's data and
        preprocessing sections are sent to it as soon as their data are known,
        so that it draws them while the models are fitted (see
        :meth:`custseg.report.FigureWorker.prefetch`). The results are the same.

    Returns
    -------
    PipelineResult
    """
    # The SQL stages come first and need neither scikit-learn nor SciPy: the modelling
    # modules are imported when their stage starts (`custseg run` imports them
    # meanwhile in a background thread, while DuckDB works; see custseg.cli).
    from custseg.audit import audit
    from custseg.engine import connect, size_memory
    from custseg.features import FEATURE_DESCRIPTIONS, default_snapshot
    from custseg.load import load_transactions

    config = (config or PipelineConfig()).validate()
    timer = _Timer(progress)
    seed = config.seed

    with timer.stage("load"):
        con = connect(memory_limit=config.memory_limit)
        loaded = load_transactions(
            data, overrides=config.overrides, date_format=config.date_format, con=con
        )
        size_memory(con, config.memory_limit, loaded.rows)
    with timer.stage("audit"):
        report = audit(con, loaded.view)
    with timer.stage("clean"):
        snapshot = (
            dt.date.fromisoformat(config.as_of)
            if config.as_of
            else default_snapshot(con, loaded.view)
        )
        try:
            cleaning = apply_policy(
                con, config.policy, view=loaded.view, before=snapshot.isoformat()
            )
        except CustsegError as exc:
            raise exc.with_path(loaded.source) from exc
    with timer.stage("features"):
        features = exact_customer_features(
            con, snapshot, net_returns=config.policy.returns == "net"
        )
        n_customers = len(features)
        if cleaning.customers is None:  # streamed lines: not counted by apply_policy
            cleaning.customers = n_customers
        k_lo, k_hi = config.k_range
        if config.k != "auto" and int(config.k) > n_customers - 1:
            raise ParameterError(
                f"--k {config.k} needs at least {int(config.k) + 1} customers, the data has {n_customers}",
                path=loaded.source,
                fix=f"use --k {max(2, n_customers - 1)} or less",
            )
        if n_customers < MIN_CUSTOMERS:
            raise DataError(
                f"only {n_customers} customer(s) left after cleaning, and segmenting needs at "
                f"least {MIN_CUSTOMERS}",
                path=loaded.source,
                fix="check the input and the cleaning options; `custseg features` still "
                "writes the per-customer features",
            )
        from custseg.features import FeatureTransformer

        transformer = FeatureTransformer(columns=config.features, method=config.transform).fit(
            features
        )
        X = transformer.transform(features)
        # Customers with the same profile are one point to K-means: k cannot exceed them.
        n_distinct = len(np.unique(X.to_numpy(), axis=0))
        if n_distinct < 2:
            raise DataError(
                f"all {n_customers} customers have the same {', '.join(config.features)}: "
                "there is nothing to segment",
                path=loaded.source,
                fix="cluster on other features with --features, or check the input",
            )
        if config.k != "auto" and int(config.k) > n_distinct:
            raise ParameterError(
                f"--k {config.k} is more than the {n_distinct} distinct customer profiles "
                f"({n_customers} customers)",
                path=loaded.source,
                fix=f"use --k {n_distinct} or less",
            )
        k_hi = min(k_hi, n_customers - 1, n_distinct)
        k_lo = min(k_lo, k_hi)
    with timer.stage("distributions"):
        from custseg.distributions import compute_line_distributions, feature_histograms

        distributions = compute_line_distributions(con, "clean_lines_exact")
        feature_hist = feature_histograms(features, X, list(config.features))
    # The parts of the summary known before any model is fitted, computed once: the
    # report's first two sections are drawn from them, ahead by a second process when
    # there is one (while this one fits the models), and the summary holds them.
    early: dict[str, Any] = {
        "audit": report.to_dict(),
        "cleaning": {**cleaning.to_dict(), "snapshot": snapshot.isoformat()},
        "features": {"transform": transformer.describe()},
        "report_data": {
            "distributions": distributions.to_dict(),
            "feature_histograms": feature_hist.to_dict()
            if hasattr(feature_hist, "to_dict")
            else feature_hist,
        },
    }
    if renderer is not None:
        _draw_ahead(renderer, config, early)

    from custseg.agreement import adjusted_rand, crosstab
    from custseg.dbscan import tune_dbscan
    from custseg.kmeans import KMeansSegmenter
    from custseg.outliers import flag_outliers
    from custseg.profiles import name_clusters, segment_profiles
    from custseg.rfm import RFMSegmenter, segment_actions
    from custseg.selection import select_k

    forced = None if config.k == "auto" else int(config.k)
    order_by = S.MONETARY if S.MONETARY in config.features else None
    # scikit-learn's OpenMP threads cost more than they bring on small inputs, and far
    # more on a busy machine (9 fits on 4,334 customers: 3.7 s with one thread, 65 s
    # with two at load 8.7): one thread below SINGLE_THREAD_CUSTOMERS customers.
    with _model_threads(n_customers):
        with timer.stage("k selection"):
            # Beyond k_scan_sample_size customers, k is chosen on a seeded sample (the scan
            # fits K-means 9 times); the final model below is fitted on everyone.
            X_scan = X
            if len(X) > config.k_scan_sample_size:
                from custseg.kmeans import sample_indices

                X_scan = X.iloc[
                    np.sort(sample_indices(X.to_numpy(), config.k_scan_sample_size, seed))
                ]
            selection = select_k(
                X_scan,
                range(k_lo, k_hi + 1),
                forced_k=forced,
                min_clusters=min(config.min_clusters, k_hi),
                min_cluster_share=config.min_cluster_share,
                random_state=seed,
                silhouette_sample_size=config.silhouette_sample_size,
                order_by=order_by,
                minibatch_threshold=config.minibatch_threshold,
            )
        with timer.stage("kmeans"):
            # The scan already fitted the chosen k on everyone (same seed): reuse it.
            if selection.model is not None and len(X_scan) == len(X):
                km = selection.model
            else:
                km = KMeansSegmenter(
                    selection.k,
                    order_by=order_by,
                    random_state=seed,
                    minibatch_threshold=config.minibatch_threshold,
                ).fit(X)
            km_labels = pd.Series(km.labels_, index=features.index, name="kmeans_cluster")
        with timer.stage("dbscan"):
            # min_samples counts the point itself: it must stay below the number of customers.
            small = (
                {}
                if n_customers > max(DBSCAN_MIN_SAMPLES)
                else {
                    "min_samples_grid": sorted(
                        {max(2, min(m, n_customers - 1)) for m in DBSCAN_MIN_SAMPLES}
                    )
                }
            )
            tuning = tune_dbscan(
                X, sample_size=config.dbscan_sample_size, random_state=seed, **small
            )
            db = tuning.model if tuning.model is not None else tuning.segmenter().fit(X)
            db_labels = pd.Series(db.labels_, index=features.index, name="dbscan_cluster")
    with timer.stage("rfm"):
        rfm_model = RFMSegmenter().fit(features)
        rfm = rfm_model.predict(features)
    with timer.stage("profiles"):
        km_prof = segment_profiles(features, km_labels)
        names = name_clusters(km_prof, features)
        db_prof = segment_profiles(features, db_labels)
        rfm_prof = segment_profiles(features, rfm["rfm_segment"])
        outliers = flag_outliers(X, km_labels)
        ari = adjusted_rand({"kmeans": km_labels, "dbscan": db_labels, "rfm": rfm["rfm_segment"]})
        xt = crosstab(km_labels, rfm["rfm_segment"])
        xt_db = crosstab(km_labels, db_labels)

    with timer.stage("assemble"):
        name_of = dict(zip(names["segment"], names["name"], strict=True))
        customers = features.copy()
        customers["kmeans_cluster"] = km_labels
        customers["kmeans_label"] = km_labels.map(name_of)
        customers["dbscan_cluster"] = db_labels
        customers["rfm_score"] = rfm["rfm_score"]
        customers["rfm_segment"] = rfm["rfm_segment_name"]
        customers["is_outlier"] = outliers["is_outlier"].astype(bool)
        customers["outlier_reason"] = outliers["outlier_reason"].fillna("")
        customers = customers[list(CUSTOMER_COLUMNS)]

        # Data for the figures, so that `custseg report DIR` redraws without recomputing.
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(2, X.shape[1]), random_state=seed).fit(X.to_numpy())
        pos = _scatter_sample(km_labels.to_numpy(), SCATTER_SAMPLE, seed)
        proj = pca.transform(X.to_numpy()[pos])
        scatter = pd.DataFrame(
            {
                "customer_id": features.index[pos],
                "recency": features[S.RECENCY].to_numpy()[pos],
                "frequency": features[S.FREQUENCY].to_numpy()[pos],
                "monetary": features[S.MONETARY].to_numpy()[pos],
                "pc1": proj[:, 0],
                "pc2": proj[:, 1] if proj.shape[1] > 1 else 0.0,
                "kmeans_cluster": km_labels.to_numpy()[pos],
                "rfm_segment": rfm["rfm_segment"].to_numpy()[pos],
                "dbscan_cluster": db_labels.to_numpy()[pos],
                "is_outlier": outliers["is_outlier"].to_numpy()[pos].astype(bool),
            }
        )
        std_means = X.groupby(km_labels).mean()
        km_prof = km_prof.merge(names, on="segment", how="left")
        rfm_actions = segment_actions(rfm_model.rules_)
        rfm_prof = rfm_prof.merge(
            rfm_actions.rename(columns={"key": "segment"}), on="segment", how="left"
        )
        flagged = customers[customers["is_outlier"]].join(
            outliers[["outlier_score", "outlier_feature", "outlier_direction"]]
        )
        flagged = flagged.sort_values(["kmeans_cluster", "outlier_score"], ascending=[True, False])
        box = {}
        for method, labels in (("kmeans", km_labels), ("rfm", rfm["rfm_segment"])):
            stats = {}
            for col in (S.MONETARY, S.FREQUENCY, S.RECENCY):
                g = features[col].groupby(labels)
                q1, q2, q3 = g.quantile(0.25), g.median(), g.quantile(0.75)
                iqr = q3 - q1
                lo_w = pd.concat([g.min(), q1 - 1.5 * iqr], axis=1).max(axis=1)
                hi_w = pd.concat([g.max(), q3 + 1.5 * iqr], axis=1).min(axis=1)
                stats[col] = [
                    {
                        "segment": seg,
                        "q1": float(q1[seg]),
                        "median": float(q2[seg]),
                        "q3": float(q3[seg]),
                        "whislo": float(lo_w[seg]),
                        "whishi": float(hi_w[seg]),
                        "fliers": np.sort(
                            features[col][labels == seg]
                            .pipe(lambda s, a=lo_w[seg], b=hi_w[seg]: s[(s < a) | (s > b)])
                            .to_numpy()
                        )[-30:].tolist(),
                    }
                    for seg in q1.index
                ]
            box[method] = stats

        summary: dict[str, Any] = {
            "custseg_version": __version__,
            "created": None,  # set by the writer (kept out of the pure computation)
            "config": config.to_dict(),
            "input": loaded.to_dict(),
            "audit": early["audit"],
            "cleaning": early["cleaning"],
            "features": {
                "snapshot_date": snapshot.isoformat(),
                "customers": int(n_customers),
                "descriptions": FEATURE_DESCRIPTIONS,
                "transform": early["features"]["transform"],
                "summary": _records(features.describe().T.reset_index(names="feature")),
            },
            "kmeans": {
                **selection.to_dict(),
                "chosen_k": int(selection.k),
                "algorithm": getattr(km, "algorithm_used_", "KMeans"),
                "minibatch_threshold": int(config.minibatch_threshold),
                "scan_sampled": bool(len(X_scan) < len(X)),
                "scan_sample_size": int(len(X_scan)),
                "centers_standardised": _records(std_means.reset_index(names="segment")),
                "sizes": {int(k): int(v) for k, v in km_labels.value_counts().sort_index().items()},
            },
            "dbscan": {
                **tuning.to_dict(),
                "sampled_fit": bool(getattr(db, "sampled_", False)),
                "sizes": {int(k): int(v) for k, v in db_labels.value_counts().sort_index().items()},
            },
            "rfm": {
                "edges": {
                    "recency": rfm_model.recency_edges_.tolist(),
                    "frequency": rfm_model.frequency_edges_.tolist(),
                    "monetary": rfm_model.monetary_edges_.tolist(),
                },
                "rules": [asdict(r) for r in rfm_model.rules_],
                "cells": _records(
                    rfm.groupby(["r_score", "fm_score", "rfm_segment"])
                    .size()
                    .rename("customers")
                    .reset_index()
                ),
            },
            "profiles": {
                "kmeans": _records(km_prof),
                "dbscan": _records(db_prof),
                "rfm": _records(rfm_prof),
            },
            "outliers": {
                "rule": "per K-means cluster and feature, robust z = (x - cluster median) / (1.4826 x cluster MAD) "
                "on the standardised clustering features; atypical when max |z| > 3.5 (Iglewicz & Hoaglin); "
                "the reason names the feature with the largest |z|",
                "count": int(customers["is_outlier"].sum()),
                "by_cluster": {
                    int(k): int(v)
                    for k, v in customers.groupby("kmeans_cluster")["is_outlier"].sum().items()
                },
                "customers": _records(flagged.reset_index().head(200)),
            },
            "agreement": {
                "ari": _records(ari),
                "kmeans_vs_rfm": {
                    "index": [int(i) for i in xt.index],
                    "columns": [str(c) for c in xt.columns],
                    "counts": xt.to_numpy().tolist(),
                },
                "kmeans_vs_dbscan": {
                    "index": [int(i) for i in xt_db.index],
                    "columns": [int(c) for c in xt_db.columns],
                    "counts": xt_db.to_numpy().tolist(),
                },
            },
            "report_data": {
                **early["report_data"],
                "silhouette_diagram": {
                    "cluster": selection.diagram["cluster"].astype(int).tolist(),
                    "silhouette": selection.diagram["silhouette"].astype(float).round(5).tolist(),
                },
                "k_distance": {
                    "k": int(tuning.k_distance_k),
                    "curve": _thin(tuning.k_distance),
                    "n": int(len(tuning.k_distance)),
                    "knee_index": int(tuning.knee_index),
                    "knee_eps": float(tuning.knee_eps),
                },
                "scatter": {c: scatter[c].tolist() for c in scatter.columns},
                "pca_explained": pca.explained_variance_ratio_.tolist(),
                "boxplots": box,
                "dbscan_layering": _layering_facts(X, db_labels, pos),
            },
            "environment": _environment(),
        }
    summary["timings"] = {**timer.times, "total": timer.total()}
    return PipelineResult(
        customers=customers,
        summary=summary,
        features=features,
        transformed=X,
        models={
            "transformer": transformer,
            "kmeans": km,
            "dbscan": db,
            "rfm": rfm_model,
            "selection": selection,
            "dbscan_tuning": tuning,
        },
        cleaning=cleaning,
    )


def _layering_facts(X: pd.DataFrame, labels: pd.Series, pos: np.ndarray) -> dict | None:
    """Does DBSCAN's split follow one discrete feature? (on the scatter sample, for the report).

    The structured form of the "clusters follow the discrete values of ..."
    part of ``DBSCANTuning.interpretation``, so the report can say it in any
    language: ``{"feature", "purity", "single": [[cluster, "lowest"|...], ...]}``
    or None.
    """
    from custseg.dbscan import _layering

    found = _layering(X.to_numpy()[pos], labels.to_numpy()[pos], [str(c) for c in X.columns])
    if found is None:
        return None
    feature, purity, single = found
    return {
        "feature": feature,
        "purity": float(purity),
        "single": [[int(c), str(w)] for c, w in single],
        "customers": int(len(pos)),
    }


def _thin(curve: np.ndarray, points: int = 800) -> list[list[float]]:
    """(position, value) pairs of a sorted curve, at most ``points`` of them."""
    n = len(curve)
    pos = (
        np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(int))
        if n
        else np.array([], dtype=int)
    )
    return [[int(p), round(float(curve[p]), 5)] for p in pos]


def _environment() -> dict:
    import duckdb
    import sklearn

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _draw_ahead(renderer: Any, config: PipelineConfig, part: dict[str, Any]) -> None:
    """Send the early report figures of ``part`` (a partial summary) to ``renderer``.

    Never fails the run: a figure that cannot be drawn ahead is drawn with the report.
    """
    if not config.report:
        return
    try:
        from custseg.i18n import Translator
        from custseg.report_builder import early_figure_jobs

        jobs = early_figure_jobs(part, Translator(config.lang), fmt=config.figure_format)
        renderer.prefetch(jobs)
    except Exception:  # the report stage draws them instead, and reports any error
        log.debug("figures not drawn ahead", exc_info=True)


def run_and_write(
    data: str | Path | pd.DataFrame,
    out: Path,
    config: PipelineConfig | None = None,
    *,
    progress: Progress | None = None,
    renderer: Any = None,
) -> PipelineResult:
    """Run the pipeline and write customers.csv, summary.json, report.html and figures/ into ``out``.

    Outputs are staged and moved into place only when all are complete.
    ``renderer``: a started :class:`custseg.report.FigureWorker` that draws part of
    the report's figures in a second process (start it before calling this, so that
    its start-up overlaps the computation).
    """
    from custseg.output import (
        check_writable,
        dumps_json,
        staged_output,
        write_customers_csv,
        write_text,
    )

    config = (config or PipelineConfig()).validate()
    check_writable(Path(out))
    result = run_pipeline(data, config, progress=progress, renderer=renderer)
    summary = result.summary
    summary["created"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with staged_output(Path(out)) as stage:
        if progress:
            progress("write")
        write_customers_csv(result.customers, stage / "customers.csv")
        if config.report:
            if progress:
                progress("report")
            from custseg.report import write_report

            t0 = time.perf_counter()
            write_report(
                summary,
                stage,
                lang=config.lang,
                figure_format=config.figure_format,
                renderer=renderer,
            )
            summary["timings"]["report"] = round(time.perf_counter() - t0, 3)
        write_text(dumps_json(summary), stage / "summary.json")
    return result


def rebuild_report(
    directory: Path, *, lang: str = "en", figure_format: str = "png", renderer: Any = None
) -> float:
    """Rebuild report.html and figures/ of a previous run from its summary.json.

    ``renderer``: a started :class:`custseg.report.FigureWorker` drawing a share of
    the figures. Returns the seconds it took.
    """
    import json

    from custseg.errors import InputFileError
    from custseg.output import staged_output
    from custseg.report import write_report

    directory = Path(directory)
    path = directory / "summary.json"
    if not path.exists():
        raise InputFileError(
            "no summary.json here",
            path=directory,
            fix="give the --out folder of a previous `custseg run`",
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(
            f"summary.json cannot be read ({exc})", path=path, fix="run `custseg run` again"
        ) from exc
    if "report_data" not in summary:
        raise InputFileError(
            "summary.json holds no report data",
            path=path,
            fix="run `custseg run` again with this version",
        )
    t0 = time.perf_counter()
    with staged_output(directory) as stage:
        write_report(summary, stage, lang=lang, figure_format=figure_format, renderer=renderer)
    return time.perf_counter() - t0


def write_features(
    data: str | Path,
    out: Path,
    *,
    policy: CleaningPolicy | None = None,
    as_of: str | None = None,
    overrides: dict | None = None,
    date_format: str | None = None,
    memory_limit: str | None = "auto",
    columns: Sequence[str] | None = None,
) -> int:
    """Compute the per-customer feature table and write it to a parquet file (atomically).

    ``columns``: the feature columns to write, in this order (default: all of
    :data:`custseg.schema.FEATURE_COLUMNS`); only their aggregates are computed
    (see :func:`custseg.features.customer_features_sql`).

    Returns the number of customers written.
    """
    import os
    import tempfile

    from custseg.engine import connect, has_column, quote_literal, size_memory
    from custseg.errors import OutputError
    from custseg.features import customer_features_sql, default_snapshot, feature_columns
    from custseg.load import load_transactions
    from custseg.output import check_writable

    policy = (policy or CleaningPolicy()).validate()
    wanted = feature_columns(columns)
    out = Path(out)
    if out.is_dir():
        raise OutputError(
            "is a folder", path=out, fix="name the parquet file to write, e.g. features.parquet"
        )
    check_writable(out.parent if str(out.parent) else Path("."))
    if as_of is not None:
        try:
            dt.date.fromisoformat(as_of)
        except ValueError:
            raise ParameterError(
                f"--as-of '{as_of}' is not a date", fix="use the form YYYY-MM-DD"
            ) from None
    con = connect(memory_limit=memory_limit)
    loaded = load_transactions(data, overrides=overrides, date_format=date_format, con=con)
    size_memory(con, memory_limit, loaded.rows)
    snapshot = dt.date.fromisoformat(as_of) if as_of else default_snapshot(con, loaded.view)
    try:
        # Streamed, and nothing counted: the feature table is the only query that follows.
        apply_policy(con, policy, view=loaded.view, before=snapshot.isoformat(), count=False)
    except CustsegError as exc:
        raise exc.with_path(loaded.source) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".custseg-", suffix=".parquet", dir=out.parent)
    os.close(fd)
    try:
        clean, returns = _exact_views(con, "clean_lines", "return_lines")
        sql = customer_features_sql(
            snapshot,
            net_returns=policy.returns == "net",
            clean=clean,
            returns=returns,
            customer_key=has_column(con, clean, S.CUSTOMER_KEY),
            columns=wanted,
        )
        if S.MONETARY in wanted:
            sql = f"SELECT * REPLACE (CAST({S.MONETARY} AS DOUBLE) AS {S.MONETARY}) FROM ({sql})"
        con.execute(f"COPY ({sql}) TO {quote_literal(tmp)} (FORMAT parquet, COMPRESSION zstd)")
        n = con.execute(f"SELECT count(*) FROM read_parquet({quote_literal(tmp)})").fetchone()[0]
        if n == 0:
            # No customer left: counting the rows each rule removed raises the error
            # that says why (DataError, "no line is left after cleaning (...)").
            try:
                apply_policy(con, policy, view=loaded.view, before=snapshot.isoformat())
            except CustsegError as exc:
                raise exc.with_path(loaded.source) from exc
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return int(n)


__all__ = [
    "CUSTOMER_COLUMNS",
    "CustsegError",
    "PipelineConfig",
    "PipelineResult",
    "exact_customer_features",
    "parse_k",
    "rebuild_report",
    "run_and_write",
    "run_pipeline",
    "write_features",
]
