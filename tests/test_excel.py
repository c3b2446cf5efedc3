"""Tests of custseg.excel: Excel once, typed faithfully, cached by content."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from tests_support import DATA_DIR

import custseg.excel as excel
from custseg.errors import InputFileError
from custseg.excel import cached_parquet_path, is_id_like, workbook_sha256, xlsx_to_parquet

HEADER_II = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]

# Online Retail II style: numeric cells where Excel has numbers, text elsewhere.
SHEET_2009 = [
    [
        489434,
        85048,
        "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
        12,
        dt.datetime(2009, 12, 1, 7, 45),
        6.95,
        13085,
        "United Kingdom",
    ],
    [
        489434,
        "79323P",
        "PINK CHERRY LIGHTS",
        12,
        dt.datetime(2009, 12, 1, 7, 45),
        6.75,
        13085,
        "United Kingdom",
    ],
    [
        "C489449",
        "22087",
        "PAPER BUNTING WHITE LACE",
        -12,
        dt.datetime(2009, 12, 1, 10, 33),
        2.95,
        16321,
        "Australia",
    ],
]
SHEET_2010 = [
    [
        539993,
        22386,
        "JUMBO BAG PINK POLKADOT",
        10,
        dt.datetime(2011, 1, 4, 10, 0),
        1.95,
        13313,
        "United Kingdom",
    ],
    [539993, "00042", None, 1, dt.datetime(2011, 1, 4, 0, 0), 0.85, None, "United Kingdom"],
]


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Save an .xlsx with one worksheet per entry (rows include the header)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def two_year_workbook(tmp_path: Path) -> Path:
    """Two yearly sheets (one with its columns in another order), an empty sheet, notes."""
    reordered = [HEADER_II[::-1]] + [row[::-1] for row in SHEET_2010]
    return write_workbook(
        tmp_path / "online_retail_II.xlsx",
        {
            "Year 2009-2010": [HEADER_II, *SHEET_2009],
            "Empty": [],
            "Year 2010-2011": reordered,
            "Notes": [["Source", "Licence"], ["UCI", "CC BY 4.0"]],
        },
    )


def test_two_sheets_concatenated_with_faithful_types(two_year_workbook: Path, tmp_path: Path):
    out = xlsx_to_parquet(two_year_workbook, tmp_path / "cache")
    table = pq.read_table(out)

    assert table.column_names == HEADER_II
    assert table.schema.field("Invoice").type == pa.string()
    assert table.schema.field("StockCode").type == pa.string()
    assert table.schema.field("Customer ID").type == pa.string()
    assert table.schema.field("Quantity").type == pa.int64()
    assert table.schema.field("Price").type == pa.float64()
    assert table.schema.field("InvoiceDate").type == pa.timestamp("us")

    df = table.to_pandas()
    assert df["Invoice"].tolist() == ["489434", "489434", "C489449", "539993", "539993"]
    # ints and text mixed -> text; numbers without ".0", text kept with its leading zeros
    assert df["StockCode"].tolist() == ["85048", "79323P", "22087", "22386", "00042"]
    assert df["Customer ID"].tolist()[:4] == ["13085", "13085", "16321", "13313"]
    assert pd.isna(df["Customer ID"].iloc[4])
    assert pd.isna(df["Description"].iloc[4])
    assert df["Quantity"].tolist() == [12, 12, -12, 10, 1]
    assert df["Price"].tolist() == [6.95, 6.75, 2.95, 1.95, 0.85]
    # a midnight date-time (calamine returns a date) stays a timestamp
    assert df["InvoiceDate"].tolist() == [
        pd.Timestamp("2009-12-01 07:45"),
        pd.Timestamp("2009-12-01 07:45"),
        pd.Timestamp("2009-12-01 10:33"),
        pd.Timestamp("2011-01-04 10:00"),
        pd.Timestamp("2011-01-04 00:00"),
    ]

    metadata = table.schema.metadata
    assert json.loads(metadata[b"custseg.sheets"]) == ["Year 2009-2010", "Year 2010-2011"]
    assert json.loads(metadata[b"custseg.skipped_sheets"]) == ["Notes"]
    assert metadata[b"custseg.source_sha256"].decode() == workbook_sha256(two_year_workbook)


def test_sheet_with_other_header_is_skipped_with_a_warning(
    two_year_workbook: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level("WARNING", logger="custseg.excel"):
        xlsx_to_parquet(two_year_workbook, tmp_path / "cache")
    assert any("'Notes' skipped" in record.getMessage() for record in caplog.records)


def test_cache_path_is_keyed_by_content_hash(two_year_workbook: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    out = xlsx_to_parquet(two_year_workbook, cache)
    digest = workbook_sha256(two_year_workbook)
    assert out == cache / "xlsx" / f"{digest[:16]}.v{excel.CACHE_VERSION}.parquet"
    assert out == cached_parquet_path(digest, cache)
    # atomic write: nothing but the parquet file in the folder
    assert sorted(p.name for p in (cache / "xlsx").iterdir()) == [out.name]


def test_cache_hit_for_same_bytes_under_another_name_does_not_parse_excel(
    two_year_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cache = tmp_path / "cache"
    first = xlsx_to_parquet(two_year_workbook, cache)
    copy = tmp_path / "elsewhere" / "renamed.xlsx"
    copy.parent.mkdir()
    shutil.copy(two_year_workbook, copy)

    def no_parsing(path: Path) -> pa.Table:
        raise AssertionError("Excel parsed again on a cache hit")

    monkeypatch.setattr(excel, "read_workbook", no_parsing)
    assert xlsx_to_parquet(copy, cache) == first


def test_changed_bytes_give_a_new_parquet(two_year_workbook: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    first = xlsx_to_parquet(two_year_workbook, cache)
    changed = write_workbook(
        tmp_path / "online_retail_II.xlsx",  # same name, one more line
        {"Year 2009-2010": [HEADER_II, *SHEET_2009, *SHEET_2010]},
    )
    second = xlsx_to_parquet(changed, cache)
    assert second != first
    assert pq.read_metadata(first).num_rows == 5
    assert pq.read_metadata(second).num_rows == 5
    assert pq.read_table(second).column("Invoice").to_pylist()[-1] == "539993"
    assert len(list((cache / "xlsx").glob("*.parquet"))) == 2


def test_unreadable_cache_file_is_rebuilt(two_year_workbook: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    target = cached_parquet_path(workbook_sha256(two_year_workbook), cache)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not parquet")
    assert xlsx_to_parquet(two_year_workbook, cache) == target
    assert pq.read_metadata(target).num_rows == 5


def test_failed_write_leaves_nothing(
    two_year_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(excel.pq, "write_table", disk_full)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="No space"):
        xlsx_to_parquet(two_year_workbook, cache)
    assert list((cache / "xlsx").iterdir()) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"InvoiceNo,StockCode\n536365,85123A\n", "not a readable Excel workbook"),
        (b"PK\x03\x04" + b"\x00" * 200, "not a readable Excel workbook"),
    ],
    ids=["csv-renamed", "broken-zip"],
)
def test_corrupt_workbook_raises_input_file_error(tmp_path: Path, content: bytes, problem: str):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        xlsx_to_parquet(bad, tmp_path / "cache")
    message = str(info.value)
    assert message.startswith(f"{bad}: {problem}")
    assert "save it again as .xlsx" in message
    assert "\n" not in message
    assert not (tmp_path / "cache" / "xlsx").exists()


def test_truncated_workbook_raises_input_file_error(two_year_workbook: Path, tmp_path: Path):
    data = two_year_workbook.read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="not a readable Excel workbook"):
        xlsx_to_parquet(cut, tmp_path / "cache")


def test_missing_file_raises_input_file_error(tmp_path: Path):
    with pytest.raises(InputFileError, match="file not found"):
        xlsx_to_parquet(tmp_path / "nope.xlsx", tmp_path / "cache")


def test_workbook_without_data_raises(tmp_path: Path):
    empty = write_workbook(tmp_path / "empty.xlsx", {"Sheet1": [], "Sheet2": []})
    with pytest.raises(InputFileError, match="holds no data"):
        xlsx_to_parquet(empty, tmp_path / "cache")


def test_values_without_header_and_duplicate_headers_raise(tmp_path: Path):
    headless = write_workbook(tmp_path / "h.xlsx", {"S": [["a", None, "c"], [1, 2, 3]]})
    with pytest.raises(InputFileError, match="column 2 holds values but has no header"):
        xlsx_to_parquet(headless, tmp_path / "cache")
    twice = write_workbook(tmp_path / "d.xlsx", {"S": [["a", "a"], [1, 2]]})
    with pytest.raises(InputFileError, match="two columns named 'a'"):
        xlsx_to_parquet(twice, tmp_path / "cache")


def test_column_types_and_empty_rows(tmp_path: Path):
    rows = [
        ["when", "time", "flag", "amount", "note", "blank", None],
        [dt.datetime(2011, 1, 2, 3, 4, 5), dt.time(8, 30), True, 1.5, 7, None, None],
        [None, None, None, None, None, None, None],  # an empty line in the middle
        [dt.date(2011, 1, 3), dt.time(17, 0), False, 2, "text", None, None],
    ]
    table = pq.read_table(
        xlsx_to_parquet(write_workbook(tmp_path / "t.xlsx", {"S": rows}), tmp_path / "c")
    )
    assert table.column_names == ["when", "time", "flag", "amount", "note", "blank"]
    assert table.num_rows == 2  # the empty line is dropped
    assert table.schema.field("when").type == pa.timestamp("us")
    assert table.schema.field("time").type == pa.time64("us")
    assert table.schema.field("flag").type == pa.bool_()
    assert table.schema.field("amount").type == pa.float64()
    assert table.schema.field("note").type == pa.string()  # a number and a text
    assert table.to_pylist() == [
        {"when": dt.datetime(2011, 1, 2, 3, 4, 5), "time": dt.time(8, 30), "flag": True,
         "amount": 1.5, "note": "7", "blank": None},
        {"when": dt.datetime(2011, 1, 3), "time": dt.time(17, 0), "flag": False,
         "amount": 2.0, "note": "text", "blank": None},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("InvoiceNo", True),
        ("Invoice", True),
        ("CustomerID", True),
        ("Customer ID", True),
        ("StockCode", True),
        ("order_number", True),
        ("client-ref", True),
        ("SKU", True),
        ("Quantity", False),
        ("InvoiceDate", False),
        ("Paid", False),
        ("Country", False),
        ("UnitPrice", False),
    ],
)
def test_is_id_like(name: str, expected: bool):
    assert is_id_like(name) is expected


id_cells = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(float),  # calamine: numbers are floats
    st.text(alphabet="0123456789ABCDEFC", min_size=1, max_size=8),
    st.just(""),  # an empty cell
)


@settings(max_examples=200, deadline=None)
@given(st.lists(id_cells, min_size=1, max_size=40))
def test_id_cells_become_exact_strings(cells: list[object]):
    array = excel._typed_array(np.array(cells, dtype=object), id_like=True)
    expected = [None if c == "" else str(int(c)) if isinstance(c, float) else c for c in cells]
    assert array.type == pa.string()
    assert array.to_pylist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(min_value=-(2**53), max_value=2**53).map(float), st.just("")),
        min_size=1,
        max_size=40,
    )
)
def test_integral_numbers_become_int64(cells: list[object]):
    array = excel._typed_array(np.array(cells, dtype=object), id_like=False)
    expected = [None if c == "" else int(c) for c in cells]
    if all(c == "" for c in cells):
        assert array.null_count == len(cells)
    else:
        assert array.type == pa.int64()
        assert array.to_pylist() == expected


def real_parquet() -> Path:
    folder = DATA_DIR
    return (folder if folder.is_dir() else folder.parent) / "online_retail.parquet"


@pytest.mark.skipif(not real_parquet().is_file(), reason="real dataset not available")
def test_real_lines_round_trip_through_excel(tmp_path: Path):
    """3,000 real lines written the way the UCI workbook stores them come back identical."""
    source = pd.read_parquet(real_parquet()).iloc[:3000]
    as_number = lambda v: int(v) if v.isdigit() else v  # noqa: E731

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Online Retail")
    sheet.append(list(source.columns))
    for row in source.itertuples(index=False):
        sheet.append([
            as_number(row.InvoiceNo), as_number(row.StockCode),
            None if pd.isna(row.Description) else row.Description, row.Quantity,
            row.InvoiceDate.to_pydatetime(), row.UnitPrice,
            None if pd.isna(row.CustomerID) else row.CustomerID, row.Country,
        ])  # fmt: skip
    workbook.save(tmp_path / "Online Retail.xlsx")

    out = pq.read_table(xlsx_to_parquet(tmp_path / "Online Retail.xlsx", tmp_path / "c"))
    df = out.to_pandas()
    assert out.num_rows == 3000
    assert df["InvoiceNo"].tolist() == source["InvoiceNo"].tolist()
    assert df["StockCode"].tolist() == source["StockCode"].tolist()
    assert df["Quantity"].tolist() == source["Quantity"].tolist()
    assert df["UnitPrice"].tolist() == source["UnitPrice"].tolist()
    assert (df["InvoiceDate"] == source["InvoiceDate"].astype("datetime64[us]")).all()
    expected_ids = [None if pd.isna(v) else str(int(v)) for v in source["CustomerID"]]
    assert [None if pd.isna(v) else v for v in df["CustomerID"]] == expected_ids
    # figures of these 3,000 real lines (checked against the parquet with pandas)
    assert df["InvoiceNo"].str.startswith("C").sum() == 26  # cancellation lines, "C" kept
    assert df["InvoiceNo"].nunique() == 138
    assert df["CustomerID"].isna().sum() == 1081
    assert df["CustomerID"].nunique() == 94
    assert (~df["StockCode"].str.isdigit()).sum() == 383  # e.g. "85123A", "POST"
    assert df["CustomerID"].iloc[0] == "17850"


# --------------------------------------------------------------------------- the fast reader
#
# fastexcel reads every sheet in one pass; whenever its result could differ from the rules,
# the workbook is read again cell by cell with python-calamine. These tests pin both: the
# values (hand-computed) and which reader produced them.


READ_WITH_CALAMINE = excel._read_with_calamine


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the workbook is read again with python-calamine."""

    def fail(*args: object) -> pa.Table:
        raise AssertionError("fell back to python-calamine")

    monkeypatch.setattr(excel, "_read_with_calamine", fail)


