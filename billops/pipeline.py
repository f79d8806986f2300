"""The pipeline steps, and the one definition of the order ``billops run`` and the DAGs call them.

Each step is a plain function of the settings so it can be tested alone, called by the CLI and
called by a thin Airflow task. ``PIPELINES`` (below) is the one place that says which steps each
pipeline runs and in what order: ``billops run`` walks ``NIGHTLY`` and the DAG files build their
tasks from the same tuples (``billops.orchestration.add_pipeline_tasks``), so the two paths cannot
drift apart. Every step receives one ``Settings``: ``billops run`` reads the environment once and
hands it to every step; an Airflow task reads it when the task runs (``run_step`` with no
settings). The dbt step's rule settings reach dbt as ``billops.transform.dbt_vars(settings)`` on
both paths: ``--vars`` of the in-process ``dbt build`` under the CLI, the Cosmos operators'
``vars`` (set again when each dbt task runs) under Airflow.

Steps that write the warehouse must run one at a time (Airflow pool ``warehouse``). Heavy imports
(dbt, Great Expectations, pm4py) stay inside the functions so the CLI and DAG parsing stay fast.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, Protocol

from billops.config import Settings, get_settings
from billops.fs_security import owner_only_umask

log = logging.getLogger(__name__)


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
    """Copy the operational store's work-item statuses into ``ops.exception_status``, and its
    work items and their events into ``ops.work_items`` and ``ops.work_item_events`` (the queue
    metrics' sources, billops.ops_copy).

    ``transform`` does this itself; the Airflow DAG, whose dbt tasks run dbt directly, runs it as
    the task before them.
    """
    from billops.ops_copy import copy_work_queue
    from billops.ops_store import sync_exception_status
    from billops.warehouse import connect

    settings = settings or get_settings()
    require_loaded(settings)
    with connect(settings) as con:
        return {"exception_statuses": sync_exception_status(con, settings),
                **copy_work_queue(con, settings)}


def sync_work_items_step(settings: Settings | None = None) -> dict[str, Any]:
    """Bring the work items in line with ``marts.billing_exceptions`` (billops.workflow.sync):
    new exceptions open and are routed, vanished ones auto-resolve, returning ones reopen, all
    against the data's as-of time; then exported adjustments whose journal the GL extract now
    holds become POSTED (billops.workflow.posting). Reads the warehouse only."""
    import duckdb

    from billops.warehouse import as_of
    from billops.workflow.posting import post_imported_journals
    from billops.workflow.sync import sync_from_marts

    settings = settings or get_settings()
    require_loaded(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables where "
                             "table_schema = 'marts' and table_name = 'billing_exceptions'"
                             ).fetchone()[0]
        when = as_of(con)
        if not exists or when is None:
            return {"skipped": "no marts.billing_exceptions yet (the nightly run builds it)"}
        synced = sync_from_marts(con, as_of=when, settings=settings)
        posted = post_imported_journals(con, as_of=when, settings=settings)
        return {**synced, **{f"adjustments_{k}": v for k, v in posted.items()}}


# The queue metrics and the models they read (the operational store's copy, the routing seed).
WORK_QUEUE_SELECT = "+fct_work_queue_daily"


def work_queue_metrics_step(settings: Settings | None = None) -> dict[str, Any]:
    """The queue metrics of the sync just made: the work items and their events are copied into
    the warehouse again and only ``fct_work_queue_daily`` and the models it reads are rebuilt, so
    the mart never lags the work items by a run."""
    return transform_step(settings, select=WORK_QUEUE_SELECT)


def intraday_step(settings: Settings | None = None) -> dict[str, Any]:
    """The intraday refresh: new batches folded into the incremental facts and the event log."""
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.transform import transform_intraday

    return _plain(transform_intraday(settings=settings))


def transform_step(settings: Settings | None = None, select: str | None = None,
                   sync_ops: bool = True, unit_tests: bool = False) -> dict[str, Any]:
    """``billops transform``: sync the operational store (unless ``sync_ops=False``), dbt build
    (with the dbt unit tests when ``unit_tests``)."""
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.transform import transform
    return _plain(transform(select=select, settings=settings, sync_ops=sync_ops,
                            unit_tests=unit_tests))


def dbt_build_step(settings: Settings | None = None) -> dict[str, Any]:
    """The pipelines' dbt step: ``dbt build`` of the whole project after ``sync_ops`` (so without
    syncing again). Under Airflow the Cosmos task group runs the same build, one task per model,
    with the same ``dbt_vars(settings)``."""
    return transform_step(settings, sync_ops=False)


def check_step(settings: Settings | None = None) -> dict[str, Any]:
    """Mart suites, after dbt: failures are recorded and routed to ``marts.dq_breaks``."""
    settings = settings or get_settings()
    require_loaded(settings)
    from expectations.runner import check_marts
    return _plain(check_marts(settings=settings))


def check_raw_step(settings: Settings | None = None, new_batches: bool = False) -> dict[str, Any]:
    """Raw suites, right after ingest: a blocking failure raises ``DataQualityError`` (a
    ``BillopsError``), so dbt and publish never run on an untrustworthy extract and the snapshot
    stays; failing units of any other critical rule are held back and the run goes on.
    ``new_batches``: only the rows of the batches awaiting a verdict (``expectations.coverage``)."""
    settings = settings or get_settings()
    require_loaded(settings)
    from expectations.runner import check_raw
    return _plain(check_raw(settings=settings, new_batches=new_batches))


def check_new_batches_step(settings: Settings | None = None) -> dict[str, Any]:
    """The intraday raw check: ``check_raw_step`` on the new batches, so it costs what they
    cost. The nightly checks every row again."""
    return check_raw_step(settings, new_batches=True)


MINE_SUMMARY = ("cases", "events", "activities", "variants")


def mine_step(settings: Settings | None = None) -> dict[str, Any]:
    return start_mine_step(settings, background=False).finish()


def start_mine_step(settings: Settings | None = None, background: bool = True) -> Started:
    """The mine step begun: the event log's snapshot is taken now and mined in a worker process
    (``background``) while the caller runs other steps; ``finish()`` writes the ``pm`` tables."""
    settings = settings or get_settings()
    require_loaded(settings)
    from process_mining.mine import MiningJob

    return _Summarised(MiningJob(settings, background=background), MINE_SUMMARY)


class Started(Protocol):
    """A step begun in the background: ``finish`` waits for it and writes its results (only the
    process that holds the warehouse calls it); ``cancel`` abandons it."""

    def finish(self) -> dict[str, Any]: ...

    def cancel(self) -> None: ...


@dataclass
class _Summarised:
    job: Started
    keys: tuple[str, ...]

    def finish(self) -> dict[str, Any]:
        result = self.job.finish()
        return {k: result[k] for k in self.keys}

    def cancel(self) -> None:
        self.job.cancel()


def score_step(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.scoring import score
    return _plain(score(settings=settings))


def publish_step(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    require_loaded(settings)
    from billops.publish import publish
    return {"serving": str(publish(settings))}


def close_step(settings: Settings | None = None, period: str | None = None,
               reopen: bool = False) -> dict[str, Any]:
    from billops.close import close_period, last_complete_period

    settings = settings or get_settings()
    pkg = close_period(period or last_complete_period(settings), settings=settings, reopen=reopen)
    return {"period": pkg.period, "folder": str(pkg.folder), "accounts": pkg.accounts,
            "entities": pkg.entities}


@dataclass(frozen=True)
class Step:
    """One step of a pipeline: the function both ``billops run`` and the Airflow task call.

    ``function(settings, **params)`` takes the settings first; ``params`` names the Airflow
    DAG params it accepts (the month-end ``period``). A ``dbt`` step is rendered under Airflow as
    the Cosmos task group ``task_id`` (one task per dbt model) instead of one task.
    """

    name: str
    function: Callable[..., dict[str, Any]]
    dbt: bool = False
    params: tuple[str, ...] = ()
    # ``billops run`` may begin this step with ``start(settings)`` and go on with the next steps,
    # finishing it before the step named ``finish_before``. The work it does meanwhile must not
    # touch the warehouse (one writing process), and no step before that one may read its output.
    start: Callable[[Settings], Started] | None = None
    finish_before: str | None = None
    # ``billops run`` runs this step in a process of its own (as every Airflow task is), so the
    # memory it takes (Great Expectations' frames and context) is returned when it ends.
    isolated: bool = False

    @property
    def task_id(self) -> str:
        """The Airflow task (or, for the dbt step, task group) id."""
        return "dbt" if self.dbt else self.name


NIGHTLY: tuple[Step, ...] = (
    Step("ingest", ingest_step),
    Step("validate_x12", validate_x12_step),
    Step("check_raw", check_raw_step, isolated=True),
    Step("sync_ops", sync_ops_step),
    Step("transform", dbt_build_step, dbt=True),
    # Mining reads only marts.billing_event_log, which transform writes; only publish reads pm.*.
    Step("mine", mine_step, start=start_mine_step, finish_before="publish"),
    Step("check", check_step, isolated=True),
    Step("sync_work_items", sync_work_items_step),
    Step("work_queue_metrics", work_queue_metrics_step),
    Step("score", score_step),
    Step("publish", publish_step),
)
INTRADAY: tuple[Step, ...] = (
    Step("ingest", ingest_step),
    Step("validate_x12", validate_x12_step),
    Step("check_raw", check_new_batches_step, isolated=True),
    Step("refresh_facts", intraday_step),
    Step("sync_work_items", sync_work_items_step),
    Step("work_queue_metrics", work_queue_metrics_step),
)
MONTH_END: tuple[Step, ...] = (Step("close", close_step, params=("period",)),)

# The one definition: pipeline name -> its steps in order (billops run = nightly).
PIPELINES: dict[str, tuple[Step, ...]] = {
    "nightly": NIGHTLY,
    "intraday": INTRADAY,
    "month_end": MONTH_END,
}
STEPS = tuple(step.name for step in NIGHTLY)


def get_step(pipeline: str, name: str) -> Step:
    for step in PIPELINES[pipeline]:
        if step.name == name:
            return step
    raise KeyError(f"{pipeline} has no step {name!r}")


def run_step(pipeline: str, name: str, settings: Settings | None = None,
             **params: Any) -> dict[str, Any]:
    """Run one step of a pipeline. Without ``settings`` they are read from the environment now
    (an Airflow task: settings resolve when the task runs, not when the DAG file was parsed).
    ``params`` the step does not accept, and empty ones, are ignored."""
    owner_only_umask()  # an Airflow task enters here: what it writes under the home is 0600/0700
    step = get_step(pipeline, name)
    settings = settings or get_settings(fresh=True)
    accepted = {k: v for k, v in params.items() if k in step.params and v not in (None, "")}
    return step.function(settings, **accepted)


def run_isolated(pipeline: str, name: str, settings: Settings) -> dict[str, Any]:
    """``run_step`` in a fresh process (spawned: this one holds DuckDB's threads), which opens
    the warehouse while this process holds no connection to it; its error is raised here."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(run_step, pipeline, name, settings).result()


def start_step(pipeline: str, name: str, settings: Settings) -> Started:
    """Begin a step that can run in the background (``Step.start``); see ``run_all``."""
    owner_only_umask()
    step = get_step(pipeline, name)
    if step.start is None:
        raise KeyError(f"{pipeline} step {name!r} cannot run in the background")
    return step.start(settings)


@dataclass(frozen=True)
class StepTime:
    """When a step of ``run_all`` began (seconds after the run began) and how long it took; a
    background step's time runs until it was finished."""

    started_s: float
    seconds: float
    background: bool = False


def run_all(settings: Settings | None = None, progress: Any = None,
            pipeline: str = "nightly",
            timings: dict[str, StepTime] | None = None) -> dict[str, dict[str, Any]]:
    """The pipeline's steps in their one defined order (nightly: ingest -> validate_x12 ->
    check_raw -> sync_ops -> transform -> mine -> check -> sync_work_items -> work_queue_metrics ->
    score -> publish), stopping at the first failure. A step with ``start`` is begun in the
    background and finished before its ``finish_before`` step (mine runs in a worker process
    beside check, the work-item sync and the queue metrics); its results are written by this
    process, so the warehouse keeps one writer. ``timings``, when given, receives each step's
    :class:`StepTime`."""
    settings = settings or get_settings()
    steps = PIPELINES[pipeline]
    results: dict[str, dict[str, Any]] = {}
    running: dict[str, tuple[Step, Started, float]] = {}
    clock = timings if timings is not None else {}
    origin = time.perf_counter()

    def finish(name: str) -> None:
        _step, job, began = running.pop(name)
        results[name] = job.finish()
        clock[name] = StepTime(round(began - origin, 2), round(time.perf_counter() - began, 2), True)
        log.info("step %s done in %.1f s: %s", name, clock[name].seconds, results[name])

    try:
        for step in steps:
            for name in [n for n, (begun, _job, _t) in running.items()
                         if begun.finish_before == step.name]:
                finish(name)
            if progress:
                progress(step.name)
            began = time.perf_counter()
            if step.start is not None and step.finish_before is not None:
                running[step.name] = (step, start_step(pipeline, step.name, settings), began)
                continue
            results[step.name] = (run_isolated if step.isolated else run_step)(
                pipeline, step.name, settings)
            clock[step.name] = StepTime(round(began - origin, 2),
                                        round(time.perf_counter() - began, 2))
            log.info("step %s done in %.1f s: %s", step.name, clock[step.name].seconds,
                     results[step.name])
        for name in list(running):
            finish(name)
    finally:
        for _step, job, _began in running.values():
            job.cancel()
    return {step.name: results[step.name] for step in steps}
