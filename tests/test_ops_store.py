"""The operational store (SQLite by default): actions, latest status, audit trail, warehouse sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError

T0 = datetime(2026, 11, 2, 9, 0)


def test_latest_action_is_the_status(billops_home: Settings) -> None:
    ops_store.record_action("E1", "in_progress", "analyst1", assignee="biller7", acted_at=T0)
    ops_store.record_action(
        "E1", "RESOLVED", "biller7", note="rebilled", acted_at=T0 + timedelta(hours=2)
    )
    ops_store.record_action("E2", "DISMISSED", "analyst1", note="expected variance", acted_at=T0)
    # recorded later but acted earlier (a late sync from a queue): does not win
    ops_store.record_action("E2", "OPEN", "analyst2", acted_at=T0 - timedelta(days=1))
    latest = {s.exception_id: s for s in ops_store.latest_statuses(billops_home)}
    assert {k: v.status for k, v in latest.items()} == {"E1": "RESOLVED", "E2": "DISMISSED"}
    assert latest["E1"].note == "rebilled" and latest["E1"].acted_by == "biller7"
    assert latest["E1"].acted_at == T0 + timedelta(hours=2)


def test_same_time_actions_keep_recording_order(billops_home: Settings) -> None:
    ops_store.record_action("E1", "IN_PROGRESS", "a", acted_at=T0)
    ops_store.record_action("E1", "RESOLVED", "a", acted_at=T0)
    assert [s.status for s in ops_store.latest_statuses(billops_home)] == ["RESOLVED"]


def test_aware_times_are_stored_in_utc(billops_home: Settings) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 2, 4, 0, tzinfo=ZoneInfo("America/New_York"))
    ops_store.record_action("E1", "OPEN", "a", acted_at=local)
    assert ops_store.latest_statuses(billops_home)[0].acted_at == datetime(2026, 11, 2, 9, 0)
    assert local.astimezone(UTC).hour == 9


def test_every_action_is_audited(billops_home: Settings) -> None:
    first = ops_store.record_action("E1", "IN_PROGRESS", "analyst1", assignee="b7", acted_at=T0)
    ops_store.record_action("E2", "RESOLVED", "analyst1", acted_at=T0)
    trail = ops_store.audit_trail("E1", billops_home)
    assert len(trail) == 1
    row = trail[0]
    assert (row["table_name"], row["record_id"], row["operation"], row["actor"]) == (
        "exception_actions",
        str(first),
        "INSERT",
        "analyst1",
    )
    assert '"assignee": "b7"' in row["detail"]
    assert len(ops_store.audit_trail(settings=billops_home)) == 2


@pytest.mark.parametrize(
    ("exception_id", "status", "actor", "message"),
    [
        ("E1", "DONE", "a", "status 'DONE' is not one of OPEN, IN_PROGRESS, RESOLVED, DISMISSED"),
        ("E1", "", "a", "status '(empty)' is not one of"),
        (" ", "OPEN", "a", "needs an exception_id"),
        ("E1", "OPEN", "", "needs acted_by"),
    ],
)
def test_bad_actions_are_refused_and_write_nothing(
    billops_home: Settings, exception_id: str, status: str, actor: str, message: str
) -> None:
    with pytest.raises(BillopsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ops_store.record_action(exception_id, status, actor)
    assert ops_store.latest_statuses(billops_home) == []
    assert ops_store.audit_trail(settings=billops_home) == []


def test_the_database_refuses_an_unknown_status(billops_home: Settings) -> None:
    engine = ops_store.engine(billops_home)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as con:
        con.execute(
            sa.insert(ops_store.exception_actions).values(
                exception_id="E1", status="MAYBE", acted_by="x", acted_at=T0
            )
        )
    engine.dispose()


def test_unusable_url_is_one_line_error(billops_home: Settings) -> None:
    settings = billops_home.model_copy(update={"ops_url": "nosuchdialect://x"})
    with pytest.raises(BillopsError) as caught:
        ops_store.latest_statuses(settings)
    assert "operational store" in str(caught.value) and "\n" not in str(caught.value)


def test_password_is_not_in_the_error(billops_home: Settings) -> None:
    settings = billops_home.model_copy(
        update={"ops_url": "postgresql+psycopg2://ops:s3cret@127.0.0.1:1/ops?connect_timeout=1"}
    )
    with pytest.raises(BillopsError) as caught:
        ops_store.latest_statuses(settings)
    assert "s3cret" not in str(caught.value)


def test_sync_copies_the_latest_status_into_the_warehouse(billops_home: Settings) -> None:
    con = duckdb.connect(":memory:")
    # an empty store still gives dbt its source table
    assert ops_store.sync_exception_status(con, billops_home) == 0
    assert con.execute("select count(*) from ops.exception_status").fetchone() == (0,)
    ops_store.record_action("E1", "IN_PROGRESS", "a", assignee="b7", acted_at=T0)
    ops_store.record_action("E1", "RESOLVED", "b7", note="paid", acted_at=T0 + timedelta(days=1))
    ops_store.record_action("E2", "IN_PROGRESS", "a", assignee="b8", acted_at=T0)
    assert ops_store.sync_exception_status(con, billops_home) == 2
    rows = con.execute(
        "select exception_id, status, assignee, note, acted_by, acted_at "
        "from ops.exception_status order by 1"
    ).fetchall()
    assert rows == [
        ("E1", "RESOLVED", None, "paid", "b7", T0 + timedelta(days=1)),
        ("E2", "IN_PROGRESS", "b8", None, "a", T0),
    ]
    # a second sync replaces, never appends
    assert ops_store.sync_exception_status(con, billops_home) == 2
    assert con.execute("select count(*) from ops.exception_status").fetchone() == (2,)
