"""The nightly at the speed of its data (issue 23): `billops run` on a generated month, per step.

A month is generated once (default: medium, seed 1, October 2026, about 60,000 accounts). Each
validator in BENCH_NIGHTLY_VALIDATORS (default ``billops``; ``billops,pyx12`` adds the reference
path and compares the two) gets a fresh home holding every batch but each system's last two,
runs the nightly (`billops run --timings`), then receives those batches and runs the intraday
pipeline (`billops run --pipeline intraday`). For every run: wall seconds, each step's start
and seconds, and the peak memory, sampled every 50 ms, both as the largest single process and
as the sum over the run's process tree (the run, its validation workers, its isolated check
processes and its mining process).

With both validators, their homes must agree: every ``marts`` table row for row (columns that
hold a run's wall-clock time or id left out), and ``raw._x12_validation`` per file (status and
error count).

Environment: BENCH_NIGHTLY_SCALE (medium), BENCH_NIGHTLY_SEED (1), BENCH_NIGHTLY_START (2026-10),
BENCH_NIGHTLY_MONTHS (the scale's), BENCH_NIGHTLY_VALIDATORS, BENCH_NIGHTLY_LANDING (a generated
landing folder to reuse instead of generating), BENCH_NIGHTLY_KEEP (a folder to keep the homes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import psutil

from billops.sql import literal

HELD_BACK = 2  # batches per system landed after the nightly, for the intraday run
# marts columns whose value is the run's own clock or id, not a result of the data
RUN_COLUMNS = ("_loaded_at", "run_id")
RUN_COLUMNS_OF = {"dq_breaks": ("first_failed_at", "last_checked_at"),
                  "dq_quarantine": ("first_seen_at", "last_seen_at", "released_at")}


class TreeMemory(threading.Thread):
    """Peak resident memory of a process and its descendants: the largest one and the sum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_sum = 0
        self.peak_single = 0
        self.peak_at_s = 0.0  # seconds after sampling began, at the tree's peak
        self.peak_processes: list[tuple[str, int]] = []  # (process, MB) at the tree's peak
        self.done = threading.Event()

    def run(self) -> None:
        began = time.perf_counter()
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            sizes: list[tuple[str, int]] = []
            for proc in procs:
                try:
                    sizes.append((_label(proc, self.root), proc.memory_info().rss))
                except psutil.Error:
                    continue
            if sizes:
                total = sum(size for _name, size in sizes)
                if total > self.peak_sum:
                    self.peak_sum = total
                    self.peak_at_s = round(time.perf_counter() - began, 1)
                    self.peak_processes = sorted(
                        ((name, round(size / 2**20)) for name, size in sizes),
                        key=lambda pair: -pair[1])
                self.peak_single = max(self.peak_single, max(size for _n, size in sizes))
            self.done.wait(0.05)


def _label(proc: psutil.Process, root: psutil.Process) -> str:
    """``run`` for the run itself, else ``worker <pid>`` (spawned helpers look alike)."""
    return "run" if proc.pid == root.pid else f"worker {proc.pid}"


def _billops() -> str:
    return str(Path(sys.executable).parent / "billops")


def _run(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        memory = TreeMemory(proc.pid)
        memory.start()
        code = proc.wait()
        memory.done.set()
        memory.join()
    wall = time.perf_counter() - start
    if code:
        raise RuntimeError(f"{' '.join(args)} exited {code}; see {log}")
    return {"wall_s": round(wall, 2), "peak_tree_mb": round(memory.peak_sum / 2**20),
            "peak_process_mb": round(memory.peak_single / 2**20),
            "peak_tree_at_s": memory.peak_at_s, "peak_tree_processes": memory.peak_processes}


def _generate(root: Path) -> Path:
    given = os.environ.get("BENCH_NIGHTLY_LANDING")
    if given:
        return Path(given)
    target = root / "generated"
    args = [_billops(), "generate", "--scale", os.environ.get("BENCH_NIGHTLY_SCALE", "medium"),
            "--seed", os.environ.get("BENCH_NIGHTLY_SEED", "1"),
            "--start", os.environ.get("BENCH_NIGHTLY_START", "2026-10"), "--out", str(target)]
    if os.environ.get("BENCH_NIGHTLY_MONTHS"):
        args += ["--months", os.environ["BENCH_NIGHTLY_MONTHS"]]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return target / "landing"


def _home(root: Path, landing: Path, name: str) -> tuple[Path, Path]:
    """A home with every batch but each system's last HELD_BACK, and a folder holding those."""
    home, held = root / name, root / f"{name}-held"
    shutil.copytree(landing, home / "landing")
    for system in sorted(p for p in (home / "landing").iterdir() if p.is_dir()):
        for batch in sorted(p for p in system.iterdir() if p.is_dir())[-HELD_BACK:]:
            (held / system.name).mkdir(parents=True, exist_ok=True)
            shutil.move(batch, held / system.name / batch.name)
    return home, held


def _pipeline(home: Path, held: Path, validator: str) -> dict[str, Any]:
    env = {**os.environ, "BILLOPS_HOME": str(home), "BILLOPS_X12_VALIDATOR": validator}
    figures: dict[str, Any] = {}
    for pipeline in ("nightly", "intraday"):
        if pipeline == "intraday":
            for system in held.iterdir():
                for batch in system.iterdir():
                    shutil.copytree(batch, home / "landing" / system.name / batch.name)
        timings = home / f"{pipeline}-timings.json"
        run = _run([_billops(), "run", "--pipeline", pipeline, "--timings", str(timings)], env,
                   home / f"{pipeline}.log")
        run["steps"] = json.loads(timings.read_text())
        figures[pipeline] = run
        print(f"   {validator} {pipeline}: {run['wall_s']} s, peak {run['peak_tree_mb']} MB "
              f"(largest process {run['peak_process_mb']} MB)", flush=True)
    return figures


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'a' and schema_name = ? "
        "order by 1", [schema]).fetchall()]


