"""Landing-zone breaks: a batch that blocks its system's later batches for too long.

Ingestion (:mod:`billops.ingest.blocking`) calls :func:`record_blocked` at the end of every run
that saw a blocked system or closes one. Each system has one rule, ``<system>_batches_not_blocked``
of suite ``landing_batch_order``, written to ``dq.expectation_results`` like any expectation: a
failing row (critical, owner DATA_ENGINEERING) whose sample names the blocking batch, the number
of batches waiting and the hours waited, and a passing row once the system is no longer blocked,
so ``marts.dq_breaks`` opens and closes the break as it does for the suites. Rows are written
only when a system is blocked or its last row failed, so an ordinary run adds nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

# The results store and validate import pandas (about a second): imported only when a row is
# written, so an ordinary ingest (an hourly one above all) does not pay for them.
EXPECTATION_TABLE = "dq.expectation_results"
SUITE = "landing_batch_order"
OWNER_TEAM = "DATA_ENGINEERING"
SYSTEMS = ("ehr", "rcm", "erp")


def rule(system: str) -> str:
    return f"{system}_batches_not_blocked"


def _last_failed(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rules of this suite whose latest row failed."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'dq' "
        "and table_name = 'expectation_results' and database_name = current_database()"
    ).fetchone()[0]
    if not exists:
        return set()
    rows = con.execute(
        f"select rule from {EXPECTATION_TABLE} where suite = ? group by rule "
        "having not arg_max(success, evaluated_at)",
        [SUITE],
    ).fetchall()
    return {r[0] for r in rows}


def record_blocked(
    con: duckdb.DuckDBPyConnection,
    alarms: dict[str, tuple[str, int, float]],
    at: datetime,
) -> None:
    """``alarms``: system -> (blocking batch_id, batches waiting, hours waited)."""
    failed_before = _last_failed(con)
    if not alarms and not failed_before:
        return
    from expectations.breaks import refresh_breaks
    from expectations.results_store import SuiteRun, append_runs, ensure_tables
    from expectations.validate import ExpectationOutcome

    outcomes = []
    for system in SYSTEMS:
        alarm = alarms.get(system)
        if alarm is None and rule(system) not in failed_before:
            continue
        sample = (
            [{"system": system, "batch_id": alarm[0], "batches_waiting": alarm[1],
              "hours_waiting": alarm[2]}]
            if alarm
            else []
        )
        outcomes.append(
            ExpectationOutcome(
                suite=SUITE,
                data_asset=f"landing.{system}",
                rule=rule(system),
                expectation="expect_no_batch_blocking_later_batches",
                column_name=None,
                kwargs="{}",
                severity="critical",
                owner_team=OWNER_TEAM,
                success=alarm is None,
                element_count=None,
                unexpected_count=alarm[1] if alarm else 0,
                unexpected_sample=json.dumps(sample),
                error=(
                    f"{system}/{alarm[0]} blocks {alarm[1]} later batch(es) for {alarm[2]} h"
                    if alarm
                    else None
                ),
                source="landing",
                layer="raw",
                scope="warn",
            )
        )
    if not outcomes:
        return
    ensure_tables(con)
    run = SuiteRun(SUITE, "landing", "landing", "raw", tuple(outcomes), None, 0.0)
    append_runs(con, f"ingest-{at:%Y%m%dT%H%M%S}", [run], None, at)
    refresh_breaks(con)
