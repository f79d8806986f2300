"""Run the dbt project in-process (``dbt build``, ``dbt parse``) with ``dbtRunner``.

dbt writes its target and log folders under ``Settings.home`` (not into the project), so a
read-only checkout works and two homes can build side by side. The warehouse path reaches
``profiles.yml`` through the ``BILLOPS_WAREHOUSE`` environment variable, and the rule settings
through ``--vars``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import billops
from billops.config import RULE_VARS, Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import connect, refresh_raw_views

WAREHOUSE_ENV = "BILLOPS_WAREHOUSE"
# dbt unit tests specify the SQL with hand-written rows under the project's default vars: CI and
# development run them; a production build (whose settings may differ) leaves them out.
UNIT_TESTS = "test_type:unit"
_FAILED = frozenset({"error", "fail", "runtime error"})
_PASSED = frozenset({"success", "pass", "no-op"})
_MAX_LISTED_FAILURES = 5


@dataclass(frozen=True)
class NodeResult:
    """The outcome of one dbt node (model, data test, unit test, seed, ...)."""

    unique_id: str
    resource_type: str
    status: str
    message: str | None
    execution_time: float


@dataclass(frozen=True)
class TransformResult:
    """Summary of a ``dbt build``; ``nodes`` holds every node's outcome."""

    success: bool
    elapsed_s: float
    models: int
    data_tests: int
    unit_tests: int
    passed: int
    warned: int
    failed: int
    skipped: int
    target_path: Path
    warehouse: Path
    messages: list[str] = field(default_factory=list)
    nodes: list[NodeResult] = field(default_factory=list)

    def nodes_of(self, resource_type: str) -> list[NodeResult]:
        return [n for n in self.nodes if n.resource_type == resource_type]


def dbt_paths() -> tuple[Path, Path]:
    """(project_dir, profiles_dir) of the repository's dbt project."""
    project = Path(billops.__file__).resolve().parents[1] / "dbt_project"
    return project, project


def dbt_vars(settings: Settings | None = None) -> dict[str, Any]:
    """The rule settings as dbt vars (the project's defaults apply to a bare ``dbt build``)."""
    settings = settings or get_settings()
    return {name: getattr(settings, name) for name in RULE_VARS}


def _work_dir(settings: Settings) -> Path:
    return settings.home.resolve() / "dbt"


def _state_dir(settings: Settings) -> Path:
    """The manifest of the last build of the whole project (dbt ``--state``)."""
    return _work_dir(settings) / "state"


@contextlib.contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    """Point profiles.yml at the warehouse for the duration of one dbt invocation."""
    previous = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = str(warehouse)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = previous


def _invoke(
    command: str, args: list[str], target_path: Path, log_path: Path, warehouse: Path
) -> Any:
    from dbt.cli.main import dbtRunner

    project_dir, profiles_dir = dbt_paths()
    cli = [
        command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
        "--quiet",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        *args,
    ]
    with _warehouse_env(warehouse):
        try:
            return dbtRunner().invoke(cli)
        finally:
            release_warehouse()


def release_warehouse(*_args: Any, **_kwargs: Any) -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    Without this, the warehouse stays open here with dbt's configuration and opening it again
    (read-only, or from the next step of ``billops run``) fails. dbt-duckdb has no public call
    that closes it, so this reaches its connection manager's environment. Cosmos calls it after
    each in-process dbt task (its ``callback``, with the project dir and context, ignored here).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if env is not None:
        env.close()


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _node_results(run_result: Any) -> list[NodeResult]:
    nodes = []
    for item in getattr(run_result, "results", None) or []:
        node = item.node
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                status=str(item.status),
                message=_first_line(item.message) or None,
                execution_time=float(item.execution_time or 0.0),
            )
        )
    return nodes


def _summary(nodes: list[NodeResult]) -> str:
    failures = [n for n in nodes if n.status in _FAILED]
    skipped = sum(n.status == "skipped" for n in nodes)
    listed = "; ".join(
        f"{n.unique_id} ({n.status}: {n.message or 'no message'})"
        for n in failures[:_MAX_LISTED_FAILURES]
    )
    more = len(failures) - _MAX_LISTED_FAILURES
    extra = f"; and {more} more" if more > 0 else ""
    return (
        f"dbt build failed: {len(failures)} of {len(nodes)} nodes failed, {skipped} skipped: "
        f"{listed}{extra}"
    )


def copy_operational_store(con: Any, settings: Settings) -> None:
    """The operational store's tables dbt reads as sources, copied into the warehouse:
    ``ops.exception_status`` (each work item's status) and ``ops.work_items``,
    ``ops.work_item_events`` (the queue metrics')."""
    from billops.ops_copy import copy_work_queue
    from billops.ops_store import sync_exception_status

    sync_exception_status(con, settings)
    copy_work_queue(con, settings)


