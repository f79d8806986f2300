"""Event logs for mining: the warehouse's ``marts.billing_event_log`` or an external file.

Either way the log is staged in DuckDB as ``pm_events`` with the columns ``case_id, activity, ts,
resource, event_order`` (the warehouse log adds ``entity`` and ``payer_id``; a file adds ``aid``,
its activity's id in ``pm_activities``, encoded once at load): ``ts`` is UTC without a zone and
``event_order`` breaks ties between equal timestamps so that they keep source (file) order.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.sql import quote_identifier
from billops.warehouse import connect
from process_mining.dfg import ACTIVITIES, build_activity_dictionary
from process_mining.xes import read_xes

WAREHOUSE_LOG = "marts.billing_event_log"
STAGED = "pm_events"
SOURCE_VIEW = "pm_source"  # a Parquet log file being staged
EVENT_COLUMNS = ("case_id", "activity", "ts", "resource", "event_order")
_REQUIRED_MART_COLUMNS = ("case_id", "activity", "ts", "event_order")
PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")
_XES_SUFFIXES = (".xes", ".xes.gz")


# ---------------------------------------------------------------- external files


def load_log_file(
    path: str | Path,
    case: str,
    activity: str,
    timestamp: str,
    resource: str | None = None,
    sep: str = ",",
) -> pd.DataFrame:
    """Reads a CSV, CSV.GZ, Parquet, XES or XES.GZ event log into the staged (module) shape.

    Case ids and activities are read as text and only an empty value is missing, so ids such as
    "NA" or "null" stay ids. Timestamps are ISO 8601; an offset is honoured and converted to
    UTC, a timestamp without one is taken as UTC.
    """
    path = Path(path)
    if not path.is_file():
        raise BillopsError(f"{path}: event log file not found")
    roles = {"case_id": case, "activity": activity, "ts": timestamp}
    if resource:
        roles["resource"] = resource
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        raw = _read_parquet(path, roles)
    elif name.endswith(_CSV_SUFFIXES):
        raw = _read_csv(path, roles, sep)
    elif name.endswith(_XES_SUFFIXES):
        raw = read_xes(path, roles.values())
        raw = raw.where(raw.ne(""), None)  # as in CSV, an empty value is a missing one
    else:
        raise BillopsError(
            f"{path}: unsupported event log format (use .csv, .csv.gz, .parquet, .xes or .xes.gz)"
        )

    frame = pd.DataFrame({"event_order": np.arange(1, len(raw) + 1, dtype="int64")})
    for role in ("case_id", "activity"):
        values = raw[roles[role]]
        _reject_missing(path, values, roles[role])
        frame[role] = values.astype("str").to_numpy()
    frame["ts"] = _parse_timestamps(path, raw[roles["ts"]], roles["ts"]).to_numpy()
    if resource:
        frame["resource"] = raw[resource].astype("object").where(raw[resource].notna(), None)
    else:
        frame["resource"] = None
    return frame[list(EVENT_COLUMNS)]


def _columns_error(path: Path, wanted: dict[str, str], available: list[str]) -> None:
    missing = [col for col in dict.fromkeys(wanted.values()) if col not in available]
    if missing:
        shown = ", ".join(available[:30]) + (", ..." if len(available) > 30 else "")
        raise BillopsError(
            f"{path}: no column {', '.join(repr(c) for c in missing)} (columns: {shown})"
        )


def _read_csv(path: Path, roles: dict[str, str], sep: str) -> pd.DataFrame:
    try:
        header = list(
            pd.read_csv(path, sep=sep, nrows=0, dtype="str", encoding="utf-8-sig").columns
        )
        _columns_error(path, roles, header)
        return pd.read_csv(
            path,
            sep=sep,
            usecols=list(dict.fromkeys(roles.values())),
            dtype="str",
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
        )
    except BillopsError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise BillopsError(f"{path}: empty file, no header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BillopsError(f"{path}: cannot read as CSV ({reason})") from exc


def _read_parquet(path: Path, roles: dict[str, str]) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        source = _source_view(con, path)
        types = {r[0]: r[1] for r in con.execute(f"describe select * from {source}").fetchall()}
        _columns_error(path, roles, list(types))
        selects = []
        for role, col in roles.items():
            quoted = quote_identifier(col)
            kind = types[col].upper()
            if role != "ts":
                expr = f"nullif(cast({quoted} as varchar), '')"
            elif kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
                expr = f"timezone('UTC', {quoted})"
            elif kind.startswith(("TIMESTAMP", "DATE")):
                expr = f"cast({quoted} as timestamp)"
            elif kind == "VARCHAR":
                expr = f"nullif({quoted}, '')"
            else:
                raise BillopsError(f"{path}: column {col!r} is {kind}, not a timestamp or text")
            selects.append(f"{expr} as {quoted}")
        return con.execute(f"select {', '.join(dict.fromkeys(selects))} from {source}").df()
    except duckdb.Error as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BillopsError(f"{path}: cannot read as Parquet ({reason})") from exc
    finally:
        con.close()


def stage_parquet(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    case: str,
    activity: str,
    timestamp: str,
    resource: str | None = None,
) -> str:
    """Stages a Parquet log as ``pm_events`` inside DuckDB, without a round trip through pandas;
    the same rules as ``load_log_file`` (file row order, text ids, offsets to UTC)."""
    path = Path(path)
    if not path.is_file():
        raise BillopsError(f"{path}: event log file not found")
    roles = {"case_id": case, "activity": activity, "ts": timestamp}
    if resource:
        roles["resource"] = resource
    con.execute("set TimeZone = 'UTC'")
    try:
        source = _source_view(con, path, row_numbers=True)
        types = {r[0]: r[1] for r in con.execute(f"describe select * from {source}").fetchall()}
        _columns_error(path, roles, [c for c in types if c != "file_row_number"])
        quoted = {role: "src." + quote_identifier(col) for role, col in roles.items()}
        kind = types[timestamp].upper()
        if kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
            ts = f"timezone('UTC', {quoted['ts']})"
        elif kind.startswith(("TIMESTAMP", "DATE")):
            ts = f"cast({quoted['ts']} as timestamp)"
        elif kind == "VARCHAR":
            ts = f"timezone('UTC', try_cast(nullif({quoted['ts']}, '') as timestamptz))"
        else:
            raise BillopsError(f"{path}: column {timestamp!r} is {kind}, not a timestamp or text")
        res = f"cast({quoted['resource']} as varchar)" if resource else "cast(null as varchar)"
        act = f"nullif(cast({quoted['activity']} as varchar), '')"
        build_activity_dictionary(con, f"select {act} as activity from {source} src")
        con.execute(f"""
            create or replace temp table {STAGED} as
            select nullif(cast({quoted["case_id"]} as varchar), '') as case_id,
                   {act} as activity, {ts} as ts, {res} as resource,
                   cast(src.file_row_number + 1 as bigint) as event_order, d.aid
            from {source} src left join {ACTIVITIES} d on d.activity = {act}""")
        # One scan finds the first row (and the count) with a missing value in each role.
        found = con.execute(
            "select "
            + ", ".join(
                f"min(event_order) filter (where {role} is null), "
                f"count(*) filter (where {role} is null)"
                for role in ("case_id", "activity", "ts")
            )
            + f" from {STAGED}"
        ).fetchall()[0]
        for i, role in enumerate(("case_id", "activity", "ts")):
            row, n = found[2 * i], found[2 * i + 1]
            if not n:
                continue
            if role == "ts":
                # The raw text of the file's row, for the message.
                (raw,) = con.execute(
                    f"select {quoted['ts']} from {source} src where src.file_row_number = ?",
                    [row - 1],
                ).fetchall()[0]
                if raw not in (None, ""):
                    raise BillopsError(
                        f"{path}: row {row}: {timestamp} {raw!r} is not an ISO 8601 timestamp "
                        f"(e.g. 2024-01-31 14:05:00+01:00; {n} row(s) affected)"
                    )
            raise BillopsError(
                f"{path}: row {row}: empty value in column {roles[role]!r} ({n} row(s) affected)"
            )
    except duckdb.Error as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BillopsError(f"{path}: cannot read as Parquet ({reason})") from exc
    return STAGED


def _reject_missing(path: Path, values: pd.Series, column: str) -> None:
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise BillopsError(
            f"{path}: row {missing[0] + 1}: empty value in column {column!r} "
            f"({len(missing)} row(s) affected)"
        )


def _parse_timestamps(path: Path, values: pd.Series, column: str) -> pd.Series:
    """UTC timestamps without a zone; a value that is not ISO 8601 is an error naming its row."""
    _reject_missing(path, values, column)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values if values.dt.tz is None else values.dt.tz_convert("UTC")
    else:
        parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            row = bad[0]
            raise BillopsError(
                f"{path}: row {row + 1}: {column} {values.iloc[row]!r} is not an ISO 8601 "
                f"timestamp (e.g. 2024-01-31 14:05:00+01:00; {len(bad)} row(s) affected)"
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[us]")


def _source_view(con: duckdb.DuckDBPyConnection, path: Path, row_numbers: bool = False) -> str:
    """The Parquet file as the temporary view ``SOURCE_VIEW``; its path is never SQL text."""
    con.read_parquet(str(path), file_row_number=row_numbers).create_view(SOURCE_VIEW)
    return SOURCE_VIEW


# ---------------------------------------------------------------- staging in DuckDB


def stage_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> str:
    """Copies a loaded log into the temporary table ``pm_events``; returns its name."""
    con.register("pm_events_frame", frame)
    try:
        build_activity_dictionary(
            con, "select cast(activity as varchar) as activity from pm_events_frame"
        )
        con.execute(
            f"create or replace temp table {STAGED} as select cast(case_id as varchar) as "
            "case_id, cast(f.activity as varchar) as activity, cast(ts as timestamp) as ts, "
            "cast(resource as varchar) as resource, cast(event_order as bigint) as event_order, "
            f"d.aid from pm_events_frame f left join {ACTIVITIES} d "
            "on d.activity = cast(f.activity as varchar)"
        )
    finally:
        con.unregister("pm_events_frame")
    return STAGED


def stage_warehouse_log(con: duckdb.DuckDBPyConnection) -> str:
    """Makes ``pm_events`` a temporary view over ``marts.billing_event_log``; returns its name."""
    schema, table = WAREHOUSE_LOG.split(".")
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "and database_name = current_database()",
            [schema, table],
        ).fetchall()
    }
    if not columns:
        raise BillopsError(
            f"{WAREHOUSE_LOG} not found in the warehouse; run 'billops transform' first"
        )
    missing = [c for c in _REQUIRED_MART_COLUMNS if c not in columns]
    if missing:
        raise BillopsError(f"{WAREHOUSE_LOG} lacks column(s) {', '.join(missing)}")
    optional = ", ".join(
        f"cast({c} as varchar) as {c}" if c in columns else f"cast(null as varchar) as {c}"
        for c in ("resource", "entity", "payer_id")
    )
    # An event without case, activity or time cannot be placed in a trace.
    con.execute(
        f"create or replace temp view {STAGED} as select cast(case_id as varchar) as case_id, "
        f"cast(activity as varchar) as activity, cast(ts as timestamp) as ts, {optional}, "
        f"cast(event_order as bigint) as event_order from {WAREHOUSE_LOG} "
        "where case_id is not null and activity is not null and ts is not null"
    )
    return STAGED


def read_warehouse_log(settings: Settings | None = None) -> pd.DataFrame:
    """The warehouse event log in the staged shape, ordered by case and event order."""
    settings = settings or get_settings()
    with connect(settings, read_only=True) as con:
        events = stage_warehouse_log(con)
        return con.execute(
            f"select {', '.join(EVENT_COLUMNS)} from {events} order by case_id, ts, event_order"
        ).df()
