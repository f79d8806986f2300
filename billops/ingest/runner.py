"""``ingest()``: discover landing batches, verify them, load them into the raw zone, keep the ledger."""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.ingest import blocking, ledger, parallel
from billops.ingest.landing_files import SYMLINK, BatchFolder, HashedFile, LandingFileError
from billops.ingest.manifest import (
    BATCH_ID,
    MANIFEST,
    SYSTEMS,
    FileKind,
    Manifest,
    ManifestError,
    ManifestFile,
    batch_time,
    check_times,
    file_kind,
    read_manifest,
)
from billops.ingest.parquet import BatchWriter, remove_temporary
from billops.sources import FileError, ReadLimits, Reject, Row, SourceReader, describe_error
from billops.sources.csvfiles import read_csv
from billops.sources.fhir import read_ndjson
from billops.sources.values import printable
from billops.sources.x12 import read_x12
from billops.warehouse import connect, refresh_raw_views

log = logging.getLogger("billops.ingest")

REASON_FILE = "_reason.txt"
# Left in a landing batch that could not be moved to quarantine, so it is not read again.
QUARANTINED_MARKER = "_QUARANTINED"
MESSAGES_PER_FILE = 20
# sha256 of zero bytes: empty files carry no content to post twice, so they are never duplicates.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    batches_loaded: int = 0
    batches_skipped: int = 0  # already loaded (a re-delivered batch changes nothing)
    batches_quarantined: int = 0
    files_loaded: int = 0
    files_skipped_duplicate: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    messages: list[str] = field(default_factory=list)
    batches_pending: int = 0  # still arriving, or waiting behind an earlier batch that is
    # One line naming each batch that has blocked its system's later batches for longer than
    # settings.blocked_batch_wait_hours; the CLI exits non-zero with it.
    blocked_alert: str = ""

    def note(self, message: str, level: int = logging.WARNING) -> None:
        """Add a one-line message (never PHI) and log it."""
        message = " ".join(message.split())
        self.messages.append(message)
        log.log(level, "%s", message)


@dataclass
class _BatchNotes:
    """Messages of one batch, kept until the batch is recorded (then logged, in batch order)."""

    notes: list[tuple[str, int]] = field(default_factory=list)
    files_skipped_duplicate: int = 0

    def note(self, message: str, level: int = logging.WARNING) -> None:
        self.notes.append((message, level))


@dataclass(frozen=True)
class _Batch:
    system: str
    batch_id: str
    folder: Path
    problem: str | None = None  # refused before its manifest is read (quarantined with this)

    @property
    def label(self) -> str:
        return f"{self.system}/{self.batch_id}"


class _Quarantine(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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


def _now() -> datetime:
    """Wall-clock UTC, for lineage only (rules use the batches' extracted_at)."""
    return datetime.now(UTC).replace(tzinfo=None)


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
    now = now or _now()
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
        ledger.start_batches(con, [p.ledger_key for p in plan], _now())
        workers = parallel.worker_count(plan)
        if workers < 2:
            with _collect_per_batch() as collect:
                for done, planned in enumerate(plan):
                    if progress:
                        progress(done, len(plan), planned.batch.label)
                    _commit(con, settings, prepare(settings, planned, hashes), hashes, report)
                    collect()
            _finish(con, settings, plan, progress)
            blocking.raise_alarms(con, blocked, settings, now, report)
            return report
    # Workers are forked while no DuckDB connection is open; only this process writes to it,
    # recording each system's batches in batch_id order as the workers finish them.
    with (
        _collect_per_batch() as collect,
        parallel.Workers(settings, plan, _sources(plan, hashes), workers, prepare) as pool,
        connect(settings) as con,
    ):
        for done, prepared in enumerate(pool.in_order()):
            if progress:
                progress(done, len(plan), prepared.batch.label)
            if not _consistent(prepared, hashes):
                prepared = _prepare_again(settings, prepared, hashes)
            _commit(con, settings, prepared, hashes, report)
            collect()
        _finish(con, settings, plan, progress)
        blocking.raise_alarms(con, blocked, settings, now, report)
    return report


def _finish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    plan: list[PlannedBatch],
    progress: ProgressCallback | None,
) -> None:
    if progress:
        progress(len(plan), len(plan), "done")
    refresh_raw_views(con, settings)


# ---------------------------------------------------------------------------------- recovery


