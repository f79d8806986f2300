"""Segmented measures on a hand-made warehouse log whose every figure is worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from billops.config import Settings
from billops.warehouse import connect
from process_mining.dfg import directly_follows
from process_mining.discovery import dfg_dot, import_pm4py, process_map_dots
from process_mining.event_log import read_warehouse_log, stage_warehouse_log
from process_mining.measures import (
    bottleneck_cases,
    dimensions,
    segment_dfg,
    segment_variants,
    segments,
    sla,
    sla_rules,
    stage_cases,
)
from process_mining.mine import analyze, mine_warehouse

DAY = 86400.0
EVENT_LOG_DDL = """create schema if not exists marts;
create table marts.billing_event_log (case_id varchar, activity varchar, ts timestamp,
    resource varchar, source_system varchar, entity varchar, payer_id varchar,
    amount decimal(18,2), event_order bigint)"""


def _d(day: str) -> datetime:
    return datetime.fromisoformat(day)


# Billing window 7 days, follow-up window 30 days (the settings' defaults).
# A1: charge->claim 2 d, claim->remit 38 d (closed breach of follow-up).
# A2: charge->claim 15 d (closed breach of billing window), claim->remit 5 d.
# A3: charged twice (rework), never claimed: 9 d open up to the log's last event (breach).
# A4: payer known only from its second event; charged, 4 d open (no breach).
ROWS = [
    ("A1", "CHARGE_POSTED", _d("2024-01-01"), "H1", "P1"),
    ("A1", "CLAIM_SUBMITTED", _d("2024-01-03"), "H1", "P1"),
    ("A1", "REMIT_RECEIVED", _d("2024-02-10"), "H1", "P1"),
    ("A2", "CHARGE_POSTED", _d("2024-01-05"), "H1", "P2"),
    ("A2", "CLAIM_SUBMITTED", _d("2024-01-20"), "H1", "P2"),
    ("A2", "REMIT_RECEIVED", _d("2024-01-25"), "H1", "P2"),
    ("A3", "CHARGE_POSTED", _d("2024-02-01"), "H2", "P1"),
    ("A3", "CHARGE_POSTED", _d("2024-02-02"), "H2", "P1"),
    ("A4", "REGISTERED", _d("2024-02-05"), "H2", None),
    ("A4", "CHARGE_POSTED", _d("2024-02-06"), "H2", "P2"),
]


@pytest.fixture
def warehouse(billops_home: Settings) -> Settings:
    with connect(billops_home) as con:
        con.execute(EVENT_LOG_DDL)
        con.executemany(
            "insert into marts.billing_event_log values (?, ?, ?, 'r', 'rcm', ?, ?, null, ?)",
            [(*row, i) for i, row in enumerate(ROWS)],
        )
    return billops_home


@pytest.fixture
def con(warehouse: Settings) -> duckdb.DuckDBPyConnection:
    with connect(warehouse, read_only=True) as connection:
        yield connection


def _by(rows: list[dict], **keys: str) -> dict:
    (match,) = [r for r in rows if all(r[k] == v for k, v in keys.items())]
    return match


def test_segments_durations_and_rework(con: duckdb.DuckDBPyConnection) -> None:
    events = stage_warehouse_log(con)
    dims = dimensions(con, events)
    assert dims == ["entity", "payer_id", "month"]
    rows = segments(con, stage_cases(con, events), dims)
    whole = _by(rows, dimension="all")
    assert (whole["cases"], whole["events"], whole["rework_cases"]) == (4, 10, 1)
    assert whole["median_duration_s"] == pytest.approx(10.5 * DAY)  # of 40, 20, 1, 1 days
    assert whole["mean_duration_s"] == pytest.approx(15.5 * DAY)
    assert _by(rows, dimension="entity", segment="H2")["rework_cases"] == 1
    assert _by(rows, dimension="month", segment="2024-01")["cases"] == 2
    # A4's payer is the first one its events carry
    assert _by(rows, dimension="payer_id", segment="P2")["cases"] == 2
    assert {r["segment"] for r in rows if r["dimension"] == "month"} == {"2024-01", "2024-02"}


def test_sla_breaches_open_and_closed(con: duckdb.DuckDBPyConnection, warehouse: Settings) -> None:
    events = stage_warehouse_log(con)
    dims = dimensions(con, events)
    summary, breaches = sla(con, events, stage_cases(con, events), dims, sla_rules(warehouse))
    billing = _by(summary, rule="billing_window", dimension="all")
    assert (billing["cases"], billing["breaches"], billing["open_breaches"]) == (4, 2, 1)
    assert billing["breach_rate"] == 0.5 and billing["window_s"] == 7 * DAY
    assert billing["median_s"] == pytest.approx(8.5 * DAY)  # closed ones only: 2 and 15 days
    assert _by(summary, rule="billing_window", dimension="entity", segment="H2")["breaches"] == 1
    follow = _by(summary, rule="follow_up_window", dimension="all")
    assert (follow["cases"], follow["breaches"], follow["open_breaches"]) == (2, 1, 0)
    late = {(b["rule"], b["case_id"]): (b["elapsed_s"], b["open"]) for b in breaches}
    assert late == {
        ("billing_window", "A3"): (9 * DAY, True),
        ("billing_window", "A2"): (15 * DAY, False),
        ("follow_up_window", "A1"): (38 * DAY, False),
    }


def test_sla_window_follows_settings(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billops.config import get_settings

    monkeypatch.setenv("BILLOPS_BILLING_WINDOW_DAYS", "1")
    rules = sla_rules(get_settings(fresh=True))
    events = stage_warehouse_log(con)
    summary, _ = sla(con, events, stage_cases(con, events), [], rules[:1])
    assert _by(summary, rule="billing_window", dimension="all")["breaches"] == 4


def test_bottleneck_cases_longest_first(con: duckdb.DuckDBPyConnection) -> None:
    events = stage_warehouse_log(con)
    analysis = analyze(con, events)
    top = analysis.bottlenecks[0]
    assert (top.source, top.target, top.total_wait_s) == (
        "CLAIM_SUBMITTED",
        "REMIT_RECEIVED",
        43 * DAY,
    )
    rows = bottleneck_cases(con, events, [(top.source, top.target)])
    assert [(r["case_id"], r["wait_s"]) for r in rows] == [("A1", 38 * DAY), ("A2", 5 * DAY)]
    assert (
        bottleneck_cases(con, events, [(top.source, top.target)], per_edge=1)[0]["case_id"] == "A1"
    )


def test_dfg_of_this_log_equals_pm4py(warehouse: Settings, con: duckdb.DuckDBPyConnection) -> None:
    frame = read_warehouse_log(warehouse)
    pm4py = import_pm4py()
    expected, _, _ = pm4py.discover_dfg(
        frame, case_id_key="case_id", activity_key="activity", timestamp_key="ts"
    )
    events = stage_warehouse_log(con)
    assert {(e.source, e.target): e.count for e in directly_follows(con, events)} == dict(expected)


def test_performance_view_colours_the_bottleneck(con: duckdb.DuckDBPyConnection) -> None:
    events = stage_warehouse_log(con)
    edges = analyze(con, events).edges
    dots = process_map_dots(con, events, edges)
    assert set(dots) == {"frequency", "performance"}
    perf = dots["performance"].splitlines()
    claim_remit = next(line for line in perf if "38.0d p90" in line or "21.5d median" in line)
    assert 'color="#d3' in claim_remit and "penwidth=5.00" in claim_remit
    assert "p90" not in dots["frequency"]
    with pytest.raises(ValueError, match="view"):
        dfg_dot(edges, {}, {}, {}, view="heat")


def test_mine_warehouse_writes_measure_tables(warehouse: Settings) -> None:
    mine_warehouse(warehouse)
    with duckdb.connect(str(warehouse.warehouse), read_only=True) as con:
        tables = {
            t: con.execute(f"select * from pm.{t}").df()
            for t in ("runs", "segments", "sla", "sla_breaches", "bottleneck_cases", "process_map")
        }
    (run_id,) = set(tables["runs"]["run_id"])
    assert all(set(frame["run_id"]) == {run_id} for frame in tables.values())
    assert set(tables["process_map"]["view"]) == {"frequency", "performance"}
    assert len(tables["sla_breaches"]) == 3
    assert isinstance(tables["sla_breaches"]["start_ts"].iloc[0], pd.Timestamp)
    seg = tables["segments"].set_index(["dimension", "segment"])
    assert seg.loc[("all", "all"), "cases"] == 4
    assert timedelta(seconds=float(seg.loc[("all", "all"), "p90_duration_s"])) > timedelta(0)


def test_dfg_and_variants_by_segment(con: duckdb.DuckDBPyConnection) -> None:
    events = stage_warehouse_log(con)
    analysis = analyze(con, events)
    dims = dimensions(con, events)
    cases = stage_cases(con, events)
    dfg = segment_dfg(con, analysis.staged, cases, dims)
    # H1: A1 and A2 both go charge -> claim (2 d and 15 d) -> remit (38 d and 5 d).
    h1 = _by(
        dfg, dimension="entity", segment="H1", source="CHARGE_POSTED", target="CLAIM_SUBMITTED"
    )
    assert h1["count"] == 2 and h1["median_wait_s"] == pytest.approx(8.5 * DAY)
    assert h1["mean_wait_s"] == pytest.approx(8.5 * DAY)
    assert (
        _by(dfg, dimension="entity", segment="H2", source="CHARGE_POSTED", target="CHARGE_POSTED")[
            "count"
        ]
        == 1
    )
    # Each dimension splits the whole log's counts (every case here has every dimension).
    whole = {(e.source, e.target): e.count for e in analysis.edges}
    for dim in dims:
        total: dict[tuple[str, str], int] = {}
        for row in (r for r in dfg if r["dimension"] == dim):
            key = (row["source"], row["target"])
            total[key] = total.get(key, 0) + row["count"]
        assert total == whole

    variants = segment_variants(con, analysis.staged, cases, dims)
    jan = [v for v in variants if (v["dimension"], v["segment"]) == ("month", "2024-01")]
    assert [(v["activities"], v["cases"], v["share"]) for v in jan] == [
        ("CHARGE_POSTED > CLAIM_SUBMITTED > REMIT_RECEIVED", 2, 1.0)
    ]
    ranks = {v.activities: v.rank for v in analysis.variants}
    assert jan[0]["variant_rank"] == ranks[("CHARGE_POSTED", "CLAIM_SUBMITTED", "REMIT_RECEIVED")]
    p2 = [v for v in variants if (v["dimension"], v["segment"]) == ("payer_id", "P2")]
    assert sorted(v["share"] for v in p2) == [0.5, 0.5]
    assert [v["segment_rank"] for v in p2] == [1, 2]
