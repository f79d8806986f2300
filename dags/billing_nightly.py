"""Nightly billing run: land -> validate X12 -> check raw -> sync ops -> reconcile (dbt, one task per model) -> mine -> check -> sync work items -> work queue metrics -> score -> publish.

The steps and their order are ``billops.pipeline.NIGHTLY``, which ``billops run`` walks too; every
task calls a ``billops`` function with the settings read when it runs, and the dbt tasks get the
same dbt vars as ``billops transform``. Every warehouse writer takes the one-slot ``warehouse`` pool.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from billops.orchestration import DEFAULT_ARGS, add_pipeline_tasks


@dag(
    dag_id="billing_nightly",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["billops", "nightly"],
    doc_md=__doc__,
)
def billing_nightly() -> None:
    add_pipeline_tasks("nightly")


billing_nightly()
