"""Load a transaction log into DuckDB under the canonical column names.

This is the only stage that reads input files. Whatever the source (xlsx, csv,
parquet or a pandas DataFrame), the result is a DuckDB view or table ``lines``
with the canonical columns of :mod:`custseg.schema`; every later stage reads
that and nothing else.

What the loader settles, so that no later stage has to:

* **format**: from the file name, checked against the first bytes (a parquet
  file named ``.csv`` is an error that says so); CSV in UTF-8, UTF-16 (with a
  byte-order mark) or, failing UTF-8, Latin-1; gzip/zstd-compressed CSV;
* **columns**: the Online Retail and Online Retail II layouts, else common
  names in English and French (accents, case, spaces and punctuation ignored);
* **customer ids**: ``17850``, ``17850.0`` and ``" 17850 "`` are one customer;
* **dates**: native timestamps, time zones (converted to UTC), ISO 8601 text
  with or without offset, day-first / month-first / year-first text (an
  ambiguous column is read day-first and reported), month names, Excel serial
  day numbers (numbers or text) and ``yyyymmdd`` integers;
* **numbers**: text numbers, decimal commas in ``;``- or tab-separated files;
  NaN is missing, infinity is an error;
* **text**: Unicode whitespace (tabs, no-break spaces) around codes and ids,
  repeated header rows of files concatenated by hand.

Every such decision is recorded in :attr:`LoadedData.notes` (and logged as a
warning); every value that cannot be used raises a :class:`~custseg.errors.CustsegError`
naming the file, a sample value and its data row (1 = first row after the header).
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from custseg import schema as S
from custseg.engine import (
    ROWS_COMMENT_PREFIX,
    connect,
    quote_ident,
    quote_literal,
)
from custseg.errors import ColumnError, DataError, InputFileError, ParameterError

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = {".parquet", ".pq"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}

# Column names recognised without an explicit mapping, for files that follow
# neither known layout. Compared after :func:`normalise_name` (lower case, no
# accents, letters and digits only), so "Customer ID", "customer_id" and
# "CUSTOMER-ID" all match "customerid"; "N° client" matches "nclient".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer": (
        "customerid",
        "customer",
        "customerno",
        "customernumber",
        "custid",
        "clientid",
        "client",
        "userid",
        "idclient",
        "nclient",
        "noclient",
        "numclient",
        "numeroclient",
        "codeclient",
    ),
    "date": (
        "invoicedate",
        "date",
        "orderdate",
        "transactiondate",
        "purchasedate",
        "datetime",
        "timestamp",
        "time",
        "datefacture",
        "datedefacture",
        "datecommande",
        "datedecommande",
        "dateachat",
    ),
    "invoice": (
        "invoiceno",
        "invoice",
        "invoiceid",
        "invoicenumber",
        "orderid",
        "orderno",
        "order",
        "transactionid",
        "facture",
        "nfacture",
        "nofacture",
        "numerofacture",
        "commande",
        "ncommande",
        "numerocommande",
    ),
    "quantity": ("quantity", "qty", "units", "quantite", "qte"),
    "price": ("unitprice", "price", "priceeach", "prixunitaire", "prix", "pu"),
    "amount": (
        "amount",
        "total",
        "linetotal",
        "revenue",
        "sales",
        "value",
        "spend",
        "montant",
        "chiffredaffaires",
    ),
    "stock_code": (
        "stockcode",
        "sku",
        "productid",
        "productcode",
        "itemid",
        "reference",
        "ref",
        "codearticle",
        "codeproduit",
    ),
    "description": ("description", "productname", "itemname", "libelle", "designation"),
    "country": ("country", "pays"),
}

FIELD_LABELS = {
    "customer": "customer id",
    "date": "invoice date",
    "invoice": "invoice number",
    "quantity": "quantity",
    "price": "unit price",
    "amount": "line amount",
    "stock_code": "product code",
    "description": "description",
    "country": "country",
}

_TIMES = (" %H:%M:%S", " %H:%M", "", " %I:%M:%S %p", " %I:%M %p", "T%H:%M:%S", "T%H:%M")
# Two-digit years first: "%Y" would read "03/01/11" as the year 11, while "%y"
# cannot read "03/01/2011" (it stops after "20" and the rest does not match).
DAY_FIRST_FORMATS = [
    f"%d{sep}%m{sep}{y}{t}" for y in ("%y", "%Y") for sep in ("/", "-", ".") for t in _TIMES
]
MONTH_FIRST_FORMATS = [
    f"%m{sep}%d{sep}{y}{t}" for y in ("%y", "%Y") for sep in ("/", "-", ".") for t in _TIMES
]
YEAR_FIRST_FORMATS = [f"%Y{sep}%m{sep}%d{t}" for sep in ("/", ".") for t in _TIMES]
NAMED_MONTH_FORMATS = [
    f"{d}{t}"
    for d in ("%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%y")
    for t in (" %H:%M:%S", " %H:%M", "")
]

EXCEL_EPOCH = "1899-12-30"  # Excel's day 0 (with its 1900 leap-year bug, from 1900-03-01 on)
EXCEL_SERIAL_MAX = 2_958_466  # 9999-12-31 + 1
YYYYMMDD_RANGE = (1000_01_01, 9999_12_31)
DATE_SAMPLE_ROWS = 50_000  # text dates: formats are tried on this many rows, then checked on all

# Text that spells a missing value ('', nan, none, null, na, n/a, #n/a, nat, -), as
# one regular expression: DuckDB plans ``lower(v) IN (...)`` as a join, which made every query on ``lines`` (even count(*)) evaluate the text
# cleanup of every row; regexp_full_match stays a cheap, lazily evaluated filter.
_NULL_RE = "(?i)(|nan|none|null|na|n/a|#n/a|nat|-)"


def _null_text(v: str) -> str:
    """SQL: the text ``v`` spells a missing value."""
    # Every spelling is at most 4 ASCII characters: the byte-length test (strlen, unlike
    # length(), does not decode the text) spares most rows the regex.
    return f"(strlen({v}) <= 4 AND regexp_full_match({v}, '{_NULL_RE}'))"


# Unicode whitespace trimmed from ids, codes and text (DuckDB's trim() alone only
# removes spaces): tabs, line breaks, no-break and narrow spaces, zero-width space, BOM.
# (Regular expressions, applied only to text that needs it: trim() with a set of
# characters is ten times slower.)
TRIM_PATTERN = r"^[\s\p{Z}\x{85}\x{200B}\x{FEFF}]+|[\s\p{Z}\x{85}\x{200B}\x{FEFF}]+$"
EDGE_PATTERN = r"^[\s\p{Z}\x{85}\x{200B}\x{FEFF}]|[\s\p{Z}\x{85}\x{200B}\x{FEFF}]$"
_MAX_LISTED_COLUMNS = 25

LINES_TABLE_MAX_ROWS = 2_000_000
"""Non-CSV inputs up to this many lines are copied, normalised, into the table ``lines``
(about 120 bytes a line); larger ones stay a view over the file, streamed by each query."""

ROW_NUMBER_COLUMN = "file_row_number"  # DuckDB's name for a parquet line's position
LINE_ROWS_VIEW = "_lines_rn"
"""Parquet input: the canonical lines with their position in the file, column ``_rn``,
and the customer key, column :data:`custseg.schema.CUSTOMER_KEY` (see
:func:`_customer_key`; the macro :data:`custseg.schema.CUSTOMER_ID_OF_KEY` turns a key
back into its id); the view ``lines`` selects its canonical columns and carries the
comment :data:`ROWS_COMMENT_PREFIX` + this name (see :func:`custseg.cleaning.apply_policy`)."""


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
        ``"parquet"``, ``"csv"``, the workbook's extension (``"xlsx"``,
        ``"xls"``, ``"ods"``...) or ``"dataframe"``.
    layout : str or None
        The known dataset layout recognised, if any.
    mapping : ColumnMapping
        Source column for each canonical field.
    source_columns : list of str
        Columns found in the source.
    rows : int
        Number of data rows (repeated header rows excluded).
    date_format : str or None
        How the dates were read (e.g. ``"ISO 8601"``, ``"day/month/year"``).
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


# --------------------------------------------------------------------------- columns


def normalise_name(name: str) -> str:
    """A column name reduced for matching: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", plain.lower())


