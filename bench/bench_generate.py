"""`billops generate` at the benchmark scales: wall time and peak memory of the generator.

Each scale runs as its own process (the `billops` CLI) so that its peak RSS is measured alone
(os.wait4 returns the child's own rusage). BENCH_GENERATE_SCALES picks the scales
(default "medium"; add "large" once it is generated).
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

SCALES = os.environ.get("BENCH_GENERATE_SCALES", "medium").split(",")
# scale -> (wall seconds, peak RSS MB) targets of issue 3
TARGETS: dict[str, tuple[float, float | None]] = {"medium": (60.0, None),
                                                  "large": (720.0, 4096.0)}


def _timed(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise RuntimeError(f"{' '.join(args)} exited {code}")
    # CPU seconds tell the generator's own cost when other work shares the 2 cores
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def run() -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    figures: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    for scale in SCALES:
        with tempfile.TemporaryDirectory(prefix=f"bench-generate-{scale}-") as tmp:
            env = {**os.environ, "BILLOPS_HOME": tmp}
            fig = _timed([billops, "generate", "--scale", scale, "--out", tmp], env)
            summary = json.loads((Path(tmp) / "truth" / "summary.json").read_text())
            fig.update({k: summary[k] for k in ("accounts", "claims", "charge_lines",
                                                "total_charges", "patients")})
            fig["batches"] = len(summary["batches"])
            fig["defects"] = sum(summary["defects"].values())
            figures[scale] = fig
            print(f"   {scale}: {fig['wall_s']} s wall, {fig['cpu_s']} s CPU, "
                  f"{fig['peak_rss_mb']} MB", flush=True)
        wall, rss = TARGETS.get(scale, (None, None))
        if wall is not None:
            targets.append({"name": f"{scale}: generate wall seconds", "value": fig["wall_s"],
                            "target": f"< {wall:g}", "met": fig["wall_s"] < wall})
        if rss is not None:
            targets.append({"name": f"{scale}: generate peak RSS MB",
                            "value": fig["peak_rss_mb"], "target": f"< {rss:g}",
                            "met": fig["peak_rss_mb"] < rss})
    return {"figures": figures, "targets": targets}
