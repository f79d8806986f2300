"""Work items: one per exception of ``marts.billing_exceptions``, in one queue, worked by people.

An item is created OPEN by the pipeline's sync (:mod:`billops.workflow.sync`), routed by the
routing table, and then moved by :func:`act` along the one transition table
(``billops.workflow.vocabulary.TRANSITIONS``). Every action checks the caller's role, the item's
version (optimistic locking: ``UPDATE ... WHERE exception_id = ? AND version = ?``; a stale
version is a :class:`ConflictError` naming the current one) and the transition, then writes the
item, one ``work_item_events`` row and one audit row in one transaction.

Time is the data's: due dates and breaches count from the as-of time of the latest sync, never
the wall clock (which only stamps ``updated_at`` and the audit's ``at``). The store never holds
a patient id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.auth import ROLES, users
from billops.config import Settings, get_settings
from billops.errors import (
    ConflictError,
    ForbiddenError,
    IllegalTransitionError,
    NotFoundError,
)
from billops.workflow.calendar import add_business_hours
from billops.workflow.tables import sync_runs, work_item_events, work_items
from billops.workflow.vocabulary import (
    ACTIONS,
    ASSIGNED,
    AUTO_RESOLVED,
    CLOSED_STATUSES,
    DISMISSED,
    OPEN,
    RESOLUTION_CODES,
    RESOLVED,
    SNOOZED,
    STATUSES,
    TRANSITIONS,
    Transition,
)

__all__ = ["ACTIONS", "ASSIGNED", "AUTO_RESOLVED", "DISMISSED", "OPEN", "RESOLVED", "SNOOZED",
           "STATUSES", "WorkItem", "act", "get_item", "latest_as_of", "list_items",
           "sync_from_marts"]

MIN_REASON_LENGTH = 3
MAX_LIMIT = 5000


@dataclass(frozen=True)
class WorkItem:
    exception_id: str
    exception_type: str
    severity: str | None
    entity: str | None
    account_id: str | None
    payer_id: str | None
    amount_at_risk: Decimal | None
    priority_score: float | None
    queue: str
    escalation_queue: str | None
    rule_id: str | None
    status: str
    assignee: str | None
    opened_at: datetime
    due_at: datetime | None
    breached: bool
    snoozed_until: datetime | None
    resolution_code: str | None
    version: int
    updated_at: datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: amounts as decimal strings, times as ISO 8601 (UTC, naive)."""
        return {k: (str(v) if isinstance(v, Decimal) else
                    v.isoformat() if isinstance(v, datetime) else v)
                for k, v in asdict(self).items()}


_ITEM_FIELDS = tuple(f for f in WorkItem.__dataclass_fields__ if f != "breached")


def is_breached(due_at: datetime | None, status: str, as_of: datetime | None) -> bool:
    """Past due at the data's as-of time while not closed."""
    return bool(due_at and as_of and status not in CLOSED_STATUSES and as_of > due_at)


def _item(row: Any, as_of: datetime | None) -> WorkItem:
    values = {f: getattr(row, f) for f in _ITEM_FIELDS}
    if values["amount_at_risk"] is not None:
        values["amount_at_risk"] = Decimal(str(values["amount_at_risk"]))
    return WorkItem(**values, breached=is_breached(row.due_at, row.status, as_of))


def latest_as_of(con: sa.Connection) -> datetime | None:
    """The data as-of time of the latest sync: the workflow's clock."""
    return con.execute(sa.select(sync_runs.c.as_of).order_by(sync_runs.c.sync_id.desc())
                       .limit(1)).scalar_one_or_none()


def list_items(
    *, status: str | None = None, queue: str | None = None, exception_type: str | None = None,
    assignee: str | None = None, limit: int = 500, offset: int = 0,
    settings: Settings | None = None,
) -> list[WorkItem]:
    """Items by priority (highest first), then due time; each filter optional."""
    query = sa.select(work_items)
    for column, value in ((work_items.c.status, status), (work_items.c.queue, queue),
                          (work_items.c.exception_type, exception_type),
                          (work_items.c.assignee, assignee)):
        if value is not None:
            query = query.where(column == value)
    query = query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, offset))
    with ops_store.read(settings) as con:
        query = query.order_by(*_priority_order(con.dialect.name))
        as_of = latest_as_of(con)
        return [_item(row, as_of) for row in con.execute(query).all()]


