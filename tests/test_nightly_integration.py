"""End to end: tiny landing data through the real billing_nightly DAG (dag.test) to the snapshot,
with non-default rule settings, and `billops run` on a copy of the same landing zone giving the
same exceptions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from billops.pipeline import NIGHTLY

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


# Non-default rule settings, as an operator would set them for both paths (billops.config).
NON_DEFAULT_SETTINGS = {
    "BILLOPS_BILLING_WINDOW_DAYS": "1",  # default 7
    "BILLOPS_FOLLOW_UP_WINDOW_DAYS": "5",  # default 30
    "BILLOPS_LATE_CHARGE_WINDOW_DAYS": "1",  # default 3
}
DEFAULT_FOLLOW_UP_WINDOW_DAYS, DEFAULT_BILLING_WINDOW_DAYS = 30, 7

EXCEPTIONS = """
    select exception_type, account_id, charge_id, trace_number, journal_id, statement_id,
           round(amount_at_risk, 2)
    from marts.billing_exceptions
"""


def _env(tmp_path: Path, home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BILLOPS_", "AIRFLOW__", "AIRFLOW_"))}
    env.update(NON_DEFAULT_SETTINGS)
    env.update({
        "BILLOPS_HOME": str(home or tmp_path / "home"),
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


def _exceptions(home: Path) -> Counter[tuple]:
    """The warehouse's exceptions as a multiset of their keys and amounts, after checking that
    the non-default settings took effect: some exceptions exist that the defaults would not
    raise yet (the follow-up window of 5 days and the billing window of 1 day have passed since
    the claim's submission and the charge's entry, the default 30 and 7 days have not)."""
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        flagged = Counter(con.execute(EXCEPTIONS).fetchall())
        early = dict(con.execute(
            "select exception_type, count(*) from marts.billing_exceptions "
            "where (exception_type = 'CLAIM_NO_RESPONSE' and age_days < ?) "
            "or (exception_type = 'UNBILLED_CHARGE' and age_days < ?) group by 1",
            [DEFAULT_FOLLOW_UP_WINDOW_DAYS - 5 - 1, DEFAULT_BILLING_WINDOW_DAYS - 1 - 1],
        ).fetchall())
    assert early.get("CLAIM_NO_RESPONSE", 0) > 0, (home, early)
    assert early.get("UNBILLED_CHARGE", 0) > 0, (home, early)
    return flagged


@pytest.mark.integration
def test_billing_nightly_end_to_end(tmp_path: Path, dbt_manifest: Path) -> None:
    env = _env(tmp_path)
    (tmp_path / "home").mkdir()
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "billops"), "generate", "--scale", "tiny", "--seed", "7"], env, tmp_path)
    cli_home = tmp_path / "cli_home"  # the same landing zone, for `billops run` alone
    shutil.copytree(tmp_path / "home" / "landing", cli_home / "landing")
    _run([str(bin_dir / "airflow"), "db", "migrate"], env, tmp_path)
    result = _run([sys.executable, "-c", DAG_TEST, str(REPO / "dags"), "billing_nightly"], env, tmp_path)
    assert "FAILED_TASKS []" in result.stdout

    home = tmp_path / "home"
    flagged_airflow = _exceptions(home)
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

    # The settings reach the rules the same way under Airflow as under `billops run`: the CLI
    # alone, on a copy of the landing zone in its own home, flags the same exceptions.
    timings = tmp_path / "timings.json"
    _run([str(bin_dir / "billops"), "run", "--timings", str(timings)], _env(tmp_path, cli_home),
         tmp_path)
    took = json.loads(timings.read_text())
    assert set(took) == {s.name for s in NIGHTLY}  # every step's start and seconds
    assert took["mine"]["background"] and not took["check"]["background"]
    assert took["mine"]["started_s"] <= took["check"]["started_s"]  # mined beside the checks
    flagged_cli = _exceptions(cli_home)
    only_airflow, only_cli = flagged_airflow - flagged_cli, flagged_cli - flagged_airflow
    assert not only_airflow and not only_cli, (
        f"only under Airflow: {sorted(only_airflow)[:10]}; only under the CLI: {sorted(only_cli)[:10]}")
    assert _exceptions(home) == flagged_cli  # and the rerun on the DAG's warehouse
