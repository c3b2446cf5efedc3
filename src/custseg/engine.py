"""The DuckDB connection every SQL stage runs on.

DuckDB is embedded and works out-of-core: with a memory limit and a temporary
directory it spills large aggregations to disk instead of running out of memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DEFAULT_MEMORY_LIMIT = "3GB"


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
