"""The operational store: its engine, its write transactions and the hash-chained audit trail.

The store is any SQLAlchemy URL (``BILLOPS_OPS_URL``; SQLite under ``$BILLOPS_HOME`` by default,
PostgreSQL in docker-compose) and is never the warehouse, so analysts and other systems act
while the nightly run holds DuckDB. Its tables are declared on :data:`metadata` by the modules
that own them (``billops.auth``: users; ``billops.workflow``: routing rules, work items,
adjustments) and created on first use; this module owns ``audit_log``.

``audit_log`` is append-only: who (``actor``), what (``table_name``, ``record_id``,
``operation``), when (``at``, wall clock UTC), from where (``channel``), why (``reason``), the
``outcome``, the values ``before`` and ``after`` (JSON) and a free ``detail`` (JSON). Every row
carries ``prev_hash``, the ``row_hash`` of the row before it, and its own ``row_hash``: the
SHA-256 of a canonical JSON of its fields and ``prev_hash``. ``prev_hash`` is unique, so two
writers can never both extend the same row (the loser retries); triggers refuse UPDATE and
DELETE. :func:`verify_chain` recomputes the chain and names the first broken row. One function,
:func:`append_audit`, writes every row (sign-ins, PHI lookups, waivers, work items,
adjustments, routing). No row may hold PHI.

Before dbt runs, :func:`sync_exception_status` copies the work items' statuses into the
warehouse table ``ops.exception_status``, which dbt declares as a source.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.sql import identifier, type_name

WAREHOUSE_TABLE = "ops.exception_status"
GENESIS_HASH = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_AUDIT_LOCK_KEY = 15_2026
_WRITE_RETRIES = 5

metadata = sa.MetaData()

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("channel", sa.String(16)),
    sa.Column("reason", sa.Text),
    sa.Column("outcome", sa.String(32)),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("row_hash", sa.String(64)),
    sa.Index("uq_audit_log_prev_hash", "prev_hash", unique=True),
)
# The fields a row's hash covers, in the canonical JSON's (sorted) key order.
HASHED_FIELDS = ("table_name", "record_id", "operation", "actor", "at", "detail", "channel",
                 "reason", "outcome", "before", "after", "prev_hash")


# ----------------------------------------------------------------------------- engine


@dataclass
class _Cached:
    engine: sa.Engine
    tables: set[str] = field(default_factory=set)


# A process normally uses one URL; tests use many, so the least recently used are disposed
# beyond this many (each pooled SQLite connection holds open files).
_MAX_ENGINES = 8
_engines: OrderedDict[str, _Cached] = OrderedDict()
_engines_lock = threading.Lock()


def _url(settings: Settings) -> str:
    assert settings.ops_url is not None
    return settings.ops_url


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def _sqlite_hooks(eng: sa.Engine) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE for writes: SQLite writers queue instead of
    failing, and a writer reads the chain's head under the lock it appends with."""

    @sa.event.listens_for(eng, "connect")
    def _connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None  # the driver's own BEGIN is replaced by ours
        cursor = dbapi_con.cursor()
        cursor.execute("pragma journal_mode=wal")
        cursor.execute("pragma busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(eng, "begin")
    def _begin(con: sa.Connection) -> None:
        read_only = con.get_execution_options().get("billops_read_only", False)
        con.exec_driver_sql("begin" if read_only else "begin immediate")


def _create_engine(url: str) -> sa.Engine:
    eng = sa.create_engine(url)
    if eng.dialect.name == "sqlite":
        if eng.url.database and eng.url.database != ":memory:":
            Path(eng.url.database).parent.mkdir(parents=True, exist_ok=True)
        _sqlite_hooks(eng)
    return eng


def engine(settings: Settings | None = None) -> sa.Engine:
    """The process's one engine on the store's URL, its tables created or upgraded once.

    Modules that declare tables on :data:`metadata` later (the workflow's) get them created the
    next time this is called after their import.
    """
    settings = settings or get_settings()
    url = _url(settings)
    with _engines_lock:
        cached = _engines.get(url)
        try:
            if cached is None:
                cached = _engines[url] = _Cached(_create_engine(url))
                while len(_engines) > _MAX_ENGINES:
                    _engines.popitem(last=False)[1].engine.dispose()
            _engines.move_to_end(url)
            if set(metadata.tables) - cached.tables:
                _create_tables(cached.engine)
                cached.tables |= set(metadata.tables)
        except (sa.exc.ArgumentError, sa.exc.OperationalError, ModuleNotFoundError) as exc:
            _engines.pop(url, None)
            reason = " ".join(str(exc).split())[:200]
            raise BillopsError(f"operational store {_redacted(url)}: cannot open ({reason})") from exc
    return cached.engine


def _create_tables(eng: sa.Engine) -> None:
    metadata.create_all(eng)
    with eng.begin() as con:
        upgrade_existing_tables(con)
        _chain_unhashed_rows(con)
        install_append_only_triggers(con)


def upgrade_existing_tables(con: sa.Connection) -> None:
    """Add the columns a store from an earlier release lacks (nullable, so old rows stay valid);
    ``create_all`` creates only tables that are missing altogether."""
    inspector = sa.inspect(con)
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                con.exec_driver_sql(
                    f"alter table {identifier(table.name)} add column {identifier(column.name)} "
                    f"{type_name(str(column.type.compile(dialect=con.dialect)))}")
        for index in table.indexes:
            index.create(con, checkfirst=True)


_SQLITE_TRIGGERS = (
    "create trigger if not exists audit_log_no_update before update on audit_log "
    "begin select raise(abort, 'audit_log is append-only'); end",
    "create trigger if not exists audit_log_no_delete before delete on audit_log "
    "begin select raise(abort, 'audit_log is append-only'); end",
)
_POSTGRES_TRIGGERS = (
    "create or replace function audit_log_append_only() returns trigger language plpgsql as "
    "$$ begin raise exception 'audit_log is append-only'; end $$",
    "drop trigger if exists audit_log_no_update_or_delete on audit_log",
    "create trigger audit_log_no_update_or_delete before update or delete on audit_log "
    "for each row execute function audit_log_append_only()",
)


def install_append_only_triggers(con: sa.Connection) -> None:
    """Triggers that refuse UPDATE and DELETE on audit_log (SQLite and PostgreSQL)."""
    statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}
    for statement in statements.get(con.dialect.name, ()):
        con.exec_driver_sql(statement)


