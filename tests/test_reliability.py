"""Reliability: oddities that are not errors, nothing lost, runs that reproduce.

* one end-to-end case per oddity of the issue (ids spelt three ways, Excel serial
  dates, day-first / month-first / ambiguous text dates, time zones, non-ASCII
  text, repeated header rows, stray whitespace, a single customer, every
  purchase on one day, identical customers), each checked on values known by
  construction;
* nothing lost: a failed, interrupted or killed run leaves the previous outputs
  byte for byte, and no staging folder behind;
* reproducible: same input and seed give the same bytes, and shuffling the
  input's rows changes nothing; money is summed exactly (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests_support import UCI_COLUMNS

import custseg.output
from custseg.cleaning import CleaningPolicy, apply_policy
from custseg.cli import main
from custseg.features import customer_features, default_snapshot
from custseg.load import load_transactions
from custseg.pipeline import exact_customer_features

COLUMNS = list(UCI_COLUMNS)
PRICES = np.array([0.42, 0.85, 1.25, 1.65, 2.55, 3.75, 4.95, 12.75])
LAST_DAY = dt.datetime(2011, 12, 9, 12, 0)


def planted(n_customers: int = 24, seed: int = 0, start: int = 12346) -> pd.DataFrame:
    """Three kinds of customers (one-off, occasional, loyal), in Online Retail layout.

    Customer ``start + i`` is of kind ``i % 3``; the last purchase of all is on
    ``LAST_DAY`` (so the snapshot date is 2011-12-10). A few cancellations and
    postage lines come with the purchases.
    """
    rng = np.random.default_rng(seed)
    rows = []
    inv = 536365
    for i in range(n_customers):
        kind = i % 3
        n_orders = (1, 4, 15)[kind]
        for _ in range(n_orders):
            inv += 1
            day = int(rng.integers(0, 340)) if kind < 2 else int(rng.integers(250, 340))
            t = dt.datetime(2011, 1, 3, 9, 0) + dt.timedelta(
                days=day, minutes=int(rng.integers(0, 480))
            )
            t = min(t, LAST_DAY)
            for j in range(int(rng.integers(1, 6))):
                code = f"{20000 + int(rng.integers(0, 60)) * 10 + j}"
                qty = int(rng.integers(1, 25)) * (1 + 3 * (kind == 2))
                price = float(rng.choice(PRICES))
                rows.append((str(inv), code, "ITEM", qty, t, price, float(start + i), "France"))
            if rng.random() < 0.1:
                rows.append((str(inv), "POST", "POSTAGE", 1, t, 18.0, float(start + i), "France"))
        if kind == 1:
            rows.append((f"C{inv}", code, "ITEM", -1, t, price, float(start + i), "France"))
    rows.append(("599999", "23084", "LAST", 1, LAST_DAY, 2.08, float(start), "France"))
    return pd.DataFrame(rows, columns=COLUMNS)


def run(args: list[str]) -> int:
    """``custseg --quiet run --no-report ARGS``; k is scanned over 2..3 unless ARGS say otherwise."""
    args = [str(a) for a in args]
    if "--k-max" not in args and "--k" not in args:
        args += ["--k-max", "3"]
    return main(["--quiet", "run", "--no-report", *args])


def read_customers(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "customers.csv", dtype={"customer_id": str}).set_index("customer_id")


def read_summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def snapshot_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".custseg")]


# --------------------------------------------------------------------------- oddities


def test_oddity_customer_id_written_three_ways(tmp_path, capsys):
    df = planted(12).astype({"CustomerID": object})
    mine = df.index[df["CustomerID"] == 12348.0]  # a loyal customer: 15 orders
    spellings = [17850, 17850.0, "17850", " 17850 "]
    df.loc[mine, "CustomerID"] = [spellings[k % 4] for k in range(len(mine))]
    df.to_csv(tmp_path / "ids.csv", index=False)
    assert run(["-i", tmp_path / "ids.csv", "-o", tmp_path / "out"]) == 0, capsys.readouterr().err
    customers = read_customers(tmp_path / "out")
    assert "17850" in customers.index and "17850.0" not in customers.index
    assert len(customers) == 12
    kept = df.loc[mine]
    kept = kept[kept["StockCode"] != "POST"]
    assert customers.loc["17850", "frequency"] == kept["InvoiceNo"].nunique() == 15
    spend = sum(
        Decimal(str(q)) * Decimal(str(p))
        for q, p in zip(kept.Quantity, kept.UnitPrice, strict=True)
    )
    assert customers.loc["17850", "monetary"] == pytest.approx(float(spend), rel=1e-6)


def test_oddity_excel_serial_dates(tmp_path, capsys):
    df = planted(12)
    df["InvoiceDate"] = (df["InvoiceDate"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    df.to_parquet(tmp_path / "serial.parquet")
    assert run(["-i", tmp_path / "serial.parquet", "-o", tmp_path / "out"]) == 0, (
        capsys.readouterr().err
    )
    summary = read_summary(tmp_path / "out")
    assert summary["input"]["date_format"] == "Excel serial day numbers"
    assert summary["features"]["snapshot_date"] == "2011-12-10"
    assert read_customers(tmp_path / "out").loc["12346", "recency"] == 1  # bought on LAST_DAY


def test_oddity_day_first_text_dates(tmp_path, capsys):
    """Day-first text (month-first: see the ambiguous case below, and test_load.py)."""
    fmt, how = "%d/%m/%Y %H:%M", "day/month/year"
    df = planted(12)
    df["InvoiceDate"] = df["InvoiceDate"].dt.strftime(fmt)
    df.to_csv(tmp_path / "d.csv", index=False)
    assert run(["-i", tmp_path / "d.csv", "-o", tmp_path / "out"]) == 0, capsys.readouterr().err
    summary = read_summary(tmp_path / "out")
    assert summary["input"]["date_format"] == how
    assert (
        f"dates in 'InvoiceDate' read as {how} (a day number above 12 settles it)"
        in (summary["input"]["notes"])
    )
    assert summary["features"]["snapshot_date"] == "2011-12-10"


def test_oddity_ambiguous_dates_are_reported_and_date_format_settles_them(tmp_path, capsys):
    df = planted(12)
    df = df[df["InvoiceDate"].dt.day <= 12].copy()  # every day number could be a month
    last = df["InvoiceDate"].max()
    df["InvoiceDate"] = df["InvoiceDate"].dt.strftime("%m/%d/%Y %H:%M")  # written month-first
    df.to_csv(tmp_path / "amb.csv", index=False)
    assert run(["-i", tmp_path / "amb.csv", "-o", tmp_path / "guess"]) == 0
    guess = read_summary(tmp_path / "guess")
    assert guess["input"]["date_format"] == "day/month/year (ambiguous, day-first assumed)"
    assert any("ambiguous" in n and "--date-format" in n for n in guess["input"]["notes"])
    fmt = "%m/%d/%Y %H:%M"
    assert run(["-i", tmp_path / "amb.csv", "-o", tmp_path / "told", "--date-format", fmt]) == 0
    told = read_summary(tmp_path / "told")
    assert told["input"]["date_format"] == fmt
    assert (
        told["features"]["snapshot_date"]
        == (last.normalize() + pd.Timedelta(days=1)).date().isoformat()
    )
    # Read day-first, the same text gave other dates: other recencies.
    g, t = read_customers(tmp_path / "guess"), read_customers(tmp_path / "told")
    assert t.loc["12346", "recency"] == 1  # bought on LAST_DAY
    assert (g["recency"] != t["recency"]).any()


def test_oddity_time_zones_are_converted_to_utc(tmp_path, capsys):
    df = planted(12)
    df["InvoiceDate"] = df["InvoiceDate"].dt.tz_localize("America/New_York")
    # 21:00 in New York on 9 December is 02:00 UTC on the 10th: the snapshot moves to the 11th.
    df.loc[df.index[-1], "InvoiceDate"] = pd.Timestamp("2011-12-09 21:00", tz="America/New_York")
    df.to_parquet(tmp_path / "tz.parquet")
    assert run(["-i", tmp_path / "tz.parquet", "-o", tmp_path / "out"]) == 0, (
        capsys.readouterr().err
    )
    summary = read_summary(tmp_path / "out")
    assert "dates carried a time zone: converted to UTC" in summary["input"]["notes"]
    assert summary["features"]["snapshot_date"] == "2011-12-11"
    assert read_customers(tmp_path / "out").loc["12346", "recency"] == 1


def test_oddity_non_ascii_text_in_a_latin1_file(tmp_path, capsys):
    df = planted(12).astype({"CustomerID": object})
    df["CustomerID"] = df["CustomerID"].map(lambda v: f"Zoë-{int(v)}")
    df["Description"] = "CRÈME BRÛLÉE ½"
    df["Country"] = "Réunion"
    df.to_csv(tmp_path / "latin1.csv", index=False, encoding="latin-1")
    assert run(["-i", tmp_path / "latin1.csv", "-o", tmp_path / "out"]) == 0, (
        capsys.readouterr().err
    )
    customers = read_customers(tmp_path / "out")  # written as UTF-8
    assert "Zoë-12346" in customers.index and len(customers) == 12
    assert any("not UTF-8" in n for n in read_summary(tmp_path / "out")["input"]["notes"])


def test_oddity_repeated_header_rows_change_nothing(baseline, tmp_path, capsys):
    df = planted(12)
    parts = np.array_split(np.arange(len(df)), 3)
    (tmp_path / "glued.csv").write_text("".join(df.iloc[p].to_csv(index=False) for p in parts))
    assert run(["-i", tmp_path / "glued.csv", "-o", tmp_path / "b"]) == 0, capsys.readouterr().err
    assert (baseline / "out" / "customers.csv").read_bytes() == (
        tmp_path / "b" / "customers.csv"
    ).read_bytes()
    assert "2 repeated header row(s) skipped" in read_summary(tmp_path / "b")["input"]["notes"]


def test_oddity_stray_whitespace_in_codes(baseline, tmp_path, capsys):
    df = planted(12)
    messy = df.copy()
    messy["StockCode"] = [
        f"{c}\t" if k % 2 else f"\u00a0{c}" for k, c in enumerate(df["StockCode"])
    ]
    messy["InvoiceNo"] = " " + df["InvoiceNo"] + " "  # " C536380 " is still a cancellation
    messy.to_csv(tmp_path / "messy.csv", index=False)
    assert run(["-i", tmp_path / "messy.csv", "-o", tmp_path / "b"]) == 0, capsys.readouterr().err
    a, b = read_customers(baseline / "out"), read_customers(tmp_path / "b")
    pd.testing.assert_frame_equal(a, b)
    assert (b["return_rate"] > 0).sum() == 4  # the four occasional customers cancelled a line


def test_oddity_a_single_customer(tmp_path, capsys):
    """Segmenting one customer is meaningless: a clear error, and `custseg features` still works."""
    df = planted(3)
    one = df[df["CustomerID"] == 12348.0]
    one.to_csv(tmp_path / "one.csv", index=False)
    assert run(["-i", tmp_path / "one.csv", "-o", tmp_path / "out"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"custseg: error: {tmp_path / 'one.csv'}: only 1 customer(s) left after cleaning, and "
        "segmenting needs at least 5. Check the input and the cleaning options; `custseg "
        "features` still writes the per-customer features."
    )
    assert not (tmp_path / "out").exists()
    rc = main(["--quiet", "features", str(tmp_path / "one.csv"), "-o", str(tmp_path / "f.parquet")])
    assert rc == 0
    f = pd.read_parquet(tmp_path / "f.parquet").set_index("customer_id")
    kept = one[one["StockCode"] != "POST"]
    assert list(f.index) == ["12348"]
    assert f.loc["12348", "frequency"] == kept["InvoiceNo"].nunique() == 15
    assert f.loc["12348", "monetary"] == pytest.approx(
        (kept.Quantity * kept.UnitPrice).sum(), rel=1e-12
    )
    # The snapshot is the day after the last purchase in the file: this customer's.
    first, last = kept.InvoiceDate.min().date(), kept.InvoiceDate.max().date()
    assert f.loc["12348", "recency"] == 1
    assert f.loc["12348", "tenure"] == (last - first).days + 1


def test_oddity_every_purchase_on_one_day(tmp_path, capsys):
    df = planted(15)
    df["InvoiceDate"] = pd.Timestamp("2011-05-05 10:00")
    df.to_csv(tmp_path / "oneday.csv", index=False)
    assert run(["-i", tmp_path / "oneday.csv", "-o", tmp_path / "out"]) == 0, (
        capsys.readouterr().err
    )
    customers = read_customers(tmp_path / "out")
    assert (customers["recency"] == 1).all() and (customers["tenure"] == 1).all()
    summary = read_summary(tmp_path / "out")
    # recency has no variance: it is centred, not divided by zero, and K-means still
    # separates the customers on frequency and spend.
    centres = pd.DataFrame(summary["kmeans"]["centers_standardised"])
    assert np.allclose(centres["recency"], 0.0)
    assert summary["kmeans"]["chosen_k"] >= 2
    loyal = customers.loc[[str(12346 + i) for i in range(2, 15, 3)], "kmeans_cluster"]
    assert loyal.nunique() == 1  # the five loyal customers end up together


def test_oddity_identical_customers(tmp_path, capsys):
    base = planted(6)
    template = base[base["CustomerID"] == 12347.0]
    clones = [
        template.assign(CustomerID=20000.0 + k, InvoiceNo=template["InvoiceNo"] + f"-{k}")
        for k in range(10)
    ]
    df = pd.concat([base, *clones], ignore_index=True)
    df.to_csv(tmp_path / "clones.csv", index=False)
    assert run(["-i", tmp_path / "clones.csv", "-o", tmp_path / "out"]) == 0, (
        capsys.readouterr().err
    )
    customers = read_customers(tmp_path / "out")
    clone_ids = [str(20000 + k) for k in range(10)]
    assert customers.loc[clone_ids, "monetary"].nunique() == 1  # summed exactly: truly identical
    assert customers.loc[clone_ids, "kmeans_cluster"].nunique() == 1
    n_distinct = 6  # the six base customers; the clones copy one of them
    assert read_summary(tmp_path / "out")["kmeans"]["chosen_k"] <= n_distinct
    # Asking for more clusters than there are distinct customers is a clear error...
    assert run(["-i", tmp_path / "clones.csv", "-o", tmp_path / "k7", "--k", "7"]) == 2
    assert (
        "--k 7 is more than the 6 distinct customer profiles (16 customers)"
        in capsys.readouterr().err
    )
    # ...and so is a file where every customer is the same.
    pd.concat(clones).to_csv(tmp_path / "same.csv", index=False)
    assert run(["-i", tmp_path / "same.csv", "-o", tmp_path / "same"]) == 2
    assert "all 10 customers have the same recency, frequency, monetary" in capsys.readouterr().err


# --------------------------------------------------------------------------- nothing lost


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A run on ``planted(12)`` written as CSV: the input (``whole.csv``) and outputs (``out/``)."""
    tmp = tmp_path_factory.mktemp("baseline")
    planted(12).to_csv(tmp / "whole.csv", index=False)
    assert run(["-i", tmp / "whole.csv", "-o", tmp / "out"]) == 0
    return tmp


