"""Two commits on the same generated data, runs alternating (ABBA), CPU and wall per stage.

    python -m bench.compare_commits BEFORE AFTER [--scale small] [--rounds 2] [--stages ...]

Each commit is checked out in a git worktree under a temporary folder and run with ``PYTHONPATH``
pointing at it, on a copy of one home generated and ingested once (by AFTER). CPU seconds are the
user and system time of the stage's process and the children it waited for, so they hold up on a
shared machine better than wall seconds. Prints one JSON object per run and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "transform", "check", "mine", "score", "publish")


def _timed(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(args)} failed (PYTHONPATH={env['PYTHONPATH']})")
    return {"wall_s": round(time.perf_counter() - start, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "load_1m": round(os.getloadavg()[0], 1)}


def _billops(tree: Path, home: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "BILLOPS_HOME": str(home), "PYTHONPATH": str(tree)}
    return _timed([sys.executable, "-m", "billops", *args], env)


def _order(rounds: int) -> list[str]:
    """ABBA...: each commit runs first as often as second."""
    return [rev for r in range(rounds) for rev in (("before", "after") if r % 2 == 0
                                                   else ("after", "before"))]


def compare(before: str, after: str, scale: str, rounds: int, stages: tuple[str, ...]) -> dict:
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    trees = {"before": work / "before", "after": work / "after"}
    try:
        for name, rev in (("before", before), ("after", after)):
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach",
                            str(trees[name]), rev], check=True)
        base = work / "home"
        _billops(trees["after"], base, "generate", "--scale", scale, "--seed", "42",
                 "--start", "2026-09", "--out", str(base))
        pre = [s for s in ("ingest",) if s not in stages]
        for stage in pre:
            _billops(trees["after"], base, stage)
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for name in _order(rounds):
            home = work / f"home-{name}"
            shutil.copytree(base, home, symlinks=True)
            result = {stage: _billops(trees[name], home, stage) for stage in stages}
            print(json.dumps({"commit": name, **result}), flush=True)
            runs[name].append(result)
            shutil.rmtree(home)
        return {"scale": scale, "rounds": rounds, "runs": runs, "mean_cpu_s": {
            name: {stage: round(statistics.mean(r[stage]["cpu_s"] for r in rs), 2)
                   for stage in stages} for name, rs in runs.items()}}
    finally:
        for tree in trees.values():
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_commits")
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stages", nargs="+", default=list(STAGES))
    args = parser.parse_args()
    summary = compare(args.before, args.after, args.scale, args.rounds, tuple(args.stages))
    print(json.dumps(summary["mean_cpu_s"], indent=2))


if __name__ == "__main__":
    main()
