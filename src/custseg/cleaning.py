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
from custseg.engine import (
    MATERIALIZE_MAX_ROWS,
    ROWS_COMMENT_PREFIX,
    create_repeated_table,
    has_column,
)
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


TAGGED_TABLE_MAX_ROWS = MATERIALIZE_MAX_ROWS
"""Up to this many lines with a customer id, the de-duplicated, tagged lines are
copied once into a temporary table that the features and the figures' summaries read;
beyond, they stay a view over the input, so that memory does not grow with the input.
Either way exact duplicates are found once, by hash, and dropped by position (see
:func:`_without_duplicates`; ``SELECT DISTINCT`` for relations without positions)."""

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
    customers : int or None
        Customers with at least one kept purchase line; None when the lines were
        streamed (``materialize=False`` or a large input): the feature table has
        one row per such customer.
    return_lines : int
        Cancellation lines of identified customers (for the return rate).
    """

    policy: CleaningPolicy
    removed: pd.DataFrame
    rows_in: int
    rows_kept: int
    customers: int | None
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
    materialize: bool = True,
    count: bool = True,
) -> CleaningResult | None:
    """Create views ``clean_lines`` and ``return_lines`` from ``view``.

    Also ``_tagged``: every line with a customer id, one copy of each exact
    duplicate, with its rule (``_rule``, NULL when kept) and return flag
    (``_return``); the two views select from it.

    Parameters
    ----------
    con : duckdb connection
    policy : CleaningPolicy
    view : str
        Relation with canonical line columns.
    before : str, optional
        ISO date; lines dated on or after it are left out (the snapshot date).
    materialize : bool, default True
        Copy ``_tagged`` into a temporary table when it has at most
        :data:`TAGGED_TABLE_MAX_ROWS` lines (worth it when many queries follow,
        as in the pipeline). False, or beyond that size, it stays a view that each
        query streams from the input; the customers are then not counted here
        (``customers`` is None: count the feature table's rows).
    count : bool, default True
        Count the rows each rule removes (a pass over the lines, and its own over
        the ids). False: only the views are made, streamed, and None is returned
        (for the feature table alone: :func:`custseg.pipeline.write_features` counts
        only when no line is left, to say why).

    Returns
    -------
    CleaningResult or None
        None when ``count`` is False.

    Raises
    ------
    DataError
        When no line is left (only when counting).
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
    if count:
        # One pass for the totals and whether the file has quantities at all.
        total, with_id, has_qty = con.execute(
            f"SELECT count(*), count({cust}), count({qty}) > 0 FROM {view}"
        ).fetchone()
    else:
        # Whether the file has quantities at all: stops at the first one.
        has_qty = con.execute(
            f"SELECT EXISTS (SELECT 1 FROM {view} WHERE {qty} IS NOT NULL)"
        ).fetchone()[0]
        total = with_id = 0
        materialize = False
    base = f"(SELECT * FROM {view} WHERE {cust} IS NOT NULL)"
    _drop_relation(con, "_tagged")
    _drop_relation(con, "_duplicate_rows")
    # Small inputs: the tagged lines are computed once into a table that every later
    # stage reads (features, distributions). Large ones stay a view, streamed: each pass
    # then reads the input again. Duplicates are found once and dropped by position
    # (cheaper than a DISTINCT over every column, on the real data too).
    kind = "TABLE" if materialize and with_id <= TAGGED_TABLE_MAX_ROWS else "VIEW"
    rows = _rows_relation(con, view) if policy.duplicates == "drop" else None
    if policy.duplicates == "drop" and rows is None:
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

    if rows is not None:
        base = _without_duplicates(con, *rows, has_qty=has_qty)
    con.execute(
        f"CREATE TEMP {kind} _tagged AS SELECT *, {case} AS _rule, {ret_filter} AS _return "
        f"FROM {base}"
    )
    # Streamed large files add the customer key (custseg.schema.CUSTOMER_KEY) after the
    # line columns.
    out_cols = cols
    if rows is not None and has_column(con, "_tagged", S.CUSTOMER_KEY):
        out_cols = f"{cols}, {S.CUSTOMER_KEY}"
    con.execute(
        f"CREATE OR REPLACE VIEW clean_lines AS SELECT {out_cols} FROM _tagged WHERE _rule IS NULL"
    )
    con.execute(
        f"CREATE OR REPLACE VIEW return_lines AS SELECT {out_cols} FROM _tagged WHERE _return"
    )
    if not count:
        return None

    # One pass for the rows each rule removes, the customers kept (counted on a table
    # only: on streamed lines the feature table counts them) and the return lines.
    counts: dict[str, int] = {}
    customers: int | None = 0 if kind == "TABLE" else None
    n_returns = 0
    distinct = f"count(DISTINCT {cust}) FILTER (WHERE _rule IS NULL)" if kind == "TABLE" else "0"
    for rule, n, n_cust, n_ret in con.execute(
        f"""SELECT coalesce(_rule, '_kept'), count(*), {distinct},
                   count(*) FILTER (WHERE _return)
            FROM _tagged GROUP BY 1"""
    ).fetchall():
        counts[rule] = n
        if customers is not None:
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
        customers=None if customers is None else int(customers),
        return_lines=int(n_returns),
        snapshot=before,
    )


