"""The loader: formats, encodings, ids, dates, numbers, columns and the row numbers in errors.

Every case is a small hand-made file whose loaded values are known exactly.
"""

from __future__ import annotations

import datetime as dt
import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import UCI_COLUMNS

from custseg.errors import ColumnError, DataError, InputFileError, ParameterError
from custseg.load import load_transactions, normalise_name

COLUMNS = list(UCI_COLUMNS)


def _frame(n: int = 4, **columns) -> pd.DataFrame:
    """``n`` Online Retail lines; keyword arguments replace whole columns."""
    base = {
        "InvoiceNo": [str(536365 + i) for i in range(n)],
        "StockCode": ["85123A"] * n,
        "Description": ["WHITE HANGING HEART T-LIGHT HOLDER"] * n,
        "Quantity": [6] * n,
        "InvoiceDate": [dt.datetime(2011, 1, 3, 10, 0) + dt.timedelta(days=i) for i in range(n)],
        "UnitPrice": [2.55] * n,
        "CustomerID": [17850.0] * n,
        "Country": ["United Kingdom"] * n,
    }
    base.update(columns)
    return pd.DataFrame(base, columns=COLUMNS)


def _lines(loaded) -> pd.DataFrame:
    return loaded.con.execute(f"SELECT * FROM {loaded.view}").df()


def _column(loaded, name: str) -> list:
    return [r[0] for r in loaded.con.execute(f"SELECT {name} FROM {loaded.view}").fetchall()]


# --------------------------------------------------------------------------- customer ids


ID_SPELLINGS = [17850, 17850.0, "17850", " 17850 ", "17850\u00a0", "\t17850.00", "17850,0"]


@pytest.mark.parametrize("kind", ["dataframe", "csv", "parquet"])
def test_one_customer_whatever_the_spelling_of_the_id(kind, tmp_path):
    n = len(ID_SPELLINGS) + 3
    ids = [*ID_SPELLINGS, "007", "", "nan"]
    df = _frame(n, CustomerID=pd.Series(ids, dtype=object))
    if kind == "csv":
        df.to_csv(tmp_path / "t.csv", index=False)
        data = tmp_path / "t.csv"
    elif kind == "parquet":
        df.astype({"CustomerID": str}).to_parquet(tmp_path / "t.parquet")
        data = tmp_path / "t.parquet"
    else:
        data = df
    got = _column(load_transactions(data), "customer_id")
    assert got[: len(ID_SPELLINGS)] == ["17850"] * len(ID_SPELLINGS)
    assert got[len(ID_SPELLINGS)] == "007"  # leading zeros are part of the id
    assert got[-2:] == [None, None]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_id_spellings_property(ids, rnd):
    """An integer id written as int, float, text, text with '.0' or padded is the same id."""
    spellings = [
        lambda i: i,
        lambda i: float(i),
        lambda i: str(i),
        lambda i: f"{i}.0",
        lambda i: f"  {i}\t",
    ]
    written = [rnd.choice(spellings)(i) for i in ids]
    df = _frame(len(ids), CustomerID=pd.Series(written, dtype=object))
    assert _column(load_transactions(df), "customer_id") == [str(i) for i in ids]


# --------------------------------------------------------------------------- dates


