"""Airflow-facing configuration shared by the DAG files (kept here so it is tested on its own).

DAG files stay thin: they wire tasks that call ``billops.pipeline`` functions and render the dbt
project with Cosmos from its manifest, one Airflow task per dbt model.
"""

from __future__ import annotations

import os
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


def cosmos_task_group_args(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``cosmos.DbtTaskGroup``: manifest load, dbt build per model."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from billops.transform import release_warehouse

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


def check_raw_or_fail() -> dict[str, Any]:
    """The raw checks as an Airflow task runs them: a blocking failure fails the task at once,
    without retry (the data will not change until someone fixes or waives the batch)."""
    from airflow.exceptions import AirflowFailException

    from billops.pipeline import check_raw_step
    from expectations.runner import DataQualityError

    try:
        return check_raw_step()
    except DataQualityError as exc:
        raise AirflowFailException(str(exc)) from exc
