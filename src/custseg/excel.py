"""Excel once: an ``.xlsx`` workbook is parsed a single time and cached as parquet.

The first call of :func:`xlsx_to_parquet` on a workbook reads every worksheet,
types the columns faithfully and writes
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
    * Excel error cells (``#N/A``, ``#DIV/0!``, ...) are null, like empty cells.

Readers
    Worksheets are parsed by fastexcel (Rust calamine, straight to Arrow) in a
    single pass per sheet: every column's kind is inferred from **all** its rows
    (``schema_sample_rows=None``) in strict mode, so a column holding two kinds
    of cells is never coerced silently; the ID-like columns, found from the
    header row read beforehand from the ``.xlsx`` XML, are read as text.
    Whenever fastexcel's result could differ from the rules above, the workbook
    is read again with python-calamine, cell by cell (slower, exact): a non-ID
    column holding several kinds of cells (a number column with one text cell),
    a text such as ``"NA"`` or ``"nan"`` in a number or date column, a
    fractional number, a number beyond 2**53, a boolean or a date in an ID-like
    column, a header that
    is not plain text or integral numbers, a header problem (raised as an
    error by that reader), sheets whose same column holds kinds that cannot be
    merged, and any workbook that is not ``.xlsx`` (``.xls``, ``.xlsb``,
    ``.ods``). The reason is logged at INFO level. A sheet skipped for its
    header never causes this, whatever its cells.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import posixpath
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fastexcel
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
CACHE_VERSION = 2

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


def read_workbook(path: Path) -> pa.Table:
    """Read all matching worksheets of a workbook into one typed Arrow table.

    The rules (sheets, types, readers) are those of the module docstring.
    Nothing is cached; see :func:`xlsx_to_parquet`.

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
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = workbook.sheets_metadata
    except PasswordError as exc:
        raise InputFileError(
            "the workbook is protected by a password", path=path, fix="save a copy without it"
        ) from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise InputFileError(
            f"not a readable Excel workbook ({_first_line(exc)})", path=path, fix=_FIX
        ) from exc
    try:
        names = [meta.name for meta in metadata if meta.typ == SheetTypeEnum.WorkSheet]
        try:
            return _read_with_fastexcel(path, names)
        except _NeedsCalamine as reason:
            logger.info("%s: read cell by cell with python-calamine: %s", path, reason)
            return _read_with_calamine(workbook, names, path)
    finally:
        workbook.close()


_FIX = "open it in Excel or LibreOffice and save it again as .xlsx, or export it to CSV"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _finish(arrays: dict[str, pa.Array], used: list[str], skipped: list[str]) -> pa.Table:
    """The table of the typed columns, fully empty rows dropped, with the sheet metadata."""
    table = pa.table(arrays)
    empty_row = None
    for column in table.columns:
        nulls = column.is_null()
        empty_row = nulls if empty_row is None else pc.and_(empty_row, nulls)
    if empty_row is not None and pc.any(empty_row).as_py():
        table = table.filter(pc.invert(empty_row))
    return table.replace_schema_metadata(
        {
            b"custseg.sheets": json.dumps(used).encode(),
            b"custseg.skipped_sheets": json.dumps(skipped).encode(),
        }
    )


def _skip_message(path: Path, name: str, header: list[str], first: str, first_header: list[str]):
    return (
        "%s: sheet %r skipped: its header %s differs from sheet %r's %s",
        path,
        name,
        header,
        first,
        first_header,
    )


# --------------------------------------------------------------------------- fastexcel


class _NeedsCalamine(Exception):
    """fastexcel's result could differ from the typing rules: read the cells one by one."""


# What fastexcel writes for a cell that is not text in a column read as text: a number
# with a fraction (9 decimals at most) or one beyond 2**53, -0, a boolean, a date-time.
_NOT_PLAIN_TEXT = (
    r"^(-?[0-9]+\.[0-9]+|-?[1-9][0-9]{15,}|-0|true|false"
    r"|-?[0-9]{4,}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?)$"
)
_DAY_MS = 86_400_000
# calamine maps an Excel serial in [0, 1) (a time of day) to 1899-12-31 + time.
_TIME_DAY_MS = (dt.datetime(1899, 12, 31) - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1)


