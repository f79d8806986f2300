"""End to end: tiny landing data through the real billing_nightly DAG (dag.test) to the snapshot."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]

DAG_TEST = textwrap.dedent(
    """
    import sys
    from airflow.dag_processing.dagbag import DagBag
    from billops.orchestration import ensure_pool

    ensure_pool()
    bag = DagBag(dag_folder=sys.argv[1])
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags[sys.argv[2]]
    run = dag.test()
    print("DAGRUN_STATE", run.state)
    failed = [ti.task_id for ti in run.get_task_instances() if ti.state != "success"]
    print("FAILED_TASKS", failed)
    sys.exit(0 if str(run.state) in ("success", "DagRunState.SUCCESS") and not failed else 1)
    """
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BILLOPS_", "AIRFLOW__", "AIRFLOW_"))}
    env.update({
        "BILLOPS_HOME": str(tmp_path / "home"),
        "BILLOPS_TASK_RETRIES": "0",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
    })
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (
        f"{' '.join(args[:3])} failed\n--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result


@pytest.mark.integration
def test_billing_nightly_end_to_end(tmp_path: Path, dbt_manifest: Path) -> None:
    env = _env(tmp_path)
    (tmp_path / "home").mkdir()
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "billops"), "generate", "--scale", "tiny", "--seed", "7"], env, tmp_path)
    _run([str(bin_dir / "airflow"), "db", "migrate"], env, tmp_path)
    result = _run([sys.executable, "-c", DAG_TEST, str(REPO / "dags"), "billing_nightly"], env, tmp_path)
    assert "FAILED_TASKS []" in result.stdout

    home = tmp_path / "home"
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        accounts = con.execute("select count(*) from marts.fct_account_reconciliation").fetchone()[0]
        charges_ehr = con.execute("select count(distinct id) from raw.fhir_charge_item").fetchone()[0]
        charges_mart = con.execute(
            "select sum(charge_lines) from marts.fct_account_reconciliation").fetchone()[0]
        dq_rows = con.execute("select count(*) from dq.validation_results").fetchone()[0]
        suites = con.execute("select count(distinct suite) from dq.validation_results").fetchone()[0]
        verdicts = con.execute("select count(*) from dq.batch_quality "
                               "where dq_status in ('PASSED', 'WARNED')").fetchone()[0]
        pm_dfg = con.execute("select count(*) from pm.dfg").fetchone()[0]
        pm_model = con.execute("select count(*) from pm.model").fetchone()[0]
        loads = con.execute("select count(*) from raw._loads where status = 'LOADED'").fetchone()[0]
        loads_batches = con.execute("select count(*) from raw._batches "
                                    "where status = 'LOADED'").fetchone()[0]
    assert accounts > 50
    assert charges_mart == charges_ehr  # every EHR charge line is reconciled to an account
    assert dq_rows > 0 and suites >= 2
    assert verdicts == loads_batches  # the raw checks (before dbt) accepted every loaded batch
    assert pm_dfg > 0 and pm_model > 0
    assert loads > 0

    serving = home / "warehouse" / "serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_account_reconciliation").fetchone()[0] == accounts
        as_of = con.execute("select as_of from meta.snapshot").fetchone()[0]
        scored_sources = con.execute("select count(distinct source) from dq.quality_scores").fetchone()[0]
    assert as_of is not None
    assert scored_sources >= 8  # every source feed and the marts

    # A second run on the same landing zone loads nothing new and gives the same mart.
    _run([str(bin_dir / "billops"), "run"], env, tmp_path)
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_account_reconciliation").fetchone()[0] == accounts
