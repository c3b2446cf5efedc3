"""Audit figures: hand-made lines, and the real dataset's published figures."""

from __future__ import annotations

import pytest

from custseg.audit import audit
from custseg.load import load_transactions


def test_audit_hand_made_lines(hand_lines):
    data = load_transactions(hand_lines)
    rep = audit(data.con, data.view)
    f = rep.findings.set_index("finding")
    assert rep.rows == 8
    assert f.loc["missing_customer_id", "rows"] == 3
    assert f.loc["missing_customer_id", "revenue"] == pytest.approx(25.5 + 0 - 500)
    assert f.loc["cancellation_lines", "rows"] == 1
    assert f.loc["cancellation_lines", "revenue"] == pytest.approx(-15.0)
    assert rep.cancelled_invoices == 1
    assert f.loc["negative_quantity", "rows"] == 1
    assert f.loc["zero_price", "rows"] == 2
    assert f.loc["negative_price", "rows"] == 1
    assert f.loc["bad_debt_adjustment", "rows"] == 1
    assert f.loc["exact_duplicates", "rows"] == 1
    assert f.loc["exact_duplicates", "revenue"] == pytest.approx(15.0)
    assert f.loc["non_product_codes", "rows"] == 2  # POST and B
    assert f.loc["missing_customer_id", "row_share"] == pytest.approx(3 / 8)
    assert set(rep.non_product_codes["stock_code"]) == {"POST", "B"}
    assert rep.stats.loc["quantity", "max"] == 6
    assert rep.stats.loc["order_total", "count"] == 6  # six distinct invoices


def test_audit_real_dataset_published_figures(real_audit):
    f = real_audit.findings.set_index("finding")
    assert real_audit.rows == 541_909
    assert real_audit.customers == 4_372
    assert f.loc["missing_customer_id", "rows"] == 135_080
    assert f.loc["cancellation_lines", "rows"] == 9_288
    assert real_audit.cancelled_invoices == 3_836
    assert f.loc["exact_duplicates", "rows"] == 5_268
    assert f.loc["zero_price", "rows"] == 2_515
    assert f.loc["negative_price", "rows"] == 2
    assert f.loc["bad_debt_adjustment", "rows"] == 3
    assert f.loc["negative_quantity", "rows"] == 1_336
    assert f.loc["non_product_codes", "rows"] == 2_995
    assert real_audit.revenue == pytest.approx(9_747_747.93, abs=0.01)
    assert f.loc["cancellation_lines", "revenue"] == pytest.approx(-896_812.49, abs=0.01)
    assert real_audit.date_min.startswith("2010-12-01 08:26")
    assert real_audit.date_max.startswith("2011-12-09 12:50")


def test_audit_real_extremes_and_their_cancellations(real_audit):
    ext = real_audit.extremes
    q = ext[ext["kind"] == "quantity"].set_index("invoice")
    # The two famous mistaken orders, each cancelled right after.
    assert q.loc["581483", "quantity"] == 80_995 and bool(q.loc["581483", "cancelled_after"])
    assert q.loc["541431", "quantity"] == 74_215 and bool(q.loc["541431", "cancelled_after"])
    f = real_audit.findings.set_index("finding")
    assert f.loc["extreme_quantity", "rows"] == 152
    assert f.loc["extreme_quantity", "detail"] == 9
    assert f.loc["extreme_order_value", "rows"] == 116
    assert real_audit.thresholds["quantity"] == pytest.approx(897.33, abs=0.01)


def test_descriptive_statistics_real(real_audit):
    s = real_audit.stats
    assert s.loc["quantity", "p50"] == 3
    assert s.loc["unit_price", "p50"] == pytest.approx(2.08)
    assert s.loc["line_total", "max"] == pytest.approx(168_469.6)
    assert s.loc["order_total", "count"] == 25_900