def _rows_relation(con: duckdb.DuckDBPyConnection, view: str) -> tuple[str, str] | None:
    """(relation, position column) giving each line of ``view`` a unique position, if any.

    A table has ``rowid``; the loader's view of a parquet file names, in its comment,
    the view that adds each line's position in the file. Anything else: None.
    """
    row = con.execute(
        "SELECT 'table', NULL FROM duckdb_tables() WHERE table_name = ? "
        "UNION ALL SELECT 'view', comment FROM duckdb_views() WHERE view_name = ? AND NOT internal",
        [view, view],
    ).fetchall()
    if len(row) != 1:
        return None
    kind, comment = row[0]
    if kind == "table":
        return view, "rowid"
    if comment and comment.startswith(ROWS_COMMENT_PREFIX):
        return comment[len(ROWS_COMMENT_PREFIX) :], "_rn"
    return None


def _without_duplicates(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    position: str,
    *,
    has_qty: bool = True,
) -> str:
    """The lines of ``relation`` with a customer id, one copy of each exact duplicate.

    Exactly ``SELECT DISTINCT <line columns>``, without a hash table as wide as all
    the line columns: (1) the hash of a few of every line's columns, sorted, gives
    the hashes seen more than once (:func:`custseg.engine.create_repeated_table`);
    (2) only the lines with such a hash are grouped on all their columns, and every
    copy but the first (by position) is listed in temporary table ``_duplicate_rows``;
    (3) the result is ``relation`` without the listed positions. A hash shared by different lines only sends them to step (2),
    which compares the columns themselves: the result stays exact.
    """
    cols = ", ".join(S.LINE_COLUMNS)
    # The loader's view of a file has a customer key as discriminating as the text id
    # and cheaper (the number itself): the hashes use it, the exact comparison the ids.
    key = S.CUSTOMER_KEY if has_column(con, relation, S.CUSTOMER_KEY) else S.CUSTOMER_ID
    # The hash reads only the cheap columns that tell lines apart: customer, stock code,
    # quantity, price and date-time (the amount instead, for amount-only files). Copies
    # agree on every column anyway, and the few different lines that agree on these
    # (another invoice at the same second, another description) are told apart by step
    # (2). Step (1) then reads no free text and not the invoice number, the costliest
    # column to read (10 million lines: 1.5 s of CPU instead of 2.2 s).
    hashed = ", ".join(
        [key, S.STOCK_CODE, S.INVOICE_DATE]
        + ([S.QUANTITY, S.UNIT_PRICE] if has_qty else [S.AMOUNT])
    )
    with_id = f"{key} IS NOT NULL"
    create_repeated_table(
        con, f"SELECT hash({hashed}) FROM {relation} WHERE {with_id}", "_seen_twice"
    )
    try:
        # The positions of the lines with such a hash (reading the hashed columns only),
        # then those lines in full, compared on every column.
        con.execute(
            f"""CREATE TEMP TABLE _hash_twice AS SELECT {position} AS pos FROM {relation}
                WHERE {with_id} AND hash({hashed}) IN (SELECT v FROM _seen_twice)"""
        )
        con.execute(
            f"""CREATE TEMP TABLE _duplicate_rows AS
                WITH copies AS (
                    SELECT {position} AS pos, {cols} FROM {relation}
                    WHERE {position} IN (SELECT pos FROM _hash_twice)
                )
                SELECT unnest(list_sort(list(pos))[2:]) AS pos FROM copies GROUP BY {cols}"""
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _seen_twice")
        con.execute("DROP TABLE IF EXISTS _hash_twice")
    # The key travels with the lines: the feature table groups by it (see custseg.features).
    keep = f"{key}, {cols}" if key != S.CUSTOMER_ID else cols
    return (
        f"(SELECT {keep} FROM {relation} WHERE {with_id} "
        f"AND {position} NOT IN (SELECT pos FROM _duplicate_rows))"
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
