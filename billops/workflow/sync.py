"""The pipeline's sync of the marts into work items (step ``sync_work_items``, after the checks).

Reads ``marts.billing_exceptions`` (its exception columns, never ``patient_id``) and the
account's payer from ``marts.fct_account_reconciliation``, then, in one transaction of the store:

* a new exception becomes an OPEN item, routed by the current routing version (the shipped file
  is loaded on first use), opened at the data's as-of time and due that many business hours
  later;
* an open, assigned or snoozed item whose exception left the marts becomes AUTO_RESOLVED;
* an item whose exception is back reopens (OPEN, routed again, a new due time) when it was
  AUTO_RESOLVED, or RESOLVED and had left the marts; a DISMISSED item (not an error) stays
  dismissed, and a RESOLVED one still in the marts stays resolved (the fix may land later);
* a snoozed item whose date has come (at the as-of time) wakes up, ASSIGNED or OPEN;
* other items get the marts' latest amount, priority and payer (no new version).

Each change writes an event and an audit row (actor ``billops``, channel ``pipeline``). The run's
as-of time is recorded: it is the clock of due dates and breaches. A second sync of the same data
changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings, get_settings
from billops.workflow.calendar import add_business_hours
from billops.workflow.items import latest_as_of, record_change, snapshot
from billops.workflow.routing import (
    Route,
    RoutingFacts,
    Rule,
    current_rules,
    load_routing_in,
    route,
)
from billops.workflow.tables import sync_runs, work_item_events, work_items
from billops.workflow.vocabulary import (
    ACTIVE_STATUSES,
    ASSIGNED,
    AUTO_RESOLVED,
    OPEN,
    RESOLVED,
    SNOOZED,
    SYSTEM_ACTOR,
    SYSTEM_CHANNEL,
)

FACTS = ("exception_type", "severity", "entity", "account_id", "payer_id", "amount_at_risk",
         "priority_score")
_EXCEPTIONS = """
select e.exception_id, e.exception_type, e.severity, e.entity, e.account_id, p.payer_id,
       e.amount_at_risk, e.priority_score
from marts.billing_exceptions as e
left join (
    select account_id, min(payer_id) as payer_id
    from marts.fct_account_reconciliation group by account_id
) as p on p.account_id = e.account_id
"""
_EXCEPTIONS_WITHOUT_PAYER = """
select exception_id, exception_type, severity, entity, account_id, null as payer_id,
       amount_at_risk, priority_score
