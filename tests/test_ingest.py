"""billops.ingest: landing-zone gating, quarantine, duplicates, ordering, rejects and atomicity."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings
from billops.ingest import IngestReport, ingest, ledger
from billops.ingest.x12_validation import validate_pending
from billops.raw_schema import TABLES, all_columns
from billops.warehouse import as_of

B1, B2, B3 = "20240131T230000Z", "20240207T230000Z", "20240214T230000Z"
SHARED_X12 = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "x12"


# ---------------------------------------------------------------------------------- builders


def count_records(path: str, data: bytes) -> int:
    text = data.decode("utf-8-sig", errors="replace")
    if path.endswith(".csv"):
        return max(len([r for r in csv.reader(io.StringIO(text)) if r]) - 1, 0)
    if path.endswith(".ndjson"):
        return len([line for line in text.splitlines() if line.strip()])
    return len(re.findall(r"(?:^|~)\s*ST\*", text))


def write_batch(landing: Path, system: str, batch_id: str, files: dict[str, str | bytes], *,
                extracted_at: str | None = None, records: dict[str, int] | None = None,
                sha256: dict[str, str] | None = None, unlisted: tuple[str, ...] = (),
                manifest: bool = True) -> Path:
    """Write a landing batch and (last) a correct manifest, with optional wrong entries."""
    folder = landing / system / batch_id
    folder.mkdir(parents=True)
    entries = []
    for rel, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if rel in unlisted:
            continue
        entries.append({"path": rel,
                        "sha256": (sha256 or {}).get(rel, hashlib.sha256(data).hexdigest()),
                        "records": (records or {}).get(rel, count_records(rel, data))})
    if manifest:
        stamp = extracted_at or f"{batch_id[:4]}-{batch_id[4:6]}-{batch_id[6:8]}T23:00:00Z"
        (folder / "_manifest.json").write_text(json.dumps(
            {"system": system, "batch_id": batch_id, "extracted_at": stamp, "files": entries}))
    return folder


def write_manifest_for(folder: Path, system: str) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    entries = [{"path": p.relative_to(folder).as_posix(),
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "records": count_records(p.name, p.read_bytes())} for p in files]
    (folder / "_manifest.json").write_text(json.dumps(
        {"system": system, "batch_id": folder.name, "extracted_at": "2024-01-31T23:00:00+00:00",
         "files": entries}))


def ndjson(*resources: dict | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in resources)


def x12_interchange(kind: str, body: list[str], implementation: str, control: str = "1") -> str:
    isa = ("ISA*00*" + " " * 10 + "*00*" + " " * 10 + "*ZZ*" + "SENDER".ljust(15) + "*ZZ*"
           + "RECEIVER".ljust(15) + "*240131*1200*^*00501*" + control.zfill(9) + "*0*P*:~")
    st = [f"ST*{kind}*0001*{implementation}", *body]
    segments = [f"GS*{'HC' if kind == '837' else 'HP'}*S*R*20240131*1200*1*X*{implementation}",
                *st, f"SE*{len(st) + 1}*0001", "GE*1*1", f"IEA*1*{control.zfill(9)}"]
    return isa + "\n" + "".join(s + "~\n" for s in segments)


def claim_837(account: str, charges: list[tuple[str, str, str]], total: str = "100.00"
              ) -> list[str]:
    body = [f"CLM*{account}*{total}***11:B:1*Y*A*Y*Y", "HI*ABK:R0789"]
    for n, (charge_id, hcpcs, amount) in enumerate(charges, start=1):
        body += [f"LX*{n}", f"SV1*HC:{hcpcs}*{amount}*UN*1***1", "DTP*472*D8*20240115",
                 f"REF*6R*{charge_id}"]
    return body


def file_837(*claims: list[str]) -> str:
    head = ["BHT*0019*00*B1*20240131*1015*CH", "HL*1**20*1",
            "NM1*85*2*GENERAL HOSPITAL*****XX*1234567893", "HL*2*1*22*0",
            "NM1*IL*1*DOE*JANE****MI*M123", "NM1*PR*2*ACME*****PI*PAYER1"]
    return x12_interchange("837", head + [s for c in claims for s in c], "005010X222A1")


def file_835(trace: str = "EFT0001") -> str:
    body = ["BPR*I*80.00*C*ACH*CCP*01*1*DA*1*1**01*1*DA*1*20240201", f"TRN*1*{trace}*1",
            "N1*PR*ACME", "REF*2U*PAYER1", "N1*PE*GENERAL HOSPITAL*XX*1234567893",
            "CLP*ENC1*1*100.00*80.00*0*12*PCN1", "CAS*CO*45*20.00",
            "SVC*HC:J1100*100.00*80.00**1", "REF*6R*CHG1"]
    return x12_interchange("835", body, "005010X221A1")


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01",
           "name": [{"family": "Doe", "given": ["Jane"]}]}
ORGANIZATION = {"resourceType": "Organization", "id": "hosp-1", "name": "General",
                "type": [{"coding": [{"code": "prov"}]}]}
ENCOUNTER = {"resourceType": "Encounter", "id": "ENC1", "status": "finished",
             "subject": {"reference": "Patient/p1"},
             "serviceProvider": {"reference": "Organization/hosp-1"},
             "period": {"start": "2024-01-15T09:00:00Z"}}
COVERAGE = {"resourceType": "Coverage", "id": "cov-1", "status": "active",
            "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"reference": "Organization/PAYER1"}], "subscriberId": "M123"}
CHARGE = {"resourceType": "ChargeItem", "id": "CHG1", "status": "billable",
          "code": {"coding": [{"code": "J1100"}]}, "quantity": {"value": 1},
          "priceOverride": {"value": 100}, "occurrenceDateTime": "2024-01-15",
          "context": {"reference": "Encounter/ENC1"}, "subject": {"reference": "Patient/p1"}}

PAYERS = "payer_id,name,payer_type,timely_filing_days\nPAYER1,Acme,COMMERCIAL,90\n"
PAYMENTS = ("payment_id,patient_id,account_id,amount,received_at,method\n"
            "PAY1,p1,ENC1,20.00,2024-01-20T10:00:00Z,CARD\n")
GL = ("journal_id,line_no,entity,posting_date,period,account,debit,credit,source,reference,"
      "description,created_by,approved_by\n"
      "J1,1,hosp-1,2024-02-02,2024-02,1000,80.00,0,CASH,EFT0001,remit,u1,\n"
      "J1,2,hosp-1,2024-02-02,2024-02,1200,0,80.00,CASH,EFT0001,remit,u1,\n")
DEPOSITS = ("deposit_id,entity,bank_account,deposit_date,amount,trace_number,payer_name\n"
            "D1,hosp-1,OPER,2024-02-02,80.00,EFT0001,ACME\n")


def ehr_files() -> dict[str, str | bytes]:
    return {"Patient.ndjson": ndjson(PATIENT), "Organization.ndjson": ndjson(ORGANIZATION),
            "Encounter.ndjson": ndjson(ENCOUNTER), "Coverage.ndjson": ndjson(COVERAGE),
            "ChargeItem.ndjson": ndjson(CHARGE)}


def rcm_files() -> dict[str, str | bytes]:
    return {"837/claims.x12": file_837(claim_837("ENC1", [("CHG1", "J1100", "100.00")])),
            "835/remit.x12": file_835(), "payers.csv": PAYERS, "patient_payments.csv": PAYMENTS}


def erp_files() -> dict[str, str | bytes]:
    return {"gl_journal_lines.csv": GL, "bank_deposits.csv": DEPOSITS}


def run(settings: Settings, **kwargs: object) -> IngestReport:
    return ingest(settings=settings, **kwargs)  # type: ignore[arg-type]


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def count(settings: Settings, table: str) -> int:
    return query(settings, f"select count(*) from raw.{table}")[0][0]


def raw_folders(settings: Settings) -> list[str]:
    """Batch folders of the raw zone (the contract anchors beside them are not batches)."""
    root = settings.raw_zone
    if not root.exists():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.glob("*/*")
        if not p.name.startswith("_contract-")
    )


# ---------------------------------------------------------------------------------- loading


def test_loads_every_system_with_the_contract_types(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "ehr", B1, ehr_files())
    write_batch(landing, "rcm", B1, rcm_files())
    write_batch(landing, "erp", B1, erp_files(), extracted_at="2024-02-01T06:00:00+05:00")
    report = run(billops_home)
    assert (report.batches_loaded, report.batches_quarantined, report.rows_rejected) == (3, 0, 0)
    assert report.files_loaded == 11
    expected = {"fhir_patient": 1, "fhir_organization": 1, "fhir_encounter": 1,
                "fhir_coverage": 1, "fhir_charge_item": 1, "x12_claims": 1, "x12_claim_lines": 1,
                "x12_claim_diagnoses": 1, "x12_remittances": 1, "x12_remit_claims": 1,
                "x12_remit_adjustments": 1, "x12_remit_service_lines": 1, "payers": 1,
                "patient_payments": 1, "gl_journal_lines": 2, "bank_deposits": 1}
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        def q(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        assert {t: q(f"select count(*) from raw.{t}")[0][0] for t in expected} == expected
        assert report.rows_loaded == sum(expected.values())
        for table in expected:  # the Parquet itself carries exactly the contract's types
            (part,) = (billops_home.raw_zone / table).glob("batch_id=*/part-0.parquet")
            assert part.parent.name == f"batch_id={B1}"
            described = q(f"describe select * from read_parquet('{part}', hive_partitioning = false)")
            assert [(c, t) for c, t, *_ in described] == list(all_columns(table).items()), table
        for table in TABLES:  # every raw view exists, even for tables without files
            assert [c for c, *_ in q(f"describe raw.{table}")] == list(all_columns(table))
        lineage = q("select _batch_id, _file, _record from raw.gl_journal_lines order by _record")
        assert lineage == [(B1, "gl_journal_lines.csv", 1), (B1, "gl_journal_lines.csv", 2)]
        assert q("select _file, _record from raw.x12_claims") == [("837/claims.x12", 10)]
        batches = q("select system, extracted_at::varchar, status from raw._batches order by system")
        assert batches == [("ehr", "2024-01-31 23:00:00", "LOADED"),
                           ("erp", "2024-02-01 01:00:00", "LOADED"),
                           ("rcm", "2024-01-31 23:00:00", "LOADED")]
        assert str(as_of(con)) == "2024-02-01 01:00:00"
        loads = q("select file, status, records, rows_loaded from raw._loads "
                  "where system = 'rcm' order by file")
        assert loads == [("835/remit.x12", "LOADED", 1, 4), ("837/claims.x12", "LOADED", 1, 3),
                         ("patient_payments.csv", "LOADED", 1, 1), ("payers.csv", "LOADED", 1, 1)]


def test_x12_files_load_pending_and_are_validated_later(billops_home: Settings) -> None:
    fixture = SHARED_X12 / "lfh__837P_example1.837"
    if not fixture.is_file():
        pytest.skip(f"third-party fixture not found: {fixture}")
    write_batch(billops_home.landing, "rcm", B1,
                {"837/demo.x12": fixture.read_bytes(), "835/remit.x12": file_835()})
    report = ingest(settings=billops_home)
    assert report.batches_loaded == 1
    validation = query(billops_home, "select file, status, validated_at from raw._x12_validation "
                       "order by file")
    assert validation == [("835/remit.x12", "PENDING", None), ("837/demo.x12", "PENDING", None)]
    checked = validate_pending(billops_home, workers=1)
    assert (checked.files_validated, checked.unsupported, checked.pending_left) == (2, 1, 0)
    validation = dict(query(billops_home, "select file, status from raw._x12_validation"))
    assert validation["837/demo.x12"] == "UNSUPPORTED"  # errata guide pyx12 has no map for
    assert count(billops_home, "x12_claims") == 1 and count(billops_home, "x12_claim_lines") == 4
    assert any("837/demo.x12" in m and "UNSUPPORTED" in m for m in checked.messages)


# ---------------------------------------------------------------------------------- gating and order


def test_batch_without_manifest_is_not_read_until_complete(billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files(), manifest=False)
    report = run(billops_home)
    assert (report.batches_loaded, report.batches_pending) == (0, 1)
    assert any(f"erp/{B1}" in m and "still arriving" in m for m in report.messages)
    assert count(billops_home, "gl_journal_lines") == 0
    write_manifest_for(folder, "erp")
    assert run(billops_home).batches_loaded == 1
    assert count(billops_home, "gl_journal_lines") == 2


def test_out_of_order_arrival_loads_in_batch_order(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "erp", B2, {"bank_deposits.csv": DEPOSITS.replace("D1,", "D2,")})
    first = write_batch(landing, "erp", B1, erp_files(), manifest=False)  # still arriving
    report = run(billops_home)
    assert report.batches_loaded == 0 and report.batches_pending == 2
    assert any(f"erp/{B2}" in m and f"waits for earlier batch erp/{B1}" in m
               for m in report.messages)
    write_manifest_for(first, "erp")
    report = run(billops_home)
    assert report.batches_loaded == 2
    order = query(billops_home, "select batch_id from raw._batches where status = 'LOADED' "
                  "order by loaded_at")
    assert order == [(B1,), (B2,)]
    assert query(billops_home, "select deposit_id, _batch_id from raw.bank_deposits order by 1") == [
        ("D1", B1), ("D2", B2)]


def test_redelivered_batch_changes_nothing(billops_home: Settings) -> None:
    landing = billops_home.landing
    folder = write_batch(landing, "rcm", B1, rcm_files())
    run(billops_home)
    before = (query(billops_home, "select * from raw._loads order by file"),
              count(billops_home, "x12_remittances"), raw_folders(billops_home))
    # the same batch id arrives again, with other content: ignored as already loaded
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    write_batch(landing, "rcm", B1, {"835/remit.x12": file_835("EFT9999"), "payers.csv": PAYERS})
    report = run(billops_home)
    assert (report.batches_loaded, report.batches_skipped, report.rows_loaded) == (0, 1, 0)
    after = (query(billops_home, "select * from raw._loads order by file"),
             count(billops_home, "x12_remittances"), raw_folders(billops_home))
    assert after == before


def test_duplicate_content_in_another_batch_is_skipped(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "rcm", B1, {"835/remit.x12": file_835()})
    write_batch(landing, "rcm", B2, {"835/resent-remit.x12": file_835(), "payers.csv": PAYERS})
    report = run(billops_home)
    assert (report.batches_loaded, report.files_loaded, report.files_skipped_duplicate) == (2, 2, 1)
    assert count(billops_home, "x12_remittances") == 1  # a re-sent 835 never posts twice
    assert count(billops_home, "payers") == 1
    skipped = query(billops_home, "select batch_id, file, status, error from raw._loads "
                    "where status = 'SKIPPED_DUPLICATE'")
    assert skipped == [(B2, "835/resent-remit.x12", "SKIPPED_DUPLICATE",
                        f"duplicate of rcm/{B1}/835/remit.x12")]
    assert any("835/resent-remit.x12" in m and "already loaded; skipped" in m
               for m in report.messages)


def test_resent_file_in_a_later_run_is_skipped_and_recorded(billops_home: Settings) -> None:
    """A feed re-sends yesterday's files, same name and content, beside today's new ones."""
    landing = billops_home.landing
    claims = file_837(claim_837("ENC1", [("CHG1", "J1100", "100.00")]))
    write_batch(landing, "rcm", B1, {"835/remit.x12": file_835(), "837/claims.x12": claims,
                                     "payers.csv": PAYERS})
    run(billops_home)
    before = {t: count(billops_home, t) for t in ("x12_remittances", "x12_remit_claims",
                                                  "x12_claims", "payers")}
    write_batch(landing, "rcm", B2, {"835/remit.x12": file_835(), "837/claims.x12": claims,
                                     "835/new.x12": file_835("EFT0002")})
    report = run(billops_home)
    assert (report.batches_loaded, report.files_loaded, report.files_skipped_duplicate) == (1, 1, 2)
    assert count(billops_home, "x12_remittances") == before["x12_remittances"] + 1
    assert count(billops_home, "x12_remit_claims") == before["x12_remit_claims"] + 1
    assert count(billops_home, "x12_claims") == before["x12_claims"]
    loads = query(billops_home, "select file, status, rows_loaded, error from raw._loads "
                  "where batch_id = ? order by file", [B2])
    assert loads == [
        ("835/new.x12", "LOADED", 4, None),
        ("835/remit.x12", "SKIPPED_DUPLICATE", 0, f"duplicate of rcm/{B1}/835/remit.x12"),
        ("837/claims.x12", "SKIPPED_DUPLICATE", 0, f"duplicate of rcm/{B1}/837/claims.x12")]
    # a skipped file is not validated either: only what was loaded waits for pyx12
    assert query(billops_home, "select file from raw._x12_validation where batch_id = ?",
                 [B2]) == [("835/new.x12",)]
    assert sum("already loaded; skipped" in m for m in report.messages) == 2


def test_views_are_replaced_only_when_their_definition_changes(billops_home: Settings) -> None:
    """An intraday load must not rebind every raw view (binding reads every file's footer)."""
    landing = billops_home.landing
    write_batch(landing, "erp", B1, erp_files())
    run(billops_home)
    sql = ("select view_name, comment from duckdb_views() where schema_name = 'raw' "
           "order by view_name")
    before = dict(query(billops_home, sql))
    assert set(before) == set(TABLES) and all(before.values())
    write_batch(landing, "erp", B2, {"bank_deposits.csv": DEPOSITS.replace("D1,", "D2,")})
    write_batch(landing, "rcm", B2, {"payers.csv": PAYERS})
    run(billops_home)
    after = dict(query(billops_home, sql))
    # a table that already had files keeps its view, and still sees the new batch
    assert after["bank_deposits"] == before["bank_deposits"]
    assert count(billops_home, "bank_deposits") == 2
    # a table's first files give it a new view (it was the empty, typed placeholder)
    assert after["payers"] != before["payers"] and count(billops_home, "payers") == 1
    assert {t for t in TABLES if after[t] != before[t]} == {"payers"}


# ---------------------------------------------------------------------------------- quarantine


def assert_quarantined(settings: Settings, report: IngestReport, system: str, batch_id: str,
                       reason: str) -> None:
    assert report.batches_quarantined == 1 and report.batches_loaded == 0
    assert not (settings.landing / system / batch_id).exists()
    reason_file = Path(settings.quarantine) / system / batch_id / "_reason.txt"
    assert reason in reason_file.read_text()
    ((status, recorded),) = query(settings, "select status, reason from raw._batches "
                                  "where system = ? and batch_id = ?", [system, batch_id])
    assert status == "QUARANTINED" and reason in recorded
    assert any(f"{system}/{batch_id}/" in m and reason in m for m in report.messages)
    assert raw_folders(settings) == []  # nothing of the batch in the raw zone
    assert query(settings, "select count(*) from raw._rejects")[0][0] == 0


def test_checksum_mismatch_quarantines_the_whole_batch(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "rcm", B1, rcm_files(), sha256={"payers.csv": "0" * 64})
    report = run(billops_home)
    assert_quarantined(billops_home, report, "rcm", B1, "payers.csv: sha256")
    files = query(billops_home, "select file, status from raw._loads order by file")
    assert {status for _, status in files} == {"QUARANTINED"} and len(files) == 4


def test_record_count_mismatch_quarantines_the_batch(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "erp", B1, erp_files(), records={"gl_journal_lines.csv": 3})
    report = run(billops_home)
    assert_quarantined(billops_home, report, "erp", B1,
                       "gl_journal_lines.csv: 2 records, the manifest says 3")


def test_x12_count_mismatch_quarantines_the_batch(billops_home: Settings) -> None:
    bad = file_835().replace("SE*11*0001", "SE*12*0001")
    write_batch(billops_home.landing, "rcm", B1, {"835/remit.x12": bad, "payers.csv": PAYERS})
    report = run(billops_home)
    assert_quarantined(billops_home, report, "rcm", B1, "835/remit.x12: record 13: SE01")


@pytest.mark.parametrize(("files", "reason"), [
    ({"bank_deposits.csv": "amount,deposit_id\n"}, "missing column(s) entity"),
    ({"bank_deposits.csv": ""}, "bank_deposits.csv: empty file: no header row"),
    ({"bank_deposits.csv": DEPOSITS.replace("ACME", "ACMÉ").encode("latin-1")},
     "bank_deposits.csv: unreadable: not valid UTF-8 (line 2)"),
    ({"journal.txt": "x"}, "journal.txt: not a file of system erp"),
])
def test_unreadable_files_quarantine_the_batch(billops_home: Settings, files: dict,
                                               reason: str) -> None:
    write_batch(billops_home.landing, "erp", B1, {**files, "gl_journal_lines.csv": GL})
    assert_quarantined(billops_home, run(billops_home), "erp", B1, reason)


@pytest.mark.parametrize(("system", "files", "reason"), [
    ("rcm", {"835/remit.x12": file_835().replace("*^*00501*", "*:*00501*")},
     "835/remit.x12: record 1: ISA delimiters are not distinct"),
    ("rcm", {"835/remit.x12": file_835().replace("GE*1*1", "GE*2*1")},
     "835/remit.x12: record 14: GE01"),
    ("rcm", {"837/claims.x12": ""}, "837/claims.x12: no ISA segment"),
    ("rcm", {"payers.csv": PAYERS.replace("timely_filing_days", "timely_filing_days,extra")},
     "payers.csv: unexpected column(s) extra"),
    ("ehr", {"Patient.ndjson": ndjson(PATIENT).replace("Jane", "Jos\u00e9").encode()
             + json.dumps({**PATIENT, "id": "p2"}).encode("utf-16")},
     "Patient.ndjson: unreadable: not valid UTF-8 (line 2)"),
])
def test_unreadable_x12_csv_and_ndjson_quarantine_the_batch(
        billops_home: Settings, system: str, files: dict, reason: str) -> None:
    write_batch(billops_home.landing, system, B1, files, records={
        "837/claims.x12": 0, "Patient.ndjson": 2})
    assert_quarantined(billops_home, run(billops_home), system, B1, reason)


def test_missing_listed_file_quarantines_the_batch(billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    (folder / "bank_deposits.csv").unlink()
    assert_quarantined(billops_home, run(billops_home), "erp", B1,
                       "bank_deposits.csv: listed in the manifest but missing")


def test_invalid_manifest_quarantines_the_batch(billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    doc = json.loads((folder / "_manifest.json").read_text())
    (folder / "_manifest.json").write_text(json.dumps({**doc, "batch_id": B2}))
    assert_quarantined(billops_home, run(billops_home), "erp", B1,
                       "_manifest.json: manifest batch_id")


def test_quarantined_batch_redelivered_fixed_is_loaded(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "erp", B1, erp_files(), records={"bank_deposits.csv": 5})
    assert run(billops_home).batches_quarantined == 1
    write_batch(landing, "erp", B1, erp_files())
    report = run(billops_home)
    assert report.batches_loaded == 1 and count(billops_home, "bank_deposits") == 1
    assert query(billops_home, "select status from raw._batches order by loaded_at") == [
        ("QUARANTINED",), ("LOADED",)]


def test_header_only_csv_loads_zero_rows(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "erp", B1,
                {"bank_deposits.csv": DEPOSITS.splitlines()[0] + "\n", "gl_journal_lines.csv": GL})
    report = run(billops_home)
    assert report.batches_loaded == 1 and count(billops_home, "bank_deposits") == 0
    assert count(billops_home, "gl_journal_lines") == 2


# ---------------------------------------------------------------------------------- record level


def test_record_level_problems_are_rejected_and_good_records_load(
        billops_home: Settings, caplog: pytest.LogCaptureFixture) -> None:
    landing = billops_home.landing
    bad_patient = {**PATIENT, "id": "p2", "birthDate": "1980-13-45"}
    write_batch(landing, "ehr", B1, {
        "Patient.ndjson": ndjson(PATIENT, '{"resourceType": "Patient", "id": ', bad_patient),
        "Coverage.ndjson": ndjson(COVERAGE, PATIENT),
    })
    bad_claim = claim_837("ENC2", [("CHG2", "G0008", "5O.00")])
    write_batch(landing, "rcm", B1, {
        "patient_payments.csv": PAYMENTS + "PAY2,p1,ENC1,5.00\n" + "PAY3,p1,ENC1,x,2024-01-20,CARD\n",
        "837/claims.x12": file_837(claim_837("ENC1", [("CHG1", "J1100", "100.00")]), bad_claim),
    })
    with caplog.at_level(logging.INFO, logger="billops.ingest"):
        report = run(billops_home)
    assert report.batches_loaded == 2 and report.rows_rejected == 6
    assert count(billops_home, "fhir_patient") == 1 and count(billops_home, "fhir_coverage") == 1
    assert count(billops_home, "patient_payments") == 1
    assert [r for (r,) in query(billops_home, "select account_id from raw.x12_claims")] == ["ENC1"]
    expected = [
        f"ehr/{B1}/Coverage.ndjson: record 2: resourceType is 'Patient', expected 'Coverage'",
        f"ehr/{B1}/Patient.ndjson: record 2: invalid JSON",
        f"ehr/{B1}/Patient.ndjson: record 3: birth_date: the value is not a date",
        f"rcm/{B1}/837/claims.x12: record 16: claim (CLM at segment 16) cannot be mapped: SV102",
        f"rcm/{B1}/patient_payments.csv: record 2: expected 6 fields, found 4",
        f"rcm/{B1}/patient_payments.csv: record 3: amount: 'x' is not a decimal number",
    ]
    for start in expected:
        assert sum(m.startswith(start) for m in report.messages) == 1, start
    rejects = query(billops_home, "select system, file, record, original_text from raw._rejects "
                    "order by system, file, record")
    assert [(s, f, r) for s, f, r, _ in rejects] == [
        ("ehr", "Coverage.ndjson", 2), ("ehr", "Patient.ndjson", 2), ("ehr", "Patient.ndjson", 3),
        ("rcm", "837/claims.x12", 16), ("rcm", "patient_payments.csv", 2),
        ("rcm", "patient_payments.csv", 3)]
    assert rejects[4][3] == "PAY2,p1,ENC1,5.00"
    assert rejects[3][3].startswith("CLM*ENC2*")
    logged = [r.getMessage() for r in caplog.records]
    for message in report.messages:
        assert message in logged and "\n" not in message
    assert not any("1980-13-45" in m or "Doe" in m for m in logged)  # PHI never logged


# ---------------------------------------------------------------------------------- atomicity


def test_crash_between_parquet_and_ledger_is_completed_without_duplicates(
        billops_home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    write_batch(billops_home.landing, "rcm", B1, rcm_files())

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(ledger, "commit_loaded", killed)
    with pytest.raises(RuntimeError, match="killed"):
        run(billops_home)
    assert f"x12_claims/batch_id={B1}" in raw_folders(billops_home)  # renamed, ledger not updated
    assert query(billops_home, "select status from raw._batches") == [("LOADING",)]
    monkeypatch.undo()

    report = run(billops_home)
    assert report.batches_loaded == 1
    assert any("interrupted; loading it again" in m for m in report.messages)
    assert count(billops_home, "x12_claims") == 1 and count(billops_home, "x12_remittances") == 1
    assert count(billops_home, "payers") == 1
    assert query(billops_home, "select status from raw._batches") == [("LOADED",)]
    assert query(billops_home, "select count(*) from raw._loads")[0][0] == 4
    assert not any(".tmp-" in f for f in raw_folders(billops_home))


def test_crash_while_writing_leaves_nothing_visible(billops_home: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from billops.ingest import parquet

    write_batch(billops_home.landing, "erp", B1, erp_files())
    monkeypatch.setattr(parquet.BatchWriter, "publish", lambda self: (_ for _ in ()).throw(
        RuntimeError("killed")))
    with pytest.raises(RuntimeError):
        run(billops_home)
    assert all(".tmp-" in f for f in raw_folders(billops_home))  # only temporary folders
    monkeypatch.undo()
    report = run(billops_home)
    assert report.batches_loaded == 1 and count(billops_home, "gl_journal_lines") == 2
    assert raw_folders(billops_home) == [f"bank_deposits/batch_id={B1}",
                                         f"gl_journal_lines/batch_id={B1}"]


def test_unlisted_and_non_batch_folders_are_reported_not_read(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "erp", B1, erp_files(), unlisted=("bank_deposits.csv",))
    (landing / "erp" / "scratch").mkdir()
    report = run(billops_home)
    assert report.batches_loaded == 1 and count(billops_home, "bank_deposits") == 0
    assert any("bank_deposits.csv: not listed in the manifest" in m for m in report.messages)
    assert any("erp/scratch: not a batch folder" in m for m in report.messages)


def test_missing_landing_folder(billops_home: Settings, tmp_path: Path) -> None:
    from billops.errors import BillopsError

    with pytest.raises(BillopsError, match="landing folder not found"):
        ingest(tmp_path / "nowhere", settings=billops_home)
    report = ingest(settings=billops_home)  # the default folder not created yet: nothing arrived
    assert report.batches_loaded == 0 and "nothing to load" in report.messages[0]
    assert count(billops_home, "x12_claims") == 0  # the raw views exist all the same


def test_ingests_the_generator_output(billops_home: Settings) -> None:
    synth = pytest.importorskip("billops.synth", reason="the generator is not available")
    synth.generate(billops_home.home, scale="tiny", seed=11)
    report = ingest(settings=billops_home)
    assert report.batches_quarantined == 0 and report.batches_loaded == 3
    assert report.rows_rejected == 0, report.messages
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        def one(sql: str) -> object:
            return con.execute(sql).fetchone()[0]

        for table in ("fhir_charge_item", "x12_claims", "x12_claim_lines", "x12_remittances",
                      "x12_remit_claims", "gl_journal_lines", "bank_deposits"):
            assert one(f"select count(*) from raw.{table}") > 0, table
        # 2400 REF*6R is the ChargeItem id and CLM01 the Encounter id (the mart contract)
        assert one("select count(*) from raw.x12_claim_lines l left join raw.fhir_charge_item c "
                   "on c.id = l.charge_id where c.id is null") == 0
        assert one("select count(*) from raw.x12_claims l left join raw.fhir_encounter e "
                   "on e.id = l.account_id where e.id is null") == 0
        statuses = dict(con.execute("select file, status from raw._x12_validation").fetchall())
        assert statuses and set(statuses.values()) == {"PENDING"}
    again = ingest(settings=billops_home)
    assert (again.batches_loaded, again.batches_skipped, again.rows_loaded) == (0, 3, 0)


def test_empty_files_are_never_duplicates(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "ehr", B1, {"Encounter.ndjson": "", "Patient.ndjson": ""})
    write_batch(billops_home.landing, "ehr", B2, {"Patient.ndjson": ndjson(PATIENT),
                                                  "ChargeItem.ndjson": ""})
    report = run(billops_home)
    assert (report.batches_loaded, report.files_loaded, report.files_skipped_duplicate) == (2, 4, 0)
    assert count(billops_home, "fhir_patient") == 1


# ---------------------------------------------------------------------------------- parallel


def ledger_rows(settings: Settings) -> dict[str, list[tuple]]:
    """The ledger without its wall-clock columns."""
    return {
        "_batches": query(settings, "select system, batch_id, extracted_at, status, reason "
                                    "from raw._batches order by all"),
        "_loads": query(settings, "select * exclude (started_at, finished_at) from raw._loads "
                                  "order by all"),
        "_rejects": query(settings, "select * exclude (rejected_at) from raw._rejects "
                                    "order by all"),
        "_x12_validation": query(settings, "select * from raw._x12_validation order by all"),
    }


def raw_rows(settings: Settings) -> dict[str, list[tuple]]:
    return {table: query(settings, f"select * exclude (_loaded_at) from raw.{table} order by all")
            for table in TABLES}


def test_parallel_load_equals_a_serial_one(billops_home: Settings, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers read the batches; duplicates, quarantine and order come out as in one process.

    ehr B2 repeats a file of B1, which is quarantined: its worker skips the file (B1 planned
    before it), the parent finds B1 not loaded and reads B2 again. ehr B3 repeats it once more.
    """
    from billops.config import get_settings
    from billops.ingest import parallel

    def landing(root: Path) -> None:
        write_batch(root, "ehr", B1, {**ehr_files(), "Encounter.ndjson": ndjson(ENCOUNTER)},
                    sha256={"Encounter.ndjson": "0" * 64})
        write_batch(root, "ehr", B2, {"Encounter.ndjson": ndjson(ENCOUNTER),
                                      "Patient.ndjson": ndjson(PATIENT, "{bad json")})
        write_batch(root, "ehr", B3, {"Encounter.ndjson": ndjson(ENCOUNTER),
                                      "ChargeItem.ndjson": ndjson(CHARGE)})
        write_batch(root, "rcm", B1, rcm_files())
        write_batch(root, "rcm", B2, {"835/resent.x12": file_835(), "payers.csv": PAYERS})
        write_batch(root, "rcm", B3, {"835/other.x12": file_835("EFT0002")})
        write_batch(root, "erp", B2, erp_files())

    landing(billops_home.landing)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "_cpus", lambda: 2)
    started = []
    enter = parallel.Workers.__enter__
    monkeypatch.setattr(parallel.Workers, "__enter__",
                        lambda self: started.append(self.count) or enter(self))
    report = run(billops_home)
    assert started == [2]
    in_parallel = (raw_rows(billops_home), ledger_rows(billops_home))

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1 << 62)
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path / "serial"))
    serial_home = get_settings(fresh=True)
    landing(serial_home.landing)
    serial = run(serial_home)
    assert started == [2]
    assert in_parallel == (raw_rows(serial_home), ledger_rows(serial_home))
    home = str(billops_home.home)
    assert sorted(m.replace(home, "~") for m in report.messages) == sorted(
        m.replace(str(serial_home.home), "~") for m in serial.messages)
    counters = ("batches_loaded", "batches_quarantined", "files_loaded",
                "files_skipped_duplicate", "rows_loaded", "rows_rejected")
    assert [getattr(report, c) for c in counters] == [getattr(serial, c) for c in counters]
    assert (report.batches_loaded, report.batches_quarantined) == (6, 1)
    loads = {(b, f): (s, e) for _, b, f, _, _, _, _, s, e, _ in
             query(billops_home, "select * exclude (started_at, finished_at, snapshot) "
                                 "from raw._loads "
                                 "where system = 'ehr'")}
    assert loads[(B2, "Encounter.ndjson")] == ("LOADED", None)
    assert loads[(B3, "Encounter.ndjson")] == ("SKIPPED_DUPLICATE",
                                               f"duplicate of ehr/{B2}/Encounter.ndjson")
    assert count(billops_home, "x12_remittances") == 2
