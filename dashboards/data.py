"""Read-only access to the serving snapshot, the only database the dashboard opens.

``billops publish`` replaces the snapshot by write-then-rename, so nothing holds a connection
between queries: each query opens the file read-only and closes it. Results are cached under the
file's identity (inode, mtime, size), so a newly published snapshot is read on the next rerun.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from billops.config import get_settings

RUN_HINT = "Run `billops run` (or `make run`) to build and publish it."


class SnapshotUnavailable(Exception):
    """The snapshot cannot answer yet: the message says what to run. ``level`` is info|warning."""

    def __init__(self, message: str, level: str = "info") -> None:
        super().__init__(message)
        self.level = level


@dataclass(frozen=True)
class SnapshotInfo:
    """When the snapshot was published and the as-of time of the data in it."""

    published_at: datetime | None
    as_of: datetime | None


def snapshot_path() -> Path:
    """The serving snapshot of the current settings (BILLOPS_HOME / BILLOPS_SERVING)."""
    return Path(get_settings().serving).absolute()  # type: ignore[arg-type]


def _file_identity(path: Path) -> tuple[int, int, int]:
    stat = os.stat(path)
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_query(
    path: str, identity: tuple[int, int, int], sql: str, params: tuple[object, ...]
) -> pd.DataFrame:
    del identity  # part of the cache key only
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(sql, list(params)).df()


def query(sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    """Run one read-only query on the snapshot; SnapshotUnavailable when there is no file."""
    path = snapshot_path()
    try:
        identity = _file_identity(path)
    except FileNotFoundError:
        raise SnapshotUnavailable(f"No serving snapshot at {path}. {RUN_HINT}") from None
    return _cached_query(str(path), identity, sql, tuple(params))


def has_relation(schema: str, name: str) -> bool:
    """Whether the snapshot holds a table or view ``schema.name``."""
    found = query(
        "select count(*) as n from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        (schema, name),
    )
    return int(found["n"].iloc[0]) > 0


def require_relation(schema: str, name: str) -> None:
    """Raise SnapshotUnavailable (a warning) when the snapshot lacks ``schema.name``."""
    if not has_relation(schema, name):
        raise SnapshotUnavailable(
            f"The serving snapshot at {snapshot_path()} has no {schema}.{name}. {RUN_HINT}",
            level="warning",
        )


def snapshot_info() -> SnapshotInfo:
    """``meta.snapshot`` as written by ``billops publish``; empty when the table is absent."""
    if not has_relation("meta", "snapshot"):
        return SnapshotInfo(published_at=None, as_of=None)
    frame = query("select max(published_at) as published_at, max(as_of) as as_of from meta.snapshot")
    row = frame.iloc[0]
    return SnapshotInfo(published_at=_timestamp(row["published_at"]), as_of=_timestamp(row["as_of"]))


def _timestamp(value: object) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def one_line_error(exc: BaseException) -> str:
    """A DuckDB error as one line for ``st.error``, naming the snapshot."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"Cannot read the serving snapshot at {snapshot_path()}: {text}"
