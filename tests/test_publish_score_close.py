"""Serving snapshot, work-queue scoring and the month-end close package on a small warehouse."""

from __future__ import annotations

import json
import math
import threading
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from billops.close import close_period, last_complete_period
from billops.config import Settings
from billops.errors import BillopsError
from billops.publish import publish
from billops.scoring import score
from billops.warehouse import connect

MART_COLUMNS = """
    account_id varchar, patient_id varchar, entity varchar, facility_id varchar, payer_id varchar,
    service_date date, period varchar, charge_lines integer, charge_amount decimal(18,2),
    billed_lines integer, billed_amount decimal(18,2), matched_lines integer,
    matched_amount decimal(18,2), unbilled_lines integer, unbilled_amount decimal(18,2),
    billed_not_charged_lines integer, billed_not_charged_amount decimal(18,2),
    variance_amount decimal(18,2), claim_count integer, first_submitted_at timestamp,
    last_submitted_at timestamp, recon_status varchar, as_of timestamp,
    amount_at_risk decimal(18,2), age_days integer, priority_score double
"""

AS_OF = datetime(2026, 11, 1, 4)
ROWS = [
    # account, entity, service_date, charge, billed, matched, unbilled, billed_not_charged, status,
    # amount at risk (the mart's: each dollar once)
    ("A1", "H1", "2026-10-03", 100, 100, 100, 0, 0, "TIED", 0),
    ("A2", "H1", "2026-10-05", 300, 0, 0, 300, 0, "UNBILLED", 300),
    ("A3", "H2", "2026-10-20", 500, 400, 400, 100, 0, "PARTIALLY_BILLED", 100),
    ("A4", "H2", "2026-10-28", 200, 250, 200, 0, 50, "BILLED_WITHOUT_CHARGE", 50),
    ("A5", "H2", "2026-09-30", 80, 95, 80, 0, 0, "AMOUNT_VARIANCE", 15),
]


@pytest.fixture
def warehouse(billops_home: Settings) -> Settings:
    with connect(billops_home) as con:
        con.execute(f"create table marts.fct_account_reconciliation ({MART_COLUMNS})")
        for acc, ent, day, charge, billed, matched, unbilled, bnc, status, at_risk in ROWS:
            age = (AS_OF.date() - date.fromisoformat(day)).days
            con.execute(
                "insert into marts.fct_account_reconciliation values (?, 'P', ?, 'F', 'PAY1', ?, "
                "strftime(cast(? as date), '%Y-%m'), 1, ?, 1, ?, 1, ?, 0, ?, 0, ?, ?, 1, null, null, ?, ?, "
                "?, ?, ?)",
                [acc, ent, day, day, charge, billed, matched, unbilled, bnc, charge - billed, status, AS_OF,
                 at_risk, age, round(at_risk * math.log(2 + age), 4)],
            )
        con.execute("insert into raw._batches values ('ehr', '20261101T020000Z', ?, 'LOADED', null, ?)",
                    [AS_OF, AS_OF])
    return billops_home


def test_score_ranks_each_dollar_once(warehouse: Settings) -> None:
    result = score(warehouse)
    assert result.accounts_scored == 4
    with duckdb.connect(str(warehouse.warehouse), read_only=True) as con:
        rows = dict(con.execute(
            "select account_id, amount_at_risk from ml.account_priorities").fetchall())
        order = [r[0] for r in con.execute(
            "select account_id from ml.account_priorities order by priority_rank").fetchall()]
    # unbilled 300; unbilled 100; 50 billed without charge; 15 over-billed on a matched line
    assert {k: float(v) for k, v in rows.items()} == {"A2": 300, "A3": 100, "A4": 50, "A5": 15}
    assert order[0] == "A2"


def test_score_needs_the_mart(billops_home: Settings) -> None:
    with connect(billops_home):
        pass
    with pytest.raises(BillopsError, match="fct_account_reconciliation"):
        score(billops_home)


def test_publish_is_atomic_and_standalone(warehouse: Settings) -> None:
    target = publish(warehouse)
    assert target == Path(warehouse.serving)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_account_reconciliation").fetchone()[0] == 5
        assert con.execute("select as_of from meta.snapshot").fetchone()[0] == AS_OF
    assert not list(target.parent.glob(".*.tmp"))


def test_readers_keep_the_old_snapshot_while_publishing(warehouse: Settings) -> None:
    publish(warehouse)
    reader = duckdb.connect(str(warehouse.serving), read_only=True)
    try:
        done = threading.Event()
        threading.Thread(target=lambda: (publish(warehouse), done.set())).start()
        assert done.wait(60)
        assert reader.execute("select count(*) from marts.fct_account_reconciliation").fetchone()[0] == 5
    finally:
        reader.close()


def test_close_package_is_complete_locked_and_idempotent(warehouse: Settings) -> None:
    assert last_complete_period(warehouse) == "2026-10"
    pkg = close_period("2026-10", settings=warehouse)
    manifest = json.loads((pkg.folder / "_close_manifest.json").read_text())
    assert manifest["status"] == "LOCKED" and manifest["accounts"] == 4
    assert {f["path"] for f in manifest["files"]} == {"open_items.csv", "reconciliation_by_entity.csv"}
    open_items = (pkg.folder / "open_items.csv").read_text().splitlines()
    assert open_items[1].startswith("A2,")  # largest amount at risk first
    assert len(open_items) == 1 + 3
    again = close_period("2026-10", settings=warehouse)
    assert again.folder == pkg.folder
    # new data after the close: the locked period is refused unless reopened
    with connect(warehouse) as con:
        con.execute("insert into raw._batches values ('ehr', '20261102T020000Z', "
                    "timestamp '2026-11-02 02:00', 'LOADED', null, now())")
    with pytest.raises(BillopsError, match="locked"):
        close_period("2026-10", settings=warehouse)
    assert close_period("2026-10", settings=warehouse, reopen=True).accounts == 4


@pytest.mark.parametrize("period", ["2026-13", "26-10", "October", ""])
def test_close_rejects_bad_periods(warehouse: Settings, period: str) -> None:
    with pytest.raises(BillopsError, match="YYYY-MM"):
        close_period(period, settings=warehouse)
