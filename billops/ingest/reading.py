"""Reading one planned batch: verify its files against the manifest and parse them into
temporary Parquet (:func:`prepare`), in this process or in a worker process
(:mod:`billops.ingest.parallel`).

Nothing here writes the ledger or publishes Parquet: the runner records each prepared batch.
"""

from __future__ import annotations

import io
from datetime import datetime

from billops.config import Settings
from billops.ingest import ledger
from billops.ingest.batches import (
    BatchNotes,
    LandingBatch,
    PlannedBatch,
    PreparedBatch,
    Sources,
    lineage_now,
)
from billops.ingest.landing_files import SYMLINK, BatchFolder, HashedFile, LandingFileError
from billops.ingest.manifest import MANIFEST, FileKind, Manifest, ManifestFile, file_kind
from billops.ingest.parquet import BatchWriter
from billops.sources import FileError, ReadLimits, Reject, Row, SourceReader, describe_error
from billops.sources.csvfiles import read_csv
from billops.sources.fhir import read_ndjson
from billops.sources.values import printable
from billops.sources.x12 import read_x12

MESSAGES_PER_FILE = 20
# sha256 of zero bytes: empty files carry no content to post twice, so they are never duplicates.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class _Quarantine(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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
    batch: LandingBatch, manifest: Manifest, folder: BatchFolder, report: BatchNotes
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


def earlier_loads(
    plan: list[PlannedBatch], hashes: Sources
) -> list[dict[str, tuple[str, str, str]]]:
    """For each planned batch, the earlier load of each of its files' content that a serial load
    would find: in the ledger, or in a batch of the same system planned before (taken as
    loaded; :func:`consistent` checks that when the batch is recorded)."""
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
    prepared = PreparedBatch(planned=planned, loaded_at=lineage_now(), report=BatchNotes())
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


def consistent(prepared: PreparedBatch, hashes: Sources) -> bool:
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


def _not_read(
    listed: ManifestFile, status: str, started: datetime, error: str
) -> ledger.FileOutcome:
    """The outcome of a listed file whose content was checked but not loaded."""
    return ledger.FileOutcome(
        file=listed.path,
        sha256=listed.sha256,
        records=listed.records,
        rows_loaded=0,
        rows_rejected=0,
        status=status,
        started_at=started,
        finished_at=lineage_now(),
        error=error,
    )


def _load_file(
    batch: LandingBatch,
    folder: BatchFolder,
    listed: ManifestFile,
    kind: FileKind,
    writer: BatchWriter,
    earlier_loads: Sources,
    in_batch: dict[str, str],
    prepared: PreparedBatch,
    limits: ReadLimits,
) -> ledger.FileOutcome:
    started = lineage_now()
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
            return _not_read(
                listed, ledger.FILE_SKIPPED_DUPLICATE, started, f"duplicate of {origin}"
            )
        if kind.format == "ignored":
            _check_content(listed, source)
            report.note(
                f"{where}: {kind.name} is not a resource this warehouse loads; not read"
            )
            return _not_read(listed, ledger.FILE_IGNORED, started, "not a loaded resource")
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
    _keep_rejects(listed, where, file_rejects, prepared)
    if kind.format == "x12":  # validated later by billops validate-x12, off the load path
        prepared.validations.append(
            ledger.ValidationRecord(
                file=listed.path, sha256=listed.sha256, status=ledger.X12_PENDING
            )
        )
    return ledger.FileOutcome(
        file=listed.path,
        sha256=listed.sha256,
        records=records,
        rows_loaded=rows,
        rows_rejected=len(file_rejects),
        status=ledger.FILE_LOADED,
        started_at=started,
        finished_at=lineage_now(),
        snapshot=listed.snapshot,
    )


def _keep_rejects(
    listed: ManifestFile, where: str, file_rejects: list[Reject], prepared: PreparedBatch
) -> None:
    """Hold a loaded file's rejected records for raw._rejects; a message for the first few."""
    for number, reject in enumerate(file_rejects):
        prepared.rejects.append(
            ledger.RejectRecord(
                file=listed.path,
                record=reject.record,
                reason=reject.reason,
                original_text=printable(reject.original_text),
                unit=reject.unit,
                unit_key=reject.unit_key,
                amount=reject.amount,
            )
        )
        if number < MESSAGES_PER_FILE:
            prepared.report.note(f"{where}: record {reject.record}: {reject.reason}")
    if len(file_rejects) > MESSAGES_PER_FILE:
        prepared.report.note(
            f"{where}: {len(file_rejects) - MESSAGES_PER_FILE} more rejected record(s); "
            "see raw._rejects"
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
