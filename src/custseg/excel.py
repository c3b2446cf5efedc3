"""Excel once: an ``.xlsx`` workbook is parsed a single time and cached as parquet.

The first call of :func:`xlsx_to_parquet` on a workbook reads every worksheet with
python-calamine, types the columns faithfully and writes
``<cache_dir>/xlsx/<sha256[:16]>.v<CACHE_VERSION>.parquet``, keyed by the
SHA-256 of the workbook's bytes (streamed). Later calls on the same bytes, under
any file name, return that file without parsing Excel again.

Sheets
    The first non-empty worksheet gives the header. Every later worksheet whose
    header holds the same column names (in any order) is appended, aligned by
    name (Online Retail II: "Year 2009-2010" + "Year 2010-2011"). Empty
    worksheets and chart sheets are ignored. A worksheet with a different
    header (notes, a pivot table) is **skipped** with a logged warning; the
    parquet file's metadata lists the sheets used and skipped
    (``custseg.sheets``, ``custseg.skipped_sheets``).

Types
    * Empty cells (calamine gives ``""``) are null; rows with no value at all
      are dropped.
    * ID-like columns (see :func:`is_id_like`: the invoice, customer and stock
      code columns of the known layouts, or a header whose last word is
      id / no / nr / num / number / code / ref / sku) are strings. Numeric
      cells lose the spurious ``.0``: ``17850.0 -> "17850"``,
      ``536365.0 -> "536365"``, while text cells keep their text
      (``"C536379"``, ``"00042"``).
    * A column holding more than one kind of value (numbers and text, ...) is a
      string column, formatted the same way.
    * Numbers: ``int64`` when every value is integral and exactly representable
      (``|x| <= 2**53``), else ``float64``.
    * Dates and date-times: ``timestamp[us]`` (calamine returns midnight values
      as ``date``; they become midnight timestamps). A column of times of day
      only is ``time64[us]``; a time of day mixed with dates is read as an
      Excel serial below 1 (day 0 = 1899-12-30).
    * Booleans: ``bool``; durations: ``duration[us]``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum

from custseg.errors import InputFileError
from custseg.schema import KNOWN_LAYOUTS

__all__ = [
    "CACHE_VERSION",
    "cached_parquet_path",
    "is_id_like",
    "workbook_sha256",
    "xlsx_to_parquet",
]

logger = logging.getLogger(__name__)

#: Bumped whenever the conversion rules change, so that old cache files are not reused.
CACHE_VERSION = 1

_EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)
_INT_EXACT = 2**53

# Kind codes of a cell value.
_NULL, _NUM, _STR, _DATETIME, _DATE, _TIME, _BOOL, _DURATION, _OTHER = range(9)
_TEMPORAL = frozenset({_DATETIME, _DATE, _TIME})


class _KindOfType(dict[type, int]):
    def __missing__(self, key: type) -> int:
        return _OTHER


_KIND_OF_TYPE = _KindOfType(
    {
        float: _NUM,
        int: _NUM,
        str: _STR,
        dt.datetime: _DATETIME,
        dt.date: _DATE,
        dt.time: _TIME,
        bool: _BOOL,
        dt.timedelta: _DURATION,
        type(None): _NULL,
    }
)

_ID_WORDS = frozenset({"id", "no", "nr", "num", "number", "code", "ref", "sku"})


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


_KNOWN_ID_COLUMNS = frozenset(
    _normalise(column)
    for layout in KNOWN_LAYOUTS
    for column in (layout.mapping.invoice, layout.mapping.customer, layout.mapping.stock_code)
    if column is not None
)


def is_id_like(name: str) -> bool:
    """Whether a column holds identifiers, to be kept as strings.

    Parameters
    ----------
    name : str
        A header cell.

    Returns
    -------
    bool
        True for the invoice, customer and stock-code columns of the known
        layouts (``InvoiceNo``, ``Invoice``, ``CustomerID``, ``Customer ID``,
        ``StockCode``) and for any header whose last word (split on spaces,
        ``_``, ``-`` and camelCase) is one of id, no, nr, num, number, code,
        ref, sku.

    Examples
    --------
    >>> is_id_like("CustomerID"), is_id_like("order_number"), is_id_like("Paid")
    (True, True, False)
    """
    if _normalise(name) in _KNOWN_ID_COLUMNS:
        return True
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
    return bool(words) and words[-1].lower() in _ID_WORDS


def workbook_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (hex digest).

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def cached_parquet_path(digest: str, cache_dir: Path) -> Path:
    """Where the parquet conversion of a workbook with this SHA-256 is cached."""
    return Path(cache_dir) / "xlsx" / f"{digest[:16]}.v{CACHE_VERSION}.parquet"


def xlsx_to_parquet(path: Path, cache_dir: Path) -> Path:
    """Convert an Excel workbook to parquet once; return the cached parquet file.

    Parameters
    ----------
    path : Path
        The workbook (``.xlsx``; any format python-calamine reads works).
    cache_dir : Path
        The cache folder; the parquet file goes to ``cache_dir/xlsx/``.

    Returns
    -------
    Path
        ``cache_dir/xlsx/<sha256[:16]>.v<CACHE_VERSION>.parquet``. On a cache hit
        it is returned without opening the workbook.

    Raises
    ------
    InputFileError
        The workbook is missing, unreadable, not a workbook, protected by a
        password, holds no data, has a column with values but no header, or two
        columns with the same header.
        A cache folder that cannot be written also raises InputFileError, naming
        the folder.

    Notes
    -----
    The parquet file is written to a temporary file in the same folder and moved
    into place with :func:`os.replace`, so a reader never sees a partial file and
    two concurrent conversions of the same workbook are harmless.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            "file not found" if not path.exists() else "not a file",
            path=path,
            fix="check the path given with --input or CUSTSEG_DATA",
        )
    try:
        digest = workbook_sha256(path)
    except OSError as exc:
        raise InputFileError(
            f"cannot read the file ({exc.strerror or exc})", path=path, fix="check its permissions"
        ) from exc
    target = cached_parquet_path(digest, cache_dir)
    if _readable_parquet(target):
        logger.debug("xlsx cache hit: %s -> %s", path, target)
        return target

    table = read_workbook(path)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"custseg.source_sha256": digest.encode()}
    )
    _write_atomic(table, target)
    logger.info("converted %s (%d rows) to %s", path, table.num_rows, target)
    return target