def fallback_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The reasons logged for reading a workbook again with python-calamine."""
    marker = "python-calamine: "
    return [r.getMessage().split(marker, 1)[1] for r in caplog.records if marker in r.getMessage()]


def read(tmp_path: Path, rows: list[list[object]], name: str = "t.xlsx") -> pa.Table:
    return excel.read_workbook(write_workbook(tmp_path / name, {"S": rows}))


def calamine_read(path: Path) -> pa.Table:
    """The reference: the workbook read cell by cell with python-calamine."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    workbook = CalamineWorkbook.from_path(str(path))
    names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    try:
        return READ_WITH_CALAMINE(workbook, names, path)
    finally:
        workbook.close()


def test_late_text_in_a_numeric_id_column_is_kept(tmp_path: Path, no_fallback: None):
    # far beyond fastexcel's default 1,000-row type sample
    invoices: list[object] = [536365 + i for i in range(6000)]
    invoices[4999] = "C123"
    rows = [["InvoiceNo", "Quantity"], *([v, 1] for v in invoices)]
    table = read(tmp_path, rows)
    assert table.schema.field("InvoiceNo").type == pa.string()
    values = table.column("InvoiceNo").to_pylist()
    assert values[4999] == "C123"
    assert values[:2] == ["536365", "536366"]
    assert values[-1] == str(536365 + 5999)
    assert table.column("Quantity").type == pa.int64()