def _columns_text(columns: list[str]) -> str:
    shown = ", ".join(columns[:_MAX_LISTED_COLUMNS])
    if len(columns) > _MAX_LISTED_COLUMNS:
        shown += f", ... ({len(columns) - _MAX_LISTED_COLUMNS} more)"
    return shown


def _closest_column(fld: str, columns: list[str], taken: set[str]) -> str | None:
    """The column whose name is most like one of the field's usual names (ratio >= 0.6)."""
    best, best_ratio = None, 0.6
    for col in columns:
        if col in taken:
            continue
        norm = normalise_name(col)
        for name in SYNONYMS[fld]:
            ratio = difflib.SequenceMatcher(None, norm, name).ratio()
            if ratio > best_ratio:
                best, best_ratio = col, ratio
    return best


def _option(fld: str) -> str:
    return f"--{fld.replace('_', '-')}-col"


def _shell_quote(name: str) -> str:
    return (
        name if re.fullmatch(r"[A-Za-z0-9_.-]+", name) else "'" + name.replace("'", "'\\''") + "'"
    )


def resolve_mapping(
    columns: list[str],
    mapping: S.ColumnMapping | None = None,
    overrides: dict[str, str | None] | None = None,
    *,
    source: str = "input",
    notes: list[str] | None = None,
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
        on top of the detected layout. A name that matches no column exactly but
        exactly one after :func:`normalise_name` (case, spaces, accents) is
        accepted, with a note.
    source : str
        Name of the input, for error messages.
    notes : list of str, optional
        Receives what was decided on the way.

    Returns
    -------
    (ColumnMapping, layout name or None)

    Raises
    ------
    ColumnError
        A named column does not exist (the closest column is suggested), or a
        required field cannot be found (the columns found and the closest
        match of each missing field are listed).
    """
    notes = [] if notes is None else notes
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    present = set(columns)
    by_norm: dict[str, list[str]] = {}
    for c in columns:
        by_norm.setdefault(normalise_name(c), []).append(c)
    for fld, col in list(overrides.items()):
        if fld == "date_format" or col in present:
            continue
        same = by_norm.get(normalise_name(col), [])
        if len(same) == 1:
            overrides[fld] = same[0]
            notes.append(f"{_option(fld)} '{col}' matched column '{same[0]}'")
    layout_name = None
    if mapping is None:
        layout = S.detect_layout(columns)
        if layout is not None:
            mapping = layout.mapping
            layout_name = layout.name
        else:
            guessed: dict[str, str] = {}
            for fld, names in SYNONYMS.items():
                for n in names:
                    cands = by_norm.get(n, [])
                    if cands and cands[0] not in guessed.values():
                        guessed[fld] = cands[0]
                        break
            mapping = S.ColumnMapping(
                customer=guessed.get("customer", ""),
                date=guessed.get("date", ""),
                **{k: v for k, v in guessed.items() if k not in ("customer", "date")},
            )
    if overrides:
        mapping = replace(mapping, **overrides)
    fields = [
        ("customer", mapping.customer),
        ("date", mapping.date),
        ("invoice", mapping.invoice),
        ("quantity", mapping.quantity),
        ("price", mapping.price),
        ("amount", mapping.amount),
        ("stock_code", mapping.stock_code),
        ("description", mapping.description),
        ("country", mapping.country),
    ]
    for fld, col in fields:
        if col and col not in present:
            explicit = fld in overrides
            close = difflib.get_close_matches(col, columns, n=1, cutoff=0.5)
            hint = f"closest match: '{close[0]}'" if close else "no close match"
            opt = _option(fld)
            raise ColumnError(
                f"column '{col}' {'given to ' + opt if explicit else 'for ' + FIELD_LABELS[fld]} "
                f"does not exist (columns found: {_columns_text(columns)}; {hint})",
                path=source,
                fix=f"name an existing column, e.g. {opt} {_shell_quote(close[0])}"
                if close
                else f"name an existing column with {opt}",
            )
    missing: list[str] = []
    fixes: list[str] = []
    taken = {c for _, c in fields if c}

    def need(fld: str) -> None:
        close = _closest_column(fld, columns, taken)
        label = FIELD_LABELS[fld]
        if close:
            missing.append(f"{label} (closest match: '{close}')")
            fixes.append(f"{_option(fld)} {_shell_quote(close)}")
            taken.add(close)
        else:
            missing.append(f"{label} (no close match)")
            fixes.append(f"{_option(fld)} NAME")

    if not mapping.customer:
        need("customer")
    if not mapping.date:
        need("date")
    if not mapping.amount and not (mapping.quantity and mapping.price):
        if mapping.quantity or mapping.price:
            need("price" if mapping.quantity else "quantity")
        else:
            close_amount = _closest_column("amount", columns, taken)
            if close_amount:
                need("amount")
            else:
                need("quantity")
                need("price")
    if missing:
        raise ColumnError(
            f"required column(s) not found: {'; '.join(missing)} "
            f"(columns found: {_columns_text(columns)})",
            path=source,
            fix=f"name them with {' '.join(fixes)}",
        )
    return mapping, layout_name


# --------------------------------------------------------------------------- reading


def _sniff(path: Path) -> str:
    """What the first bytes say the file is."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise InputFileError(
            f"cannot be read ({exc.strerror or exc})",
            path=path,
            fix="check the file's permissions, or copy it to a folder you can read",
        ) from exc
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole2"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"\x00" in head:
        return "binary"
    if not head.strip(b" \t\r\n\xef\xbb\xbf") and path.stat().st_size <= len(head):
        return "blank"
    return "text"


