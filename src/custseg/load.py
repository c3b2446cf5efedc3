"""Load a transaction log into DuckDB under the canonical column names.

This is the only stage that reads input files. Whatever the source (xlsx, csv,
parquet or a pandas DataFrame), the result is a DuckDB view or table ``lines``
with the canonical columns of :mod:`custseg.schema`; every later stage reads
that and nothing else.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from custseg import schema as S
from custseg.engine import connect, quote_ident, quote_literal
from custseg.errors import ColumnError, DataError, InputFileError

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = {".parquet", ".pq"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}

# Column names (lower-cased, without spaces, underscores or dashes) recognised
# without an explicit mapping, for files that follow neither known layout.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer": ("customerid", "customer", "clientid", "client", "custid", "customerno", "userid"),
    "date": (
        "invoicedate",
        "date",
        "orderdate",
        "transactiondate",
        "purchasedate",
        "datetime",
        "timestamp",
        "time",
    ),
    "invoice": (
        "invoiceno",
        "invoice",
        "invoiceid",
        "orderid",
        "orderno",
        "order",
        "transactionid",
    ),
    "quantity": ("quantity", "qty", "units"),
    "price": ("unitprice", "price", "priceeach"),
    "amount": ("amount", "total", "linetotal", "revenue", "sales", "value", "montant", "spend"),
    "stock_code": ("stockcode", "sku", "productid", "productcode", "itemid"),
    "description": ("description", "productname", "itemname"),
    "country": ("country", "pays"),
}

DAY_FIRST_FORMATS = [
    f"%d{sep}%m{sep}{y}{t}"
    for sep in ("/", "-", ".")
    for y in ("%Y", "%y")
    for t in (" %H:%M:%S", " %H:%M", "")
]
MONTH_FIRST_FORMATS = [
    f.replace("%d", "%Q").replace("%m", "%d").replace("%Q", "%m") for f in DAY_FIRST_FORMATS
]

_NULL_STRINGS = "('', 'nan', 'none', 'null', 'na', 'n/a')"


@dataclass
class LoadedData:
    """Transaction lines loaded into DuckDB under canonical names.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection holding the ``lines`` relation.
    view : str
        Name of the relation with canonical columns (``"lines"``).
    source : str
        The input path, or ``"<DataFrame>"``.
    format : str
        ``"parquet"``, ``"csv"``, ``"xlsx"`` or ``"dataframe"``.
    layout : str or None
        The known dataset layout recognised, if any.
    mapping : ColumnMapping
        Source column for each canonical field.
    source_columns : list of str
        Columns found in the source.
    rows : int
        Number of lines.
    notes : list of str
        What was detected or fixed on the way (date format, header rows...).
    """

    con: duckdb.DuckDBPyConnection
    view: str
    source: str
    format: str
    layout: str | None
    mapping: S.ColumnMapping
    source_columns: list[str]
    rows: int
    date_format: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready description of the input (for summary.json)."""
        return {
            "source": self.source,
            "format": self.format,
            "layout": self.layout,
            "rows": self.rows,
            "columns_found": self.source_columns,
            "mapping": self.mapping.as_dict(),
            "date_format": self.date_format,
            "notes": self.notes,
        }


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def resolve_mapping(
    columns: list[str],
    mapping: S.ColumnMapping | None = None,
    overrides: dict[str, str | None] | None = None,
    *,
    source: str = "input",
) -> tuple[S.ColumnMapping, str | None]:
    """Decide which source column feeds each canonical field.

    Parameters
    ----------
    columns : list of str
        Columns present in the source.
    mapping : ColumnMapping, optional
        A complete explicit mapping; wins over everything.
    overrides : dict, optional
        Field name (``customer``, ``date``, ``invoice``, ``quantity``, ``price``,
        ``amount``, ``date_format``...) to source column, from CLI options; applied
        on top of the detected layout.
    source : str
        Name of the input, for error messages.

    Returns
    -------
    (ColumnMapping, layout name or None)

    Raises
    ------
    ColumnError
        A named column does not exist, or a required field cannot be found.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    layout_name = None
    if mapping is None:
        layout = S.detect_layout(columns)
        if layout is not None:
            mapping = layout.mapping
            layout_name = layout.name
        else:
            by_norm = {}
            for c in columns:
                by_norm.setdefault(_norm(c), c)
            guessed: dict[str, str] = {}
            for fld, names in SYNONYMS.items():
                for n in names:
                    if n in by_norm and by_norm[n] not in guessed.values():
                        guessed[fld] = by_norm[n]
                        break
            mapping = S.ColumnMapping(
                customer=guessed.get("customer", ""),
                date=guessed.get("date", ""),
                **{k: v for k, v in guessed.items() if k not in ("customer", "date")},
            )
    if overrides:
        mapping = replace(mapping, **overrides)
    present = set(columns)
    for fld, col in [
        ("customer", mapping.customer),
        ("date", mapping.date),
        ("invoice", mapping.invoice),
        ("quantity", mapping.quantity),
        ("price", mapping.price),
        ("amount", mapping.amount),
        ("stock_code", mapping.stock_code),
        ("description", mapping.description),
        ("country", mapping.country),
    ]:
        if col and col not in present:
            explicit = fld in overrides
            close = difflib.get_close_matches(col, columns, n=1, cutoff=0.5)
            hint = f"closest match: '{close[0]}'" if close else "no close match"
            opt = f"--{fld.replace('_', '-')}-col"
            raise ColumnError(
                f"column '{col}' {'given to ' + opt if explicit else 'for ' + fld} does not exist "
                f"(columns found: {', '.join(columns)}; {hint})",
                path=source,
                fix=f"name an existing column with {opt}",
            )
    missing = []
    if not mapping.customer:
        missing.append("customer (--customer-col)")
    if not mapping.date:
        missing.append("date (--date-col)")
    if not mapping.amount and not (mapping.quantity and mapping.price):
        missing.append("amount (--amount-col) or quantity and price (--quantity-col, --price-col)")
    if missing:
        raise ColumnError(
            f"required columns not found: {'; '.join(missing)} (columns found: {', '.join(columns)})",
            path=source,
            fix="map them with the options shown",
        )
    return mapping, layout_name


def _source_relation(
    con: duckdb.DuckDBPyConnection, data: str | Path | pd.DataFrame, cache_dir: Path | None
) -> tuple[str, str, str]:
    """Register the raw source as view ``source``; return (source name, format, path read)."""
    if isinstance(data, pd.DataFrame):
        con.register("source_df", data)
        con.execute("CREATE OR REPLACE VIEW source AS SELECT * FROM source_df")
        return "<DataFrame>", "dataframe", ""
    path = Path(data)
    if not path.exists():
        raise InputFileError("file not found", path=path, fix="check the path, or set CUSTSEG_DATA")
    if path.is_dir():
        raise InputFileError(
            "is a folder, not a file", path=path, fix="name the transaction file itself"
        )
    if path.stat().st_size == 0:
        raise InputFileError("the file is empty", path=path, fix="export the transactions again")
    suffix = path.suffix.lower()
    fmt: str
    read_path = path
    if suffix in EXCEL_SUFFIXES:
        from custseg.excel import xlsx_to_parquet
        from custseg.locate import default_cache_dir

        read_path = xlsx_to_parquet(path, cache_dir or default_cache_dir())
        fmt = "xlsx"
    elif suffix in PARQUET_SUFFIXES:
        fmt = "parquet"
    elif suffix in CSV_SUFFIXES:
        fmt = "csv"
    else:
        raise InputFileError(
            f"unsupported file type '{suffix or '(none)'}'",
            path=path,
            fix="give a .csv, .parquet or .xlsx file",
        )
    lit = quote_literal(str(read_path))
    try:
        if fmt in ("parquet", "xlsx"):
            con.execute(f"CREATE OR REPLACE VIEW source AS SELECT * FROM read_parquet({lit})")
        else:
            con.execute(
                f"CREATE OR REPLACE VIEW source AS SELECT * FROM read_csv({lit}, all_varchar = true, header = true)"
            )
        con.execute("SELECT * FROM source LIMIT 1").fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(
            f"cannot be read as {fmt} ({first[:160]})",
            path=path,
            fix=f"check that it is a valid {fmt} file",
        ) from exc
    return str(path), fmt, str(read_path)


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM source").fetchall()}


def _is_numeric(t: str) -> bool:
    return t.split("(")[0] in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    }


def _id_expr(col: str, typ: str) -> str:
    """A string id: no spurious '.0', no stray whitespace, NULL when empty."""
    c = quote_ident(col)
    if typ.startswith(("FLOAT", "DOUBLE", "DECIMAL")):
        return (
            f"CASE WHEN {c} IS NULL OR isnan({c}) THEN NULL "
            f"WHEN {c} = floor({c}) THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR) "
            f"ELSE CAST({c} AS VARCHAR) END"
        )
    v = f"trim(CAST({c} AS VARCHAR))"
    return (
        f"CASE WHEN lower({v}) IN {_NULL_STRINGS} THEN NULL "
        f"ELSE regexp_replace({v}, '^([0-9]+)\\.0+$', '\\1') END"
    )


def _text_expr(col: str | None) -> str:
    if not col:
        return "CAST(NULL AS VARCHAR)"
    return f"nullif(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"


def _num_expr(col: str, typ: str) -> str:
    c = quote_ident(col)
    if _is_numeric(typ):
        return f"CAST({c} AS DOUBLE)"
    v = f"trim(CAST({c} AS VARCHAR))"
    return f"CASE WHEN lower({v}) IN {_NULL_STRINGS} THEN NULL ELSE TRY_CAST({v} AS DOUBLE) END"


def _raw_present(col: str, typ: str) -> str:
    c = quote_ident(col)
    if _is_numeric(typ) or typ.startswith(("TIMESTAMP", "DATE")):
        return f"{c} IS NOT NULL"
    return f"({c} IS NOT NULL AND lower(trim(CAST({c} AS VARCHAR))) NOT IN {_NULL_STRINGS})"


def _fmt_list(fmts: list[str]) -> str:
    return "[" + ", ".join(quote_literal(f) for f in fmts) + "]"


def _date_expr(
    con: duckdb.DuckDBPyConnection,
    col: str,
    typ: str,
    date_format: str | None,
    where: str,
    source: str,
) -> tuple[str, str, list[str]]:
    """Return (SQL expression, description of the parsing, notes)."""
    c = quote_ident(col)
    if typ.startswith("TIMESTAMP WITH TIME ZONE"):
        return (
            f"CAST(timezone('UTC', {c}) AS TIMESTAMP)",
            "timestamp with time zone, converted to UTC",
            ["dates carried a time zone: converted to UTC"],
        )
    if typ.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({c} AS TIMESTAMP)", "native timestamp", []
    if _is_numeric(typ):
        expr = (
            f"(TIMESTAMP '1899-12-30' + to_microseconds(CAST(round({c} * 86400000000) AS BIGINT)))"
        )
        return expr, "Excel serial day numbers", ["dates were Excel serial numbers: converted"]
    v = f"trim(CAST({c} AS VARCHAR))"
    if date_format:
        return f"try_strptime({v}, {quote_literal(date_format)})", date_format, []
    iso = f"CAST(TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
    iso_plain = f"TRY_CAST({v} AS TIMESTAMP)"
    dmy = f"try_strptime({v}, {_fmt_list(DAY_FIRST_FORMATS)})"
    mdy = f"try_strptime({v}, {_fmt_list(MONTH_FIRST_FORMATS)})"
    present = _raw_present(col, typ)
    row = con.execute(
        f"""SELECT count(*) FILTER (WHERE {present}),
                   count(*) FILTER (WHERE {present} AND {iso_plain} IS NULL),
                   count(*) FILTER (WHERE {present} AND {dmy} IS NULL),
                   count(*) FILTER (WHERE {present} AND {mdy} IS NULL),
                   count(*) FILTER (WHERE {present} AND regexp_matches({v}, '[+-][0-9]{{2}}:?[0-9]{{2}}$|Z$'))
            FROM source WHERE {where}"""
    ).fetchone()
    n, bad_iso, bad_dmy, bad_mdy, with_tz = row
    notes: list[str] = []
    if n and bad_iso == 0:
        if with_tz:
            notes.append("dates carried a UTC offset: converted to UTC")
            return iso, "ISO 8601 with offset (converted to UTC)", notes
        return iso_plain, "ISO 8601", notes
    if n and bad_dmy == 0 and bad_mdy == 0:
        notes.append(
            "dates are ambiguous (every day number is at most 12): read as day/month/year; "
            "pass --date-format '%m/%d/%Y %H:%M' if they are month/day/year"
        )
        return dmy, "day/month/year (ambiguous, day-first assumed)", notes
    if n and bad_dmy == 0:
        return dmy, "day/month/year", notes
    if n and bad_mdy == 0:
        return mdy, "month/day/year", notes
    best = min((bad_iso, iso_plain), (bad_dmy, dmy), (bad_mdy, mdy))[1]
    sample = con.execute(
        f"SELECT {v}, rn FROM (SELECT *, row_number() OVER () AS rn FROM source WHERE {where}) "
        f"WHERE {present} AND {best} IS NULL LIMIT 1"
    ).fetchone()
    raise DataError(
        f"dates in column '{col}' cannot be parsed (e.g. '{sample[0]}' on data row {sample[1]})",
        path=source,
        fix="pass --date-format, e.g. --date-format '%d/%m/%Y %H:%M'",
    )


def _check_numeric(
    con: duckdb.DuckDBPyConnection,
    col: str,
    typ: str,
    expr: str,
    where: str,
    source: str,
    what: str,
) -> None:
    if _is_numeric(typ):
        return
    present = _raw_present(col, typ)
    row = con.execute(
        f"SELECT {quote_ident(col)}, rn FROM (SELECT *, row_number() OVER () AS rn FROM source WHERE {where}) "
        f"WHERE {present} AND ({expr}) IS NULL LIMIT 1"
    ).fetchone()
    if row is not None:
        raise DataError(
            f"{what} column '{col}' holds a non-numeric value ('{row[0]}' on data row {row[1]})",
            path=source,
            fix=f"clean that column, or map another one with --{what}-col",
        )


def load_transactions(
    data: str | Path | pd.DataFrame,
    *,
    mapping: S.ColumnMapping | None = None,
    overrides: dict[str, str | None] | None = None,
    date_format: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    cache_dir: Path | None = None,
) -> LoadedData:
    """Load a transaction log into DuckDB relation ``lines`` with canonical columns.

    Parameters
    ----------
    data : path or DataFrame
        ``.xlsx`` (every sheet with the same header, read once with
        python-calamine and cached as parquet), ``.csv`` (delimiter detected),
        ``.parquet``, or a pandas DataFrame.
    mapping : ColumnMapping, optional
        Explicit mapping; by default the Online Retail and Online Retail II
        layouts are recognised, then common column names.
    overrides : dict, optional
        Per-field source columns (the CLI's ``--customer-col`` etc.).
    date_format : str, optional
        strptime format for text dates; by default ISO 8601, day/month/year and
        month/day/year are detected (ambiguity is reported in ``notes``).
    con : duckdb connection, optional
        Default: a new one from :func:`custseg.engine.connect`.
    cache_dir : path, optional
        Where converted workbooks are cached.

    Returns
    -------
    LoadedData
    """
    con = con or connect()
    source, fmt, _ = _source_relation(con, data, cache_dir)
    types = _types(con)
    columns = list(types)
    if date_format:
        overrides = {**(overrides or {}), "date_format": date_format}
    mapping, layout = resolve_mapping(columns, mapping, overrides, source=source)
    notes: list[str] = []

    # Repeated header rows (files concatenated by hand): the date column holds its own name.
    where = "TRUE"
    if not (
        _is_numeric(types[mapping.date]) or types[mapping.date].startswith(("TIMESTAMP", "DATE"))
    ):
        where = f"coalesce(trim(CAST({quote_ident(mapping.date)} AS VARCHAR)) <> {quote_literal(mapping.date)}, TRUE)"
        n_headers = con.execute(f"SELECT count(*) FROM source WHERE NOT ({where})").fetchone()[0]
        if n_headers:
            notes.append(f"{n_headers} repeated header row(s) skipped")
        else:
            where = "TRUE"

    total = con.execute(f"SELECT count(*) FROM source WHERE {where}").fetchone()[0]
    if total == 0:
        raise InputFileError(
            "no data rows (header only)", path=source, fix="export the transactions again"
        )

    date_sql, date_desc, date_notes = _date_expr(
        con, mapping.date, types[mapping.date], mapping.date_format, where, source
    )
    notes += date_notes
    present = _raw_present(mapping.date, types[mapping.date])
    bad = con.execute(
        f"SELECT count(*) FROM source WHERE {where} AND {present} AND {date_sql} IS NULL"
    ).fetchone()[0]
    if bad:
        sample = con.execute(
            f"SELECT CAST({quote_ident(mapping.date)} AS VARCHAR), rn FROM (SELECT *, row_number() OVER () AS rn "
            f"FROM source WHERE {where}) WHERE {present} AND {date_sql} IS NULL LIMIT 1"
        ).fetchone()
        raise DataError(
            f"{bad} date(s) in column '{mapping.date}' do not match {date_desc} "
            f"(e.g. '{sample[0]}' on data row {sample[1]})",
            path=source,
            fix="pass the right --date-format",
        )

    cust = _id_expr(mapping.customer, types[mapping.customer])
    qty = (
        _num_expr(mapping.quantity, types[mapping.quantity])
        if mapping.quantity
        else "CAST(NULL AS DOUBLE)"
    )
    price = (
        _num_expr(mapping.price, types[mapping.price]) if mapping.price else "CAST(NULL AS DOUBLE)"
    )
    for col, expr, what in [(mapping.quantity, qty, "quantity"), (mapping.price, price, "price")]:
        if col:
            _check_numeric(con, col, types[col], expr, where, source, what)
    if mapping.amount:
        amount = _num_expr(mapping.amount, types[mapping.amount])
        _check_numeric(con, mapping.amount, types[mapping.amount], amount, where, source, "amount")
    else:
        amount = f"({qty}) * ({price})"
    if mapping.invoice:
        invoice = _id_expr(mapping.invoice, types[mapping.invoice])
    else:
        # Starts with the date, so that no synthetic order looks like a 'C' cancellation.
        invoice = f"strftime({date_sql}, '%Y-%m-%dT%H:%M:%S') || '|' || ({cust})"
        notes.append("no invoice column: each distinct (customer, date-time) is one order")
    stock = (
        _id_expr(mapping.stock_code, types[mapping.stock_code])
        if mapping.stock_code
        else "CAST(NULL AS VARCHAR)"
    )

    select = f"""
        SELECT {invoice} AS {S.INVOICE},
               {stock} AS {S.STOCK_CODE},
               {_text_expr(mapping.description)} AS {S.DESCRIPTION},
               {qty} AS {S.QUANTITY},
               {date_sql} AS {S.INVOICE_DATE},
               {price} AS {S.UNIT_PRICE},
               {cust} AS {S.CUSTOMER_ID},
               {_text_expr(mapping.country)} AS {S.COUNTRY},
               {amount} AS {S.AMOUNT}
        FROM source WHERE {where}"""
    # CSV is re-parsed on every scan: materialise it once (DuckDB spills to disk if needed).
    kind = "TABLE" if fmt == "csv" else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} lines AS {select}")
    return LoadedData(
        con=con,
        view="lines",
        source=source,
        format=fmt,
        layout=layout,
        mapping=mapping,
        source_columns=columns,
        rows=int(total),
        date_format=date_desc,
        notes=notes,
    )
