"""Maker-checker for the decisions that move money: write-offs, refunds and adjustments.

A billing specialist (or an approver, or an admin) requests one: PENDING_APPROVAL. It takes
effect only when a user with the role ``approver`` who is not the requester approves it, within
their dollar tier (``users.approval_tier`` against ``data/approval_tiers.csv``: an approver up
to $1,000.00, a finance director without limit). The store itself refuses a decision by the
requester (check constraint ``ck_adjustment_maker_is_not_checker``) unless it is a rejection (a
withdrawal) or a break-glass approval with a reason of at least ``MIN_BREAK_GLASS_REASON``
characters, which the audit trail flags (operation ``APPROVE_BREAK_GLASS``). Every decision and
every refused attempt is audited. The export of approved write-offs as a GL journal fills
``exported_at`` and ``journal_id``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.auth import approval_tiers, users
from billops.config import Settings
from billops.errors import (
    BillopsError,
    ConflictError,
    ForbiddenError,
    IllegalTransitionError,
    NotFoundError,
)
from billops.workflow.tables import MIN_BREAK_GLASS_REASON, adjustment_requests
from billops.workflow.vocabulary import (
    ADJUSTMENT_KINDS,
    ADJUSTMENT_STATUSES,
    ADMIN,
    APPROVED,
    APPROVER,
    PENDING_APPROVAL,
    REJECTED,
    SPECIALIST,
)

REQUESTER_ROLES = frozenset({SPECIALIST, APPROVER, ADMIN})
DECIDER_ROLE = APPROVER
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
MIN_REASON_LENGTH = 3


@dataclass(frozen=True)
class Adjustment:
    adjustment_id: str
    account_id: str
    entity: str | None
    kind: str
    amount: Decimal
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    break_glass: bool
    version: int
    exported_at: datetime | None
    journal_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the amount as a decimal string, times as ISO 8601 (UTC, naive)."""
        return {k: (str(v) if isinstance(v, Decimal) else
                    v.isoformat() if isinstance(v, datetime) else v)
                for k, v in asdict(self).items()}


def _adjustment(row: Any) -> Adjustment:
    values = dict(row._mapping)
    values["amount"] = Decimal(str(values["amount"])).quantize(Decimal("0.01"))
    values["break_glass"] = bool(values["break_glass"])
    return Adjustment(**values)


