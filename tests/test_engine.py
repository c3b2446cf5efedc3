"""custseg.engine: the DuckDB connection and the memory limit sized for the input."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.engine import auto_memory_limit, connect, size_memory

GiB = 2**30


@pytest.mark.parametrize(
    ("lines", "machine", "expected"),
    [
        (541_909, 24 * GiB, "3GB"),  # the real dataset
        (100_000_000, 24 * GiB, "3GB"),  # 1 GB at 10 bytes a line: the 3 GB floor
        (1_000_000_000, 24 * GiB, "9536MiB"),  # 10e9 bytes: what 1B lines needed
        (5_000_000_000, 24 * GiB, "12288MiB"),  # capped at half of the machine
        (400_000_000, 8 * GiB, "3814MiB"),  # 4e9 bytes, under the 4 GiB cap
        (1_000_000_000, 4 * GiB, "3072MiB"),  # a small machine: never below 3 GiB
    ],
)
def test_auto_memory_limit_grows_with_the_input_within_the_machine(lines, machine, expected):
    assert auto_memory_limit(lines, machine_bytes=machine) == expected


def test_auto_starts_at_three_gigabytes_and_is_sized_once_the_input_is_known():
    def limit(con) -> float:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    con = connect(memory_limit="auto")
    assert (
        limit(con)
        == connect(memory_limit="3GB")
        .execute("SELECT current_setting('memory_limit')")
        .fetchone()[0]
    )
    size_memory(con, "auto", 1_000_000_000)
    assert limit(con).startswith(("9.3 GiB", "9.31 GiB", "9.5 GiB"))
    fixed = connect(memory_limit="2GB")
    before = limit(fixed)
    size_memory(fixed, "2GB", 1_000_000_000)  # an explicit limit is kept
    assert limit(fixed) == before


def test_materialized_copies_a_small_view_once_and_never_a_table():
    from custseg.engine import materialized

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    con.execute("CREATE VIEW v AS SELECT x * 2 AS y FROM t")
    with materialized(con, "t", 10, "_copy") as rel:
        assert rel == "t"  # a table already: read as it is
        assert (
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_copy'"
            ).fetchone()[0]
            == 0
        )
    with materialized(con, "v", 10, "_copy") as rel:
        assert rel == "_copy"
        assert con.execute(f"SELECT sum(y) FROM {rel}").fetchone()[0] == 90
    assert (
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_copy'").fetchone()[0]
        == 0
    )
    with materialized(con, "v", 10, "_copy", max_rows=5) as rel:
        assert rel == "v"  # too large to copy


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=40), max_size=60),
    batch=st.integers(min_value=1, max_value=7),
)
def test_repeated_values_are_those_a_group_by_counts_twice(values, batch):
    from custseg import engine

    con = duckdb.connect()
    con.execute("CREATE TABLE t (x UBIGINT)")
    if values:
        con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    old = engine.REPEATS_BATCH_ROWS
    engine.REPEATS_BATCH_ROWS = batch  # repeats that straddle two batches are found too
    try:
        n = engine.create_repeated_table(con, "SELECT x FROM t", "_rep")
    finally:
        engine.REPEATS_BATCH_ROWS = old
    found = sorted(v for (v,) in con.execute("SELECT v FROM _rep").fetchall())
    expected = sorted(v for v in set(values) if values.count(v) > 1)
    assert found == expected and n == len(expected)
