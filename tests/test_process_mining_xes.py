"""XES and XES.GZ logs: streamed, attributes by pm4py's names, counts equal pm4py's own reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from billops.errors import BillopsError
from process_mining.discovery import import_pm4py
from process_mining.event_log import load_log_file
from process_mining.mine import mine_file

# Namespaced, a trace attribute written after the events, a tie at 10:00 (file order: B, A),
# an offset, an "NA" case id, and a nested list attribute that must not leak into the event.
HAND_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="c1"/>
    <event>
      <string key="concept:name" value="B"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00.000+00:00"/>
      <string key="org:resource" value="clerk"/>
    </event>
    <event>
      <string key="concept:name" value="A"/>
      <date key="time:timestamp" value="2024-01-01T12:00:00.000+02:00"/>
    </event>
    <event>
      <string key="concept:name" value="C"/>
      <date key="time:timestamp" value="2024-01-02T00:00:00.000+00:00"/>
      <list key="items"><string key="concept:name" value="nested"/></list>
    </event>
  </trace>
  <trace>
    <event>
      <string key="concept:name" value="A"/>
      <date key="time:timestamp" value="2024-01-03T00:00:00Z"/>
    </event>
    <event>
      <string key="concept:name" value="C"/>
      <date key="time:timestamp" value="2024-01-03T01:00:00Z"/>
    </event>
    <string key="concept:name" value="NA"/>
  </trace>
</log>
"""
CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"


def _pm4py_counts(path: Path) -> tuple[dict[tuple[str, str], int], int, int, int, int]:
    pm4py = import_pm4py()
    log = pm4py.read_xes(str(path), variant="iterparse")
    dfg, _, _ = pm4py.discover_dfg(log)
    n_variants = len(pm4py.get_variants(log))
    return (dict(dfg), log[CASE].nunique(), len(log), log[ACT].nunique(), n_variants)


def _ours(path: Path) -> tuple[dict[tuple[str, str], int], int, int, int, int]:
    result = mine_file(path, CASE, ACT, TS)
    dfg = {(e["source"], e["target"]): e["count"] for e in result["dfg"]}
    return (dfg, result["cases"], result["events"], result["activities"], result["variants"])


def test_hand_xes_reads_trace_attributes_ties_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(HAND_XES)
    frame = load_log_file(path, CASE, ACT, TS, resource="org:resource")
    assert frame["case_id"].tolist() == ["c1", "c1", "c1", "NA", "NA"]
    assert frame["activity"].tolist() == ["B", "A", "C", "A", "C"]
    # 12:00+02:00 is 10:00 UTC: a tie with B, which comes first in the file
    assert frame["ts"].iloc[1] == pd.Timestamp("2024-01-01 10:00")
    assert frame["resource"].tolist() == ["clerk", None, None, None, None]
    result = mine_file(path, CASE, ACT, TS)
    assert result["top_variants"][0]["activities"] in (["A", "C"], ["B", "A", "C"])
    assert {(e["source"], e["target"]): e["count"] for e in result["dfg"]} == {
        ("B", "A"): 1,
        ("A", "C"): 2,
    }


def test_hand_xes_gz_matches_pm4py(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(HAND_XES)
    ours = _ours(path)
    assert ours[1:] == (2, 5, 3, 2)
    # pm4py's reader sorts by timestamp with a stable sort, so the tie keeps file order too
    assert ours == _pm4py_counts(path)


def test_sepsis_as_xes_gz_matches_pm4py(shared_fixtures: Path, tmp_path: Path) -> None:
    pm4py = import_pm4py()
    frame = pd.read_csv(shared_fixtures / "eventlogs" / "sepsis.csv.gz", dtype="str")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    log = pm4py.format_dataframe(
        frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp"
    )
    path = tmp_path / "sepsis.xes.gz"
    pm4py.write_xes(log, str(path))
    ours = _ours(path)
    assert ours[1] > 1000 and ours[2] > 15000
    assert ours == _pm4py_counts(path)


def test_xes_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(HAND_XES)
    with pytest.raises(BillopsError, match="no attribute 'case:id'"):
        load_log_file(path, "case:id", ACT, TS)
    broken = tmp_path / "broken.xes"
    broken.write_text(HAND_XES[:400])
    with pytest.raises(BillopsError, match="cannot read as XES"):
        load_log_file(broken, CASE, ACT, TS)
    empty_value = tmp_path / "empty.xes"
    empty_value.write_text(HAND_XES.replace('value="B"', 'value=""'))
    with pytest.raises(BillopsError, match="empty value in column 'concept:name'"):
        load_log_file(empty_value, CASE, ACT, TS)
