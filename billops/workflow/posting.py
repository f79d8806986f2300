"""Closing the loop of the GL journal export: an exported adjustment becomes POSTED when an ERP
extract carries its journal back (the ERP imported the file of :mod:`billops.workflow.journal`).

The pipeline's ``sync_work_items`` step calls :func:`post_imported_journals` after the dbt build:
it looks up, in ``marts.fct_gl_lines`` (read-only), each journal exported but not yet posted, and
when the journal is there, balanced and debits the adjustment's amount, marks the adjustment
POSTED (actor ``billops``, channel ``pipeline``) with an audit row naming the journal, the ERP
batch that carried it and the data's as-of time. A journal that came back with another amount is
left APPROVED and reported (``mismatched``) for a person to look at. Running it again on the same
data changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings, get_settings
from billops.workflow.tables import adjustment_requests
from billops.workflow.vocabulary import APPROVED, POSTED, SYSTEM_ACTOR, SYSTEM_CHANNEL

log = logging.getLogger(__name__)
GL_LINES = "marts.fct_gl_lines"
_JOURNALS = f"""
select journal_id, sum(debit_amount) as debits, sum(credit_amount) as credits,
       min(_batch_id) as batch_id
from {GL_LINES}
where journal_id in ({{placeholders}})
group by journal_id
"""


def _exported(con: sa.Connection) -> list[Any]:
    return con.execute(sa.select(adjustment_requests).where(
        adjustment_requests.c.status == APPROVED,
        adjustment_requests.c.journal_id.is_not(None))).all()


def _in_gl(warehouse: Any, journal_ids: list[str]) -> dict[str, tuple[Decimal, Decimal, str]]:
    """journal_id -> (debits, credits, first batch) of the journals the GL extract holds."""
    found: dict[str, tuple[Decimal, Decimal, str]] = {}
    for start in range(0, len(journal_ids), 500):
        chunk = journal_ids[start:start + 500]
        query = _JOURNALS.format(placeholders=", ".join("?" for _ in chunk))
        for journal_id, debits, credits, batch in warehouse.execute(query, chunk).fetchall():
            found[journal_id] = (Decimal(str(debits)), Decimal(str(credits)), batch)
    return found


def _post(con: sa.Connection, row: Any, batch: str, as_of: datetime) -> bool:
    updated = con.execute(sa.update(adjustment_requests).where(
        adjustment_requests.c.adjustment_id == row.adjustment_id,
        adjustment_requests.c.version == row.version,
        adjustment_requests.c.status == APPROVED).values(status=POSTED, version=row.version + 1))
    if updated.rowcount == 0:
        return False
    ops_store.append_audit(con, ops_store.AuditEvent(
        "adjustment_requests", row.adjustment_id, "POST", SYSTEM_ACTOR, channel=SYSTEM_CHANNEL,
        outcome=POSTED, before={"status": APPROVED, "version": row.version},
        after={"status": POSTED, "version": row.version + 1},
        detail={"journal_id": row.journal_id, "batch_id": batch, "as_of": as_of.isoformat()}))
    return True


def _apply(con: sa.Connection, found: dict[str, tuple[Decimal, Decimal, str]], as_of: datetime
           ) -> dict[str, int]:
    counts = {"posted": 0, "mismatched": 0, "waiting": 0}
    for row in _exported(con):
        seen = found.get(row.journal_id)
        if seen is None:
            counts["waiting"] += 1
            continue
        debits, credits, batch = seen
        amount = Decimal(str(row.amount)).quantize(Decimal("0.01"))
        if debits != credits or debits != amount:
            counts["mismatched"] += 1
            continue
        counts["posted"] += _post(con, row, batch, as_of)
    return counts


def post_imported_journals(warehouse: Any, *, as_of: datetime,
                           settings: Settings | None = None) -> dict[str, int]:
    """Mark POSTED every exported adjustment whose journal the GL now holds.

    ``warehouse`` is an open DuckDB connection (read only is enough) with ``marts.fct_gl_lines``.
    Returns the counts: posted, mismatched (the journal came back with another amount) and
    waiting (not in the GL yet).
    """
    settings = settings or get_settings()
    with ops_store.read(settings) as con:
        journal_ids = sorted({row.journal_id for row in _exported(con)})
    if not journal_ids:
        return {"posted": 0, "mismatched": 0, "waiting": 0}
    present = warehouse.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'fct_gl_lines'").fetchone()[0]
    found = _in_gl(warehouse, journal_ids) if present else {}
    try:
        return ops_store.write(lambda con: _apply(con, found, as_of), settings)
    except sa.exc.IntegrityError as exc:
        if "ck_adjustment_status" not in str(exc):
            raise
        # a store created before POSTED existed keeps its old check constraint (docs/workflow.md)
        log.warning("operational store: adjustment_requests refuses status POSTED (created by an "
                    "earlier release); recreate the table to post %d exported journal(s)",
                    len(journal_ids))
        return {"posted": 0, "mismatched": 0, "waiting": len(journal_ids)}