def _recover(
    con: duckdb.DuckDBPyConnection, settings: Settings, landing: Path, report: IngestReport
) -> None:
    """Undo what a killed load left: temporary folders, and Parquet of unfinished batches."""
    for folder in remove_temporary(settings.raw_zone):
        log.info("removed temporary folder %s of an interrupted load", folder)
    for system, batch_id in ledger.interrupted(con):
        BatchWriter(settings.raw_zone, system, batch_id, _now()).clear()
        if (landing / system / batch_id / MANIFEST).is_file():
            report.note(
                f"{system}/{batch_id}: an earlier load was interrupted; loading it again",
                logging.INFO,
            )
        else:
            reason = "load was interrupted and the batch is no longer in the landing zone"
            ledger.record_outcome(
                con, system, batch_id, None, ledger.INTERRUPTED, reason, [], _now()
            )
            report.note(f"{system}/{batch_id}: {reason}")


# ---------------------------------------------------------------------------------- discovery


def _discover(
    con: duckdb.DuckDBPyConnection, landing: Path, report: IngestReport
) -> tuple[list[_Batch], list[blocking.Blocked]]:
    """Batches to load, in batch_id order per system, and the batches that block later ones.

    A symbolic link where a batch folder should be, and a folder named like a batch whose name
    is no real UTC time, are planned only to be quarantined. A folder without a manifest is
    still arriving: the later batches of its system wait behind it.
    """
    plan: list[_Batch] = []
    blocked: list[blocking.Blocked] = []
    for system in SYSTEMS:
        root = landing / system
        if not root.is_dir():
            continue
        states = ledger.batch_states(con, system)
        latest_loaded = max((b for b, s in states.items() if s == ledger.LOADED), default="")
        arriving: _Batch | None = None
        waiting: list[str] = []
        try:
            with os.scandir(root) as scan:
                entries = sorted(
                    (e for e in scan if not e.name.startswith(".")), key=lambda e: e.name
                )
        except OSError as exc:  # the other systems still load
            report.note(f"{system}: landing folder cannot be listed ({exc.strerror})", logging.ERROR)
            continue
        for entry in entries:
            link = entry.is_symlink()
            if not link and not entry.is_dir(follow_symlinks=False):
                continue
            folder = Path(entry.path)
            batch = _Batch(system, entry.name, folder)
            if not BATCH_ID.fullmatch(entry.name):
                report.note(
                    f"{batch.label}: not a batch folder (name is not a UTC stamp "
                    "YYYYMMDDTHHMMSSZ); ignored"
                )
                continue
            state = states.get(entry.name)
            if state == ledger.LOADED:
                report.batches_skipped += 1
                continue
            if state == ledger.QUARANTINED and os.path.lexists(folder / QUARANTINED_MARKER):
                report.batches_skipped += 1
                continue
            if link:
                plan.append(_Batch(system, entry.name, folder, f"batch folder {SYMLINK}"))
                continue
            if batch_time(entry.name) is None:
                if os.path.lexists(folder / MANIFEST):
                    problem = f"batch id {entry.name} is not a real UTC time (YYYYMMDDTHHMMSSZ)"
                    plan.append(_Batch(system, entry.name, folder, problem))
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
        if arriving and waiting:
            blocked.append(blocking.Blocked(system, arriving.batch_id, arriving.folder, waiting))
    return plan, blocked


# ---------------------------------------------------------------------------------- one batch


def _reader(kind: FileKind, source: HashedFile, limits: ReadLimits) -> SourceReader:
    if kind.format == "ndjson":
        return read_ndjson(source, kind.name, limits)
    if kind.format == "x12":
        # the tokenizer reads an open binary file (billops.sources.x12_tokenizer.read_chunks)
        return read_x12(io.BufferedReader(source, 1 << 20), kind.name, limits)  # type: ignore[arg-type]
    return read_csv(source, kind.name, limits)


def _drain(reader: SourceReader, writer: BatchWriter, file: str) -> tuple[int, int, list[Reject]]:
    """Write the reader's rows; returns (records, rows written, rejects)."""
    rows = 0
    rejects: list[Reject] = []
    while True:
        try:
            item = next(reader)
        except StopIteration as stop:
            return int(stop.value), rows, rejects
        if isinstance(item, Row):
            writer.write(item.table, item.values, file, item.record)
            rows += 1
        else:
            rejects.append(item)


