"""The statement release gate (issue 15 point 4, docs/statements.md).

Before patient statements go out, every statement due is re-checked in the warehouse
(``marts.fct_statement_release``: one row per account's latest statement produced within
``statement_cycle_days`` before the as-of time, decided RELEASE or HOLD with its reasons and work
queue). This module reads that mart read-only and never writes the warehouse:

* :func:`plan_release` counts what would be released and held (the dry run);
* :func:`release_statements` writes ``statement_release_<as_of>.csv`` (statement_id, account_id,
  entity, amount) and ``statement_holds_<as_of>.csv`` (the same and reasons, queue), each
  written to a temporary file and renamed into place, owner-only; records every statement it
  releases in the ledger ``statement_releases`` of the operational store, so that a statement
  released once is never released again; and appends one audit row with the counts and dollars.

No PHI reaches the files, the ledger or the audit: no patient id, name, address, birth date or
member id, only statement, account and entity ids and amounts.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.fs_security import write_owner_only
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect

MART = "marts.fct_statement_release"
RELEASE = "RELEASE"
HOLD = "HOLD"
RELEASE_COLUMNS: tuple[str, ...] = ("statement_id", "account_id", "entity", "amount")
HOLD_COLUMNS: tuple[str, ...] = (*RELEASE_COLUMNS, "reasons", "queue")
AUDIT_TABLE = "statement_releases"

statement_releases = sa.Table(
    "statement_releases",
    ops_store.metadata,
    sa.Column("statement_id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64)),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("as_of", sa.DateTime, nullable=False),
    sa.Column("release_file", sa.String(255), nullable=False),
    sa.Column("released_by", sa.String(128), nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)


@dataclass(frozen=True)
class GateRow:
    """One statement due, as the mart decided it."""

    statement_id: str
    account_id: str
    entity: str | None
    amount: Decimal
    decision: str
    reasons: str | None
    queue: str | None


@dataclass
class Tally:
    """A count of statements and their dollars."""

    statements: int = 0
    amount: Decimal = Decimal("0.00")

    def add(self, amount: Decimal) -> None:
        self.statements += 1
        self.amount += amount

    def as_dict(self) -> dict[str, Any]:
        return {"statements": self.statements, "amount": float(self.amount)}


@dataclass
class ReleaseSummary:
    """What a release did (or, dry, would do): due = released + already released + held."""

    as_of: datetime
    dry_run: bool
    due: Tally = field(default_factory=Tally)
    released: Tally = field(default_factory=Tally)
    already_released: Tally = field(default_factory=Tally)
    held: Tally = field(default_factory=Tally)
    held_by_reason: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    held_by_queue: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    release_file: Path | None = None
    hold_file: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "due": self.due.as_dict(),
            "released": self.released.as_dict(),
            "already_released": self.already_released.as_dict(),
            "held": self.held.as_dict(),
            "held_by_reason": {k: v.as_dict() for k, v in sorted(self.held_by_reason.items())},
            "held_by_queue": {k: v.as_dict() for k, v in sorted(self.held_by_queue.items())},
            "release_file": str(self.release_file) if self.release_file else None,
            "hold_file": str(self.hold_file) if self.hold_file else None,
        }


def _read_gate(settings: Settings) -> tuple[datetime, list[GateRow]]:
    """The as-of time and the statements due, from the warehouse, read-only."""
    with connect(settings, read_only=True) as con:
        try:
            rows = con.execute(
                "select statement_id, account_id, entity, amount_due, decision, hold_reasons, "
                f"queue from {MART} order by statement_id"
            ).fetchall()
        except duckdb.CatalogException as exc:
            raise BillopsError(f"{MART} not found; run 'billops transform' first") from exc
        stamp = warehouse_as_of(con)
    if stamp is None:
        raise BillopsError("no loaded batch: the statement gate has no as-of time; run 'billops ingest'")
    return stamp, [GateRow(r[0], r[1], r[2], Decimal(r[3] or 0), r[4], r[5], r[6]) for r in rows]


def _released_before(settings: Settings, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    found: set[str] = set()
    # the store's engine (ops_store may share one per process: never disposed here)
    with ops_store.engine(settings).connect() as con:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            query = sa.select(statement_releases.c.statement_id).where(
                statement_releases.c.statement_id.in_(chunk))
            found.update(r[0] for r in con.execute(query))
    return found


def _tally(as_of: datetime, rows: list[GateRow], released_before: set[str], dry_run: bool
           ) -> tuple[ReleaseSummary, list[GateRow], list[GateRow]]:
    summary = ReleaseSummary(as_of=as_of, dry_run=dry_run)
    to_release: list[GateRow] = []
    holds: list[GateRow] = []
    for row in rows:
        summary.due.add(row.amount)
        if row.statement_id in released_before:
            summary.already_released.add(row.amount)
        elif row.decision == RELEASE:
            summary.released.add(row.amount)
            to_release.append(row)
        else:
            summary.held.add(row.amount)
            holds.append(row)
            for reason in (row.reasons or "").split(","):
                summary.held_by_reason[reason].add(row.amount)
            summary.held_by_queue[row.queue or ""].add(row.amount)
    return summary, to_release, holds


def plan_release(settings: Settings | None = None) -> ReleaseSummary:
    """The dry run: what a release would release and hold now; writes nothing."""
    settings = settings or get_settings()
    as_of, rows = _read_gate(settings)
    released_before = _released_before(settings, (r.statement_id for r in rows))
    return _tally(as_of, rows, released_before, dry_run=True)[0]


def _stamp(as_of: datetime) -> str:
    return as_of.strftime("%Y%m%dT%H%M%SZ")


def _free_path(folder: Path, stem: str) -> Path:
    """``<stem>.csv``, or ``<stem>_<n>.csv`` when an earlier run of the same as-of wrote one."""
    path, n = folder / f"{stem}.csv", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}.csv"
    return path


def _write_atomically(path: Path, header: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
                      *, replace: bool = True) -> None:
    """The CSV, owner-only and renamed into place (fs_security.write_owner_only); with
    ``replace=False`` an existing ``path`` is never overwritten (FileExistsError)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_owner_only(path, buffer.getvalue(), replace=replace)


