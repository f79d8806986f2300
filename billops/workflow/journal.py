"""The GL journal export of approved adjustments (issue 15 point 3, docs/workflow.md).

An approved write-off, refund or adjustment takes effect in the general ledger: ``export_journal``
writes every approved adjustment not yet exported as one balanced journal in the ERP's import
layout, exactly the columns of the ERP extract ``gl_journal_lines.csv``
(:data:`JOURNAL_COLUMNS`), so that the ERP imports the file and its next extract carries the
journal back (then :mod:`billops.workflow.posting` marks the adjustment POSTED).

Each journal has two lines, debit then credit (:data:`POSTINGS`):

* write_off: Dr WRITE_OFF, Cr PATIENT_AR (the balance leaves AR as a write-off);
* refund: Dr PATIENT_AR, Cr REFUNDS_PAYABLE (the credit balance becomes a refund owed, as the
  ERP's own refund journals post it);
* adjustment: Dr CONTRACTUAL_ALLOWANCE, Cr PATIENT_AR (an adjustment lowers what is owed, like the
  payer's contractual adjustments).

Accounts are found by ``account_type`` in the warehouse's chart of accounts for the adjustment's
entity (read-only; the lowest account number when an entity has several of a type), never by
number. ``created_by`` is the requester, ``approved_by`` the approver, ``reference`` the patient
account, the description names the adjustment. ``posting_date`` is the data's as-of date when
the approval was given (the latest sync before it), never the wall clock. ``journal_id`` is
derived from the adjustment id, so an export is idempotent: a second export finds nothing to
write.

The file is written to a temporary file and renamed into place, owner-only; the adjustments are
marked exported (``exported_at``, ``journal_id``) with one audit row each in the transaction that
commits after the rename, so the file and the store never disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings, get_settings
from billops.errors import BillopsError, ConflictError
from billops.fs_security import write_owner_only
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect
from billops.workflow.adjustments import Adjustment, _adjustment
from billops.workflow.tables import adjustment_requests, sync_runs
from billops.workflow.vocabulary import ADMIN, APPROVED, APPROVER

JOURNAL_COLUMNS: tuple[str, ...] = (
    "journal_id", "line_no", "entity", "posting_date", "period", "account", "debit", "credit",
    "source", "reference", "description", "created_by", "approved_by")
# kind -> (account type debited, account type credited)
POSTINGS: dict[str, tuple[str, str]] = {
    "write_off": ("WRITE_OFF", "PATIENT_AR"),
    "refund": ("PATIENT_AR", "REFUNDS_PAYABLE"),
    "adjustment": ("CONTRACTUAL_ALLOWANCE", "PATIENT_AR"),
}
JOURNAL_PREFIX = "ADJ-"
JOURNAL_SOURCE = "BILLOPS"
EXPORTER_ROLES = frozenset({APPROVER, ADMIN})
CHART = "staging.stg_erp__chart_of_accounts"
ACCOUNTS = "marts.fct_account_reconciliation"
_ZERO = "0.00"


def journal_id_of(adjustment_id: str) -> str:
    """The GL journal id of an adjustment: stable, so a re-export is recognised."""
    return f"{JOURNAL_PREFIX}{adjustment_id}"


@dataclass(frozen=True)
class Journal:
    adjustment: Adjustment
    journal_id: str
    lines: tuple[dict[str, str], ...]


@dataclass
class ExportSummary:
    """What an export wrote: the journals, their lines and dollars, and the file."""

    journals: int = 0
    lines: int = 0
    debits: Decimal = Decimal("0.00")
    file: Path | None = None
    journal_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"journals": self.journals, "lines": self.lines, "debits": str(self.debits),
                "file": str(self.file) if self.file else None, "journal_ids": self.journal_ids}


# ----------------------------------------------------------------------------- reading


def _pending(con: sa.Connection) -> list[Adjustment]:
    """Approved adjustments not yet exported, oldest decision first."""
    query = (sa.select(adjustment_requests)
             .where(adjustment_requests.c.status == APPROVED,
                    adjustment_requests.c.exported_at.is_(None))
             .order_by(adjustment_requests.c.decided_at, adjustment_requests.c.adjustment_id))
    return [_adjustment(row) for row in con.execute(query).all()]


def approval_as_of(con: sa.Connection, decided_at: datetime | None) -> datetime | None:
    """The data's as-of time when a decision was taken: that of the latest sync before it (the
    first sync's when the decision came before any)."""
    runs = sa.select(sync_runs.c.as_of)
    before = con.execute(runs.where(sync_runs.c.synced_at <= decided_at)
                         .order_by(sync_runs.c.sync_id.desc()).limit(1)).scalar_one_or_none()
    if before is not None or decided_at is None:
        return before
    return con.execute(runs.order_by(sync_runs.c.sync_id).limit(1)).scalar_one_or_none()