_KIND_TEXT = {
    "parquet": "a parquet file",
    "zip": "a zip archive (an Excel .xlsx workbook?)",
    "ole2": "an old-style Excel workbook (.xls)",
    "gzip": "gzip-compressed data",
    "zstd": "zstd-compressed data",
    "utf16": "UTF-16 text",
    "binary": "binary data",
    "text": "text",
}
_KIND_FIX = {
    "parquet": "rename it to .parquet",
    "zip": "if it is an Excel workbook, rename it to .xlsx",
    "ole2": "if it is an Excel workbook, rename it to .xls",
    "gzip": "if it is compressed CSV, rename it to .csv.gz",
    "zstd": "if it is compressed CSV, rename it to .csv.zst",
    "utf16": "if it is CSV text, rename it to .csv",
    "text": "if it is CSV text, rename it to .csv",
    "binary": "export the transactions again: the file may be damaged",
}


def _file_format(path: Path, kind: str) -> tuple[str, str | None, list[str]]:
    """(format, compression, notes) from the file name, checked against its content."""
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in PARQUET_SUFFIXES:
        fmt, compression, expected = "parquet", None, {"parquet"}
    elif suffix in CSV_SUFFIXES:
        fmt, compression, expected = "csv", None, {"text", "utf16"}
    elif suffix in COMPRESSION_SUFFIXES and len(suffixes) > 1 and suffixes[-2] in CSV_SUFFIXES:
        fmt, compression = "csv", COMPRESSION_SUFFIXES[suffix]
        expected = {compression}
    elif suffix in EXCEL_SUFFIXES:
        # An encrypted .xlsx is an OLE2 container: let the workbook reader say so.
        fmt, compression, expected = suffix[1:], None, {"zip", "ole2"}
    elif kind in ("parquet", "zip", "ole2"):
        fmt = {"parquet": "parquet", "zip": "xlsx", "ole2": "xls"}[kind]
        return fmt, None, [f"unknown extension '{suffix}': read as {fmt} from its content"]
    else:
        raise InputFileError(
            f"unsupported file type '{suffix or '(no extension)'}' (the content is {_KIND_TEXT[kind]})",
            path=path,
            fix="give a .csv, .parquet or .xlsx file",
        )
    if kind not in expected:
        raise InputFileError(
            f"is not a valid {fmt}{'.' + compression if compression else ''} file: "
            f"its content is {_KIND_TEXT[kind]}",
            path=path,
            fix=_KIND_FIX[kind],
        )
    return fmt, compression, []


