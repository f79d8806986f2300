"""``dq.validation_results`` (one row per suite run) and ``dq.expectation_results`` (one row per
expectation per run). Both only grow, so every run's results stay for history and trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from expectations.validate import ExpectationOutcome

SUITE_TABLE = "dq.validation_results"
EXPECTATION_TABLE = "dq.expectation_results"

SUITE_COLUMNS: dict[str, str] = {
    "run_id": "varchar",
    "suite": "varchar",
    "data_asset": "varchar",
    "source": "varchar",
    "layer": "varchar",
    "success": "boolean",
    "expectations": "integer",
    "failed": "integer",
    "critical_failed": "integer",
    "warning_failed": "integer",
    "element_count": "bigint",
    "duration_s": "double",
    "as_of": "timestamp",
    "evaluated_at": "timestamp",
    "coverage": "varchar",  # table | batches: every row, or the new batches' (expectations.coverage)
}
EXPECTATION_COLUMNS: dict[str, str] = {
    "run_id": "varchar",
    "suite": "varchar",
    "data_asset": "varchar",
    "source": "varchar",
    "layer": "varchar",
    "rule": "varchar",
    "expectation": "varchar",
    "column_name": "varchar",
    "kwargs": "varchar",
    "severity": "varchar",
    "owner_team": "varchar",
    "success": "boolean",
    "element_count": "bigint",
    "unexpected_count": "bigint",
    "unexpected_percent": "double",
    "unexpected_sample": "varchar",
    "error": "varchar",
    "as_of": "timestamp",
    "evaluated_at": "timestamp",
    "scope": "varchar",  # block | quarantine | warn: what the failure does (raw layer)
    "coverage": "varchar",
}


@dataclass(frozen=True)
class SuiteRun:
    suite: str
    data_asset: str
    source: str
    layer: str
    outcomes: tuple[ExpectationOutcome, ...]
    element_count: int | None
    duration_s: float


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    _retire_old_shape(con)
    for table, columns in ((SUITE_TABLE, SUITE_COLUMNS), (EXPECTATION_TABLE, EXPECTATION_COLUMNS)):
        body = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"create table if not exists {table} ({body})")
        for column, kind in columns.items():  # columns added since a warehouse was created
            con.execute(f"alter table {table} add column if not exists {column} {kind}")


def _retire_old_shape(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses from before this layer kept one row per expectation in validation_results;
    that table is kept, renamed, rather than mixed with suite-run rows."""
    old = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'dq' and "
        "table_name = 'validation_results' and column_name = 'expectation' "
        "and database_name = current_database()"
    ).fetchone()[0]
    if old:
        con.execute("drop table if exists dq.validation_results_v0")
        con.execute("alter table dq.validation_results rename to validation_results_v0")


def append_runs(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    runs: Sequence[SuiteRun],
    as_of: datetime | None,
    evaluated_at: datetime,
    coverage: str = "table",
) -> int:
    """Appends one suite row per run and one expectation row per outcome; returns the latter.
    ``coverage`` says which rows the runs saw (``expectations.coverage``)."""
    ensure_tables(con)
    suite_rows = []
    expectation_rows = []
    for run in runs:
        failed = [o for o in run.outcomes if not o.success]
        suite_rows.append(
            (
                run_id,
                run.suite,
                run.data_asset,
                run.source,
                run.layer,
                not failed,
                len(run.outcomes),
                len(failed),
                sum(o.severity == "critical" for o in failed),
                sum(o.severity == "warning" for o in failed),
                run.element_count,
                round(run.duration_s, 3),
                as_of,
                evaluated_at,
                coverage,
            )
        )
        expectation_rows += [
            (
                run_id,
                o.suite,
                o.data_asset,
                o.source,
                o.layer,
                o.rule,
                o.expectation,
                o.column_name,
                o.kwargs,
                o.severity,
                o.owner_team,
                o.success,
                o.element_count,
                o.unexpected_count,
                o.unexpected_percent,
                o.unexpected_sample,
                o.error,
                as_of,
                evaluated_at,
                o.scope,
                coverage,
            )
            for o in run.outcomes
        ]
    for table, columns, rows in (
        (SUITE_TABLE, SUITE_COLUMNS, suite_rows),
        (EXPECTATION_TABLE, EXPECTATION_COLUMNS, expectation_rows),
    ):
        if rows:
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"insert into {table} ({', '.join(columns)}) values ({marks})", rows)
    return len(expectation_rows)
