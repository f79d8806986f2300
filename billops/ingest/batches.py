"""The batch types of one ingest run: found, planned (manifest read), prepared (read into
temporary Parquet, not yet recorded).

Below both the runner and its worker processes (:mod:`billops.ingest.parallel`), which hand
these to each other, so neither imports the other.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from billops.ingest import ledger
from billops.ingest.manifest import Manifest

# sha256 -> (system, batch_id, file) of the content's first load
Sources = Mapping[str, tuple[str, str, str]]


@dataclass(frozen=True)
class LandingBatch:
    """A batch folder ``<landing>/<system>/<batch_id>`` found in the landing zone."""

    system: str
    batch_id: str
    folder: Path
    problem: str | None = None  # refused before its manifest is read (quarantined with this)

    @property
    def label(self) -> str:
        return f"{self.system}/{self.batch_id}"


@dataclass
class BatchNotes:
    """Messages of one batch, kept until the batch is recorded (then logged, in batch order)."""

    notes: list[tuple[str, int]] = field(default_factory=list)
    files_skipped_duplicate: int = 0

    def note(self, message: str, level: int = logging.WARNING) -> None:
        self.notes.append((message, level))


@dataclass
class PlannedBatch:
    """A batch to load, with its manifest read (or why it cannot be) before any file is."""

    batch: LandingBatch
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
    report: BatchNotes
    problems: list[str] | None = None
    outcomes: list[ledger.FileOutcome] = field(default_factory=list)
    rejects: list[ledger.RejectRecord] = field(default_factory=list)
    validations: list[ledger.ValidationRecord] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    @property
    def batch(self) -> LandingBatch:
        return self.planned.batch


def lineage_now() -> datetime:
    """Wall-clock UTC, for lineage only (rules use the batches' extracted_at)."""
    return datetime.now(UTC).replace(tzinfo=None)
