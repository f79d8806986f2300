"""Issue 15 end to end (point 8): on a generated tiny system, the nightly run opens the work
items; a billing specialist claims and resolves an exception; a specialist requests a write-off
and an approver approves it; the journal is exported; the ERP's next extract (a new landing batch
with its manifest, extracted a day later) carries it; the following nightly run shows the
exception still closed, the adjustment POSTED, no WRITE_OFF_UNAPPROVED for its journal (while
the same journal without an approver is flagged), an intact audit chain, and the day's queue
counts in marts.fct_work_queue_daily.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from billops.auth import add_user
from billops.cli import main
from billops.config import Settings, get_settings
from billops.ops_store import verify_chain
from billops.pipeline import run_all
from billops.workflow import adjustments, items
from billops.workflow.journal import JOURNAL_COLUMNS, export_journal
from billops.workflow.vocabulary import RESOLUTION_CODES

pytestmark = pytest.mark.integration

SEED = 11
WRITE_OFF = "1500.00"  # above the default write-off approval threshold (1000.00)
CONTROL_JOURNAL = "JE-E2E-NO-APPROVER"


@dataclass
class Story:
    settings: Settings
    resolved_id: str
    resolved_queue: str
    adjustment_id: str
    journal_id: str
    first_as_of: datetime
    items_after_first_run: int
    opened_in_first_run: int
    second_export: dict[str, Any]
    second_run: dict[str, dict[str, Any]]
    opened_in_mart_after_first_run: int

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def _users(settings: Settings) -> None:
    add_user("bea", "billing_specialist", actor="root", settings=settings)  # works the queue
    add_user("sam", "billing_specialist", actor="root", settings=settings)  # requests
    add_user("fin", "approver", tier="finance_director", actor="root", settings=settings)


def _resolve_one(settings: Settings) -> items.WorkItem:
    """bea claims the highest-priority open item and resolves it."""
    item = items.list_items(status="OPEN", limit=1, settings=settings)[0]
    claimed = items.act(item.exception_id, "claim", actor="bea", role="billing_specialist",
                        channel="dashboard", version=item.version, settings=settings)
    return items.act(item.exception_id, "resolve", actor="bea", role="billing_specialist",
                     channel="dashboard", version=claimed.version,
                     resolution_code=RESOLUTION_CODES[0], settings=settings)


def _write_off(settings: Settings) -> adjustments.Adjustment:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        account, entity = con.execute(
            "select account_id, min(entity) from marts.fct_account_reconciliation "
            "where entity is not null group by account_id order by account_id limit 1").fetchone()
    made = adjustments.request_adjustment(account, "write_off", WRITE_OFF, "small balance",
                                          actor="sam", role="billing_specialist",
                                          channel="api", entity=entity, settings=settings)
    return adjustments.approve(made.adjustment_id, actor="fin", role="approver", channel="api",
                               settings=settings)


def _erp_batch(landing: Path, as_of: datetime, journal_file: Path) -> Path:
    """The ERP's next extract: the imported journal, and the same journal without an approver
    under another id, in a new batch extracted a day after the data's as-of, manifest last."""
    with journal_file.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    control = [{**line, "journal_id": CONTROL_JOURNAL, "approved_by": ""} for line in lines]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=JOURNAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines + control)
    extracted = as_of + timedelta(days=1)
    batch_id = extracted.strftime("%Y%m%dT%H%M%SZ")
    folder = landing / "erp" / batch_id
    folder.mkdir(parents=True)
    data = text.getvalue().encode("utf-8")
    (folder / "gl_journal_lines.csv").write_bytes(data)
    manifest = {"system": "erp", "batch_id": batch_id,
                "extracted_at": extracted.isoformat() + "Z",
                "files": [{"path": "gl_journal_lines.csv",
                           "sha256": hashlib.sha256(data).hexdigest(),
                           "records": len(lines + control)}]}
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _play(settings: Settings, journals: Path) -> Story:
    run_all(settings)
    first_as_of = items.get_item(items.list_items(limit=1, settings=settings)[0].exception_id,
                                 settings=settings).opened_at
    all_items = items.list_items(limit=5000, settings=settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        opened_in_mart = con.execute(
            "select coalesce(sum(opened), 0) from marts.fct_work_queue_daily").fetchone()[0]
    _users(settings)
    resolved = _resolve_one(settings)
    approved = _write_off(settings)
    summary = export_journal(journals, actor="fin", settings=settings)
    assert summary.journals == 1 and summary.file is not None
    second = export_journal(journals, actor="fin", settings=settings)
    _erp_batch(Path(settings.landing), first_as_of, summary.file)  # type: ignore[arg-type]
    second_run = run_all(settings)
    return Story(settings, resolved.exception_id, resolved.queue, approved.adjustment_id,
                 summary.journal_ids[0], first_as_of, len(all_items), len(all_items),
                 second.as_dict(), second_run, int(opened_in_mart))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    from billops.synth import generate

    home = tmp_path_factory.mktemp("home_e2e15")
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("BILLOPS_")]:
            mp.delenv(name)
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        generate(home, scale="tiny", months=1, seed=SEED)
        yield _play(settings, tmp_path_factory.mktemp("journals"))
    get_settings(fresh=True)


