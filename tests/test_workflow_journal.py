"""The GL journal export of approved adjustments (billops.workflow.journal) and its return as
POSTED (billops.workflow.posting), on a stand-in warehouse: the ERP's import layout, one balanced
journal per adjustment with accounts found by type, the approval's data as-of date, a stable
journal id, owner-only atomic files, one audit row per journal, and an idempotent re-export."""

from __future__ import annotations

import csv
import stat
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from workflow_support import AS_OF, add_users, exception, synced

from billops import ops_store
from billops.auth import add_user
from billops.cli import main
from billops.config import Settings
from billops.errors import BillopsError
from billops.raw_schema import TABLES
from billops.warehouse import connect
from billops.workflow import adjustments as adj
from billops.workflow import journal
from billops.workflow.posting import post_imported_journals

CHART = [  # the generator's numbers are not used: accounts are found by type
    ("H1", "1210", "PATIENT_AR"), ("H1", "7710", "WRITE_OFF"), ("H1", "2410", "REFUNDS_PAYABLE"),
    ("H1", "4810", "CONTRACTUAL_ALLOWANCE"), ("H1", "7700", "BAD_DEBT"),
    ("H2", "1299", "PATIENT_AR"), ("H2", "7799", "WRITE_OFF"),
]


def _warehouse(settings: Settings, gl_lines: list[dict[str, str]] | None = None) -> None:
    with connect(settings) as con:
        con.execute("create or replace table staging.stg_erp__chart_of_accounts "
                    "(entity varchar, account varchar, account_type varchar)")
        con.executemany("insert into staging.stg_erp__chart_of_accounts values (?, ?, ?)", CHART)
        con.execute("create or replace table marts.fct_account_reconciliation "
                    "(account_id varchar, entity varchar)")
        con.execute("insert into marts.fct_account_reconciliation values ('A2', 'H2')")
        con.execute("create or replace table marts.fct_gl_lines (journal_id varchar, "
                    "debit_amount decimal(18, 2), credit_amount decimal(18, 2), _batch_id varchar)")
        for line in gl_lines or []:
            con.execute("insert into marts.fct_gl_lines values (?, ?, ?, ?)",
                        [line["journal_id"], line["debit"], line["credit"], "20261205T060000Z"])


@pytest.fixture()
def store(billops_home: Settings) -> Settings:
    add_users(billops_home)  # sam: billing_specialist, amy: approver (up to 1000.00)
    add_user("fin", "approver", tier="finance_director", actor="root", settings=billops_home)
    synced(billops_home, [exception("E1")])  # the data's as-of time: AS_OF
    _warehouse(billops_home)
    return billops_home


def _approved(settings: Settings, kind: str = "write_off", amount: str = "1500.00",
              account: str = "A1", entity: str | None = "H1") -> adj.Adjustment:
    made = adj.request_adjustment(account, kind, amount, "small balance", actor="sam",
                                  role="billing_specialist", channel="cli", entity=entity,
                                  settings=settings)
    return adj.approve(made.adjustment_id, actor="fin", role="approver", channel="cli",
                       settings=settings)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_layout_is_the_erp_extract_of_gl_journal_lines() -> None:
    assert tuple(TABLES["gl_journal_lines"].columns) == journal.JOURNAL_COLUMNS


@pytest.mark.parametrize(("kind", "debit_type", "credit_type"), [
    ("write_off", "WRITE_OFF", "PATIENT_AR"),
    ("refund", "PATIENT_AR", "REFUNDS_PAYABLE"),
    ("adjustment", "CONTRACTUAL_ALLOWANCE", "PATIENT_AR"),
])
def test_one_balanced_journal_per_adjustment_with_accounts_by_type(
        store: Settings, tmp_path: Path, kind: str, debit_type: str, credit_type: str) -> None:
    made = _approved(store, kind, "1234.50")
    summary = journal.export_journal(tmp_path / "out", actor="fin", settings=store)
    lines = _read(summary.file)
    by_type = {t: a for e, a, t in CHART if e == "H1"}
    assert [(r["line_no"], r["account"], r["debit"], r["credit"]) for r in lines] == [
        ("1", by_type[debit_type], "1234.50", "0.00"), ("2", by_type[credit_type], "0.00", "1234.50")]
    for row in lines:
        assert list(row) == list(journal.JOURNAL_COLUMNS)
        assert row["journal_id"] == f"ADJ-{made.adjustment_id}" == journal.journal_id_of(
            made.adjustment_id)
        assert (row["entity"], row["reference"], row["created_by"], row["approved_by"]) == (
            "H1", "A1", "sam", "fin")
        # the approval's data as-of date, not the day the test runs
        assert (row["posting_date"], row["period"]) == (AS_OF.date().isoformat(), "2026-12")
        assert made.adjustment_id in row["description"] and kind in row["description"]
    assert (summary.journals, summary.lines, summary.debits) == (1, 2, Decimal("1234.50"))


def test_the_entity_comes_from_the_warehouse_when_the_request_named_none(store: Settings,
                                                                          tmp_path: Path) -> None:
    _approved(store, account="A2", entity=None)
    lines = _read(journal.export_journal(tmp_path, actor="fin", settings=store).file)
    assert [(r["entity"], r["account"]) for r in lines] == [("H2", "7799"), ("H2", "1299")]