def compare(first: Path, second: Path) -> dict[str, Any]:
    """Tables of ``marts`` that differ between two homes' warehouses, and X12 verdicts that do."""
    con = duckdb.connect()
    con.execute(f"attach {literal(str(first))} as a (read_only)")
    con.execute(f"attach {literal(str(second))} as b (read_only)")
    differ: list[str] = []
    tables = _tables(con, "marts")
    for table in tables:
        columns = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = 'a' and "
            "schema_name = 'marts' and table_name = ? order by column_index", [table]).fetchall()]
        skipped = (*RUN_COLUMNS, *RUN_COLUMNS_OF.get(table, ()))
        kept = ", ".join(f'"{c}"' for c in columns if c not in skipped)
        extra = con.execute(
            f"select count(*) from (select {kept} from a.marts.{table} except all "
            f"select {kept} from b.marts.{table}) union all select count(*) from (select {kept} "
            f"from b.marts.{table} except all select {kept} from a.marts.{table})").fetchall()
        if any(n for (n,) in extra):
            differ.append(table)
    verdicts = con.execute(
        "select count(*) from (select system, batch_id, file, status, error_count from "
        "a.raw._x12_validation except all select system, batch_id, file, status, error_count "
        "from b.raw._x12_validation)").fetchone()[0]
    files = con.execute("select count(*), count(*) filter (where status = 'VALID') from "
                        "a.raw._x12_validation").fetchone()
    return {"marts_tables": len(tables), "marts_tables_differing": differ,
            "x12_files": files[0], "x12_valid": files[1], "x12_verdicts_differing": verdicts}


def run() -> dict[str, Any]:
    validators = os.environ.get("BENCH_NIGHTLY_VALIDATORS", "billops").split(",")
    keep = os.environ.get("BENCH_NIGHTLY_KEEP")
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-nightly-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        landing = _generate(root)
        figures: dict[str, Any] = {"landing_mb": round(
            sum(f.stat().st_size for f in landing.rglob("*") if f.is_file()) / 2**20)}
        homes = {}
        for validator in validators:
            home, held = _home(root, landing, validator)
            homes[validator] = home
            figures[validator] = _pipeline(home, held, validator)
        if len(homes) > 1:
            first, *others = homes.values()
            figures["agreement"] = {
                other.name: compare(first / "warehouse" / "billops.duckdb",
                                    other / "warehouse" / "billops.duckdb") for other in others}
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    nightly = figures[validators[0]]["nightly"]
    intraday = figures[validators[0]]["intraday"]
    scale = os.environ.get("BENCH_NIGHTLY_SCALE", "medium")
    figures["scale"] = scale
    # The targets are for the medium month; any other scale is recorded.
    medium = scale == "medium"
    targets = [
        {"name": f"{validators[0]}: nightly wall seconds", "value": nightly["wall_s"],
         "target": "<= 90" if medium else "recorded",
         "met": nightly["wall_s"] <= 90 or not medium},
        {"name": f"{validators[0]}: nightly peak memory of the process tree, MB",
         "value": nightly["peak_tree_mb"], "target": "< 2048" if medium else "recorded",
         "met": nightly["peak_tree_mb"] < 2048 or not medium},
        {"name": f"{validators[0]}: intraday wall seconds", "value": intraday["wall_s"],
         "target": "recorded", "met": True},
    ]
    for name, agreement in figures.get("agreement", {}).items():
        same = not agreement["marts_tables_differing"] and not agreement["x12_verdicts_differing"]
        targets.append({"name": f"marts and X12 verdicts identical to {name}'s",
                        "value": same, "target": True, "met": same})
    return {"figures": figures, "targets": targets}
