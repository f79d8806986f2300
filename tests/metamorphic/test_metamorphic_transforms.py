"""Each metamorphic transform changes what it claims, and leaves a landing zone whose manifests
billops verifies (fast: no `billops run`; the end-to-end comparisons are the integration tests
beside this file)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import transforms as T

from billops.config import Settings
from billops.ingest import ingest
from billops.ingest.manifest import MANIFEST, digest, file_kind, read_manifest
from billops.sources import Row
from billops.sources.fhir import read_ndjson
from billops.sources.x12 import read_transaction_sets

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def landing(tmp_path: Path, generated_landing: Path) -> Path:
    shutil.copytree(generated_landing, tmp_path / "landing")
    return tmp_path / "landing"


def assert_manifests_verify(landing: Path) -> None:
    """Every batch: billops reads its manifest, knows every file, and hash, UTF-8 and record
    count agree; no file is left out of it."""
    for system in ("ehr", "rcm", "erp"):
        for batch in T.batches(landing, system):
            manifest = read_manifest(batch, system)
            listed = {f.path for f in manifest.files}
            present = {
                p.relative_to(batch).as_posix()
                for p in batch.rglob("*")
                if p.is_file() and p.name != MANIFEST
            }
            assert listed == present, batch
            for entry in manifest.files:
                kind = file_kind(system, entry.path)
                assert kind is not None, f"{system}/{entry.path}: no file of {system} billops knows"
                sha, problem = digest(batch / entry.path)
                assert (sha, problem) == (entry.sha256, None), entry.path
                assert T.count_records(batch / entry.path, kind) == entry.records, entry.path


def rows(landing: Path, resource_type: str) -> list[dict]:
    """billops' raw rows of a resource type, from every file of every EHR batch."""
    found = []
    for batch in T.batches(landing, "ehr"):
        for path in T.ndjson_files(batch, resource_type):
            found += [r.values for r in read_ndjson(path, resource_type) if isinstance(r, Row)]
    return found


def segments(landing: Path, transaction: str) -> list[list[str]]:
    return [
        seg.elements
        for batch in T.batches(landing, "rcm")
        for path in T.x12_files(batch, transaction)
        for seg in T.read_segments(path)[0]
    ]


def account_numbers(landing: Path) -> set[str]:
    accounts = {r["id"]: r["account_number"] for r in rows(landing, "Account")}
    return {
        r["account_number"] or accounts.get(r["account_ref_id"]) or r["id"]
        for r in rows(landing, "Encounter")
    }


def test_generated_manifests_verify(generated_landing: Path) -> None:
    assert_manifests_verify(generated_landing)


def test_identities_by_identifier(landing: Path) -> None:
    before_accounts = account_numbers(landing)
    before_patients = {r["id"] for r in rows(landing, "Patient")}
    T.identities_by_identifier(landing)
    assert_manifests_verify(landing)

    patients = rows(landing, "Patient")
    encounters = rows(landing, "Encounter")
    assert all(UUID.fullmatch(r["id"]) for r in patients + encounters)
    assert {r["mrn"] for r in patients} == before_patients  # the MRN is the old id
    assert account_numbers(landing) == before_accounts
    by_identifier = sum(1 for r in encounters if r["account_number"])
    by_account = sum(1 for r in encounters if r["account_ref_id"])
    assert by_identifier and by_account and by_identifier + by_account == len(encounters)
    patient_ids, encounter_ids = {r["id"] for r in patients}, {r["id"] for r in encounters}
    assert {r["patient_id"] for r in encounters} <= patient_ids
    assert {r["patient_id"] for r in rows(landing, "Coverage")} <= patient_ids
    assert {r["patient_id"] for r in rows(landing, "Account")} <= patient_ids
    charges = rows(landing, "ChargeItem")
    assert {r["account_id"] for r in charges} <= encounter_ids  # context follows the new ids
    assert {r["patient_id"] for r in charges} <= patient_ids


def test_bulk_export_names(landing: Path) -> None:
    before = {t: len(rows(landing, t)) for t in ("Patient", "Coverage", "Encounter", "ChargeItem")}
    T.bulk_export_names(landing)
    assert_manifests_verify(landing)
    names = {p.name for p in landing.glob("ehr/*/*.ndjson")}
    for resource_type, count in before.items():
        assert {
            f"{resource_type}.ndjson",
            f"{resource_type}.1.ndjson",
            f"{resource_type}_000.ndjson",
            f"{resource_type}-2.ndjson",
        } <= names
        assert len(rows(landing, resource_type)) == count


def test_no_line_control_numbers(landing: Path) -> None:
    sets_before = {
        t: len(segments(landing, t)) and sum(1 for s in segments(landing, t) if s[0] == "ST")
        for t in ("837", "835")
    }
    assert any(s[:2] == ["REF", "6R"] for s in segments(landing, "837"))
    T.no_line_control_numbers(landing)
    assert_manifests_verify(landing)
    for transaction in ("837", "835"):
        found = segments(landing, transaction)
        assert not any(s[:2] == ["REF", "6R"] for s in found)
        assert sum(1 for s in found if s[0] == "ST") == sets_before[transaction]
    for batch in T.batches(landing, "rcm"):  # SE01 and the envelope counts check out
        for path in T.x12_files(batch, "837") + T.x12_files(batch, "835"):
            assert list(read_transaction_sets(path))