def _release_line(row: GateRow) -> tuple[Any, ...]:
    return (row.statement_id, row.account_id, row.entity or "", f"{row.amount:.2f}")


def _hold_line(row: GateRow) -> tuple[Any, ...]:
    return (*_release_line(row), row.reasons or "", row.queue or "")


def _out_folder(out_dir: Path | None, settings: Settings) -> Path:
    folder = Path(out_dir) if out_dir is not None else Path(settings.statements)  # type: ignore[arg-type]
    if folder.exists() and not folder.is_dir():
        raise BillopsError(f"--out {folder}: not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BillopsError(f"--out {folder}: cannot create the folder ({exc.strerror})") from exc
    return folder


def _ledger_rows(rows: list[GateRow], as_of: datetime, file_name: str, actor: str
                 ) -> list[dict[str, Any]]:
    recorded = datetime.now(UTC).replace(tzinfo=None)  # when it was recorded, for the trail
    return [{"statement_id": r.statement_id, "account_id": r.account_id, "entity": r.entity,
             "amount": r.amount, "as_of": as_of, "release_file": file_name,
             "released_by": actor, "recorded_at": recorded} for r in rows]


def release_statements(
    out_dir: Path | None, *, actor: str, settings: Settings | None = None
) -> ReleaseSummary:
    """Write the release file and the hold list, record the releases, audit the run.

    The ledger rows are inserted in the same transaction whose commit follows the release
    file's rename: if the file cannot be written nothing is recorded, and if the commit fails
    the file is removed, so the ledger and the files never disagree.
    """
    if not (actor or "").strip():
        raise BillopsError("a release needs --by (who releases)")
    settings = settings or get_settings()
    as_of, rows = _read_gate(settings)
    folder = _out_folder(out_dir, settings)
    released_before = _released_before(settings, (r.statement_id for r in rows))
    summary, to_release, holds = _tally(as_of, rows, released_before, dry_run=False)
    stamp = _stamp(as_of)
    if to_release:
        summary.release_file = _free_path(folder, f"statement_release_{stamp}")
        _record_and_write(settings, summary.release_file, to_release, as_of, actor.strip())
    summary.hold_file = folder / f"statement_holds_{stamp}.csv"
    # the hold list is the current state for its as-of time: a rerun replaces it
    _write_atomically(summary.hold_file, HOLD_COLUMNS, map(_hold_line, holds))
    ops_store.record_audit(AUDIT_TABLE, stamp, "RELEASE", actor.strip(), _audit_detail(summary),
                           settings)
    return summary


def _record_and_write(settings: Settings, path: Path, rows: list[GateRow], as_of: datetime,
                      actor: str) -> None:
    """Insert the ledger rows, write the release file, commit; on any failure neither stays."""
    written = committed = False
    try:
        with ops_store.engine(settings).begin() as con:
            con.execute(sa.insert(statement_releases), _ledger_rows(rows, as_of, path.name, actor))
            _write_atomically(path, RELEASE_COLUMNS, map(_release_line, rows), replace=False)
            written = True
        committed = True
    except (sa.exc.IntegrityError, FileExistsError) as exc:
        raise BillopsError("another release ran at the same time; run again") from exc
    finally:
        if written and not committed:
            path.unlink(missing_ok=True)


def _audit_detail(summary: ReleaseSummary) -> dict[str, Any]:
    detail = summary.as_dict()
    detail["release_file"] = summary.release_file.name if summary.release_file else None
    detail["hold_file"] = summary.hold_file.name if summary.hold_file else None
    return detail
