"""Month-end close: the package of the last complete period in the data (or the `period` param),
locked. The step is ``billops.pipeline.MONTH_END``."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from billops.orchestration import DEFAULT_ARGS, add_pipeline_tasks


@dag(
    dag_id="billing_month_end",
    schedule="0 6 1 * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["billops", "month-end"],
    params={"period": ""},
    doc_md=__doc__,
)
def billing_month_end() -> None:
    add_pipeline_tasks("month_end")


billing_month_end()
