"""User mistakes: exit code 2 and one line on stderr naming the file, the problem and the fix.

One case per mistake of the reliability issue, run through ``custseg.cli.main``
in-process. Also: ``--debug`` shows the traceback and nothing else does, usage
errors are one line too, and a bug is exit code 1 with one line.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from tests_support import UCI_COLUMNS

from custseg.cli import main

COLUMNS = list(UCI_COLUMNS)


def retail(n_customers: int = 8) -> pd.DataFrame:
    """Customer i places i + 1 orders of two lines, a week apart."""
    rows = []
    t0 = dt.datetime(2011, 1, 3, 10, 0)
    inv = 536365
    for c in range(n_customers):
        for o in range(c + 1):
            inv += 1
            t = t0 + dt.timedelta(days=7 * o + c)
            rows.append((str(inv), "85123A", "HEART", 6, t, 2.55, 12346.0 + c, "France"))
            rows.append((str(inv), "22423", "CAKESTAND", 1 + c, t, 12.75, 12346.0 + c, "France"))
    return pd.DataFrame(rows, columns=COLUMNS)


def _csv(tmp: Path, df: pd.DataFrame, name: str = "lines.csv") -> Path:
    path = tmp / name
    df.to_csv(path, index=False)
    return path


def _set(df: pd.DataFrame, col: str, row: int, value) -> pd.DataFrame:
    df = df.astype({col: object})
    df.loc[row, col] = value
    return df


# Each case: setup(tmp, monkeypatch) -> the arguments after `run`, and the texts the
# one-line message must hold. "{path}" stands for the input file.
Setup = Callable[[Path, pytest.MonkeyPatch], list[str]]


def _missing(tmp, mp):
    return ["-i", str(tmp / "nope.csv")]


def _unreadable(tmp, mp):
    path = _csv(tmp, retail())
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads everything: make the open fail as it would for anyone else
        real_open = pathlib.Path.open

        def deny(self, *args, **kwargs):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        mp.setattr(pathlib.Path, "open", deny)
    return ["-i", str(path)]


def _unsupported(tmp, mp):
    (tmp / "data.json").write_text('{"InvoiceNo": 1}')
    return ["-i", str(tmp / "data.json")]


def _corrupt_parquet(tmp, mp):
    retail().to_parquet(tmp / "full.parquet")
    data = (tmp / "full.parquet").read_bytes()
    (tmp / "cut.parquet").write_bytes(data[: len(data) // 2])  # a copy cut short
    return ["-i", str(tmp / "cut.parquet")]


def _corrupt_workbook(tmp, mp):
    mp.setenv("CUSTSEG_CACHE_DIR", str(tmp / "cache"))
    (tmp / "book.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    return ["-i", str(tmp / "book.xlsx")]


def _empty(tmp, mp):
    (tmp / "empty.csv").write_bytes(b"")
    return ["-i", str(tmp / "empty.csv")]


def _header_only(tmp, mp):
    (tmp / "header.csv").write_text(",".join(COLUMNS) + "\n")
    return ["-i", str(tmp / "header.csv")]


def _missing_columns(tmp, mp):
    return ["-i", str(_csv(tmp, retail().rename(columns={"CustomerID": "Custmer ID"})))]


def _bad_mapping(tmp, mp):
    return ["-i", str(_csv(tmp, retail())), "--price-col", "UnitPrize"]


def _bad_dates(tmp, mp):
    df = _set(retail(), "InvoiceDate", 4, "tomorrow")
    return ["-i", str(_csv(tmp, df))]


def _bad_quantity(tmp, mp):
    return ["-i", str(_csv(tmp, _set(retail(), "Quantity", 2, "six")))]


def _bad_price(tmp, mp):
    return ["-i", str(_csv(tmp, _set(retail(), "UnitPrice", 1, "£2.55")))]


def _nothing_left(tmp, mp):
    df = retail(3)
    df["InvoiceNo"] = "C" + df["InvoiceNo"]
    return ["-i", str(_csv(tmp, df))]


def _k_above_customers(tmp, mp):
    return ["-i", str(_csv(tmp, retail(8))), "--k", "12"]


def _option(*opts: str) -> Setup:
    def setup(tmp, mp):
        return ["-i", str(_csv(tmp, retail())), *opts]

    return setup


def _out_under_a_file(tmp, mp):
    (tmp / "afile").write_text("x")
    return ["-i", str(_csv(tmp, retail())), "--out", str(tmp / "afile" / "out")]


def _out_is_a_file(tmp, mp):
    (tmp / "afile").write_text("x")
    return ["-i", str(_csv(tmp, retail())), "--out", str(tmp / "afile")]


CASES: list[tuple[str, Setup, list[str]]] = [
    ("missing-file", _missing, ["nope.csv: --input: no such file or folder", "Check the path"]),
    (
        "unreadable-file",
        _unreadable,
        ["{path}: cannot be read (Permission denied)", "Check the file's permissions"],
    ),
    (
        "unsupported-format",
        _unsupported,
        ["data.json: unsupported file type '.json'", "Give a .csv, .parquet or .xlsx file"],
    ),
    (
        "corrupt-parquet",
        _corrupt_parquet,
        ["cut.parquet: cannot be read as parquet: the file is damaged or truncated", "export it"],
    ),
    (
        "corrupt-workbook",
        _corrupt_workbook,
        ["book.xlsx: not a readable Excel workbook", "save it again as .xlsx"],
    ),
    ("empty-file", _empty, ["empty.csv: the file is empty", "Export the transactions again"]),
    ("header-only", _header_only, ["header.csv: no data rows (header only)", "Export"]),
    (
        "required-columns-missing",
        _missing_columns,
        [
            "{path}: required column(s) not found: customer id (closest match: 'Custmer ID')",
            "columns found: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, Custmer ID, Country",
            "Name them with --customer-col 'Custmer ID'",
        ],
    ),
    (
        "mapping-names-no-column",
        _bad_mapping,
        [
            "{path}: column 'UnitPrize' given to --price-col does not exist",
            "closest match: 'UnitPrice'",
            "--price-col UnitPrice",
        ],
    ),
    (
        "unparsable-dates",
        _bad_dates,
        [
            "{path}: dates in column 'InvoiceDate' cannot be parsed",
            "'tomorrow' on data row 5",
            "Pass --date-format",
        ],
    ),
    (
        "non-numeric-quantity",
        _bad_quantity,
        ["{path}: quantity column 'Quantity'", "'six' on data row 3", "--quantity-col"],
    ),
    (
        "non-numeric-price",
        _bad_price,
        ["{path}: price column 'UnitPrice'", "'£2.55' on data row 2", "--price-col"],
    ),
    (
        "nothing-left-after-cleaning",
        _nothing_left,
        [
            "{path}: no line is left after cleaning",
            "missing_customer_id: 0",
            "cancellation: 12",
            "--returns",
        ],
    ),
    (
        "fewer-customers-than-k",
        _k_above_customers,
        ["{path}: --k 12 needs at least 13 customers, the data has 8", "Use --k 7 or less"],
    ),
    ("k-below-2", _option("--k", "1"), ["--k must be at least 2, not 1", "Use --k auto"]),
    ("k-not-a-number", _option("--k", "four"), ["--k must be 'auto' or a whole number"]),
    ("k-min-below-2", _option("--k-min", "1"), ["k range 1..10 is invalid"]),
    ("k-max-too-large", _option("--k-max", "99"), ["--k-max 99 is too large"]),
    ("negative-seed", _option("--seed", "-1"), ["--seed must be a whole number from 0"]),
    (
        "unknown-feature",
        _option("--features", "recency,spend"),
        ["unknown clustering feature(s): spend", "Choose among recency"],
    ),
    ("as-of-not-a-date", _option("--as-of", "2011-02-30"), ["--as-of '2011-02-30' is not a date"]),
    ("bad-date-format", _option("--date-format", "%Q"), ["--date-format '%Q' is not a valid"]),
    (
        "option-of-the-wrong-type",
        _option("--k-min", "two"),
        ["Invalid value for '--k-min'", "Run 'custseg run --help' for the options"],
    ),
    (
        "unknown-choice",
        _option("--returns", "keep"),
        ["Invalid value for '--returns'", "Run 'custseg run --help'"],
    ),
    (
        "output-under-a-file",
        _out_under_a_file,
        ["afile/out: cannot be created:", "afile is a file, not a folder", "--out"],
    ),
    ("output-is-a-file", _out_is_a_file, ["afile: exists and is not a folder", "--out"]),
]


@pytest.mark.parametrize("setup,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_user_error_is_one_line_and_exit_2(setup, expected, tmp_path, monkeypatch, capsys):
    args = setup(tmp_path, monkeypatch)
    out = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out)]
    rc = main(["--quiet", "run", "--no-report", *args])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("custseg: error: ")
    path = args[args.index("-i") + 1] if "-i" in args else ""
    for text in expected:
        assert text.replace("{path}", path) in line, line
    assert not out.exists()  # nothing written


def test_without_quiet_the_error_is_still_one_line_after_the_progress(tmp_path, capsys):
    src = _csv(tmp_path, _set(retail(), "Quantity", 2, "six"))
    rc = main(["run", "--no-report", "-i", str(src), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("custseg: error: ")
    assert sum(line.startswith("custseg:") for line in err.splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path, capsys):
    rc = main(["--debug", "--quiet", "run", "-i", str(tmp_path / "nope.csv")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("Traceback (most recent call last):")
    assert "InputFileError" in err
    assert err.strip().splitlines()[-1] == (
        f"custseg: error: {tmp_path / 'nope.csv'}: --input: no such file or folder. Check the path."
    )


def test_a_bug_is_exit_1_one_line_and_the_traceback_only_with_debug(tmp_path, monkeypatch, capsys):
    import custseg.pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(custseg.pipeline, "run_and_write", broken)
    src = str(_csv(tmp_path, retail()))
    assert main(["--quiet", "run", "-i", src]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "custseg: internal error: ZeroDivisionError: division by zero "
        "(run again with --debug for the traceback, and report it)"
    ]
    assert main(["--debug", "--quiet", "run", "-i", src]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "in broken" in err


def test_features_command_errors(tmp_path, capsys):
    src = str(_csv(tmp_path, retail()))
    (tmp_path / "folder").mkdir()
    assert main(["--quiet", "features", src, "-o", str(tmp_path / "folder")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"custseg: error: {tmp_path / 'folder'}: is a folder. "
        "Name the parquet file to write, e.g. features.parquet."
    )
    df = retail(3)
    df["InvoiceNo"] = "C" + df["InvoiceNo"]
    cancelled = str(_csv(tmp_path, df, "cancelled.csv"))
    assert main(["--quiet", "features", cancelled, "-o", str(tmp_path / "f.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"custseg: error: {cancelled}: no line is left after cleaning")
    assert not (tmp_path / "f.parquet").exists()
    args = ["--quiet", "features", src, "-o", str(tmp_path / "f.parquet")]
    assert main([*args, "--columns", "recency,spend"]) == 2
    assert capsys.readouterr().err.strip() == (
        "custseg: error: unknown feature column 'spend'. Choose among recency, frequency, "
        "monetary, tenure, avg_order_value, items_per_order, distinct_products, return_rate."
    )
    assert not (tmp_path / "f.parquet").exists()


def test_input_notes_are_warnings_unless_quiet(tmp_path, capsys):
    """An ambiguous date column is reported on stderr (and the run goes on)."""
    df = retail(8)
    df = df[df["InvoiceDate"].dt.day <= 12].copy()
    df["InvoiceDate"] = df["InvoiceDate"].dt.strftime("%d/%m/%Y %H:%M")
    src = str(_csv(tmp_path, df))
    assert main(["run", "--no-report", "-i", src, "-o", str(tmp_path / "o1"), "--k", "2"]) == 0
    err = capsys.readouterr().err
    assert f"custseg: warning: {src}: dates in 'InvoiceDate' are ambiguous" in err
    assert (
        main(["-q", "run", "--no-report", "-i", src, "-o", str(tmp_path / "o2"), "--k", "2"]) == 0
    )
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["features", "run"])
def test_memory_exhausted_under_the_limit_is_one_line_with_the_fix(
    real_path, tmp_path, capsys, command
):
    # DuckDB's limit too small for the real dataset: not a "damaged file", not an internal
    # error, but exit 2 with what happened and the option that fixes it; nothing written.
    out = tmp_path / ("f.parquet" if command == "features" else "out")
    args = (
        [str(real_path), "--out", str(out)]
        if command == "features"
        else [
            "--input",
            str(real_path),
            "--out",
            str(out),
            "--no-report",
        ]
    )
    assert main(["--quiet", command, *args, "--memory-limit", "2MB"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("custseg: error: DuckDB ran out of memory under its limit (")
    assert "Pass a larger --memory-limit" in err and "CUSTSEG_TEMP_DIR" in err
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists()
