"""Run the benchmarks and record their figures in bench/results/<name>.json."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args()
    names = args.names or sorted(p.stem for p in HERE.glob("bench_*.py"))
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        result = module.run()
        result["benchmark"] = name
        result["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        result["machine"] = {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "platform": platform.platform(),
            "load_average_1m_at_end": round(_load(), 2),
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        for target in result.get("targets", []):
            status = "PASS" if target["met"] else "MISS"
            print(f"   {status} {target['name']}: {target['value']} (target {target['target']})")
            failed += 0 if target["met"] else 1
    return 1 if failed else 0


def _load() -> float:
    """Other work on the machine skews wall times; the record says how busy it was."""
    import os

    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