def _priority_order(dialect: str) -> tuple[Any, ...]:
    """Highest priority first, items without a score last, then the earliest due. SQLite sorts
    NULL lowest already, and an explicit NULLS LAST would keep it from using the index."""
    score = work_items.c.priority_score.desc()
    return (score if dialect == "sqlite" else score.nulls_last(), work_items.c.due_at.asc(),
            work_items.c.exception_id)


def _row(con: sa.Connection, exception_id: str) -> Any:
    row = con.execute(sa.select(work_items)
                      .where(work_items.c.exception_id == exception_id)).first()
    if row is None:
        raise NotFoundError(f"work item {exception_id[:64]}: not found")
    return row


def get_item(exception_id: str, settings: Settings | None = None) -> WorkItem:
    with ops_store.read(settings) as con:
        return _item(_row(con, exception_id), latest_as_of(con))


# ----------------------------------------------------------------------------- acting


@dataclass(frozen=True)
class _Request:
    exception_id: str
    action: str
    actor: str
    role: str
    channel: str
    version: int
    reason: str | None
    assignee: str | None
    until: datetime | None
    resolution_code: str | None


def _transition(request: _Request) -> Transition:
    transition = TRANSITIONS.get(request.action)
    if transition is None:
        raise IllegalTransitionError(f"work item {request.exception_id}: action "
                                     f"{request.action!r} is not one of {', '.join(ACTIONS)}")
    if request.role not in ROLES or request.role not in transition.roles:
        raise ForbiddenError(f"work item {request.exception_id}: role {request.role!r} may not "
                             f"{request.action}")
    if not request.actor.strip():
        raise ForbiddenError(f"work item {request.exception_id}: an action needs the actor")
    return transition


def _check_version(con: sa.Connection, request: _Request, row: Any) -> None:
    if row.version != request.version:
        raise ConflictError(f"work item {request.exception_id}: version {request.version} is "
                            f"stale; the current version is {row.version}")


def _check_needs(con: sa.Connection, request: _Request, transition: Transition, row: Any,
                 as_of: datetime | None) -> None:
    where = f"work item {request.exception_id}"
    if row.status not in transition.from_statuses:
        allowed = ", ".join(s for s in STATUSES if s in transition.from_statuses)
        raise IllegalTransitionError(f"{where}: cannot {request.action} a {row.status} item "
                                     f"({request.action} is allowed from {allowed})")
    need = transition.needs
    if need == "reason" and len((request.reason or "").strip()) < MIN_REASON_LENGTH:
        raise IllegalTransitionError(f"{where}: {request.action} needs a reason")
    if need == "resolution_code" and request.resolution_code not in RESOLUTION_CODES:
        raise IllegalTransitionError(f"{where}: resolve needs a resolution code, one of "
                                     f"{', '.join(RESOLUTION_CODES)}")
    if need == "until" and (request.until is None or as_of is None or request.until <= as_of):
        raise IllegalTransitionError(f"{where}: snooze needs a date after the data's as-of time "
                                     f"({as_of.isoformat() if as_of else 'no sync yet'})")
    if need == "assignee" and not con.execute(sa.select(users.c.name).where(
            users.c.name == (request.assignee or ""), users.c.disabled.is_(False))).first():
        raise IllegalTransitionError(f"{where}: assign needs an active user as the assignee")
    if request.action == "escalate" and row.escalation_queue in (None, row.queue):
        raise IllegalTransitionError(f"{where}: already in its escalation queue {row.queue}")


