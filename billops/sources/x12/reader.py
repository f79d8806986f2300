"""Reading one X12 file of a kind (837 or 835) into raw rows and rejects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from billops.sources import ReadLimits, Reject, Row, SourceReader
from billops.sources.x12.claims import extract_837
from billops.sources.x12.envelope import TransactionSet, read_transaction_sets
from billops.sources.x12.remittances import extract_835
from billops.sources.x12.values import segments_text

EXTRACTORS: dict[str, Callable[[TransactionSet], Iterator[Row | Reject]]] = {
    "837": extract_837,
    "835": extract_835,
}


def read_x12(path: Path | BinaryIO, kind: str, limits: ReadLimits | None = None) -> SourceReader:
    """Reader of one X12 file of ``kind`` (837 or 835), a path or a binary file already open;
    returns the transaction-set count. ``limits.max_record_bytes`` caps a segment (default: the
    settings').

    A transaction set of another kind is rejected; tokenizer and envelope errors raise X12Error.
    """
    sets = 0
    max_bytes = limits.max_record_bytes if limits is not None else None
    for ts in read_transaction_sets(path, max_bytes=max_bytes):
        sets += 1
        if ts.kind != kind:
            yield Reject(
                record=ts.number,
                reason=(
                    f"transaction set {ts.control_number} is a {ts.kind or '?'}, expected {kind}"
                ),
                original_text=segments_text(ts.segments),
                unit="transaction_set",
            )
            continue
        yield from EXTRACTORS[kind](ts)
    return sets
