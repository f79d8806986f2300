"""Nightly billing run: land -> validate X12 -> reconcile (dbt, one task per model) -> check -> mine -> score -> publish.

Every task calls a ``billops`` function; every warehouse writer takes the one-slot ``warehouse`` pool.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task
from cosmos import DbtTaskGroup

from billops import orchestration, pipeline
from billops.orchestration import DEFAULT_ARGS, cosmos_task_group_args


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
    @task
    def ingest() -> dict:
        return pipeline.ingest_step()

    @task
    def validate_x12() -> dict:
        return pipeline.validate_x12_step()

    @task
    def sync_ops() -> dict:
        return pipeline.sync_ops_step()

    @task
    def check_raw() -> dict:
        return orchestration.check_raw_or_fail()

    dbt = DbtTaskGroup(group_id="dbt", **cosmos_task_group_args())

    @task
    def check() -> dict:
        return pipeline.check_step()

    @task
    def mine() -> dict:
        return pipeline.mine_step()

    @task
    def score() -> dict:
        return pipeline.score_step()

    @task
    def publish() -> dict:
        return pipeline.publish_step()

    ingest() >> validate_x12() >> check_raw() >> sync_ops() >> dbt
    dbt >> check() >> mine() >> score() >> publish()


billing_nightly()
