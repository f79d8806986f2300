"""Batches that hold back their system's later batches, and the alarm when they do for too long.

Batches load in batch_id order per system, so a folder without a manifest (still arriving, or
abandoned: an empty folder, files whose manifest never came) holds back every later batch of its
system. That is right for a while and wrong for ever: once the blocking folder has sat unchanged
for ``settings.blocked_batch_wait_hours`` on the run's clock (counted from the latest ctime of the
folder and its files, which copy tools cannot backdate), the run raises the alarm: an ERROR in
the ``billops.ingest`` log, a critical break in ``marts.dq_breaks`` naming the blocking batch
(:mod:`expectations.landing`), and ``IngestReport.blocked_alert``, with which ``billops ingest``
and ``billops run`` exit non-zero. Before that the report says the system is waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from billops.config import Settings
from billops.ingest.landing_files import newest_change
from billops.ingest.manifest import MANIFEST

if TYPE_CHECKING:
    from billops.ingest.report import IngestReport

log = logging.getLogger("billops.ingest")


@dataclass(frozen=True)
class Blocked:
    """``batch_id`` of ``system`` (folder ``folder``) has no manifest and ``waiting`` later
    batches of its system wait behind it."""

    system: str
    batch_id: str
    folder: Path
    waiting: list[str]

    @property
    def label(self) -> str:
        return f"{self.system}/{self.batch_id}"


def hours_unchanged(folder: Path, now: datetime) -> float:
    """Hours from the last change to ``folder`` or anything in it until ``now`` (naive UTC)."""
    try:
        changed = datetime.fromtimestamp(newest_change(folder), UTC).replace(tzinfo=None)
    except OSError:  # gone meanwhile: the next run sees what is there
        return 0.0
    return max((now - changed).total_seconds() / 3600, 0.0)


def raise_alarms(
    con: duckdb.DuckDBPyConnection,
    blocked: list[Blocked],
    settings: Settings,
    now: datetime,
    report: IngestReport,
) -> None:
    """Report each blocking batch: waiting, or (past the wait) an alarm and a DQ break; closes
    the break of a system no longer blocked."""
    from expectations.landing import record_blocked

    wait = settings.blocked_batch_wait_hours
    alarms: dict[str, tuple[str, int, float]] = {}
    lines = []
    for item in blocked:
        hours = hours_unchanged(item.folder, now)
        held = f"{len(item.waiting)} later batch(es) of {item.system}, from {item.waiting[0]}"
        if hours < wait:
            report.note(
                f"{item.label}: has no {MANIFEST} after {hours:.1f} h; {held} wait for it "
                f"(alarm after {wait:g} h)"
            )
            continue
        line = (
            f"{item.label}: blocks {held}: no {MANIFEST} after {hours:.1f} h (limit "
            f"{wait:g} h); complete the batch or move it out of the landing zone"
        )
        lines.append(line)
        alarms[item.system] = (item.batch_id, len(item.waiting), round(hours, 1))
        report.note(line, logging.ERROR)
    record_blocked(con, alarms, now)
    report.blocked_alert = "; ".join(lines)