def dispose_engines() -> None:
    """Forget the cached engines (tests that delete a store file; a forked worker)."""
    with _engines_lock:
        for cached in _engines.values():
            cached.engine.dispose()
        _engines.clear()


def _forget_engines_in_child() -> None:
    """A forked child must not use its parent's pooled connections (SQLAlchemy's advice: drop
    them without closing, the parent still owns them)."""
    global _engines_lock
    _engines_lock = threading.Lock()
    for cached in _engines.values():
        cached.engine.dispose(close=False)
    _engines.clear()


os.register_at_fork(after_in_child=_forget_engines_in_child)


@contextmanager
def begin(settings: Settings | None = None) -> Iterator[sa.Connection]:
    """A write transaction (SQLite: BEGIN IMMEDIATE), committed at the end of the block."""
    with engine(settings).begin() as con:
        yield con


@contextmanager
def read(settings: Settings | None = None) -> Iterator[sa.Connection]:
    """A read-only transaction that does not take SQLite's write lock."""
    with engine(settings).connect() as con:
        con = con.execution_options(billops_read_only=True)
        yield con


T = TypeVar("T")


def write(work: Callable[[sa.Connection], T], settings: Settings | None = None) -> T:
    """Run ``work(con)`` in one write transaction; when another writer extended the audit chain
    from the same head first (the unique ``prev_hash``), run it again from the new head."""
    for attempt in range(_WRITE_RETRIES):
        try:
            with begin(settings) as con:
                return work(con)
        except sa.exc.IntegrityError as exc:
            if "prev_hash" not in str(exc) or attempt == _WRITE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ----------------------------------------------------------------------------- audit chain


