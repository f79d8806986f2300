"""End-to-end pipeline on generated data: generate, then `billops run` (no Airflow), per stage.

Each stage runs as its own process so its wall time and peak memory (max RSS of the child) are
measured alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCALES = os.environ.get("BENCH_PIPELINE_SCALES", "tiny,small").split(",")
STAGES = ("ingest", "transform", "check", "mine", "score", "publish")


def _timed(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time and the child's own peak RSS (os.wait4 returns that child's rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def run() -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    figures: dict[str, Any] = {}
    for scale in SCALES:
        with tempfile.TemporaryDirectory(prefix=f"bench-{scale}-") as tmp:
            env = {**os.environ, "BILLOPS_HOME": tmp}
            stages = {"generate": _timed([billops, "generate", "--scale", scale], env)}
            for stage in STAGES:
                stages[stage] = _timed([billops, stage], env)
            total = round(sum(s["wall_s"] for s in stages.values()), 2)
            figures[scale] = {"stages": stages, "total_wall_s": total}
            print(f"   {scale}: {total} s", flush=True)
    targets = []
    if "small" in figures:
        targets.append({"name": "small: generate + billops run, wall seconds",
                        "value": figures["small"]["total_wall_s"], "target": "< 300",
                        "met": figures["small"]["total_wall_s"] < 300})
    return {"figures": figures, "targets": targets}