D = dt.datetime
DATE_CASES = [
    # id, written values, --date-format, expected, how they were read, note expected
    (
        "iso",
        ["2011-01-03 10:00:00", "2011-12-09 12:50:00"],
        None,
        [D(2011, 1, 3, 10), D(2011, 12, 9, 12, 50)],
        "ISO 8601",
        None,
    ),
    (
        "iso-offsets",
        ["2011-01-03T10:00:00+01:00", "2011-12-09T12:50:00Z", "2011-06-01 08:00:00"],
        None,
        [D(2011, 1, 3, 9), D(2011, 12, 9, 12, 50), D(2011, 6, 1, 8)],
        "ISO 8601 with offset (converted to UTC)",
        "UTC",
    ),
    (
        "day-first",
        ["03/01/2011 10:00", "25/12/2011 09:30"],
        None,
        [D(2011, 1, 3, 10), D(2011, 12, 25, 9, 30)],
        "day/month/year",
        "day number above 12",
    ),
    (
        "month-first",
        ["01/03/2011 10:00", "12/25/2011 09:30"],
        None,
        [D(2011, 1, 3, 10), D(2011, 12, 25, 9, 30)],
        "month/day/year",
        "day number above 12",
    ),
    (
        "ambiguous",
        ["03/01/2011 10:00", "04/02/2011 09:30"],
        None,
        [D(2011, 1, 3, 10), D(2011, 2, 4, 9, 30)],
        "day/month/year (ambiguous, day-first assumed)",
        "ambiguous",
    ),
    (
        "ambiguous-settled",
        ["03/01/2011 10:00", "04/02/2011 09:30"],
        "%m/%d/%Y %H:%M",
        [D(2011, 3, 1, 10), D(2011, 4, 2, 9, 30)],
        "%m/%d/%Y %H:%M",
        None,
    ),
    (
        "two-digit-years",
        ["03/01/11 10:00", "25/12/11 09:30"],
        None,
        [D(2011, 1, 3, 10), D(2011, 12, 25, 9, 30)],
        "day/month/year",
        "day number above 12",
    ),
    (
        "am-pm",
        ["1/3/2011 10:05 PM", "12/25/2011 9:30 AM"],
        None,
        [D(2011, 1, 3, 22, 5), D(2011, 12, 25, 9, 30)],
        "month/day/year",
        "day number above 12",
    ),
    (
        "year-first",
        ["2011/01/03 10:00", "2011.12.25"],
        None,
        [D(2011, 1, 3, 10), D(2011, 12, 25)],
        "year/month/day",
        None,
    ),
    (
        "month-names",
        ["03-Jan-2011", "25 Dec 2011 09:30"],
        None,
        [D(2011, 1, 3), D(2011, 12, 25, 9, 30)],
        "day month-name year",
        None,
    ),
    (
        "excel-serial-text",
        ["40546.25", "40902.5"],
        None,
        [D(2011, 1, 3, 6), D(2011, 12, 25, 12)],
        "Excel serial day numbers (as text)",
        "Excel serial",
    ),
    (
        "yyyymmdd-text",
        ["20110103", "20111225"],
        None,
        [D(2011, 1, 3), D(2011, 12, 25)],
        "yyyymmdd",
        "yyyymmdd",
    ),
]


@pytest.mark.parametrize(
    "values,date_format,expected,how,note",
    [c[1:] for c in DATE_CASES],
    ids=[c[0] for c in DATE_CASES],
)
def test_text_dates(values, date_format, expected, how, note, tmp_path):
    df = _frame(len(values), InvoiceDate=values)
    df.to_csv(tmp_path / "t.csv", index=False)
    loaded = load_transactions(tmp_path / "t.csv", date_format=date_format)
    assert _column(loaded, "invoice_date") == expected
    assert loaded.date_format == how
    if note:
        assert any(note in n for n in loaded.notes), loaded.notes
    else:
        assert not any("date" in n for n in loaded.notes), loaded.notes


def test_native_dates_with_a_time_zone_are_converted_to_utc(tmp_path):
    paris = pd.to_datetime(["2011-01-03 10:00", "2011-07-01 10:00"]).tz_localize("Europe/Paris")
    _frame(2, InvoiceDate=paris).to_parquet(tmp_path / "tz.parquet")
    loaded = load_transactions(tmp_path / "tz.parquet")
    # Paris is UTC+1 in winter, UTC+2 in summer.
    assert _column(loaded, "invoice_date") == [D(2011, 1, 3, 9), D(2011, 7, 1, 8)]
    assert "UTC" in loaded.date_format


def test_numeric_dates_excel_serials_and_yyyymmdd():
    serial = load_transactions(_frame(2, InvoiceDate=[40546.25, 40902.5]))
    assert _column(serial, "invoice_date") == [D(2011, 1, 3, 6), D(2011, 12, 25, 12)]
    ymd = load_transactions(_frame(2, InvoiceDate=[20110103, 20111225]))
    assert _column(ymd, "invoice_date") == [D(2011, 1, 3), D(2011, 12, 25)]
    assert ymd.date_format == "yyyymmdd numbers"


def test_numbers_that_are_not_dates_are_an_error():
    with pytest.raises(
        DataError, match=r"neither Excel serial days nor yyyymmdd.*1293840000.*row 2"
    ):
        load_transactions(_frame(2, InvoiceDate=[40546.0, 1_293_840_000.0]))


