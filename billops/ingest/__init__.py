"""``billops ingest``: load landing batches into the raw zone, once each, in order, atomically.

Landing zone. ``$LANDING/<system>/<batch_id>/`` for ehr, rcm and erp. A batch is read only once
its ``_manifest.json`` exists; until then it is still arriving, and later batches of the same
system wait behind it, so batches load in batch_id order. A batch already LOADED is never read
again (a re-delivery changes nothing). A file whose sha256 was already loaded, in any batch, is
skipped and recorded as SKIPPED_DUPLICATE: a re-sent 835 never posts twice. Only
``_manifest.json`` is a manifest: any other file (``_manifest (1).json``) is unlisted, not read.
Batch ids are unique per system only: ehr/X and rcm/X are two batches, apart in the ledger,
raw._rejects and the raw zone (each raw table belongs to one system).

Blocked batches (:mod:`billops.ingest.blocking`). A folder without a manifest that holds back
later batches of its system (an empty folder, files whose manifest never came) is reported as
waiting; once it has sat unchanged for ``settings.blocked_batch_wait_hours`` on the run's clock,
the run raises the alarm: an ERROR log line, a critical break in ``marts.dq_breaks`` naming the
batch (suite ``landing_batch_order``), and ``IngestReport.blocked_alert``, with which ``billops
ingest`` and ``billops run`` exit non-zero (``billops run`` after publishing everything else).

Times. A batch id must be a real UTC time (``YYYYMMDDTHHMMSSZ`` parsed with strptime:
20269999T999999Z is not); a folder so named whose manifest has arrived is quarantined. The
manifest's ``extracted_at`` (the as-of time of every rule) must lie within
``settings.batch_clock_skew_hours`` of the batch id and never after the run's clock plus that
skew; otherwise the batch is quarantined with the reason.

Reading safely (:mod:`billops.ingest.landing_files`). Only regular files inside the batch folder
are read: the folder and every path component below it are opened without following symbolic
links, and a listed file that is a link, sits in a linked folder, or is no regular file (a FIFO,
a device) quarantines the batch, as a missing file does; a batch folder that is itself a link is
quarantined (the link is moved, never followed); an unlisted link is reported and not read. Each
file is hashed and parsed from the same open descriptor in one pass, so the bytes checked against
the manifest are the bytes loaded.

Verification. Every file the manifest lists must be present, be a regular file of the batch's
system, match its sha256, be UTF-8, and hold the listed number of records (CSV data rows, NDJSON lines,
X12 ST..SE transaction sets). A missing or invalid manifest entry, a checksum or count
disagreement, or a file that cannot be read as a whole (not UTF-8, an empty CSV or a CSV header
that does not match the contract, X12 with a bad envelope, delimiters or segment counts)
quarantines the WHOLE batch: it is moved to ``<quarantine>/<system>/<batch_id>/`` with a
``_reason.txt``, raw._batches records QUARANTINED with the reason, and nothing of it reaches the
raw zone. A batch re-delivered after quarantine is read again.

Any other error while reading a file (an exception nothing expected) quarantines that file's
batch with a one-line reason (the exception's type and its message with quoted text and long
numbers masked), never the run: the other batches load, none is left LOADING, and the batch,
moved out of the landing zone, is not read again until it is re-delivered.

Record-level problems do not stop a batch: an invalid NDJSON line, a line nested deeper than
``settings.max_json_depth``, a line or CSV record longer than ``settings.max_record_bytes`` (read
on in bounded pieces, never held whole; raw._rejects keeps its first 1,024 characters), a text
value holding a control character (C0 other than tab, CR and LF, or DEL;
:func:`billops.sources.values.reject_control_characters`), a resource of the wrong resourceType,
a CSV row csv cannot parse or with the wrong number of fields or a value that does not cast to
the contract type, any other error while reading one record, an 837 claim whose segments cannot be mapped (held as a ``claim``), an 835
transaction set with a header, claim or PLB that cannot be mapped (held whole as a
``transaction_set``: a payment never posts in part) or a malformed 835 service line (alone), go
to raw._rejects with file, record number, reason, original text (control characters written as
``\\x00`` escapes) and the unit held back; the records beside them load.
Every problem also yields a one-line message naming file, record and reason, in
``IngestReport.messages`` and in the ``billops.ingest`` log. Messages never carry PHI values.

X12 validation policy. pyx12's validation is far slower than loading, so it runs off the load
path: each loaded X12 file is recorded PENDING in raw._x12_validation, and ``billops
validate-x12`` (:mod:`billops.ingest.x12_validation`) later writes VALID, INVALID (with up to 50
errors), UNSUPPORTED (a guide pyx12 has no map for, such as 005010X222A2) or UNAVAILABLE (the
landing file is gone or changed). A file that tokenizes and passes the envelope checks but fails
pyx12 validation stays loaded, because clearinghouse files often carry guide-level issues, and
is flagged there with a warning. A file that cannot be tokenized (bad envelope, delimiters or
counts) quarantines its batch.

Raw zone and atomicity. Each table's rows of a batch are written with the contract's explicit
types to ``<raw>/<table>/.tmp-<batch_id>/part-0.parquet``, renamed to ``batch_id=<batch_id>/``
once the whole batch is written, and only then is the batch recorded LOADED, in one ledger
transaction. Every batch a run plans carries a LOADING row in raw._batches from before its first
file is read until its outcome is recorded; at startup, temporary folders are removed and any
batch still LOADING has its Parquet removed and is loaded again, so a load killed at any point
completes on the next run without duplicate rows. The manifest's ``extracted_at`` is recorded in
raw._batches: the as-of time of every rule.

Large loads (:mod:`billops.ingest.parallel`). When a run has more than
``parallel.PARALLEL_MIN_BYTES`` to read, its batches are read in forked worker processes (one
per CPU); the parent alone publishes Parquet and writes the ledger, each system's batches in
batch_id order, and the result equals a serial load's (duplicates, quarantine, messages).
Workers die with the parent. An intraday run reads its few batches in one process.
"""

from billops.ingest.runner import IngestReport, ingest

__all__ = ["IngestReport", "ingest"]
