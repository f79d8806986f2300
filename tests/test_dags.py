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
    # mining reads the event log dbt wrote; billops run mines it beside the checks
    assert all(t.startswith("dbt.") for t in dag.get_task("mine").upstream_task_ids)
    assert dag.get_task("check").upstream_task_ids == {"mine"}


def test_intraday_shape(dagbag) -> None:
    dag = dagbag.dags["billing_intraday"]
    assert dag.max_active_runs == 1
    # the files an intraday batch brings are validated before the raw checks read the verdicts
    assert dag.get_task("validate_x12").upstream_task_ids == {"ingest"}
    assert dag.get_task("check_raw").upstream_task_ids == {"validate_x12"}
    assert dag.get_task("refresh_facts").upstream_task_ids == {"check_raw"}
    for task in dag.tasks:
        assert task.pool == WAREHOUSE_POOL, task.task_id


def test_dag_files_are_thin() -> None:
    for path in DAGS.glob("*.py"):
        text = path.read_text()
        assert "duckdb" not in text and "select " not in text.lower(), path
        assert len(text.splitlines()) < 80, f"{path} holds work that belongs in billops"


PIPELINE_OF_DAG = {"billing_nightly": "nightly", "billing_intraday": "intraday",
                   "billing_month_end": "month_end"}
NON_DEFAULT = {"BILLOPS_BILLING_WINDOW_DAYS": "1", "BILLOPS_FOLLOW_UP_WINDOW_DAYS": "5",
               "BILLOPS_UNDERPAYMENT_TOLERANCE": "0.25",
               "BILLOPS_REPEAT_PROCEDURE_MODIFIERS": '["76", "77"]'}


@pytest.fixture
def non_default_env(monkeypatch, tmp_path: Path):
    """Non-default rule settings in the environment; the settings cache is cleared before the
    environment is restored, so later tests read their own."""
    from billops import config

    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path / "home"))
    for name, value in NON_DEFAULT.items():
        monkeypatch.setenv(name, value)
    config._cached.cache_clear()
    yield config.get_settings(fresh=True)
    config._cached.cache_clear()


@pytest.mark.parametrize("dag_id", sorted(PIPELINE_OF_DAG))
def test_dag_follows_the_one_definition(dagbag, dag_id: str) -> None:
    """Each DAG's tasks (the dbt task group as one node) are the steps of its pipeline in
    billops.pipeline.PIPELINES, chained in that order: the order `billops run` walks."""
    from billops.pipeline import PIPELINES

    dag = dagbag.dags[dag_id]
    order = [step.task_id for step in PIPELINES[PIPELINE_OF_DAG[dag_id]]]

    def node(task_id: str) -> str:
        return task_id.split(".")[0]

    assert {node(t) for t in dag.task_ids} == set(order)
    edges = {(node(t.task_id), node(d)) for t in dag.tasks for d in t.downstream_task_ids
             if node(t.task_id) != node(d)}
    assert edges == set(pairwise(order))


def test_run_all_walks_the_nightly_definition(monkeypatch, non_default_env) -> None:
    """`billops run` calls every nightly step, in the DAG's order, with the one settings object
    (sync_ops included: the dbt step does not sync again)."""
    from billops import pipeline

    calls: list[tuple[str, str, object]] = []
    progress: list[str] = []

    def fake_run_step(name_of_pipeline: str, name: str, settings=None, **params) -> dict:
        calls.append((name_of_pipeline, name, settings))
        return {}

    finished: list[str] = []

    class FakeStarted:
        def __init__(self, name: str) -> None:
            self.name = name

        def finish(self) -> dict:
            finished.append(self.name)
            return {"finished": True}

        def cancel(self) -> None:
            raise AssertionError("nothing failed, nothing to cancel")

    def fake_start_step(name_of_pipeline: str, name: str, settings) -> FakeStarted:
        calls.append((name_of_pipeline, name, settings))
        return FakeStarted(name)

    monkeypatch.setattr(pipeline, "run_step", fake_run_step)
    monkeypatch.setattr(pipeline, "run_isolated", fake_run_step)
    monkeypatch.setattr(pipeline, "start_step", fake_start_step)
    results = pipeline.run_all(non_default_env, progress=progress.append)
    names = [step.name for step in pipeline.NIGHTLY]
    assert progress == names == list(results) == list(pipeline.STEPS)
    assert names.index("sync_ops") == names.index("transform") - 1
    assert calls == [("nightly", name, non_default_env) for name in names]
    # mining begins right after dbt and is finished (its pm tables written) before publish
    assert names.index("mine") == names.index("transform") + 1
    assert finished == ["mine"] and results["mine"] == {"finished": True}
    assert [s.task_id for s in pipeline.NIGHTLY if s.dbt] == ["dbt"]