def test_an_invalid_date_format_is_a_parameter_error(tmp_path):
    _frame(2, InvoiceDate=["03/01/2011", "04/01/2011"]).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(ParameterError, match="--date-format '%Q' is not a valid"):
        load_transactions(tmp_path / "t.csv", date_format="%Q")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.datetimes(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)).map(
            lambda t: t.replace(second=0, microsecond=0)
        ),
        min_size=1,
        max_size=15,
    ),
    st.sampled_from(
        [
            "%Y-%m-%d %H:%M:%S",
            "%d/%m/%Y %H:%M",
            "%m/%d/%Y %H:%M",
            "%d.%m.%Y %H:%M",
            "%Y/%m/%d %H:%M",
        ]
    ),
)
def test_dates_round_trip(times, fmt):
    """Dates written in a supported format are read back exactly; an ambiguous
    column is reported, and --date-format then settles it."""
    df = _frame(len(times), InvoiceDate=[t.strftime(fmt) for t in times])
    loaded = load_transactions(df)
    ambiguous = any("ambiguous" in n for n in loaded.notes)
    if ambiguous:
        assert all(t.day <= 12 for t in times)
        loaded = load_transactions(df, date_format=fmt)
    else:
        assert fmt.startswith("%Y") or any(t.day > 12 for t in times)
    assert _column(loaded, "invoice_date") == times


# --------------------------------------------------------------------------- numbers, text


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    path = tmp_path / "fr.csv"
    _frame(2, UnitPrice=[2.55, 0.85]).to_csv(path, index=False, sep=";", decimal=",")
    loaded = load_transactions(path)
    assert _column(loaded, "unit_price") == [2.55, 0.85]
    assert _column(loaded, "amount") == pytest.approx([15.3, 5.1])
    assert any("decimals with a comma" in n for n in loaded.notes)


