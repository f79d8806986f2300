"""Writing one batch of raw tables as Parquet with the contract's explicit schema.

Rows go to ``<raw>/<table>/.tmp-<batch_id>/part-0.parquet`` (streamed in row groups) and are
renamed to ``<raw>/<table>/batch_id=<batch_id>/`` only when the whole batch is complete.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from billops.raw_schema import TABLES, all_columns

PART = "part-0.parquet"
TMP_PREFIX = ".tmp-"
ROW_GROUP = 50_000
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_SIMPLE = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
}


def arrow_type(type_name: str) -> pa.DataType:
    """The Arrow type DuckDB reads back as ``type_name``."""
    if type_name in _SIMPLE:
        return _SIMPLE[type_name]
    match = _DECIMAL.fullmatch(type_name)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    raise TypeError(f"no Arrow type for contract type {type_name}")


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(col, arrow_type(typ)) for col, typ in all_columns(table).items()])


def final_dir(raw_zone: Path, table: str, batch_id: str) -> Path:
    return raw_zone / table / f"batch_id={batch_id}"


def tmp_dir(raw_zone: Path, table: str, batch_id: str) -> Path:
    return raw_zone / table / f"{TMP_PREFIX}{batch_id}"


class _TableWriter:
    def __init__(self, table: str, folder: Path) -> None:
        self.schema = arrow_schema(table)
        self.columns = list(all_columns(table))
        folder.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(folder / PART, self.schema)
        self.buffer: dict[str, list[object]] = {c: [] for c in self.columns}
        self.pending = 0
        self.rows = 0

    def append(self, values: dict[str, object]) -> None:
        for column in self.columns:
            self.buffer[column].append(values.get(column))
        self.pending += 1
        if self.pending >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.Table.from_pydict(self.buffer, schema=self.schema))
            self.rows += self.pending
            self.buffer = {c: [] for c in self.columns}
            self.pending = 0

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.rows


class BatchWriter:
    """The raw-zone Parquet of one batch, invisible until :meth:`publish`."""

    def __init__(self, raw_zone: Path, system: str, batch_id: str, loaded_at: datetime) -> None:
        self.raw_zone = raw_zone
        self.system = system
        self.batch_id = batch_id
        self.loaded_at = loaded_at
        self.writers: dict[str, _TableWriter] = {}

    def tables(self) -> list[str]:
        return [name for name, t in TABLES.items() if t.system == self.system]

    def write(self, table: str, values: dict[str, object], file: str, record: int) -> None:
        writer = self.writers.get(table)
        if writer is None:
            writer = self.writers[table] = _TableWriter(
                table, tmp_dir(self.raw_zone, table, self.batch_id)
            )
        writer.append(
            {
                **values,
                "_batch_id": self.batch_id,
                "_file": file,
                "_record": record,
                "_loaded_at": self.loaded_at,
            }
        )

    def clear(self) -> None:
        """Remove this batch's Parquet, temporary and published (an unfinished earlier try)."""
        for writer in self.writers.values():
            writer.writer.close()
        self.writers = {}
        for table in self.tables():
            for folder in (
                tmp_dir(self.raw_zone, table, self.batch_id),
                final_dir(self.raw_zone, table, self.batch_id),
            ):
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> dict[str, int]:
        """Finish every file; rows written per table."""
        return {table: writer.close() for table, writer in self.writers.items()}

    def publish(self) -> None:
        """Rename each table's temporary folder into place (idempotent: a stale one goes)."""
        for table in self.writers:
            final = final_dir(self.raw_zone, table, self.batch_id)
            if final.exists():
                shutil.rmtree(final)
            tmp_dir(self.raw_zone, table, self.batch_id).rename(final)


def remove_temporary(raw_zone: Path) -> list[Path]:
    """Delete every temporary batch folder (left by a load that was killed); returns them."""
    removed = []
    if raw_zone.exists():
        for folder in sorted(raw_zone.glob(f"*/{TMP_PREFIX}*")):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
