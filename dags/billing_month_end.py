"""Month-end close: the package of the last complete period in the data, locked."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from billops import pipeline
from billops.orchestration import DEFAULT_ARGS


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
    @task
    def close(params: dict | None = None) -> dict:
        return pipeline.close_step(period=(params or {}).get("period") or None)

    close()


billing_month_end()
