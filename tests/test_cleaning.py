"""Cleaning policy: rows removed per rule, on hand-made lines and on the real dataset."""

from __future__ import annotations

import pytest

from custseg.cleaning import COMMON_POLICY, CleaningPolicy, apply_policy
from custseg.errors import DataError, ParameterError
from custseg.load import load_transactions


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
