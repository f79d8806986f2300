"""``IngestReport``: what one ingest run did, in counts and one-line messages (never PHI)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("billops.ingest")


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