def _changes(request: _Request, transition: Transition, row: Any, as_of: datetime | None,
             settings: Settings) -> dict[str, Any]:
    """The item's new values for an allowed action."""
    action = request.action
    changes: dict[str, Any] = {"status": transition.to_status or row.status}
    if action in ("assign", "claim"):
        changes.update(assignee=request.assignee if action == "assign" else request.actor,
                       snoozed_until=None)
    elif action == "snooze":
        changes["snoozed_until"] = request.until
    elif action == "resolve":
        changes.update(resolution_code=request.resolution_code, snoozed_until=None)
    elif action == "dismiss":
        changes["snoozed_until"] = None
    elif action == "escalate":
        changes.update(queue=row.escalation_queue, assignee=None, snoozed_until=None)
    elif action == "reopen":
        opened = as_of or row.opened_at
        changes.update(assignee=None, resolution_code=None, snoozed_until=None, opened_at=opened,
                       due_at=add_business_hours(opened, row.sla_business_hours or 0, settings))
    return changes


_AUDITED = ("status", "queue", "assignee", "snoozed_until", "resolution_code", "due_at",
            "version")


def snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """The audited fields of an item, JSON-friendly (never a patient)."""
    return {k: (values[k].isoformat() if isinstance(values[k], datetime) else values[k])
            for k in _AUDITED if k in values}


def record_change(con: sa.Connection, *, row: Any, changes: dict[str, Any], action: str,
                  actor: str, channel: str, reason: str | None, as_of: datetime | None) -> None:
    """The event row and the audit row of one change to an item (already written)."""
    before = dict(row._mapping)
    after = {**before, **changes}
    con.execute(sa.insert(work_item_events), {
        "exception_id": row.exception_id, "action": action, "from_status": row.status,
        "to_status": after["status"], "queue": after["queue"], "actor": actor,
        "channel": channel, "reason": reason, "at": ops_store._now(), "as_of": as_of,
        "version": after["version"]})
    ops_store.append_audit(con, ops_store.AuditEvent(
        "work_items", row.exception_id, action.upper(), actor, channel=channel, reason=reason,
        outcome="APPLIED", before=snapshot(before), after=snapshot(after)))


def _apply(con: sa.Connection, request: _Request, settings: Settings) -> Any:
    transition = _transition(request)
    row = _row(con, request.exception_id)
    _check_version(con, request, row)
    as_of = latest_as_of(con)
    _check_needs(con, request, transition, row, as_of)
    changes = {**_changes(request, transition, row, as_of, settings),
               "version": row.version + 1, "updated_at": ops_store._now(),
               "updated_by": request.actor}
    updated = con.execute(sa.update(work_items).where(
        work_items.c.exception_id == request.exception_id,
        work_items.c.version == request.version).values(**changes))
    if updated.rowcount == 0:  # another writer got there between our read and our update
        current = _row(con, request.exception_id).version
        raise ConflictError(f"work item {request.exception_id}: version {request.version} is "
                            f"stale; the current version is {current}")
    record_change(con, row=row, changes=changes, action=request.action, actor=request.actor,
                  channel=request.channel, reason=request.reason, as_of=as_of)
    return _item(_row(con, request.exception_id), as_of)


def _as_datetime(until: datetime | date | None) -> datetime | None:
    if until is None or isinstance(until, datetime):
        return until
    return datetime.combine(until, time(0))


def act(
    exception_id: str, action: str, *, actor: str, role: str, channel: str, version: int,
    reason: str | None = None, assignee: str | None = None,
    until: datetime | date | None = None, resolution_code: str | None = None,
    settings: Settings | None = None,
) -> WorkItem:
    """Take one action on a work item; returns the item as it is after the action.

    Raises NotFoundError, ForbiddenError (role), ConflictError (stale ``version``) or
    IllegalTransitionError (not allowed from the current status, or a missing reason, resolution
    code, assignee or future ``until``).
    """
    settings = settings or get_settings()
    request = _Request(exception_id, (action or "").strip().lower(), (actor or "").strip(),
                       role, channel, int(version), reason, assignee, _as_datetime(until),
                       (resolution_code or "").strip().upper() or None)
    return ops_store.write(lambda con: _apply(con, request, settings), settings)


def sync_from_marts(con: Any, *, as_of: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """See :func:`billops.workflow.sync.sync_from_marts`."""
    from billops.workflow.sync import sync_from_marts as sync

    return sync(con, as_of=as_of, settings=settings)
