"""Readers of the landing-zone formats: FHIR NDJSON, X12 837/835 and CSV extracts.

Every reader is a generator over one file. It yields :class:`Row` (a typed record of a raw table)
and :class:`Reject` (a record that could not be read, with the reason and its original text),
raises :class:`FileError` when the file as a whole cannot be read, and returns the number of
records the batch manifest counts for the file (CSV data rows, NDJSON lines, X12 transaction
sets). Rows of one X12 claim are yielded only once the whole claim has mapped, so a rejected claim
leaves no partial rows behind.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class Row(NamedTuple):
    """One record for raw table ``table``; ``record`` is its 1-based record number in the file.

    A named tuple rather than a dataclass: readers create one per row, and tuples are cheapest.
    """

    table: str
    record: int
    values: dict[str, object]


UNITS = ("record", "transaction_set", "claim", "journal")


@dataclass(frozen=True, slots=True)
class Reject:
    """A unit that could not be read. ``reason`` never carries PHI values.

    ``unit`` is what is held back (``record``: one CSV row, NDJSON line or X12 segment group;
    ``transaction_set``: a whole 835 ST..SE, keyed by its TRN02 trace number; ``claim``: an 837
    2300 loop with its lines, keyed by CLM01), ``unit_key`` its business key when it has one and
    ``amount`` the dollars it carries (BPR02, CLM02) when they could be read.
    """

    record: int
    reason: str
    original_text: str
    unit: str = "record"
    unit_key: str | None = None
    amount: Decimal | None = None


class RecordError(ValueError):
    """A record (row, line, claim) that cannot be mapped; the reader turns it into a Reject."""


class FileError(Exception):
    """The file as a whole cannot be read; its batch is quarantined."""

    def __init__(self, reason: str, record: int | None = None) -> None:
        self.reason = " ".join(reason.split())
        self.record = record
        where = f"record {record}: " if record is not None else ""
        super().__init__(f"{where}{self.reason}")


SourceReader = Generator[Row | Reject, None, int]


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """What a reader accepts of one record: its size in bytes and, for JSON, its nesting depth
    (``max_record_bytes`` and ``max_json_depth`` of the settings)."""

    max_record_bytes: int
    max_json_depth: int

    @classmethod
    def from_settings(cls) -> ReadLimits:
        from billops.config import get_settings

        settings = get_settings()
        return cls(settings.max_record_bytes, settings.max_json_depth)

    def too_long_reason(self) -> str:
        return f"record longer than {self.max_record_bytes} bytes; not read"


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_LONG_NUMBER = re.compile(r"\d{4,}")


def describe_error(exc: BaseException) -> str:
    """An unexpected exception in one line without the values it may quote: its type and its
    message with quoted text and long numbers (dates, ids) masked, at most 160 characters."""
    message = _LONG_NUMBER.sub("#", _QUOTED.sub("'…'", " ".join(str(exc).split())))
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
