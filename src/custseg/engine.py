"""The DuckDB connection every SQL stage runs on.

DuckDB is embedded and works out-of-core: with a memory limit and a temporary
directory it spills large aggregations to disk instead of running out of memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_MEMORY_LIMIT = "3GB"

AUTO_MEMORY_LIMIT = "auto"
"""``--memory-limit auto`` (the default of ``custseg run`` and ``custseg features``):
:data:`DEFAULT_MEMORY_LIMIT` (3 GB), raised to :data:`BYTES_PER_LINE` per input line
for very large inputs, and at most half of the machine's memory (see
:func:`auto_memory_limit`)."""

BYTES_PER_LINE = 10
"""DuckDB memory per input line that the per-customer aggregation of a very large input
needs: 1 billion lines ran out of memory under 3 GB (``count(DISTINCT ...)`` per
customer does not spill enough) and finished under 10 GB (benchmarks/RESULTS.md)."""

MATERIALIZE_MAX_ROWS = 10_000_000
"""Up to this many lines, a stage that reads its input many times copies it once into
a temporary table (about 120 bytes a line in memory, spilled beyond the memory
limit): the loader's per-value normalisation (trimming, id and number parsing)
then runs once instead of once per query. Larger inputs are streamed."""


ROWS_COMMENT_PREFIX = "custseg rows: "
"""A view of lines whose comment starts with this names, after it, a view of the same
lines with each line's position (column ``_rn``); the loader sets it on ``lines`` for
parquet input, and cleaning uses it to drop duplicate lines by position."""


def connect(
    *,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
    temp_directory: str | Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection set up for bounded-memory work.

    Parameters
    ----------
    memory_limit : str, optional
        DuckDB memory limit (e.g. ``"3GB"``); beyond it, operators spill to
        ``temp_directory``. ``None`` keeps DuckDB's default (80% of RAM). ``"auto"``
        starts at 3 GB; :func:`size_memory` then sizes it for the input.
    threads : int, optional
        Worker threads; default: all cores.
    temp_directory : path, optional
        Where to spill; default: DuckDB's own (``.tmp`` beside the database,
        or the system temporary folder for in-memory databases).

    Returns
    -------
    duckdb.DuckDBPyConnection
    """
    con = duckdb.connect(database=":memory:")
    if memory_limit == AUTO_MEMORY_LIMIT:  # until the input's size is known: see size_memory
        memory_limit = DEFAULT_MEMORY_LIMIT
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_directory is None:
        temp_directory = os.environ.get("CUSTSEG_TEMP_DIR")
    if temp_directory:
        con.execute(f"SET temp_directory = '{Path(temp_directory).as_posix()}'")
    # Row order of intermediate results never matters to us; not keeping it saves memory.
    con.execute("SET preserve_insertion_order = false")
    return con


def auto_memory_limit(lines: int, *, machine_bytes: int | None = None) -> str:
    """The memory limit ``auto`` stands for, for an input of ``lines`` lines.

    3 GB (:data:`DEFAULT_MEMORY_LIMIT`) up to about 320 million lines; beyond,
    :data:`BYTES_PER_LINE` bytes a line; never more than half of the machine's
    memory (``machine_bytes``, default: this machine's), nor less than 3 GB.

    Examples
    --------
    >>> auto_memory_limit(541_909, machine_bytes=24 * 2**30)
    '3GB'
    >>> auto_memory_limit(1_000_000_000, machine_bytes=24 * 2**30)
    '9536MiB'
    >>> auto_memory_limit(5_000_000_000, machine_bytes=24 * 2**30)
    '12288MiB'
    """
    import os

    if machine_bytes is None:
        try:
            machine_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            machine_bytes = 0
    floor = 3 * 2**30  # never below the default (3GB), counted here as 3 GiB
    wanted = lines * BYTES_PER_LINE
    if wanted <= floor:
        return DEFAULT_MEMORY_LIMIT
    if machine_bytes:
        wanted = min(wanted, machine_bytes // 2)
    return f"{max(wanted, floor) // 2**20}MiB"


def size_memory(con: duckdb.DuckDBPyConnection, memory_limit: str | None, lines: int) -> None:
    """With ``memory_limit`` "auto", set the connection's limit for an input of ``lines``."""
    if memory_limit == AUTO_MEMORY_LIMIT:
        con.execute(f"SET memory_limit = '{auto_memory_limit(lines)}'")


def has_column(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> bool:
    """``relation`` (a table or view, temporary or not) has a column ``column``."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = ?",
            [relation, column],
        ).fetchone()[0]
    )


def quote_ident(name: str) -> str:
    """Quote a column name for DuckDB SQL (handles spaces and quotes)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def materialized(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    rows: int,
    name: str,
    *,
    max_rows: int | None = None,
) -> Iterator[str]:
    """Copy ``relation`` into temporary table ``name`` when it is small; yield what to query.

    Parameters
    ----------
    con : duckdb connection
    relation : str
        A view or table.
    rows : int
        Its number of rows.
    name : str
        The temporary table to create (dropped on exit).
    max_rows : int, optional
        Copy only up to this many rows; default :data:`MATERIALIZE_MAX_ROWS`.

    Yields
    ------
    str
        ``name`` when the relation was copied, else ``relation`` itself (too large,
        or a table already: the loader's ``lines`` of a small input is one).
    """
    limit = MATERIALIZE_MAX_ROWS if max_rows is None else max_rows
    is_table = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [relation]
    ).fetchone()[0]
    if rows > limit or is_table:
        yield relation
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {relation}")
    try:
        yield name
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")


REPEATS_BATCH_ROWS = 1_000_000
"""Rows per Arrow batch that :func:`create_repeated_table` reads from the sorted stream."""


def create_repeated_table(con: duckdb.DuckDBPyConnection, query: str, name: str) -> int:
    """Create temporary table ``name`` (column ``v``) of the values seen more than once.

    ``query`` selects one column of integers (a hash of each line, say). Its values
    are sorted by DuckDB (in parallel, and on disk beyond the memory limit) and
    streamed in batches of :data:`REPEATS_BATCH_ROWS`; equal neighbours are the
    repeats. When nearly every value is distinct, this costs less than ``GROUP BY v
    HAVING count(*) > 1``, whose hash table holds every value (10 million line
    hashes: 1.1 s of CPU instead of 1.8 s), and memory stays bounded.

    Parameters
    ----------
    con : duckdb connection
    query : str
        A query with one integer column, without NULLs.
    name : str
        The temporary table to create (replaced if it exists).

    Returns
    -------
    int
        Number of distinct repeated values.
    """
    import numpy as np
    import pyarrow as pa

    # A relation streams its batches (an execute() result would first copy every row,
    # 6 GB more at a billion lines); it runs only once any earlier execute() result on
    # the connection is complete.
    con.complete()
    sql = f"SELECT * FROM ({query}) AS q(v) ORDER BY v"
    reader = con.sql(sql).to_arrow_reader(REPEATS_BATCH_ROWS)
    found = []
    last = None
    for batch in reader:
        values = batch.column(0).to_numpy(zero_copy_only=False)
        if not len(values):
            continue
        if last is not None and values[0] == last:
            found.append(values[:1])
        found.append(values[1:][values[1:] == values[:-1]])
        last = values[-1]
    repeated = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.uint64)
    kind = reader.schema.field(0).type
    table = pa.table({"v": pa.array(repeated, type=kind)})
    con.register("_custseg_repeated", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT v FROM _custseg_repeated")
    finally:
        con.unregister("_custseg_repeated")
    return len(repeated)