@dataclass
class _TypedSheet:
    name: str
    header: list[str]
    columns: list[pa.Array]  # typed, one per header column
    skipped: bool = False  # its header differs from the first sheet's: not typed


def _read_with_fastexcel(path: Path, names: list[str]) -> pa.Table:
    """All worksheets read by fastexcel; raises _NeedsCalamine when the rules could break."""
    if not names:
        raise _NeedsCalamine("no worksheet")
    first_rows = _xlsx_first_rows(path, names)
    try:
        reader = fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        raise _NeedsCalamine(f"fastexcel cannot open it ({_first_line(exc)})") from exc
    sheets: list[_TypedSheet] = []
    skipped: list[str] = []
    warnings: list[tuple[object, ...]] = []
    for name in names:
        first_header = sheets[0].header if sheets else None
        sheet = _fast_sheet(reader, name, first_rows[name], first_header)
        if sheet is None:
            continue
        if sheet.skipped:
            first = sheets[0]
            warnings.append(_skip_message(path, name, sheet.header, first.name, first.header))
            skipped.append(name)
            continue
        sheets.append(sheet)
    if not sheets:
        raise _NeedsCalamine("no sheet with data")  # python-calamine raises the error
    arrays = {}
    for title in sheets[0].header:
        parts = [sheet.columns[sheet.header.index(title)] for sheet in sheets]
        arrays[title] = _merge(parts, title)
    for warning in warnings:  # only once the fast reader has succeeded
        logger.warning(*warning)
    return _finish(arrays, [sheet.name for sheet in sheets], skipped)


def _fast_sheet(
    reader: fastexcel.ExcelReader,
    name: str,
    first_row: dict[int, tuple[str, str]],
    first_header: list[str] | None,
) -> _TypedSheet | None:
    """One worksheet typed from fastexcel's Arrow columns; None for an empty sheet.

    A sheet whose header differs from ``first_header`` (the first sheet's) comes
    back untyped, with ``skipped`` set, even if its cells could not be typed.
    """
    forced = {
        text: "string"
        for kind, text in first_row.values()
        if kind == "text" and is_id_like(text.strip())
    }
    problem = None
    try:
        sheet = reader.load_sheet(
            name,
            schema_sample_rows=None,  # infer each column's kind from all its rows
            dtype_coercion="strict",  # two kinds in a guessed column: an error, never a coercion
            dtypes=forced or None,
        )
        columns = sheet.selected_columns
        batch, errors = sheet.to_arrow_with_errors()
    except fastexcel.FastExcelError as exc:
        problem = f"sheet {name!r}: {_first_line(exc)}"
        if first_header is None:
            raise _NeedsCalamine(problem) from exc
        try:  # perhaps a sheet to skip (notes): its header, every cell read as text
            sheet = reader.load_sheet(name, dtypes="string")
            columns = sheet.selected_columns
            batch, errors = sheet.to_arrow_with_errors()
        except fastexcel.FastExcelError:
            raise _NeedsCalamine(problem) from exc
    if not columns:
        if first_row:
            raise _NeedsCalamine(f"sheet {name!r}: its first row was misread")
        return None

    header: list[str] = []
    kept: list[tuple[fastexcel.ColumnInfo, pa.Array]] = []
    for position, info in enumerate(columns):
        title = _checked_title(info, first_row.get(info.absolute_index))
        if title is None:
            raise _NeedsCalamine(f"sheet {name!r}: header cell {info.name!r} not plain text")
        if not title:
            if _has_values(batch.column(position)):
                raise _NeedsCalamine(f"sheet {name!r}: a column with values has no header")
            continue
        if title in header:
            raise _NeedsCalamine(f"sheet {name!r}: two columns named {title!r}")
        header.append(title)
        kept.append((info, batch.column(position)))
    if set(first_row) - {info.absolute_index for info in columns}:
        raise _NeedsCalamine(f"sheet {name!r}: its first row was misread")
    if first_header is not None and set(header) != set(first_header):
        return _TypedSheet(name=name, header=header, columns=[], skipped=True)
    if problem is not None:
        raise _NeedsCalamine(problem)
    for error in errors.errors if errors is not None else []:
        if "got 'Error(" not in error.detail:  # error cells are null, as with python-calamine
            raise _NeedsCalamine(f"sheet {name!r}: {error.detail} at {error.position}")

    typed = []
    for title, (info, values) in zip(header, kept, strict=True):
        id_like = is_id_like(title)
        if id_like and info.dtype_from == "guessed":
            raise _NeedsCalamine(f"sheet {name!r}: column {title!r} not read as text")
        typed.append(_fast_typed(values, id_like=id_like, where=f"sheet {name!r}, {title!r}"))
    return _TypedSheet(name=name, header=header, columns=typed)


