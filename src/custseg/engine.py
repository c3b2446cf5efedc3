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
        ``temp_directory``. ``None`` keeps DuckDB's default (80% of RAM).
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
        ``name`` when the relation was copied, else ``relation`` itself.
    """
    limit = MATERIALIZE_MAX_ROWS if max_rows is None else max_rows
    if rows > limit:
        yield relation
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {relation}")
    try:
        yield name
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")