from marts.billing_exceptions
"""
_HAS_RECONCILIATION = """
select count(*) from information_schema.tables
where table_schema = 'marts' and table_name = 'fct_account_reconciliation'
"""
_CENT = Decimal("0.01")


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(_CENT)


def read_exceptions(con: Any) -> dict[str, dict[str, Any]]:
    """The marts' exceptions by id, with the routing facts (no patient column is read)."""
    has_payer = con.execute(_HAS_RECONCILIATION).fetchone()[0] > 0
    cursor = con.execute(_EXCEPTIONS if has_payer else _EXCEPTIONS_WITHOUT_PAYER)
    names = [d[0] for d in cursor.description]
    found: dict[str, dict[str, Any]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        row["amount_at_risk"] = _money(row["amount_at_risk"])
        score = row["priority_score"]
        row["priority_score"] = None if score is None else float(score)
        found[str(row.pop("exception_id"))] = row
    return found


def _route(facts: dict[str, Any], rules: tuple[Rule, ...]) -> Route:
    return route(RoutingFacts(facts["exception_type"], facts["entity"], facts["payer_id"],
                              facts["amount_at_risk"]), rules)


def _routed(facts: dict[str, Any], as_of: datetime, rules: tuple[Rule, ...], version: int,
            settings: Settings) -> dict[str, Any]:
    """Queue, SLA and due time of an item (re)opened at ``as_of``."""
    chosen = _route(facts, rules)
    return {"queue": chosen.queue, "escalation_queue": chosen.escalation_queue,
            "rule_id": chosen.rule_id, "routing_version": version,
            "sla_business_hours": chosen.sla_business_hours, "opened_at": as_of,
            "due_at": add_business_hours(as_of, chosen.sla_business_hours, settings)}


def _open_new(con: sa.Connection, new: dict[str, dict[str, Any]], as_of: datetime,
              rules: tuple[Rule, ...], version: int, settings: Settings) -> None:
    now = ops_store._now()
    rows = [{"exception_id": eid, **facts, **_routed(facts, as_of, rules, version, settings),
             "status": OPEN, "assignee": None, "snoozed_until": None, "resolution_code": None,
             "in_marts": True, "version": 1, "updated_at": now, "updated_by": SYSTEM_ACTOR}
            for eid, facts in sorted(new.items())]
    if not rows:
        return
    con.execute(sa.insert(work_items), rows)
    con.execute(sa.insert(work_item_events), [
        {"exception_id": r["exception_id"], "action": "open", "from_status": None,
         "to_status": OPEN, "queue": r["queue"], "actor": SYSTEM_ACTOR, "channel": SYSTEM_CHANNEL,
         "reason": None, "at": now, "as_of": as_of, "version": 1} for r in rows])
    ops_store.append_audit(con, *(ops_store.AuditEvent(
        "work_items", r["exception_id"], "OPEN", SYSTEM_ACTOR, channel=SYSTEM_CHANNEL,
        outcome="APPLIED", after=snapshot(r), detail={"rule_id": r["rule_id"]}) for r in rows))


def _transition(con: sa.Connection, row: Any, action: str, changes: dict[str, Any],
                as_of: datetime, reason: str) -> bool:
    """One pipeline change to an item, under the same optimistic lock people act with: if a
    person changed the item since it was read, theirs wins and the next sync looks again."""
    changes = {**changes, "version": row.version + 1, "updated_at": ops_store._now(),
               "updated_by": SYSTEM_ACTOR}
    updated = con.execute(sa.update(work_items).where(
        work_items.c.exception_id == row.exception_id, work_items.c.version == row.version)
        .values(**changes))
    if updated.rowcount == 0:
        return False
    record_change(con, row=row, changes=changes, action=action, actor=SYSTEM_ACTOR,
                  channel=SYSTEM_CHANNEL, reason=reason, as_of=as_of)
    return True


def _plan_present(row: Any, facts: dict[str, Any], as_of: datetime) -> str | None:
    """What the sync does to an existing item whose exception is in the marts."""
    if row.status == AUTO_RESOLVED or (row.status == RESOLVED and not row.in_marts):
        return "redetect"
    if row.status == SNOOZED and row.snoozed_until is not None and row.snoozed_until <= as_of:
        return "wake"
    if not row.in_marts or any(getattr(row, k) != facts[k] for k in FACTS):
        return "refresh"
    return None


def _present(con: sa.Connection, row: Any, facts: dict[str, Any], as_of: datetime,
             rules: tuple[Rule, ...], version: int, settings: Settings, counts: Counter[str],
             refreshes: list[dict[str, Any]]) -> None:
    plan = _plan_present(row, facts, as_of)
    if plan == "redetect":
        changes = {**facts, **_routed(facts, as_of, rules, version, settings), "status": OPEN,
                   "assignee": None, "resolution_code": None, "snoozed_until": None,
                   "in_marts": True}
        counts["reopened"] += _transition(con, row, "redetect", changes, as_of,
                                          "the exception is detected again")
    elif plan == "wake":
        changes = {**facts, "status": ASSIGNED if row.assignee else OPEN, "snoozed_until": None,
                   "in_marts": True}
        counts["woken"] += _transition(con, row, "wake", changes, as_of, "the snooze date came")
    elif plan == "refresh":
        refreshes.append({"item_id": row.exception_id, **facts, "in_marts": True})


def _absent(con: sa.Connection, row: Any, as_of: datetime, counts: Counter[str],
            refreshes: list[dict[str, Any]]) -> None:
    if row.status in ACTIVE_STATUSES:
        counts["auto_resolved"] += _transition(
            con, row, "auto_resolve", {"status": AUTO_RESOLVED, "snoozed_until": None,
                                       "in_marts": False},
            as_of, "the exception is no longer detected")
    elif row.in_marts:
        con.execute(sa.update(work_items).where(work_items.c.exception_id == row.exception_id)
                    .values(in_marts=False))


def _refresh(con: sa.Connection, refreshes: list[dict[str, Any]]) -> int:
    """New facts for items whose status does not change: one statement, many rows."""
    if refreshes:
        columns = {name: sa.bindparam(name) for name in (*FACTS, "in_marts")}
        con.execute(sa.update(work_items).where(
            work_items.c.exception_id == sa.bindparam("item_id")).values(columns), refreshes)
    return len(refreshes)


def _rules(con: sa.Connection) -> tuple[int, tuple[Rule, ...]]:
    loaded = current_rules(con)
    if loaded is None:
        first = load_routing_in(con, actor=SYSTEM_ACTOR, channel=SYSTEM_CHANNEL)
        return first.version_id, first.rules
    return loaded


def _sync(con: sa.Connection, found: dict[str, dict[str, Any]], as_of: datetime,
          settings: Settings) -> dict[str, Any]:
    version, rules = _rules(con)
    previous_as_of = latest_as_of(con)
    existing = {row.exception_id: row for row in con.execute(sa.select(work_items)).all()}
    counts: Counter[str] = Counter()
    new = {eid: facts for eid, facts in found.items() if eid not in existing}
    _open_new(con, new, as_of, rules, version, settings)
    counts["opened"] = len(new)
    refreshes: list[dict[str, Any]] = []
    for eid, row in existing.items():
        if eid in found:
            _present(con, row, found[eid], as_of, rules, version, settings, counts, refreshes)
        else:
            _absent(con, row, as_of, counts, refreshes)
    counts["refreshed"] = _refresh(con, refreshes)
    result = {"as_of": as_of.isoformat(), "routing_version": version, "exceptions": len(found),
              **{k: counts[k] for k in ("opened", "reopened", "auto_resolved", "woken",
                                        "refreshed")}}
    if any(counts.values()) or previous_as_of != as_of:
        con.execute(sa.insert(sync_runs).values(
            as_of=as_of, synced_at=ops_store._now(), routing_version=version,
            opened=counts["opened"], reopened=counts["reopened"],
            auto_resolved=counts["auto_resolved"], woken=counts["woken"]))
    return result


def sync_from_marts(con: Any, *, as_of: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """Bring the work items in line with the marts of a run whose data as-of time is ``as_of``.

    ``con`` is an open DuckDB connection to the warehouse (read only is enough). Returns the
    counts: opened, reopened, auto_resolved, woken, refreshed.
    """
    settings = settings or get_settings()
    found = read_exceptions(con)
    return ops_store.write(lambda store: _sync(store, found, as_of, settings), settings)
