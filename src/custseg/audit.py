"""Data-quality audit of the raw transaction lines (task 1 of the brief).

Every finding is computed in SQL over the canonical ``lines`` relation, so the
audit runs out-of-core on any size. Each finding reports the rows concerned,
their share of all rows and the revenue (sum of line totals) they carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from custseg import schema as S

# A catalogue product's stock code starts with five digits (85123A, 22423...).
# Everything else is a service or accounting line: POST, DOT, M, C2, D, S,
# BANK CHARGES, AMAZONFEE, CRUK, PADS, B, gift_0001_*, DCGS*...
PRODUCT_CODE_PATTERN = r"^[0-9]{5}"
NON_PRODUCT_RULE = "stock code does not start with five digits"

# Extreme purchases: robust z-score on the log10 scale,
# log10(x) > median + 3.5 * 1.4826 * MAD, over purchase lines / orders with x > 0.
EXTREME_Z = 3.5
EXTREME_RULE = "log10(value) above median + 3.5 x 1.4826 x MAD of log10(value) (robust z > 3.5 on the log scale)"

FINDING_KEYS = (
    "missing_customer_id",
    "cancellation_lines",
    "negative_quantity",
    "zero_price",
    "negative_price",
    "bad_debt_adjustment",
    "exact_duplicates",
    "non_product_codes",
    "extreme_quantity",
    "extreme_order_value",
)


@dataclass
class AuditReport:
    """What the audit found.

    Attributes
    ----------
    rows, revenue : totals over all lines (revenue = sum of line totals).
    findings : DataFrame
        One row per finding: ``finding`` (key), ``rows``, ``row_share``,
        ``revenue``, ``detail`` (a count or note, see ``rules``).
    rules : dict
        The rule behind each finding, in words.
    stats : DataFrame
        Descriptive statistics of quantity, unit price, line total and order
        total (index) over all lines: count, mean, std, min, quantiles, max.
    non_product_codes : DataFrame
        ``stock_code``, ``description``, ``rows``, ``revenue``.
    extremes : DataFrame
        The extreme purchase lines and orders, with ``cancelled_after``.
    thresholds : dict
        The extreme thresholds in original units.
    """

    rows: int
    revenue: float
    customers: int
    date_min: str | None
    date_max: str | None
    findings: pd.DataFrame
    rules: dict[str, str]
    stats: pd.DataFrame
    non_product_codes: pd.DataFrame
    extremes: pd.DataFrame
    thresholds: dict[str, float]
    cancelled_invoices: int = 0
    notes: list[str] = field(default_factory=list)

    def finding(self, key: str) -> dict:
        """One finding as a dict (rows, row_share, revenue, detail)."""
        row = self.findings.set_index("finding").loc[key]
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    def to_dict(self) -> dict:
        """JSON-ready form for summary.json."""
        return {
            "rows": self.rows,
            "revenue": self.revenue,
            "customers": self.customers,
            "date_min": self.date_min,
            "date_max": self.date_max,
            "cancelled_invoices": self.cancelled_invoices,
            "findings": _records(self.findings),
            "rules": self.rules,
            "stats": {k: {c: _num(v) for c, v in row.items()} for k, row in self.stats.iterrows()},
            "non_product_codes": _records(self.non_product_codes),
            "extremes": _records(self.extremes),
            "thresholds": self.thresholds,
            "notes": self.notes,
        }


def _num(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append(
            {k: (str(v) if isinstance(v, pd.Timestamp) else _num(v)) for k, v in rec.items()}
        )
    return out


def _quantile_fn(approx: bool) -> str:
    return "approx_quantile" if approx else "quantile_cont"


def descriptive_stats(
    con: duckdb.DuckDBPyConnection, view: str = "lines", *, approx: bool = False
) -> pd.DataFrame:
    """Count, mean, std, min, 1/5/25/50/75/95/99th percentiles and max of quantity,
    unit price, line total and order total (sum of line totals per invoice).

    Parameters
    ----------
    con : duckdb connection
    view : str
        Relation with canonical line columns.
    approx : bool
        Use DuckDB's approximate quantiles (for very large inputs).
    """
    qf = _quantile_fn(approx)
    probs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    names = ["p01", "p05", "p25", "p50", "p75", "p95", "p99"]

    def agg(col: str) -> str:
        qs = ", ".join(f"{qf}({col}, {p})" for p in probs)
        return f"count({col}), avg({col}), stddev_samp({col}), min({col}), {qs}, max({col})"

    rows = {}
    for name, col, rel in [
        ("quantity", S.QUANTITY, view),
        ("unit_price", S.UNIT_PRICE, view),
        ("line_total", S.AMOUNT, view),
        (
            "order_total",
            "order_total",
            f"(SELECT sum({S.AMOUNT}) AS order_total FROM {view} GROUP BY {S.INVOICE})",
        ),
    ]:
        rows[name] = con.execute(f"SELECT {agg(col)} FROM {rel}").fetchone()
    cols = ["count", "mean", "std", "min", *names, "max"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def audit(
    con: duckdb.DuckDBPyConnection,
    view: str = "lines",
    *,
    approx: bool | None = None,
    top_extremes: int = 50,
) -> AuditReport:
    """Audit the transaction lines.

    Parameters
    ----------
    con : duckdb connection
    view : str
        Relation with canonical line columns.
    approx : bool, optional
        Approximate quantiles; default: only beyond 20 million lines.
    top_extremes : int
        How many extreme lines/orders to list (all are counted).

    Returns
    -------
    AuditReport
    """
    inv, qty, price, amt, cust, code, date = (
        S.INVOICE,
        S.QUANTITY,
        S.UNIT_PRICE,
        S.AMOUNT,
        S.CUSTOMER_ID,
        S.STOCK_CODE,
        S.INVOICE_DATE,
    )
    is_cancel = f"starts_with({inv}, 'C')"
    is_adjust = f"starts_with({inv}, 'A')"
    non_product = f"({code} IS NOT NULL AND NOT regexp_matches({code}, '{PRODUCT_CODE_PATTERN}'))"
    conds = {
        "missing_customer_id": f"{cust} IS NULL",
        "cancellation_lines": is_cancel,
        "negative_quantity": f"{qty} < 0 AND NOT coalesce({is_cancel}, FALSE)",
        "zero_price": f"{price} = 0",
        "negative_price": f"{price} < 0",
        "bad_debt_adjustment": is_adjust,
        "non_product_codes": non_product,
    }
    select = ", ".join(
        f"count(*) FILTER (WHERE {c}), coalesce(sum({amt}) FILTER (WHERE {c}), 0)"
        for c in conds.values()
    )
    row = con.execute(
        f"""SELECT count(*), coalesce(sum({amt}), 0), count(DISTINCT {cust}),
                   CAST(min({date}) AS VARCHAR), CAST(max({date}) AS VARCHAR),
                   count(DISTINCT {inv}) FILTER (WHERE {is_cancel}),
                   count(*) FILTER (WHERE {is_cancel} AND {qty} < 0),
                   {select}
            FROM {view}"""
    ).fetchone()
    n, revenue, customers, dmin, dmax, cancelled_invoices, cancel_neg = row[:7]
    vals = row[7:]
    found: dict[str, tuple[int, float, object]] = {}
    for i, key in enumerate(conds):
        found[key] = (vals[2 * i], vals[2 * i + 1], None)
    found["cancellation_lines"] = (*found["cancellation_lines"][:2], cancelled_invoices)
    if approx is None:
        approx = n > 20_000_000

    # Exact duplicate lines: every line beyond the first of identical copies.
    cols = ", ".join(S.LINE_COLUMNS)
    dup_rows, dup_rev = con.execute(
        f"SELECT coalesce(sum(c - 1), 0), coalesce(sum((c - 1) * a), 0) FROM "
        f"(SELECT count(*) AS c, any_value({amt}) AS a FROM {view} GROUP BY ALL_COLS) WHERE c > 1".replace(
            "GROUP BY ALL_COLS", f"GROUP BY {cols}"
        )
    ).fetchone()
    found["exact_duplicates"] = (int(dup_rows), float(dup_rev), None)

    # Extreme quantities and order values (purchases only), and whether a matching cancellation follows.
    qf = _quantile_fn(approx)
    purchases = f"NOT coalesce({is_cancel}, FALSE) AND NOT coalesce({is_adjust}, FALSE)"
    thr_q = con.execute(
        f"""SELECT power(10, median(l) + {EXTREME_Z} * 1.4826 * mad(l)) FROM
            (SELECT log10({qty}) AS l FROM {view} WHERE {purchases} AND {qty} > 0)"""
        if not approx
        else f"""WITH s AS (SELECT log10({qty}) AS l FROM {view} WHERE {purchases} AND {qty} > 0),
                 m AS (SELECT {qf}(l, 0.5) AS med FROM s)
            SELECT power(10, med + {EXTREME_Z} * 1.4826 * (SELECT {qf}(abs(l - med), 0.5) FROM s)) FROM m"""
    ).fetchone()[0]
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _orders AS
            SELECT {inv} AS invoice, any_value({cust}) AS customer_id, min({date}) AS invoice_date,
                   sum({amt}) AS order_total, count(*) AS n_lines
            FROM {view} WHERE {purchases} GROUP BY {inv}"""
    )
    thr_o = con.execute(
        f"""SELECT power(10, median(l) + {EXTREME_Z} * 1.4826 * mad(l)) FROM
            (SELECT log10(order_total) AS l FROM _orders WHERE order_total > 0)"""
    ).fetchone()[0]
    cancel_match = f"""EXISTS (SELECT 1 FROM {view} c WHERE starts_with(c.{inv}, 'C')
                          AND c.{cust} = x.{cust} AND c.{code} = x.{code}
                          AND c.{qty} = -x.{qty} AND c.{date} >= x.{date})"""
    line_cols = [
        "kind",
        "invoice",
        "customer_id",
        "stock_code",
        "description",
        "invoice_date",
        "quantity",
        "value",
        "cancelled_after",
    ]
    ext_lines = (
        pd.DataFrame(columns=line_cols)
        if thr_q is None
        else con.execute(
            f"""SELECT 'quantity' AS kind, x.{inv} AS invoice, x.{cust} AS customer_id, x.{code} AS stock_code,
                   x.{S.DESCRIPTION} AS description, x.{date} AS invoice_date, x.{qty} AS quantity,
                   x.{amt} AS value, {cancel_match} AS cancelled_after
            FROM {view} x WHERE {purchases.replace(inv, "x." + inv)} AND x.{qty} > {thr_q}
            ORDER BY x.{qty} DESC, x.{inv}, x.{code}"""
        ).df()
    )
    ext_orders = (
        pd.DataFrame(columns=line_cols)
        if thr_o is None
        else con.execute(
            f"""SELECT 'order_value' AS kind, o.invoice, o.customer_id, NULL AS stock_code,
                   CAST(o.n_lines AS VARCHAR) || ' lines' AS description, o.invoice_date,
                   NULL AS quantity, o.order_total AS value,
                   EXISTS (SELECT 1 FROM {view} x WHERE x.{inv} = o.invoice AND {cancel_match}) AS cancelled_after
            FROM _orders o WHERE o.order_total > {thr_o}
            ORDER BY o.order_total DESC, o.invoice"""
        ).df()
    )
    for key, df in (("extreme_quantity", ext_lines), ("extreme_order_value", ext_orders)):
        found[key] = (
            len(df),
            float(df["value"].sum()) if len(df) else 0.0,
            int(df["cancelled_after"].sum()),
        )
    parts = [df.head(top_extremes) for df in (ext_lines, ext_orders) if len(df)]
    extremes = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=line_cols)

    npc = con.execute(
        f"""SELECT {code} AS stock_code, mode({S.DESCRIPTION}) AS description, count(*) AS rows,
                   sum({amt}) AS revenue
            FROM {view} WHERE {non_product} GROUP BY {code} ORDER BY rows DESC, stock_code"""
    ).df()

    findings = pd.DataFrame(
        [
            {
                "finding": k,
                "rows": int(found[k][0]),
                "row_share": (found[k][0] / n) if n else 0.0,
                "revenue": float(found[k][1]),
                "detail": found[k][2],
            }
            for k in FINDING_KEYS
        ]
    )
    rules = {
        "missing_customer_id": "customer id empty",
        "cancellation_lines": f"invoice starts with 'C' (detail: distinct cancelled invoices; {cancel_neg} of these lines have a negative quantity)",
        "negative_quantity": "quantity < 0 on an invoice that is not a cancellation (stock corrections)",
        "zero_price": "unit price = 0",
        "negative_price": "unit price < 0",
        "bad_debt_adjustment": "invoice starts with 'A'",
        "exact_duplicates": "every copy beyond the first of lines identical in all columns",
        "non_product_codes": NON_PRODUCT_RULE,
        "extreme_quantity": f"purchase line quantity above {thr_q or float('nan'):,.0f}: {EXTREME_RULE} (detail: followed by a cancellation of the same customer, product and quantity)",
        "extreme_order_value": f"order total above {thr_o or float('nan'):,.2f}: {EXTREME_RULE} (detail: orders with a line cancelled afterwards)",
    }
    return AuditReport(
        rows=int(n),
        revenue=float(revenue),
        customers=int(customers),
        date_min=dmin,
        date_max=dmax,
        findings=findings,
        rules=rules,
        stats=descriptive_stats(con, view, approx=approx),
        non_product_codes=npc,
        extremes=extremes,
        thresholds={"quantity": _num(thr_q), "order_value": _num(thr_o)},
        cancelled_invoices=int(cancelled_invoices),
    )
