"""`billops generate` at the benchmark scales: wall time and peak memory of the generator.

Each scale runs as its own process (the `billops` CLI). The generator simulates medium and
large in parallel parts (worker processes), so memory is measured over the whole process tree:
a sampler adds up the resident memory of the CLI process and its children every 0.2 s and keeps
the peak (``peak_rss_mb``); ``peak_rss_one_process_mb`` is the largest single process
(os.wait4's ru_maxrss, which covers the waited-for children too). CPU seconds count every
process of the tree, so they tell the generator's own cost when other work shares the 2 cores.
BENCH_GENERATE_SCALES picks the scales (default "medium,large").
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.process import run_measured

SCALES = os.environ.get("BENCH_GENERATE_SCALES", "medium,large").split(",")
# scale -> (wall seconds, peak RSS MB) targets of issue 3
TARGETS: dict[str, tuple[float, float | None]] = {"medium": (60.0, None), "large": (720.0, 4096.0)}


def run() -> dict[str, Any]:
    billops = str(Path(sys.executable).parent / "billops")
    figures: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    for scale in SCALES:
        with tempfile.TemporaryDirectory(prefix=f"bench-generate-{scale}-") as tmp:
            env = {**os.environ, "BILLOPS_HOME": tmp}
            load = round(os.getloadavg()[0], 2)
            fig = run_measured([billops, "generate", "--scale", scale, "--out", tmp], env)
            fig["load_average_1m_at_start"] = load
            # the 5-minute average at the end tells how busy the machine was during the run
            fig["load_average_1m_5m_at_end"] = [round(x, 2) for x in os.getloadavg()[:2]]
            summary = json.loads((Path(tmp) / "truth" / "summary.json").read_text())
            fig.update(
                {
                    k: summary[k]
                    for k in ("accounts", "claims", "charge_lines", "total_charges", "patients")
                }
            )
            fig["batches"] = len(summary["batches"])
            fig["defects"] = sum(summary["defects"].values())
            figures[scale] = fig
            print(
                f"   {scale}: {fig['wall_s']} s wall, {fig['cpu_s']} s CPU, "
                f"{fig['peak_rss_mb']} MB, load {load}",
                flush=True,
            )
        wall, rss = TARGETS.get(scale, (None, None))
        if wall is not None:
            targets.append(
                {
                    "name": f"{scale}: generate wall seconds",
                    "value": fig["wall_s"],
                    "target": f"< {wall:g}",
                    "met": fig["wall_s"] < wall,
                }
            )
        if rss is not None:
            targets.append(
                {
                    "name": f"{scale}: generate peak RSS MB (process tree)",
                    "value": fig["peak_rss_mb"],
                    "target": f"< {rss:g}",
                    "met": fig["peak_rss_mb"] < rss,
                }
            )
    return {"figures": figures, "targets": targets}
