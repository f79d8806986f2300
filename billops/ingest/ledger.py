"""The load ledger in DuckDB: raw._batches, raw._loads, raw._rejects and raw._x12_validation.

``raw._batches`` keeps one row per batch outcome (LOADED, QUARANTINED, INTERRUPTED); while a
batch loads it carries a LOADING row, replaced by the outcome in the same transaction that
records the batch's files, rejects and validation results. A LOADING row found at startup is a
load that was killed: its Parquet is removed and the batch is loaded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa

LOADING, LOADED, QUARANTINED, INTERRUPTED = "LOADING", "LOADED", "QUARANTINED", "INTERRUPTED"
FILE_LOADED, FILE_SKIPPED_DUPLICATE = "LOADED", "SKIPPED_DUPLICATE"
FILE_IGNORED, FILE_QUARANTINED = "IGNORED", "QUARANTINED"
# raw._x12_validation.status beside pyx12's VALID, INVALID and UNSUPPORTED: recorded at load,
# and for a file that can no longer be validated (gone from the landing zone, or changed).
X12_PENDING, X12_UNAVAILABLE = "PENDING", "UNAVAILABLE"


@dataclass
class FileOutcome:
    file: str
    sha256: str | None
    records: int | None
    rows_loaded: int
    rows_rejected: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None = None
    snapshot: bool = False  # the manifest declares the file a full snapshot of its table


@dataclass(frozen=True)
class RejectRecord:
    file: str
    record: int
    reason: str
    original_text: str
    unit: str = "record"
    unit_key: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class ValidationRecord:
    file: str
    sha256: str
    status: str
    error_count: int | None = None
    errors: str | None = None


@dataclass(frozen=True)
class PendingValidation:
    """A loaded X12 file whose pyx12 validation has not run yet."""

    system: str
    batch_id: str
    file: str
    sha256: str


def batch_states(con: duckdb.DuckDBPyConnection, system: str) -> dict[str, str]:
    """State of every batch of ``system`` the ledger knows: LOADED if it ever loaded, else its
    latest outcome (LOADING for an unfinished load)."""
    rows = con.execute(
        """
        select batch_id,
               case when bool_or(status = 'LOADED') then 'LOADED'
                    when bool_or(status = 'LOADING') then 'LOADING'
                    else arg_max(status, loaded_at) end
        from raw._batches where system = ? group by batch_id
        """,
        [system],
    ).fetchall()
    return dict(rows)


def interrupted(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(system, batch_id) of loads that started and never finished."""
    return con.execute(
        """
        select system, batch_id from raw._batches group by system, batch_id
        having bool_or(status = 'LOADING') and not bool_or(status = 'LOADED')
        order by system, batch_id
        """
    ).fetchall()


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, str]]:
    """sha256 -> (system, batch_id, file) of every file already loaded."""
    rows = con.execute(
        "select sha256, system, batch_id, file from raw._loads where status = 'LOADED' "
        "order by batch_id, file"
    ).fetchall()
    hashes: dict[str, tuple[str, str, str]] = {}
    for sha, system, batch_id, file in rows:
        hashes.setdefault(sha, (system, batch_id, file))
    return hashes


def start_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[tuple[str, str, datetime | None]],
    at: datetime,
) -> None:
    """Record (system, batch_id, extracted_at) batches LOADING, in one transaction, before any is written.

    From then until its outcome is recorded, a batch killed at any point is found by
    :func:`interrupted` at the next start, and its Parquet is removed and loaded again.
    """
    if not batches:
        return
    con.execute("begin")
    try:
        rows = pa.table(
            {
                "system": [b[0] for b in batches],
                "batch_id": [b[1] for b in batches],
                "extracted_at": pa.array([b[2] for b in batches], pa.timestamp("us")),
            }
        )
        con.register("_billops_starting", rows)
        try:
            con.execute(
                "delete from raw._batches b using _billops_starting s "
                "where b.system = s.system and b.batch_id = s.batch_id and b.status = ?",
                [LOADING],
            )
            con.execute(
                "insert into raw._batches select system, batch_id, extracted_at, ?, null, ? "
                "from _billops_starting",
                [LOADING, at],
            )
        finally:
            con.unregister("_billops_starting")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _replace_details(
    con: duckdb.DuckDBPyConnection,
    system: str,
    batch_id: str,
    extracted_at: datetime | None,
    files: list[FileOutcome],
    rejects: list[RejectRecord],
    validations: list[ValidationRecord],
    at: datetime,
) -> None:
    for table in ("_loads", "_rejects", "_x12_validation"):
        con.execute(
            f"delete from raw.{table} where system = ? and batch_id = ?", [system, batch_id]
        )
    if files:
        con.executemany(
            "insert into raw._loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    system,
                    batch_id,
                    f.file,
                    f.sha256,
                    f.records,
                    f.rows_loaded,
                    f.rows_rejected,
                    f.status,
                    f.started_at,
                    f.finished_at,
                    f.error,
                    extracted_at,
                    f.snapshot,
                ]
                for f in files
            ],
        )
    if rejects:
        rejects_arrow = pa.table(
            {
                "system": [system] * len(rejects),
                "batch_id": [batch_id] * len(rejects),
                "file": [r.file for r in rejects],
                "record": pa.array([r.record for r in rejects], pa.int64()),
                "reason": [r.reason for r in rejects],
                "original_text": [r.original_text for r in rejects],
                "rejected_at": pa.array([at] * len(rejects), pa.timestamp("us")),
                "unit": [r.unit for r in rejects],
                "unit_key": pa.array([r.unit_key for r in rejects], pa.string()),
                "amount": pa.array([r.amount for r in rejects], pa.decimal128(18, 2)),
            }
        )
        con.register("_billops_rejects", rejects_arrow)
        try:
            con.execute("insert into raw._rejects by name select * from _billops_rejects")
        finally:
            con.unregister("_billops_rejects")
    if validations:
        con.executemany(
            "insert into raw._x12_validation values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    system,
                    batch_id,
                    v.file,
                    v.sha256,
                    v.status,
                    v.error_count,
                    v.errors,
                    None if v.status == X12_PENDING else at,
                ]
                for v in validations
            ],
        )


def _set_outcome(
    con: duckdb.DuckDBPyConnection,
    system: str,
    batch_id: str,
    extracted_at: datetime | None,
    status: str,
    reason: str | None,
    at: datetime,
) -> None:
    con.execute(
        "delete from raw._batches where system = ? and batch_id = ? and status = ?",
        [system, batch_id, LOADING],
    )
    con.execute(
        "insert into raw._batches values (?, ?, ?, ?, ?, ?)",
        [system, batch_id, extracted_at, status, reason, at],
    )


def commit_loaded(
    con: duckdb.DuckDBPyConnection,
    system: str,
    batch_id: str,
    extracted_at: datetime,
    files: list[FileOutcome],
    rejects: list[RejectRecord],
    validations: list[ValidationRecord],
    at: datetime,
) -> None:
    """Record a loaded batch in one transaction (safe to repeat for the same batch)."""
    con.execute("begin")
    try:
        _replace_details(con, system, batch_id, extracted_at, files, rejects, validations, at)
        _set_outcome(con, system, batch_id, extracted_at, LOADED, None, at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    system: str,
    batch_id: str,
    extracted_at: datetime | None,
    status: str,
    reason: str,
    files: list[FileOutcome],
    at: datetime,
) -> None:
    """Record a batch that was not loaded (QUARANTINED or INTERRUPTED) with its reason."""
    con.execute("begin")
    try:
        _replace_details(con, system, batch_id, extracted_at, files, [], [], at)
        _set_outcome(con, system, batch_id, extracted_at, status, reason, at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def pending_validations(
    con: duckdb.DuckDBPyConnection, limit: int | None = None
) -> tuple[list[PendingValidation], int]:
    """The oldest ``limit`` X12 files still PENDING (all when None), and how many are pending."""
    total = int(
        con.execute(
            "select count(*) from raw._x12_validation where status = ?", [X12_PENDING]
        ).fetchone()[0]
    )
    sql = (
        "select system, batch_id, file, sha256 from raw._x12_validation where status = ? "
        "order by batch_id, system, file"
    )
    if limit is not None:
        sql += f" limit {int(limit)}"
    rows = con.execute(sql, [X12_PENDING]).fetchall()
    return [PendingValidation(*row) for row in rows], total


def record_validations(
    con: duckdb.DuckDBPyConnection,
    results: list[tuple[PendingValidation, ValidationRecord]],
    at: datetime,
) -> int:
    """Write validation results over PENDING rows, in one transaction; returns rows updated.

    Only rows still PENDING change, so a result computed twice (two runs racing, or a rerun
    after a kill) is written once and a recorded result is never overwritten.
    """
    if not results:
        return 0
    con.execute("begin")
    try:
        before = int(
            con.execute(
                "select count(*) from raw._x12_validation where status = ?", [X12_PENDING]
            ).fetchone()[0]
        )
        con.executemany(
            "update raw._x12_validation set status = ?, error_count = ?, errors = ?, "
            "validated_at = ? where system = ? and batch_id = ? and file = ? and status = ?",
            [
                [r.status, r.error_count, r.errors, at, p.system, p.batch_id, p.file, X12_PENDING]
                for p, r in results
            ],
        )
        after = int(
            con.execute(
                "select count(*) from raw._x12_validation where status = ?", [X12_PENDING]
            ).fetchone()[0]
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return before - after
