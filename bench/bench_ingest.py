"""Ingestion at scale: a large full load, and an incremental batch after the history.

Large load: ``billops generate --scale medium`` when the generator offers it; otherwise several
``small`` runs with distinct seeds and start months written into one landing (distinct batch ids),
which is what this records under ``landing``. Incremental: the history is loaded, then one more
small batch (a ``tiny`` run starting after the history) lands, and only that batch is read; its
cost is compared with the history's full load. Every load runs ``billops ingest`` as its own
process, so wall time and peak RSS are the loader's alone. pyx12 validation is on, as in
production.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_pipeline import _timed

SMALL_RUNS = int(os.environ.get("BENCH_INGEST_SMALL_RUNS", "4"))


def _billops() -> str:
    return str(Path(sys.executable).parent / "billops")


def _generate(home: Path, *args: str) -> None:
    _timed([_billops(), "generate", *args, "--out", str(home)], {**os.environ})


def _medium_available() -> bool:
    from billops.synth import params

    return "medium" not in getattr(params, "PLANNED_SCALES", ())


def _landing_size(landing: Path) -> dict[str, Any]:
    files = [p for p in landing.rglob("*") if p.is_file()]
    return {"files": len(files), "mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
            "batches": len({p.parent for p in landing.glob("*/*/_manifest.json")})}


def _rows(home: Path) -> int:
    import duckdb

    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        return int(con.execute("select coalesce(sum(rows_loaded), 0) from raw._loads").fetchone()[0])


def _ingest(home: Path) -> dict[str, Any]:
    return _timed([_billops(), "ingest"], {**os.environ, "BILLOPS_HOME": str(home)})


def _ingest_unvalidated(home: Path) -> dict[str, Any]:
    """The same load without pyx12 validation, to show what validation costs."""
    code = "from billops.ingest import ingest; ingest(validate=False)"
    return _timed([sys.executable, "-c", code], {**os.environ, "BILLOPS_HOME": str(home)})


def large_load(tmp: Path) -> dict[str, Any]:
    home = tmp / "large"
    if _medium_available():
        source = "billops generate --scale medium"
        _generate(home, "--scale", "medium", "--seed", "3")
    else:
        source = f"{SMALL_RUNS} x small (distinct seeds and start months), medium not available"
        for n in range(SMALL_RUNS):
            _generate(home, "--scale", "small", "--seed", str(100 + n),
                      "--start", f"{2024 + n // 4}-{1 + 3 * (n % 4):02d}")
    bare = tmp / "large-unvalidated"
    shutil.copytree(home / "landing", bare / "landing")
    figures = {"source": source, **_landing_size(home / "landing"), **_ingest(home)}
    figures["rows"] = _rows(home)
    figures["without_pyx12_validation"] = _ingest_unvalidated(bare)
    return figures


def incremental(tmp: Path) -> dict[str, Any]:
    home = tmp / "incremental"
    _generate(home, "--scale", "small", "--seed", "7", "--start", "2024-01")
    history = {**_landing_size(home / "landing"), **_ingest(home), "rows": _rows(home)}
    extra = tmp / "extra"
    _generate(extra, "--scale", "tiny", "--seed", "8", "--start", "2024-06")
    for system in (extra / "landing").iterdir():
        for batch in system.iterdir():
            shutil.copytree(batch, home / "landing" / system.name / batch.name)
    batch = {**_landing_size(extra / "landing"), **_ingest(home)}
    batch["rows"] = _rows(home) - history["rows"]
    return {"history": history, "new_batch": batch,
            "cost_ratio": round(batch["wall_s"] / history["wall_s"], 3),
            "rows_ratio": round(batch["rows"] / history["rows"], 3)}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        large = large_load(Path(tmp))
        print(f"   large load: {large['wall_s']} s, {large['peak_rss_mb']} MB, {large['rows']} rows",
              flush=True)
        step = incremental(Path(tmp))
        print(f"   incremental: {step['new_batch']['wall_s']} s after a "
              f"{step['history']['wall_s']} s history", flush=True)
    # The new batch's cost should follow its own size: at most its row share plus a fixed startup.
    fixed_s = 3.0
    bound = step["rows_ratio"] * step["history"]["wall_s"] + fixed_s
    return {"figures": {"large": large, "incremental": step}, "targets": [
        {"name": "large load wall seconds", "value": large["wall_s"], "target": "< 60",
         "met": large["wall_s"] < 60},
        {"name": "large load without pyx12 validation, wall seconds",
         "value": large["without_pyx12_validation"]["wall_s"], "target": "< 60",
         "met": large["without_pyx12_validation"]["wall_s"] < 60},
        {"name": "large load peak RSS MB", "value": large["peak_rss_mb"], "target": "< 2048",
         "met": large["peak_rss_mb"] < 2048},
        {"name": "incremental batch wall seconds (bound: row share of history + 3 s startup)",
         "value": step["new_batch"]["wall_s"], "target": f"<= {bound:.1f}",
         "met": step["new_batch"]["wall_s"] <= bound},
    ]}
