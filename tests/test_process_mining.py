"""Process mining: DuckDB DFG and variants agree with pm4py; log loading; pm.* results."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import connect
from process_mining.dfg import directly_follows, log_stats, variants
from process_mining.discovery import (
    dfg_dot,
    discover_tree,
    import_pm4py,
    replay_fitness,
)
from process_mining.event_log import load_log_file, read_warehouse_log, stage_frame
from process_mining.mine import analyze, mine_file, mine_warehouse

SEPSIS = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "fixtures"
    / "eventlogs"
    / "sepsis.csv.gz"
)

# Rows deliberately out of time order; c1 has two events at 10:00 (file order: CHARGE, then
# REGISTERED) and a rework of CLAIM_SUBMITTED.
HAND_LOG = """case,act,when,who
c1,CLAIM_SUBMITTED,2024-01-03T09:00:00Z,biller
c1,CHARGE_POSTED,2024-01-01T10:00:00Z,coder
c1,REGISTERED,2024-01-01T10:00:00Z,clerk
c2,REGISTERED,2024-01-01 08:00:00+00:00,clerk
c2,CHARGE_POSTED,2024-01-01T12:00:00+02:00,coder
c2,CLAIM_SUBMITTED,2024-01-02T08:00:00Z,
c1,CLAIM_SUBMITTED,2024-01-04T09:00:00Z,biller
c3,REGISTERED,2024-01-05T00:00:00Z,clerk
"""


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _staged(frame: pd.DataFrame) -> tuple[duckdb.DuckDBPyConnection, str]:
    con = duckdb.connect()
    return con, stage_frame(con, frame)


def _pm4py_dfg(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    pm4py = import_pm4py()
    dfg, _, _ = pm4py.discover_dfg(
        frame, case_id_key="case_id", activity_key="activity", timestamp_key="ts"
    )
    return dict(dfg)


def _duckdb_dfg(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    con, events = _staged(frame)
    return {(e.source, e.target): e.count for e in directly_follows(con, events)}


# ---------------------------------------------------------------- loading


def test_load_orders_ties_by_file_row_and_converts_offsets(tmp_path: Path) -> None:
    frame = load_log_file(_write(tmp_path, HAND_LOG), "case", "act", "when", resource="who")
    assert list(frame.columns) == ["case_id", "activity", "ts", "resource", "event_order"]
    assert frame["event_order"].tolist() == list(range(1, 9))
    # 12:00+02:00 is 10:00 UTC, after c2's REGISTERED at 08:00 UTC
    assert frame.loc[4, "ts"] == pd.Timestamp("2024-01-01 10:00:00")
    assert frame.loc[5, "resource"] is None
    con, events = _staged(frame)
    traces = {v.activities: v.cases for v in variants(con, events)}
    assert traces == {
        ("CHARGE_POSTED", "REGISTERED", "CLAIM_SUBMITTED", "CLAIM_SUBMITTED"): 1,
        ("REGISTERED", "CHARGE_POSTED", "CLAIM_SUBMITTED"): 1,
        ("REGISTERED",): 1,
    }


def test_na_like_values_are_ids_not_missing(tmp_path: Path) -> None:
    text = (
        "case,act,when\nNA,null,2024-01-01T00:00:00Z\nNA,None,2024-01-01T01:00:00Z\n"
        "null,NaN,2024-01-01T00:00:00Z\n"
    )
    frame = load_log_file(_write(tmp_path, text), "case", "act", "when")
    assert frame["case_id"].tolist() == ["NA", "NA", "null"]
    assert frame["activity"].tolist() == ["null", "None", "NaN"]
    con, events = _staged(frame)
    assert log_stats(con, events).cases == 2
    assert {(e.source, e.target) for e in directly_follows(con, events)} == {("null", "None")}


def test_csv_gz_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("case;act;when\n001;A;2024-01-01T00:00:00\n001;B;2024-01-01T00:00:05\n")
    frame = load_log_file(path, "case", "act", "when", sep=";")
    assert frame["case_id"].tolist() == ["001", "001"]  # leading zeros kept: ids are text
    result = mine_file(path, "case", "act", "when", sep=";")
    assert result["dfg"] == [
        {"source": "A", "target": "B", "count": 1, "median_wait_s": 5.0, "mean_wait_s": 5.0}
    ]


def test_parquet_with_zoned_timestamps_and_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"""copy (select * from (values
            (7, 'B', timestamptz '2024-01-01 10:00:00+02:00'),
            (7, 'A', timestamptz '2024-01-01 09:00:00+00:00')) t(case_no, step, happened))
            to '{path}' (format parquet)""")
    frame = load_log_file(path, "case_no", "step", "happened")
    assert frame["case_id"].tolist() == ["7", "7"]
    assert frame["ts"].tolist() == [
        pd.Timestamp("2024-01-01 08:00"),
        pd.Timestamp("2024-01-01 09:00"),
    ]
    assert _duckdb_dfg(frame) == {("B", "A"): 1}


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        ("case,act,when\nc1,A,2024-01-01\n", ("case", "activity", "when"), "no column 'activity'"),
        (
            "case,act,when\nc1,A,2024-01-01\nc1,B,31/01/2024 10:00\n",
            ("case", "act", "when"),
            "row 2: when '31/01/2024 10:00' is not an ISO 8601 timestamp",
        ),
        (
            "case,act,when\nc1,A,2024-01-01\n,B,2024-01-02\n",
            ("case", "act", "when"),
            "row 2: empty value in column 'case'",
        ),
        ("case,act,when\nc1,A,\n", ("case", "act", "when"), "row 1: empty value in column 'when'"),
    ],
)
def test_bad_input_is_a_one_line_error(
    tmp_path: Path, text: str, columns: tuple[str, ...], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BillopsError, match=message) as info:
        load_log_file(path, *columns)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(BillopsError, match="event log file not found"):
        load_log_file(tmp_path / "nope.csv", "case", "act", "when")
    with pytest.raises(BillopsError, match="unsupported event log format"):
        load_log_file(_write(tmp_path, "x", "log.json"), "case", "act", "when")


# ---------------------------------------------------------------- DFG, variants, waits


def test_dfg_matches_pm4py_on_hand_log(tmp_path: Path) -> None:
    frame = load_log_file(_write(tmp_path, HAND_LOG), "case", "act", "when")
    ours = _duckdb_dfg(frame)
    assert ours == _pm4py_dfg(frame)
    assert ours[("CLAIM_SUBMITTED", "CLAIM_SUBMITTED")] == 1


def test_waits_and_summary_on_hand_log(tmp_path: Path) -> None:
    frame = load_log_file(_write(tmp_path, HAND_LOG), "case", "act", "when")
    con, events = _staged(frame)
    analysis = analyze(con, events)
    edge = next(
        e for e in analysis.edges if (e.source, e.target) == ("CHARGE_POSTED", "CLAIM_SUBMITTED")
    )
    assert (edge.count, edge.cases) == (1, 1)
    assert edge.median_wait_s == edge.mean_wait_s == edge.total_wait_s == 22 * 3600
    result = analysis.contract()
    assert (result["cases"], result["events"], result["activities"], result["variants"]) == (
        3,
        8,
        3,
        3,
    )
    assert result["rework"] == [{"activity": "CLAIM_SUBMITTED", "cases": 1}]
    assert result["bottlenecks"][0] == {
        "source": "REGISTERED",
        "target": "CLAIM_SUBMITTED",
        "cases": 1,
        "median_wait_s": 47 * 3600.0,
        "total_wait_s": 47 * 3600.0,
    }
    assert sum(v["share"] for v in result["top_variants"]) == pytest.approx(1.0)


def test_wait_percentiles() -> None:
    waits = [10, 20, 30, 40, 1000]
    rows = []
    for i, wait in enumerate(waits):
        rows += [
            (f"c{i}", "A", pd.Timestamp("2024-01-01"), None, 1),
            (f"c{i}", "B", pd.Timestamp("2024-01-01") + pd.Timedelta(seconds=wait), None, 2),
        ]
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "ts", "resource", "event_order"])
    con, events = _staged(frame)
    (edge,) = directly_follows(con, events)
    assert edge.count == 5
    assert edge.median_wait_s == 30
    assert edge.mean_wait_s == pytest.approx(220)
    assert edge.p90_wait_s == pytest.approx(pd.Series(waits).quantile(0.9))


@pytest.fixture(scope="module")
def sepsis() -> pd.DataFrame:
    if not SEPSIS.exists():
        pytest.skip(f"event log fixture {SEPSIS} not present")
    return load_log_file(SEPSIS, "case_id", "activity", "timestamp")


def test_dfg_matches_pm4py_on_sepsis(sepsis: pd.DataFrame) -> None:
    ours = _duckdb_dfg(sepsis)
    assert ours == _pm4py_dfg(sepsis)
    assert len(ours) > 50


def test_stats_and_variants_match_pm4py_on_sepsis(sepsis: pd.DataFrame) -> None:
    pm4py = import_pm4py()
    theirs = pm4py.get_variants(
        sepsis, case_id_key="case_id", activity_key="activity", timestamp_key="ts"
    )
    con, events = _staged(sepsis)
    stats = log_stats(con, events)
    assert stats.cases == sum(theirs.values()) == sepsis["case_id"].nunique()
    assert stats.events == len(sepsis)
    assert stats.activities == sepsis["activity"].nunique()
    assert stats.variants == len(theirs)
    ours = {v.activities: v.cases for v in variants(con, events)}
    assert ours == dict(theirs)


# ---------------------------------------------------------------- discovery


def test_inductive_miner_returns_a_tree_that_replays_its_traces() -> None:
    pm4py = import_pm4py()
    traces = [
        ("REGISTERED", "CHARGE_POSTED", "CLAIM_SUBMITTED", "REMIT_RECEIVED"),
        (
            "REGISTERED",
            "CHARGE_POSTED",
            "CLAIM_SUBMITTED",
            "DENIED",
            "CLAIM_SUBMITTED",
            "REMIT_RECEIVED",
        ),
    ]
    tree = discover_tree(traces)
    assert isinstance(tree, pm4py.objects.process_tree.obj.ProcessTree)
    assert all(f"'{a}'" in str(tree) for a in set(traces[1]))
    assert replay_fitness(tree, [(f"c{i}", t) for i, t in enumerate(traces)]) == 1.0
    assert replay_fitness(tree, [("x", ("REMIT_RECEIVED", "REGISTERED"))]) < 1.0


def test_dot_escapes_labels_and_shows_counts_and_waits(tmp_path: Path) -> None:
    text = 'case,act,when\nc1,"say ""hi""",2024-01-01T00:00:00Z\nc1,B,2024-01-01T02:00:00Z\n'
    frame = load_log_file(_write(tmp_path, text), "case", "act", "when")
    con, events = _staged(frame)
    dot = dfg_dot(directly_follows(con, events), {'say "hi"': 1, "B": 1}, {'say "hi"': 1}, {"B": 1})
    assert dot.startswith("digraph dfg {") and dot.endswith("}")
    assert 'label="say \\"hi\\"\\n1"' in dot
    assert 'a1 -> a0 [label="1\\n2.0h"' in dot  # ids follow sorted activity names: B=a0
    assert '"start" -> a1' in dot and 'a0 -> "end"' in dot


