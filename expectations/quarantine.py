"""Holding back failed units: from a raw check's failures to ``dq.quarantine_units``.

A failed ``quarantine`` rule (expectations.spec) names every failing row by its lineage and unit
key; each row's unit (billops.quarantine.hold_unit) is held back whole, with the rules it failed,
the owner team of the first of them and the dollars it carries. Ingestion's rejects are listed
beside them. Each check run rewrites the table from the current failures, keeping when a unit was
first seen:

* a unit failing now is ``HELD`` and ``excluded`` (the staging models leave its rows out);
* a held 835 transaction set, 837 claim or GL journal whose key arrives again in a later unit that
  passes is ``RELEASED`` as corrected; its own rows stay excluded, so the correction posts once;
* a unit that no longer fails (its batch waived, the reference data it lacked arrived) is
  ``RELEASED`` and its rows flow again.

A check of the new batches only (``expectations.coverage``) rewrites the units of those batches
and of the older rows it saw; a unit of any other batch stays as the last check left it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from billops import quarantine as q
from billops.raw_schema import TABLES
from expectations.coverage import Coverage
from expectations.validate import ExpectationOutcome

IDENT = ("system", "batch_id", "file", "unit", "unit_key")  # a unit's key in the table
# Owner team of an ingestion reject, by unit: the team that fixes what the feed sent.
REJECT_OWNER = {
    "transaction_set": "CASH_POSTING",
    "claim": "BILLING",
    "journal": "FINANCE",
    "record": "DATA_ENGINEERING",
}
SUPERSEDED_BY = {  # raw table whose later rows with the same key correct a held unit
    "transaction_set": ("x12_remittances", "trace_number"),
    "claim": ("x12_claims", "account_id"),
    "journal": ("gl_journal_lines", "journal_id"),
}


@dataclass
class _Unit:
    system: str
    batch_id: str
    file: str
    unit: str
    unit_key: str
    source_table: str
    owner_team: str
    rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    records: set[int] = field(default_factory=set)


def _held_units(outcomes: Iterable[ExpectationOutcome]) -> dict[tuple[str, ...], _Unit]:
    units: dict[tuple[str, ...], _Unit] = {}
    for o in outcomes:
        if o.success or o.scope != "quarantine" or not o.failing_rows:
            continue
        table = o.data_asset.split(".", 1)[1]
        system = TABLES[table].system
        hold = q.hold_unit(table)
        for row in o.failing_rows:
            batch, file = row.get("_batch_id"), row.get("_file")
            if batch is None or file is None:
                continue
            kind, key = hold.kind, row.get(hold.key_column)
            if key is None:  # no unit key (e.g. CLM01 missing): hold the record itself
                kind, key = "record", row.get("_record")
            ident = (system, str(batch), str(file), kind, str(key))
            unit = units.get(ident)
            if unit is None:
                unit = units[ident] = _Unit(
                    system, str(batch), str(file), kind, str(key), table, o.owner_team
                )
            if f"{o.suite}.{o.rule}" not in unit.rules:
                unit.rules.append(f"{o.suite}.{o.rule}")
                unit.reasons.append(f"{table}: {o.rule.replace('_', ' ')}")
            if row.get("_record") is not None:
                unit.records.add(int(row["_record"]))
    return units


def _amounts(con: duckdb.DuckDBPyConnection, units: list[_Unit]) -> dict[tuple[str, ...], Any]:
    """The dollars each held unit carries, read from the table that carries its amount."""
    found: dict[tuple[str, ...], Any] = {}
    by_table: dict[str, list[_Unit]] = {}
    for u in units:
        if u.unit != "record" or q.hold_unit(u.source_table).kind == "record":
            by_table.setdefault(q.unit_table(u.source_table), []).append(u)
    for table, group in by_table.items():
        hold = q.hold_unit(table)
        if hold.amount_sql == "null":
            continue
        keys = pd.DataFrame(
            [(u.batch_id, u.file, u.unit_key) for u in group],
            columns=["batch_id", "file", "unit_key"],
        ).drop_duplicates()
        con.register("_held_keys", keys)
        try:
            rows = con.execute(
                f"""select k.batch_id, k.file, k.unit_key, {hold.amount_sql} as amount
                    from raw.{table} r inner join _held_keys k
                      on r._batch_id = k.batch_id and r._file = k.file
                     and cast(r.{hold.key_column} as varchar) = k.unit_key
                    group by all"""
            ).fetchall()
        finally:
            con.unregister("_held_keys")
        amounts = {(batch, file, key): amount for batch, file, key, amount in rows}
        for u in group:
            if (u.batch_id, u.file, u.unit_key) in amounts:
                found[(u.system, u.batch_id, u.file, u.unit, u.unit_key)] = amounts[
                    (u.batch_id, u.file, u.unit_key)
                ]
    return found


def _reject_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        """select system, batch_id, file, coalesce(unit, 'record') as unit,
                  coalesce(unit_key, cast(record as varchar)) as unit_key,
                  first(reason order by record) as reason, sum(amount) as amount
           from raw._rejects group by all"""
    ).fetchall()


def refresh(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcomes: Iterable[ExpectationOutcome],
    at: datetime,
    coverage: Coverage | None = None,
) -> dict[str, int]:
    """Rewrites ``dq.quarantine_units`` from this raw check's failures and the rejects; returns
    the count of units per status. Under a ``coverage`` of new batches, the held units of the
    batches it did not check are kept as they were."""
    q.ensure_table(con)
    current = _current_units(con, outcomes)
    if coverage is not None and not coverage.whole:
        for unit in _held_outside(con, coverage):
            current.setdefault(tuple(unit[c] for c in IDENT), unit)
    previous = {
        tuple(r[:5]): r[5:]
        for r in con.execute(
            f"select system, batch_id, file, unit, unit_key, first_seen_at, status, released_at, "
            f"release_reason from {q.TABLE}"
        ).fetchall()
    }
    rows = [
        {
            "first_seen_at": previous.get(ident, (at,))[0],
            "last_seen_at": at,
            "status": q.HELD,
            "released_at": None,
            "release_reason": None,
            **unit,
        }
        for ident, unit in current.items()
    ]
    rows += [
        _released_row(ident, first_seen, status, released_at, release_reason, at)
        for ident, (first_seen, status, released_at, release_reason) in previous.items()
        if ident not in current
    ]
    _write(con, rows, run_id)
    _mark_corrected(con, at)
    _count_rows(con)
    return dict(con.execute(f"select status, count(*) from {q.TABLE} group by all").fetchall())


def _held_outside(con: duckdb.DuckDBPyConnection, coverage: Coverage) -> list[dict[str, Any]]:
    """The held units of batches the check did not cover, as the last check wrote them."""
    cursor = con.execute(
        f"select * from {q.TABLE} where status = '{q.HELD}' and source_table <> 'raw._rejects' "
        "and not list_contains(?::struct(s varchar, b varchar)[], {'s': system, 'b': batch_id})",
        [[{"s": system, "b": batch} for system, batch in coverage.pending]],
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _current_units(
    con: duckdb.DuckDBPyConnection, outcomes: Iterable[ExpectationOutcome]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The units held now: this raw check's failures, then the ingest rejects not among them."""
    held = _held_units(outcomes)
    amounts = _amounts(con, list(held.values()))
    current: dict[tuple[str, ...], dict[str, Any]] = {}
    for ident, u in held.items():
        current[ident] = {
            "system": u.system,
            "batch_id": u.batch_id,
            "file": u.file,
            "unit": u.unit,
            "unit_key": u.unit_key,
            "source_table": f"raw.{u.source_table}",
            "rule": ", ".join(u.rules),
            "reason": "; ".join(u.reasons)[:1000],
            "owner_team": u.owner_team,
            "amount": amounts.get(ident),
            "rows_held": None,  # counted below, over every raw table of the unit
            "excluded": True,
        }
    for system, batch, file, unit, key, reason, amount in _reject_rows(con):
        ident = (system, batch, file, unit, str(key))
        current.setdefault(
            ident,
            {
                "system": system,
                "batch_id": batch,
                "file": file,
                "unit": unit,
                "unit_key": str(key),
                "source_table": "raw._rejects",
                "rule": "ingest.unreadable",
                "reason": reason,
                "owner_team": REJECT_OWNER.get(unit, "DATA_ENGINEERING"),
                "amount": amount,
                "rows_held": 0,
                "excluded": False,
            },
        )
    return current


