"""Maker-checker (billops.workflow.adjustments): only an approver who is not the requester,
within their dollar tier; the store itself refuses approver = requester; break-glass needs a
reason and is flagged; every decision and refusal is audited."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from workflow_support import add_users

from billops import ops_store
from billops.auth import add_user
from billops.config import Settings
from billops.errors import BillopsError, ForbiddenError, IllegalTransitionError, NotFoundError
from billops.workflow import adjustments as adj
from billops.workflow.tables import adjustment_requests

EMERGENCY = "payer recoupment deadline today, second approver unreachable"


@pytest.fixture()
def store(billops_home: Settings) -> Settings:
    add_users(billops_home)  # amy: approver (tier approver, up to 1000.00)
    add_user("fin", "approver", tier="finance_director", actor="root", settings=billops_home)
    return billops_home


def _request(settings: Settings, amount: str = "250.00", actor: str = "sam",
             role: str = "billing_specialist") -> adj.Adjustment:
    return adj.request_adjustment("A1", "write_off", amount, "small balance", actor=actor,
                                  role=role, channel="api", entity="H1", settings=settings)


def test_request_then_a_second_person_approves(store: Settings) -> None:
    made = _request(store)
    assert (made.status, made.amount, made.version, made.requested_by) == (
        "PENDING_APPROVAL", Decimal("250.00"), 1, "sam")
    done = adj.approve(made.adjustment_id, actor="amy", role="approver", channel="api",
                       settings=store)
    assert (done.status, done.decided_by, done.break_glass, done.version) == (
        "APPROVED", "amy", False, 2)
    assert json.loads(json.dumps(done.to_dict()))["amount"] == "250.00"
    assert [a.adjustment_id for a in adj.list_adjustments("APPROVED", settings=store)] == [
        made.adjustment_id]
    trail = ops_store.audit_entries(record_id=made.adjustment_id, settings=store)
    assert [(e["operation"], e["actor"], e["outcome"]) for e in trail] == [
        ("REQUEST", "sam", "PENDING_APPROVAL"), ("APPROVE", "amy", "APPROVED")]
    assert (trail[1]["before"]["status"], trail[1]["after"]["status"]) == (
        "PENDING_APPROVAL", "APPROVED")


@pytest.mark.parametrize(("actor", "role", "amount", "message"), [
    ("sam", "billing_specialist", "10.00", "only an approver may approve"),
    ("dan", "admin", "10.00", "only an approver may approve"),
    ("amy", "approver", "1000.01", "above the approver tier's limit of 1000.00"),
])
def test_refused_approvals(store: Settings, actor: str, role: str, amount: str,
                           message: str) -> None:
    made = _request(store, amount)
    with pytest.raises(ForbiddenError, match=message):
        adj.approve(made.adjustment_id, actor=actor, role=role, channel="api", settings=store)
    assert adj.get_adjustment(made.adjustment_id, store).status == "PENDING_APPROVAL"
    refused = ops_store.audit_entries(record_id=made.adjustment_id, settings=store)[-1]
    assert (refused["operation"], refused["outcome"], refused["actor"]) == (
        "APPROVE", "REFUSED", actor)


def test_a_finance_director_approves_above_the_approver_tier(store: Settings) -> None:
    made = _request(store, "25000.00")
    done = adj.approve(made.adjustment_id, actor="fin", role="approver", channel="cli",
                       settings=store)
    assert done.status == "APPROVED"


def test_the_requester_may_not_approve_their_own(store: Settings) -> None:
    made = _request(store, actor="amy", role="approver")
    with pytest.raises(ForbiddenError, match="the requester may not approve their own request"):
        adj.approve(made.adjustment_id, actor="amy", role="approver", channel="api",
                    settings=store)
    with pytest.raises(ForbiddenError, match="break-glass needs a reason of at least 20"):
        adj.approve(made.adjustment_id, actor="amy", role="approver", channel="api",
                    break_glass=True, reason="urgent", settings=store)
    done = adj.approve(made.adjustment_id, actor="amy", role="approver", channel="api",
                       break_glass=True, reason=EMERGENCY, settings=store)
    assert (done.status, done.break_glass, done.decided_by) == ("APPROVED", True, "amy")
    last = ops_store.audit_entries(record_id=made.adjustment_id, settings=store)[-1]
    assert (last["operation"], last["reason"], json.loads(last["detail"])) == (
        "APPROVE_BREAK_GLASS", EMERGENCY, {"break_glass": True})


def test_the_store_itself_refuses_approver_equal_requester(store: Settings) -> None:
    made = _request(store)
    with pytest.raises(sa.exc.IntegrityError, match="maker_is_not_checker"), \
            ops_store.engine(store).begin() as con:
        con.execute(sa.text(
            "update adjustment_requests set status = 'APPROVED', decided_by = requested_by, "
            "decided_at = requested_at where adjustment_id = :id"), {"id": made.adjustment_id})
    # break-glass without a long enough reason is refused by the store too
    with pytest.raises(sa.exc.IntegrityError), ops_store.engine(store).begin() as con:
        con.execute(sa.update(adjustment_requests).where(
            adjustment_requests.c.adjustment_id == made.adjustment_id).values(
            status="APPROVED", decided_by="sam", break_glass=True, decision_reason="short"))
    # the same update by another person is accepted
    with ops_store.engine(store).begin() as con:
        con.execute(sa.update(adjustment_requests).where(
            adjustment_requests.c.adjustment_id == made.adjustment_id).values(
            status="APPROVED", decided_by="amy"))


def test_reject_and_withdraw(store: Settings) -> None:
    first, second = _request(store), _request(store)
    with pytest.raises(IllegalTransitionError, match="a rejection needs a reason"):
        adj.reject(first.adjustment_id, actor="amy", role="approver", channel="api",
                   settings=store)
    rejected = adj.reject(first.adjustment_id, actor="amy", role="approver", channel="api",
                          reason="balance is collectible", settings=store)
    assert (rejected.status, rejected.decided_by) == ("REJECTED", "amy")
    withdrawn = adj.reject(second.adjustment_id, actor="sam", role="billing_specialist",
                           channel="api", reason="entered twice", settings=store)
    assert (withdrawn.status, withdrawn.decided_by) == ("REJECTED", "sam")
    with pytest.raises(IllegalTransitionError, match="already REJECTED"):
        adj.approve(first.adjustment_id, actor="fin", role="approver", channel="api",
                    settings=store)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"kind": "gift"}, BillopsError, "kind 'gift' is not one of write_off, refund, adjustment"),
    ({"amount": "0"}, BillopsError, "amount must be above 0"),
    ({"amount": "-5"}, BillopsError, "amount must be above 0"),
    ({"amount": "1.005"}, BillopsError, "more than two decimals"),
    ({"amount": "lots"}, BillopsError, "is not a number"),
    ({"reason": ""}, BillopsError, "needs a reason"),
    ({"role": "analyst"}, ForbiddenError, "role 'analyst' may not request"),
])
def test_bad_requests(store: Settings, kwargs: dict[str, str], error: type[Exception],
                      message: str) -> None:
    values = {"kind": "refund", "amount": "5.00", "reason": "credit", "role": "billing_specialist"}
    values.update(kwargs)
    with pytest.raises(error, match=message):
        adj.request_adjustment("A1", values["kind"], values["amount"], values["reason"],
                               actor="sam", role=values["role"], channel="api", settings=store)
    assert adj.list_adjustments(settings=store) == []
    with pytest.raises(NotFoundError, match="adjustment nope: not found"):
        adj.get_adjustment("nope", store)