@pytest.mark.parametrize("text", ["oops", "NA", "nan", "NULL", "#REF"])
def test_late_text_in_a_number_column_makes_a_text_column(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
):
    caplog.set_level("INFO", logger="custseg.excel")
    # fastexcel would coerce the column to float and lose the text ("NA", "NULL" become
    # null, "nan" becomes NaN): the rule says a column of numbers and text is text.
    amounts: list[object] = [1.5 if i % 2 else 2 for i in range(6000)]
    amounts[4999] = text
    table = read(tmp_path, [["amount"], *([v] for v in amounts)])
    assert table.schema.field("amount").type == pa.string()
    values = table.column("amount").to_pylist()
    assert values[:3] == ["2", "1.5", "2"]
    assert values[4999] == text
    assert values.count(text) == 1
    assert len(fallback_reasons(caplog)) == 1


def test_null_like_text_in_a_date_column_makes_a_text_column(tmp_path: Path):
    rows = [["when"], [dt.datetime(2011, 1, 2, 3, 4, 5)], ["N/A"], [dt.datetime(2011, 1, 3)]]
    table = read(tmp_path, rows)
    assert table.column("when").to_pylist() == ["2011-01-02 03:04:05", "N/A", "2011-01-03"]


def test_id_column_with_fractions_booleans_dates_keeps_the_exact_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level("INFO", logger="custseg.excel")
    # fastexcel would write "0.333333333", "true", "2011-01-03 00:00:00"
    rows = [["ref"], [1 / 3], [17850], ["00042"], [True], [dt.date(2011, 1, 3)], [1e20]]
    table = read(tmp_path, rows)
    assert table.column("ref").to_pylist() == [
        "0.3333333333333333",
        "17850",
        "00042",
        "TRUE",
        "2011-01-03",
        "1e+20",
    ]
    assert fallback_reasons(caplog) == [
        "sheet 'S', 'ref': a number, date or boolean cell among IDs"
    ]


