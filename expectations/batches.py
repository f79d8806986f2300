"""The data-quality verdict of each loaded batch, ``dq.batch_quality``, beside the load ledger.

It is a table of its own, keyed by (system, batch_id) like ``raw._batches``, rather than a status
in ``raw._batches``: ingestion owns that ledger, rewrites a batch's rows in one transaction, and
everything downstream reads ``status = 'LOADED'`` from it. A verdict row per check run keeps the
history; the latest row per batch is its status:

* ``PASSED`` / ``WARNED``: the raw suites found nothing / only warnings when the batch was new;
* ``FAILED``: a blocking raw expectation (scope ``block``: the extract as a whole cannot be
  trusted) failed on the batch's rows; the nightly run stopped before the marts were published,
  and the batch is checked again on every run. A failed ``quarantine`` rule holds back only its
  units (``dq.quarantine_units``) and the batch is ``WARNED``;
* ``WAIVED``: an operator accepted the batch (``billops check --waive SYSTEM/BATCH_ID``); its rows
  are no longer validated by the raw suites, and its verdict says who waived it and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import duckdb

from billops.errors import BillopsError
from billops.raw_schema import TABLES
from expectations.validate import ExpectationOutcome

QUALITY_TABLE = "dq.batch_quality"
PASSED, WARNED, FAILED, WAIVED = "PASSED", "WARNED", "FAILED", "WAIVED"

DDL = f"""
create table if not exists {QUALITY_TABLE} (
    system varchar, batch_id varchar, dq_status varchar, run_id varchar,
    critical_failed integer, warning_failed integer, reason varchar, checked_at timestamp,
    actor varchar
)"""


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    con.execute(DDL)
    # warehouses from before waivers were audited
    con.execute(f"alter table {QUALITY_TABLE} add column if not exists actor varchar")


def waived_filter(system: str) -> tuple[str, list[str]]:
    """SQL predicate on ``_batch_id`` that leaves out the rows of ``system``'s waived batches
    (batch ids are unique per system only), and its parameters."""
    predicate = (
        "_batch_id not in (select batch_id from (select system, batch_id, arg_max(dq_status, "
        f"checked_at) as status from {QUALITY_TABLE} group by all) where status = ? "
        "and system = ?)"
    )
    return predicate, [WAIVED, system]


def pending(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Loaded batches without an accepting verdict yet (new, or FAILED before)."""
    ensure_table(con)
    return con.execute(f"""
        select b.system, b.batch_id from raw._batches b
        left join (select system, batch_id, arg_max(dq_status, checked_at) as status
                   from {QUALITY_TABLE} group by all) q using (system, batch_id)
        where b.status = 'LOADED' and (q.status is null or q.status = '{FAILED}')
        group by all order by b.system, b.batch_id""").fetchall()


def system_of(data_asset: str) -> str | None:
    table = TABLES.get(data_asset.split(".", 1)[1])
    return table.system if table else None


def blocks(outcome: ExpectationOutcome) -> bool:
    """Whether a failed outcome stops publication: a ``block`` rule, or a ``quarantine`` rule
    whose failing units could not be named (it raised, or GX listed no rows)."""
    if outcome.success:
        return False
    if outcome.scope == "block":
        return True
    return outcome.scope == "quarantine" and (bool(outcome.error) or not outcome.failing_rows)


def _sample_batches(outcome: ExpectationOutcome) -> set[str]:
    rows = json.loads(outcome.unexpected_sample or "[]")
    return {str(r["_batch_id"]) for r in rows if isinstance(r, dict) and r.get("_batch_id")}


def record_verdicts(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcomes: Iterable[ExpectationOutcome],
    at: datetime,
) -> dict[str, int]:
    """Gives every pending batch this run's verdict; returns the count per status.

    A blocking failure fails the pending batches its failing sample rows come from; when the
    sample names none of them (e.g. a cross-system rule failing on older rows), every pending
    batch of the suite's system fails, because this run is the first to see them together.
    """
    todo = pending(con)
    failures: dict[tuple[str, str], list[str]] = {}
    warnings: dict[str, int] = {}
    for o in outcomes:
        system = system_of(o.data_asset)
        if o.success or system is None:
            continue
        if not blocks(o):
            warnings[system] = warnings.get(system, 0) + 1
            continue
        named = _sample_batches(o)
        of_system = [(s, b) for s, b in todo if s == system]
        hit = [(s, b) for s, b in of_system if b in named] or of_system
        for key in hit:
            failures.setdefault(key, []).append(f"{o.suite}.{o.rule}")
    rows = []
    for system, batch_id in todo:
        failed = failures.get((system, batch_id), [])
        status = FAILED if failed else WARNED if warnings.get(system) else PASSED
        reason = ("critical: " + ", ".join(sorted(set(failed)))[:1000]) if failed else None
        rows.append(
            (
                system,
                batch_id,
                status,
                run_id,
                len(set(failed)),
                warnings.get(system, 0),
                reason,
                at,
            )
        )
    if rows:
        con.executemany(
            f"insert into {QUALITY_TABLE} (system, batch_id, dq_status, run_id, critical_failed, "
            "warning_failed, reason, checked_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    return counts


def waive(
    con: duckdb.DuckDBPyConnection,
    system: str,
    batch_id: str,
    reason: str,
    at: datetime,
    actor: str,
) -> None:
    """Accept a FAILED batch despite its blocking failures: an operator's decision, recorded with
    who made it, why and when (the verdict row's ``actor``, ``reason`` and ``checked_at``)."""
    ensure_table(con)
    if not actor.strip():
        raise BillopsError(f"{system}/{batch_id}: a waiver needs the name of who waives it")
    if not reason.strip():
        raise BillopsError(f"{system}/{batch_id}: a waiver needs a reason")
    known = con.execute(
        "select count(*) from raw._batches where system = ? and batch_id = ? and status = 'LOADED'",
        [system, batch_id],
    ).fetchone()[0]
    if not known:
        raise BillopsError(f"{system}/{batch_id}: no loaded batch of that id in raw._batches")
    (status,) = con.execute(
        f"select arg_max(dq_status, checked_at) from {QUALITY_TABLE} "
        "where system = ? and batch_id = ?",
        [system, batch_id],
    ).fetchone()
    if status != FAILED:
        raise BillopsError(
            f"{system}/{batch_id}: only a FAILED batch can be waived (its verdict is "
            f"{status or 'not given yet'})"
        )
    con.execute(
        f"insert into {QUALITY_TABLE} (system, batch_id, dq_status, run_id, critical_failed, "
        "warning_failed, reason, checked_at, actor) values (?, ?, ?, null, 0, 0, ?, ?, ?)",
        [system, batch_id, WAIVED, f"waived: {reason.strip()}"[:1000], at, actor.strip()[:200]],
    )
