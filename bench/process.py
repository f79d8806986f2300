"""Runs a command and measures it: wall time, CPU time and peak memory of its process tree."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from typing import Any

import psutil


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a worker that just ended
            total += p.memory_info().rss
    return total


def run_measured(args: list[str], env: dict[str, str], interval: float = 0.1) -> dict[str, Any]:
    """Wall seconds, CPU seconds of the process and the children it waited for (os.wait4's
    rusage), the summed peak RSS of the process tree (sampled every ``interval`` seconds) and the
    largest single process's peak RSS. Raises when the command fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            watched = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.Error:
                return
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise RuntimeError(f"{' '.join(args)} exited {code}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(max(peak, usage.ru_maxrss * 1024) / 2**20, 1),
        "peak_rss_one_process_mb": round(usage.ru_maxrss / 1024, 1),
    }