def test_every_kind_of_column_through_the_fast_reader(tmp_path: Path, no_fallback: None):
    rows = [
        ["when", "time", "mixed", "flag", "amount", "count", "wait", "note", "blank", "CustomerID"],
        [dt.datetime(2011, 1, 2, 3, 4, 5, 250000), dt.time(8, 30), dt.time(6, 0), True, 1.5, 7,
         dt.timedelta(hours=1, minutes=2), "a", None, 17850],
        [None] * 10,  # an empty line in the middle
        [dt.date(2011, 1, 3), dt.time(17, 0, 0, 500000), dt.datetime(2011, 1, 3, 12), False,
         "#N/A", -3, dt.timedelta(days=2), "", None, "#N/A"],
    ]  # fmt: skip
    table = read(tmp_path, rows)
    assert [(f.name, str(f.type)) for f in table.schema] == [
        ("when", "timestamp[us]"),
        ("time", "time64[us]"),
        ("mixed", "timestamp[us]"),
        ("flag", "bool"),
        ("amount", "double"),
        ("count", "int64"),
        ("wait", "duration[us]"),
        ("note", "string"),
        ("blank", "string"),
        ("CustomerID", "string"),
    ]
    assert table.to_pylist() == [
        {"when": dt.datetime(2011, 1, 2, 3, 4, 5, 250000), "time": dt.time(8, 30),
         "mixed": dt.datetime(1899, 12, 30, 6), "flag": True, "amount": 1.5, "count": 7,
         "wait": dt.timedelta(hours=1, minutes=2), "note": "a", "blank": None,
         "CustomerID": "17850"},
        {"when": dt.datetime(2011, 1, 3), "time": dt.time(17, 0, 0, 500000),
         "mixed": dt.datetime(2011, 1, 3, 12), "flag": False, "amount": None, "count": -3,
         "wait": dt.timedelta(days=2), "note": None, "blank": None, "CustomerID": None},
    ]  # fmt: skip


