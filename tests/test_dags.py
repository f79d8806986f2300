"""The DAG files import cleanly and have the shape the data engineers rely on."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from billops.orchestration import WAREHOUSE_POOL

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag(dbt_manifest: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert {"billing_nightly", "billing_month_end", "billing_intraday"} <= set(dagbag.dag_ids)


def test_nightly_shape(dagbag, dbt_manifest: Path) -> None:
    import json

    dag = dagbag.dags["billing_nightly"]
    assert dag.max_active_runs == 1
    ids = set(dag.task_ids)
    for step in ("ingest", "check", "mine", "score", "publish"):
        assert step in ids
    # Cosmos renders one task per dbt model, all in the one-slot warehouse pool.
    manifest = json.loads(dbt_manifest.read_text())
    models = {n["name"] for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["package_name"] == "billops"}
    assert models
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    # TestBehavior.BUILD: one `dbt build --select <model>` task per model (its tests included)
    rendered = {t.task_id.split(".")[1].removesuffix("_model_build") for t in dbt_tasks}
    assert models <= rendered, models - rendered
    for task in dag.tasks:
        assert task.pool == WAREHOUSE_POOL, task.task_id
    # ingest comes first, publish last; raw data is validated and checked before dbt reads it
    assert dag.get_task("publish").upstream_task_ids == {"score"}
    assert not dag.get_task("ingest").upstream_task_ids
    chain = ["ingest", "validate_x12", "check_raw", "sync_ops"]
    for before, after in pairwise(chain):
        assert dag.get_task(after).upstream_task_ids == {before}, after
    first_dbt = {t.task_id for t in dbt_tasks if "sync_ops" in t.upstream_task_ids}
    assert first_dbt, "no dbt task waits for sync_ops"
    assert all(t.startswith("dbt.") for t in dag.get_task("sync_ops").downstream_task_ids)
    assert all(t.startswith("dbt.") for t in dag.get_task("check").upstream_task_ids)


def test_intraday_shape(dagbag) -> None:
    dag = dagbag.dags["billing_intraday"]
    assert dag.max_active_runs == 1
    assert dag.get_task("check_raw").upstream_task_ids == {"ingest"}
    assert dag.get_task("refresh_facts").upstream_task_ids == {"check_raw"}
    for task in dag.tasks:
        assert task.pool == WAREHOUSE_POOL, task.task_id


def test_dag_files_are_thin() -> None:
    for path in DAGS.glob("*.py"):
        text = path.read_text()
        assert "duckdb" not in text and "select " not in text.lower(), path
        assert len(text.splitlines()) < 80, f"{path} holds work that belongs in billops"
