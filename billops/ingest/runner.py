"""``ingest()``: discover landing batches, verify them, load them into the raw zone, keep the ledger.

Batches are read by :func:`billops.ingest.reading.prepare`, in this process or in worker
processes (:mod:`billops.ingest.parallel`); either way this process alone records them, in one
loop (:func:`_record`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.ingest import blocking, ledger, parallel, reading
from billops.ingest.batches import (
    LandingBatch,
    PlannedBatch,
    PreparedBatch,
    lineage_now,
)
from billops.ingest.landing_files import SYMLINK
from billops.ingest.manifest import (
    BATCH_ID,
    MANIFEST,
    SYSTEMS,
    Manifest,
    ManifestError,
    batch_time,
    check_times,
    read_manifest,
)
from billops.ingest.parquet import BatchWriter, remove_temporary
from billops.ingest.report import IngestReport
from billops.sources import describe_error
from billops.warehouse import connect, refresh_raw_views

__all__ = ["IngestReport", "ProgressCallback", "ingest"]

log = logging.getLogger("billops.ingest")

REASON_FILE = "_reason.txt"
# Left in a landing batch that could not be moved to quarantine, so it is not read again.
QUARANTINED_MARKER = "_QUARANTINED"

ProgressCallback = Callable[[int, int, str], None]
Hashes = dict[str, tuple[str, str, str]]  # sha256 -> (system, batch_id, file) recorded loaded


@contextlib.contextmanager
def _collect_per_batch() -> Iterator[Callable[[], object]]:
    """Garbage collection once per batch instead of every few hundred allocations.

    A load allocates millions of short-lived objects (segments, rows) and keeps a transaction
    set's segments alive while it maps them; Python's automatic collections would traverse them
    over and over (more than half the CPU of an 837 load). Objects that exist before the load
    are frozen out of the collections; those created by a batch are collected after it, and
    what survives (modules imported on first use, caches) is frozen too, so each collection
    traverses one batch's objects rather than everything imported since the start.
    """
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()

    def collect() -> None:
        gc.collect()
        gc.freeze()

    try:
        yield collect
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def ingest(
    landing: Path | None = None,
    settings: Settings | None = None,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Load every complete, not yet loaded landing batch into the raw zone (see the package doc).

    ``landing`` defaults to ``settings.landing``; an explicit folder that does not exist is a
    BillopsError, a missing default folder means nothing has arrived yet.

    ``progress(done, total, label)`` is called before each batch is recorded and once at the end.
    Loaded X12 files are recorded PENDING in raw._x12_validation; pyx12 validates them later
    (:func:`billops.ingest.x12_validation.validate_pending`), off the load path.

    ``now`` is the run's clock (naive UTC, default the wall clock): no batch may be extracted
    later than it (plus the allowed skew), and the wait of batches blocked behind one that
    cannot load is measured on it.
    """
    settings = settings or get_settings()
    now = now or lineage_now()
    if landing is not None and not Path(landing).is_dir():
        raise BillopsError(f"{landing}: landing folder not found")
    landing = Path(landing if landing is not None else settings.landing)  # type: ignore[arg-type]
    report = IngestReport()
    with connect(settings) as con:
        _recover(con, settings, landing, report)
        blocked: list[blocking.Blocked] = []
        if landing.is_dir():
            batches, blocked = _discover(con, landing, report)
            plan = _plan(batches, settings, now)
        else:  # the default landing folder not created yet: nothing has arrived
            plan = []
            report.note(f"{landing}: landing folder not found; nothing to load", logging.INFO)
        hashes = ledger.loaded_hashes(con)
        ledger.start_batches(con, [p.ledger_key for p in plan], lineage_now())
        workers = parallel.worker_count(plan)
        if workers < 2:
            with _collect_per_batch() as collect:
                prepared = _read_here(settings, plan, hashes, progress)
                _record(con, settings, prepared, hashes, report, collect)
            _finish(con, settings, plan, progress, blocked, now, report)
            return report
    # Workers are forked while no DuckDB connection is open; only this process writes to it,
    # recording each system's batches in batch_id order as the workers finish them.
    with (
        _collect_per_batch() as collect,
        parallel.Workers(
            settings=settings,
            plan=plan,
            sources=reading.earlier_loads(plan, hashes),
            count=workers,
            prepare=reading.prepare,
        ) as pool,
        connect(settings) as con,
    ):
        prepared = _read_in_workers(settings, pool, len(plan), hashes, progress)
        _record(con, settings, prepared, hashes, report, collect)
        _finish(con, settings, plan, progress, blocked, now, report)
    return report


