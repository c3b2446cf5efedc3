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
from custseg.engine import materialized

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


_STAT_PROBS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_STAT_COLUMNS = [
    "count",
    "mean",
    "std",
    "min",
    "p01",
    "p05",
    "p25",
    "p50",
    "p75",
    "p95",
    "p99",
    "max",
]
APPROX_MIN_ROWS = 20_000_000  # beyond this many lines, quantiles are approximate by default


def _exact_sum(expr: str) -> str:
    """SQL: the sum of ``expr`` computed exactly (DECIMAL), as a DOUBLE.

    A DOUBLE sum depends on the order in which DuckDB's threads meet the rows, so
    it changes in the last bits from run to run; a DECIMAL sum does not.
    """
    return f"CAST(sum(CAST({expr} AS DECIMAL(38, 6))) AS DOUBLE)"


def _stat_aggregates(col: str, qf: str) -> str:
    # One quantile call with a list of probabilities sorts the column once, not seven times.
    probs = ", ".join(str(p) for p in _STAT_PROBS)
    qs = ", ".join(f"q_{col}[{i + 1}]" for i in range(len(_STAT_PROBS)))
    n = f"count({col})"
    mean = f"{_exact_sum(col)} / nullif({n}, 0)"
    # Sample variance from exact sums of x and x^2: the same figures on every run.
    var = (
        f"({_exact_sum(f'{col} * {col}')} - {_exact_sum(col)} * {_exact_sum(col)} / {n})"
        f" / nullif({n} - 1, 0)"
    )
    return (
        f"{n}, {mean}, sqrt(greatest({var}, 0)), min({col}), "
        f"{qs.replace(f'q_{col}', f'{qf}({col}, [{probs}])')}, max({col})"
    )


def _stats(
    con: duckdb.DuckDBPyConnection, view: str, approx: bool, order_totals: str | None = None
) -> pd.DataFrame:
    """:func:`descriptive_stats`; ``order_totals`` names a relation with one
    ``order_total`` per invoice when the caller has one (saves a pass)."""
    qf = _quantile_fn(approx)
    line_cols = [("quantity", S.QUANTITY), ("unit_price", S.UNIT_PRICE), ("line_total", S.AMOUNT)]
    # The three line-level columns in one pass.
    row = con.execute(
        f"SELECT {', '.join(_stat_aggregates(col, qf) for _, col in line_cols)} FROM {view}"
    ).fetchone()
    width = len(_STAT_COLUMNS)
    rows = {name: row[i * width : (i + 1) * width] for i, (name, _) in enumerate(line_cols)}
    rel = order_totals or (
        f"(SELECT {_exact_sum(S.AMOUNT)} AS order_total FROM {view} GROUP BY {S.INVOICE})"
    )
    rows["order_total"] = con.execute(
        f"SELECT {_stat_aggregates('order_total', qf)} FROM {rel}"
    ).fetchone()
    return pd.DataFrame.from_dict(rows, orient="index", columns=_STAT_COLUMNS)


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

    Returns
    -------
    DataFrame
        Index quantity, unit_price, line_total, order_total; columns count,
        mean, std, min, p01 ... p99, max.
    """
    return _stats(con, view, approx)


def audit(
    con: duckdb.DuckDBPyConnection,
    view: str = "lines",
    *,
    approx: bool | None = None,
    top_extremes: int = 50,
) -> AuditReport:
    """Audit the transaction lines.

    Inputs of at most :data:`custseg.engine.MATERIALIZE_MAX_ROWS` lines are
    first copied into a temporary DuckDB table (dropped at the end), so that
    the loader's per-value normalisation runs once instead of once per query;
    larger inputs are streamed, in six passes over the lines.

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
    n_lines = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    if approx is None:
        approx = n_lines > APPROX_MIN_ROWS
    with materialized(con, view, n_lines, "_audit_lines") as rel:
        try:
            return _audit(con, rel, approx=approx, top_extremes=top_extremes)
        finally:
            for table in ("_audit_invoices", "_audit_suspects"):
                con.execute(f"DROP TABLE IF EXISTS {table}")