def test_sheets_with_different_kinds_in_a_column_merge_as_one_column(
    tmp_path: Path, no_fallback: None
):
    path = write_workbook(
        tmp_path / "two.xlsx",
        {
            "A": [["code", "price", "at"], ["X1", 2, dt.time(6)], ["X2", 3, dt.time(7)]],
            "B": [["at", "price", "code"], [dt.datetime(2011, 1, 1, 9), 1.25, 15]],
        },
    )
    table = excel.read_workbook(path)
    assert table.to_pydict() == {
        "code": ["X1", "X2", "15"],  # id-like: numbers as text
        "price": [2.0, 3.0, 1.25],  # int64 + float64 -> float64
        "at": [
            dt.datetime(1899, 12, 30, 6),
            dt.datetime(1899, 12, 30, 7),
            dt.datetime(2011, 1, 1, 9),
        ],  # times among dates: on Excel day 0
    }
    assert table == calamine_read(path)


def shared_strings(path: Path) -> Path:
    """Rewrite openpyxl's inline strings as shared strings, as Excel saves them.

    Two unused strings come first, so the header's indices do not start at 0.
    """
    import re
    import zipfile

    strings = ["unused 1", "unused 2"]

    def share(match: re.Match[str]) -> str:
        text = match.group(3)
        if text not in strings:
            strings.append(text)
        return (
            f'<c r="{match.group(1)}"{match.group(2) or ""} t="s"><v>{strings.index(text)}</v></c>'
        )

    cell = re.compile(
        r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>'
    )
    source = zipfile.ZipFile(path)
    parts = {name: source.read(name) for name in source.namelist()}
    source.close()
    for name in parts:
        if name.startswith("xl/worksheets/sheet"):
            parts[name] = cell.sub(share, parts[name].decode()).encode()
    items = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdShared" Target="sharedStrings.xml" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxml'
        'formats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def real_ii_parquet() -> Path:
    folder = DATA_DIR
    return (folder if folder.is_dir() else folder.parent) / "online_retail_ii_2009_2010.parquet"