# ---------------------------------------------------------------- warehouse runs


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    return get_settings(fresh=True)


EVENT_LOG_DDL = """create table marts.billing_event_log (case_id varchar, activity varchar,
    ts timestamp, resource varchar, source_system varchar, entity varchar, payer_id varchar,
    amount decimal(18,2), event_order bigint)"""


def _event_log(settings: Settings, rows: list[tuple]) -> None:
    with connect(settings) as con:
        con.execute(EVENT_LOG_DDL)
        if rows:
            con.executemany(
                "insert into marts.billing_event_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )


def _pm_tables(settings: Settings) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {
            t: con.execute(f"select * from pm.{t}").df()
            for t in ("runs", "dfg", "variants", "model", "bottlenecks", "rework")
        }


def _billing_rows() -> list[tuple]:
    t0 = pd.Timestamp("2024-01-02 08:00").to_pydatetime()
    day = pd.Timedelta(days=1).to_pytimedelta()
    rows = []
    for i, acct in enumerate(["E100", "E101", "NA"]):
        steps = [
            "REGISTERED",
            "CHARGE_POSTED",
            "CLAIM_SUBMITTED",
            "REMIT_RECEIVED",
            "PAYMENT_POSTED",
        ]
        if acct == "E101":
            steps = [*steps[:4], "DENIED", "CLAIM_SUBMITTED", "REMIT_RECEIVED"]
        for k, activity in enumerate(steps):
            rows.append(
                (acct, activity, t0 + (i + k) * day, "system", "rcm", "org-h1", "P01", 10.0, k + 1)
            )
    # Same timestamp as REGISTERED, later in source order: ELIGIBILITY_CHECKED follows it.
    rows.append(("E100", "ELIGIBILITY_CHECKED", t0, "clerk", "rcm", "org-h1", "P01", None, 0))
    return rows


def test_mine_warehouse_writes_pm_tables(settings: Settings) -> None:
    rows = _billing_rows()
    _event_log(settings, rows)
    result = mine_warehouse(settings)

    assert set(result) == {
        "cases",
        "events",
        "activities",
        "variants",
        "top_variants",
        "dfg",
        "bottlenecks",
        "rework",
    }
    assert (result["cases"], result["events"], result["variants"]) == (3, len(rows), 3)
    assert {"activity": "CLAIM_SUBMITTED", "cases": 1} in result["rework"]
    tables = _pm_tables(settings)
    run_ids = {t: set(frame["run_id"]) for t, frame in tables.items()}
    (run_id,) = run_ids["runs"]
    assert all(ids == {run_id} for ids in run_ids.values())
    run = tables["runs"].iloc[0]
    assert (run["source"], run["cases"], run["events"]) == ("marts.billing_event_log", 3, len(rows))
    dfg = tables["dfg"].set_index(["source", "target"])
    assert dfg.loc[("CLAIM_SUBMITTED", "REMIT_RECEIVED"), "count"] == 4
    assert dfg.loc[("CLAIM_SUBMITTED", "REMIT_RECEIVED"), "median_wait_s"] == 86400
    # event_order is 0 for ELIGIBILITY_CHECKED, so it sorts before REGISTERED at the same time
    assert ("ELIGIBILITY_CHECKED", "REGISTERED") in dfg.index
    assert tables["variants"]["variant_rank"].tolist() == [1, 2, 3]
    assert tables["variants"]["activities"].iloc[0] == (
        "ELIGIBILITY_CHECKED > REGISTERED > CHARGE_POSTED > CLAIM_SUBMITTED > REMIT_RECEIVED > "
        "PAYMENT_POSTED"
    )
    model = tables["model"].iloc[0]
    assert model["algorithm"] == "inductive_miner" and "'DENIED'" in model["model_text"]
    assert model["dot"].startswith("digraph") and model["fitness"] == pytest.approx(1.0)
    assert len(tables["bottlenecks"]) > 0

    mine_warehouse(settings)  # a new run replaces the previous run's rows
    again = _pm_tables(settings)
    assert len(again["runs"]) == 1 and set(again["runs"]["run_id"]) != {run_id}
    assert len(again["dfg"]) == len(tables["dfg"])


def test_mine_warehouse_on_an_empty_log_gives_zeros(settings: Settings) -> None:
    _event_log(settings, [])
    result = mine_warehouse(settings)
    assert result == {
        "cases": 0,
        "events": 0,
        "activities": 0,
        "variants": 0,
        "top_variants": [],
        "dfg": [],
        "bottlenecks": [],
        "rework": [],
    }
    tables = _pm_tables(settings)
    assert tables["runs"][["cases", "events", "variants"]].iloc[0].tolist() == [0, 0, 0]
    assert pd.isna(tables["model"]["fitness"].iloc[0])
    assert len(tables["dfg"]) == 0


def test_mine_warehouse_without_the_mart_is_a_user_error(settings: Settings) -> None:
    with pytest.raises(BillopsError, match=r"marts\.billing_event_log not found"):
        mine_warehouse(settings)


def test_read_warehouse_log_keeps_na_cases(settings: Settings) -> None:
    _event_log(settings, _billing_rows())
    frame = read_warehouse_log(settings)
    assert "NA" in set(frame["case_id"])
    assert Counter(frame["case_id"])["E101"] == 7


def test_cli_mine_log_json_prints_the_contract_object(tmp_path: Path) -> None:
    log = _write(tmp_path, HAND_LOG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "billops",
            "mine",
            "--log",
            str(log),
            "--case",
            "case",
            "--activity",
            "act",
            "--timestamp",
            "when",
            "--resource",
            "who",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert list(result) == [
        "cases",
        "events",
        "activities",
        "variants",
        "top_variants",
        "dfg",
        "bottlenecks",
        "rework",
    ]
    assert (result["cases"], result["events"], result["activities"], result["variants"]) == (
        3,
        8,
        3,
        3,
    )
    assert set(result["top_variants"][0]) == {"activities", "cases", "share"}
    assert all(
        set(e) == {"source", "target", "count", "median_wait_s", "mean_wait_s"}
        for e in result["dfg"]
    )
    assert all(
        set(b) == {"source", "target", "cases", "median_wait_s", "total_wait_s"}
        for b in result["bottlenecks"]
    )
    assert result["rework"] == [{"activity": "CLAIM_SUBMITTED", "cases": 1}]
    # c1's CHARGE_POSTED and REGISTERED share a timestamp: file order decides, CHARGE first.
    assert {"source": "CHARGE_POSTED", "target": "REGISTERED"} in [
        {"source": e["source"], "target": e["target"]} for e in result["dfg"]
    ]
    assert result == mine_file(log, "case", "act", "when", resource="who")


def test_negative_event_order_and_early_timestamps_keep_the_order() -> None:
    # event_order may be any integer and timestamps may predate 1970: the sort key stays exact.
    t0 = pd.Timestamp("1965-03-01 00:00:00")
    rows = [
        ("x", "B", t0, None, -5),
        ("x", "A", t0, None, -9),  # same time, earlier in source order: first
        ("x", "C", t0 + pd.Timedelta(seconds=90), None, -7),
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "ts", "resource", "event_order"])
    con, events = _staged(frame)
    edges = {(e.source, e.target): e.median_wait_s for e in directly_follows(con, events)}
    assert edges == {("A", "B"): 0.0, ("B", "C"): 90.0}
    assert [v.activities for v in variants(con, events)] == [("A", "B", "C")]
