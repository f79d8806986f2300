"""Synthea CSV export mapped onto the raw contracts (on the shared Synthea fixture)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings
from billops.errors import BillopsError
from billops.ingest.synthea import ingest_synthea, payer_type


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def synthea(shared_fixtures: Path) -> Path:
    folder = shared_fixtures / "synthea"
    if not (folder / "patients.csv").is_file():
        pytest.skip(f"Synthea fixture not found at {folder}")
    return folder


def test_synthea_export_loads_into_the_raw_contracts(billops_home: Settings,
                                                     synthea: Path) -> None:
    report = ingest_synthea(synthea, billops_home)
    assert (report.batches_loaded, report.batches_quarantined, report.rows_rejected) == (2, 0, 0)
    charges = [r for r in rows(synthea, "claims_transactions") if r["TYPE"] == "CHARGE"]
    transitions = rows(synthea, "payer_transitions")
    expected = {
        "fhir_patient": len(rows(synthea, "patients")),
        "fhir_encounter": len(rows(synthea, "encounters")),
        "fhir_charge_item": len(charges),
        "fhir_organization": len(rows(synthea, "organizations")) + len(rows(synthea, "payers")),
        "fhir_coverage": len(transitions) + sum(1 for r in transitions if r["SECONDARY_PAYER"]),
        "payers": len(rows(synthea, "payers")),
    }
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        def one(sql: str) -> object:
            return con.execute(sql).fetchone()[0]

        for table, n in expected.items():
            assert one(f"select count(*) from raw.{table}") == n, table
        # the joins the marts make: charge -> encounter (account), coverage -> payer organization
        assert one("select count(*) from raw.fhir_charge_item c left join raw.fhir_encounter e "
                   "on e.id = c.account_id where e.id is null") == 0
        assert one("select count(*) from raw.fhir_coverage c left join raw.fhir_organization o "
                   "on o.id = c.payer_id and o.type_code = 'pay' where o.id is null") == 0
        assert one("select count(*) from raw.fhir_encounter e left join raw.fhir_organization o "
                   "on o.id = e.service_provider_id and o.type_code = 'prov' "
                   "where o.id is null") == 0
        total = sum(float(r["AMOUNT"]) for r in charges)
        assert float(one("select sum(price_override) from raw.fhir_charge_item")) == \
            pytest.approx(total, abs=0.01)
        assert one("select count(*) from raw.fhir_charge_item "
                   "where entered_date < occurrence_date") == 0
        # as-of from the data: the export's latest timestamp, not the wall clock
        latest = max([r["STOP"] for r in rows(synthea, "encounters")]
                     + [r["TODATE"] for r in rows(synthea, "claims_transactions")])
        assert one("select max(extracted_at) from raw._batches").isoformat() == latest[:19]
        assert one("select count(*) from raw.fhir_patient where birth_date is null") == 0
    assert not any("Mosciski" in m for m in report.messages)  # no PHI in messages

    again = ingest_synthea(synthea, billops_home)
    assert (again.batches_loaded, again.rows_loaded) == (0, 0)


def test_synthea_export_passes_the_raw_checks(billops_home: Settings, synthea: Path) -> None:
    """Another system's conventions are warnings, not breaks: Synthea codes procedures in SNOMED
    CT (no HCPCS or CPT form) and sends no member id; nothing is held back or blocked."""
    from expectations.runner import check_raw

    ingest_synthea(synthea, billops_home)
    summary = check_raw(billops_home, docs=False)
    assert summary.critical_failed == 0
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        failed = con.execute(
            "select suite, rule, scope from dq.expectation_results where not success").fetchall()
        held = con.execute("select count(*) from dq.quarantine_units").fetchone()[0]
        verdicts = {v for (v,) in con.execute("select dq_status from dq.batch_quality").fetchall()}
    assert {scope for _, _, scope in failed} <= {"warn"}, failed
    assert ("raw_fhir_charge_item", "procedure_code_format", "warn") in failed
    assert held == 0
    assert verdicts <= {"PASSED", "WARNED"}


def test_synthea_export_with_a_missing_column_is_refused(billops_home: Settings, synthea: Path,
                                                         tmp_path: Path) -> None:
    broken = tmp_path / "export"
    shutil.copytree(synthea, broken)
    text = (broken / "encounters.csv").read_text(encoding="utf-8")
    (broken / "encounters.csv").write_text(text.replace("ORGANIZATION,", "ORG,", 1),
                                           encoding="utf-8")
    with pytest.raises(BillopsError, match=r"encounters\.csv: missing column"):
        ingest_synthea(broken, billops_home)
    assert not billops_home.landing.exists() or not any(billops_home.landing.rglob("*.ndjson"))


def test_synthea_missing_folder_is_a_user_error(billops_home: Settings, tmp_path: Path) -> None:
    with pytest.raises(BillopsError, match="not found"):
        ingest_synthea(tmp_path / "nowhere", billops_home)


@pytest.mark.parametrize(("name", "expected"), [
    ("Medicare", "GOVERNMENT"), ("Dual Eligible", "GOVERNMENT"), ("Medicaid", "GOVERNMENT"),
    ("NO_INSURANCE", "SELF_PAY"), ("Blue Cross Blue Shield", "COMMERCIAL"),
])
def test_payer_type_from_the_name(name: str, expected: str) -> None:
    assert payer_type(name) == expected
