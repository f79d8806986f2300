"""The operational store: work-queue actions on exceptions and their audit trail.

Streamlit writes here (assign, resolve, dismiss, reopen, with a note); the pipeline reads it. The
store is any SQLAlchemy URL (``BILLOPS_OPS_URL``; SQLite under ``$BILLOPS_HOME`` by default,
PostgreSQL in docker-compose) and is never the warehouse, so analysts can act while the nightly
run holds DuckDB.

Tables (SQLAlchemy Core, created on first use):

* ``exception_actions``: one row per action: ``exception_id`` (``marts.billing_exceptions``),
  ``status`` (one of STATUSES), ``assignee``, ``note``, ``acted_by``, ``acted_at`` (UTC). The
  latest action of an exception (by ``acted_at``, then insertion order) is its status.
* ``audit_log``: every write to the store, append-only: ``table_name``, ``record_id``,
  ``operation``, ``actor``, ``at``, ``detail`` (JSON of the values written). Lookups of the PHI
  store are audited here too (``table_name`` ``phi_store``, the patient's token as
  ``record_id``, :func:`record_phi_access`).

Before dbt runs, :func:`sync_exception_status` copies the latest action per exception into the
warehouse table ``ops.exception_status``, which dbt declares as a source;
``marts.billing_exceptions.status`` is that status, or ``OPEN`` when no one has acted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from billops.config import Settings, get_settings
from billops.errors import BillopsError

STATUSES = ("OPEN", "IN_PROGRESS", "RESOLVED", "DISMISSED")
CLOSED_STATUSES = ("RESOLVED", "DISMISSED")
WAREHOUSE_TABLE = "ops.exception_status"

metadata = sa.MetaData()

exception_actions = sa.Table(
    "exception_actions",
    metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("exception_id", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(128)),
    sa.Column("note", sa.Text),
    sa.Column("acted_by", sa.String(128), nullable=False),
    sa.Column("acted_at", sa.DateTime, nullable=False),
    sa.CheckConstraint(
        f"status in ({', '.join(repr(s) for s in STATUSES)})", name="ck_exception_actions_status"
    ),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("detail", sa.Text),
)


@dataclass(frozen=True)
class ExceptionStatus:
    """The latest action on one exception."""

    exception_id: str
    status: str
    assignee: str | None
    note: str | None
    acted_by: str
    acted_at: datetime


def _url(settings: Settings) -> str:
    assert settings.ops_url is not None
    return settings.ops_url


def engine(settings: Settings | None = None) -> sa.Engine:
    """An engine on the store, with its tables created if missing."""
    settings = settings or get_settings()
    url = _url(settings)
    try:
        eng = sa.create_engine(url)
        if eng.dialect.name == "sqlite" and eng.url.database:
            from pathlib import Path

            Path(eng.url.database).parent.mkdir(parents=True, exist_ok=True)
        metadata.create_all(eng)
    except (sa.exc.ArgumentError, sa.exc.OperationalError, ModuleNotFoundError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BillopsError(f"operational store {_redacted(url)}: cannot open ({reason})") from exc
    return eng


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


@contextmanager
def _begin(settings: Settings | None) -> Iterator[sa.Connection]:
    eng = engine(settings)
    try:
        with eng.begin() as con:
            yield con
    finally:
        eng.dispose()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_action(
    exception_id: str,
    status: str,
    acted_by: str,
    *,
    assignee: str | None = None,
    note: str | None = None,
    acted_at: datetime | None = None,
    settings: Settings | None = None,
) -> int:
    """Record one action on an exception and its audit row, in one transaction.

    Returns the action id. Raises BillopsError for an unknown status or a missing id or actor.
    """
    status = (status or "").strip().upper()
    if status not in STATUSES:
        raise BillopsError(
            f"exception {exception_id}: status {status or '(empty)'!r} is not one "
            f"of {', '.join(STATUSES)}"
        )
    if not (exception_id or "").strip():
        raise BillopsError("an action needs an exception_id")
    if not (acted_by or "").strip():
        raise BillopsError(f"exception {exception_id}: an action needs acted_by")
    when = (
        acted_at.astimezone(UTC).replace(tzinfo=None) if acted_at and acted_at.tzinfo else acted_at
    ) or _now()
    values = {
        "exception_id": exception_id.strip(),
        "status": status,
        "assignee": assignee,
        "note": note,
        "acted_by": acted_by.strip(),
        "acted_at": when,
    }
    with _begin(settings) as con:
        action_id = con.execute(sa.insert(exception_actions).values(**values)).inserted_primary_key[
            0
        ]
        con.execute(
            sa.insert(audit_log).values(
                table_name="exception_actions",
                record_id=str(action_id),
                operation="INSERT",
                actor=values["acted_by"],
                at=_now(),
                detail=json.dumps(
                    {
                        k: (v.isoformat() if isinstance(v, datetime) else v)
                        for k, v in values.items()
                    },
                    sort_keys=True,
                ),
            )
        )
    return int(action_id)


PHI_ACCESS_OUTCOMES = ("GRANTED", "NOT_FOUND", "REFUSED")


def record_audit(
    table_name: str,
    record_id: str,
    operation: str,
    actor: str,
    detail: dict[str, Any],
    settings: Settings | None = None,
) -> int:
    """Append one row to the audit trail for a decision taken outside the store (a batch
    waiver in the warehouse, for one). ``detail`` must not hold PHI. Returns the audit id."""
    with _begin(settings) as con:
        audit_id = con.execute(
            sa.insert(audit_log).values(
                table_name=table_name[:64],
                record_id=record_id[:64],
                operation=operation[:16],
                actor=(actor or "(unknown)")[:128],
                at=_now(),
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        ).inserted_primary_key[0]
    return int(audit_id)


def record_phi_access(
    patient_key: str,
    *,
    actor: str,
    role: str,
    channel: str,
    outcome: str,
    settings: Settings | None = None,
) -> int:
    """Audit one lookup of the PHI store (granted or refused). Returns the audit id.

    The row names the patient by token only: the audit trail itself never holds PHI.
    """
    if outcome not in PHI_ACCESS_OUTCOMES:
        raise BillopsError(f"PHI access outcome {outcome!r} is not one of {', '.join(PHI_ACCESS_OUTCOMES)}")
    detail = json.dumps({"role": role, "channel": channel, "outcome": outcome}, sort_keys=True)
    with _begin(settings) as con:
        audit_id = con.execute(
            sa.insert(audit_log).values(
                table_name="phi_store",
                record_id=patient_key[:64],
                operation="PHI_LOOKUP",
                actor=(actor or "(unknown)")[:128],
                at=_now(),
                detail=detail,
            )
        ).inserted_primary_key[0]
    return int(audit_id)


def phi_access_trail(settings: Settings | None = None) -> list[dict[str, Any]]:
    """The PHI lookups, oldest first."""
    query = (
        sa.select(audit_log)
        .where(audit_log.c.table_name == "phi_store")
        .order_by(audit_log.c.audit_id)
    )
    with _begin(settings) as con:
        return [dict(r._mapping) for r in con.execute(query).all()]


def latest_statuses(settings: Settings | None = None) -> list[ExceptionStatus]:
    """The latest action per exception (by acted_at, then the order actions were recorded)."""
    ranked = sa.select(
        exception_actions,
        sa.func.row_number()
        .over(
            partition_by=exception_actions.c.exception_id,
            order_by=(exception_actions.c.acted_at.desc(), exception_actions.c.action_id.desc()),
        )
        .label("rank"),
    ).subquery()
    query = (
        sa.select(
            ranked.c.exception_id,
            ranked.c.status,
            ranked.c.assignee,
            ranked.c.note,
            ranked.c.acted_by,
            ranked.c.acted_at,
        )
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.exception_id)
    )
    with _begin(settings) as con:
        return [ExceptionStatus(*row) for row in con.execute(query).all()]


def audit_trail(
    exception_id: str | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Audit rows, oldest first; for one exception, those of its actions."""
    query = sa.select(audit_log).order_by(audit_log.c.audit_id)
    if exception_id is not None:
        action_ids = sa.select(sa.cast(exception_actions.c.action_id, sa.String)).where(
            exception_actions.c.exception_id == exception_id
        )
        query = query.where(
            audit_log.c.table_name == "exception_actions", audit_log.c.record_id.in_(action_ids)
        )
    with _begin(settings) as con:
        return [dict(r._mapping) for r in con.execute(query).all()]


_WAREHOUSE_DDL = f"""
create schema if not exists ops;
create or replace table {WAREHOUSE_TABLE} (
    exception_id varchar not null primary key,
    status varchar not null,
    assignee varchar,
    note varchar,
    acted_by varchar,
    acted_at timestamp
)
"""


def sync_exception_status(con: Any, settings: Settings | None = None) -> int:
    """Replace ``ops.exception_status`` in the warehouse with the latest action per exception.

    ``con`` is an open, writable DuckDB connection to the warehouse. The table is (re)created
    even when the store is empty, so dbt always finds its source. Returns the row count.
    """
    statuses = latest_statuses(settings)
    con.execute(_WAREHOUSE_DDL)
    if statuses:
        con.executemany(
            f"insert into {WAREHOUSE_TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                (s.exception_id, s.status, s.assignee, s.note, s.acted_by, s.acted_at)
                for s in statuses
            ],
        )
    return len(statuses)
