"""Process mining at scale: a seeded synthetic billing log of five million events.

Side by side in one process, on the same log already in memory: the DuckDB path (directly-follows
counts with waits, variants with throughput, log statistics) against pm4py's ``discover_dfg``
plus ``get_variants``; the two DFGs and the two variant tables (sequence -> cases) are checked
equal. Then the whole ``billops mine --log`` on
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

from process_mining.dfg import directly_follows, log_stats, stage, variants
from process_mining.discovery import import_pm4py
from process_mining.event_log import stage_parquet

EVENTS = int(os.environ.get("BENCH_MINING_EVENTS", "5000000"))
STEPS = 10  # events per case
SEED = 0.42
PATH = [
    "REGISTERED",
    "ELIGIBILITY_CHECKED",
    "CHARGE_POSTED",
    "CLAIM_CREATED",
    "CLAIM_SUBMITTED",
    "CLAIM_ACCEPTED",
    "REMIT_RECEIVED",
    "PAYMENT_POSTED",
    "GL_POSTED",
    "CLOSED",
]
DETOURS = [
    "SCRUBBER_FAILED",
    "CLAIM_REJECTED",
    "DENIED",
    "APPEALED",
    "STATEMENT_SENT",
    "PATIENT_PAID",
    "WRITTEN_OFF",
    "AUTH_OBTAINED",
    "DEPOSITED",
    "REFUNDED",
]


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
        con.table("log").write_parquet(str(path))


ROUNDS = 2  # each side's best of two, taken in turns, so a burst of load hits both alike


def _timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _compare(path: Path) -> dict[str, Any]:
    """Both sides start from the log loaded by their own loader, outside the timers: DuckDB from
    ``stage_parquet`` (what ``billops mine --log`` runs), pm4py from a dataframe passed through
    ``pm4py.format_dataframe`` as pm4py's documentation prescribes (it sorts the frame and adds
    a case index; it makes pm4py's calls faster, not slower). Both load times are recorded, and
    CPU seconds beside wall seconds (the machine is shared; CPU time does not depend on load).
    """
    pm4py = import_pm4py()
    with duckdb.connect() as con:
        start = time.perf_counter()
        events = stage_parquet(con, path, "case_id", "activity", "ts", resource="resource")
        duck_load_s = time.perf_counter() - start
        frame = con.execute(f"select case_id, activity, ts from {events}").df()
        start = time.perf_counter()
        frame = pm4py.format_dataframe(
            frame, case_id="case_id", activity_key="activity", timestamp_key="ts"
        )
        pm4py_format_s = time.perf_counter() - start

        def duck() -> tuple[Any, ...]:
            staged = stage(con, events)  # the one sort, as billops mine does it
            edges = directly_follows(con, events, staged)
            found = variants(con, events, staged=staged)
            return edges, found, log_stats(con, events, staged)

        def theirs() -> tuple[Any, ...]:
            dfg, _, _ = pm4py.discover_dfg(frame)
            return dfg, pm4py.get_variants(frame)

        duck_runs, pm4py_runs = [], []
        for _ in range(ROUNDS):
            (edges, found, stats), wall, cpu = _timed(duck)
            duck_runs.append((wall, cpu))
            (dfg, pm_variants), wall, cpu = _timed(theirs)
            pm4py_runs.append((wall, cpu))
    ours = {(e.source, e.target): e.count for e in edges}
    if ours != dict(dfg):
        raise RuntimeError("DuckDB and pm4py disagree on the directly-follows counts")
    if {v.activities: v.cases for v in found} != dict(pm_variants) or (
        stats.variants != len(pm_variants)
    ):
        raise RuntimeError("DuckDB and pm4py disagree on the variants")
    duck_s, duck_cpu = min(duck_runs)
    pm4py_s, pm4py_cpu = min(pm4py_runs)
    return {
        "events": stats.events,
        "cases": stats.cases,
        "variants": stats.variants,
        "edges": len(edges),
        "rounds": ROUNDS,
        "duckdb_load_s": round(duck_load_s, 2),
        "pm4py_format_s": round(pm4py_format_s, 2),
        "duckdb_s": round(duck_s, 2),
        "pm4py_s": round(pm4py_s, 2),
        "duckdb_cpu_s": round(duck_cpu, 2),
        "pm4py_cpu_s": round(pm4py_cpu, 2),
        "all_runs_s": {
            "duckdb": [round(w, 2) for w, _ in duck_runs],
            "pm4py": [round(w, 2) for w, _ in pm4py_runs],
        },
        "speedup": round(pm4py_s / duck_s, 1),
    }


def _mine(path: Path) -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    args = [
        billops,
        "mine",
        "--log",
        str(path),
        "--case",
        "case_id",
        "--activity",
        "activity",
        "--timestamp",
        "ts",
        "--resource",
        "resource",
        "--json",
    ]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{' '.join(args)} failed")
        out.seek(0)
        result = json.loads(out.read())
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "events": result["events"],
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-mining-") as tmp:
        path = Path(tmp) / "log.parquet"
        start = time.perf_counter()
        build_log(path)
        build_s = round(time.perf_counter() - start, 2)
        print(f"   built {EVENTS:,} events in {build_s} s", flush=True)
        # The child first: a child forked from a parent holding the comparison's frames would
        # report the parent's resident memory as its own peak.
        mine = _mine(path)
        print(f"   billops mine {mine['wall_s']} s, {mine['peak_rss_mb']} MB", flush=True)
        compare = _compare(path)
        print(f"   duckdb {compare['duckdb_s']} s, pm4py {compare['pm4py_s']} s", flush=True)
    if mine["events"] != compare["events"]:
        raise RuntimeError("billops mine did not count every event")
    figures = {"build_s": build_s, "compare": compare, "mine": mine}
    targets = [
        {
            "name": f"DuckDB vs pm4py discover_dfg + get_variants on {EVENTS:,} events, speedup",
            "value": compare["speedup"],
            "target": ">= 5",
            "met": compare["speedup"] >= 5,
        },
        {
            "name": f"billops mine --log on {EVENTS:,} events, wall seconds",
            "value": mine["wall_s"],
            "target": "< 30",
            "met": mine["wall_s"] < 30,
        },
        {
            "name": f"billops mine --log on {EVENTS:,} events, peak RSS MB",
            "value": mine["peak_rss_mb"],
            "target": "< 2048",
            "met": mine["peak_rss_mb"] < 2048,
        },
    ]
    return {"figures": figures, "targets": targets}