@dataclass(frozen=True)
class AuditEvent:
    """One row to append to the audit trail; ``before``, ``after`` and ``detail`` are JSON-able
    dicts without PHI."""

    table_name: str
    record_id: str
    operation: str
    actor: str
    channel: str | None = None
    reason: str | None = None
    outcome: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a row's hashed fields (``at`` to the microsecond)."""
    fields = {name: row.get(name) for name in HASHED_FIELDS}
    if isinstance(fields["at"], datetime):
        fields["at"] = fields["at"].isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _head(con: sa.Connection) -> str:
    if con.dialect.name == "postgresql":
        con.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    last = con.execute(
        sa.select(audit_log.c.row_hash).order_by(audit_log.c.audit_id.desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS_HASH


def _row(event: AuditEvent, prev: str, at: datetime) -> dict[str, Any]:
    row = {
        "table_name": event.table_name[:64], "record_id": str(event.record_id)[:64],
        "operation": event.operation[:32], "actor": (event.actor or "(unknown)")[:128],
        "at": at, "detail": _json(event.detail), "channel": event.channel,
        "reason": event.reason, "outcome": event.outcome, "before": _json(event.before),
        "after": _json(event.after), "prev_hash": prev,
    }
    row["row_hash"] = row_hash(row)
    return row


def append_audit(con: sa.Connection, *events: AuditEvent) -> list[int]:
    """Append rows to the chain inside the caller's write transaction; returns their ids.

    The only writer of ``audit_log``: the head is read under the write lock (SQLite's BEGIN
    IMMEDIATE, PostgreSQL's advisory lock), and the unique ``prev_hash`` refuses a fork.
    """
    prev, at, rows = _head(con), _now(), []
    for event in events:
        rows.append(_row(event, prev, at))
        prev = rows[-1]["row_hash"]
    if len(rows) == 1:
        return [int(con.execute(sa.insert(audit_log), rows[0]).inserted_primary_key[0])]
    inserted = con.execute(
        sa.insert(audit_log).returning(audit_log.c.audit_id, sort_by_parameter_order=True), rows)
    return [int(audit_id) for audit_id in inserted.scalars().all()]


def _chain_unhashed_rows(con: sa.Connection) -> None:
    """Chain the rows of a store from before the hash chain, in audit_id order (runs once, at
    the upgrade, before the triggers that forbid updates exist)."""
    unhashed = con.execute(
        sa.select(audit_log).where(audit_log.c.row_hash.is_(None)).order_by(audit_log.c.audit_id)
    ).all()
    if not unhashed:
        return
    prev = con.execute(
        sa.select(audit_log.c.row_hash).where(audit_log.c.row_hash.is_not(None))
        .order_by(audit_log.c.audit_id.desc()).limit(1)
    ).scalar_one_or_none() or GENESIS_HASH
    for old in unhashed:
        row = {**dict(old._mapping), "prev_hash": prev}
        prev = row_hash(row)
        con.execute(sa.update(audit_log).where(audit_log.c.audit_id == old.audit_id)
                    .values(prev_hash=row["prev_hash"], row_hash=prev))


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify_chain`; ``head_hash`` is the last row's hash (record it
    elsewhere to notice a truncated tail, which a chain alone cannot show)."""

    ok: bool
    rows: int
    first_broken_audit_id: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH


def verify_chain(settings: Settings | None = None) -> ChainReport:
    """Recompute the chain in audit_id order; the first row whose link or content is wrong."""
    prev, rows = GENESIS_HASH, 0
    with read(settings) as con:
        result = con.execution_options(yield_per=2000).execute(
            sa.select(audit_log).order_by(audit_log.c.audit_id))
        for found in result:
            row, rows = dict(found._mapping), rows + 1
            if row["prev_hash"] != prev:
                return ChainReport(False, rows, row["audit_id"], "its prev_hash is not the hash of "
                                   "the row before it (a row was deleted, inserted or forged)")
            if row["row_hash"] != row_hash(row):
                return ChainReport(False, rows, row["audit_id"],
                                   "its content does not match its row_hash (the row was edited)")
            prev = row["row_hash"]
    return ChainReport(True, rows, head_hash=prev)


def _entry(row: Any) -> dict[str, Any]:
    entry = dict(row._mapping)
    for name in ("before", "after"):
        entry[name] = json.loads(entry[name]) if entry[name] else None
    return entry


def audit_entries(
    record_id: str | None = None, table_name: str | None = None, limit: int | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Audit rows, oldest first (``before`` and ``after`` parsed; ``detail`` as stored)."""
    query = sa.select(audit_log).order_by(audit_log.c.audit_id)
    if record_id is not None:
        query = query.where(audit_log.c.record_id == record_id)
    if table_name is not None:
        query = query.where(audit_log.c.table_name == table_name)
    if limit is not None:
        query = query.limit(limit)
    with read(settings) as con:
        return [_entry(r) for r in con.execute(query).all()]


def audit_trail(
    record_id: str | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Every audit row (or one record's), oldest first."""
    return audit_entries(record_id=record_id, settings=settings)


def record_audit(
    table_name: str, record_id: str, operation: str, actor: str, detail: dict[str, Any],
    settings: Settings | None = None, *, channel: str | None = None, reason: str | None = None,
    outcome: str | None = None,
) -> int:
    """Append one row for a decision taken outside the store (a batch waiver in the warehouse,
    for one). ``detail`` must not hold PHI. Returns the audit id."""
    event = AuditEvent(table_name, record_id, operation, actor, channel=channel, reason=reason,
                       outcome=outcome, detail=detail)
    return write(lambda con: append_audit(con, event)[0], settings)


PHI_ACCESS_OUTCOMES = ("GRANTED", "NOT_FOUND", "REFUSED")


def record_phi_access(
    patient_key: str, *, actor: str, role: str, channel: str, outcome: str,
    settings: Settings | None = None,
) -> int:
    """Audit one lookup of the PHI store (granted or refused), naming the patient by token only.
    Returns the audit id."""
    if outcome not in PHI_ACCESS_OUTCOMES:
        raise BillopsError(f"PHI access outcome {outcome!r} is not one of {', '.join(PHI_ACCESS_OUTCOMES)}")
    event = AuditEvent("phi_store", patient_key, "PHI_LOOKUP", actor, channel=channel,
                       outcome=outcome,
                       detail={"role": role, "channel": channel, "outcome": outcome})
    return write(lambda con: append_audit(con, event)[0], settings)


def phi_access_trail(settings: Settings | None = None) -> list[dict[str, Any]]:
    """The PHI lookups, oldest first."""
    return audit_entries(table_name="phi_store", settings=settings)


# ----------------------------------------------------------------------------- warehouse sync

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
# The work items' table, read here by name: billops.workflow declares it (a layer above).
_work_items = sa.table(
    "work_items", sa.column("exception_id"), sa.column("status"), sa.column("assignee"),
    sa.column("resolution_code"), sa.column("updated_by"), sa.column("updated_at"),
)


def work_item_statuses(settings: Settings | None = None) -> list[tuple[Any, ...]]:
    """(exception_id, status, assignee, resolution_code, updated_by, updated_at) per work item."""
    eng = engine(settings)
    if not sa.inspect(eng).has_table("work_items"):
        return []
    query = sa.select(*_work_items.c).order_by(_work_items.c.exception_id)
    with read(settings) as con:
        return [tuple(row) for row in con.execute(query).all()]


def sync_exception_status(con: Any, settings: Settings | None = None) -> int:
    """Replace ``ops.exception_status`` in the warehouse with every work item's status.

    ``con`` is an open, writable DuckDB connection to the warehouse. The table is (re)created
    even when the store is empty, so dbt always finds its source. Returns the row count.
    """
    statuses = work_item_statuses(settings)
    con.execute(_WAREHOUSE_DDL)
    insert_rows(con, WAREHOUSE_TABLE,
                ("exception_id", "status", "assignee", "note", "acted_by", "acted_at"), statuses)
    return len(statuses)


def insert_rows(con: Any, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``names``, the table's columns) into the DuckDB
    ``table`` in one columnar statement: DuckDB's executemany runs one statement per row
    (seconds for a few thousand work items)."""
    if not rows:
        return
    import pyarrow as pa

    frame = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
    con.register("_billops_rows", frame)
    try:
        con.execute(f"insert into {table} select * from _billops_rows")
    finally:
        con.unregister("_billops_rows")