def _placeholders(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _read_warehouse(settings: Settings, accounts: list[str]) -> tuple[
        dict[tuple[str, str], str], dict[str, str], datetime | None]:
    """(entity, account_type) -> account of the chart; account_id -> entity; the as-of time."""
    types = sorted({t for pair in POSTINGS.values() for t in pair})
    with connect(settings, read_only=True) as con:
        try:
            chart = con.execute(
                f"select entity, account_type, min(account) from {CHART} "
                f"where account_type in ({_placeholders(types)}) group by entity, account_type",
                types).fetchall()
            entities = con.execute(
                f"select account_id, min(entity) from {ACCOUNTS} "
                f"where account_id in ({_placeholders(accounts)}) group by account_id",
                accounts).fetchall() if accounts else []
        except duckdb.CatalogException as exc:
            raise BillopsError(f"{CHART} or {ACCOUNTS} not found; run 'billops run' "
                               "first") from exc
        stamp = warehouse_as_of(con)
    return ({(e, t): a for e, t, a in chart}, dict(entities), stamp)


# ----------------------------------------------------------------------------- building


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):.2f}"


def build_journal(adjustment: Adjustment, entity: str, chart: dict[tuple[str, str], str],
                  posting: date) -> Journal:
    """The balanced two-line journal of one approved adjustment."""
    where = f"adjustment {adjustment.adjustment_id}"
    if adjustment.decided_by is None:
        raise BillopsError(f"{where}: approved without an approver")
    journal_id = journal_id_of(adjustment.adjustment_id)
    amount = _money(adjustment.amount)
    common = {"journal_id": journal_id, "entity": entity, "posting_date": posting.isoformat(),
              "period": f"{posting:%Y-%m}", "source": JOURNAL_SOURCE,
              "reference": adjustment.account_id,
              "description": f"billops {adjustment.kind} {adjustment.adjustment_id}",
              "created_by": adjustment.requested_by, "approved_by": adjustment.decided_by}
    lines = []
    for line_no, (account_type, debit, credit) in enumerate(
            ((POSTINGS[adjustment.kind][0], amount, _ZERO),
             (POSTINGS[adjustment.kind][1], _ZERO, amount)), 1):
        account = chart.get((entity, account_type))
        if account is None:
            raise BillopsError(f"{where}: the chart of accounts of entity {entity} has no "
                               f"{account_type} account")
        lines.append({**common, "line_no": str(line_no), "account": account, "debit": debit,
                      "credit": credit})
    return Journal(adjustment, journal_id, tuple(
        {column: line[column] for column in JOURNAL_COLUMNS} for line in lines))


def _entity(adjustment: Adjustment, entities: dict[str, str]) -> str:
    entity = adjustment.entity or entities.get(adjustment.account_id)
    if not entity:
        raise BillopsError(f"adjustment {adjustment.adjustment_id}: account "
                           f"{adjustment.account_id} has no entity (not in {ACCOUNTS})")
    return entity