def _duck_reason(exc: BaseException) -> str:
    """The useful part of a DuckDB error message, on one line."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    for ln in lines[1:4]:
        if ln.startswith(("Original Line", "Possible Solution", "file =", "LINE ", "^")):
            continue
        text += f": {ln}"
        break
    return text[:240]


def _not_the_input(exc: BaseException) -> bool:
    """A DuckDB error that says nothing about the input: Ctrl-C, or memory exhausted
    under the limit (re-raised as such: the CLI gives the fix, a larger --memory-limit)."""
    return (
        isinstance(exc, (duckdb.InterruptException, duckdb.OutOfMemoryException))
        or "interrupted" in str(exc).lower()
    )


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, kind: str, compression: str | None
) -> tuple[list[str], str]:
    """Materialise the CSV, all text, in file order, as table ``source``; return (notes, delimiter)."""
    lit = quote_literal(str(path))
    encodings = ["utf-16"] if kind == "utf16" else ["utf-8", "latin-1"]
    comp = f", compression = {quote_literal(compression)}" if compression else ""
    notes: list[str] = []
    # Keep the file's row order in the table, so that error messages can name data rows.
    keep = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = true")
    try:
        for i, enc in enumerate(encodings):
            opts = f"all_varchar = true, header = true, encoding = {quote_literal(enc)}{comp}"
            try:
                _drop(con, "source")
                con.execute(f"CREATE TABLE source AS SELECT * FROM read_csv({lit}, {opts})")
            except duckdb.Error as exc:
                if _not_the_input(exc):
                    raise
                if "not utf-8 encoded" in str(exc).lower() and i + 1 < len(encodings):
                    continue
                raise InputFileError(
                    f"cannot be read as CSV ({_duck_reason(exc)})",
                    path=path,
                    fix="check that it is CSV text: one header line, the same number of "
                    "fields on every line, quotes closed",
                ) from exc
            if enc == "latin-1":
                notes.append(
                    "the file is not UTF-8: read as Latin-1 (check accented letters; "
                    "save it as UTF-8 to be sure)"
                )
            if enc == "utf-16":
                notes.append("the file is UTF-16 text (Excel 'Unicode text'): decoded")
            try:
                delim = con.execute(f"SELECT Delimiter FROM sniff_csv({lit}, {opts})").fetchone()[0]
            except duckdb.Error:
                delim = ","
            return notes, delim
    finally:
        con.execute(f"SET preserve_insertion_order = {str(keep).lower()}")
    raise AssertionError("unreachable")  # pragma: no cover


def _source_relation(
    con: duckdb.DuckDBPyConnection, data: str | Path | pd.DataFrame, cache_dir: Path | None
) -> tuple[str, str, list[str], str | None]:
    """Register the raw source as relation ``source``.

    Returns (source name, format, notes, CSV delimiter or None).
    """
    _drop(con, "source_rows")
    if isinstance(data, pd.DataFrame):
        _drop(con, "source")
        con.register("source_df", data)
        con.execute("CREATE VIEW source AS SELECT * FROM source_df")
        return "<DataFrame>", "dataframe", [], None
    path = Path(data).expanduser()
    if not path.exists():
        raise InputFileError("file not found", path=path, fix="check the path, or set CUSTSEG_DATA")
    if path.is_dir():
        raise InputFileError(
            "is a folder, not a file", path=path, fix="name the transaction file itself"
        )
    if path.stat().st_size == 0:
        raise InputFileError("the file is empty", path=path, fix="export the transactions again")
    kind = _sniff(path)
    if kind == "blank":
        raise InputFileError(
            "the file holds only blank lines", path=path, fix="export the transactions again"
        )
    fmt, compression, notes = _file_format(path, kind)
    if fmt == "csv":
        csv_notes, delim = _read_csv(con, path, kind, compression)
        return str(path), fmt, notes + csv_notes, delim
    read_path = path
    if fmt != "parquet":
        from custseg.excel import xlsx_to_parquet
        from custseg.locate import default_cache_dir

        read_path = xlsx_to_parquet(path, cache_dir or default_cache_dir())
    lit = quote_literal(str(read_path))
    _drop(con, "source")
    _drop(con, "source_rows")
    try:
        con.execute(f"CREATE VIEW source AS SELECT * FROM read_parquet({lit})")
        con.execute("SELECT * FROM source LIMIT 1").fetchall()
        if ROW_NUMBER_COLUMN not in _types(con):
            # The same file with each line's position: cleaning finds exact duplicates
            # once and then drops them by position (see custseg.cleaning).
            con.execute(
                f"CREATE VIEW source_rows AS SELECT * FROM read_parquet({lit}, file_row_number = true)"
            )
    except duckdb.Error as exc:
        if _not_the_input(exc):
            raise
        raise InputFileError(
            f"cannot be read as parquet: the file is damaged or truncated ({_duck_reason(exc)})",
            path=path,
            fix="copy or export it again",
        ) from exc
    return str(path), fmt, notes, None


# --------------------------------------------------------------------------- values


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a table or view of that name, if any (a reused connection may hold either)."""
    row = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_name = ? AND table_schema = current_schema()",
        [name],
    ).fetchone()
    if row is not None:
        kind = "VIEW" if row[0] == "VIEW" else "TABLE"
        con.execute(f"DROP {kind} {quote_ident(name)}")


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM source").fetchall()}


_NUMERIC_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
}


def _is_numeric(t: str) -> bool:
    return t.split("(")[0] in _NUMERIC_TYPES


def _is_float(t: str) -> bool:
    return t.startswith(("FLOAT", "DOUBLE"))


def _is_temporal(t: str) -> bool:
    return t.startswith(("TIMESTAMP", "DATE"))


def _text(col: str) -> str:
    """The column as trimmed text (Unicode whitespace removed at both ends)."""
    c = f"CAST({quote_ident(col)} AS VARCHAR)"
    # Fast path first: text that starts and ends with a visible ASCII character needs
    # no trimming (far cheaper than the regular expression, which only the rest pays).
    return (
        f"CASE WHEN {_visible_edges(c)} THEN {c} "
        f"WHEN regexp_matches({c}, {quote_literal(EDGE_PATTERN)}) "
        f"THEN regexp_replace({c}, {quote_literal(TRIM_PATTERN)}, '', 'g') ELSE {c} END"
    )


def _visible_edges(c: str) -> str:
    """SQL: text ``c`` starts and ends with a visible ASCII character ('!' to '~').

    A one-character string compares bytewise, and every byte of a non-ASCII
    character is above '~': the test never passes text with whitespace at an edge.
    """
    return f"({c}[1] BETWEEN '!' AND '~' AND {c}[-1] BETWEEN '!' AND '~')"


def _id_expr(col: str, typ: str, plain: TextFacts | None = None) -> str:
    """A string id: no spurious '.0', no stray whitespace, NULL when empty.

    ``plain``: what :func:`_text_facts` found in the column; each step that no
    value needs is left out (the result is the same, and every query is cheaper).
    """
    c = quote_ident(col)
    if _is_float(typ) or typ.startswith("DECIMAL"):
        missing = f"{c} IS NULL OR isnan({c})" if _is_float(typ) else f"{c} IS NULL"
        # BIGINT below 1e18 (cheaper), HUGEINT up to 1e30: the same digits.
        return (
            f"CASE WHEN {missing} THEN NULL "
            f"WHEN {c} = floor({c}) AND abs({c}) < 1e18 THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) "
            f"WHEN {c} = floor({c}) AND abs({c}) < 1e30 THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR) "
            f"ELSE CAST({c} AS VARCHAR) END"
        )
    if _is_numeric(typ):
        return f"CAST({c} AS VARCHAR)"
    if plain is not None and not plain.edges:
        if not plain.null_spelling and not plain.decimal_id:
            return c
        v = c
    else:
        v = _text(col)
        plain = None
    null_case = "" if plain and not plain.null_spelling else f"WHEN {_null_text(v)} THEN NULL "
    dot_case = (
        ""
        if plain and not plain.decimal_id
        else f"WHEN contains({v}, '.') OR contains({v}, ',') "
        f"THEN regexp_replace({v}, '^([0-9]+)[.,]0+$', '\\1') "
    )
    return f"CASE {null_case}{dot_case}ELSE {v} END"