def _verify(
    batch: _Batch, manifest: Manifest, folder: BatchFolder, report: _BatchNotes
) -> list[tuple[ManifestFile, FileKind]]:
    """Every listed file of this system, present, and a regular file inside the batch folder
    (its sha256 and encoding are checked as it is read); unlisted files are reported."""
    problems: list[str] = []
    verified = []
    for listed in manifest.files:
        kind = file_kind(batch.system, listed.path)
        if kind is None:
            problems.append(
                f"{listed.path}: not a file of system {batch.system} that this warehouse knows"
            )
            continue
        try:
            folder.check(listed.path)
        except LandingFileError as exc:
            problems.append(f"{listed.path}: {exc}")
            continue
        verified.append((listed, kind))
    if problems:
        raise _Quarantine(problems)
    listed_paths = {f.path for f in manifest.files} | {MANIFEST}
    for rel, link in folder.entries():
        if link:
            report.note(f"{batch.label}/{rel}: {SYMLINK}; not read")
        elif rel not in listed_paths:
            report.note(f"{batch.label}/{rel}: not listed in the manifest; not read")
    return verified


@dataclass
class PlannedBatch:
    """A batch to load, with its manifest read (or why it cannot be) before any file is."""

    batch: _Batch
    manifest: Manifest | None
    manifest_error: str | None = None

    @property
    def ledger_key(self) -> tuple[str, str, datetime | None]:
        extracted_at = self.manifest.extracted_at if self.manifest else None
        return self.batch.system, self.batch.batch_id, extracted_at

    @property
    def size(self) -> int:
        """Bytes of the listed files that exist (how much work the batch is)."""
        if self.manifest is None:
            return 0
        total = 0
        for listed in self.manifest.files:
            with contextlib.suppress(OSError):
                total += os.lstat(self.batch.folder / listed.path).st_size
        return total


@dataclass
class PreparedBatch:
    """A batch read and written to temporary Parquet, not yet published nor recorded.

    ``problems`` set means the batch is to be quarantined for them; ``report`` holds the
    messages and duplicate count of the batch alone.
    """

    planned: PlannedBatch
    loaded_at: datetime
    report: _BatchNotes
    problems: list[str] | None = None
    outcomes: list[ledger.FileOutcome] = field(default_factory=list)
    rejects: list[ledger.RejectRecord] = field(default_factory=list)
    validations: list[ledger.ValidationRecord] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    @property
    def batch(self) -> _Batch:
        return self.planned.batch


def _plan(batches: list[_Batch], settings: Settings, now: datetime) -> list[PlannedBatch]:
    """Each batch with its manifest read and its times checked, or the reason it is refused."""
    planned = []
    for batch in batches:
        if batch.problem:
            planned.append(PlannedBatch(batch, None, batch.problem))
            continue
        try:
            manifest = read_manifest(batch.folder, batch.system)
        except ManifestError as exc:
            planned.append(PlannedBatch(batch, None, f"{MANIFEST}: {exc}"))
            continue
        except Exception as exc:  # a hostile manifest must not stop the other batches
            problem = f"{MANIFEST}: unexpected error while reading it: {describe_error(exc)}"
            planned.append(PlannedBatch(batch, None, problem))
            continue
        problem = check_times(manifest, now, settings.batch_clock_skew_hours)
        if problem:
            # extracted_at is recorded with the refusal only when it is believable
            planned.append(PlannedBatch(batch, None, f"{MANIFEST}: {problem}"))
            continue
        planned.append(PlannedBatch(batch, manifest))
    return planned


Sources = Mapping[str, tuple[str, str, str]]  # sha256 -> (system, batch_id, file) loaded before


def _sources(plan: list[PlannedBatch], hashes: Sources) -> list[dict[str, tuple[str, str, str]]]:
    """For each planned batch, the earlier load of each of its files' content that a serial load
    would find: in the ledger, or in a batch of the same system planned before (taken as
    loaded; :func:`_consistent` checks that when the batch is recorded)."""
    seen: dict[str, dict[str, tuple[str, str, str]]] = {}
    found = []
    for planned in plan:
        batch = planned.batch
        system = seen.setdefault(batch.system, {})
        files = planned.manifest.files if planned.manifest else ()
        earlier = {}
        for listed in files:
            source = hashes.get(listed.sha256) or system.get(listed.sha256)
            if source and listed.sha256 != EMPTY_SHA256:
                earlier[listed.sha256] = source
        for listed in files:
            kind = file_kind(batch.system, listed.path)
            if kind is not None and kind.format != "ignored" and listed.sha256 != EMPTY_SHA256:
                system.setdefault(listed.sha256, (batch.system, batch.batch_id, listed.path))
        found.append(earlier)
    return found