def _amount(value: Decimal | str | float | int, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BillopsError(f"{where}: amount {str(value)[:20]!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise BillopsError(f"{where}: amount must be above 0 and at most {MAX_AMOUNT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise BillopsError(f"{where}: amount has more than two decimals")
    return amount.quantize(Decimal("0.01"))


def _audit(con: sa.Connection, adjustment_id: str, operation: str, actor: str, channel: str, *,
           outcome: str, reason: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, detail: dict[str, Any] | None = None) -> None:
    ops_store.append_audit(con, ops_store.AuditEvent(
        "adjustment_requests", adjustment_id, operation, actor, channel=channel, reason=reason,
        outcome=outcome, before=before, after=after, detail=detail))


def _state(values: dict[str, Any]) -> dict[str, Any]:
    keep = ("account_id", "kind", "amount", "status", "requested_by", "decided_by",
            "break_glass", "version")
    return {k: (str(values[k]) if isinstance(values[k], Decimal) else values[k])
            for k in keep if k in values}


def request_adjustment(
    account_id: str, kind: str, amount: Decimal | str | float | int, reason: str, *, actor: str,
    role: str, channel: str, entity: str | None = None, settings: Settings | None = None,
) -> Adjustment:
    """Request a write-off, refund or adjustment on an account: PENDING_APPROVAL."""
    account_id, actor = (account_id or "").strip(), (actor or "").strip()
    where = f"adjustment on account {account_id[:64] or '(empty)'}"
    if role not in REQUESTER_ROLES or not actor:
        raise ForbiddenError(f"{where}: role {role!r} may not request adjustments")
    if not account_id:
        raise BillopsError("an adjustment needs an account_id")
    if kind not in ADJUSTMENT_KINDS:
        raise BillopsError(f"{where}: kind {kind!r} is not one of {', '.join(ADJUSTMENT_KINDS)}")
    if len((reason or "").strip()) < MIN_REASON_LENGTH:
        raise BillopsError(f"{where}: a request needs a reason")
    values = {"adjustment_id": str(uuid.uuid4()), "account_id": account_id, "entity": entity,
              "kind": kind, "amount": _amount(amount, where), "reason": reason.strip(),
              "requested_by": actor, "requested_at": ops_store._now(), "status": PENDING_APPROVAL,
              "break_glass": False, "version": 1}

    def insert(con: sa.Connection) -> Adjustment:
        con.execute(sa.insert(adjustment_requests).values(**values))
        _audit(con, values["adjustment_id"], "REQUEST", actor, channel, outcome="PENDING_APPROVAL",
               reason=values["reason"], after=_state(values))
        return _row(con, values["adjustment_id"])

    return ops_store.write(insert, settings)


def _row(con: sa.Connection, adjustment_id: str) -> Adjustment:
    row = con.execute(sa.select(adjustment_requests)
                      .where(adjustment_requests.c.adjustment_id == adjustment_id)).first()
    if row is None:
        raise NotFoundError(f"adjustment {adjustment_id[:64]}: not found")
    return _adjustment(row)


def get_adjustment(adjustment_id: str, settings: Settings | None = None) -> Adjustment:
    with ops_store.read(settings) as con:
        return _row(con, adjustment_id)


def list_adjustments(
    status: str | None = None, *, account_id: str | None = None, limit: int = 500, offset: int = 0,
    settings: Settings | None = None,
) -> list[Adjustment]:
    """Requests, newest first."""
    if status is not None and status not in ADJUSTMENT_STATUSES:
        raise BillopsError(f"status {status!r} is not one of {', '.join(ADJUSTMENT_STATUSES)}")
    query = sa.select(adjustment_requests)
    if status is not None:
        query = query.where(adjustment_requests.c.status == status)
    if account_id is not None:
        query = query.where(adjustment_requests.c.account_id == account_id)
    query = query.order_by(adjustment_requests.c.requested_at.desc(),
                           adjustment_requests.c.adjustment_id).limit(limit).offset(offset)
    with ops_store.read(settings) as con:
        return [_adjustment(row) for row in con.execute(query).all()]


@dataclass(frozen=True)
class _Decision:
    adjustment_id: str
    approve: bool
    actor: str
    role: str
    channel: str
    reason: str | None
    break_glass: bool

    @property
    def operation(self) -> str:
        return "APPROVE" if self.approve else "REJECT"


def _check_tier(con: sa.Connection, decision: _Decision, current: Adjustment) -> None:
    where = f"adjustment {current.adjustment_id}"
    tier = con.execute(sa.select(users.c.approval_tier).where(
        users.c.name == decision.actor, users.c.disabled.is_(False))).scalar_one_or_none()
    tiers = approval_tiers()
    if tier not in tiers:
        raise ForbiddenError(f"{where}: {decision.actor} has no approval tier")
    limit = tiers[tier]
    if limit is not None and current.amount > limit:
        raise ForbiddenError(f"{where}: {current.amount} is above the {tier} tier's limit of "
                             f"{limit}")


def _check_decision(con: sa.Connection, decision: _Decision, current: Adjustment) -> bool:
    """Refuses what the caller may not decide; returns whether break-glass is in use."""
    where = f"adjustment {current.adjustment_id}"
    own = decision.actor == current.requested_by
    if decision.role != DECIDER_ROLE and not (own and not decision.approve):
        raise ForbiddenError(f"{where}: only an approver may {decision.operation.lower()} "
                             "(a requester may withdraw their own request by rejecting it)")
    if current.status != PENDING_APPROVAL:
        raise IllegalTransitionError(f"{where}: already {current.status}")
    if not decision.approve:
        if len((decision.reason or "").strip()) < MIN_REASON_LENGTH:
            raise IllegalTransitionError(f"{where}: a rejection needs a reason")
        return False
    if own and not decision.break_glass:
        raise ForbiddenError(f"{where}: the requester may not approve their own request")
    if own and len((decision.reason or "").strip()) < MIN_BREAK_GLASS_REASON:
        raise ForbiddenError(f"{where}: break-glass needs a reason of at least "
                             f"{MIN_BREAK_GLASS_REASON} characters")
    _check_tier(con, decision, current)
    return own


def _decide(con: sa.Connection, decision: _Decision) -> Adjustment:
    current = _row(con, decision.adjustment_id)
    break_glass = _check_decision(con, decision, current)
    values = {"status": APPROVED if decision.approve else REJECTED, "decided_by": decision.actor,
              "decided_at": ops_store._now(), "decision_reason": decision.reason,
              "break_glass": break_glass, "version": current.version + 1}
    updated = con.execute(sa.update(adjustment_requests).where(
        adjustment_requests.c.adjustment_id == current.adjustment_id,
        adjustment_requests.c.version == current.version,
        adjustment_requests.c.status == PENDING_APPROVAL).values(**values))
    if updated.rowcount == 0:
        raise ConflictError(f"adjustment {current.adjustment_id}: decided by someone else "
                            "meanwhile")
    operation = decision.operation + ("_BREAK_GLASS" if break_glass else "")
    _audit(con, current.adjustment_id, operation, decision.actor, decision.channel,
           outcome=values["status"], reason=decision.reason, before=_state(asdict(current)),
           after=_state({**asdict(current), **values}),
           detail={"break_glass": True} if break_glass else None)
    return _row(con, current.adjustment_id)


def _audit_refusal(decision: _Decision, error: BillopsError, settings: Settings | None) -> None:
    ops_store.write(lambda con: _audit(
        con, decision.adjustment_id, decision.operation, decision.actor, decision.channel,
        outcome="REFUSED", reason=str(error)[:500],
        detail={"break_glass_requested": decision.break_glass} if decision.break_glass else None),
        settings)


def _decided(decision: _Decision, settings: Settings | None) -> Adjustment:
    try:
        return ops_store.write(lambda con: _decide(con, decision), settings)
    except (ForbiddenError, IllegalTransitionError) as error:
        _audit_refusal(decision, error, settings)
        raise


def approve(
    adjustment_id: str, *, actor: str, role: str, channel: str, reason: str | None = None,
    break_glass: bool = False, settings: Settings | None = None,
) -> Adjustment:
    """Approve a pending request (role approver, not the requester, within the tier; the
    requester only with ``break_glass`` and a reason). Refusals are audited and raised."""
    return _decided(_Decision(adjustment_id, True, (actor or "").strip(), role, channel, reason,
                              break_glass), settings)


def reject(
    adjustment_id: str, *, actor: str, role: str, channel: str, reason: str | None = None,
    settings: Settings | None = None,
) -> Adjustment:
    """Reject a pending request (an approver), or withdraw one's own request; needs a reason."""
    return _decided(_Decision(adjustment_id, False, (actor or "").strip(), role, channel, reason,
                              False), settings)