def normalized(member_id: str | None) -> str | None:
    return re.sub(r"[^0-9A-Z]", "", member_id.upper()) if member_id else member_id


def test_payer_ids_crosswalked(landing: Path) -> None:
    payer_orgs = {r["id"] for r in rows(landing, "Organization") if r["type_code"] == "pay"}
    members = sorted(normalized(r["subscriber_id"]) for r in rows(landing, "Coverage"))
    coverage_payers = Counter(r["payer_id"] for r in rows(landing, "Coverage"))
    T.payer_ids_crosswalked(landing)
    assert_manifests_verify(landing)

    new_orgs = {r["id"] for r in rows(landing, "Organization") if r["type_code"] == "pay"}
    assert not new_orgs & payer_orgs and len(new_orgs) == len(payer_orgs)
    crosswalk_file = T.batches(landing, "rcm")[0] / "payer_crosswalk.csv"
    with open(crosswalk_file, newline="") as handle:
        crosswalk = {r["source_payer_id"]: r["payer_id"] for r in csv.DictReader(handle)}
    assert set(crosswalk) == new_orgs and set(crosswalk.values()) == payer_orgs
    coverages = rows(landing, "Coverage")
    assert Counter(crosswalk[r["payer_id"]] for r in coverages) == coverage_payers
    assert sorted(normalized(r["subscriber_id"]) for r in coverages) == members
    spelled = [r["subscriber_id"] for r in coverages if r["subscriber_id"]]
    assert spelled and all(s != s.upper() and " " in s and "-" in s for s in spelled)


def test_procedure_codings(landing: Path) -> None:
    before = {r["id"]: r["hcpcs"] for r in rows(landing, "ChargeItem")}
    with_price = sum(1 for r in rows(landing, "ChargeItem") if r["price_override"] is not None)
    T.procedure_codings(landing)
    assert_manifests_verify(landing)
    after = rows(landing, "ChargeItem")
    assert {r["id"]: r["hcpcs"] for r in after} == before  # billops still finds the HCPCS code
    for r in after:
        codings = json.loads(r["resource_json"])["code"]["coding"]
        assert codings[0]["system"] == T.LOCAL_CDM_SYSTEM and len(codings) >= 2
    left = sum(1 for r in after if r["price_override"] is not None)
    assert left < with_price  # the generator prices every charge at the chargemaster's price


def test_remittances_resent(landing: Path) -> None:
    latest_before = max(
        json.loads(m.read_text())["extracted_at"] for m in landing.glob("*/*/" + MANIFEST)
    )
    originals = [
        ts
        for b in T.batches(landing, "rcm")
        for p in T.x12_files(b, "835")
        for ts in read_transaction_sets(p)
    ]
    T.remittances_resent(landing)
    assert_manifests_verify(landing)
    latest_after = max(
        json.loads(m.read_text())["extracted_at"] for m in landing.glob("*/*/" + MANIFEST)
    )
    assert latest_after == latest_before  # the as-of time of the rules does not move
    resent_batch = T.batches(landing, "rcm")[-1]
    resent = [ts for p in T.x12_files(resent_batch, "835") for ts in read_transaction_sets(p)]

    def body(ts) -> list[list[str]]:
        return [s.elements for s in ts.body]

    assert [body(ts) for ts in resent] == [body(ts) for ts in originals]
    assert not {ts.interchange_control_number for ts in resent} & {
        ts.interchange_control_number for ts in originals
    }
    old_hashes = {
        digest(p)[0] for b in T.batches(landing, "rcm")[:-1] for p in T.x12_files(b, "835")
    }
    assert not {digest(p)[0] for p in T.x12_files(resent_batch, "835")} & old_hashes


def test_optional_elements(landing: Path) -> None:
    coverages_before = rows(landing, "Coverage")
    T.optional_elements(landing)
    assert_manifests_verify(landing)
    coverages = rows(landing, "Coverage")
    assert sum(1 for r in coverages if r["subscriber_id"] is None) > 0
    assert any(r["payer_resource_type"] == "Patient" for r in coverages)
    assert len(coverages) < len(coverages_before)  # a self-pay patient without any coverage
    assert all(r["period_end"] is None for r in rows(landing, "Encounter"))


def test_every_transform_loads_without_a_reject(landing: Path, billops_home: Settings) -> None:
    """billops' own ingestion takes the landing zone with every transform applied: no batch
    quarantined, no record rejected, no file ignored."""
    T.every_transform(landing)
    assert_manifests_verify(landing)
    shutil.copytree(landing, billops_home.landing)
    report = ingest(settings=billops_home)
    assert report.batches_quarantined == 0, report.messages
    assert report.rows_rejected == 0, report.messages
    assert report.batches_loaded == sum(1 for _ in landing.glob("*/*/" + MANIFEST))
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        statuses = dict(
            con.execute("select status, count(*) from raw._loads group by 1").fetchall()
        )
    assert set(statuses) == {"LOADED"}, statuses