def _released_row(
    ident: tuple[str, ...],
    first_seen: datetime,
    status: str,
    released_at: datetime | None,
    release_reason: str | None,
    at: datetime,
) -> dict[str, Any]:
    """A unit held before and not now: released (now, unless it was released already)."""
    system, batch, file, unit, key = ident
    return {
        "system": system,
        "batch_id": batch,
        "file": file,
        "unit": unit,
        "unit_key": key,
        "source_table": None,
        "rule": None,
        "reason": None,
        "owner_team": None,
        "amount": None,
        "rows_held": 0,
        "excluded": False,
        "first_seen_at": first_seen,
        "last_seen_at": None,
        "status": q.RELEASED,
        "released_at": released_at if status == q.RELEASED else at,
        "release_reason": release_reason if status == q.RELEASED else "passes the raw checks now",
    }


def _write(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    run_id: str,
) -> None:
    frame = pd.DataFrame(rows, columns=list(q.COLUMNS))
    frame["run_id"] = frame["run_id"].where(frame["run_id"].notna(), run_id)
    # A released unit keeps what it was held for.
    old = con.execute(
        f"select system, batch_id, file, unit, unit_key, source_table, rule, reason, "
        f"owner_team, amount from {q.TABLE}"
    ).df()
    con.register("_quarantine_new", frame)
    con.register("_quarantine_old", old)
    try:
        con.execute(f"delete from {q.TABLE}")
        con.execute(
            f"""insert into {q.TABLE} by name
                select n.* replace (
                    coalesce(n.source_table, o.source_table) as source_table,
                    coalesce(n.rule, o.rule) as rule,
                    coalesce(n.reason, o.reason) as reason,
                    coalesce(n.owner_team, o.owner_team) as owner_team,
                    cast(coalesce(n.amount, o.amount) as decimal(18, 2)) as amount)
                from _quarantine_new n
                left join _quarantine_old o
                  using (system, batch_id, file, unit, unit_key)"""
        )
    finally:
        con.unregister("_quarantine_new")
        con.unregister("_quarantine_old")