def _posting_date(con: sa.Connection, adjustment: Adjustment, fallback: datetime | None) -> date:
    stamp = approval_as_of(con, adjustment.decided_at) or fallback
    if stamp is None:
        raise BillopsError(f"adjustment {adjustment.adjustment_id}: no data as-of time (no sync "
                           "and no loaded batch)")
    return stamp.date()


def plan_journals(settings: Settings | None = None) -> list[Journal]:
    """The journals an export would write now (the approved adjustments not yet exported)."""
    settings = settings or get_settings()
    with ops_store.read(settings) as con:
        pending = _pending(con)
        if not pending:
            return []
        missing = sorted({a.account_id for a in pending if not a.entity})
        chart, entities, stamp = _read_warehouse(settings, missing)
        return [build_journal(a, _entity(a, entities), chart, _posting_date(con, a, stamp))
                for a in pending]


# ----------------------------------------------------------------------------- writing


def _free_path(folder: Path, stem: str) -> Path:
    path, n = folder / f"{stem}.csv", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}.csv"
    return path


def write_atomically(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """The journal lines as CSV, owner-only and renamed into place (fs_security)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=JOURNAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_owner_only(path, buffer.getvalue())


def _out_folder(out_dir: Path | None, settings: Settings) -> Path:
    folder = Path(out_dir) if out_dir is not None else settings.home / "journals"
    if folder.exists() and not folder.is_dir():
        raise BillopsError(f"--out {folder}: not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BillopsError(f"--out {folder}: cannot create the folder ({exc.strerror})") from exc
    return folder


def _mark_exported(con: sa.Connection, journals: list[Journal], actor: str, channel: str,
                   file_name: str) -> None:
    now = ops_store._now()
    for journal in journals:
        adjustment = journal.adjustment
        updated = con.execute(sa.update(adjustment_requests).where(
            adjustment_requests.c.adjustment_id == adjustment.adjustment_id,
            adjustment_requests.c.version == adjustment.version,
            adjustment_requests.c.status == APPROVED,
            adjustment_requests.c.exported_at.is_(None)).values(
                exported_at=now, journal_id=journal.journal_id,
                version=adjustment.version + 1))
        if updated.rowcount == 0:
            raise ConflictError(f"adjustment {adjustment.adjustment_id}: changed or exported by "
                                "someone else meanwhile; export again")
        ops_store.append_audit(con, ops_store.AuditEvent(
            "adjustment_requests", adjustment.adjustment_id, "EXPORT", actor, channel=channel,
            outcome="EXPORTED",
            before={"status": APPROVED, "journal_id": None, "version": adjustment.version},
            after={"status": APPROVED, "journal_id": journal.journal_id,
                   "version": adjustment.version + 1},
            detail={"file": file_name, "lines": len(journal.lines),
                    "posting_date": journal.lines[0]["posting_date"]}))


def export_journal(out_dir: Path | None, *, actor: str, channel: str = "cli",
                   settings: Settings | None = None) -> ExportSummary:
    """Write the approved, not yet exported adjustments as one GL journal file; mark them
    exported with an audit row each. Nothing to export writes nothing."""
    settings = settings or get_settings()
    actor = (actor or "").strip()
    if not actor:
        raise BillopsError("an export needs --by (who exports)")
    journals = plan_journals(settings)
    summary = ExportSummary()
    if not journals:
        return summary
    folder = _out_folder(out_dir, settings)
    first = journals[0].lines[0]["posting_date"].replace("-", "")
    path = _free_path(folder, f"gl_journal_import_{first}")
    rows = [line for journal in journals for line in journal.lines]
    committed = False
    try:
        def mark(con: sa.Connection) -> None:
            _mark_exported(con, journals, actor, channel, path.name)
            write_atomically(path, rows)  # renamed into place just before the commit

        ops_store.write(mark, settings)
        committed = True
    finally:
        if not committed:
            path.unlink(missing_ok=True)
    summary.journals, summary.lines, summary.file = len(journals), len(rows), path
    summary.debits = sum((Decimal(r["debit"]) for r in rows), Decimal("0.00"))
    summary.journal_ids = [j.journal_id for j in journals]
    return summary
