"""Copies of the operational store's work queue into the warehouse, for the queue metrics.

Before dbt runs (``billops transform`` and the pipelines' ``sync_ops`` step, beside
:func:`billops.ops_store.sync_exception_status`), :func:`copy_work_queue` replaces
``ops.work_items`` and ``ops.work_item_events`` with the store's work items and their events,
which dbt declares as sources (``stg_ops__work_items``, ``stg_ops__work_item_events``) for the
mart ``marts.fct_work_queue_daily``. Both tables are created even when the store has no work item
yet, so dbt always finds its sources.

Only what the metrics need is copied: ids, types, queues, statuses, times, who acted. Never a
free-text reason or comment (a person may type anything there), and the store holds no patient.
The tables are read here by name: ``billops.workflow`` (a layer above) declares them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings

ITEMS_TABLE = "ops.work_items"
EVENTS_TABLE = "ops.work_item_events"

# (column, DuckDB type) of each copy, in the store's column names.
ITEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("exception_id", "varchar not null primary key"), ("exception_type", "varchar not null"),
    ("entity", "varchar"), ("queue", "varchar not null"), ("escalation_queue", "varchar"),
    ("status", "varchar not null"), ("assignee", "varchar"), ("opened_at", "timestamp not null"),
    ("due_at", "timestamp"), ("sla_business_hours", "double"), ("resolution_code", "varchar"),
    ("amount_at_risk", "decimal(14, 2)"), ("version", "integer not null"),
)
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "bigint not null primary key"), ("exception_id", "varchar not null"),
    ("action", "varchar not null"), ("from_status", "varchar"), ("to_status", "varchar not null"),
    ("queue", "varchar"), ("actor", "varchar not null"), ("channel", "varchar not null"),
    ("at", "timestamp not null"), ("as_of", "timestamp"), ("version", "integer not null"),
)
_COPIES = ((ITEMS_TABLE, "work_items", ITEM_COLUMNS, "exception_id"),
           (EVENTS_TABLE, "work_item_events", EVENT_COLUMNS, "event_id"))


def _ddl(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    body = ",\n    ".join(f'"{name}" {kind}' for name, kind in columns)
    return f"create or replace table {table} (\n    {body}\n)"


def _rows(settings: Settings | None, name: str, columns: tuple[tuple[str, str], ...],
          order: str) -> list[tuple[Any, ...]]:
    eng = ops_store.engine(settings)
    if not sa.inspect(eng).has_table(name):
        return []
    table = sa.table(name, *(sa.column(c) for c, _ in columns))
    with ops_store.read(settings) as con:
        return [tuple(row) for row in con.execute(
            sa.select(*table.c).order_by(table.c[order])).all()]


def copy_work_queue(con: Any, settings: Settings | None = None) -> dict[str, int]:
    """Replace ``ops.work_items`` and ``ops.work_item_events`` in the warehouse with the store's.

    ``con`` is an open, writable DuckDB connection to the warehouse. Returns the row counts.
    """
    counts: dict[str, int] = {}
    con.execute("create schema if not exists ops")
    for table, name, columns, order in _COPIES:
        rows = _rows(settings, name, columns, order)
        con.execute(_ddl(table, columns))
        ops_store.insert_rows(con, table, [c for c, _ in columns], rows)
        counts[name] = len(rows)
    return counts