def prepare(settings: Settings, planned: PlannedBatch, earlier: Sources) -> PreparedBatch:
    """Verify and read one batch into temporary Parquet; a file whose sha256 is in ``earlier``
    is skipped as a duplicate. Runs in a worker process when the load is parallel."""
    batch, manifest = planned.batch, planned.manifest
    prepared = PreparedBatch(planned, _now(), _BatchNotes())
    if manifest is None:
        prepared.problems = [planned.manifest_error or f"{MANIFEST}: unreadable"]
        return prepared
    writer = BatchWriter(settings.raw_zone, batch.system, batch.batch_id, prepared.loaded_at)
    writer.clear()
    in_batch: dict[str, str] = {}
    limits = ReadLimits(settings.max_record_bytes, settings.max_json_depth)
    current = MANIFEST
    try:
        with BatchFolder(batch.folder) as folder:
            for listed, kind in _verify(batch, manifest, folder, prepared.report):
                current = listed.path
                outcome = _load_file(
                    batch, folder, listed, kind, writer, earlier, in_batch, prepared, limits
                )
                prepared.outcomes.append(outcome)
    except _Quarantine as exc:
        writer.clear()
        prepared.problems = exc.problems
        return prepared
    except LandingFileError as exc:  # the batch folder itself
        writer.clear()
        prepared.problems = [str(exc)]
        return prepared
    except Exception as exc:  # one unreadable file quarantines its batch, never the run
        writer.clear()
        prepared.rejects.clear()
        prepared.problems = [f"{current}: unexpected error while reading: {describe_error(exc)}"]
        return prepared
    writer.close()
    prepared.tables = list(writer.written)
    return prepared


def _consistent(prepared: PreparedBatch, hashes: Sources) -> bool:
    """Whether a batch read in a worker took the same duplicate decisions as a serial load.

    A worker decides from the ledger and the batches of its system planned before; a file it
    loaded whose content another system's batch has recorded meanwhile, or a file it skipped for
    a planned batch that was quarantined instead, makes it wrong, and the batch is read again.
    """
    loaded = {o.sha256 for o in prepared.outcomes if o.status == ledger.FILE_LOADED}
    for outcome in prepared.outcomes:
        sha = outcome.sha256
        if not sha or sha == EMPTY_SHA256:
            continue
        if outcome.status == ledger.FILE_LOADED:
            if sha in hashes:
                return False
        elif outcome.status == ledger.FILE_SKIPPED_DUPLICATE and sha not in loaded:
            source = hashes.get(sha)  # a serial load would name the first file recorded
            if source is None or outcome.error != f"duplicate of {'/'.join(source)}":
                return False
    return True


def _prepare_again(settings: Settings, prepared: PreparedBatch, hashes: Sources) -> PreparedBatch:
    log.info(
        "%s: read again in this process (duplicate content across systems)", prepared.batch.label
    )
    return prepare(settings, prepared.planned, hashes)


