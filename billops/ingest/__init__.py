"""``billops ingest``: load landing batches into the raw zone, once each, in order, atomically.

Landing zone. ``$LANDING/<system>/<batch_id>/`` for ehr, rcm and erp. A batch is read only once
its ``_manifest.json`` exists; until then it is still arriving, and later batches of the same
system wait behind it, so batches load in batch_id order. A batch already LOADED is never read
again (a re-delivery changes nothing). A file whose sha256 was already loaded, in any batch, is
skipped and recorded as SKIPPED_DUPLICATE: a re-sent 835 never posts twice.

Verification. Every file the manifest lists must be present, be a file of the batch's system,
match its sha256, be UTF-8, and hold the listed number of records (CSV data rows, NDJSON lines,
X12 ST..SE transaction sets). A missing or invalid manifest entry, a checksum or count
disagreement, or a file that cannot be read as a whole (not UTF-8, an empty CSV or a CSV header
that does not match the contract, X12 with a bad envelope, delimiters or segment counts)
quarantines the WHOLE batch: it is moved to ``<quarantine>/<system>/<batch_id>/`` with a
``_reason.txt``, raw._batches records QUARANTINED with the reason, and nothing of it reaches the
raw zone. A batch re-delivered after quarantine is read again.

Record-level problems do not stop a batch: an invalid NDJSON line, a resource of the wrong
resourceType, a CSV row with the wrong number of fields or a value that does not cast to the
contract type, an 837 claim whose segments cannot be mapped (held as a ``claim``), an 835
transaction set with a header, claim or PLB that cannot be mapped (held whole as a
``transaction_set``: a payment never posts in part) or a malformed 835 service line (alone), go
to raw._rejects with file, record number, reason, original text and the unit held back; the
records beside them load.
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