def test_run_all_cancels_a_background_step_when_a_later_step_fails(
    monkeypatch, non_default_env
) -> None:
    from billops import pipeline
    from billops.errors import BillopsError

    cancelled: list[str] = []

    class FakeStarted:
        def finish(self) -> dict:
            raise AssertionError("a failed run does not write the background step's results")

        def cancel(self) -> None:
            cancelled.append("mine")

    def fake_run_step(name_of_pipeline: str, name: str, settings=None, **params) -> dict:
        if name == "check":
            raise BillopsError("check failed")
        return {}

    monkeypatch.setattr(pipeline, "run_step", fake_run_step)
    monkeypatch.setattr(pipeline, "run_isolated", fake_run_step)
    monkeypatch.setattr(pipeline, "start_step", lambda *_: FakeStarted())
    with pytest.raises(BillopsError, match="check failed"):
        pipeline.run_all(non_default_env)
    assert cancelled == ["mine"]


def test_an_isolated_step_runs_in_its_own_process_and_its_error_reaches_the_caller(
    billops_home,
) -> None:
    """check_raw and check run in a process of their own under ``billops run``; a failure there
    is the same one-line BillopsError here."""
    from billops import pipeline
    from billops.errors import BillopsError

    assert {s.name for s in pipeline.NIGHTLY if s.isolated} == {"check_raw", "check"}
    with pytest.raises(BillopsError, match="warehouse not found"):
        pipeline.run_isolated("nightly", "check_raw", billops_home)


def test_cosmos_operator_args_carry_dbt_vars(non_default_env) -> None:
    from billops.orchestration import DbtSettingsAtRunTime, cosmos_task_group_args, dbt_env
    from billops.transform import dbt_vars

    args = cosmos_task_group_args(non_default_env)["operator_args"]
    assert args["vars"] == dbt_vars(non_default_env)
    assert args["vars"]["billing_window_days"] == 1
    assert args["vars"]["repeat_procedure_modifiers"] == ["76", "77"]
    assert args["env"] == dbt_env(non_default_env)
    assert args["interceptors"] == [DbtSettingsAtRunTime(non_default_env)]
    # without settings: the environment's now, and again when each task runs
    unpinned = cosmos_task_group_args()["operator_args"]
    assert unpinned["vars"] == dbt_vars(non_default_env)
    assert unpinned["interceptors"] == [DbtSettingsAtRunTime(None)]


def test_dbt_tasks_read_settings_when_they_run(dagbag, non_default_env) -> None:
    """A dbt task of the parsed DAG builds its dbt command with the settings of the environment
    it runs in, not those of the process that parsed the DAG file (here: the defaults)."""
    import yaml

    from billops.transform import dbt_vars

    dag = dagbag.dags["billing_nightly"]
    task = dag.get_task("dbt.int_exc_claim_no_response_model_build")
    assert task.vars["follow_up_window_days"] != 5  # parsed before the environment changed
    parsed = task.vars, task.env
    try:
        task.invoke_interceptors({})
        cmd, env = task.build_cmd(context={}, cmd_flags=task.add_cmd_flags())
    finally:
        task.vars, task.env = parsed
    passed = yaml.safe_load(cmd[cmd.index("--vars") + 1])
    assert passed == dbt_vars(non_default_env)
    assert passed["follow_up_window_days"] == 5 and passed["underpayment_tolerance"] == 0.25
    assert env["BILLOPS_WAREHOUSE"] == str(non_default_env.warehouse.resolve())
    # as under `billops run`, the unit tests (which assume the default vars) are left to CI
    excluded = cmd[cmd.index("--exclude") + 1:]
    assert "test_type:unit" in excluded


def test_month_end_task_passes_its_period(dagbag, monkeypatch, non_default_env) -> None:
    """The month-end task hands the DAG's `period` param to the close step (an empty one means
    the last complete period), with the settings read when it runs."""
    from billops import pipeline
    from billops.orchestration import run_task

    task = dagbag.dags["billing_month_end"].get_task("close")
    context = {"params": {"period": "2026-10"}, "ds": "2026-11-01", **task.op_kwargs}
    kwargs = task.determine_kwargs(context)
    assert kwargs == {"pipeline": "month_end", "name": "close", "params": {"period": "2026-10"}}

    seen: list[tuple] = []
    fake = pipeline.Step("close", lambda settings, **p: seen.append((settings, p)) or {},
                         params=("period",))
    monkeypatch.setattr(pipeline, "get_step", lambda *_: fake)
    run_task(**kwargs)
    run_task("month_end", "close", {"period": ""})
    assert [p for _, p in seen] == [{"period": "2026-10"}, {}]
    assert all(s.billing_window_days == 1 for s, _ in seen)