def _customer_key(col: str, typ: str, cust: str) -> str:
    """SQL: a value equal for two lines exactly when their ``customer_id`` is, NULL with it.

    For a numeric column, the number itself (``+ 0.0`` makes -0.0 and 0.0 one value,
    as their text is): comparing and hashing it spares the per-line conversion to
    text. Otherwise the ``customer_id`` expression.
    """
    c = quote_ident(col)
    if _is_float(typ):
        return f"CASE WHEN isnan({c}) THEN NULL ELSE {c} + 0.0 END"
    if _is_numeric(typ):
        return c
    return cust


def _text_expr(col: str | None, plain: TextFacts | None = None) -> str:
    if not col:
        return "CAST(NULL AS VARCHAR)"
    if plain is not None and not plain.edges:
        return quote_ident(col) if not plain.empty else f"nullif({quote_ident(col)}, '')"
    return f"nullif({_text(col)}, '')"


@dataclass(frozen=True)
class TextFacts:
    """What a text column holds that the loader's normalisation would change.

    Attributes
    ----------
    edges : bool
        Some value starts or ends with (Unicode) whitespace.
    null_spelling : bool
        Some value spells a missing value ('', 'nan', 'NULL', 'n/a'...).
    decimal_id : bool
        Some value is a whole number written with a decimal part ('17850.0').
    empty : bool
        Some value is the empty string.
    """

    edges: bool
    null_spelling: bool
    decimal_id: bool
    empty: bool


def _text_facts(
    con: duckdb.DuckDBPyConnection, columns: list[str], where: str
) -> dict[str, TextFacts]:
    """One pass over the text ``columns``: which normalisations any value needs.

    Most files need none of them; their columns are then used as they are, instead of
    through a CASE expression evaluated on every row by every query.

    Each column's distinct values are checked, not its lines: ids, codes and
    countries repeat (10 million synthetic lines hold 482,403 invoices and 4,011
    stock codes), and grouping them costs less than the checks on every line
    (1.0 s of CPU instead of 2.2 s there).
    """
    if not columns:
        return {}
    v = "v"
    checks = ", ".join(
        (
            f"coalesce(bool_or(CASE WHEN {_visible_edges(v)} THEN FALSE "
            f"ELSE regexp_matches({v}, {quote_literal(EDGE_PATTERN)}) END), FALSE)",
            f"coalesce(bool_or(CASE WHEN strlen({v}) <= 4 THEN {_null_text(v)} ELSE FALSE END), FALSE)",
            f"coalesce(bool_or(CASE WHEN contains({v}, '.') OR contains({v}, ',') "
            f"THEN regexp_full_match({v}, '[0-9]+[.,]0+') ELSE FALSE END), FALSE)",
            f"coalesce(bool_or({v} = ''), FALSE)",
        )
    )
    facts = {}
    for col in columns:
        row = con.execute(
            f"SELECT {checks} FROM (SELECT DISTINCT {quote_ident(col)} AS {v} "
            f"FROM source WHERE {where})"
        ).fetchone()
        facts[col] = TextFacts(*row)
    return facts


def _num_expr(col: str, typ: str, decimal_comma: bool = False) -> str:
    c = quote_ident(col)
    if _is_float(typ):
        return f"CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS DOUBLE) END"
    if _is_numeric(typ):
        return f"CAST({c} AS DOUBLE)"
    v = _text(col)
    if decimal_comma:
        v = f"replace({v}, ',', '.')"
    return f"CASE WHEN {_null_text(v)} THEN NULL ELSE TRY_CAST({v} AS DOUBLE) END"


def _raw_present(col: str, typ: str) -> str:
    c = quote_ident(col)
    if _is_float(typ):
        return f"({c} IS NOT NULL AND NOT isnan({c}))"
    if _is_numeric(typ) or _is_temporal(typ):
        return f"{c} IS NOT NULL"
    return f"({c} IS NOT NULL AND NOT {_null_text(_text(col))})"


def _fmt_list(fmts: list[str]) -> str:
    return "[" + ", ".join(quote_literal(f) for f in fmts) + "]"


def _first_row(
    con: duckdb.DuckDBPyConnection, value_sql: str, cond: str, where: str = "TRUE"
) -> tuple[str, int] | None:
    """The first source row, in file order, where ``cond`` holds: (value as text, data row).

    Data rows count from 1 after the header, repeated header rows included. Runs
    single-threaded with insertion order kept, so the numbering is the file's;
    only used on the way to an error.
    """
    threads, keep = con.execute(
        "SELECT current_setting('threads'), current_setting('preserve_insertion_order')"
    ).fetchone()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    try:
        row = con.execute(
            f"SELECT CAST({value_sql} AS VARCHAR), rn FROM "
            f"(SELECT *, row_number() OVER () AS rn FROM source) "
            f"WHERE ({where}) AND ({cond}) LIMIT 1"
        ).fetchone()
    finally:
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET preserve_insertion_order = {str(keep).lower()}")
    if row is None:
        return None
    value = str(row[0])
    return (value if len(value) <= 60 else value[:57] + "..."), int(row[1])


def _check_date_format(con: duckdb.DuckDBPyConnection, fmt: str) -> None:
    try:
        con.execute(f"SELECT try_strptime('2011-01-01', {quote_literal(fmt)})").fetchone()
    except duckdb.Error as exc:
        if _not_the_input(exc):
            raise
        raise ParameterError(
            f"--date-format '{fmt}' is not a valid strptime format ({_duck_reason(exc)})",
            fix="use directives such as %d/%m/%Y %H:%M",
        ) from exc