def _mark_corrected(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
    """A held unit whose key arrives again, later, in a unit that is not held is corrected."""
    for unit, (table, key) in SUPERSEDED_BY.items():
        if not _exists(con, f"raw.{table}"):
            continue
        con.execute(
            f"""update {q.TABLE} as h
                set status = '{q.RELEASED}', released_at = coalesce(h.released_at, ?),
                    release_reason = 'corrected ' || replace(h.unit, '_', ' ')
                        || ' loaded in ' || c.batch_id || '/' || c.file
                from (
                    select cast(r.{key} as varchar) as unit_key, r._batch_id as batch_id,
                           r._file as file
                    from raw.{table} r
                    where not exists (
                        select 1 from {q.TABLE} x
                        where x.excluded and x.unit = '{unit}' and x.batch_id = r._batch_id
                          and x.file = r._file and x.unit_key = cast(r.{key} as varchar))
                    qualify row_number() over (
                        partition by r.{key} order by r._batch_id, r._file) = 1
                ) c
                where h.unit = '{unit}' and h.status = '{q.HELD}' and h.unit_key = c.unit_key
                  and (c.batch_id, c.file) > (h.batch_id, h.file)""",
            [at],
        )


def _count_rows(con: duckdb.DuckDBPyConnection) -> None:
    """``rows_held``: the raw rows each excluded unit keeps out of the marts, over its tables."""
    counts = []
    for name, table in TABLES.items():
        if not _exists(con, f"raw.{name}"):
            continue
        hold = q.hold_unit(name)
        counts.append(
            f"""select h.system, h.batch_id, h.file, h.unit, h.unit_key, count(*) as n
                from {q.TABLE} h inner join raw.{name} r
                  on h.excluded and h.system = '{table.system}' and r._batch_id = h.batch_id
                 and r._file = h.file
                 and ((h.unit = 'record' and h.source_table = 'raw.{name}'
                       and h.unit_key = cast(r._record as varchar))
                      or (h.unit = '{hold.kind}' and h.unit <> 'record'
                          and h.unit_key = cast(r.{hold.key_column} as varchar)))
                group by all"""
        )
    if not counts:
        return
    con.execute(
        f"""update {q.TABLE} as h set rows_held = c.n
            from (select system, batch_id, file, unit, unit_key, sum(n) as n
                  from ({" union all ".join(counts)}) group by all) c
            where h.excluded and (h.system, h.batch_id, h.file, h.unit, h.unit_key)
                = (c.system, c.batch_id, c.file, c.unit, c.unit_key)"""
    )


def _exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation.split(".", 1)
    return bool(
        con.execute(
            "select count(*) from duckdb_columns() where schema_name = ? and table_name = ? "
            "and database_name = current_database()",
            [schema, name],
        ).fetchone()[0]
    )
