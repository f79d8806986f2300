"""Parquet logs staged straight in DuckDB agree with the pandas loader and with pm4py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from billops.errors import BillopsError
from process_mining.dfg import directly_follows, log_stats
from process_mining.discovery import import_pm4py
from process_mining.event_log import load_log_file, stage_frame, stage_parquet
from process_mining.mine import analyze, mine_file

# Text timestamps with offsets, a tie (rows 2 and 3 at 10:00 UTC: file order B then A),
# integer-like and NA-like case ids.
ROWS = """(1, 'NA', 'A', '2024-01-01 09:00:00+00:00'),
          (2, 'NA', 'B', '2024-01-01T12:00:00+02:00'),
          (3, 'NA', 'A', '2024-01-01 10:00:00Z'),
          (4, '007', 'A', '2024-01-02 00:00:00'),
          (5, '007', 'C', '2024-01-01 23:00:00-02:00'),
          (6, 'null', 'A', '2024-01-03 00:00:00')"""


def _parquet(tmp_path: Path, rows: str = ROWS, name: str = "log.parquet") -> Path:
    path = tmp_path / name
    with duckdb.connect() as con:
        con.execute(
            f"copy (select case_id, act, happened from (values {rows}) t(n, case_id, act, happened) "
            f"order by n) to '{path}' (format parquet)"
        )
    return path


def test_direct_staging_equals_the_pandas_loader(tmp_path: Path) -> None:
    path = _parquet(tmp_path)
    with duckdb.connect() as con:
        direct = con.execute(
            f"select * from {stage_parquet(con, path, 'case_id', 'act', 'happened')} "
            "order by event_order"
        ).df()
    loaded = load_log_file(path, "case_id", "act", "happened")
    assert direct["event_order"].tolist() == list(range(1, 7))
    for col in ("case_id", "activity", "ts", "event_order"):
        assert direct[col].tolist() == loaded[col].tolist(), col
    with duckdb.connect() as con:
        events = stage_parquet(con, path, "case_id", "act", "happened")
        edges = {(e.source, e.target): e.count for e in directly_follows(con, events)}
        assert log_stats(con, events).cases == 3
    # NA: A 09:00, B 10:00 (file row 2), A 10:00; 007: A 00:00, then C (23:00-02:00 = 01:00 UTC)
    assert edges == {("A", "B"): 1, ("B", "A"): 1, ("A", "C"): 1}


def test_mine_file_on_parquet_matches_pm4py(tmp_path: Path) -> None:
    path = _parquet(tmp_path)
    result = mine_file(path, "case_id", "act", "happened")
    frame = load_log_file(path, "case_id", "act", "happened")
    pm4py = import_pm4py()
    dfg, _, _ = pm4py.discover_dfg(
        frame, case_id_key="case_id", activity_key="activity", timestamp_key="ts"
    )
    assert {(e["source"], e["target"]): e["count"] for e in result["dfg"]} == dict(dfg)
    assert result["variants"] == len(
        pm4py.get_variants(
            frame, case_id_key="case_id", activity_key="activity", timestamp_key="ts"
        )
    )
    with duckdb.connect() as con:
        assert analyze(con, stage_frame(con, frame)).contract() == result


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "(1, 'c', 'A', '2024-01-01'), (2, '', 'B', '2024-01-01')",
            r"row 2: empty value in column 'case_id' \(1 row",
        ),
        (
            "(1, 'c', 'A', '2024-01-01'), (2, 'c', 'B', 'yesterday')",
            r"row 2: happened 'yesterday' is not an ISO 8601 timestamp",
        ),
        (
            "(1, 'c', 'A', '2024-01-01'), (2, 'c', null, '2024-01-02')",
            r"row 2: empty value in column 'act'",
        ),
    ],
)
def test_direct_staging_errors_name_the_row(tmp_path: Path, rows: str, message: str) -> None:
    path = _parquet(tmp_path, rows)
    with duckdb.connect() as con, pytest.raises(BillopsError, match=message):
        stage_parquet(con, path, "case_id", "act", "happened")


def test_direct_staging_unknown_column_and_missing_file(tmp_path: Path) -> None:
    path = _parquet(tmp_path)
    with duckdb.connect() as con:
        with pytest.raises(BillopsError, match="no column 'when'"):
            stage_parquet(con, path, "case_id", "act", "when")
        with pytest.raises(BillopsError, match="not found"):
            stage_parquet(con, tmp_path / "nope.parquet", "case_id", "act", "happened")