def test_a_comma_in_a_comma_separated_file_is_not_a_decimal(tmp_path):
    path = tmp_path / "t.csv"
    _frame(3, UnitPrice=["2.55", "2,55", "1"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"price column 'UnitPrice'.*'2,55' on data row 2"):
        load_transactions(path)


def test_nan_is_missing_and_infinity_is_an_error():
    loaded = load_transactions(_frame(2, Quantity=[6.0, np.nan]))
    assert _column(loaded, "quantity")[1] is None
    with pytest.raises(DataError, match="quantity column 'Quantity' holds 1 value"):
        load_transactions(_frame(2, Quantity=[6.0, np.inf]))


def test_stray_whitespace_is_trimmed_from_codes_and_ids(tmp_path):
    path = tmp_path / "ws.csv"
    _frame(
        3,
        InvoiceNo=[" C536365 ", "536366\t", "536367"],
        StockCode=["85123A\t", "\u00a085123A", "85123A"],
        Country=[" France", "France\u202f", "France"],
    ).to_csv(path, index=False)
    loaded = load_transactions(path)
    assert _column(loaded, "invoice") == ["C536365", "536366", "536367"]
    assert _column(loaded, "stock_code") == ["85123A"] * 3
    assert _column(loaded, "country") == ["France"] * 3


def test_repeated_header_rows_are_skipped(tmp_path):
    path = tmp_path / "cat.csv"
    part = _frame(3).to_csv(index=False)
    path.write_text(part + part + part)  # three exports glued together
    loaded = load_transactions(path)
    assert loaded.rows == 9
    assert "2 repeated header row(s) skipped" in loaded.notes
    assert len(_lines(loaded)) == 9


@pytest.mark.parametrize(
    "encoding,sep,note",
    [("latin-1", ",", "not UTF-8"), ("utf-16", "\t", "UTF-16"), ("utf-8-sig", ",", None)],
)
def test_encodings(encoding, sep, note, tmp_path):
    path = tmp_path / "enc.csv"
    _frame(2, Description=["CRÈME BRÛLÉE SET", "Zoë's ½ mug"], CustomerID=["Zoë", "Zoë"]).to_csv(
        path, index=False, sep=sep, encoding=encoding
    )
    loaded = load_transactions(path)
    assert loaded.layout == "UCI Online Retail"  # the byte-order mark is not part of the header
    assert _column(loaded, "description") == ["CRÈME BRÛLÉE SET", "Zoë's ½ mug"]
    assert _column(loaded, "customer_id") == ["Zoë", "Zoë"]
    if note:
        assert any(note in n for n in loaded.notes)
    else:
        assert loaded.notes == []


def test_compressed_csv(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as fh:
        _frame(3).to_csv(fh, index=False)
    assert load_transactions(path).rows == 3


# --------------------------------------------------------------------------- columns


def test_french_headers_are_recognised():
    df = _frame(2).rename(
        columns={
            "CustomerID": "N° client",
            "InvoiceDate": "Date de facture",
            "Quantity": "Quantité",
            "UnitPrice": "Prix unitaire",
            "InvoiceNo": "N° facture",
            "Country": "Pays",
        }
    )
    loaded = load_transactions(df)
    assert loaded.mapping.customer == "N° client"
    assert loaded.mapping.date == "Date de facture"
    assert loaded.mapping.invoice == "N° facture"
    assert _column(loaded, "amount") == pytest.approx([15.3, 15.3])


def test_normalise_name():
    assert normalise_name("N° Client ") == "nclient"
    assert normalise_name("Quantité") == "quantite"
    assert normalise_name("Customer-ID") == "customerid"


def test_an_option_differing_only_in_case_or_spaces_is_accepted_with_a_note():
    loaded = load_transactions(_frame(2), overrides={"customer": "customer id"})
    assert loaded.mapping.customer == "CustomerID"
    assert "--customer-col 'customer id' matched column 'CustomerID'" in loaded.notes


def test_missing_columns_name_the_closest_match_and_list_the_columns():
    df = _frame(2).rename(columns={"CustomerID": "Custmer ID"})
    with pytest.raises(ColumnError) as err:
        load_transactions(df)
    msg = err.value.one_line()
    assert "customer id (closest match: 'Custmer ID')" in msg
    assert "columns found: InvoiceNo, StockCode" in msg
    assert "--customer-col 'Custmer ID'" in msg


def test_an_option_naming_no_column():
    with pytest.raises(ColumnError, match=r"column 'Prix' given to --price-col does not exist"):
        load_transactions(_frame(2), overrides={"price": "Prix"})


# --------------------------------------------------------------------------- formats


def test_content_that_contradicts_the_extension(tmp_path):
    pq_as_csv = tmp_path / "data.csv"
    _frame(2).to_parquet(pq_as_csv)
    with pytest.raises(
        InputFileError,
        match=r"is not a valid csv file: its content is a parquet file. Rename it to .parquet",
    ):
        load_transactions(pq_as_csv)
    csv_as_pq = tmp_path / "data.parquet"
    _frame(2).to_csv(csv_as_pq, index=False)
    with pytest.raises(
        InputFileError, match=r"content is text. If it is CSV text, rename it to .csv"
    ):
        load_transactions(csv_as_pq)


def test_an_unknown_extension_is_read_by_content(tmp_path):
    path = tmp_path / "export.dat"
    _frame(3).to_parquet(path)
    loaded = load_transactions(path)
    assert loaded.format == "parquet" and loaded.rows == 3
    assert "unknown extension '.dat': read as parquet from its content" in loaded.notes


def test_a_connection_can_load_twice(tmp_path):
    """A CSV (table) then a parquet file (view) on one connection."""
    _frame(3).to_csv(tmp_path / "a.csv", index=False)
    _frame(5).to_parquet(tmp_path / "b.parquet")
    first = load_transactions(tmp_path / "a.csv")
    second = load_transactions(tmp_path / "b.parquet", con=first.con)
    assert second.rows == 5 and len(_lines(second)) == 5


# --------------------------------------------------------------------------- row numbers


def test_error_rows_are_file_rows_in_a_large_csv(tmp_path):
    """Parsed in parallel, yet the bad value is named by its row in the file."""
    n = 150_000
    qty = np.full(n, "6", dtype=object)
    qty[123_456] = "six"
    path = tmp_path / "big.csv"
    _frame(n, Quantity=qty).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'six' on data row 123457"):
        load_transactions(path)


def test_error_rows_are_file_rows_in_a_parquet_file_of_many_row_groups(tmp_path):
    n = 60_000
    dates = np.full(n, "2011-01-03 10:00:00", dtype=object)
    dates[54_320] = "2011-02-30 10:00:00"  # no such day
    path = tmp_path / "rg.parquet"
    _frame(n, InvoiceDate=dates).to_parquet(path, row_group_size=5_000)
    with pytest.raises(DataError, match=r"'2011-02-30 10:00:00' on data row 54321"):
        load_transactions(path)


def test_without_an_invoice_column_each_customer_and_time_is_an_order():
    """Synthetic order numbers start with the date: customer 'C001' is no cancellation."""
    df = _frame(3, CustomerID=["C001", "C001", "C002"]).drop(columns=["InvoiceNo"])
    df["InvoiceDate"] = [D(2011, 1, 3, 10), D(2011, 1, 3, 10), D(2011, 1, 4, 9)]
    loaded = load_transactions(df)
    assert _column(loaded, "invoice") == [
        "2011-01-03T10:00:00|C001",
        "2011-01-03T10:00:00|C001",
        "2011-01-04T09:00:00|C002",
    ]
    assert "no invoice column: each distinct (customer, date-time) is one order" in loaded.notes


# --------------------------------------------------------------------------- large-input view
# One pass finds which normalisations each text column needs, and the streamed view
# leaves out the others: the loaded values must not change.


@pytest.fixture
def streamed(monkeypatch):
    """Load as if the input were large (every input takes the checked-once path)."""
    import custseg.load as load_module

    monkeypatch.setattr(load_module, "LINES_TABLE_MAX_ROWS", 0)


def _values(data, column: str) -> list:
    return [r[0] for r in data.con.execute(f"SELECT {column} FROM lines").fetchall()]


def _padded_frame() -> pd.DataFrame:
    return _frame(
        5,
        InvoiceNo=["536365", "536366.0", "536367", "536368", "536369"],
        StockCode=["85123A", "85123A", "\u00a085123A", "22423", "22423 "],
        Description=["HEART", "", "HEART", " CAKESTAND\t", "CAKESTAND"],
        CustomerID=["17850", "17850.0", " 17850 ", "nan", "12345"],
        Country=["United Kingdom", "United Kingdom", "France", "France", "France\u200b"],
    )


@pytest.mark.parametrize("kind", ["parquet", "dataframe"])
def test_a_value_needing_normalisation_in_one_row_is_normalised(streamed, tmp_path, kind):
    df = _padded_frame()
    src = df
    if kind == "parquet":
        src = tmp_path / "padded.parquet"
        df.to_parquet(src)
    data = load_transactions(src)
    assert _values(data, "stock_code") == ["85123A", "85123A", "85123A", "22423", "22423"]
    assert _values(data, "invoice") == ["536365", "536366", "536367", "536368", "536369"]
    assert _values(data, "customer_id") == ["17850", "17850", "17850", None, "12345"]
    assert _values(data, "description") == ["HEART", None, "HEART", "CAKESTAND", "CAKESTAND"]
    assert _values(data, "country") == [
        "United Kingdom",
        "United Kingdom",
        "France",
        "France",
        "France",
    ]


def test_checked_once_view_is_the_full_view_on_clean_text(streamed, tmp_path):
    # Nothing to normalise: the raw columns are used, with the same values as before.
    df = _frame(3, CustomerID=["17850", "13047", "12583"])
    path = tmp_path / "clean.parquet"
    df.to_parquet(path)
    data = load_transactions(path)
    sql = data.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = '_lines_rn'"
    ).fetchone()[0]
    assert "regexp" not in sql  # no per-row normalisation left
    assert _values(data, "customer_id") == ["17850", "13047", "12583"]
    assert _values(data, "stock_code") == ["85123A"] * 3


@pytest.mark.parametrize("kind", ["parquet", "dataframe"])
def test_small_inputs_are_normalised_once_into_a_table(tmp_path, kind):
    # Up to LINES_TABLE_MAX_ROWS lines, `lines` is a table holding the normalised
    # values (the same as the streamed view's): every later query reads it as is.
    src = _padded_frame()
    if kind == "parquet":
        src.to_parquet(tmp_path / "padded.parquet")
        src = tmp_path / "padded.parquet"
    data = load_transactions(src)
    kinds = data.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name = 'lines'"
    ).fetchall()
    assert kinds == [("lines",)]
    assert _values(data, "customer_id") == ["17850", "17850", "17850", None, "12345"]
    assert _values(data, "description") == ["HEART", None, "HEART", "CAKESTAND", "CAKESTAND"]


def test_float_ids_above_bigint_range_keep_every_digit():
    df = _frame(3, CustomerID=[17850.0, 1e20, 2.5])
    data = load_transactions(df)
    assert _values(data, "customer_id") == ["17850", "100000000000000000000", "2.5"]
