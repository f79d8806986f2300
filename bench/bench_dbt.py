"""dbt warehouse: build time per scale, and detection precision and recall per exception type.

For each scale and seed: generate, ingest, then time `billops transform` (a full dbt build) and a
second build on the same raw zone (what an intraday run costs while no model is incremental),
then score marts.billing_exceptions against the generator's truth with `billops scorecard`.
Scales and seeds come from BENCH_DBT_SCALES (default "tiny") and BENCH_DBT_SEEDS ("1,2,3").
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

SCALES = os.environ.get("BENCH_DBT_SCALES", "tiny").split(",")
SEEDS = [int(s) for s in os.environ.get("BENCH_DBT_SEEDS", "1,2,3").split(",")]
BUILD_TARGET_S = {"medium": 120.0}
DETECTION_TARGET = 0.98


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args[1:])} exited {proc.returncode}: "
                           f"{proc.stderr.strip()[-300:]}")
    return round(time.perf_counter() - start, 2), proc.stdout


def _one(billops: str, scale: str, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-dbt-{scale}-") as tmp:
        env = {**os.environ, "BILLOPS_HOME": tmp}
        _run([billops, "generate", "--scale", scale, "--seed", str(seed)], env)
        _run([billops, "ingest"], env)
        full_s, _ = _run([billops, "transform"], env)
        rebuild_s, _ = _run([billops, "transform"], env)
        _, out = _run([billops, "scorecard", "--truth", str(Path(tmp) / "truth"), "--json"], env)
    return {"build_s": full_s, "rebuild_s": rebuild_s, "scorecard": json.loads(out)}


def run() -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    figures: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    for scale in SCALES:
        runs = {}
        for seed in SEEDS:
            runs[str(seed)] = result = _one(billops, scale, seed)
            print(f"   {scale} seed {seed}: build {result['build_s']} s, overall "
                  f"{result['scorecard']['overall']}", flush=True)
        figures[scale] = runs
        if scale in BUILD_TARGET_S:
            worst = max(r["build_s"] for r in runs.values())
            targets.append({"name": f"{scale}: dbt build, wall seconds", "value": worst,
                            "target": f"< {BUILD_TARGET_S[scale]:g}",
                            "met": worst < BUILD_TARGET_S[scale]})
        types = sorted({t for r in runs.values() for t in r["scorecard"]["types"]})
        for etype in types:
            for measure in ("precision", "recall"):
                worst = min(r["scorecard"]["types"].get(etype, {}).get(measure, 1.0)
                            for r in runs.values())
                targets.append({"name": f"{scale}: {etype} {measure} (worst of seeds)",
                                "value": worst, "target": f">= {DETECTION_TARGET}",
                                "met": worst >= DETECTION_TARGET})
    return {"figures": figures, "targets": targets}
