"""Data-quality checks on the medium month: every raw and mart suite (results, scores, breaks,
batch verdicts and Data Docs included) in a fresh process, so the Great Expectations import is
part of the time.

Setup (not timed): generate the medium system, ingest it and build the marts (dbt models and
seeds). BENCH_DQ_HOME reuses a folder prepared that way (its dq results are reset first, so each
measurement starts from the same state). Also measured on their own: the bare GX import, and the
raw and mart halves as the nightly DAG runs them (`check_raw`, `check` tasks).

Target: the full check under 60 s wall.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

TARGET_S = 60.0
ALL_CHECKS = "from expectations.runner import run_checks; run_checks()"
BIN = Path(sys.executable).parent


def _timed(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, exit code and the child's own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_code": os.waitstatus_to_exitcode(status),
        "stderr": stderr.strip()[-300:],
    }


def _setup(home: Path, env: dict[str, str]) -> None:
    for args in (
        ["generate", "--scale", "medium"],
        ["ingest"],
        ["transform", "--select", "resource_type:seed resource_type:model"],
    ):
        subprocess.run(
            [str(BIN / "billops"), *args], env=env, check=True, stdout=subprocess.DEVNULL
        )


def _reset(home: Path) -> None:
    """Start each measurement from a warehouse without results, Data Docs or GX store."""
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb")) as con:
        con.execute("drop schema if exists dq cascade")
        con.execute("drop table if exists marts.dq_breaks")
    for folder in (home / "data_docs", home / "gx"):
        shutil.rmtree(folder, ignore_errors=True)


def _facts(home: Path) -> dict[str, Any]:
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        suites, expectations, rows, failed, critical = con.execute(
            "select count(*), sum(expectations), sum(element_count), sum(failed), "
            "sum(critical_failed) from dq.validation_results"
        ).fetchone()
        slowest = con.execute(
            "select suite, element_count, duration_s from dq.validation_results "
            "order by duration_s desc limit 5"
        ).fetchall()
        failing = con.execute(
            "select suite || '.' || rule, severity, unexpected_count from dq.expectation_results "
            "where not success order by severity, suite, rule"
        ).fetchall()
    return {
        "suites": suites,
        "expectations": int(expectations),
        "rows_validated": int(rows),
        "failed": int(failed),
        "critical_failed": int(critical),
        "slowest_suites": [{"suite": s, "rows": n, "seconds": d} for s, n, d in slowest],
        "failing": [{"rule": r, "severity": s, "rows": n} for r, s, n in failing],
    }


def run() -> dict[str, Any]:
    prepared = os.environ.get("BENCH_DQ_HOME")
    tmp = None if prepared else tempfile.TemporaryDirectory(prefix="bench-dq-")
    home = Path(prepared or tmp.name)  # type: ignore[union-attr]
    env = {**os.environ, "BILLOPS_HOME": str(home)}
    try:
        if not prepared:
            _setup(home, env)
        gx_import = _timed([sys.executable, "-c", "import great_expectations"], env)
        _reset(home)
        # every suite in one fresh process, whatever fails (`billops check` stops after raw)
        full = _timed([sys.executable, "-c", ALL_CHECKS], env)
        facts = _facts(home)
        _reset(home)
        raw = _timed([str(BIN / "billops"), "check", "--layer", "raw"], env)
        marts = _timed([str(BIN / "billops"), "check", "--layer", "mart"], env)
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(
        f"   billops check: {full['wall_s']} s (exit {full['exit_code']}), "
        f"{facts['expectations']} expectations on {facts['rows_validated']:,} rows",
        flush=True,
    )
    return {
        "figures": {
            "medium": {
                "check_all": full,
                "check_raw": raw,
                "check_marts": marts,
                "gx_import": gx_import,
                **facts,
            }
        },
        "targets": [
            {
                "name": "medium: all checks (every suite, GX import, Data Docs) wall s",
                "value": full["wall_s"],
                "target": f"< {TARGET_S:.0f}",
                "met": full["wall_s"] < TARGET_S,
            }
        ],
    }