def _read_here(
    settings: Settings,
    plan: list[PlannedBatch],
    hashes: Hashes,
    progress: ProgressCallback | None,
) -> Iterator[PreparedBatch]:
    """Each batch read in this process, lazily: the one before is recorded first, so its files
    count as loaded."""
    for done, planned in enumerate(plan):
        if progress:
            progress(done, len(plan), planned.batch.label)
        yield reading.prepare(settings, planned, hashes)


def _read_in_workers(
    settings: Settings,
    pool: parallel.Workers,
    total: int,
    hashes: Hashes,
    progress: ProgressCallback | None,
) -> Iterator[PreparedBatch]:
    """Each batch as the workers finish it (each system's in order), read again here when a
    worker's duplicate decisions differ from a serial load's (:func:`reading.consistent`)."""
    for done, prepared in enumerate(pool.in_order()):
        if progress:
            progress(done, total, prepared.batch.label)
        if not reading.consistent(prepared, hashes):
            log.info(
                "%s: read again in this process (duplicate content across systems)",
                prepared.batch.label,
            )
            prepared = reading.prepare(settings, prepared.planned, hashes)
        yield prepared


def _record(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    batches: Iterable[PreparedBatch],
    hashes: Hashes,
    report: IngestReport,
    collect: Callable[[], object],
) -> None:
    """The commit loop: publish and record each prepared batch, or quarantine it."""
    for prepared in batches:
        _commit(con, settings, prepared, hashes, report)
        collect()


def _finish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    plan: list[PlannedBatch],
    progress: ProgressCallback | None,
    blocked: list[blocking.Blocked],
    now: datetime,
    report: IngestReport,
) -> None:
    if progress:
        progress(len(plan), len(plan), "done")
    refresh_raw_views(con, settings)
    blocking.raise_alarms(con, blocked, settings, now, report)


# ---------------------------------------------------------------------------------- recovery


def _recover(
    con: duckdb.DuckDBPyConnection, settings: Settings, landing: Path, report: IngestReport
) -> None:
    """Undo what a killed load left: temporary folders, and Parquet of unfinished batches."""
    for folder in remove_temporary(settings.raw_zone):
        log.info("removed temporary folder %s of an interrupted load", folder)
    for system, batch_id in ledger.interrupted(con):
        BatchWriter(settings.raw_zone, system, batch_id, lineage_now()).clear()
        if (landing / system / batch_id / MANIFEST).is_file():
            report.note(
                f"{system}/{batch_id}: an earlier load was interrupted; loading it again",
                logging.INFO,
            )
        else:
            reason = "load was interrupted and the batch is no longer in the landing zone"
            ledger.record_outcome(
                con, system, batch_id, None, ledger.INTERRUPTED, reason, [], lineage_now()
            )
            report.note(f"{system}/{batch_id}: {reason}")


# ---------------------------------------------------------------------------------- discovery


def _discover(
    con: duckdb.DuckDBPyConnection, landing: Path, report: IngestReport
) -> tuple[list[LandingBatch], list[blocking.Blocked]]:
    """Batches to load, in batch_id order per system, and the batches that block later ones.

    A symbolic link where a batch folder should be, and a folder named like a batch whose name
    is no real UTC time, are planned only to be quarantined. A folder without a manifest is
    still arriving: the later batches of its system wait behind it.
    """
    plan: list[LandingBatch] = []
    blocked: list[blocking.Blocked] = []
    for system in SYSTEMS:
        root = landing / system
        if not root.is_dir():
            continue
        try:
            with os.scandir(root) as scan:
                entries = sorted(
                    (e for e in scan if not e.name.startswith(".")), key=lambda e: e.name
                )
        except OSError as exc:  # the other systems still load
            report.note(f"{system}: landing folder cannot be listed ({exc.strerror})", logging.ERROR)
            continue
        found, blocking_batch = _discover_system(con, system, entries, report)
        plan.extend(found)
        if blocking_batch:
            blocked.append(blocking_batch)
    return plan, blocked


