"""CSV extracts read against an explicit schema: every field is read as text, then cast.

The header must name exactly the contract columns of the file's table, in any order; a missing,
extra or repeated column, or a file without a header, is a file-level error. A data row with the
wrong number of fields, or a value that does not cast to its contract type, is rejected with its
original text. Empty fields are NULL. Blank lines are skipped and not counted. A UTF-8 BOM is
dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from billops.raw_schema import CSV_FILES
from billops.sources import FileError, RecordError, Reject, Row, SourceReader
from billops.sources.values import caster

csv.field_size_limit(16 * 1024 * 1024)


class _LineRecorder:
    """Feeds lines to csv.reader and keeps those of the current record as its original text."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.lines: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self.handle:
            self.lines.append(line)
            yield line

    def take(self) -> str:
        text = "".join(self.lines).rstrip("\r\n")
        self.lines = []
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


def read_csv(path: Path, name: str | None = None) -> SourceReader:
    """Reader of one contract CSV file (``name`` defaults to the file name); returns data rows."""
    name = name or path.name
    table = CSV_FILES[name]
    columns = table.columns
    records = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = _LineRecorder(handle)
            reader = csv.reader(lines)
            header: list[str] | None = None
            try:
                for fields in reader:
                    original = lines.take()
                    if header is None:
                        if not fields:
                            continue
                        header = check_header(fields, columns, name)
                        casts = [(col, caster(columns[col])) for col in header]
                        continue
                    if not fields or (
                        len(fields) == 1 and not fields[0].strip() and len(header) > 1
                    ):
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
                    yield Row(table.name, records, values)  # exactly the contract columns
            except csv.Error as exc:
                raise FileError(
                    f"CSV syntax error after data row {records}: {exc}", records + 1
                ) from exc
    except UnicodeDecodeError as exc:
        raise FileError(f"not valid UTF-8 after data row {records}") from exc
    if header is None:
        raise FileError("empty file: no header row")
    return records