@pytest.mark.skipif(not real_ii_parquet().is_file(), reason="real dataset not available")
def test_real_online_retail_ii_lines_in_two_sheets_with_shared_strings(
    tmp_path: Path, no_fallback: None
):
    """2,000 real Online Retail II lines as two yearly sheets, stored the way Excel does."""
    source = pd.read_parquet(real_ii_parquet()).iloc[:2000]
    as_number = lambda v: int(v) if v.isdigit() else v  # noqa: E731

    def rows(frame: pd.DataFrame) -> list[list[object]]:
        return [
            [as_number(r.Invoice), as_number(r.StockCode),
             None if pd.isna(r.Description) else r.Description, r.Quantity,
             r.InvoiceDate.to_pydatetime(), r.Price,
             None if pd.isna(r._6) else int(r._6), r.Country]
            for r in frame.itertuples(index=False)
        ]  # fmt: skip

    header = list(source.columns)
    second = rows(source.iloc[1200:])
    path = write_workbook(
        tmp_path / "online_retail_II.xlsx",
        {
            "Year 2009-2010": [header, *rows(source.iloc[:1200])],
            "Year 2010-2011": [header[::-1], *(row[::-1] for row in second)],
        },
    )
    shared_strings(path)
    with zipfile_names(path) as names:
        assert "xl/sharedStrings.xml" in names

    out = pq.read_table(xlsx_to_parquet(path, tmp_path / "c"))
    df = out.to_pandas()
    assert out.column_names == HEADER_II
    assert json.loads(out.schema.metadata[b"custseg.sheets"]) == [
        "Year 2009-2010",
        "Year 2010-2011",
    ]
    assert df["Invoice"].tolist() == source["Invoice"].tolist()
    assert df["StockCode"].tolist() == source["StockCode"].tolist()
    assert df["Description"].tolist() == source["Description"].tolist()
    assert df["Quantity"].tolist() == source["Quantity"].tolist()
    assert df["Price"].tolist() == source["Price"].tolist()
    assert (df["InvoiceDate"] == source["InvoiceDate"].astype("datetime64[us]")).all()
    expected_ids = [None if pd.isna(v) else str(int(v)) for v in source["Customer ID"]]
    assert [None if pd.isna(v) else v for v in df["Customer ID"]] == expected_ids
    assert out.drop_columns([]).replace_schema_metadata(None) == calamine_read(
        path
    ).replace_schema_metadata(None)


def zipfile_names(path: Path):
    import contextlib
    import zipfile

    @contextlib.contextmanager
    def names():
        with zipfile.ZipFile(path) as archive:
            yield archive.namelist()

    return names()