@pytest.fixture
def previous_run(baseline, tmp_path):
    """An output folder holding a complete previous run, and its bytes."""
    shutil.copy(baseline / "whole.csv", tmp_path / "first.csv")
    out = tmp_path / "out"
    shutil.copytree(baseline / "out", out)
    return out, snapshot_files(out)


def test_a_failed_run_leaves_the_previous_outputs(previous_run, tmp_path, capsys):
    out, before = previous_run
    bad = planted(12).astype({"Quantity": object})
    bad.loc[7, "Quantity"] = "seven"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert run(["-i", tmp_path / "bad.csv", "-o", out]) == 2
    assert snapshot_files(out) == before
    # main() handles Ctrl-C and SIGTERM during the run only.
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers


def test_ctrl_c_while_writing_leaves_the_previous_outputs(
    previous_run, tmp_path, monkeypatch, capsys
):
    out, before = previous_run
    planted(15, seed=1).to_parquet(tmp_path / "second.parquet")
    written = []

    def interrupted(text, path):
        written.append(path)  # customers.csv is already staged by now
        raise KeyboardInterrupt

    monkeypatch.setattr(custseg.output, "write_text", interrupted)
    assert run(["-i", tmp_path / "second.parquet", "-o", out]) == 130
    assert capsys.readouterr().err.strip() == (
        "custseg: interrupted (Ctrl-C): nothing was written, previous outputs are untouched."
    )
    assert written and written[0].name == "summary.json"
    assert snapshot_files(out) == before
    assert leftovers(out) == []


