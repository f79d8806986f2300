"""The ``pm`` schema, declared once: every table ``billops mine`` writes, its columns in order and
their DuckDB types. ``pm_ddl`` creates the tables and ``pm_frame`` gives each table's rows that
column order, so a column is added in one place. Every table is keyed by ``run_id`` (the run that
wrote its rows), which comes first and is not repeated below."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

RUN_ID_COLUMN = "run_id"

# table -> {column: DuckDB type}, in column order, run_id aside.
PM_TABLES: dict[str, dict[str, str]] = {
    "runs": {
        "source": "varchar",
        "cases": "bigint",
        "events": "bigint",
        "activities": "bigint",
        "variants": "bigint",
        "mined_at": "timestamp",
    },
    "dfg": {
        "source": "varchar",
        "target": "varchar",
        "count": "bigint",
        "median_wait_s": "double",
        "mean_wait_s": "double",
        "p90_wait_s": "double",
    },
    "variants": {
        "variant_rank": "integer",
        "activities": "varchar",
        "cases": "bigint",
        "share": "double",
        "median_throughput_s": "double",
    },
    "model": {
        "algorithm": "varchar",
        "model_text": "varchar",
        "dot": "varchar",
        "fitness": "double",
    },
    "bottlenecks": {
        "source": "varchar",
        "target": "varchar",
        "cases": "bigint",
        "median_wait_s": "double",
        "total_wait_s": "double",
    },
    "rework": {
        "activity": "varchar",
        "cases": "bigint",
    },
    "segments": {
        "dimension": "varchar",
        "segment": "varchar",
        "cases": "bigint",
        "events": "bigint",
        "median_duration_s": "double",
        "mean_duration_s": "double",
        "p90_duration_s": "double",
        "rework_cases": "bigint",
    },
    "sla": {
        "rule": "varchar",
        "source": "varchar",
        "target": "varchar",
        "window_s": "double",
        "dimension": "varchar",
        "segment": "varchar",
        "cases": "bigint",
        "breaches": "bigint",
        "open_breaches": "bigint",
        "breach_rate": "double",
        "median_s": "double",
        "p90_s": "double",
    },
    "sla_breaches": {
        "rule": "varchar",
        "case_id": "varchar",
        "start_ts": "timestamp",
        "end_ts": "timestamp",
        "elapsed_s": "double",
        "open": "boolean",
    },
    "bottleneck_cases": {
        "source": "varchar",
        "target": "varchar",
        "case_id": "varchar",
        "wait_s": "double",
    },
    "process_map": {
        "view": "varchar",
        "dot": "varchar",
    },
    "segment_dfg": {
        "dimension": "varchar",
        "segment": "varchar",
        "source": "varchar",
        "target": "varchar",
        "count": "bigint",
        "median_wait_s": "double",
        "mean_wait_s": "double",
        "p90_wait_s": "double",
    },
    "segment_variants": {
        "dimension": "varchar",
        "segment": "varchar",
        "segment_rank": "bigint",
        "variant_rank": "integer",
        "activities": "varchar",
        "cases": "bigint",
        "share": "double",
        "median_throughput_s": "double",
    },
    "conformance": {
        "reference": "varchar",
        "cases_checked": "bigint",
        "fitness": "double",
        "precision": "double",
        "deviating_cases": "bigint",
    },
    "deviations": {
        "case_id": "varchar",
        "fitness": "double",
        "how": "varchar",
    },
    "temporal_deviations": {
        "case_id": "varchar",
        "source": "varchar",
        "target": "varchar",
        "elapsed_s": "double",
        "zeta": "double",
    },
    "alignment_summary": {
        "reference": "varchar",
        "variants_checked": "bigint",
        "variants_aligned": "bigint",
        "variants_fallback": "bigint",
        "cases_covered": "bigint",
        "cases_total": "bigint",
        "fitness": "double",
        "deviating_cases": "bigint",
        "capped": "boolean",
        "seconds": "double",
        "trace_limit_s": "double",
        "total_limit_s": "double",
        "note": "varchar",
    },
    "alignments": {
        "variant_rank": "integer",
        "activities": "varchar",
        "cases": "bigint",
        "method": "varchar",
        "fitness": "double",
        "cost": "double",
        "log_moves": "bigint",
        "model_moves": "bigint",
        "how": "varchar",
    },
    "alignment_moves": {
        "variant_rank": "integer",
        "activity": "varchar",
        "move": "varchar",
        "moves": "bigint",
        "cases": "bigint",
    },
    "alignment_cases": {
        "variant_rank": "integer",
        "case_id": "varchar",
    },
}


def pm_columns(table: str) -> list[str]:
    """The columns of ``pm.<table>`` in order, run_id first."""
    return [RUN_ID_COLUMN, *PM_TABLES[table]]


def pm_ddl() -> str:
    """Creates the ``pm`` schema and every table that does not exist yet."""
    statements = ["create schema if not exists pm;"]
    for table, columns in PM_TABLES.items():
        typed = ", ".join(
            f"{name} {kind}" for name, kind in {RUN_ID_COLUMN: "varchar", **columns}.items()
        )
        statements.append(f"create table if not exists pm.{table} ({typed});")
    return "\n".join(statements)


def pm_frame(table: str, run_id: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """This run's rows of ``pm.<table>``: the table's columns in order, run_id set on each row."""
    return pd.DataFrame([{RUN_ID_COLUMN: run_id, **row} for row in rows], columns=pm_columns(table))