def _audit(
    con: duckdb.DuckDBPyConnection, view: str, *, approx: bool, top_extremes: int
) -> AuditReport:
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
    purchases = f"NOT coalesce({is_cancel}, FALSE) AND NOT coalesce({is_adjust}, FALSE)"
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
        f"count(*) FILTER (WHERE {c}), "
        f"coalesce(CAST(sum(CAST({amt} AS DECIMAL(38, 6))) FILTER (WHERE {c}) AS DOUBLE), 0)"
        for c in conds.values()
    )
    # Pass 1: every finding's count and revenue, the totals and, with exact
    # quantiles, the median and MAD of log10(quantity) over purchase lines.
    lq = f"log10(CASE WHEN {purchases} AND {qty} > 0 THEN {qty} END)"
    robust_q = "NULL" if approx else f"power(10, median({lq}) + {EXTREME_Z} * 1.4826 * mad({lq}))"
    row = con.execute(
        f"""SELECT count(*), coalesce({_exact_sum(amt)}, 0), count(DISTINCT {cust}),
                   CAST(min({date}) AS VARCHAR), CAST(max({date}) AS VARCHAR),
                   count(DISTINCT {inv}) FILTER (WHERE {is_cancel}),
                   count(*) FILTER (WHERE {is_cancel} AND {qty} < 0),
                   {robust_q}, {select}
            FROM {view}"""
    ).fetchone()
    n, revenue, customers, dmin, dmax, cancelled_invoices, cancel_neg, thr_q = row[:8]
    vals = row[8:]
    found: dict[str, tuple[int, float, object]] = {}
    for i, key in enumerate(conds):
        found[key] = (vals[2 * i], vals[2 * i + 1], None)
    found["cancellation_lines"] = (*found["cancellation_lines"][:2], cancelled_invoices)
    qf = _quantile_fn(approx)
    if approx:
        thr_q = con.execute(
            f"""WITH s AS (SELECT log10({qty}) AS l FROM {view} WHERE {purchases} AND {qty} > 0),
                 m AS (SELECT {qf}(l, 0.5) AS med FROM s)
            SELECT power(10, med + {EXTREME_Z} * 1.4826 * (SELECT {qf}(abs(l - med), 0.5) FROM s)) FROM m"""
        ).fetchone()[0]

    # Pass 2: exact duplicate lines, every line beyond the first of identical copies.
    # Only the lines whose hash of a few narrow columns repeats can be copies: they
    # alone are grouped on every column (instead of a hash table as wide as the lines).
    cols = ", ".join(S.LINE_COLUMNS)
    narrow = f"hash({cust}, {code}, {date}, {qty}, {price}, {amt})"
    dup_rows, dup_rev = con.execute(
        f"""WITH twice AS (
                SELECT h FROM (SELECT {narrow} AS h FROM {view}) GROUP BY h HAVING count(*) > 1
            )
            SELECT coalesce(sum(c - 1), 0), coalesce({_exact_sum("(c - 1) * a")}, 0) FROM
            (SELECT count(*) AS c, any_value({amt}) AS a FROM {view}
             WHERE {narrow} IN (SELECT h FROM twice) GROUP BY {cols}) WHERE c > 1"""
    ).fetchone()
    found["exact_duplicates"] = (int(dup_rows), float(dup_rev), None)

    # Pass 3: one row per invoice. Whether a line is a purchase depends on its
    # invoice number only, so an invoice's lines are all purchases or none is:
    # purchase invoices are the orders whose value may be extreme, and every
    # invoice's total feeds the order-total statistics.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _audit_invoices AS
            SELECT {inv} AS invoice, any_value({cust}) AS customer_id,
                   min({date}) AS invoice_date, {_exact_sum(amt)} AS order_total,
                   count(*) AS n_lines, bool_and({purchases}) AS purchase
            FROM {view} GROUP BY {inv}"""
    )
    orders = "(SELECT * FROM _audit_invoices WHERE purchase)"
    thr_o = con.execute(
        f"""SELECT power(10, median(l) + {EXTREME_Z} * 1.4826 * mad(l)) FROM
            (SELECT log10(order_total) AS l FROM {orders} WHERE order_total > 0)"""
    ).fetchone()[0]

    # Pass 4: the suspect lines (extreme purchase lines, lines of extreme orders) and
    # every cancellation line, so that "cancelled afterwards" is a join of small tables.
    extreme_line = "FALSE" if thr_q is None else f"({purchases} AND {qty} > {thr_q})"
    extreme_order = (
        "FALSE"
        if thr_o is None
        else f"{inv} IN (SELECT invoice FROM {orders} WHERE order_total > {thr_o})"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _audit_suspects AS
            SELECT {inv} AS invoice, {cust} AS customer_id, {code} AS stock_code,
                   {S.DESCRIPTION} AS description, {date} AS invoice_date, {qty} AS quantity,
                   {amt} AS value, {extreme_line} AS extreme_line,
                   coalesce({is_cancel}, FALSE) AS cancel
            FROM {view} WHERE {extreme_line} OR {extreme_order}
                OR ({is_cancel} AND {cust} IS NOT NULL)"""
    )
    cancelled_after = """EXISTS (SELECT 1 FROM _audit_suspects c WHERE c.cancel
                          AND c.customer_id = x.customer_id AND c.stock_code = x.stock_code
                          AND c.quantity = -x.quantity AND c.invoice_date >= x.invoice_date)"""
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
            f"""SELECT 'quantity' AS kind, x.invoice, x.customer_id, x.stock_code, x.description,
                   x.invoice_date, x.quantity, x.value, {cancelled_after} AS cancelled_after
            FROM _audit_suspects x WHERE x.extreme_line
            ORDER BY x.quantity DESC, x.invoice, x.stock_code"""
        ).df()
    )
    ext_orders = (
        pd.DataFrame(columns=line_cols)
        if thr_o is None
        else con.execute(
            f"""SELECT 'order_value' AS kind, o.invoice, o.customer_id, NULL AS stock_code,
                   CAST(o.n_lines AS VARCHAR) || ' lines' AS description, o.invoice_date,
                   NULL AS quantity, o.order_total AS value,
                   EXISTS (SELECT 1 FROM _audit_suspects x
                           WHERE x.invoice = o.invoice AND NOT x.cancel AND {cancelled_after})
                       AS cancelled_after
            FROM {orders} o WHERE o.order_total > {thr_o}
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

    # Pass 5: the non-product codes.
    npc = con.execute(
        f"""WITH d AS (
                SELECT {code} AS stock_code, {S.DESCRIPTION} AS description, count(*) AS n,
                       sum(CAST({amt} AS DECIMAL(38, 6))) AS revenue
                FROM {view} WHERE {non_product} GROUP BY {code}, {S.DESCRIPTION})
            -- The most frequent description, ties broken alphabetically (mode() is not stable).
            SELECT stock_code, first(description ORDER BY n DESC, description NULLS LAST) AS description,
                   CAST(sum(n) AS BIGINT) AS rows, CAST(sum(revenue) AS DOUBLE) AS revenue
            FROM d GROUP BY stock_code ORDER BY rows DESC, stock_code"""
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
    # Pass 6: statistics of the line columns (order totals come from pass 3).
    stats = _stats(con, view, approx, order_totals="_audit_invoices")
    return AuditReport(
        rows=int(n),
        revenue=float(revenue),
        customers=int(customers),
        date_min=dmin,
        date_max=dmax,
        findings=findings,
        rules=rules,
        stats=stats,
        non_product_codes=npc,
        extremes=extremes,
        thresholds={"quantity": _num(thr_q), "order_value": _num(thr_o)},
        cancelled_invoices=int(cancelled_invoices),
    )