def _excel_serial(expr: str) -> str:
    return (
        f"(TIMESTAMP '{EXCEL_EPOCH}' + "
        f"to_microseconds(CAST(round(({expr}) * 86400000000) AS BIGINT)))"
    )


def _date_candidates(v: str) -> dict[str, str]:
    """How text dates may be written -> SQL parsing the text expression ``v`` (NULL if not)."""
    num = f"TRY_CAST({v} AS DOUBLE)"
    iso = f"CASE WHEN regexp_matches({v}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T]|$)') THEN {v} END"
    ymd = f"CASE WHEN regexp_matches({v}, '^[0-9]{{4}}[/.]') THEN {v} END"
    short = f"CASE WHEN regexp_matches({v}, '^[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-]') THEN {v} END"
    named = f"CASE WHEN regexp_matches({v}, '[A-Za-z]{{3}}') THEN {v} END"
    digits8 = f"CASE WHEN regexp_full_match({v}, '[0-9]{{8}}') THEN {v} END"
    return {
        # DuckDB's cast also reads "03/01/11" (as the year 3), and strptime's %Y takes
        # two digits: the shape of the text decides which readings are tried.
        "ISO 8601": f"TRY_CAST({iso} AS TIMESTAMP)",
        "ISO 8601 with offset (converted to UTC)": (
            f"CAST(timezone('UTC', TRY_CAST({iso} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        ),
        "year/month/day": f"try_strptime({ymd}, {_fmt_list(YEAR_FIRST_FORMATS)})",
        "day/month/year": f"try_strptime({short}, {_fmt_list(DAY_FIRST_FORMATS)})",
        "month/day/year": f"try_strptime({short}, {_fmt_list(MONTH_FIRST_FORMATS)})",
        "day month-name year": f"try_strptime({named}, {_fmt_list(NAMED_MONTH_FORMATS)})",
        "yyyymmdd": f"try_strptime({digits8}, '%Y%m%d')",
        "Excel serial day numbers (as text)": (
            f"CASE WHEN {num} >= 0 AND {num} < {EXCEL_SERIAL_MAX} THEN {_excel_serial(num)} END"
        ),
    }


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
    notes: list[str] = []
    if typ.startswith("TIMESTAMP WITH TIME ZONE"):
        return (
            f"CAST(timezone('UTC', {c}) AS TIMESTAMP)",
            "timestamp with time zone, converted to UTC",
            ["dates carried a time zone: converted to UTC"],
        )
    if _is_temporal(typ):
        if date_format:
            notes.append(f"--date-format ignored: column '{col}' already holds dates")
        return f"CAST({c} AS TIMESTAMP)", "native timestamp", notes
    present = _raw_present(col, typ)
    if _is_numeric(typ):
        if date_format:
            as_text = f"regexp_replace(CAST({c} AS VARCHAR), '\\.0+$', '')"
            return f"try_strptime({as_text}, {quote_literal(date_format)})", date_format, notes
        lo, hi, frac = con.execute(
            f"SELECT min({c}), max({c}), count(*) FILTER (WHERE {c} <> floor({c})) "
            f"FROM source WHERE ({where}) AND {present}"
        ).fetchone()
        if lo is None:
            return "CAST(NULL AS TIMESTAMP)", "no dates", notes
        if frac == 0 and YYYYMMDD_RANGE[0] <= lo and hi <= YYYYMMDD_RANGE[1]:
            expr = f"try_strptime(CAST(CAST({c} AS BIGINT) AS VARCHAR), '%Y%m%d')"
            return expr, "yyyymmdd numbers", ["dates were yyyymmdd numbers: converted"]
        if lo >= 0 and hi < EXCEL_SERIAL_MAX:
            return (
                _excel_serial(c),
                "Excel serial day numbers",
                ["dates were Excel serial numbers: converted"],
            )
        sample = _first_row(
            con, c, f"{present} AND NOT ({c} >= 0 AND {c} < {EXCEL_SERIAL_MAX})", where
        )
        at = f" (e.g. {sample[0]} on data row {sample[1]})" if sample else ""
        raise DataError(
            f"date column '{col}' holds numbers that are neither Excel serial days nor yyyymmdd{at}",
            path=source,
            fix="store real dates in that column, or map another one with --date-col",
        )

    v = _text(col)
    if date_format:
        _check_date_format(con, date_format)
        return f"try_strptime({v}, {quote_literal(date_format)})", date_format, notes
    candidates = _date_candidates(v)
    names = list(candidates)
    probe = _date_candidates("_v")
    fails = ", ".join(f"count(*) FILTER (WHERE {probe[k]} IS NULL)" for k in names)
    tz = "regexp_matches(_v, '[0-9]([+-][0-9]{2}(:?[0-9]{2})?|Z)$')"

    def detect(limit: int | None) -> tuple[int, int, dict[str, int]]:
        rel = f"(SELECT {v} AS _v FROM source WHERE ({where}) AND {present}"
        rel += f" LIMIT {limit})" if limit else ")"
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {tz}), {fails} FROM {rel}"
        ).fetchone()
        return row[0], row[1], dict(zip(names, row[2:], strict=True))

    def choose(n: int, with_tz: int, bad: dict[str, int]) -> str | None:
        if with_tz and bad[names[1]] == 0:
            return names[1]
        if bad["ISO 8601"] == 0:
            return "ISO 8601"
        if bad["day/month/year"] == 0 and bad["month/day/year"] == 0:
            return "ambiguous"
        return next((k for k in names[2:] if bad[k] == 0), None)

    # Try every format on a sample, then check the winner on every row; only a
    # sample that settles nothing (or is contradicted) costs a full detection.
    choice = choose(*detect(DATE_SAMPLE_ROWS))
    if choice is not None:
        expr = candidates["day/month/year" if choice == "ambiguous" else choice]
        failing = con.execute(
            f"SELECT count(*) FROM source WHERE ({where}) AND {present} AND {expr} IS NULL"
        ).fetchone()[0]
        if failing or choice == "ambiguous":
            choice = None
    if choice is None:
        n, with_tz, bad = detect(None)
        if n == 0:
            return "CAST(NULL AS TIMESTAMP)", "no dates", notes
        choice = choose(n, with_tz, bad)
        if choice is None:
            best = min(names, key=lambda k: bad[k])
            sample = _first_row(con, v, f"{present} AND {candidates[best]} IS NULL", where)
            at = f"e.g. '{sample[0]}' on data row {sample[1]}; " if sample else ""
            raise DataError(
                f"dates in column '{col}' cannot be parsed ({at}{bad[best]:,} of {n:,} values "
                f"fail even the closest format, {best})",
                path=source,
                fix="pass --date-format, e.g. --date-format '%d/%m/%Y %H:%M', or fix those values",
            )
    if choice == "ambiguous":
        notes.append(
            f"dates in '{col}' are ambiguous (no day number above 12): read as day/month/year; "
            "pass --date-format '%m/%d/%Y %H:%M' (or the matching format) if they are month/day/year"
        )
        return candidates["day/month/year"], "day/month/year (ambiguous, day-first assumed)", notes
    if choice == names[1]:
        notes.append("dates carried a UTC offset: converted to UTC")
    elif choice in ("day/month/year", "month/day/year"):
        notes.append(f"dates in '{col}' read as {choice} (a day number above 12 settles it)")
    elif choice.startswith("Excel") or choice == "yyyymmdd":
        notes.append(f"dates were {choice}: converted")
    return candidates[choice], choice, notes


