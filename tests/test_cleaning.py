"""Cleaning policy: rows removed per rule, on hand-made lines and on the real dataset."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import UCI_COLUMNS

import custseg.cleaning as cleaning_module
import custseg.load as load_module
from custseg.cleaning import COMMON_POLICY, CleaningPolicy, apply_policy
from custseg.errors import DataError, ParameterError
from custseg.load import load_transactions
from custseg.pipeline import exact_customer_features


def _removed(result) -> dict[str, int]:
    return dict(zip(result.removed["rule"], result.removed["rows_removed"], strict=True))


def test_default_policy_on_hand_made_lines(hand_lines):
    data = load_transactions(hand_lines)
    res = apply_policy(data.con, CleaningPolicy())
    assert _removed(res) == {
        "missing_customer_id": 3,
        "exact_duplicates": 1,
        "cancellation": 1,
        "bad_debt_adjustment": 0,
        "non_positive_quantity": 0,
        "non_positive_price": 1,
        "non_product_code": 1,
    }
    assert res.rows_kept == 1
    assert res.rows_in - sum(_removed(res).values()) == res.rows_kept
    assert res.customers == 1
    assert res.return_lines == 1


def test_keep_options_keep_lines(hand_lines):
    data = load_transactions(hand_lines)
    res = apply_policy(data.con, CleaningPolicy(duplicates="keep", non_product="keep"))
    assert "exact_duplicates" not in _removed(res)
    assert res.rows_kept == 3  # both copies of the heart line, and the postage


def test_common_policy_real_dataset(real_loaded):
    res = apply_policy(real_loaded.con, COMMON_POLICY, view=real_loaded.view)
    assert res.rows_kept == 397_884
    assert res.customers == 4_338
    assert _removed(res)["missing_customer_id"] == 135_080
    assert _removed(res)["cancellation"] == 8_905
    assert _removed(res)["non_positive_price"] == 40


def test_default_policy_real_dataset(real_loaded):
    res = apply_policy(real_loaded.con, CleaningPolicy(), view=real_loaded.view)
    assert _removed(res) == {
        "missing_customer_id": 135_080,
        "exact_duplicates": 5_225,
        "cancellation": 8_872,
        "bad_debt_adjustment": 0,
        "non_positive_quantity": 0,
        "non_positive_price": 40,
        "non_product_code": 1_542,
    }
    assert res.rows_kept == 391_150
    assert res.customers == 4_334


def test_unknown_choice_is_a_parameter_error():
    with pytest.raises(ParameterError, match="--returns must be one of drop, net"):
        CleaningPolicy(returns="maybe").validate()


def test_nothing_left_is_a_data_error_naming_each_rule(hand_lines):
    df = hand_lines
    df["CustomerID"] = None
    data = load_transactions(df)
    with pytest.raises(DataError, match="missing_customer_id: 8"):
        apply_policy(data.con, CleaningPolicy())


# --------------------------------------------------------------------------- large inputs
# Beyond TAGGED_TABLE_MAX_ROWS, duplicates are found once by hash and dropped by position
# (parquet: the file's row number; CSV: the table's rowid). Same result as SELECT DISTINCT.


@pytest.fixture
def large_paths(monkeypatch):
    """Every input takes the large-input paths (checked-once view, dedup by position)."""
    monkeypatch.setattr(cleaning_module, "TAGGED_TABLE_MAX_ROWS", 0)
    monkeypatch.setattr(load_module, "LINES_TABLE_MAX_ROWS", 0)


_T = dt.datetime(2011, 3, 1, 9, 30)
_DUP_ROWS = [
    # invoice, code, description, qty, date, price, customer, country
    ("500", "85123A", "HEART", 6, _T, 2.55, "17850", "United Kingdom"),
    ("500", "85123A", "HEART", 6, _T, 2.55, "17850.0", "United Kingdom"),  # same after ids
    ("500", " 85123A", "HEART", 6, _T, 2.55, "17850", "United Kingdom"),  # same after trim
    ("500", "85123A", "HEART ", 6, _T, 2.55, "17850", "United Kingdom"),  # same after trim
    ("500", "85123A", "HEART", 6, _T, 2.55, "17850", "France"),  # differs: country
    ("499", "85123A", "HEART", 6, _T, 2.55, "17850", "United Kingdom"),  # differs: invoice
    ("500", "85123A", None, 6, _T, 2.55, "17850", "United Kingdom"),  # NULL description
    ("500", "85123A", None, 6, _T, 2.55, "17850", "United Kingdom"),  # ... twice
    ("501", "22423", "CAKESTAND", 1, _T, 12.75, "13047", "United Kingdom"),
    ("501", "22423", "CAKESTAND", 1, _T, 12.75, "nan", "United Kingdom"),  # no customer
    ("501", "22423", "CAKESTAND", 1, _T, 12.75, "nan", "United Kingdom"),  # no customer
    ("C502", "22423", "CAKESTAND", -1, _T, 12.75, "13047", "United Kingdom"),  # return
    ("C502", "22423", "CAKESTAND", -1, _T, 12.75, "13047", "United Kingdom"),  # its copy
]


def _dup_frame(rows=_DUP_ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=UCI_COLUMNS)


def _write(df: pd.DataFrame, path, kind: str):
    if kind == "dataframe":
        return df
    if kind == "parquet":
        df.to_parquet(path / "lines.parquet")
        return path / "lines.parquet"
    df.to_csv(path / "lines.csv", index=False)
    return path / "lines.csv"


@pytest.mark.parametrize("kind", ["parquet", "csv", "dataframe"])
def test_duplicates_after_normalisation_are_counted_once(large_paths, tmp_path, kind):
    data = load_transactions(_write(_dup_frame(), tmp_path, kind))
    res = apply_policy(data.con, CleaningPolicy(), before="2011-12-10")
    # Hand count: 11 lines with a customer; the heart line has 4 copies (ids and
    # whitespace normalised) -> 3 removed, the NULL-description pair -> 1, the return
    # pair -> 1: 5 duplicates. Kept: heart, heart (France), heart (invoice 499), heart
    # (NULL desc), cakestand. (The hash of the large path leaves out the invoice, the
    # description and the country: lines differing only there are compared in full.)
    removed = _removed(res)
    assert removed["missing_customer_id"] == 2
    assert removed["exact_duplicates"] == 5
    assert removed["cancellation"] == 1
    assert res.rows_kept == 5
    assert res.return_lines == 1
    feats = exact_customer_features(data.con, dt.date(2011, 12, 10))
    assert feats.loc["17850", "monetary"] == pytest.approx(4 * 6 * 2.55)
    assert feats.loc["17850", "frequency"] == 2
    assert feats.loc["13047", "return_rate"] == pytest.approx(1.0)
    if kind != "dataframe":
        # The large path really ran: duplicates were listed by position.
        assert data.con.execute("SELECT count(*) FROM _duplicate_rows").fetchone()[0] == 5


_line = st.tuples(
    st.sampled_from(["600", "601", "C602", "603"]),
    st.sampled_from(["85123A", " 85123A", "22423", "POST"]),
    st.sampled_from(["HEART", "CAKESTAND", None]),
    st.sampled_from([1, 2, -1]),
    st.sampled_from([_T, _T + dt.timedelta(hours=5)]),
    st.sampled_from([1.25, 0.1, 0.0]),
    st.sampled_from(["17850", "17850.0", "13047", None]),
    st.sampled_from(["United Kingdom", "France"]),
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_line, min_size=1, max_size=40))
def test_dedup_by_position_equals_select_distinct(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("prop")
    df = _dup_frame(rows)
    results = {}
    for kind, large in (("dataframe", False), ("parquet", True), ("csv", True)):
        with pytest.MonkeyPatch.context() as mp:
            if large:
                mp.setattr(cleaning_module, "TAGGED_TABLE_MAX_ROWS", 0)
                mp.setattr(load_module, "LINES_TABLE_MAX_ROWS", 0)
            data = load_transactions(_write(df, path, kind))
            try:
                res = apply_policy(data.con, CleaningPolicy(), before="2011-12-10")
            except DataError:
                results[kind] = None
                continue
            feats = exact_customer_features(data.con, dt.date(2011, 12, 10))
            # Streamed lines leave the customers to the feature table (None here).
            customers = len(feats) if res.customers is None else res.customers
            assert res.customers is None or res.customers == len(feats)
            results[kind] = (_removed(res), res.rows_kept, customers, feats)
    base = results["dataframe"]
    for kind in ("parquet", "csv"):
        other = results[kind]
        assert (base is None) == (other is None)
        if base is not None:
            assert other[:3] == base[:3]
            pd.testing.assert_frame_equal(other[3], base[3])


def test_numeric_ids_hashed_as_numbers_find_the_same_duplicates(large_paths, tmp_path):
    # A parquet file with float ids: duplicates are found by hashing the number itself
    # (not its text), so -0.0 and 0.0 (both the id "0") must still be one customer,
    # and NaN (no id) must stay out.
    rows = [
        ("600", "85123A", "HEART", 2, _T, 2.55, 17850.0, "United Kingdom"),
        ("600", "85123A", "HEART", 2, _T, 2.55, 17850.0, "United Kingdom"),  # copy
        ("601", "22423", "CAKESTAND", 1, _T, 12.75, -0.0, "France"),
        ("601", "22423", "CAKESTAND", 1, _T, 12.75, 0.0, "France"),  # copy of id "0"
        ("602", "22423", "CAKESTAND", 1, _T, 12.75, float("nan"), "France"),  # no id
        ("602", "22423", "CAKESTAND", 1, _T, 12.75, float("nan"), "France"),
    ]
    df = pd.DataFrame(rows, columns=UCI_COLUMNS)
    df.to_parquet(tmp_path / "ids.parquet")
    data = load_transactions(tmp_path / "ids.parquet")
    view_sql = data.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = '_lines_rn'"
    ).fetchone()[0]
    assert "_cust_key" in view_sql  # the large path really hashes the number
    res = apply_policy(data.con, CleaningPolicy(), before="2011-12-10")
    removed = _removed(res)
    assert removed["missing_customer_id"] == 2
    assert removed["exact_duplicates"] == 2
    assert res.rows_kept == 2
    feats = exact_customer_features(data.con, dt.date(2011, 12, 10))
    assert sorted(feats.index) == ["0", "17850"]
    assert feats.loc["0", "monetary"] == pytest.approx(12.75)