def _discover_system(
    con: duckdb.DuckDBPyConnection,
    system: str,
    entries: list[os.DirEntry[str]],
    report: IngestReport,
) -> tuple[list[LandingBatch], blocking.Blocked | None]:
    """The batches of one system's folder to load, and the batch blocking later ones, if any."""
    states = ledger.batch_states(con, system)
    latest_loaded = max((b for b, s in states.items() if s == ledger.LOADED), default="")
    plan: list[LandingBatch] = []
    arriving: LandingBatch | None = None
    waiting: list[str] = []
    for entry in entries:
        link = entry.is_symlink()
        if not link and not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        batch = LandingBatch(system=system, batch_id=entry.name, folder=folder)
        if not BATCH_ID.fullmatch(entry.name):
            report.note(
                f"{batch.label}: not a batch folder (name is not a UTC stamp "
                "YYYYMMDDTHHMMSSZ); ignored"
            )
            continue
        state = states.get(entry.name)
        if state == ledger.LOADED or (
            state == ledger.QUARANTINED and os.path.lexists(folder / QUARANTINED_MARKER)
        ):
            report.batches_skipped += 1
            continue
        if link:
            plan.append(dataclasses.replace(batch, problem=f"batch folder {SYMLINK}"))
            continue
        if batch_time(entry.name) is None:
            if os.path.lexists(folder / MANIFEST):
                problem = f"batch id {entry.name} is not a real UTC time (YYYYMMDDTHHMMSSZ)"
                plan.append(dataclasses.replace(batch, problem=problem))
            else:
                report.note(
                    f"{batch.label}: batch id is not a real UTC time; ignored (quarantined "
                    "once its manifest arrives), later batches do not wait for it"
                )
            continue
        if not os.path.lexists(folder / MANIFEST):
            report.batches_pending += 1
            report.note(
                f"{batch.label}: no {MANIFEST} yet; batch still arriving, not read",
                logging.INFO,
            )
            arriving = arriving or batch
            continue
        if arriving:
            report.batches_pending += 1
            waiting.append(entry.name)
            report.note(
                f"{batch.label}: waits for earlier batch {arriving.label}, still arriving "
                "(batches load in batch_id order)",
                logging.INFO,
            )
            continue
        if entry.name < latest_loaded:
            report.note(
                f"{batch.label}: arrived after later batch {system}/{latest_loaded} "
                "was loaded; loading it now",
                logging.INFO,
            )
        plan.append(batch)
    if not (arriving and waiting):
        return plan, None
    return plan, blocking.Blocked(
        system=system, batch_id=arriving.batch_id, folder=arriving.folder, waiting=waiting
    )


# ---------------------------------------------------------------------------------- planning


def _plan(batches: list[LandingBatch], settings: Settings, now: datetime) -> list[PlannedBatch]:
    """Each batch with its manifest read and its times checked, or the reason it is refused."""
    return [_plan_batch(batch, settings, now) for batch in batches]


def _plan_batch(batch: LandingBatch, settings: Settings, now: datetime) -> PlannedBatch:
    if batch.problem:
        return PlannedBatch(batch=batch, manifest=None, manifest_error=batch.problem)
    try:
        manifest = read_manifest(batch.folder, batch.system)
    except ManifestError as exc:
        return PlannedBatch(batch=batch, manifest=None, manifest_error=f"{MANIFEST}: {exc}")
    except Exception as exc:  # a hostile manifest must not stop the other batches
        problem = f"{MANIFEST}: unexpected error while reading it: {describe_error(exc)}"
        return PlannedBatch(batch=batch, manifest=None, manifest_error=problem)
    problem = check_times(manifest, now, settings.batch_clock_skew_hours)
    if problem:
        # extracted_at is recorded with the refusal only when it is believable
        return PlannedBatch(batch=batch, manifest=None, manifest_error=f"{MANIFEST}: {problem}")
    return PlannedBatch(batch=batch, manifest=manifest)


# ---------------------------------------------------------------------------------- recording


