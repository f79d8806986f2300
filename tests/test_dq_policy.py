"""The data-quality policy through the pipeline's step functions (no Airflow): raw suites after
ingest hold back a failing record and publish the rest (blocking failures: test_quarantine.py);
warnings and mart failures never stop a run; breaks are routed to owner teams."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from billops import pipeline
from billops.config import Settings
from billops.warehouse import connect
from expectations.batches import PASSED, WARNED
from expectations.runner import check_marts
from expectations.suites import MART_SUITES, RAW_SUITES

BAD_BATCH = "20261102T020000Z"


@pytest.fixture
def loaded(billops_home: Settings) -> Settings:
    """A tiny generated system, ingested (raw zone only; dbt is not needed for raw checks)."""
    from billops.synth import generate

    generate(billops_home.home, scale="tiny", seed=7)
    pipeline.ingest_step(billops_home)
    return billops_home


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _land_bad_charge_batch(settings: Settings) -> None:
    """A later EHR batch whose one ChargeItem bills a negative quantity (a critical record rule)."""
    landing = Path(settings.landing)  # type: ignore[arg-type]
    first = sorted((landing / "ehr").iterdir())[0]
    line = (first / "ChargeItem.ndjson").read_text().splitlines()[0]
    resource = json.loads(line)
    resource["id"] = "CI-BAD-0001"
    resource["quantity"] = {"value": -2}
    body = (json.dumps(resource) + "\n").encode()
    batch = landing / "ehr" / BAD_BATCH
    batch.mkdir()
    (batch / "ChargeItem.ndjson").write_bytes(body)
    manifest = {
        "system": "ehr",
        "batch_id": BAD_BATCH,
        "extracted_at": "2026-11-02T02:00:00Z",
        "files": [
            {"path": "ChargeItem.ndjson", "sha256": hashlib.sha256(body).hexdigest(), "records": 1}
        ],
    }
    (batch / "_manifest.json").write_text(json.dumps(manifest))


def test_clean_raw_data_passes_and_every_batch_gets_a_verdict(loaded: Settings) -> None:
    result = pipeline.check_raw_step(loaded)
    assert result["critical_failed"] == 0
    verdicts = _rows(loaded, "select system, dq_status from dq.batch_quality order by system")
    loaded_batches = _rows(
        loaded, "select distinct system from raw._batches where status = 'LOADED' order by system"
    )
    assert [s for s, _ in verdicts] == [s for (s,) in loaded_batches]
    assert {status for _, status in verdicts} <= {PASSED, WARNED}
    suites = _rows(loaded, "select suite, expectations from dq.validation_results")
    assert len(suites) == len(RAW_SUITES)
    n_rules = _rows(loaded, "select count(*) from dq.expectation_results")[0][0]
    assert n_rules == sum(e for _, e in suites)
    # a second run appends its own rows (history), and gives no new verdict to accepted batches
    pipeline.check_raw_step(loaded)
    assert _rows(loaded, "select count(distinct run_id) from dq.validation_results")[0][0] == 2
    assert len(_rows(loaded, "select * from dq.batch_quality")) == len(verdicts)


def test_a_failing_record_is_held_back_and_the_rest_publishes(loaded: Settings) -> None:
    """A critical rule failing on one record quarantines that record; it no longer stops the run
    (an extract-level failure does: tests/test_quarantine.py)."""
    pipeline.check_raw_step(loaded)
    serving = Path(pipeline.publish_step(loaded)["serving"])
    before = hashlib.sha256(serving.read_bytes()).hexdigest()

    _land_bad_charge_batch(loaded)
    pipeline.run_all(loaded)

    assert hashlib.sha256(serving.read_bytes()).hexdigest() != before  # published
    status = dict(
        _rows(
            loaded,
            "select batch_id, arg_max(dq_status, checked_at) from dq.batch_quality group by all",
        )
    )
    assert status[BAD_BATCH] == WARNED
    ((unit, key, rule, owner, held),) = _rows(
        loaded,
        "select unit, unit_key, rule, owner_team, status from marts.dq_quarantine "
        f"where batch_id = '{BAD_BATCH}'",
    )
    assert (unit, key, owner, held) == ("record", "1", "CODING", "HELD")
    assert "raw_fhir_charge_item.quantity_positive" in rule
    assert not _rows(loaded, "select * from marts.fct_charges where charge_id = 'CI-BAD-0001'")
    # the break is routed to coding, with the failing record's keys and lineage
    ((owner, severity, sample),) = _rows(
        loaded,
        "select owner_team, severity, unexpected_sample from marts.dq_breaks "
        "where suite = 'raw_fhir_charge_item' and rule = 'quantity_positive'",
    )
    assert (owner, severity) == ("CODING", "critical")
    (row,) = json.loads(sample)
    assert row == {
        "quantity": -2,
        "id": "CI-BAD-0001",
        "_batch_id": BAD_BATCH,
        "_file": "ChargeItem.ndjson",
        "_record": 1,
    }
    # the held record is in the serving snapshot's quarantine list, the other marts are built
    assert _rows(
        loaded,
        "select count(*) from duckdb_tables() where schema_name = 'marts' "
        "and table_name = 'fct_account_reconciliation'",
    ) == [(1,)]


def test_warnings_never_stop_a_run(loaded: Settings) -> None:
    with connect(loaded) as con:  # a payment method the feed never sent: a warning rule
        con.execute("create table raw._pp as select * from raw.patient_payments")
        con.execute(
            "update raw._pp set method = null where payment_id = "
            "(select min(payment_id) from raw._pp)"
        )
        con.execute("create or replace view raw.patient_payments as select * from raw._pp")
    result = pipeline.check_raw_step(loaded)
    assert result["critical_failed"] == 0 and result["warning_failed"] >= 1
    (status,) = _rows(loaded, "select dq_status from dq.batch_quality where system = 'rcm'")
    assert status == (WARNED,)
    assert ("raw_patient_payments", "method_not_null", "CASH_POSTING") in _rows(
        loaded, "select suite, rule, owner_team from marts.dq_breaks"
    )


def test_mart_failures_are_recorded_and_routed_never_raised(loaded: Settings) -> None:
    with connect(loaded) as con:
        con.execute("""create table marts.fct_claims as select * from (values
            ('k1', 'A1', '1', true, 'P1', 'H01', date '2026-10-01', timestamp '2026-10-02', 10.0),
            ('k1', 'A2', '1', true, 'P1', 'H01', date '2026-10-01', timestamp '2026-10-02', 5.0))
            t(claim_key, account_id, claim_frequency_code, is_current, payer_id, entity,
              service_date, submitted_at, total_charge)""")
    summary = check_marts(loaded, docs=False)
    assert summary.critical_failed >= 1
    assert set(summary.skipped) == {s.name for s in MART_SUITES} - {"marts_fct_claims"}
    breaks = _rows(
        loaded,
        "select rule, owner_team, severity, runs_failing "
        "from marts.dq_breaks where suite = 'marts_fct_claims'",
    )
    assert ("claim_key_unique", "DATA_ENGINEERING", "critical", 1) in breaks
    check_marts(loaded, docs=False)
    (runs,) = _rows(
        loaded, "select runs_failing from marts.dq_breaks where rule = 'claim_key_unique'"
    )
    assert runs == (2,)


def test_data_docs_are_built_under_billops_home(loaded: Settings) -> None:
    result = pipeline.check_raw_step(loaded)
    index = Path(loaded.data_docs) / "index.html"
    assert result["data_docs"] == str(index) and index.exists()
    html = index.read_text()
    assert "raw_fhir_charge_item" in html and "raw_x12_remittances" in html
    assert (Path(loaded.data_docs) / "expectations" / "raw_fhir_charge_item.html").exists()


def test_cli_check_rejects_a_bad_waiver_or_layer_in_one_line(billops_home: Settings) -> None:
    import os
    import subprocess
    import sys

    billops = str(Path(sys.executable).parent / "billops")
    for args, needle in (
        (["--waive", "ehr"], "SYSTEM/BATCH_ID"),
        (["--layer", "gold"], "--layer 'gold'"),
    ):
        result = subprocess.run(
            [billops, "check", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "BILLOPS_HOME": str(billops_home.home)},
        )
        assert result.returncode == 2
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
