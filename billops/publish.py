"""``billops publish``: the serving snapshot, read from the warehouse and written by write-then-rename.

An application step on top of the warehouse (:mod:`billops.warehouse` keeps connecting, the raw
views and the as-of time): it rebuilds the PHI store and copies the served tables.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

from billops import phi_store, serving
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.phi import Tokeniser
from billops.sql import identifier, quote_identifier


def publish(settings: Settings | None = None) -> Path:
    """Write the serving snapshot by write-then-rename (atomic on one filesystem).

    A fresh DuckDB file receives only the tables and columns ``billops.serving`` declares, patient
    ids tokenised and other PHI columns left out, plus ``meta.snapshot`` (published_at, as_of).
    The PHI store (``billops.phi_store``) is rebuilt first, so every ``patient_key`` served can be
    looked up.
    """
    settings = settings or get_settings()
    source = Path(settings.warehouse)  # type: ignore[arg-type]
    target = Path(settings.serving)  # type: ignore[arg-type]
    if not source.exists():
        raise BillopsError(f"{source}: warehouse not found; run 'billops ingest' and 'billops transform' first")
    target.parent.mkdir(parents=True, exist_ok=True)
    tokeniser = Tokeniser(settings)
    # Checkpoint so the file on disk holds everything; it is then read while no one writes.
    with duckdb.connect(str(source)) as con:
        con.execute("checkpoint")
    phi_store.write_store(settings, tokeniser)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(tmp)) as con:
            tokeniser.register(con)
            con.execute("attach ? as wh (read_only)", [str(source)])
            _copy_served_tables(con)
            con.execute("create schema if not exists meta")
            as_of = None
            if _wh_columns(con, "raw._batches"):
                as_of = con.execute("select max(extracted_at) from wh.raw._batches "
                                    "where status = 'LOADED'").fetchone()[0]
            con.execute("create table meta.snapshot as select current_timestamp as published_at, "
                        "cast(? as timestamp) as as_of", [as_of])
            con.execute("detach wh")
            con.execute("checkpoint")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _wh_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of ``wh.<schema>.<table>`` in order; empty when the warehouse lacks it."""
    schema, name = table.split(".", 1)
    return [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where database_name = 'wh' and schema_name = ? "
        "and table_name = ? order by column_index", [schema, name]).fetchall()]


def _copy_served_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Copy each declared table of ``wh`` that exists, with its served columns only."""
    for schema in serving.schemas():
        con.execute(f"create schema if not exists {identifier(schema)}")
    for table in serving.SERVED:
        pairs = serving.served_columns(table, _wh_columns(con, table))
        if not pairs:
            continue
        # Names only: tables from serving.SERVED, columns from the warehouse's own catalog.
        con.execute(
            f"create table {identifier(table)} as select "
            + ", ".join(
                f"phi_token(cast({quote_identifier(src)} as varchar)) as {quote_identifier(dst)}"
                if src in serving.TOKENISED else quote_identifier(src)
                for src, dst in pairs
            )
            + f" from wh.{identifier(table)}"
        )
