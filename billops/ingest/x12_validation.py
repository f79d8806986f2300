"""``billops validate-x12``: implementation-guide validation of loaded X12 files, after the load.

``settings.x12_validator`` (``BILLOPS_X12_VALIDATOR``) picks the validator: ``billops`` (the
default: ``billops.sources.x12.ig``, driven by pyx12's maps and checked against pyx12 by
tests/test_x12_ig_differential.py) or ``pyx12`` itself; results are recorded the same way.

``billops ingest`` loads each X12 file with the streaming tokenizer and records it ``PENDING`` in
raw._x12_validation, so a load never waits on a validator (pyx12's walk is about fifty times
slower than loading). This step validates the pending files, oldest batch first, and writes each
result over its PENDING row:

* ``VALID``: the file passes its guide, or every error pyx12 reports is one of its known false
  positives (:data:`KNOWN_FALSE_POSITIVES`). Those errors are still recorded in ``errors``, each
  with ``"suppressed"`` set to the id of the entry that matched, and left out of
  ``error_count``, so nothing is hidden.
* ``INVALID``: it tokenizes and passed the envelope checks, so its rows are loaded, but it breaks
  the guide; ``error_count`` and up to 50 ``errors`` (JSON, free of PHI values) say where. The
  rows stay loaded and are not rejected: clearinghouse files often carry guide-level issues that
  do not change the money. The step reports a one-line warning per such file.
* ``UNSUPPORTED``: pyx12 has no map for its guide (such as 005010X222A2); rows stay loaded.
* ``UNAVAILABLE``: the landing file is gone or its content no longer matches the sha256 that
  was loaded, so the loaded content cannot be validated; the rows stay loaded, with a warning.

Results are written in small transactions as they complete, only over rows still PENDING, so a
killed run keeps what it finished, a rerun validates only what is left, and running the step
twice changes nothing. ``limit`` bounds one run (a backlog is worked off oldest first over
several runs); ``workers`` > 1 validates in that many processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.ingest import ledger
from billops.ingest.ledger import PendingValidation, ValidationRecord
from billops.ingest.manifest import digest
from billops.sources.x12.ig.validator import validate_file
from billops.sources.x12.validate import INVALID, UNSUPPORTED, VALID, X12Validation, validate_x12
from billops.warehouse import connect

log = logging.getLogger("billops.ingest")

WRITE_EVERY = 20  # results per ledger transaction
DEFAULT_WORKERS = 2

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class ValidationReport:
    files_validated: int = 0
    valid: int = 0
    invalid: int = 0
    unsupported: int = 0
    unavailable: int = 0
    pending_left: int = 0  # still PENDING after this run (beyond ``limit``)
    messages: list[str] = field(default_factory=list)

    def note(self, message: str, level: int = logging.WARNING) -> None:
        self.messages.append(message)
        log.log(level, "%s", message)


def _now() -> datetime:
    """Wall-clock UTC, for lineage only."""
    return datetime.now(UTC).replace(tzinfo=None)


def _unavailable(reason: str) -> X12Validation:
    return X12Validation(ledger.X12_UNAVAILABLE, 1, [{"level": "file", "message": reason}])


@dataclass(frozen=True)
class KnownFalsePositive:
    """An error pyx12 reports where its own implementation-guide map allows the data.

    It matches an error of ``segment`` whose pyx12 error code is ``code`` and whose message
    matches ``message`` (a regular expression, searched); ``reason`` says why it is false.
    """

    id: str
    segment: str
    code: str
    message: str
    reason: str

    def matches(self, error: dict[str, object]) -> bool:
        return (
            error.get("segment") == self.segment
            and error.get("code") == self.code
            and re.search(self.message, str(error.get("message", ""))) is not None
        )


KNOWN_FALSE_POSITIVES: tuple[KnownFalsePositive, ...] = (
    KnownFalsePositive(
        id="pyx12-835-plb-footer-repeat",
        segment="PLB",
        code="4",
        message=r"^Loop FOOTER exceeded max count",
        reason=(
            "pyx12's 835 map (835.5010.X221.A1) wraps PLB in a FOOTER loop that repeats once "
            "and gives the PLB segment max_use >1, as the guide does; its walker counts every "
            "PLB after the first as a new FOOTER loop, so two or more PLB segments in a row are "
            "reported as 'Loop FOOTER exceeded max count' though the map allows them"
        ),
    ),
)


def suppress_known_false_positives(
    result: X12Validation,
    known: tuple[KnownFalsePositive, ...] = KNOWN_FALSE_POSITIVES,
) -> X12Validation:
    """``result`` with the errors on the ``known`` list flagged ``suppressed`` and not counted.

    An INVALID file whose errors were all seen (at most MAX_ERRORS of them) and all match the
    list becomes VALID. Where pyx12 reported more errors than were kept, the unseen ones count
    as real: only seen errors are ever suppressed.
    """
    if result.status != INVALID or not result.errors:
        return result
    errors: list[dict[str, object]] = []
    suppressed = 0
    for error in result.errors:
        entry = next((k for k in known if k.matches(error)), None)
        if entry is None:
            errors.append(error)
        else:
            errors.append({**error, "suppressed": entry.id})
            suppressed += 1
    if not suppressed:
        return result
    left = result.error_count - suppressed
    return X12Validation(VALID if left == 0 else INVALID, left, errors)


def _validate(path: Path, sha256: str, validator: str = "pyx12") -> X12Validation:
    """The verdict of ``validator`` (``settings.x12_validator``: pyx12, or billops' own) on the
    landing file, if it is still the content that was loaded, with pyx12's known false positives
    suppressed (billops' validator walks as pyx12 does, so it reports them too)."""
    if not path.is_file():
        return _unavailable("the landing file is no longer there")
    if digest(path)[0] != sha256:
        return _unavailable("the landing file changed since it was loaded (sha256 differs)")
    if validator == "billops":
        return suppress_known_false_positives(validate_file(path))
    return suppress_known_false_positives(validate_x12(path))


def _results(
    todo: list[tuple[PendingValidation, Path]], workers: int, validator: str = "pyx12"
) -> Iterator[tuple[PendingValidation, X12Validation]]:
    """Validation results in ``todo`` order, in ``workers`` processes when that helps."""
    inline = workers <= 1 or len(todo) <= 1 or multiprocessing.current_process().daemon
    if inline:
        for item, path in todo:
            yield item, _validate(path, item.sha256, validator)
        return
    # spawn, not fork: the parent may hold DuckDB threads; children only run pyx12.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
        futures = [pool.submit(_validate, path, item.sha256, validator) for item, path in todo]
        for (item, _path), future in zip(todo, futures, strict=True):
            yield item, future.result()


def _record(settings: Settings, results: Iterable[tuple[PendingValidation, X12Validation]]) -> int:
    rows = [
        (
            item,
            ValidationRecord(
                item.file, item.sha256, result.status, result.error_count, result.errors_json
            ),
        )
        for item, result in results
    ]
    with connect(settings) as con:
        return ledger.record_validations(con, rows, _now())


def validate_pending(
    settings: Settings | None = None,
    landing: Path | None = None,
    *,
    limit: int | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: ProgressCallback | None = None,
) -> ValidationReport:
    """Validate the loaded X12 files still PENDING in raw._x12_validation (see the module doc).

    ``landing`` is where the files were loaded from (default ``settings.landing``).
    """
    settings = settings or get_settings()
    if limit is not None and limit < 1:
        raise BillopsError(f"--limit {limit}: expected a positive number of files")
    if workers < 1:
        raise BillopsError(f"--workers {workers}: expected at least 1")
    landing = Path(landing if landing is not None else settings.landing)  # type: ignore[arg-type]
    with connect(settings) as con:
        pending, total = ledger.pending_validations(con, limit)
    report = ValidationReport(pending_left=total)
    todo = [(item, landing / item.system / item.batch_id / item.file) for item in pending]
    done: list[tuple[PendingValidation, X12Validation]] = []
    for count, (item, result) in enumerate(
        _results(todo, workers, settings.x12_validator), start=1
    ):
        if progress:
            progress(count, len(todo), f"{item.system}/{item.batch_id}/{item.file}")
        done.append((item, result))
        _tally(report, item, result, settings.x12_validator)
        if len(done) >= WRITE_EVERY:
            report.pending_left -= _record(settings, done)
            done = []
    if done:
        report.pending_left -= _record(settings, done)
    return report


def _tally(report: ValidationReport, item: PendingValidation, result: X12Validation,
           validator: str = "billops") -> None:
    where = f"{item.system}/{item.batch_id}/{item.file}"
    report.files_validated += 1
    if result.status == VALID:
        report.valid += 1
        if result.errors:  # only known pyx12 false positives, kept flagged "suppressed"
            report.note(
                f"{where}: VALID; {len(result.errors)} known pyx12 false positive(s) "
                "suppressed, see raw._x12_validation",
                logging.INFO,
            )
    elif result.status == INVALID:
        report.invalid += 1
        report.note(
            f"{where}: X12 validation ({validator}) INVALID ({result.error_count} error(s)); its rows "
            "stay loaded, see raw._x12_validation"
        )
    elif result.status == UNSUPPORTED:
        report.unsupported += 1
        report.note(
            f"{where}: pyx12 has no map for its implementation guide (UNSUPPORTED); its "
            "rows stay loaded",
            logging.INFO,
        )
    else:
        report.unavailable += 1
        reason = result.errors[0]["message"] if result.errors else "cannot be validated"
        report.note(f"{where}: not validated: {reason}; its rows stay loaded (UNAVAILABLE)")
