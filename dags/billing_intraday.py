"""Intraday refresh: land the hour's batches, run the raw checks (a failing unit is held back
before any fact sees it; a blocking failure stops the refresh), then fold them into the
incremental facts and the billing event log (dbt tag `intraday`: only the accounts and traces those batches touch are
rebuilt) after the staging views and intermediate tables they read (`+tag:intraday`).
Exceptions, KPIs and the roll-forward, which judge everything against the as-of time, stay with
the nightly run; the last step syncs the work items with the data's new as-of time (snoozes
wake, breaches move). The steps are ``billops.pipeline.INTRADAY``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from billops.orchestration import DEFAULT_ARGS, add_pipeline_tasks


@dag(
    dag_id="billing_intraday",
    schedule="15 7-22 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["billops", "intraday"],
    doc_md=__doc__,
)
def billing_intraday() -> None:
    add_pipeline_tasks("intraday")


billing_intraday()