def transform(
    select: str | None = None,
    settings: Settings | None = None,
    full_refresh: bool = False,
    exclude: str | None = None,
    state: Path | None = None,
    sync_ops: bool = True,
    dbt_flags: tuple[str, ...] = (),
    unit_tests: bool = False,
) -> TransformResult:
    """Refresh the raw views, copy the operational store's exception statuses and work queue into
    the warehouse (``ops.exception_status``, ``ops.work_items``, ``ops.work_item_events``: dbt
    sources; skipped with ``sync_ops=False`` for a selection that does not read them), then ``dbt build`` (models, unit tests, data tests). ``state`` is a folder
    holding a manifest for dbt's ``state:`` selectors; ``dbt_flags`` are further ``dbt build``
    options (the intraday run's). ``unit_tests=True`` also runs the dbt unit tests: they specify
    the SQL with hand-written rows against the project's default vars, so they belong to CI and
    development (``make test``, ``billops transform --unit-tests``), not to a run whose operator
    changed a setting they rely on.

    Raises BillopsError with a one-line summary of the failing nodes if any node fails.
    """
    settings = settings or get_settings()
    warehouse = Path(settings.warehouse).resolve()  # type: ignore[arg-type]
    with connect(settings) as con:
        refresh_raw_views(con, settings)
        if sync_ops:
            copy_operational_store(con, settings)

    work = _work_dir(settings)
    target_path, log_path = work / "target", work / "logs"
    args = ["--vars", json.dumps(dbt_vars(settings))]
    if select:
        args += ["--select", *select.split()]
    excluded = [*(exclude or "").split(), *([] if unit_tests else [UNIT_TESTS])]
    if excluded:
        args += ["--exclude", *dict.fromkeys(excluded)]
    if state:
        args += ["--state", str(state)]
    if full_refresh:
        args.append("--full-refresh")
    args += dbt_flags
    outcome = _invoke("build", args, target_path, log_path, warehouse)

    if outcome.result is None:
        reason = _first_line(str(outcome.exception)) if outcome.exception else "no result"
        raise BillopsError(f"dbt build could not run: {reason} (log: {log_path / 'dbt.log'})")

    nodes = _node_results(outcome.result)
    by_type = [n.resource_type for n in nodes]
    result = TransformResult(
        success=bool(outcome.success) and not any(n.status in _FAILED for n in nodes),
        elapsed_s=round(float(getattr(outcome.result, "elapsed_time", 0.0) or 0.0), 3),
        models=by_type.count("model"),
        data_tests=by_type.count("test"),
        unit_tests=by_type.count("unit_test"),
        passed=sum(n.status in _PASSED for n in nodes),
        warned=sum(n.status == "warn" for n in nodes),
        failed=sum(n.status in _FAILED for n in nodes),
        skipped=sum(n.status == "skipped" for n in nodes),
        target_path=target_path,
        warehouse=warehouse,
        messages=[
            f"{n.unique_id}: {n.status}: {n.message or ''}".rstrip(": ")
            for n in nodes
            if n.status == "warn" or n.status in _FAILED
        ],
        nodes=nodes,
    )
    if not result.success:
        raise BillopsError(
            _summary(nodes) if result.failed else f"dbt build failed (log: {log_path / 'dbt.log'})"
        )
    if not select and not exclude:
        # Every view now holds this manifest's SQL: the intraday run compares against it.
        _state_dir(settings).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target_path / "manifest.json", _state_dir(settings) / "manifest.json")
    return result


# The intraday refresh: the incremental facts and the event log with the intermediate tables they
# read (never the facts alone: they would rebuild touched rows from stale tables). Data tests check
# data the nightly build holds whole, and unit tests check the SQL, which an intraday run does not
# change: both run with the nightly build. The staging views read the raw zone when queried, so
# they are rebuilt only when their SQL differs from the last whole build's (dbt state:modified);
# without that build's manifest, all of them are.
INTRADAY_SELECT = "+tag:intraday"
INTRADAY_EXCLUDE = "test_type:data test_type:unit"
INTRADAY_EXCLUDE_UNCHANGED_VIEWS = "config.materialized:view,state:unmodified"
# The intraday run writes no manifest.json or run_results.json (nothing reads them after it: the
# saved state and Cosmos use the whole build's manifest, and the summary comes back in process),
# skips the version check done by every whole build, and lists only the schemas it builds in.
# Eight threads start every table of the first wave at once (six of them): with four, the
# touched-key tables every fact waits for queued behind the larger intermediate rebuilds.
INTRADAY_DBT_FLAGS = (
    "--no-write-json",
    "--no-version-check",
    "--cache-selected-only",
    "--threads",
    "8",
)


def transform_intraday(settings: Settings | None = None) -> TransformResult:
    """Fold newly loaded batches into the incremental facts and the billing event log."""
    settings = settings or get_settings()
    state = _state_dir(settings)
    if (state / "manifest.json").exists():
        return transform(
            select=INTRADAY_SELECT,
            exclude=f"{INTRADAY_EXCLUDE} {INTRADAY_EXCLUDE_UNCHANGED_VIEWS}",
            settings=settings,
            state=state,
            sync_ops=False,
            dbt_flags=INTRADAY_DBT_FLAGS,
        )
    return transform(
        select=INTRADAY_SELECT,
        exclude=INTRADAY_EXCLUDE,
        settings=settings,
        sync_ops=False,
        dbt_flags=INTRADAY_DBT_FLAGS,
    )


def parse_manifest(target_path: Path | None = None, settings: Settings | None = None) -> Path:
    """``dbt parse`` the project and return its manifest.json (Cosmos LoadMode.DBT_MANIFEST).

    The default target path is ``dbt_project/target``, where the Airflow DAGs look.
    """
    settings = settings or get_settings()
    project_dir, _ = dbt_paths()
    target_path = (target_path or project_dir / "target").resolve()
    warehouse = Path(settings.warehouse).resolve()  # type: ignore[arg-type]
    outcome = _invoke(
        "parse",
        ["--vars", json.dumps(dbt_vars(settings))],
        target_path,
        target_path.parent / "logs",
        warehouse,
    )
    manifest = target_path / "manifest.json"
    if not outcome.success or not manifest.exists():
        reason = _first_line(str(outcome.exception)) if outcome.exception else "see the dbt log"
        raise BillopsError(f"dbt parse failed: {reason}")
    return manifest