def _commit(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    prepared: PreparedBatch,
    hashes: Hashes,
    report: IngestReport,
) -> None:
    """Publish a prepared batch's Parquet and record it, or quarantine it."""
    batch, manifest = prepared.batch, prepared.planned.manifest
    for message, level in prepared.report.notes:
        report.note(message, level)
    report.files_skipped_duplicate += prepared.report.files_skipped_duplicate
    if prepared.problems is not None or manifest is None:
        _quarantine(con, settings, batch, manifest, prepared.problems or [], report)
        return
    writer = BatchWriter(settings.raw_zone, batch.system, batch.batch_id, prepared.loaded_at)
    writer.written = prepared.tables
    writer.publish()
    outcomes = prepared.outcomes
    ledger.commit_loaded(
        con,
        batch.system,
        batch.batch_id,
        manifest.extracted_at,
        outcomes,
        prepared.rejects,
        prepared.validations,
        lineage_now(),
    )
    for outcome in outcomes:
        if outcome.status == ledger.FILE_LOADED and outcome.sha256:
            hashes.setdefault(outcome.sha256, (batch.system, batch.batch_id, outcome.file))
    loaded = [o for o in outcomes if o.status == ledger.FILE_LOADED]
    report.batches_loaded += 1
    report.files_loaded += len(loaded)
    report.rows_loaded += sum(o.rows_loaded for o in loaded)
    report.rows_rejected += sum(o.rows_rejected for o in loaded)
    log.info(
        "%s: loaded %d file(s), %d row(s), %d reject(s)",
        batch.label,
        len(loaded),
        sum(o.rows_loaded for o in loaded),
        sum(o.rows_rejected for o in loaded),
    )


# ---------------------------------------------------------------------------------- quarantine


def _quarantine_target(settings: Settings, batch: LandingBatch) -> Path:
    base = Path(settings.quarantine) / batch.system  # type: ignore[arg-type]
    target = base / batch.batch_id
    n = 2
    while target.exists():  # keep an earlier quarantined delivery of the same batch
        target = base / f"{batch.batch_id}.{n}"
        n += 1
    return target


def _move_to_quarantine(batch: LandingBatch, target: Path, reason: str) -> str:
    """Move (else copy and mark) the batch to ``target`` with its reason; how it went.

    Links are moved or copied as links, never followed; a batch folder that is itself a link
    is moved into ``target`` as ``batch-folder-link``, so the reason is never written through it.
    """
    text = f"{batch.label} quarantined at {lineage_now().isoformat()}Z\n{reason}\n"
    try:
        if batch.folder.is_symlink():
            target.mkdir()
            shutil.move(str(batch.folder), str(target / "batch-folder-link"))
            how = "moved"
        else:
            try:
                shutil.move(str(batch.folder), str(target))
                how = "moved"
            except OSError:
                shutil.copytree(batch.folder, target, symlinks=True, dirs_exist_ok=True)
                how = "copied"
                (batch.folder / QUARANTINED_MARKER).write_text(reason + "\n", encoding="utf-8")
        (target / REASON_FILE).write_text(text, encoding="utf-8")
    except OSError as exc:
        log.error("%s: cannot move the batch to quarantine (%s)", batch.label, exc.strerror)
        return "left in the landing zone: it could not be moved"
    return f"{how} to {target}"


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    batch: LandingBatch,
    manifest: Manifest | None,
    problems: list[str],
    report: IngestReport,
) -> None:
    """Move the whole batch out of landing with its reason; nothing of it stays in the raw zone."""
    at = lineage_now()
    BatchWriter(settings.raw_zone, batch.system, batch.batch_id, at).clear()
    target = _quarantine_target(settings, batch)
    target.parent.mkdir(parents=True, exist_ok=True)
    reason = "; ".join(problems)
    how = _move_to_quarantine(batch, target, reason)
    files = [
        ledger.FileOutcome(
            file=f.path,
            sha256=f.sha256,
            records=f.records,
            rows_loaded=0,
            rows_rejected=0,
            status=ledger.FILE_QUARANTINED,
            started_at=at,
            finished_at=at,
            error=next((p for p in problems if p.startswith(f"{f.path}:")), None),
        )
        for f in (manifest.files if manifest else ())
    ]
    ledger.record_outcome(
        con,
        batch.system,
        batch.batch_id,
        manifest.extracted_at if manifest else None,
        ledger.QUARANTINED,
        reason,
        files,
        at,
    )
    report.batches_quarantined += 1
    for problem in problems:
        report.note(f"{batch.label}/{problem}")
    report.note(f"{batch.label}: batch quarantined ({how})")