def test_the_resolved_exception_stays_closed(story: Story) -> None:
    item = items.get_item(story.resolved_id, settings=story.settings)
    assert item.status in ("RESOLVED", "AUTO_RESOLVED")
    assert item.assignee == "bea" or item.status == "AUTO_RESOLVED"
    shown = story.query("select status from marts.billing_exceptions where exception_id = ?",
                        [story.resolved_id])
    assert shown in ([], [("RESOLVED",)])  # gone from the marts, or shown resolved


def test_the_write_off_is_posted_from_the_next_erp_extract(story: Story) -> None:
    posted = adjustments.get_adjustment(story.adjustment_id, settings=story.settings)
    assert (posted.status, posted.journal_id) == ("POSTED", story.journal_id)
    assert story.second_run["sync_work_items"]["adjustments_posted"] == 1
    assert story.second_export["journals"] == 0 and story.second_export["file"] is None
    lines = story.query("select account_type, debit_amount, credit_amount, approved_by, "
                        "created_by from marts.fct_gl_lines where journal_id = ? order by line_no",
                        [story.journal_id])
    assert lines == [("WRITE_OFF", 1500, 0, "fin", "sam"), ("PATIENT_AR", 0, 1500, "fin", "sam")]


def test_write_off_unapproved_fires_only_for_the_journal_without_an_approver(story: Story) -> None:
    flagged = dict(story.query(
        "select journal_id, amount_at_risk from marts.billing_exceptions "
        "where exception_type = 'WRITE_OFF_UNAPPROVED' and journal_id in (?, ?)",
        [story.journal_id, CONTROL_JOURNAL]))
    assert flagged == {CONTROL_JOURNAL: 1500}


def test_the_audit_chain_verifies(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_chain(story.settings).ok
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLOPS_HOME", str(story.settings.home))
        get_settings(fresh=True)
        assert main(["audit", "verify"]) == 0
    assert "audit trail intact" in capsys.readouterr().out
    get_settings(fresh=True)


def test_the_queue_metrics_show_the_sync_of_the_same_run(story: Story) -> None:
    """work_queue_metrics runs after sync_work_items: the first run's mart already counts the
    items its own sync opened (it does not lag a run)."""
    assert story.opened_in_mart_after_first_run == story.items_after_first_run > 0


def test_the_queue_metrics_hold_the_days_counts(story: Story) -> None:
    day = story.first_as_of.date()
    rows = story.query(
        "select queue, opened, resolved, open_items, resolved_first_pass, "
        "first_pass_resolution_rate from marts.fct_work_queue_daily where as_of_date = ?", [day])
    assert sum(r[1] for r in rows) == story.opened_in_first_run > 0
    assert sum(r[2] for r in rows) == 1
    assert sum(r[3] for r in rows) == story.items_after_first_run - 1
    resolved_row = [r for r in rows if r[0] == story.resolved_queue and r[2] == 1]
    assert len(resolved_row) == 1 and resolved_row[0][4:] == (1, 1)
    served = duckdb.connect(str(story.settings.serving), read_only=True)
    with served:
        assert served.execute("select count(*) from marts.fct_work_queue_daily").fetchone()[0] > 0
