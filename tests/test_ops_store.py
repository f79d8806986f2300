"""The operational store (billops.ops_store): one cached engine per URL, one-line errors, and
the copy of the work items' statuses into the warehouse before dbt runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from workflow_support import add_users, exception, synced

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError
from billops.workflow import items


def test_one_engine_per_url_tables_created_once(billops_home: Settings, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    first = ops_store.engine(billops_home)
    calls: list[object] = []
    monkeypatch.setattr(ops_store, "_create_tables", lambda eng: calls.append(eng))
    assert all(ops_store.engine(billops_home) is first for _ in range(100))
    assert calls == []
    other = billops_home.model_copy(update={"ops_url": f"sqlite:///{tmp_path / 'other.sqlite'}"})
    assert ops_store.engine(other) is not first and calls == [ops_store.engine(other)]


def test_tables_declared_later_are_created_on_the_next_call(billops_home: Settings) -> None:
    ops_store.engine(billops_home)
    late = sa.Table("late_table", ops_store.metadata, sa.Column("x", sa.Integer))
    try:
        assert sa.inspect(ops_store.engine(billops_home)).has_table("late_table")
    finally:
        ops_store.metadata.remove(late)


def test_unusable_url_is_one_line_error(billops_home: Settings) -> None:
    settings = billops_home.model_copy(update={"ops_url": "nosuchdialect://x"})
    with pytest.raises(BillopsError) as caught:
        ops_store.verify_chain(settings)
    assert "operational store" in str(caught.value) and "\n" not in str(caught.value)


def test_password_is_not_in_the_error(billops_home: Settings) -> None:
    settings = billops_home.model_copy(
        update={"ops_url": "postgresql+psycopg2://ops:s3cret@127.0.0.1:1/ops?connect_timeout=1"}
    )
    with pytest.raises(BillopsError) as caught:
        ops_store.audit_entries(settings=settings)
    assert "s3cret" not in str(caught.value)


def test_sync_copies_the_work_items_statuses_into_the_warehouse(billops_home: Settings) -> None:
    con = duckdb.connect(":memory:")
    # an empty store still gives dbt its source table
    assert ops_store.sync_exception_status(con, billops_home) == 0
    assert con.execute("select count(*) from ops.exception_status").fetchone() == (0,)
    add_users(billops_home)
    synced(billops_home, [exception("E1"), exception("E2"), exception("E3")])
    items.act("E1", "assign", actor="sam", role="billing_specialist", channel="cli", version=1,
              assignee="sue", settings=billops_home)
    items.act("E2", "resolve", actor="sue", role="billing_specialist", channel="cli", version=1,
              resolution_code="POSTED", settings=billops_home)
    assert ops_store.sync_exception_status(con, billops_home) == 3
    rows = con.execute("select exception_id, status, assignee, note, acted_by "
                       "from ops.exception_status order by 1").fetchall()
    assert rows == [("E1", "ASSIGNED", "sue", None, "sam"), ("E2", "RESOLVED", None, "POSTED", "sue"),
                    ("E3", "OPEN", None, None, "billops")]
    # a second sync replaces, never appends
    assert ops_store.sync_exception_status(con, billops_home) == 3
    assert con.execute("select count(*) from ops.exception_status").fetchone() == (3,)