def _checked_title(info: fastexcel.ColumnInfo, cell: tuple[str, str] | None) -> str | None:
    """The header text of a column, or None if fastexcel and the XML disagree."""
    if info.column_name_from == "generated":
        return "" if cell is None or (cell[0] == "text" and not cell[1].strip()) else None
    if cell is None:
        return None
    kind, text = cell
    if kind == "number":
        number = float(text)
        if not number.is_integer() or abs(number) > _INT_EXACT:
            return None
        text = str(int(number))
    elif kind != "text":
        return None
    return text.strip() if info.name == text else None


def _has_values(values: pa.Array) -> bool:
    if values.null_count == len(values):
        return False
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return bool(pc.any(pc.not_equal(values, "")).as_py())
    return True


def _fast_typed(values: pa.Array, *, id_like: bool, where: str) -> pa.Array:
    """Apply the typing rules to one fastexcel column (single kind, or text if id-like)."""
    kind = values.type
    if pa.types.is_null(kind):
        return pa.nulls(len(values), type=pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if id_like and pc.any(pc.match_substring_regex(values, _NOT_PLAIN_TEXT)).as_py():
            raise _NeedsCalamine(f"{where}: a number, date or boolean cell among IDs")
        values = values.cast(pa.string())
        empty = pc.equal(values, "")
        return pc.if_else(empty, None, values) if pc.any(empty).as_py() else values
    if id_like:
        raise _NeedsCalamine(f"{where}: ID-like column read as {kind}")
    if pa.types.is_floating(kind):
        if pc.any(pc.is_nan(values)).as_py():  # Excel stores no NaN: a text "nan" was parsed
            raise _NeedsCalamine(f"{where}: a text such as 'nan' among numbers")
        if np.all(_exact_integers(pc.drop_null(values).to_numpy())):
            return values.cast(pa.int64())
        return values.cast(pa.float64())
    if pa.types.is_integer(kind):
        return values.cast(pa.int64())
    if pa.types.is_boolean(kind):
        return values
    if pa.types.is_duration(kind):
        return values.cast(pa.duration("us"))
    if pa.types.is_timestamp(kind) and kind.tz is None:
        return _fast_temporal(values)
    raise _NeedsCalamine(f"{where}: column of type {kind}")


def _fast_temporal(values: pa.Array) -> pa.Array:
    """Timestamps; times of day (serial < 1) as time64, or on Excel day 0 when mixed."""
    null = values.is_null().to_numpy(zero_copy_only=False)
    ms = pc.fill_null(values.cast(pa.timestamp("ms")).cast(pa.int64()), 0).to_numpy()
    is_time = ~null & (ms >= _TIME_DAY_MS) & (ms < _TIME_DAY_MS + _DAY_MS)
    if not is_time.any():
        return values.cast(pa.timestamp("us"))
    if is_time.sum() == (~null).sum():
        return pa.array((ms - _TIME_DAY_MS) * 1000, type=pa.time64("us"), mask=null)
    ms = np.where(is_time, ms - _DAY_MS, ms)  # 1899-12-31 + t -> Excel day 0 (1899-12-30) + t
    return pa.array(ms * 1000, type=pa.timestamp("us"), mask=null)


def _merge(parts: list[pa.Array], title: str) -> pa.Array:
    """Concatenate one column of several sheets as if it had been typed as a whole."""
    if len(parts) == 1:
        return parts[0]
    kinds = {part.type for part in parts if part.null_count < len(part)}
    if not kinds:
        return pa.nulls(sum(len(part) for part in parts), type=pa.string())
    if len(kinds) == 1:
        (target,) = kinds
    elif kinds <= {pa.int64(), pa.float64()}:
        target = pa.float64()
    elif kinds <= {pa.timestamp("us"), pa.time64("us")}:
        target = pa.timestamp("us")
    elif pa.string() in kinds and kinds <= {pa.string(), pa.int64(), pa.float64()}:
        target = pa.string()
    else:
        raise _NeedsCalamine(
            f"column {title!r} holds {sorted(map(str, kinds))} in different sheets"
        )
    return pa.concat_arrays([_as_type(part, target) for part in parts])


def _as_type(part: pa.Array, target: pa.DataType) -> pa.Array:
    if part.type == target:
        return part
    if part.null_count == len(part):
        return pa.nulls(len(part), type=target)
    if target == pa.string():  # numbers among text: formatted as in a mixed column
        return _numbers_as_text(part)
    if target == pa.timestamp("us"):  # times of day among dates: on Excel day 0
        day_zero = pa.scalar(_EXCEL_DAY_ZERO, type=pa.timestamp("us"))
        return pc.add(day_zero, part.cast(pa.int64()).cast(pa.duration("us")))
    return part.cast(target)


def _numbers_as_text(values: pa.Array) -> pa.Array:
    """Integral numbers without ``.0``, others as Arrow writes a float64."""
    if pa.types.is_integer(values.type):
        return values.cast(pa.string())
    null = values.is_null().to_numpy(zero_copy_only=False)
    numbers = pc.fill_null(values, 0.0).to_numpy()
    integral = _exact_integers(numbers)
    as_text = pa.array(np.where(integral, numbers, 0).astype(np.int64), mask=null).cast(pa.string())
    if not integral[~null].all():
        floats = pa.array(numbers, mask=null).cast(pa.string())
        as_text = pc.if_else(pa.array(integral), as_text, floats)
    return as_text


# The header row, read from the .xlsx XML before fastexcel parses the sheet, to name the
# ID-like columns that fastexcel must read as text (a column of numbers and text would
# otherwise stop the strict inference).

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _xlsx_first_rows(path: Path, names: list[str]) -> dict[str, dict[int, tuple[str, str]]]:
    """Per sheet, the cells of its first row holding a value: column -> (kind, text).

    ``kind`` is ``text``, ``number`` or ``other`` (boolean, error, ISO date).
    Raises _NeedsCalamine for anything but a readable ``.xlsx``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            workbook_part = _relationship_targets(archive, "", "_rels/.rels", "/officeDocument")
            (workbook_part,) = workbook_part.values()
            folder = posixpath.dirname(workbook_part)
            rels = posixpath.join(folder, "_rels", posixpath.basename(workbook_part) + ".rels")
            targets = _relationship_targets(archive, folder, rels, "")
            parts = {}
            root = ET.fromstring(archive.read(workbook_part))
            for sheet in root.iter(f"{_MAIN}sheet"):
                parts[sheet.get("name")] = targets[sheet.get(f"{_DOC_REL}id")]
            rows = {name: _first_row(archive, parts[name]) for name in names}
            wanted = [int(t) for row in rows.values() for k, t in row.values() if k == "shared"]
            if wanted:
                shared_parts = _relationship_targets(archive, folder, rels, "/sharedStrings")
                strings = _shared_strings(archive, *shared_parts.values(), count=max(wanted) + 1)
                for row in rows.values():
                    for column, (kind, text) in row.items():
                        if kind == "shared":
                            row[column] = ("text", strings[int(text)])
    except (OSError, KeyError, IndexError, ValueError, zipfile.BadZipFile, ET.ParseError) as exc:
        raise _NeedsCalamine(f"not an .xlsx whose header XML is readable ({exc!r})") from exc
    return rows


def _relationship_targets(
    archive: zipfile.ZipFile, folder: str, rels: str, type_suffix: str
) -> dict[str, str]:
    """Relationship id -> part path, for the relationships whose type ends so."""
    targets = {}
    for rel in ET.fromstring(archive.read(rels)).iter(f"{_PKG_REL}Relationship"):
        if rel.get("Type", "").endswith(type_suffix) and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            if target.startswith("/"):
                targets[rel.get("Id")] = target.lstrip("/")
            else:
                targets[rel.get("Id")] = posixpath.normpath(posixpath.join(folder, target))
    return targets


def _first_row(archive: zipfile.ZipFile, part: str) -> dict[int, tuple[str, str]]:
    with archive.open(part) as stream:
        for _, element in ET.iterparse(stream, events=("end",)):
            if element.tag == f"{_MAIN}row":
                cells: dict[int, tuple[str, str]] = {}
                column = -1
                for cell in element.iterfind(f"{_MAIN}c"):
                    ref = cell.get("r")
                    column = _column_index(ref) if ref else column + 1
                    value = _cell_value(cell)
                    if value is not None:
                        cells[column] = value
                if cells:
                    return cells
                element.clear()
            elif element.tag == f"{_MAIN}sheetData":
                break
    return {}


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - ord("A") + 1
    return index - 1


def _cell_value(cell: ET.Element) -> tuple[str, str] | None:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return None if inline is None else ("text", _rich_text(inline))
    value = cell.find(f"{_MAIN}v")
    if value is None or value.text is None:
        return None
    if kind == "s":
        return ("shared", value.text)
    if kind == "str":
        return ("text", value.text)
    return ("number" if kind == "n" else "other", value.text)


def _rich_text(element: ET.Element) -> str:
    """Text of a shared or inline string: its <t>, or its runs' <t> (phonetic runs left out)."""
    parts = []
    for child in element:
        if child.tag == f"{_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_MAIN}r":
            parts.extend(t.text or "" for t in child.iterfind(f"{_MAIN}t"))
    return "".join(parts)


def _shared_strings(archive: zipfile.ZipFile, part: str, *, count: int) -> list[str]:
    """The first ``count`` shared strings (the header's are usually the first ones)."""
    strings: list[str] = []
    with archive.open(part) as stream:
        for _, element in ET.iterparse(stream, events=("end",)):
            if element.tag == f"{_MAIN}si":
                strings.append(_rich_text(element))
                element.clear()
                if len(strings) >= count:
                    break
    return strings


# --------------------------------------------------------------------------- python-calamine


@dataclass
class _Sheet:
    name: str
    header: list[str]
    columns: list[np.ndarray]  # one object array of raw cell values per header column


def _read_with_calamine(workbook: CalamineWorkbook, names: list[str], path: Path) -> pa.Table:
    """All worksheets read cell by cell with python-calamine (the exact, slower reader)."""
    sheets: list[_Sheet] = []
    skipped: list[str] = []
    try:
        for name in names:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
            sheet = _sheet_from_rows(name, rows, path)
            if sheet is None:
                continue
            if sheets and set(sheet.header) != set(sheets[0].header):
                first = sheets[0]
                logger.warning(*_skip_message(path, name, sheet.header, first.name, first.header))
                skipped.append(name)
                continue
            sheets.append(sheet)
    except CalamineError as exc:
        raise InputFileError(
            f"cannot read the workbook ({_first_line(exc)})", path=path, fix=_FIX
        ) from exc

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
    return _finish(arrays, [sheet.name for sheet in sheets], skipped)


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
