"""The marts sync (billops.workflow.sync): new exceptions open routed, vanished ones
auto-resolve, returning ones reopen, snoozes wake, due dates and breaches follow the data's as-of
time, and a second sync of the same data changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from workflow_support import AS_OF, add_users, exception, marts, synced

from billops import ops_store
from billops.config import Settings
from billops.workflow import items
from billops.workflow.routing import DEFAULT_FILE, load_routing
from billops.workflow.sync import sync_from_marts
from billops.workflow.tables import work_item_events


def _status(settings: Settings, exception_id: str) -> str:
    return items.get_item(exception_id, settings).status


def _events(settings: Settings) -> int:
    with ops_store.read(settings) as con:
        return int(con.execute(sa.select(sa.func.count()).select_from(work_item_events)).scalar_one())


def test_new_exceptions_open_routed_with_a_due_time_in_business_hours(billops_home: Settings) -> None:
    result = synced(billops_home, [exception("E1", amount="20000.00"),
                                   exception("E2", "LATE_CHARGE", account="A2")],
                    payers={"A1": "PAYER1"})
    assert result["opened"] == 2
    big = items.get_item("E1", billops_home)
    assert (big.status, big.queue, big.rule_id, big.escalation_queue, big.payer_id) == (
        "OPEN", "BILLING", "DENIAL-10K", "FINANCE", "PAYER1")
    # Friday 10:00 + 8 business hours (08:00-17:00, Mon-Fri) = Monday 09:00
    assert (big.opened_at, big.due_at) == (AS_OF, AS_OF + timedelta(days=2, hours=23))
    late = items.get_item("E2", billops_home)
    assert (late.queue, late.payer_id) == ("CODING", None)


def test_a_second_sync_of_the_same_data_changes_nothing(billops_home: Settings) -> None:
    rows = [exception("E1"), exception("E2", "CREDIT_BALANCE")]
    synced(billops_home, rows)
    trail, events = len(ops_store.audit_entries(settings=billops_home)), _events(billops_home)
    before = [i.to_dict() for i in items.list_items(settings=billops_home)]
    again = synced(billops_home, rows)
    assert {k: again[k] for k in ("opened", "reopened", "auto_resolved", "woken", "refreshed")} \
        == dict.fromkeys(("opened", "reopened", "auto_resolved", "woken", "refreshed"), 0)
    assert [i.to_dict() for i in items.list_items(settings=billops_home)] == before
    assert (len(ops_store.audit_entries(settings=billops_home)), _events(billops_home)) == (trail, events)


def test_gone_auto_resolves_back_reopens_dismissed_stays(billops_home: Settings) -> None:
    add_users(billops_home)
    rows = [exception("GONE"), exception("FIXED"), exception("NOISE"), exception("STAYS")]
    synced(billops_home, rows)
    items.act("FIXED", "resolve", actor="sam", role="billing_specialist", channel="cli",
              version=1, resolution_code="REBILLED", settings=billops_home)
    items.act("NOISE", "dismiss", actor="sam", role="billing_specialist", channel="cli",
              version=1, reason="not an error", settings=billops_home)
    items.act("STAYS", "resolve", actor="sam", role="billing_specialist", channel="cli",
              version=1, resolution_code="REBILLED", settings=billops_home)
    day2 = AS_OF + timedelta(days=1)
    result = synced(billops_home, [exception("STAYS")], as_of=day2)
    assert result["auto_resolved"] == 1
    assert [_status(billops_home, e) for e in ("GONE", "FIXED", "NOISE", "STAYS")] == [
        "AUTO_RESOLVED", "RESOLVED", "DISMISSED", "RESOLVED"]
    [auto] = ops_store.audit_entries(record_id="GONE", settings=billops_home)[1:]
    assert (auto["operation"], auto["actor"], auto["channel"]) == ("AUTO_RESOLVE", "billops", "pipeline")

    day3 = day2 + timedelta(days=1)
    result = synced(billops_home, rows, as_of=day3)
    assert result["reopened"] == 2  # GONE (auto-resolved) and FIXED (resolved, then it left)
    assert [_status(billops_home, e) for e in ("GONE", "FIXED", "NOISE", "STAYS")] == [
        "OPEN", "OPEN", "DISMISSED", "RESOLVED"]
    reopened = items.get_item("GONE", billops_home)
    assert reopened.opened_at == day3 and reopened.due_at > day3


def test_snoozed_items_wake_when_the_data_reaches_their_date(billops_home: Settings) -> None:
    add_users(billops_home)
    synced(billops_home, [exception("E1"), exception("E2")])
    items.act("E1", "snooze", actor="sam", role="billing_specialist", channel="cli", version=1,
              until=AS_OF + timedelta(days=2), settings=billops_home)
    items.act("E2", "claim", actor="sam", role="billing_specialist", channel="cli", version=1,
              settings=billops_home)
    items.act("E2", "snooze", actor="sam", role="billing_specialist", channel="cli", version=2,
              until=AS_OF + timedelta(days=2), settings=billops_home)
    assert synced(billops_home, [exception("E1"), exception("E2")],
                  as_of=AS_OF + timedelta(days=1))["woken"] == 0
    assert synced(billops_home, [exception("E1"), exception("E2")],
                  as_of=AS_OF + timedelta(days=2))["woken"] == 2
    assert (_status(billops_home, "E1"), _status(billops_home, "E2")) == ("OPEN", "ASSIGNED")


def test_breach_is_judged_at_the_latest_data_as_of(billops_home: Settings) -> None:
    synced(billops_home, [exception("E1")])
    due = items.get_item("E1", billops_home).due_at
    assert not items.get_item("E1", billops_home).breached
    synced(billops_home, [exception("E1")], as_of=due)
    assert not items.get_item("E1", billops_home).breached  # at the due time: not yet late
    synced(billops_home, [exception("E1")], as_of=due + timedelta(minutes=1))
    assert items.get_item("E1", billops_home).breached


def test_new_facts_refresh_without_a_new_version(billops_home: Settings) -> None:
    synced(billops_home, [exception("E1", amount="10.00", score=1.0)])
    result = synced(billops_home, [exception("E1", amount="12.00", score=2.0)])
    item = items.get_item("E1", billops_home)
    assert result["refreshed"] == 1
    assert (str(item.amount_at_risk), item.priority_score, item.version) == ("12.00", 2.0, 1)


def test_a_changed_rule_routes_the_next_new_items_without_code(billops_home: Settings,
                                                              tmp_path: Path) -> None:
    synced(billops_home, [exception("OLD", "LATE_CHARGE")])
    assert items.get_item("OLD", billops_home).queue == "CODING"
    edited = tmp_path / "routing.csv"
    edited.write_text(DEFAULT_FILE.read_text().replace(
        "LATE_CHARGE,LATE_CHARGE,*,*,,,CODING,80,BILLING",
        "LATE_CHARGE,LATE_CHARGE,*,*,,,BILLING,24,FINANCE"))
    version = load_routing(edited, actor="ops-lead", channel="cli", settings=billops_home)
    assert version.loaded and version.version_id == 2
    synced(billops_home, [exception("OLD", "LATE_CHARGE"), exception("NEW", "LATE_CHARGE")])
    new = items.get_item("NEW", billops_home)
    assert (new.queue, new.escalation_queue) == ("BILLING", "FINANCE")
    assert items.get_item("OLD", billops_home).queue == "CODING"  # routed once, when opened


def test_the_sync_reads_no_patient_and_records_its_as_of(billops_home: Settings) -> None:
    with marts([exception("E1", patient="MRN-SECRET-9")]) as con:
        sync_from_marts(con, as_of=AS_OF, settings=billops_home)
    eng = ops_store.engine(billops_home)
    with eng.connect() as con:
        for table in ("work_items", "work_item_events", "audit_log", "sync_runs"):
            assert "MRN-SECRET" not in str(con.execute(sa.text(f"select * from {table}")).all())
    with ops_store.read(billops_home) as con:
        assert items.latest_as_of(con) == AS_OF
