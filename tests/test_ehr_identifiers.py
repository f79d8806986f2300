"""Issue 21: an EHR that encodes identities the way real systems do.

The account number is the Encounter's AN identifier (else the referenced Account's identifier,
else Encounter.id); the patient is the MR identifier (else Patient.id); self-pay is a Coverage
whose payor is the Patient; bulk exports number their files. Mapping and file names are checked
here; the staging and rule semantics are dbt unit tests beside their models.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings
from billops.ingest import ingest
from billops.ingest.manifest import FileKind, file_kind
from billops.raw_schema import FHIR_RESOURCES, TABLES
from billops.sources.fhir import identifier_of_type, map_resource, reference_id, reference_type

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def typed(code: str, value: str, system: str | None = V2_0203) -> dict:
    coding = {"code": code} if system is None else {"system": system, "code": code}
    return {"type": {"coding": [coding]}, "system": "urn:oid:1.2.3", "value": value}


# ------------------------------------------------------------------------------ file names


@pytest.mark.parametrize("name", [
    "Patient.ndjson", "Patient.1.ndjson", "Patient_000.ndjson", "Patient-2.ndjson",
])
def test_bulk_export_file_names_load(name: str) -> None:
    assert file_kind("ehr", name) == FileKind("ndjson", "Patient")


@pytest.mark.parametrize(("name", "resource"), [
    ("Observation.ndjson", "Observation"),  # a resource type this warehouse does not load
    ("Patient.part1.ndjson", "Patient.part1"),  # a numbering bulk export never writes
])
def test_other_ndjson_files_are_ignored_not_dropped(name: str, resource: str) -> None:
    assert file_kind("ehr", name) == FileKind("ignored", resource)


def test_account_is_a_loaded_resource() -> None:
    assert file_kind("ehr", "Account_001.ndjson") == FileKind("ndjson", "Account")
    assert FHIR_RESOURCES["Account"].name == "fhir_account"
    assert file_kind("rcm", "Patient.ndjson") is None  # no EHR file in another system
    assert file_kind("ehr", "sub/Patient.ndjson") is None  # at the batch root only


# ------------------------------------------------------------------------------ mapping


def test_patient_mrn_is_the_mr_identifier() -> None:
    patient = {"resourceType": "Patient", "id": "pt-b8137e",
               "identifier": [typed("SS", "123-45-6789"), typed("MR", "SV0042112")]}
    row = map_resource(patient, "Patient", "{}")
    assert (row["id"], row["mrn"]) == ("pt-b8137e", "SV0042112")
    # a coding without a system counts; another system's MR does not
    assert identifier_of_type({"identifier": [typed("MR", "A1", None)]}, "MR") == "A1"
    assert identifier_of_type({"identifier": [typed("MR", "A1", "urn:local")]}, "MR") is None
    assert map_resource({"resourceType": "Patient", "id": "p"}, "Patient", "{}")["mrn"] is None


def test_encounter_account_number_and_account_reference() -> None:
    encounter = {"resourceType": "Encounter", "id": "enc-4c1d9e",
                 "identifier": [typed("VN", "V1"), typed("AN", "70010019")],
                 "account": [{"reference": "Account/acct-77"}],
                 "subject": {"reference": "Patient/pt-0f8e3c"},
                 "period": {"start": "2026-03-20T12:30:00-07:00"}}  # no period.end: optional
    row = map_resource(encounter, "Encounter", "{}")
    assert (row["id"], row["account_number"], row["account_ref_id"]) == (
        "enc-4c1d9e", "70010019", "acct-77")
    assert row["patient_id"] == "pt-0f8e3c"
    assert (row["period_start"], row["period_end"]) == (datetime(2026, 3, 20, 19, 30), None)


def test_account_resource_maps() -> None:
    account = {"resourceType": "Account", "id": "acct-77", "status": "active",
               "identifier": [{"system": "urn:oid:1.2.3", "value": "70010077"}],
               "subject": [{"reference": "Patient/pt-1"}]}
    row = map_resource(account, "Account", "{}")
    assert set(row) == set(TABLES["fhir_account"].columns)
    assert (row["account_number"], row["patient_id"], row["status"]) == (
        "70010077", "pt-1", "active")
    account["identifier"].append(typed("AN", "70010078"))  # the AN identifier wins
    assert map_resource(account, "Account", "{}")["account_number"] == "70010078"


def test_self_pay_coverage_and_optional_subscriber_id() -> None:
    coverage = {"resourceType": "Coverage", "id": "cov-e5f691-1", "status": "active",
                "beneficiary": {"reference": "Patient/pt-e5f691"},
                "payor": [{"reference": "Patient/pt-e5f691"}]}
    row = map_resource(coverage, "Coverage", "{}")
    assert (row["payer_id"], row["payer_resource_type"], row["subscriber_id"]) == (
        "pt-e5f691", "Patient", None)
    coverage["payor"] = [{"reference": "http://ehr.example/fhir/Organization/DSHP1"}]
    assert map_resource(coverage, "Coverage", "{}")["payer_resource_type"] == "Organization"


@pytest.mark.parametrize(("ref", "expected"), [
    ("Patient/p1", "Patient"),
    ("http://ehr.example/fhir/Organization/O1/_history/3", "Organization"),
    ({"type": "Patient", "reference": "urn:uuid:5a3f"}, "Patient"),
    ("urn:uuid:5a3f", None),
    ("p1", None),
    (None, None),
])
def test_reference_type(ref: object, expected: str | None) -> None:
    assert reference_type(ref) == expected
    if isinstance(ref, str) and "/" in ref:
        assert reference_id(ref) in ("p1", "O1")


def test_charge_code_is_the_hcpcs_coding_not_the_local_one() -> None:
    charge = {"resourceType": "ChargeItem", "id": "CH100292",
              "code": {"coding": [
                  {"system": "https://ehr.example/CodeSystem/chargemaster", "code": "30417795"},
                  {"system": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                   "code": "G0444"}]},
              "occurrenceDateTime": "2026-04-08T10:12:00-07:00"}
    row = map_resource(charge, "ChargeItem", "{}")
    assert row["hcpcs"] == "G0444"
    assert row["occurrence_at"] == datetime(2026, 4, 8, 17, 12)
    charge["code"] = {"coding": [{"code": "J1100"}]}  # no system: the first coding
    assert map_resource(charge, "ChargeItem", "{}")["hcpcs"] == "J1100"


# ------------------------------------------------------------------------------ ingest


def _batch(landing: Path, files: dict[str, str]) -> None:
    folder = landing / "ehr" / "20260401T061500Z"
    folder.mkdir(parents=True)
    entries = []
    for name, text in files.items():
        (folder / name).write_text(text)
        entries.append({"path": name, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "records": len([line for line in text.splitlines() if line.strip()])})
    (folder / "_manifest.json").write_text(json.dumps(
        {"system": "ehr", "batch_id": folder.name, "extracted_at": "2026-04-01T06:15:00Z",
         "files": entries}))


def test_numbered_files_load_and_an_unknown_resource_is_recorded(billops_home: Settings) -> None:
    def patient(pid: str) -> str:
        return json.dumps({"resourceType": "Patient", "id": pid}) + "\n"

    _batch(billops_home.landing, {
        "Patient.1.ndjson": patient("a"),
        "Patient_000.ndjson": patient("b") + patient("c"),
        "Patient-2.ndjson": patient("d"),
        "Observation.ndjson": json.dumps({"resourceType": "Observation", "id": "o"}) + "\n",
    })
    report = ingest(settings=billops_home)
    assert report.batches_loaded == 1
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.fhir_patient").fetchone() == (4,)
        loads = dict(con.execute("select file, status from raw._loads").fetchall())
    assert loads["Observation.ndjson"] == "IGNORED"
    assert {loads[f] for f in ("Patient.1.ndjson", "Patient_000.ndjson", "Patient-2.ndjson")} == {
        "LOADED"}
    # the ignored file is named in the ingest report, never silently dropped
    assert any("Observation.ndjson" in m for m in report.messages)
