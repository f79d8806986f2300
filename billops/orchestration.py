"""Airflow-facing configuration shared by the DAG files (kept here so it is tested on its own).

DAG files stay thin: each declares its schedule and calls ``add_pipeline_tasks``, which builds one
task per step of ``billops.pipeline.PIPELINES`` (the definition ``billops run`` walks too) and
renders the dbt step with Cosmos from the manifest, one Airflow task per dbt model.

Settings reach the steps the same way as under ``billops run``: a Python task calls
``billops.pipeline.run_step``, which reads the ``BILLOPS_`` environment when the task runs; the
dbt tasks get ``billops.transform.dbt_vars(settings)`` as Cosmos ``vars`` (dbt ``--vars``) and the
warehouse path in ``env``. Those are set when the DAG file is parsed (what the Airflow UI shows
as rendered fields) and set again by the ``DbtSettingsAtRunTime`` interceptor, which Cosmos calls
in the worker right before it builds the dbt command, so a DAG processor whose environment
differs from the worker's cannot hand dbt stale settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings

WAREHOUSE_POOL = "warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "DuckDB allows one writing process: every warehouse writer takes this slot"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    # Tests and `make run` set BILLOPS_TASK_RETRIES=0 so a failure surfaces at once.
    "retries": int(os.environ.get("BILLOPS_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=5),
    "pool": WAREHOUSE_POOL,
}


def dbt_project_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "dbt_project"


def manifest_path() -> Path:
    return dbt_project_dir() / "target" / "manifest.json"


def dbt_env(settings: Settings | None = None) -> dict[str, str]:
    settings = settings or get_settings()
    return {"BILLOPS_WAREHOUSE": str(Path(settings.warehouse).resolve())}  # type: ignore[arg-type]


@dataclass(frozen=True)
class DbtSettingsAtRunTime:
    """Cosmos interceptor: sets a dbt task's ``vars`` and warehouse ``env`` from the settings when
    the task runs (Cosmos calls it with the context and the operator just before it builds the
    dbt command). Without pinned ``settings`` it reads the worker's ``BILLOPS_`` environment."""

    settings: Settings | None = None

    def __call__(self, context: Any, operator: Any) -> None:
        from billops.fs_security import owner_only_umask
        from billops.transform import UNIT_TESTS, dbt_vars

        owner_only_umask()  # the dbt task writes the warehouse: owner-only, as every other task
        settings = self.settings or get_settings(fresh=True)
        operator.vars = dbt_vars(settings)
        operator.env = {**(operator.env or {}), **dbt_env(settings)}
        # as ``billops run``: the unit tests assume the default vars and run in CI, not here
        excluded = operator.exclude or []
        excluded = excluded.split() if isinstance(excluded, str) else list(excluded)
        if UNIT_TESTS not in excluded:
            operator.exclude = [*excluded, UNIT_TESTS]


def cosmos_task_group_args(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``cosmos.DbtTaskGroup``: manifest load, dbt build per model, with
    the rule settings as dbt vars (``dbt_vars``, as ``billops transform`` passes them).

    Without ``settings`` the vars shown at parse time come from the environment of the parsing
    process and are read again in the worker when each dbt task runs; with ``settings`` they are
    pinned to those."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from billops.transform import dbt_vars, release_warehouse

    pinned = settings
    settings = settings or get_settings()

    project = dbt_project_dir()
    return {
        "project_config": ProjectConfig(
            dbt_project_path=project,
            manifest_path=manifest_path(),
            project_name="billops",
            install_dbt_deps=False,
        ),
        "profile_config": ProfileConfig(
            profile_name="billops",
            target_name="dev",
            profiles_yml_filepath=project / "profiles.yml",
        ),
        "execution_config": ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # A test on two models (relationships) runs as its own task after both are built.
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        "operator_args": {
            "pool": WAREHOUSE_POOL,
            "env": dbt_env(settings),
            "vars": dbt_vars(settings),
            "interceptors": [DbtSettingsAtRunTime(pinned)],
            "append_env": True,
            "install_deps": False,
            "quiet": True,
            # dbt runs in the task's process: release the warehouse so later steps can open it.
            "callback": release_warehouse,
        },
    }


def ensure_pool() -> None:
    """Create or update the ``warehouse`` pool (one slot) in the Airflow metadata database."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        name=WAREHOUSE_POOL,
        slots=WAREHOUSE_POOL_SLOTS,
        description=WAREHOUSE_POOL_DESCRIPTION,
        include_deferred=False,
    )


def run_task(pipeline: str, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One pipeline step as an Airflow task runs it: settings read now, in the worker; the DAG's
    params passed on. A blocking data-quality failure (the raw checks) fails the task at once,
    without retry (the data will not change until someone fixes or waives the batch)."""
    from airflow.sdk.exceptions import AirflowFailException

    from billops.pipeline import run_step
    from expectations.runner import DataQualityError

    try:
        return run_step(pipeline, name, **dict(params or {}))
    except DataQualityError as exc:
        raise AirflowFailException(str(exc)) from exc


def add_pipeline_tasks(pipeline: str) -> list[Any]:
    """Inside a DAG: one task per step of ``billops.pipeline.PIPELINES[pipeline]``, chained in
    the definition's order; the dbt step is the Cosmos task group ``dbt``. Returns the nodes."""
    from airflow.providers.standard.operators.python import PythonOperator

    from billops.pipeline import PIPELINES

    nodes: list[Any] = []
    for step in PIPELINES[pipeline]:
        if step.dbt:
            from cosmos import DbtTaskGroup

            node: Any = DbtTaskGroup(group_id=step.task_id, **cosmos_task_group_args())
        else:
            node = PythonOperator(task_id=step.task_id, python_callable=run_task,
                                  op_kwargs={"pipeline": pipeline, "name": step.name},
                                  doc=(step.function.__doc__ or "").strip() or None)
        if nodes:
            nodes[-1] >> node
        nodes.append(node)
    return nodes