def test_export_marks_exported_in_one_transaction_with_an_audit_row_and_a_second_writes_nothing(
        store: Settings, tmp_path: Path) -> None:
    first, second = _approved(store), _approved(store, amount="20.00")
    pending = adj.request_adjustment("A1", "write_off", "5.00", "tiny", actor="sam",
                                     role="billing_specialist", channel="cli", entity="H1",
                                     settings=store)
    out = tmp_path / "out"
    summary = journal.export_journal(out, actor="fin", settings=store)
    assert summary.journals == 2 and summary.lines == 4
    mode = stat.S_IMODE(summary.file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert not list(out.glob(".*partial"))
    for made in (first, second):
        now = adj.get_adjustment(made.adjustment_id, settings=store)
        assert now.journal_id == journal.journal_id_of(made.adjustment_id)
        assert now.exported_at is not None and now.status == "APPROVED"
        assert now.version == made.version + 1
        trail = ops_store.audit_entries(record_id=made.adjustment_id, settings=store)
        assert [(e["operation"], e["actor"], e["outcome"]) for e in trail][-1] == (
            "EXPORT", "fin", "EXPORTED")
        assert trail[-1]["after"]["journal_id"] == now.journal_id
    assert adj.get_adjustment(pending.adjustment_id, settings=store).journal_id is None

    again = journal.export_journal(out, actor="fin", settings=store)
    assert again.file is None and again.journals == 0
    assert sorted(p.name for p in out.iterdir()) == [summary.file.name]
    assert ops_store.verify_chain(store).ok


def test_a_chart_without_the_account_type_refuses_and_records_nothing(store: Settings,
                                                                      tmp_path: Path) -> None:
    made = _approved(store, "refund", "10.00", account="A2", entity="H2")  # H2: no REFUNDS_PAYABLE
    with pytest.raises(BillopsError, match=f"adjustment {made.adjustment_id}: the chart of "
                                           "accounts of entity H2 has no REFUNDS_PAYABLE account"):
        journal.export_journal(tmp_path / "out", actor="fin", settings=store)
    assert adj.get_adjustment(made.adjustment_id, settings=store).exported_at is None
    assert not (tmp_path / "out").exists()


def test_the_journal_coming_back_in_the_gl_marks_the_adjustment_posted(store: Settings,
                                                                       tmp_path: Path) -> None:
    made, other = _approved(store), _approved(store, amount="30.00")
    lines = _read(journal.export_journal(tmp_path, actor="fin", settings=store).file)
    mine = [r for r in lines if r["journal_id"] == journal.journal_id_of(made.adjustment_id)]
    # the GL carries the first journal, and the second one with another amount
    changed = [{**r, "debit": "31.00" if r["debit"] != "0.00" else "0.00",
                "credit": "31.00" if r["credit"] != "0.00" else "0.00"}
               for r in lines if r["journal_id"] == journal.journal_id_of(other.adjustment_id)]
    _warehouse(store, mine + changed)
    later = datetime(2026, 12, 5, 6, 0)
    with connect(store, read_only=True) as con:
        counts = post_imported_journals(con, as_of=later, settings=store)
        assert counts == {"posted": 1, "mismatched": 1, "waiting": 0}
        assert post_imported_journals(con, as_of=later, settings=store) == {
            "posted": 0, "mismatched": 1, "waiting": 0}
    posted = adj.get_adjustment(made.adjustment_id, settings=store)
    assert posted.status == "POSTED" and posted.decided_by == "fin"
    assert adj.get_adjustment(other.adjustment_id, settings=store).status == "APPROVED"
    assert [a.adjustment_id for a in adj.list_adjustments("POSTED", settings=store)] == [
        made.adjustment_id]
    last = ops_store.audit_entries(record_id=made.adjustment_id, settings=store)[-1]
    assert (last["operation"], last["actor"], last["channel"], last["outcome"]) == (
        "POST", "billops", "pipeline", "POSTED")
    assert '"batch_id": "20261205T060000Z"' in last["detail"]
    assert ops_store.verify_chain(store).ok


def test_cli_export_journal(store: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _approved(store)
    assert main(["adjustments", "export-journal", "--by", "sam", "--out", str(tmp_path)]) != 0
    assert "may not export journals" in capsys.readouterr().err
    assert main(["adjustments", "export-journal", "--by", "fin", "--out", str(tmp_path)]) == 0
    assert "1 journal(s), 2 lines, debits 1500.00" in capsys.readouterr().out
    assert main(["adjustments", "export-journal", "--by", "fin", "--out", str(tmp_path)]) == 0
    assert "nothing to export" in capsys.readouterr().out
    assert len(list(tmp_path.glob("gl_journal_import_*.csv"))) == 1


def test_a_store_whose_constraint_predates_posted_is_left_approved_with_a_warning(
        store: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    made = _approved(store)
    lines = _read(journal.export_journal(tmp_path, actor="fin", settings=store).file)
    with ops_store.begin(store) as con:  # the table as an earlier release created it
        ddl = con.exec_driver_sql("select sql from sqlite_master where name = "
                                  "'adjustment_requests'").scalar_one()
        assert ", 'POSTED')" in ddl
        con.exec_driver_sql("alter table adjustment_requests rename to old_requests")
        con.exec_driver_sql(ddl.replace(", 'POSTED')", ")"))
        con.exec_driver_sql("insert into adjustment_requests select * from old_requests")
        con.exec_driver_sql("drop table old_requests")
    _warehouse(store, lines)
    with connect(store, read_only=True) as con:
        counts = post_imported_journals(con, as_of=datetime(2026, 12, 5), settings=store)
    assert counts == {"posted": 0, "mismatched": 0, "waiting": 1}
    assert "refuses status POSTED" in caplog.text
    assert adj.get_adjustment(made.adjustment_id, settings=store).status == "APPROVED"
