"""Work items (billops.workflow.items): every transition of the one table, roles, the needs of
each action, optimistic locking under two racing writers, and one event and one audit row per
action in the same transaction."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from workflow_support import AS_OF, add_users, exception, synced

from billops import ops_store
from billops.config import Settings
from billops.errors import ConflictError, ForbiddenError, IllegalTransitionError, NotFoundError
from billops.workflow import items
from billops.workflow.tables import work_item_events, work_items
from billops.workflow.vocabulary import ACTIONS, STATUSES, TRANSITIONS

NEEDS = {"assign": {"assignee": "sue"}, "snooze": {"until": AS_OF + timedelta(days=3)},
         "resolve": {"resolution_code": "REBILLED"}, "dismiss": {"reason": "expected variance"},
         "comment": {"reason": "called the payer"}}


@pytest.fixture()
def store(billops_home: Settings) -> Settings:
    add_users(billops_home)
    synced(billops_home, [exception("E1", score=5.0), exception("E2", "LATE_CHARGE", score=9.0),
                          exception("E3", "DEPOSIT_MISMATCH", score=1.0)])
    return billops_home


def _force(settings: Settings, exception_id: str, status: str) -> int:
    """Put an item in a status directly (the test's arrangement), returning its version."""
    with ops_store.begin(settings) as con:
        con.execute(sa.update(work_items).where(work_items.c.exception_id == exception_id)
                    .values(status=status, assignee="sam" if status == "ASSIGNED" else None))
    return items.get_item(exception_id, settings).version


def _act(settings: Settings, action: str, version: int, exception_id: str = "E1",
         role: str = "billing_specialist", actor: str = "sam", **extra: object) -> items.WorkItem:
    return items.act(exception_id, action, actor=actor, role=role, channel="api",
                     version=version, settings=settings, **{**NEEDS.get(action, {}), **extra})


CASES = [(action, status) for action in ACTIONS for status in STATUSES]


@pytest.mark.parametrize(("action", "status"), CASES)
def test_every_transition_of_the_table(store: Settings, action: str, status: str) -> None:
    version = _force(store, "E1", status)
    transition = TRANSITIONS[action]
    if status not in transition.from_statuses:
        with pytest.raises(IllegalTransitionError, match=f"cannot {action} a {status} item") as info:
            _act(store, action, version)
        assert "\n" not in str(info.value)
        assert items.get_item("E1", store).version == version  # nothing written
        return
    after = _act(store, action, version)
    assert after.status == (transition.to_status or status)
    assert after.version == version + 1 and after.updated_by == "sam"


def test_actions_set_what_they_promise(store: Settings) -> None:
    item = _act(store, "claim", 1)
    assert (item.status, item.assignee) == ("ASSIGNED", "sam")
    item = _act(store, "assign", item.version)
    assert item.assignee == "sue"
    item = _act(store, "snooze", item.version)
    assert item.snoozed_until == AS_OF + timedelta(days=3)
    item = _act(store, "escalate", item.version)
    assert (item.status, item.queue, item.assignee) == ("OPEN", "FINANCE", None)
    with pytest.raises(IllegalTransitionError, match="already in its escalation queue FINANCE"):
        _act(store, "escalate", item.version)
    item = _act(store, "resolve", item.version)
    assert (item.status, item.resolution_code) == ("RESOLVED", "REBILLED")
    item = _act(store, "reopen", item.version)
    assert (item.status, item.resolution_code, item.opened_at) == ("OPEN", None, AS_OF)


@pytest.mark.parametrize(("action", "extra", "message"), [
    ("dismiss", {"reason": ""}, "dismiss needs a reason"),
    ("comment", {"reason": None}, "comment needs a reason"),
    ("resolve", {"resolution_code": None}, "resolve needs a resolution code, one of"),
    ("resolve", {"resolution_code": "FIXED_IT"}, "resolve needs a resolution code"),
    ("snooze", {"until": AS_OF}, "snooze needs a date after the data's as-of time"),
    ("snooze", {"until": AS_OF.date()}, "snooze needs a date after"),
    ("assign", {"assignee": "nobody"}, "assign needs an active user"),
    ("teleport", {}, "action 'teleport' is not one of"),
])
def test_missing_needs_are_refused(store: Settings, action: str, extra: dict[str, object],
                                   message: str) -> None:
    with pytest.raises(IllegalTransitionError, match=message):
        _act(store, action, 1, **extra)
    assert items.get_item("E1", store).version == 1


@pytest.mark.parametrize(("role", "action", "allowed"), [
    ("analyst", "comment", True), ("analyst", "claim", False), ("analyst", "resolve", False),
    ("billing_specialist", "resolve", True), ("approver", "dismiss", True),
    ("admin", "escalate", True), ("superuser", "comment", False),
])
def test_roles(store: Settings, role: str, action: str, allowed: bool) -> None:
    if allowed:
        assert _act(store, action, 1, role=role).version == 2
    else:
        with pytest.raises(ForbiddenError, match=f"role '{role}' may not {action}"):
            _act(store, action, 1, role=role)


def test_a_stale_version_is_a_conflict_naming_the_current_one(store: Settings) -> None:
    _act(store, "claim", 1)
    with pytest.raises(ConflictError, match="version 1 is stale; the current version is 2"):
        _act(store, "resolve", 1)
    with pytest.raises(NotFoundError, match="work item NOPE: not found"):
        _act(store, "claim", 1, exception_id="NOPE")


def test_two_people_at_once_one_wins_nothing_is_lost(store: Settings) -> None:
    """Eight threads race on the same version, twenty rounds: exactly one wins each round."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def comment(version: int, n: int) -> None:
        try:
            _act(store, "comment", version, reason=f"note {n}")
            result = "won"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    for round_ in range(20):
        version = items.get_item("E1", store).version
        threads = [threading.Thread(target=comment, args=(version, round_ * 8 + i))
                   for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert outcomes.count("won") == 20 and outcomes.count("conflict") == 140
    assert items.get_item("E1", store).version == 21
    with ops_store.read(store) as con:
        events = con.execute(sa.select(work_item_events.c.version).where(
            work_item_events.c.exception_id == "E1", work_item_events.c.action == "comment")
        ).scalars().all()
    assert sorted(events) == list(range(2, 22))  # every winner's event, no gap, no duplicate
    assert ops_store.verify_chain(store).ok


def test_each_action_writes_one_event_and_one_audit_row(store: Settings) -> None:
    before = len(ops_store.audit_entries(settings=store))
    _act(store, "dismiss", 1, reason="duplicate of E2")
    [entry] = ops_store.audit_entries(settings=store)[before:]
    assert (entry["table_name"], entry["record_id"], entry["operation"], entry["actor"],
            entry["channel"], entry["reason"], entry["outcome"]) == (
        "work_items", "E1", "DISMISS", "sam", "api", "duplicate of E2", "APPLIED")
    assert (entry["before"]["status"], entry["after"]["status"]) == ("OPEN", "DISMISSED")
    assert (entry["before"]["version"], entry["after"]["version"]) == (1, 2)
    with ops_store.read(store) as con:
        event = con.execute(sa.select(work_item_events).where(
            work_item_events.c.action == "dismiss")).one()
    assert (event.from_status, event.to_status, event.queue, event.actor, event.channel,
            event.as_of, event.version) == ("OPEN", "DISMISSED", "BILLING", "sam", "api", AS_OF, 2)


def test_a_failed_audit_leaves_the_item_unchanged(store: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ops_store, "append_audit", broken)
    with pytest.raises(RuntimeError):
        _act(store, "claim", 1)
    monkeypatch.undo()
    item = items.get_item("E1", store)
    assert (item.status, item.version) == ("OPEN", 1)
    with ops_store.read(store) as con:
        assert not con.execute(sa.select(work_item_events).where(
            work_item_events.c.action == "claim")).first()


def test_listing_orders_by_priority_then_due_and_filters(store: Settings) -> None:
    assert [i.exception_id for i in items.list_items(settings=store)] == ["E2", "E1", "E3"]
    assert [i.exception_id for i in items.list_items(queue="FINANCE", settings=store)] == ["E3"]
    assert [i.exception_id for i in items.list_items(exception_type="DENIAL", settings=store)] == ["E1"]
    _act(store, "claim", 1)
    assert [i.exception_id for i in items.list_items(assignee="sam", status="ASSIGNED",
                                                     settings=store)] == ["E1"]
    assert [i.exception_id for i in items.list_items(limit=1, offset=1, settings=store)] == ["E1"]


def test_to_dict_is_json_and_holds_no_patient(store: Settings) -> None:
    data = items.get_item("E1", store).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["amount_at_risk"] == "100.00" and data["due_at"].startswith("2026-12-0")
    assert "patient_id" not in data
    with ops_store.read(store) as con:
        dumped = [str(tuple(r)) for r in con.execute(sa.select(work_items)).all()]
    assert not any("MRN-SECRET" in row for row in dumped)
    assert not any("MRN-SECRET" in str(e) for e in ops_store.audit_entries(settings=store))


def test_snooze_is_judged_against_the_data_not_the_wall_clock(store: Settings) -> None:
    """A date already past on the wall clock but after the data's as-of is still the future."""
    assert AS_OF + timedelta(hours=1) < datetime.now()
    item = _act(store, "snooze", 1, until=AS_OF + timedelta(hours=1))
    assert item.status == "SNOOZED"