def _decimal_comma(
    con: duckdb.DuckDBPyConnection, col: str, typ: str, delimiter: str | None, where: str
) -> bool:
    """Whether a text column of a ';'- or tab-separated file writes decimals with a comma."""
    if delimiter in (None, ",") or _is_numeric(typ):
        return False
    v = _text(col)
    present = _raw_present(col, typ)
    dot, comma, bad_comma = con.execute(
        f"""SELECT count(*) FILTER (WHERE contains({v}, '.')),
                   count(*) FILTER (WHERE contains({v}, ',')),
                   count(*) FILTER (WHERE TRY_CAST(replace({v}, ',', '.') AS DOUBLE) IS NULL)
            FROM source WHERE ({where}) AND {present}"""
    ).fetchone()
    return dot == 0 and comma > 0 and bad_comma == 0


def _check_numeric(
    con: duckdb.DuckDBPyConnection,
    col: str,
    typ: str,
    expr: str,
    where: str,
    source: str,
    what: str,
) -> None:
    present = _raw_present(col, typ)
    cond = f"{present} AND (({expr}) IS NULL OR isinf({expr}))"
    if _is_numeric(typ) and not _is_float(typ):
        return
    bad = con.execute(f"SELECT count(*) FROM source WHERE ({where}) AND {cond}").fetchone()[0]
    if not bad:
        return
    sample = _first_row(con, quote_ident(col), cond, where)
    at = f"e.g. '{sample[0]}' on data row {sample[1]}" if sample else "e.g. an infinite value"
    raise DataError(
        f"{what} column '{col}' holds {bad:,} value(s) that are not finite numbers ({at})",
        path=source,
        fix=f"clean that column (digits and a decimal point only), or map another one with --{what}-col",
    )


