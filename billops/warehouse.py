"""DuckDB warehouse I/O: connections, raw-zone views and the as-of time.

The serving snapshot, which reads the warehouse, is written by :mod:`billops.publish`.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from billops import quarantine
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.raw_schema import LEDGER_DDL, TABLES, all_columns
from billops.sql import identifier, literal, type_name

SCHEMAS = ("raw", "staging", "intermediate", "marts", "dq", "pm", "ml")


@contextlib.contextmanager
def connect(settings: Settings | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse. Only pipeline tasks open it for writing, one at a time."""
    settings = settings or get_settings()
    path = Path(settings.warehouse)  # type: ignore[arg-type]
    if read_only and not path.exists():
        raise BillopsError(f"{path}: warehouse not found; run 'billops ingest' first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise BillopsError(f"{path}: cannot open the warehouse ({exc})") from exc
    try:
        if not read_only:
            for schema in SCHEMAS:
                con.execute(f"create schema if not exists {identifier(schema)}")
            con.execute(LEDGER_DDL)
        yield con
    finally:
        con.close()


def _empty_select(table: str) -> str:
    cols = ", ".join(f"cast(null as {type_name(typ)}) as {identifier(col)}"
                     for col, typ in all_columns(table).items())
    return f"select {cols} where false"


def _contract_anchor(con: duckdb.DuckDBPyConnection, folder: Path, table: str) -> Path:
    """An empty Parquet file with every contract column of ``table``, beside its batches.

    Read together with the batches (``union_by_name``), it gives the view every column of today's
    contract, so batches written before a column was added still read (the column is null
    there) and the immutable raw zone is never rewritten. Named by the contract's digest; an
    anchor of an older contract is removed.
    """
    digest = hashlib.sha256(repr(sorted(all_columns(table).items())).encode()).hexdigest()[:16]
    anchor = folder / f"_contract-{digest}.parquet"
    if not anchor.exists():
        for old in folder.glob("_contract-*.parquet"):
            old.unlink()
        partial = folder / f".{anchor.name}.{uuid.uuid4().hex}"
        con.sql(_empty_select(table)).write_parquet(str(partial))
        partial.rename(anchor)
    return anchor


def refresh_raw_views(con: duckdb.DuckDBPyConnection, settings: Settings | None = None) -> None:
    """(Re)create ``raw.<table>`` as a view over the raw zone's Parquet files.

    A table with no files yet is an empty, fully typed view, so dbt and the checks always see the
    contract's columns; a contract column added after some batches were written reads as null in
    them (``_contract_anchor``). Paths are absolute so the views work from any working directory.
    """
    settings = settings or get_settings()
    root = settings.raw_zone.resolve()
    # A glob view sees batches added later by itself, so a view is replaced only when its
    # definition changes (first files of a table, a contract change): binding a view over many
    # files reads every footer, and an intraday load must not pay for the whole history.
    signatures = dict(con.execute(
        "select view_name, comment from duckdb_views() where schema_name = 'raw'").fetchall())
    for table in TABLES:
        folder = root / table
        has_files = folder.exists() and next(folder.glob("batch_id=*/*.parquet"), None) is not None
        if has_files:
            cols = ", ".join(identifier(c) for c in all_columns(table))
            # A view cannot take parameters: the two paths are the only literals (billops.sql).
            glob = literal(folder / "batch_id=*" / "*.parquet")
            anchor = literal(_contract_anchor(con, folder, table))
            body = (f"select {cols} from read_parquet([{glob}, {anchor}], "
                    "hive_partitioning = false, union_by_name = true)")
        else:
            body = _empty_select(table)
        signature = hashlib.sha256(body.encode()).hexdigest()
        if signatures.get(table) == signature:
            continue
        view = identifier(f"raw.{table}")
        con.execute(f"create or replace view {view} as {body}")
        con.execute(f"comment on view {view} is {literal(signature)}")
    quarantine.ensure_table(con)  # a dbt source of every staging model, before any check ran


def as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The as-of time of every rule: the latest ``extracted_at`` among loaded batches."""
    row = con.execute(
        "select max(extracted_at) from raw._batches where status = 'LOADED'"
    ).fetchone()
    return row[0] if row else None