def _readable_parquet(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        logger.warning("ignoring an unreadable cache file %s", path)
        return False
    return True


def _write_atomic(table: pa.Table, target: Path) -> None:
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputFileError(
            f"cannot write the Excel cache folder ({exc.strerror or exc})",
            path=folder,
            fix="set CUSTSEG_CACHE_DIR to a writable folder",
        ) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# --------------------------------------------------------------------------- reading


@dataclass
class _Sheet:
    name: str
    header: list[str]
    columns: list[np.ndarray]  # one object array of raw cell values per header column


def read_workbook(path: Path) -> pa.Table:
    """Read all matching worksheets of a workbook into one typed Arrow table.

    The rules (sheets, types) are those of the module docstring. Nothing is
    cached; see :func:`xlsx_to_parquet`.

    Parameters
    ----------
    path : Path
        The workbook.

    Returns
    -------
    pyarrow.Table
        One column per header cell, typed; schema metadata ``custseg.sheets`` and
        ``custseg.skipped_sheets`` (JSON lists of sheet names).

    Raises
    ------
    InputFileError
        See :func:`xlsx_to_parquet`.
    """
    path = Path(path)
    fix = "open it in Excel or LibreOffice and save it again as .xlsx, or export it to CSV"
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = workbook.sheets_metadata
    except PasswordError as exc:
        raise InputFileError(
            "the workbook is protected by a password", path=path, fix="save a copy without it"
        ) from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise InputFileError(
            f"not a readable Excel workbook ({_first_line(exc)})", path=path, fix=fix
        ) from exc

    sheets: list[_Sheet] = []
    skipped: list[str] = []
    try:
        for meta in metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            rows = workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=True)
            sheet = _sheet_from_rows(meta.name, rows, path)
            if sheet is None:
                continue
            if sheets and set(sheet.header) != set(sheets[0].header):
                logger.warning(
                    "%s: sheet %r skipped: its header %s differs from sheet %r's %s",
                    path,
                    meta.name,
                    sheet.header,
                    sheets[0].name,
                    sheets[0].header,
                )
                skipped.append(meta.name)
                continue
            sheets.append(sheet)
    except CalamineError as exc:
        raise InputFileError(
            f"cannot read the workbook ({_first_line(exc)})", path=path, fix=fix
        ) from exc
    finally:
        workbook.close()

    if not sheets:
        raise InputFileError(
            "the workbook holds no data", path=path, fix="check that you picked the right file"
        )
    header = sheets[0].header
    arrays = {}
    for name in header:
        parts = [sheet.columns[sheet.header.index(name)] for sheet in sheets]
        values = parts[0] if len(parts) == 1 else np.concatenate(parts)
        for sheet in sheets:  # free the raw cells as soon as they are typed
            sheet.columns[sheet.header.index(name)] = _NO_CELLS
        del parts
        arrays[name] = _typed_array(values, id_like=is_id_like(name))
    table = pa.table(arrays)
    empty_row = None
    for column in table.columns:
        nulls = column.is_null()
        empty_row = nulls if empty_row is None else pc.and_(empty_row, nulls)
    if empty_row is not None and pc.any(empty_row).as_py():
        table = table.filter(pc.invert(empty_row))
    return table.replace_schema_metadata(
        {
            b"custseg.sheets": json.dumps([s.name for s in sheets]).encode(),
            b"custseg.skipped_sheets": json.dumps(skipped).encode(),
        }
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _sheet_from_rows(name: str, rows: list[list[object]], path: Path) -> _Sheet | None:
    """Split a sheet's rows into header and columns; None for an empty sheet."""
    if not rows or not any(_is_value(v) for v in rows[0]):
        return None
    raw_header = [_header_text(v) for v in rows[0]]
    width = len(raw_header)
    grid = np.empty((len(rows) - 1, width), dtype=object)
    if len(rows) > 1:
        grid[:] = rows[1:]  # calamine rows are rectangular: one C-level copy
    rows.clear()
    header: list[str] = []
    kept: list[np.ndarray] = []
    for position, title in enumerate(raw_header):
        values = grid[:, position].copy()
        if not title:
            if any(_is_value(v) for v in values.tolist()):
                raise InputFileError(
                    f"sheet {name!r}, column {position + 1} holds values but has no header",
                    path=path,
                    fix="give every column a name in the first row",
                )
            continue
        if title in header:
            raise InputFileError(
                f"sheet {name!r} has two columns named {title!r}",
                path=path,
                fix="rename one of them",
            )
        header.append(title)
        kept.append(values)
    return _Sheet(name=name, header=header, columns=kept)


def _is_value(value: object) -> bool:
    return value is not None and value != ""


def _header_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


# --------------------------------------------------------------------------- typing

_NO_CELLS = np.empty(0, dtype=object)


def _typed_array(cells: np.ndarray, *, id_like: bool) -> pa.Array:
    """Type one column of raw calamine cells (object array; see the module docstring)."""
    n = len(cells)
    if n == 0:
        return pa.array([], type=pa.string())
    kinds = np.fromiter(map(_KIND_OF_TYPE.__getitem__, map(type, cells)), np.int8, count=n)
    strings = np.flatnonzero(kinds == _STR)
    if strings.size:
        kinds[strings[cells[strings] == ""]] = _NULL
    null = kinds == _NULL
    present = set(np.unique(kinds[~null]).tolist())

    if id_like or _OTHER in present or (len(present) > 1 and not present <= _TEMPORAL):
        return _as_strings(cells, kinds)
    if not present:
        return pa.nulls(n, type=pa.string())
    if present <= _TEMPORAL:
        if present == {_TIME}:
            return pa.array(_with_nulls(cells, null), type=pa.time64("us"))
        return pa.array(_with_nulls(_as_datetimes(cells, kinds), null), type=pa.timestamp("us"))
    (kind,) = present
    if kind == _NUM:
        numbers = _numbers(cells, kinds)
        if np.all(_exact_integers(numbers[~null])):
            return pa.array(numbers.astype(np.int64), mask=null, type=pa.int64())
        return pa.array(numbers, mask=null, type=pa.float64())
    arrow_type = {_STR: pa.string(), _BOOL: pa.bool_(), _DURATION: pa.duration("us")}[kind]
    return pa.array(_with_nulls(cells, null), type=arrow_type)


def _numbers(cells: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """float64 values of the numeric cells, 0 elsewhere."""
    numeric = kinds == _NUM
    numbers = np.zeros(len(cells), dtype=np.float64)
    numbers[numeric] = cells[numeric].astype(np.float64)
    return numbers


def _exact_integers(values: np.ndarray) -> np.ndarray:
    """Mask of the floats that are integers exactly representable in float64."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values) <= _INT_EXACT) & (values % 1 == 0)


def _with_nulls(cells: np.ndarray, null: np.ndarray) -> np.ndarray:
    if null.any():
        cells = cells.copy()
        cells[null] = None
    return cells


def _as_datetimes(cells: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Dates -> midnight datetimes, times of day -> Excel day 0 + time (a copy)."""
    cells = cells.copy()
    for i in np.flatnonzero(kinds == _DATE):
        day = cells[i]
        cells[i] = dt.datetime(day.year, day.month, day.day)
    for i in np.flatnonzero(kinds == _TIME):
        cells[i] = dt.datetime.combine(_EXCEL_DAY_ZERO.date(), cells[i])
    return cells


def _as_strings(cells: np.ndarray, kinds: np.ndarray) -> pa.Array:
    """Text of every cell: integral numbers without ``.0``, dates in ISO format."""
    text = cells.copy()
    text[(kinds == _NULL) | (kinds == _NUM)] = None
    for i in np.flatnonzero((kinds != _NULL) & (kinds != _NUM) & (kinds != _STR)):
        text[i] = _text(cells[i])
    result = pa.array(text, type=pa.string())
    numeric = kinds == _NUM
    if numeric.any():
        numbers = _numbers(cells, kinds)
        integral = _exact_integers(numbers)
        as_text = pa.array(np.where(integral, numbers, 0).astype(np.int64)).cast(pa.string())
        if not integral[numeric].all():
            as_text = pc.if_else(pa.array(integral), as_text, pa.array(numbers).cast(pa.string()))
        result = pc.if_else(pa.array(numeric), as_text, result)
    return result


def _text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
