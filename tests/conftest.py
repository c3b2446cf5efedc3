"""Shared fixtures: the real dataset and a DuckDB connection holding it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# No per-example deadline: CI machines are shared and timing is not what these tests check.
settings.register_profile("custseg", deadline=None)
settings.load_profile("custseg")

from tests_support import REAL, REAL_II, UCI_COLUMNS  # noqa: E402


@pytest.fixture(scope="session")
def real_path() -> Path:
    if not REAL.exists():
        pytest.skip(f"real dataset not found at {REAL} (set CUSTSEG_DATA)")
    return REAL


@pytest.fixture(scope="session")
def real_ii_path() -> Path:
    if not REAL_II.exists():
        pytest.skip(f"Online Retail II not found at {REAL_II} (set CUSTSEG_DATA)")
    return REAL_II


@pytest.fixture(scope="session")
def real_loaded(real_path):
    from custseg.load import load_transactions

    return load_transactions(real_path)


@pytest.fixture(scope="session")
def real_audit(real_loaded):
    from custseg.audit import audit

    return audit(real_loaded.con, real_loaded.view)


@pytest.fixture
def hand_lines() -> pd.DataFrame:
    """Eight lines with one of each anomaly, in the Online Retail layout."""
    return _lines()


def _lines() -> pd.DataFrame:
    t = dt.datetime(2011, 1, 3, 10, 0)
    rows = [
        # invoice, code, desc, qty, date, price, customer, country
        ("100", "85123A", "HEART", 6, t, 2.5, 17850.0, "United Kingdom"),
        ("100", "85123A", "HEART", 6, t, 2.5, 17850.0, "United Kingdom"),  # exact duplicate
        ("100", "POST", "POSTAGE", 1, t, 18.0, 17850.0, "United Kingdom"),  # non-product
        ("101", "22423", "CAKESTAND", 2, t, 12.75, None, "France"),  # no customer
        ("C102", "85123A", "HEART", -6, t + dt.timedelta(days=1), 2.5, 17850.0, "United Kingdom"),
        ("103", "22423", "CAKESTAND", -3, t, 0.0, None, "United Kingdom"),  # stock correction
        ("A104", "B", "Adjust bad debt", 1, t, -500.0, None, "United Kingdom"),
        ("105", "22222", "FREEBIE", 1, t, 0.0, 12345.0, "Spain"),
    ]
    return pd.DataFrame(
        rows,
        columns=list(UCI_COLUMNS),
    )


@pytest.fixture(scope="module")
def one_openmp_thread():
    """One OpenMP thread for a module's K-means and DBSCAN fits (with
    ``pytestmark = pytest.mark.usefixtures("one_openmp_thread")``).

    Small fits gain nothing from threads; on an oversubscribed machine OpenMP spinning
    makes them ten times slower. Results do not depend on the thread count here.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield
