"""The pipeline steps, in the order the nightly DAG and ``billops run`` call them.

Each step is a plain function so it can be tested alone, called by the CLI and called by a thin
Airflow task. Steps that write the warehouse must run one at a time (Airflow pool ``warehouse``).
Heavy imports (dbt, Great Expectations, pm4py) stay inside the functions so the CLI and DAG
parsing stay fast.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings

log = logging.getLogger(__name__)

STEPS = ("ingest", "validate_x12", "check_raw", "transform", "check", "mine", "score", "publish")


def _plain(result: Any) -> dict[str, Any]:
    """A JSON-friendly summary of a step result (Airflow XCom and the CLI print it)."""
    if is_dataclass(result) and not isinstance(result, type):
        data = asdict(result)
    elif isinstance(result, dict):
        data = dict(result)
    else:
        data = {"result": str(result)}
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()
            if not isinstance(v, list | dict) or k in ("messages",)}


def require_loaded(settings: Settings) -> None:
    """Steps after ingest need a warehouse with at least one loaded batch."""
    import duckdb

    from billops.errors import BillopsError

    path = Path(settings.warehouse)  # type: ignore[arg-type]
    if not path.exists():
        raise BillopsError(f"{path}: warehouse not found; run 'billops ingest' first")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            loaded = con.execute(
                "select count(*) from raw._batches where status = 'LOADED'").fetchone()[0]
    except duckdb.Error as exc:
        raise BillopsError(f"{path}: not a billops warehouse ({' '.join(str(exc).split())})") from exc
    if not loaded:
        raise BillopsError(f"{path}: no landing batch loaded yet; run 'billops generate' and "
                           "'billops ingest' first")


def ingest_step(settings: Settings | None = None, landing: Path | None = None) -> dict[str, Any]:
    from billops.ingest import ingest

    report = ingest(landing=landing, settings=settings or get_settings())
    return _plain(report)


def validate_x12_step(settings: Settings | None = None, landing: Path | None = None,
                      limit: int | None = None, workers: int | None = None) -> dict[str, Any]:
    """pyx12 validation of the X12 files ingest loaded as PENDING (off the load path)."""
    from billops.ingest.x12_validation import DEFAULT_WORKERS, validate_pending

    report = validate_pending(settings or get_settings(), landing, limit=limit,
                              workers=workers or DEFAULT_WORKERS)
    return _plain(report)


def sync_ops_step(settings: Settings | None = None) -> dict[str, Any]:
    """Copy the operational store's latest action per exception into ``ops.exception_status``.

    ``transform`` does this itself; the Airflow DAG, whose dbt tasks run dbt directly, runs it as
    the task before them.
    """
    from billops.ops_store import sync_exception_status
    from billops.warehouse import connect

    settings = settings or get_settings()
    require_loaded(settings)
    with connect(settings) as con:
        return {"exception_statuses": sync_exception_status(con, settings)}


def intraday_step(settings: Settings | None = None) -> dict[str, Any]:
    """The intraday refresh: new batches folded into the incremental facts and the event log."""
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.transform import transform_intraday

    return _plain(transform_intraday(settings=settings))


def transform_step(settings: Settings | None = None, select: str | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.transform import transform
    return _plain(transform(select=select, settings=settings))


def check_step(settings: Settings | None = None) -> dict[str, Any]:
    """Mart suites, after dbt: failures are recorded and routed to ``marts.dq_breaks``."""
    settings = settings or get_settings()
    require_loaded(settings)
    from expectations.runner import check_marts
    return _plain(check_marts(settings=settings))


def check_raw_step(settings: Settings | None = None) -> dict[str, Any]:
    """Raw suites, right after ingest: a blocking failure raises ``DataQualityError`` (a
    ``BillopsError``), so dbt and publish never run on an untrustworthy extract and the snapshot
    stays; failing units of any other critical rule are held back and the run goes on."""
    settings = settings or get_settings()
    require_loaded(settings)
    from expectations.runner import check_raw
    return _plain(check_raw(settings=settings))


def mine_step(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from process_mining.mine import mine_warehouse
    result = mine_warehouse(settings=settings)
    return {k: result[k] for k in ("cases", "events", "activities", "variants")}


def score_step(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.scoring import score
    return _plain(score(settings=settings))


def publish_step(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.warehouse import publish
    return {"serving": str(publish(settings))}


def close_step(settings: Settings | None = None, period: str | None = None,
               reopen: bool = False) -> dict[str, Any]:
    from billops.close import close_period, last_complete_period

    settings = settings or get_settings()
    pkg = close_period(period or last_complete_period(settings), settings=settings, reopen=reopen)
    return {"period": pkg.period, "folder": str(pkg.folder), "accounts": pkg.accounts,
            "entities": pkg.entities}


def run_all(settings: Settings | None = None, progress: Any = None) -> dict[str, dict[str, Any]]:
    """ingest -> transform -> check -> mine -> score -> publish, stopping at the first failure."""
    settings = settings or get_settings()
    functions = {
        "ingest": ingest_step, "validate_x12": validate_x12_step, "check_raw": check_raw_step,
        "transform": transform_step, "check": check_step,
        "mine": mine_step, "score": score_step, "publish": publish_step,
    }
    results: dict[str, dict[str, Any]] = {}
    for name in STEPS:
        if progress:
            progress(name)
        results[name] = functions[name](settings)
        log.info("step %s done: %s", name, results[name])
    return results
