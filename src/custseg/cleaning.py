"""The cleaning policy (task 2): which lines feed the customer features.

Rules are applied in a fixed order, each to what the previous ones left, so
the number of rows each rule removes adds up to the total removed. The result
is two DuckDB views: ``clean_lines`` (kept purchase lines) and
``return_lines`` (cancellation lines of identified customers, used for the
return rate and, with ``returns="net"``, netted against purchases).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import duckdb
import pandas as pd

from custseg import schema as S
from custseg.audit import NON_PRODUCT_RULE, PRODUCT_CODE_PATTERN
from custseg.engine import MATERIALIZE_MAX_ROWS
from custseg.errors import DataError, ParameterError


@dataclass(frozen=True)
class CleaningPolicy:
    """Which lines are kept.

    Parameters
    ----------
    returns : {"drop", "net"}
        ``"drop"``: cancellation lines are left out of spend (they still give
        the return rate). ``"net"``: their value is subtracted from the
        customer's spend.
    non_product : {"drop", "keep"}
        Service and accounting lines (postage, manual, fees, discounts...):
        drop them from spend, or keep them.
    duplicates : {"drop", "keep"}
        Exact duplicate lines: keep one copy, or keep all.
    """

    returns: Literal["drop", "net"] = "drop"
    non_product: Literal["drop", "keep"] = "drop"
    duplicates: Literal["drop", "keep"] = "drop"

    def validate(self) -> CleaningPolicy:
        """Raise :class:`ParameterError` on an unknown choice; return self."""
        for name, allowed in (
            ("returns", ("drop", "net")),
            ("non_product", ("drop", "keep")),
            ("duplicates", ("drop", "keep")),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ParameterError(
                    f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}, not '{value}'",
                    fix=f"use --{name.replace('_', '-')} {allowed[0]}",
                )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


COMMON_POLICY = CleaningPolicy(returns="drop", non_product="keep", duplicates="keep")
"""The policy of most published analyses of this dataset: drop rows without
customer id, cancellations, non-positive quantity or price (397,884 lines and
4,338 customers on Online Retail)."""

RULE_TEXT = {
    "missing_customer_id": "no customer id: cannot be attributed to a customer",
    "exact_duplicates": "exact duplicate of another line (one copy kept)",
    "cancellation": "cancellation (invoice starts with 'C')",
    "bad_debt_adjustment": "bad-debt adjustment (invoice starts with 'A')",
    "non_positive_quantity": "quantity <= 0 outside cancellations",
    "non_positive_price": "unit price <= 0",
    "non_product_code": f"non-product code ({NON_PRODUCT_RULE})",
    "after_snapshot": "dated on or after the snapshot date",
}


@dataclass
class CleaningResult:
    """Outcome of :func:`apply_policy`.

    Attributes
    ----------
    policy : CleaningPolicy
    removed : DataFrame
        ``rule``, ``description``, ``rows_removed`` in the order applied.
    rows_in, rows_kept : int
    customers : int
        Customers with at least one kept purchase line.
    return_lines : int
        Cancellation lines of identified customers (for the return rate).
    """

    policy: CleaningPolicy
    removed: pd.DataFrame
    rows_in: int
    rows_kept: int
    customers: int
    return_lines: int
    snapshot: str | None = None

    def to_dict(self) -> dict:
        return {
            "policy": self.policy.to_dict(),
            "rules": self.removed.to_dict(orient="records"),
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "customers": self.customers,
            "return_lines": self.return_lines,
            "snapshot": self.snapshot,
        }


def apply_policy(
    con: duckdb.DuckDBPyConnection,
    policy: CleaningPolicy = CleaningPolicy(),
    *,
    view: str = "lines",
    before: str | None = None,
) -> CleaningResult:
    """Create views ``clean_lines`` and ``return_lines`` from ``view``.

    Parameters
    ----------
    con : duckdb connection
    policy : CleaningPolicy
    view : str
        Relation with canonical line columns.
    before : str, optional
        ISO date; lines dated on or after it are left out (the snapshot date).

    Returns
    -------
    CleaningResult

    Raises
    ------
    DataError
        When no line is left.
    """
    policy.validate()
    inv, qty, price, cust, code, date = (
        S.INVOICE,
        S.QUANTITY,
        S.UNIT_PRICE,
        S.CUSTOMER_ID,
        S.STOCK_CODE,
        S.INVOICE_DATE,
    )
    cols = ", ".join(S.LINE_COLUMNS)
    # One pass for the totals and whether the file has quantities at all.
    total, with_id, has_qty = con.execute(
        f"SELECT count(*), count({cust}), count({qty}) > 0 FROM {view}"
    ).fetchone()
    base = f"(SELECT * FROM {view} WHERE {cust} IS NOT NULL)"
    if policy.duplicates == "drop":
        base = f"(SELECT DISTINCT {cols} FROM {view} WHERE {cust} IS NOT NULL)"
    is_cancel = f"starts_with({inv}, 'C')"
    # Amount-only files have no quantity/price: those rules then look at the amount.
    qty_col = qty if has_qty else S.AMOUNT
    cases = [
        ("cancellation", f"coalesce({is_cancel}, FALSE)"),
        ("bad_debt_adjustment", f"coalesce(starts_with({inv}, 'A'), FALSE)"),
        ("non_positive_quantity", f"{qty_col} IS NULL OR {qty_col} <= 0"),
    ]
    if has_qty:
        cases.append(("non_positive_price", f"{price} IS NULL OR {price} <= 0"))
    if policy.non_product == "drop":
        cases.append(
            (
                "non_product_code",
                f"coalesce(NOT regexp_matches({code}, '{PRODUCT_CODE_PATTERN}'), FALSE)",
            )
        )
    if before:
        cases.append(("after_snapshot", f"{date} >= DATE '{before}'"))
    case = "CASE " + " ".join(f"WHEN {c} THEN '{k}'" for k, c in cases) + " ELSE NULL END"
    ret_filter = f"coalesce({is_cancel}, FALSE) AND {qty_col} < 0"
    if policy.non_product == "drop":
        ret_filter += f" AND coalesce(regexp_matches({code}, '{PRODUCT_CODE_PATTERN}'), TRUE)"
    if before:
        ret_filter += f" AND {date} < DATE '{before}'"
    # Small inputs: the tagged lines are computed once into a table that every later
    # stage reads (features, distributions); large ones stay a view, streamed.
    _drop_relation(con, "_tagged")
    kind = "TABLE" if with_id <= MATERIALIZE_MAX_ROWS else "VIEW"
    con.execute(
        f"CREATE TEMP {kind} _tagged AS SELECT *, {case} AS _rule, {ret_filter} AS _return "
        f"FROM {base}"
    )
    con.execute(
        f"CREATE OR REPLACE VIEW clean_lines AS SELECT {cols} FROM _tagged WHERE _rule IS NULL"
    )
    con.execute(f"CREATE OR REPLACE VIEW return_lines AS SELECT {cols} FROM _tagged WHERE _return")

    # One pass for the rows each rule removes, the customers kept and the return lines.
    counts, customers, n_returns = {}, 0, 0
    for rule, n, n_cust, n_ret in con.execute(
        f"""SELECT coalesce(_rule, '_kept'), count(*),
                   count(DISTINCT {cust}) FILTER (WHERE _rule IS NULL),
                   count(*) FILTER (WHERE _return)
            FROM _tagged GROUP BY 1"""
    ).fetchall():
        counts[rule] = n
        customers += n_cust
        n_returns += n_ret
    after_dedup = sum(counts.values())
    removed = [("missing_customer_id", total - with_id)]
    if policy.duplicates == "drop":
        removed.append(("exact_duplicates", with_id - after_dedup))
    removed += [(k, counts.get(k, 0)) for k, _ in cases]
    removed_df = pd.DataFrame(
        [{"rule": k, "description": RULE_TEXT[k], "rows_removed": int(v)} for k, v in removed]
    )
    kept = counts.get("_kept", 0)
    if kept == 0:
        detail = ", ".join(
            f"{r['rule']}: {r['rows_removed']}" for r in removed_df.to_dict("records")
        )
        raise DataError(
            f"no line is left after cleaning ({detail})",
            fix="check the input columns and the cleaning options (--returns, --non-product, --duplicates, --as-of)",
        )
    return CleaningResult(
        policy=policy,
        removed=removed_df,
        rows_in=int(total),
        rows_kept=int(kept),
        customers=int(customers),
        return_lines=int(n_returns),
        snapshot=before,
    )


def _drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temporary table or view ``name`` if there is one."""
    found = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND temporary "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND temporary",
        [name, name],
    ).fetchall()
    for (kind,) in found:
        con.execute(f"DROP {kind} IF EXISTS {name}")
