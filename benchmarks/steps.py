"""One measured step, run in a fresh process by ``benchmarks/run.py``.

Usage: ``python benchmarks/steps.py TOOL STEP INPUT WORKDIR``. TOOL is ``custseg``
or ``pandas``; STEP one of :data:`STEPS`. The step prints one JSON line on
stdout: ``{"seconds": <wall time of the step itself>, "rss_before_mb": ...,
"detail": {...}}``. The parent reads the process's peak RSS from ``os.wait4``,
so imports and prerequisites (reading the feature table a previous step wrote
into WORKDIR) are included in the peak, as a user running that step pays them.

Steps whose prerequisites are another step's output read them from WORKDIR:
``features`` writes ``WORKDIR/<tool>_features.parquet``, used by ``kselect`` and
``cluster``; ``pipeline`` writes ``WORKDIR/custseg_out/``, used by ``report``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

STEPS = (
    "load",
    "audit",
    "features",
    "features_rfm",
    "kselect",
    "cluster",
    "pipeline",
    "report",
    "run",
)
RFM_COLUMNS = ("recency", "frequency", "monetary")
"""``features_rfm``: the feature table with the pandas way's three columns only."""
K_VALUES = range(2, 11)
SEED = 0


def _rss_mb() -> float:
    """Current resident set size (MB)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


# --------------------------------------------------------------------------- custseg


def custseg_step(step: str, path: Path, work: Path) -> dict:
    """Run one custseg step; return its wall time and details."""
    from custseg import schema as S
    from custseg.pipeline import PipelineConfig

    cfg = PipelineConfig()
    features_file = work / "custseg_features.parquet"
    if step == "load":
        from custseg.load import load_transactions

        t0 = time.perf_counter()
        loaded = load_transactions(path)
        n = loaded.con.execute(f"SELECT count(*) FROM {loaded.view}").fetchone()[0]
        return {"seconds": time.perf_counter() - t0, "detail": {"rows": int(n)}}
    if step == "audit":
        from custseg.audit import audit
        from custseg.load import load_transactions

        loaded = load_transactions(path)
        t0 = time.perf_counter()
        rep = audit(loaded.con, loaded.view)
        return {
            "seconds": time.perf_counter() - t0,
            "detail": {"rows": rep.rows, "customers": rep.customers},
        }
    if step in ("features", "features_rfm"):
        from custseg.pipeline import write_features

        t0 = time.perf_counter()
        # CUSTSEG_MEMORY_LIMIT: the value of --memory-limit (1B lines need about 10GB).
        limit = os.environ.get("CUSTSEG_MEMORY_LIMIT") or cfg.memory_limit
        # features: all eight columns; features_rfm: the pandas way's three (R, F, M),
        # as `custseg features --columns recency,frequency,monetary` writes them.
        columns = RFM_COLUMNS if step == "features_rfm" else None
        out = features_file if step == "features" else work / "custseg_rfm.parquet"
        n = write_features(path, out, memory_limit=limit, columns=columns)
        return {"seconds": time.perf_counter() - t0, "detail": {"customers": int(n)}}
    if step in ("kselect", "cluster"):
        import pandas as pd

        from custseg.features import FeatureTransformer

        feats = pd.read_parquet(features_file).set_index(S.CUSTOMER_ID)
        X = FeatureTransformer(columns=cfg.features, method=cfg.transform).fit_transform(feats)
        t0 = time.perf_counter()
        if step == "kselect":
            from custseg.selection import select_k

            sel = select_k(
                X,
                K_VALUES,
                min_clusters=cfg.min_clusters,
                min_cluster_share=cfg.min_cluster_share,
                random_state=SEED,
                silhouette_sample_size=cfg.silhouette_sample_size,
                minibatch_threshold=cfg.minibatch_threshold,
            )
            return {
                "seconds": time.perf_counter() - t0,
                "detail": {"customers": len(X), "k": int(sel.k)},
            }
        from custseg.dbscan import tune_dbscan
        from custseg.kmeans import KMeansSegmenter

        km = KMeansSegmenter(4, random_state=SEED, minibatch_threshold=cfg.minibatch_threshold).fit(
            X
        )
        tuning = tune_dbscan(X, sample_size=cfg.dbscan_sample_size, random_state=SEED)
        db = tuning.segmenter().fit(X)
        return {
            "seconds": time.perf_counter() - t0,
            "detail": {
                "customers": len(X),
                "kmeans": getattr(km, "algorithm_used_", "KMeans"),
                "dbscan_sampled": bool(getattr(db, "sampled_", False)),
            },
        }
    if step == "pipeline":
        from custseg.pipeline import run_and_write

        report = "--no-report" not in sys.argv
        t0 = time.perf_counter()
        res = run_and_write(
            path, work / "custseg_out", PipelineConfig(report=report, memory_limit="3GB")
        )
        return {
            "seconds": time.perf_counter() - t0,
            "detail": {
                "customers": len(res.customers),
                "k": int(res.summary["kmeans"]["chosen_k"]),
                "timings": res.summary["timings"],
            },
        }
    if step == "report":
        # The command a user types, from a cold process: imports and the figure worker's
        # start-up included (the time of the whole child process).
        t0 = time.perf_counter()
        _custseg_command("report", str(work / "custseg_out"))
        return {"seconds": time.perf_counter() - t0, "detail": {"command": "custseg report"}}
    if step == "run":
        # `custseg run` as a user types it: interpreter start-up, imports, the pipeline,
        # the report (with its second drawing process) and the exit, all included.
        out = work / "custseg_run"
        t0 = time.perf_counter()
        _custseg_command("run", "--input", str(path), "--out", str(out))
        seconds = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text())
        return {
            "seconds": seconds,
            "detail": {
                "command": "custseg run",
                "customers": summary["cleaning"]["customers"],
                "k": int(summary["kmeans"]["chosen_k"]),
                "timings": summary["timings"],
            },
        }
    raise SystemExit(f"unknown step {step}")


def _custseg_command(*args: str) -> None:
    """Run the ``custseg`` command (``python -m custseg.cli``) in a child process."""
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "custseg.cli", "--quiet", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- the pandas way


def _pandas_read(path: Path):
    import pandas as pd

    xlsx = path.suffix == ".xlsx"
    df = pd.read_excel(path, engine="openpyxl") if xlsx else pd.read_parquet(path)
    if "Customer ID" in df.columns:  # Online Retail II
        df = df.rename(
            columns={"Customer ID": "CustomerID", "Invoice": "InvoiceNo", "Price": "UnitPrice"}
        )
    return df


def _pandas_rfm(df):
    """What tutorials write: drop missing ids, cancellations, non-positive lines, duplicates."""
    import pandas as pd

    df = df.dropna(subset=["CustomerID"])
    df = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df = df.drop_duplicates()
    df["TotalPrice"] = df["Quantity"] * df["UnitPrice"]
    snapshot = df["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        Recency=("InvoiceDate", lambda d: (snapshot - d.max()).days),
        Frequency=("InvoiceNo", "nunique"),
        Monetary=("TotalPrice", "sum"),
    )
    return rfm


def _pandas_scaled(rfm):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(np.log1p(rfm.clip(lower=0)))


PANDAS_BYTES_PER_LINE = 300  # peak RSS of the pandas way's features: 2.66 GB for 10M lines


def _too_big_for_pandas(path: Path) -> str | None:
    """Why the pandas way must not be run on ``path`` (it would exhaust memory), or None.

    Running it anyway would invoke the kernel's OOM killer on a shared machine.
    """
    if path.suffix != ".parquet":
        return None
    import psutil
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    need = rows * PANDAS_BYTES_PER_LINE
    avail = psutil.virtual_memory().available
    if need > 0.8 * avail:
        return (
            f"not run: {rows:,} lines would need about {need / 2**30:.0f} GB "
            f"({PANDAS_BYTES_PER_LINE} bytes a line, measured at 10M), "
            f"{avail / 2**30:.0f} GB available"
        )
    return None


def pandas_step(step: str, path: Path, work: Path) -> dict:
    """Run one step the way tutorials write it; return its wall time and details."""
    import pandas as pd

    if step in ("load", "audit", "features", "features_rfm", "pipeline"):
        reason = _too_big_for_pandas(path)
        if reason:
            return {"seconds": None, "detail": {"skipped": reason}}
    features_file = work / "pandas_features.parquet"
    if step == "load":
        t0 = time.perf_counter()
        df = _pandas_read(path)
        return {"seconds": time.perf_counter() - t0, "detail": {"rows": len(df)}}
    if step == "audit":
        df = _pandas_read(path)
        t0 = time.perf_counter()
        missing = df.isnull().sum()
        dups = int(df.duplicated().sum())
        desc = df.describe()
        cancels = int(df["InvoiceNo"].astype(str).str.startswith("C").sum())
        neg = int((df["Quantity"] < 0).sum())
        zero = int((df["UnitPrice"] == 0).sum())
        customers = int(df["CustomerID"].nunique())
        return {
            "seconds": time.perf_counter() - t0,
            "detail": {
                "rows": len(df),
                "customers": customers,
                "duplicates": dups,
                "cancellation_lines": cancels,
                "negative_quantity": neg,
                "zero_price": zero,
                "missing_customer": int(missing["CustomerID"]),
                "described": list(desc.columns),
            },
        }
    if step in ("features", "features_rfm"):  # the pandas way computes R, F, M only
        t0 = time.perf_counter()
        rfm = _pandas_rfm(_pandas_read(path))
        rfm.to_parquet(features_file)
        return {"seconds": time.perf_counter() - t0, "detail": {"customers": len(rfm)}}
    if step in ("kselect", "cluster"):
        from sklearn.cluster import DBSCAN, KMeans
        from sklearn.metrics import silhouette_score

        X = _pandas_scaled(pd.read_parquet(features_file))
        t0 = time.perf_counter()
        if step == "kselect":
            inertia, sil = {}, {}
            for k in K_VALUES:
                km = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(X)
                inertia[k] = float(km.inertia_)
                sil[k] = float(silhouette_score(X, km.labels_))
            best = max(sil, key=sil.get)
            return {
                "seconds": time.perf_counter() - t0,
                "detail": {"customers": len(X), "k_best_silhouette": best},
            }
        labels = KMeans(n_clusters=4, n_init=10, random_state=SEED).fit_predict(X)
        db = DBSCAN(eps=0.5, min_samples=5).fit(X)
        return {
            "seconds": time.perf_counter() - t0,
            "detail": {
                "customers": len(X),
                "kmeans_sizes": [int(v) for v in pd.Series(labels).value_counts().sort_index()],
                "dbscan_clusters": len(set(db.labels_.tolist()) - {-1}),
            },
        }
    if step == "pipeline":
        from sklearn.cluster import DBSCAN, KMeans
        from sklearn.metrics import silhouette_score

        t0 = time.perf_counter()
        rfm = _pandas_rfm(_pandas_read(path))
        X = _pandas_scaled(rfm)
        sil = {}
        for k in K_VALUES:
            km = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(X)
            sil[k] = float(silhouette_score(X, km.labels_))
        best = max(sil, key=sil.get)
        KMeans(n_clusters=best, n_init=10, random_state=SEED).fit(X)
        DBSCAN(eps=0.5, min_samples=5).fit(X)
        return {"seconds": time.perf_counter() - t0, "detail": {"customers": len(rfm), "k": best}}
    raise SystemExit(f"step {step} has no pandas-way equivalent")


def main(argv: list[str]) -> None:
    tool, step, path, work = argv[:4]
    before = _rss_mb()
    fn = custseg_step if tool == "custseg" else pandas_step
    out = fn(step, Path(path), Path(work))
    out["rss_before_mb"] = round(before, 1)
    sys.stdout.write(json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
