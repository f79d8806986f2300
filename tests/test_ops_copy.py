"""billops.ops_copy: the work queue copied into the warehouse before dbt (ops.work_items,
ops.work_item_events): tables even for an empty store, the store's rows, never a free-text
reason, and a second copy replaces the first."""

from __future__ import annotations

import duckdb
from workflow_support import add_users, exception, synced

from billops.config import Settings
from billops.ops_copy import EVENT_COLUMNS, ITEM_COLUMNS, copy_work_queue
from billops.workflow.items import act, list_items


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"describe {table}").fetchall()]


def test_an_empty_store_gives_empty_tables_dbt_can_read(billops_home: Settings) -> None:
    con = duckdb.connect()
    assert copy_work_queue(con, billops_home) == {"work_items": 0, "work_item_events": 0}
    assert _columns(con, "ops.work_items") == [c for c, _ in ITEM_COLUMNS]
    assert _columns(con, "ops.work_item_events") == [c for c, _ in EVENT_COLUMNS]


def test_items_and_events_are_copied_without_reasons_and_replaced(billops_home: Settings) -> None:
    add_users(billops_home)
    synced(billops_home, [exception("E1"), exception("E2", "UNDERPAYMENT", amount="5000")])
    item = list_items(settings=billops_home)[0]
    act(item.exception_id, "comment", actor="sam", role="billing_specialist", channel="cli",
        version=item.version, reason="patient called: MRN-SECRET-1", settings=billops_home)
    con = duckdb.connect()
    assert copy_work_queue(con, billops_home) == {"work_items": 2, "work_item_events": 3}
    assert "reason" not in _columns(con, "ops.work_item_events")
    text = str(con.execute("select * from ops.work_item_events").fetchall()) + str(
        con.execute("select * from ops.work_items").fetchall())
    assert "MRN-SECRET" not in text
    events = con.execute("select exception_id, action, actor, as_of from ops.work_item_events "
                         "order by event_id").fetchall()
    assert [(e[1], e[2]) for e in events] == [("open", "billops"), ("open", "billops"),
                                             ("comment", "sam")]
    assert all(e[3] is not None for e in events)  # the data's as-of time of each change
    synced(billops_home, [exception("E1")])  # E2 leaves the marts: auto-resolved
    assert copy_work_queue(con, billops_home) == {"work_items": 2, "work_item_events": 4}
    assert con.execute("select status from ops.work_items where exception_id = 'E2'"
                       ).fetchone() == ("AUTO_RESOLVED",)
