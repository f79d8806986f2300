"""Process mining at scale: a seeded synthetic billing log of five million events.

Side by side in one process, on the same log already in memory: the DuckDB path (directly-follows
counts with waits, variants with throughput, log statistics) against pm4py's ``discover_dfg``
plus ``get_variants``; the two DFGs are checked equal. Then the whole ``billops mine --log`` on
the Parquet file, in a child process whose wall time and peak RSS come from ``os.wait4``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from process_mining.dfg import directly_follows, log_stats, stage_traces, variants
from process_mining.discovery import import_pm4py

EVENTS = int(os.environ.get("BENCH_MINING_EVENTS", "5000000"))
STEPS = 10  # events per case
SEED = 0.42
PATH = ["REGISTERED", "ELIGIBILITY_CHECKED", "CHARGE_POSTED", "CLAIM_CREATED", "CLAIM_SUBMITTED",
        "CLAIM_ACCEPTED", "REMIT_RECEIVED", "PAYMENT_POSTED", "GL_POSTED", "CLOSED"]
DETOURS = ["SCRUBBER_FAILED", "CLAIM_REJECTED", "DENIED", "APPEALED", "STATEMENT_SENT",
           "PATIENT_PAID", "WRITTEN_OFF", "AUTH_OBTAINED", "DEPOSITED", "REFUNDED"]


def build_log(path: Path, events: int = EVENTS) -> None:
    """Writes the log as Parquet: each step follows the happy path, or with 12% chance takes a
    detour activity; steps are 1 to 73 hours apart, so waits differ by edge and case."""
    cases = events // STEPS
    path_sql = "[" + ", ".join(f"'{a}'" for a in PATH) + "]"
    detour_sql = "[" + ", ".join(f"'{a}'" for a in DETOURS) + "]"
    with duckdb.connect() as con:
        con.execute(f"select setseed({SEED})")
        con.execute(f"""
            create table log as
            select 'ACCT' || lpad(cast(c as varchar), 8, '0') as case_id,
                   case when random() < 0.12
                        then {detour_sql}[1 + cast(floor(random() * {len(DETOURS)}) as int)]
                        else {path_sql}[s + 1] end as activity,
                   timestamp '2024-01-01' + to_seconds(c * 37)
                       + to_hours(s * 72) + to_seconds(cast(random() * 3600 * (1 + s) as int))
                       as ts,
                   'user' || cast(c % 50 as varchar) as resource
            from range({cases}) t(c), range({STEPS}) u(s)
            order by c, s
        """)
        con.execute(f"copy log to '{path}' (format parquet)")


def _compare(path: Path) -> dict[str, Any]:
    pm4py = import_pm4py()
    with duckdb.connect() as con:
        con.execute(f"""create table pm_events as select case_id, activity, ts, resource,
            row_number() over () as event_order from read_parquet('{path}')""")
        frame = con.execute("select case_id, activity, ts from pm_events").df()
        start = time.perf_counter()
        traces = stage_traces(con, "pm_events")  # the one sort, as billops mine does it
        edges = directly_follows(con, "pm_events", traces)
        found = variants(con, "pm_events", traces=traces)
        stats = log_stats(con, "pm_events", traces)
        duck_s = time.perf_counter() - start
    start = time.perf_counter()
    dfg, _, _ = pm4py.discover_dfg(frame, case_id_key="case_id", activity_key="activity",
                                   timestamp_key="ts")
    pm_variants = pm4py.get_variants(frame, case_id_key="case_id", activity_key="activity",
                                     timestamp_key="ts")
    pm4py_s = time.perf_counter() - start
    ours = {(e.source, e.target): e.count for e in edges}
    if ours != dict(dfg) or stats.variants != len(pm_variants) or len(found) != len(pm_variants):
        raise RuntimeError("DuckDB and pm4py disagree on the DFG or the variants")
    return {"events": stats.events, "cases": stats.cases, "variants": stats.variants,
            "edges": len(edges), "duckdb_s": round(duck_s, 2), "pm4py_s": round(pm4py_s, 2),
            "speedup": round(pm4py_s / duck_s, 1)}


def _mine(path: Path) -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    args = [billops, "mine", "--log", str(path), "--case", "case_id", "--activity", "activity",
            "--timestamp", "ts", "--resource", "resource", "--json"]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{' '.join(args)} failed")
        out.seek(0)
        result = json.loads(out.read())
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "events": result["events"]}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-mining-") as tmp:
        path = Path(tmp) / "log.parquet"
        start = time.perf_counter()
        build_log(path)
        build_s = round(time.perf_counter() - start, 2)
        print(f"   built {EVENTS:,} events in {build_s} s", flush=True)
        compare = _compare(path)
        print(f"   duckdb {compare['duckdb_s']} s, pm4py {compare['pm4py_s']} s", flush=True)
        mine = _mine(path)
    if mine["events"] != compare["events"]:
        raise RuntimeError("billops mine did not count every event")
    figures = {"build_s": build_s, "compare": compare, "mine": mine}
    targets = [
        {"name": f"DuckDB vs pm4py discover_dfg + get_variants on {EVENTS:,} events, speedup",
         "value": compare["speedup"], "target": ">= 5", "met": compare["speedup"] >= 5},
        {"name": f"billops mine --log on {EVENTS:,} events, wall seconds",
         "value": mine["wall_s"], "target": "< 30", "met": mine["wall_s"] < 30},
        {"name": f"billops mine --log on {EVENTS:,} events, peak RSS MB",
         "value": mine["peak_rss_mb"], "target": "< 2048", "met": mine["peak_rss_mb"] < 2048},
    ]
    return {"figures": figures, "targets": targets}