def _commit(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    prepared: PreparedBatch,
    hashes: dict[str, tuple[str, str, str]],
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
        _now(),
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


def _load_file(
    batch: _Batch,
    folder: BatchFolder,
    listed: ManifestFile,
    kind: FileKind,
    writer: BatchWriter,
    earlier_loads: Sources,
    in_batch: dict[str, str],
    prepared: PreparedBatch,
    limits: ReadLimits,
) -> ledger.FileOutcome:
    started = _now()
    report = prepared.report
    where = f"{batch.label}/{listed.path}"
    earlier = earlier_loads.get(listed.sha256) if listed.sha256 != EMPTY_SHA256 else None
    try:
        source = folder.open(listed.path)
    except LandingFileError as exc:  # changed since _verify looked
        raise _Quarantine([f"{listed.path}: {exc}"]) from exc
    try:
        if earlier or (listed.sha256 in in_batch and listed.sha256 != EMPTY_SHA256):
            _check_content(listed, source)
            origin = "/".join(earlier) if earlier else f"{batch.label}/{in_batch[listed.sha256]}"
            report.files_skipped_duplicate += 1
            report.note(f"{where}: same content (sha256) as {origin}, already loaded; skipped")
            return ledger.FileOutcome(
                listed.path,
                listed.sha256,
                listed.records,
                0,
                0,
                ledger.FILE_SKIPPED_DUPLICATE,
                started,
                _now(),
                f"duplicate of {origin}",
            )
        if kind.format == "ignored":
            _check_content(listed, source)
            report.note(
                f"{where}: {kind.name} is not a resource this warehouse loads; not read"
            )
            return ledger.FileOutcome(
                listed.path,
                listed.sha256,
                listed.records,
                0,
                0,
                ledger.FILE_IGNORED,
                started,
                _now(),
                "not a loaded resource",
            )
        try:
            records, rows, file_rejects = _drain(_reader(kind, source, limits), writer, listed.path)
        except FileError as exc:
            _check_content(listed, source)  # a wrong checksum or encoding is the better reason
            raise _Quarantine([f"{listed.path}: {exc}"]) from exc
        _check_content(listed, source)
    finally:
        source.release()
    if records != listed.records:
        raise _Quarantine([f"{listed.path}: {records} records, the manifest says {listed.records}"])
    in_batch[listed.sha256] = listed.path
    for number, reject in enumerate(file_rejects):
        prepared.rejects.append(
            ledger.RejectRecord(
                listed.path,
                reject.record,
                reject.reason,
                printable(reject.original_text),
                reject.unit,
                reject.unit_key,
                reject.amount,
            )
        )
        if number < MESSAGES_PER_FILE:
            report.note(f"{where}: record {reject.record}: {reject.reason}")
    if len(file_rejects) > MESSAGES_PER_FILE:
        report.note(
            f"{where}: {len(file_rejects) - MESSAGES_PER_FILE} more rejected record(s); "
            "see raw._rejects"
        )
    if kind.format == "x12":  # validated later by billops validate-x12, off the load path
        prepared.validations.append(
            ledger.ValidationRecord(listed.path, listed.sha256, ledger.X12_PENDING)
        )
    return ledger.FileOutcome(
        listed.path,
        listed.sha256,
        records,
        rows,
        len(file_rejects),
        ledger.FILE_LOADED,
        started,
        _now(),
        snapshot=listed.snapshot,
    )


def _check_content(listed: ManifestFile, source: HashedFile) -> None:
    """The bytes read (and the rest of the file) hash to the manifest's sha256 and are UTF-8."""
    sha = source.finish()
    if sha != listed.sha256:
        raise _Quarantine(
            [f"{listed.path}: sha256 {sha[:12]}… differs from the manifest's {listed.sha256[:12]}…"]
        )
    if source.utf8_problem:
        raise _Quarantine([f"{listed.path}: unreadable: {source.utf8_problem}"])


# ---------------------------------------------------------------------------------- quarantine


def _quarantine_target(settings: Settings, batch: _Batch) -> Path:
    base = Path(settings.quarantine) / batch.system  # type: ignore[arg-type]
    target = base / batch.batch_id
    n = 2
    while target.exists():  # keep an earlier quarantined delivery of the same batch
        target = base / f"{batch.batch_id}.{n}"
        n += 1
    return target


def _move_to_quarantine(batch: _Batch, target: Path, reason: str) -> str:
    """Move (else copy and mark) the batch to ``target`` with its reason; how it went.

    Links are moved or copied as links, never followed; a batch folder that is itself a link
    is moved into ``target`` as ``batch-folder-link``, so the reason is never written through it.
    """
    text = f"{batch.label} quarantined at {_now().isoformat()}Z\n{reason}\n"
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
    batch: _Batch,
    manifest: Manifest | None,
    problems: list[str],
    report: IngestReport,
) -> None:
    """Move the whole batch out of landing with its reason; nothing of it stays in the raw zone."""
    at = _now()
    BatchWriter(settings.raw_zone, batch.system, batch.batch_id, at).clear()
    target = _quarantine_target(settings, batch)
    target.parent.mkdir(parents=True, exist_ok=True)
    reason = "; ".join(problems)
    how = _move_to_quarantine(batch, target, reason)
    files = [
        ledger.FileOutcome(
            f.path,
            f.sha256,
            f.records,
            0,
            0,
            ledger.FILE_QUARANTINED,
            at,
            at,
            next((p for p in problems if p.startswith(f"{f.path}:")), None),
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
