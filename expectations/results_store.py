"""The ``dq.validation_results`` table: one row per expectation per run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from expectations.validate import ExpectationOutcome

RESULTS_TABLE = "dq.validation_results"

RESULTS_DDL = f"""
create table if not exists {RESULTS_TABLE} (
    run_id varchar, suite varchar, data_asset varchar, expectation varchar,
    column_name varchar, kwargs varchar, severity varchar, owner_team varchar,
    success boolean, element_count bigint, unexpected_count bigint,
    unexpected_sample varchar, evaluated_at timestamp
)
"""

_COLUMNS = ("run_id", "suite", "data_asset", "expectation", "column_name", "kwargs", "severity",
            "owner_team", "success", "element_count", "unexpected_count", "unexpected_sample",
            "evaluated_at")


def append_results(con: duckdb.DuckDBPyConnection, run_id: str,
                   outcomes: Iterable[ExpectationOutcome], evaluated_at: datetime) -> int:
    """Appends the outcomes (creating the table if missing); returns the number of rows."""
    rows = [
        (run_id, o.suite, o.data_asset, o.expectation, o.column_name, o.kwargs, o.severity,
         o.owner_team, o.success, o.element_count, o.unexpected_count, o.unexpected_sample,
         evaluated_at)
        for o in outcomes
    ]
    con.execute("create schema if not exists dq")
    con.execute(RESULTS_DDL)
    if rows:
        placeholders = ", ".join("?" for _ in _COLUMNS)
        con.executemany(
            f"insert into {RESULTS_TABLE} ({', '.join(_COLUMNS)}) values ({placeholders})", rows)
    return len(rows)
