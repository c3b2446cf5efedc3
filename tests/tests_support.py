"""Paths and reference computations shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    """``$CUSTSEG_DATA`` when it is a folder, else ``../shared/data`` beside the repository."""
    env = os.environ.get("CUSTSEG_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    return ROOT.parent / "shared" / "data"


DATA_DIR = _data_dir()
REAL = DATA_DIR / "online_retail.parquet"
REAL_II = DATA_DIR / "online_retail_ii_2009_2010.parquet"


def pandas_rfm(path: Path = REAL) -> pd.DataFrame:
    """Raw recency, frequency, monetary of Online Retail, computed independently with pandas.

    The common policy (drop rows without customer id, cancellations, non-positive
    quantity or price); snapshot 2011-12-10; index: customer id as a string, sorted.
    """
    raw = pd.read_parquet(
        path, columns=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    )
    raw = raw.dropna(subset=["CustomerID"])
    raw = raw[~raw["InvoiceNo"].astype(str).str.startswith("C")]
    raw = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)]
    raw = raw.assign(
        amount=raw["Quantity"] * raw["UnitPrice"],
        customer_id=raw["CustomerID"].astype("int64").astype(str),
    )
    g = raw.groupby("customer_id")
    return pd.DataFrame(
        {
            "recency": (pd.Timestamp("2011-12-10") - g["InvoiceDate"].max()).dt.days,
            "frequency": g["InvoiceNo"].nunique(),
            "monetary": g["amount"].sum(),
        }
    ).sort_index()


UCI_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
"""The UCI Online Retail columns, in the file's order (for hand-made fixtures)."""
