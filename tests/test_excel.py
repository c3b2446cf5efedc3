"""Tests of custseg.excel: Excel once, typed faithfully, cached by content."""

from __future__ import annotations

import datetime as dt
import json
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