def test_ctrl_c_while_moving_outputs_into_place_is_held_until_done(
    previous_run, tmp_path, monkeypatch
):
    out, before = previous_run
    planted(15, seed=1).to_parquet(tmp_path / "second.parquet")
    real_replace = os.replace
    calls = []

    def replace_and_interrupt(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # between customers.csv and summary.json
        real_replace(src, dst)

    monkeypatch.setattr(custseg.output.os, "replace", replace_and_interrupt)
    assert run(["-i", tmp_path / "second.parquet", "-o", out]) == 0
    assert calls == ["customers.csv", "summary.json"]
    after = snapshot_files(out)
    assert set(after) == set(before) and after != before
    assert len(read_customers(out)) == 15 and read_summary(out)["cleaning"]["customers"] == 15


def test_staging_folders_of_killed_runs_are_removed(previous_run, tmp_path):
    out, _ = previous_run
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".custseg-staging-{dead.pid}-abcd"
    stale.mkdir()
    (stale / "customers.csv").write_text("partial")
    alive = out / f".custseg-staging-{os.getppid()}-efgh"  # a run still going
    alive.mkdir()
    assert run(["-i", tmp_path / "first.csv", "-o", out]) == 0
    assert not stale.exists() and alive.exists()


def _stage_of(line: str) -> str | None:
    words = line.split()
    for stage in ("audit", "clean", "features"):
        if stage in words:
            return stage
    return None


@pytest.mark.slow
def test_a_run_killed_midway_leaves_the_previous_outputs(real_path, baseline, tmp_path):
    """Ctrl-C and SIGKILL halfway through a run on the real dataset: the out folder
    holds exactly the previous run's files, byte for byte, and nothing else."""
    outs = {signal.SIGINT: tmp_path / "int", signal.SIGKILL: tmp_path / "kill"}
    before = {}
    for sig, out in outs.items():
        shutil.copytree(baseline / "out", out)  # a previous run's outputs
        before[sig] = snapshot_files(out)
    procs = {
        sig: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "custseg.cli",
                "run",
                "--no-report",
                "-i",
                str(real_path),
                "-o",
                str(out),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for sig, out in outs.items()
    }
    stages, tails = {}, {}
    for sig, proc in procs.items():
        for line in proc.stderr:  # progress lines, one per stage
            stages[sig] = _stage_of(line)
            if stages[sig]:
                proc.send_signal(sig)
                break
        tails[sig] = proc.stderr.read()
        proc.wait(timeout=120)
    # Both were stopped while DuckDB was auditing the 541,909 lines, or a little later.
    assert None not in stages.values()
    assert procs[signal.SIGINT].returncode == 130
    assert tails[signal.SIGINT].strip().splitlines()[-1] == (
        "custseg: interrupted (Ctrl-C): nothing was written, previous outputs are untouched."
    )
    assert procs[signal.SIGKILL].returncode == -signal.SIGKILL
    for sig, out in outs.items():
        assert snapshot_files(out) == before[sig]
        assert leftovers(out) == []


# --------------------------------------------------------------------------- reproducible


def _write_parquet(df: pd.DataFrame, path: Path, row_group_size: int) -> Path:
    pq.write_table(
        pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=row_group_size
    )
    return path


@pytest.fixture(scope="module")
def repeated_runs(tmp_path_factory):
    """The same input twice, and its rows shuffled, each read in parallel (many row groups)."""
    tmp = tmp_path_factory.mktemp("repro")
    df = planted(150, seed=3)
    _write_parquet(df, tmp / "input.parquet", 500)
    shuffled = df.sample(frac=1.0, random_state=7).reset_index(drop=True)
    _write_parquet(shuffled, tmp / "shuffled.parquet", 300)
    outs = {}
    for name, src in (("first", "input"), ("second", "input"), ("shuffled", "shuffled")):
        outs[name] = tmp / name
        assert run(["-i", tmp / f"{src}.parquet", "-o", outs[name], "--seed", "3"]) == 0
    return outs


# Only the timings and the creation time may differ between two runs: every sum of
# money is exact (DECIMAL) and every tie is broken explicitly.
VOLATILE = ("timings", "created")


def _stable(summary: dict) -> dict:
    out = {k: v for k, v in summary.items() if k not in VOLATILE}
    out["input"] = {k: v for k, v in out["input"].items() if k != "source"}
    return out


def test_same_input_and_seed_give_the_same_bytes(repeated_runs):
    first, second = repeated_runs["first"], repeated_runs["second"]
    assert (first / "customers.csv").read_bytes() == (second / "customers.csv").read_bytes()
    a, b = read_summary(first), read_summary(second)
    assert set(a) == set(b)
    assert _stable(a) == _stable(b)
    assert a["audit"]["rows"] == b["audit"]["rows"]


def test_shuffled_rows_change_no_assignment(repeated_runs):
    first, shuffled = repeated_runs["first"], repeated_runs["shuffled"]
    assert (first / "customers.csv").read_bytes() == (shuffled / "customers.csv").read_bytes()
    # Features (hence every model) are identical to the last bit.
    assert _stable(read_summary(first)) == _stable(read_summary(shuffled))
    customers = read_customers(first)
    assert len(customers) == 150 and customers["kmeans_cluster"].nunique() >= 2


@pytest.mark.slow
def test_real_features_are_exact_whatever_the_row_order(real_path, tmp_path):
    table = pq.read_table(real_path)
    order = np.random.default_rng(11).permutation(table.num_rows)
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(table.take(pa.array(order)), shuffled, row_group_size=20_000)
    frames = []
    for src in (real_path, shuffled):
        loaded = load_transactions(src)
        snap = default_snapshot(loaded.con)
        apply_policy(loaded.con, CleaningPolicy(), before=snap.isoformat())
        exact = exact_customer_features(loaded.con, snap)
        plain = customer_features(loaded.con, snap)
        pd.testing.assert_frame_equal(exact, plain, check_exact=False, rtol=1e-12)
        total = loaded.con.execute(
            "SELECT sum(CAST(amount AS DECIMAL(38, 6))) FROM clean_lines"
        ).fetchone()[0]
        assert Decimal(str(exact["monetary"].sum())).quantize(Decimal("0.001")) == total.quantize(
            Decimal("0.001")
        )
        frames.append(exact)
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)
    assert len(frames[0]) == 4_334


lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]),  # customer
        st.integers(0, 5),  # order number within the customer
        st.integers(1, 40),  # quantity
        st.integers(1, 99_999).map(lambda c: Decimal(c) / 1000),  # price, 3 decimals
        st.integers(0, 300),  # day of 2011
        st.booleans(),  # cancelled
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines_strategy, st.randoms(use_true_random=False))
def test_exact_features_properties(raw, rnd):
    """monetary is the exact sum of the kept line totals, recency >= 0, frequency at
    most the lines, and any row order gives the same features bit for bit."""
    assume(not all(r[5] for r in raw))  # some purchase is kept
    rows = []
    for k, (cust, order, qty, price, day, cancelled) in enumerate(raw):
        inv = f"{'C' if cancelled else ''}{ord(cust)}{order}"  # C: a cancellation
        t = dt.datetime(2011, 1, 1, 10) + dt.timedelta(days=day)
        rows.append(
            (inv, f"{10000 + k}", "X", -qty if cancelled else qty, t, float(price), cust, "FR")
        )
    df = pd.DataFrame(rows, columns=COLUMNS)

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        loaded = load_transactions(frame)
        snap = dt.date(2011, 12, 31)
        apply_policy(loaded.con, CleaningPolicy(), before=snap.isoformat())
        return exact_customer_features(loaded.con, snap)

    f = features(df)
    kept = [r for r in raw if not r[5]]
    for cust in {r[0] for r in kept}:
        exact = sum(Decimal(q) * p for c, _, q, p, _, _ in kept if c == cust)
        assert f.loc[cust, "monetary"] == pytest.approx(float(exact), rel=1e-15, abs=1e-9)
        assert f.loc[cust, "frequency"] <= sum(r[0] == cust for r in raw)
    assert (f["recency"] >= 0).all()
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 2**31)).reset_index(drop=True)
    pd.testing.assert_frame_equal(features(shuffled), f, check_exact=True)