# Cells of every kind, including texts that look like numbers, booleans, dates or nulls.
any_cell = st.one_of(
    st.none(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4)),
    st.sampled_from(["", "x", "00042", "C536379", "NA", "nan", "null", "1.5", "true", "#N/A"]),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)).map(
        lambda d: dt.timedelta(seconds=round(d.total_seconds()))
    ),
)
# One kind per column most of the time, as in real workbooks.
one_kind_column = st.one_of(
    st.lists(st.one_of(st.none(), st.integers(-(10**6), 10**6)), min_size=1, max_size=6),
    st.lists(st.one_of(st.none(), st.text("abc0 ", min_size=1, max_size=3)), min_size=1, max_size=6),
    st.lists(st.one_of(st.none(), st.times().map(lambda t: t.replace(microsecond=0))), min_size=1, max_size=6),
    st.lists(any_cell, min_size=1, max_size=6),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    columns=st.lists(one_kind_column, min_size=1, max_size=4),
    names=st.lists(st.sampled_from(["amount", "when", "note", "CustomerID", "StockCode"]),
                   min_size=4, max_size=4, unique=True),
)  # fmt: skip
def test_fast_reader_gives_the_same_table_as_python_calamine(
    tmp_path_factory: pytest.TempPathFactory, columns: list[list[object]], names: list[str]
):
    height = max(len(c) for c in columns)
    body = [[c[i] if i < len(c) else None for c in columns] for i in range(height)]
    if all(v is None or v == "" for row in body for v in row):
        return  # a workbook without data: an error, tested elsewhere
    path = write_workbook(
        tmp_path_factory.mktemp("wb") / "w.xlsx", {"S": [names[: len(columns)], *body]}
    )
    assert excel.read_workbook(path) == calamine_read(path)


REAL_XLSX = Path(os.environ.get("CUSTSEG_REAL_XLSX", DATA_DIR / "online_retail.xlsx"))


@pytest.mark.skipif(
    not (REAL_XLSX.is_file() and real_parquet().is_file()),
    reason="the real UCI workbook is not available (set CUSTSEG_REAL_XLSX)",
)
def test_real_workbook_converts_to_the_reference_table(tmp_path: Path, no_fallback: None):
    """The UCI workbook (541,909 lines, ~4 s) gives the reference parquet, by fastexcel alone."""
    out = pq.read_table(xlsx_to_parquet(REAL_XLSX, tmp_path / "c"))
    reference = pq.read_table(real_parquet())
    assert out.num_rows == reference.num_rows == 541_909
    assert [(f.name, str(f.type)) for f in out.schema] == [
        ("InvoiceNo", "string"),
        ("StockCode", "string"),
        ("Description", "string"),
        ("Quantity", "int64"),
        ("InvoiceDate", "timestamp[us]"),
        ("UnitPrice", "double"),
        ("CustomerID", "string"),
        ("Country", "string"),
    ]
    for name in out.column_names:
        expected = reference.column(name)
        if name == "CustomerID":  # 17850.0 in the reference parquet, "17850" here
            expected = expected.cast(pa.int64()).cast(pa.string())
        assert out.column(name).equals(expected.cast(out.schema.field(name).type)), name


def test_notes_sheet_with_mixed_cells_is_skipped_without_the_slow_reader(
    tmp_path: Path, no_fallback: None, caplog: pytest.LogCaptureFixture
):
    path = write_workbook(
        tmp_path / "with_notes.xlsx",
        {
            "Year 2009-2010": [HEADER_II, *SHEET_2009],
            "Notes": [["Source", "Year"], ["UCI", 2011], ["see", "the web page"]],
        },
    )
    with caplog.at_level("WARNING", logger="custseg.excel"):
        table = excel.read_workbook(path)
    assert table.num_rows == 3
    assert json.loads(table.schema.metadata[b"custseg.skipped_sheets"]) == ["Notes"]
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "sheet 'Notes' skipped: its header ['Source', 'Year'] differs from sheet "
        f"'Year 2009-2010''s {HEADER_II}"
    ]
