"""The whole pipeline: real dataset figures, and a plain customer/date/amount file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from custseg.cli import main
from custseg.pipeline import CUSTOMER_COLUMNS, PipelineConfig, run_pipeline


@pytest.fixture(scope="module")
def real_run(real_path):
    return run_pipeline(real_path, PipelineConfig(report=False))


def test_real_run_counts(real_run):
    s = real_run.summary
    assert s["cleaning"]["rows_kept"] == 391_150
    assert s["cleaning"]["customers"] == 4_334
    assert s["features"]["snapshot_date"] == "2011-12-10"
    assert len(real_run.customers) == 4_334
    assert list(real_run.customers.columns) == list(CUSTOMER_COLUMNS)


def test_real_run_k_choice_is_useful_and_explained(real_run):
    km = real_run.summary["kmeans"]
    table = pd.DataFrame(km["table"]).set_index("k")
    # The silhouette alone would say k=2; the rule asks for at least 3 useful segments.
    assert table["silhouette"].idxmax() == 2
    assert km["chosen_k"] >= 3
    assert table.loc[km["chosen_k"], "min_cluster_share"] >= 0.02
    assert str(km["chosen_k"]) in km["reason"]
    assert km["knee"] is not None
    assert len(km["runners_up"]) == len(table) - 1


def test_real_run_clusters_are_canonical(real_run):
    c = real_run.customers
    means = c.groupby("kmeans_cluster")["monetary"].mean()
    # Cluster 0 is the highest spender (canonical numbering).
    assert means.idxmax() == 0
    sizes = real_run.summary["kmeans"]["sizes"]
    assert sum(sizes.values()) == 4_334
    assert c["kmeans_label"].nunique() == real_run.summary["kmeans"]["chosen_k"]


def test_real_run_rfm_and_agreement(real_run):
    c = real_run.customers
    assert c["rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    assert c["rfm_segment"].nunique() == 11
    ari = pd.DataFrame(real_run.summary["agreement"]["ari"])
    assert len(ari) == 3
    assert ari["ari"].between(-1, 1).all()
    xt = real_run.summary["agreement"]["kmeans_vs_rfm"]
    assert np.asarray(xt["counts"]).sum() == 4_334


def test_real_run_dbscan_is_honest(real_run):
    db = real_run.summary["dbscan"]
    assert db["eps"] > 0
    assert 0 <= db["noise_share"] <= 0.10
    assert db["interpretation"]
    assert sum(db["sizes"].values()) == 4_334


def test_real_run_outliers_have_reasons(real_run):
    c = real_run.customers
    flagged = c[c["is_outlier"]]
    assert 0 < len(flagged) < 0.1 * len(c)
    assert (flagged["outlier_reason"].str.len() > 0).all()
    assert (c.loc[~c["is_outlier"], "outlier_reason"] == "").all()
    # The customer who ordered 74,215 jars stands out on spend.
    assert "monetary" in c.loc["12346", "outlier_reason"]


def test_cli_on_plain_customer_date_amount_file(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = []
    for i in range(60):
        cust = f"C{i:03d}"
        n = 1 + i % 4
        for j in range(n):
            rows.append(
                (
                    cust,
                    f"2024-0{1 + j}-1{i % 9} 10:00:00",
                    round(float(rng.uniform(5, 50)) * (1 + i % 3), 2),
                )
            )
    df = pd.DataFrame(rows, columns=["client", "when", "spend"])
    src = tmp_path / "plain.csv"
    df.to_csv(src, index=False, sep=";")
    out = tmp_path / "out"
    rc = main(
        [
            "--quiet",
            "run",
            "--input",
            str(src),
            "--out",
            str(out),
            "--no-report",
            "--customer-col",
            "client",
            "--date-col",
            "when",
            "--amount-col",
            "spend",
            "--k",
            "3",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str}).set_index(
        "customer_id"
    )
    assert len(customers) == 60
    expected = df.groupby("client")["spend"].sum()
    assert np.allclose(customers.loc[expected.index, "monetary"], expected, rtol=1e-5)
    # No invoice column: each distinct (customer, date-time) is one order.
    assert (
        customers["frequency"] == df.groupby("client")["when"].nunique().loc[customers.index]
    ).all()
    assert customers["kmeans_cluster"].nunique() == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kmeans"]["chosen_k"] == 3
    assert summary["input"]["mapping"]["amount"] == "spend"


def test_cli_online_retail_ii_layout(real_ii_path, tmp_path):
    out = tmp_path / "o"
    rc = main(["--quiet", "run", "--input", str(real_ii_path), "--out", str(out), "--no-report"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["layout"] == "UCI Online Retail II"
    assert summary["audit"]["rows"] == 525_461
    assert summary["audit"]["customers"] == 4_383


def test_readme_python_api_example_runs(real_path):
    import re

    from tests_support import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Python API\n\n```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(code.replace('"online_retail.parquet"', repr(str(real_path))), namespace)
    assert namespace["k"] == 5
    assert len(namespace["features"]) == 4_334
    assert namespace["names"]["name"].tolist()[0] == "VIP champions"
    assert namespace["rfm"]["rfm_segment"].nunique() == 11
