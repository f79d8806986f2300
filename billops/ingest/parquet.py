"""Writing one batch of raw tables as Parquet with the contract's explicit schema.

Rows go to ``<raw>/<table>/.tmp-<batch_id>/part-0.parquet`` (streamed in row groups) and are
renamed to ``<raw>/<table>/batch_id=<batch_id>/`` only when the whole batch is complete.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq

from billops.raw_schema import LINEAGE_COLUMNS, TABLES, all_columns

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


class _PandasAbsent:
    """A meta-path finder that makes ``import pandas`` fail, for :func:`_skip_pandas_probe`."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not needed to write the raw zone")
        return None


def _skip_pandas_probe() -> None:
    """Keep pyarrow from importing pandas (~0.5 s of CPU) when the raw zone is first written.

    The first ``pa.array`` of a Python list asks pyarrow's pandas shim whether pandas is
    installed, which imports it; an hourly load would pay that for a few hundred rows. The probe
    is answered once with pandas absent, unless pandas is already loaded. Whatever needs pandas
    later (``Table.from_pandas``, ``to_pandas``) still imports it: pyarrow retries then. Until
    that happens in this process, ``pa.array`` of a pandas Series reads it as a plain sequence.
    """
    if "pandas" in sys.modules:
        return
    finder = _PandasAbsent()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([], pa.int64())
    finally:
        sys.meta_path.remove(finder)


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
    """One table's Parquet file of a batch: rows buffered as tuples, written a row group at a time.

    Each row is kept as a tuple of the table's own columns (taken in C by ``map``); the buffer is
    turned into columns with one ``zip`` per row group. Lineage columns are filled per row group:
    ``_batch_id`` and ``_loaded_at`` are constants, ``_file`` and ``_record`` come per row.
    """

    def __init__(self, table: str, folder: Path, batch_id: str, loaded_at: datetime) -> None:
        self.schema = arrow_schema(table)
        self.columns = list(TABLES[table].columns)
        self.types = [self.schema.field(c).type for c in self.columns]
        self.batch_id = batch_id
        self.loaded_at = loaded_at
        folder.mkdir(parents=True, exist_ok=True)
        _skip_pandas_probe()
        self.writer = pq.ParquetWriter(folder / PART, self.schema)
        self.buffer: list[tuple[object, ...]] = []
        self.files: list[str] = []
        self.records: list[int] = []
        self.rows = 0

    def append(self, values: dict[str, object], file: str, record: int) -> None:
        self.buffer.append(tuple(map(values.get, self.columns)))
        self.files.append(file)
        self.records.append(record)
        if len(self.buffer) >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        count = len(self.buffer)
        if not count:
            return
        columns = zip(*self.buffer, strict=True)
        arrays = [
            pa.array(values, type=kind) for values, kind in zip(columns, self.types, strict=True)
        ]
        lineage = {
            "_batch_id": pa.array([self.batch_id] * count, pa.string()),
            "_file": pa.array(self.files, pa.string()),
            "_record": pa.array(self.records, pa.int64()),
            "_loaded_at": pa.array([self.loaded_at] * count, pa.timestamp("us")),
        }
        arrays += [lineage[name] for name in LINEAGE_COLUMNS]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows += count
        self.buffer, self.files, self.records = [], [], []

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
        # Tables written, in order; set from outside to publish a batch another process wrote.
        self.written: list[str] = []

    def tables(self) -> list[str]:
        return [name for name, t in TABLES.items() if t.system == self.system]

    def write(self, table: str, values: dict[str, object], file: str, record: int) -> None:
        writer = self.writers.get(table)
        if writer is None:
            writer = self.writers[table] = _TableWriter(
                table, tmp_dir(self.raw_zone, table, self.batch_id), self.batch_id, self.loaded_at
            )
            self.written.append(table)
        writer.append(values, file, record)

    def clear(self) -> None:
        """Remove this batch's Parquet, temporary and published (an unfinished earlier try)."""
        for writer in self.writers.values():
            writer.writer.close()
        self.writers = {}
        self.written = []
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
        for table in self.written:
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