# --------------------------------------------------------------------------- entry point


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
        ``.xlsx`` (and other workbooks python-calamine reads: ``.xlsm``,
        ``.xlsb``, ``.xls``, ``.ods``; every sheet with the same header, read
        once and cached as parquet), ``.csv`` / ``.tsv`` / ``.txt`` (delimiter
        and encoding detected; ``.gz`` / ``.zst`` compressed too), ``.parquet``,
        or a pandas DataFrame.
    mapping : ColumnMapping, optional
        Explicit mapping; by default the Online Retail and Online Retail II
        layouts are recognised, then common column names.
    overrides : dict, optional
        Per-field source columns (the CLI's ``--customer-col`` etc.).
    date_format : str, optional
        strptime format for text dates; by default ISO 8601, day/month/year,
        month/day/year, year/month/day, month names, Excel serial numbers and
        yyyymmdd are detected (ambiguity is reported in ``notes``).
    con : duckdb connection, optional
        Default: a new one from :func:`custseg.engine.connect`. Its time zone
        is set to UTC (dates without offset are taken as they are written).
    cache_dir : path, optional
        Where converted workbooks are cached.

    Returns
    -------
    LoadedData

    Raises
    ------
    InputFileError
        Missing, unreadable, empty, header-only, corrupt or unsupported file.
    ColumnError
        Required columns missing, or a mapping naming a column that does not exist.
    DataError
        Dates that cannot be parsed, non-numeric quantities, prices or amounts.
    ParameterError
        An invalid ``date_format``.
    """
    con = con or connect()
    # Text dates without offset must not depend on the machine's time zone.
    con.execute("SET TimeZone = 'UTC'")
    source, fmt, notes, delimiter = _source_relation(con, data, cache_dir)
    try:
        loaded = _load(con, source, fmt, notes, delimiter, mapping, overrides, date_format)
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        # A damaged page deep in a parquet file shows only when it is read.
        if _not_the_input(exc):
            raise
        raise InputFileError(
            f"cannot be read ({_duck_reason(exc)})",
            path=source,
            fix="check that the file is complete and export it again if needed",
        ) from exc
    for note in loaded.notes:
        log.warning("%s: %s", source, note)
    return loaded


def _load(
    con: duckdb.DuckDBPyConnection,
    source: str,
    fmt: str,
    notes: list[str],
    delimiter: str | None,
    mapping: S.ColumnMapping | None,
    overrides: dict[str, str | None] | None,
    date_format: str | None,
) -> LoadedData:
    types = _types(con)
    columns = list(types)
    if date_format:
        overrides = {**(overrides or {}), "date_format": date_format}
    mapping, layout = resolve_mapping(columns, mapping, overrides, source=source, notes=notes)

    # Repeated header rows (files concatenated by hand): the date column holds its own name.
    where = "TRUE"
    date_type = types[mapping.date]
    if not (_is_numeric(date_type) or _is_temporal(date_type)):
        header = f"lower({_text(mapping.date)}) = {quote_literal(mapping.date.strip().lower())}"
        n_headers = con.execute(f"SELECT count(*) FROM source WHERE {header}").fetchone()[0]
        if n_headers:
            where = f"NOT coalesce({header}, FALSE)"
            notes.append(f"{n_headers} repeated header row(s) skipped")

    total = con.execute(f"SELECT count(*) FROM source WHERE {where}").fetchone()[0]
    if total == 0:
        raise InputFileError(
            "no data rows (header only)", path=source, fix="export the transactions again"
        )

    date_sql, date_desc, date_notes = _date_expr(
        con, mapping.date, date_type, mapping.date_format, where, source
    )
    notes += date_notes
    present = _raw_present(mapping.date, date_type)
    bad = con.execute(
        f"SELECT count(*) FROM source WHERE ({where}) AND {present} AND {date_sql} IS NULL"
    ).fetchone()[0]
    if bad:
        sample = _first_row(
            con, quote_ident(mapping.date), f"{present} AND {date_sql} IS NULL", where
        )
        at = f" (e.g. '{sample[0]}' on data row {sample[1]})" if sample else ""
        raise DataError(
            f"{bad:,} date(s) in column '{mapping.date}' do not match {date_desc}{at}",
            path=source,
            fix="pass the --date-format that matches them, or fix those values",
        )

    text_cols = [
        col
        for col in dict.fromkeys(
            (
                mapping.customer,
                mapping.invoice,
                mapping.stock_code,
                mapping.description,
                mapping.country,
            )
        )
        if col and types[col] == "VARCHAR"
    ]
    # One pass first finds which normalisations the text needs, and the table or view
    # of the lines leaves out the others. It reads each column's distinct values only:
    # cheap whatever the size (0.03 s of CPU on the real data, which it saves in the
    # normalisation into ``lines``; 0.9 s at 10 million lines, which it saves in every
    # pass over the streamed view).
    facts = _text_facts(con, text_cols, where)
    cust = _id_expr(mapping.customer, types[mapping.customer], facts.get(mapping.customer))
    numeric: dict[str, str] = {}
    for what, col in (
        ("quantity", mapping.quantity),
        ("price", mapping.price),
        ("amount", mapping.amount),
    ):
        if not col:
            continue
        comma = _decimal_comma(con, col, types[col], delimiter, where)
        if comma:
            notes.append(f"column '{col}' writes decimals with a comma: read as such")
        numeric[what] = _num_expr(col, types[col], comma)
        _check_numeric(con, col, types[col], numeric[what], where, source, what)
    qty = numeric.get("quantity", "CAST(NULL AS DOUBLE)")
    price = numeric.get("price", "CAST(NULL AS DOUBLE)")
    amount = numeric.get("amount", f"({qty}) * ({price})")
    if mapping.invoice:
        invoice = _id_expr(mapping.invoice, types[mapping.invoice], facts.get(mapping.invoice))
    else:
        # Starts with the date, so that no synthetic order looks like a 'C' cancellation.
        invoice = f"strftime({date_sql}, '%Y-%m-%dT%H:%M:%S') || '|' || ({cust})"
        notes.append("no invoice column: each distinct (customer, date-time) is one order")
    stock = (
        _id_expr(mapping.stock_code, types[mapping.stock_code], facts.get(mapping.stock_code))
        if mapping.stock_code
        else "CAST(NULL AS VARCHAR)"
    )

    columns_sql = f"""
               {invoice} AS {S.INVOICE},
               {stock} AS {S.STOCK_CODE},
               {_text_expr(mapping.description, facts.get(mapping.description or ""))} AS {S.DESCRIPTION},
               {qty} AS {S.QUANTITY},
               {date_sql} AS {S.INVOICE_DATE},
               {price} AS {S.UNIT_PRICE},
               {cust} AS {S.CUSTOMER_ID},
               {_text_expr(mapping.country, facts.get(mapping.country or ""))} AS {S.COUNTRY},
               {amount} AS {S.AMOUNT}"""
    select = f"SELECT {columns_sql} FROM source WHERE {where}"
    _drop(con, "lines")
    _drop(con, LINE_ROWS_VIEW)
    has_rows = bool(
        con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = 'source_rows' AND NOT internal"
        ).fetchone()[0]
    )
    if fmt == "csv":
        # The text table is parsed once into typed lines, then dropped.
        con.execute(f"CREATE TABLE lines AS {select}")
        _drop(con, "source")
    elif total <= LINES_TABLE_MAX_ROWS:
        # Small inputs are normalised once into a table: the audit, the cleaning and
        # the summaries each read the lines, and the view's per-value cleanup (trimming,
        # ids) would run for every one of them.
        con.execute(f"CREATE TABLE lines AS {select}")
    elif has_rows:
        key = _customer_key(mapping.customer, types[mapping.customer], cust)
        # The id of a key: the id expression of a numeric column applied to the key
        # (the same text: the key is the number), or the key itself (already the id).
        typ = types[mapping.customer]
        id_of_key = _id_expr("k", typ) if _is_numeric(typ) else "k"
        con.execute(f"CREATE OR REPLACE TEMP MACRO {S.CUSTOMER_ID_OF_KEY}(k) AS ({id_of_key})")
        con.execute(
            f"CREATE VIEW {LINE_ROWS_VIEW} AS SELECT {ROW_NUMBER_COLUMN} AS _rn, "
            f"{key} AS {S.CUSTOMER_KEY}, {columns_sql} "
            f"FROM source_rows WHERE {where}"
        )
        con.execute(
            f"CREATE VIEW lines AS SELECT {', '.join(S.LINE_COLUMNS)} FROM {LINE_ROWS_VIEW}"
        )
        con.execute(
            f"COMMENT ON VIEW lines IS {quote_literal(ROWS_COMMENT_PREFIX + LINE_ROWS_VIEW)}"
        )
    else:
        con.execute(f"CREATE VIEW lines AS {select}")
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
