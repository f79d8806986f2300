"""CSV extracts read against an explicit schema: every field is read as text, then cast.

The header must name exactly the contract columns of the file's table, in any order; a missing,
extra or repeated column, or a file without a header, is a file-level error. A data row with the
wrong number of fields, or a value that does not cast to its contract type, is rejected with its
original text. Empty fields are NULL. Blank lines are skipped and not counted. A UTF-8 BOM is
dropped. A record longer than the configured cap is rejected without being held whole.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import BinaryIO, TextIO

from billops.raw_schema import CSV_FILES
from billops.sources import (
    FileError,
    ReadLimits,
    RecordError,
    Reject,
    Row,
    SourceReader,
    describe_error,
)
from billops.sources.text_lines import LONG_LINE_KEPT, LongLine, bounded_lines, open_text, too_long
from billops.sources.values import caster

csv.field_size_limit(16 * 1024 * 1024)


class _RecordTooLong(Exception):
    def __init__(self, start: str) -> None:
        super().__init__("record too long")
        self.start = start


class _LineRecorder:
    """Feeds lines to csv.reader and keeps those of the current record as its original text.

    A line, or a record of several lines (a quoted field with line breaks, or a quote never
    closed), longer than the cap raises :class:`_RecordTooLong` out of csv.reader, which starts
    afresh with the next line: the record is rejected and the ones after it are read.
    """

    def __init__(self, handle: TextIO, cap: int) -> None:
        self.source = bounded_lines(handle, cap)
        self.cap = cap
        self.lines: list[str] = []
        self.size = 0

    def __iter__(self) -> _LineRecorder:
        return self

    def __next__(self) -> str:
        line = next(self.source)
        if isinstance(line, LongLine):
            start = ("".join(self.lines) + line.start)[:LONG_LINE_KEPT]
            self.lines, self.size = [], 0
            raise _RecordTooLong(start)
        self.lines.append(line)
        self.size += len(line)
        if self.size * 4 > self.cap and too_long("".join(self.lines), self.cap):
            start = "".join(self.lines)[:LONG_LINE_KEPT]
            self.lines, self.size = [], 0
            raise _RecordTooLong(start)
        return line

    def take(self) -> str:
        text = "".join(self.lines).rstrip("\r\n")
        self.lines, self.size = [], 0
        return text


def check_header(header: list[str], columns: dict[str, str], name: str) -> list[str]:
    """The header's column names, or a FileError naming what is missing, extra or repeated."""
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    missing = [c for c in columns if c not in names]
    extra = [n for n in names if n not in columns]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise FileError(f"header does not match the contract of {name}: {'; '.join(problems)}")
    return names


def read_csv(
    source: Path | BinaryIO, name: str | None = None, limits: ReadLimits | None = None
) -> SourceReader:
    """Reader of one contract CSV file (``name`` defaults to the file name); returns data rows.

    A record longer than ``limits.max_record_bytes``, a row csv cannot parse, and any error
    while casting a row reject that row alone.
    """
    if name is None:
        if not isinstance(source, Path):
            raise TypeError("read_csv needs the file name to read an open file")
        name = source.name
    limits = limits or ReadLimits.from_settings()
    table = CSV_FILES[name]
    columns = table.columns
    records = 0
    header: list[str] | None = None
    try:
        with open_text(source) as handle:
            lines = _LineRecorder(handle, limits.max_record_bytes)
            reader = csv.reader(lines)
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except _RecordTooLong as exc:
                    if header is None:
                        raise FileError(
                            f"header row longer than {limits.max_record_bytes} bytes"
                        ) from None
                    records += 1
                    yield Reject(records, limits.too_long_reason(), exc.start)
                    continue
                except csv.Error as exc:
                    if header is None:
                        raise FileError(f"CSV syntax error in the header: {exc}") from exc
                    records += 1
                    yield Reject(records, f"CSV syntax error: {exc}", lines.take())
                    continue
                original = lines.take()
                if header is None:
                    if not fields:
                        continue
                    header = check_header(fields, columns, name)
                    casts = [(col, caster(columns[col])) for col in header]
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip() and len(header) > 1):
                    continue  # blank line
                records += 1
                if len(fields) != len(header):
                    yield Reject(
                        records, f"expected {len(header)} fields, found {len(fields)}", original
                    )
                    continue
                try:
                    values = {
                        col: cast(value, col)
                        for (col, cast), value in zip(casts, fields, strict=True)
                    }
                except RecordError as exc:
                    yield Reject(records, str(exc), original)
                    continue
                except Exception as exc:  # whatever a hostile row causes rejects that row alone
                    yield Reject(records, f"unreadable row ({describe_error(exc)})", original)
                    continue
                yield Row(table.name, records, values)  # exactly the contract columns
    except UnicodeDecodeError as exc:
        raise FileError(f"not valid UTF-8 after data row {records}") from exc
    if header is None:
        raise FileError("empty file: no header row")
    return records
