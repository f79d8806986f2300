"""The synthetic generator: landing batches, manifests, formats, money and truth."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billops.errors import BillopsError
from billops.raw_schema import CSV_FILES
from billops.synth import generate
from billops.synth.reference import DIAGNOSES, npi_is_valid

HCPCS_LEVEL_II = re.compile(r"[A-V]\d{4}")
HCPCS_SYSTEMS = {"https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                 "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(out, defect_rate=0)
    return out


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("default")
    return out, generate(out)


def batch(out: Path, system: str) -> Path:
    [folder] = sorted((out / "landing" / system).iterdir())
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def segments(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def cents(value: str | float) -> int:
    return int(Decimal(str(value)) * 100)


def x12_file(out: Path, kind: str) -> Path:
    [path] = sorted((batch(out, "rcm") / kind).glob("*.x12"))
    return path


def ref_id(ref: dict[str, str]) -> str:
    return ref["reference"].split("/")[-1]


# ----------------------------------------------------------------------------- parsing 837/835


def parse_837(path: Path) -> dict[str, list[dict[str, Any]]]:
    """account -> claims in file order: submitted, total, frequency, lines {charge_id: amount}."""
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    submitted = None
    claim: dict[str, Any] | None = None
    amount = 0
    for s in segments(path):
        if s[0] == "BHT":
            submitted = datetime.strptime(s[4] + s[5], "%Y%m%d%H%M")
        elif s[0] == "CLM":
            claim = {"submitted": submitted, "total": cents(s[2]),
                     "frequency": s[5].split(":")[2], "lines": {}, "refs": {}}
            claims[s[1]].append(claim)
        elif s[0] == "REF" and claim is not None and s[1] in ("F8", "G1"):
            claim["refs"][s[1]] = s[2]
        elif s[0] == "SV1":
            amount = cents(s[2])
            assert HCPCS_LEVEL_II.fullmatch(s[1].split(":")[1])
        elif s[0] == "REF" and s[1] == "6R" and claim is not None:
            claim["lines"][s[2]] = amount
    return claims


def parse_835(path: Path) -> list[dict[str, Any]]:
    """One dict per transaction set: amount, trace, claims with their lines and adjustments."""
    payments: list[dict[str, Any]] = []
    pay: dict[str, Any] = {}
    clp: dict[str, Any] = {}
    target: dict[str, Any] = {}
    for s in segments(path):
        if s[0] == "ST":
            pay = {"claims": []}
            payments.append(pay)
        elif s[0] == "BPR":
            pay["amount"] = cents(s[2])
        elif s[0] == "TRN":
            pay["trace"] = s[2]
        elif s[0] == "PLB":
            pay.setdefault("plb", 0)
            pay["plb"] += sum(cents(s[i]) for i in range(4, len(s), 2))
        elif s[0] == "CLP":
            clp = {"account": s[1], "status": s[2], "charge": cents(s[3]), "paid": cents(s[4]),
                   "pr": cents(s[5] or "0"), "adj": defaultdict(int), "lines": []}
            pay["claims"].append(clp)
            target = clp
        elif s[0] == "SVC":
            line = {"code": s[1], "charge": cents(s[2]), "paid": cents(s[3]),
                    "adj": defaultdict(int), "charge_id": None}
            clp["lines"].append(line)
            target = line
        elif s[0] == "CAS":
            for i in range(2, len(s), 3):
                amount = cents(s[i + 1])
                target["adj"][s[1]] += amount
                if target is not clp:
                    clp["adj"][s[1]] += amount
        elif s[0] == "REF" and s[1] == "6R":
            target["charge_id"] = s[2]
    return payments


# ----------------------------------------------------------------------------- pyx12


def pyx12_validate(path: Path) -> tuple[bool, list[str], str]:
    """(valid, errors, 999 text) from pyx12's own validator."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ack, errors_json = io.StringIO(), io.StringIO()
    valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), ack, None,
                                              None, errors_json)
    errors: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        errors.extend(f"{e['err_cde']}: {e['err_str']}" for e in node.get("errors", []))
        for key in ("groups", "transactions", "segments", "elements"):
            for child in node.get(key, []):
                walk(child)

    for interchange in json.loads(errors_json.getvalue())["interchanges"]:
        walk(interchange)
    return valid, errors, ack.getvalue()


def test_837_and_835_validate_with_pyx12(default: tuple[Path, dict[str, Any]]) -> None:
    out, _ = default
    claims = x12_file(out, "837")
    valid, errors, ack = pyx12_validate(claims)
    assert errors == [] and valid
    sets = len([s for s in segments(claims) if s[0] == "ST"])
    assert ack.count("IK5*A") == sets and "IK5*R" not in ack and "IK5*E" not in ack
    assert re.search(r"AK9\*A\*", ack)
    remits = x12_file(out, "835")
    # pyx12 4.0 cannot build a 999 for an 835 (its ST03 is not used), so errors are the check
    valid, errors, _ = pyx12_validate(remits)
    assert errors == [] and valid


# ----------------------------------------------------------------------------- batches


def test_tiny_writes_three_batches_with_matching_manifests(
        default: tuple[Path, dict[str, Any]]) -> None:
    out, summary = default
    expected = {"ehr": "20261101T020000Z", "rcm": "20261101T030000Z", "erp": "20261101T040000Z"}
    for system, batch_id in expected.items():
        folder = batch(out, system)
        assert folder.name == batch_id
        manifest_path = folder / "_manifest.json"
        manifest = json.loads(manifest_path.read_text())
        assert list(manifest) == ["system", "batch_id", "extracted_at", "files"]
        assert manifest["system"] == system and manifest["batch_id"] == batch_id
        stamp = datetime.strptime(manifest["extracted_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert stamp.strftime("%Y%m%dT%H%M%SZ") == batch_id
        on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert on_disk == {f["path"] for f in manifest["files"]} | {"_manifest.json"}
        for f in manifest["files"]:
            path = folder / f["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
            assert f["records"] == records_of(path), f["path"]
            assert path.stat().st_mtime_ns <= manifest_path.stat().st_mtime_ns
    ehr_files = {f["path"] for f in json.loads((batch(out, "ehr") / "_manifest.json")
                                                .read_text())["files"]}
    assert ehr_files == {f"{t}.ndjson" for t in
                         ("Patient", "Coverage", "Encounter", "ChargeItem", "Organization")}
    assert [b["batch_id"] for b in summary["batches"]] == list(expected.values())
    assert (out / "truth" / "summary.json").is_file()


def records_of(path: Path) -> int:
    if path.suffix == ".csv":
        return len(read_csv(path))
    if path.suffix == ".ndjson":
        return len(path.read_text().splitlines())
    return len([s for s in segments(path) if s[0] == "ST"])


def test_csv_headers_equal_raw_schema_columns(default: tuple[Path, dict[str, Any]]) -> None:
    out, _ = default
    seen = set()
    for system in ("rcm", "erp"):
        for path in batch(out, system).glob("*.csv"):
            with path.open(encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh))
            assert header == list(CSV_FILES[path.name].columns), path.name
            seen.add(path.name)
    assert seen == set(CSV_FILES)


def test_months_give_one_batch_per_system_and_month_end(tmp_path: Path) -> None:
    summary = generate(tmp_path, months=2, defect_rate=0)
    for system in ("ehr", "rcm", "erp"):
        names = sorted(p.name for p in (tmp_path / "landing" / system).iterdir())
        assert [n[:8] for n in names] == ["20261101", "20261201"]
    assert len(summary["batches"]) == 6
    later_rcm = tmp_path / "landing" / "rcm" / "20261201T030000Z"
    assert not (later_rcm / "payers.csv").exists() and (later_rcm / "claim_events.csv").exists()
    encounters: set[str] = set()
    for folder in sorted((tmp_path / "landing" / "ehr").iterdir()):
        if (folder / "Encounter.ndjson").exists():
            encounters |= {e["id"] for e in read_ndjson(folder / "Encounter.ndjson")}
        for item in read_ndjson(folder / "ChargeItem.ndjson"):
            assert ref_id(item["context"]) in encounters  # charges never precede their account


# ----------------------------------------------------------------------------- FHIR and codes


def test_fhir_resources_are_valid_r4(default: tuple[Path, dict[str, Any]]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    out, _ = default
    folder = batch(out, "ehr")
    for path in sorted(folder.glob("*.ndjson")):
        resources = read_ndjson(path)
        assert resources and all(r["resourceType"] == path.stem for r in resources)
        sample = resources[:25] + [r for r in resources if r["meta"]["versionId"] != "1"][:5]
        for res in sample:
            get_fhir_model_class(path.stem).model_validate(res)

    items = read_ndjson(folder / "ChargeItem.ndjson")
    for item in items:
        coding = item["code"]["coding"][0]
        assert coding["system"] in HCPCS_SYSTEMS and HCPCS_LEVEL_II.fullmatch(coding["code"])
        assert item["status"] == "billable" and item["priceOverride"]["currency"] == "USD"
        assert item["enteredDate"] >= item["occurrenceDateTime"]
    coverages = read_ndjson(folder / "Coverage.ndjson")
    versions = defaultdict(list)
    for c in coverages:
        versions[c["id"]].append(c)
        assert c["payor"][0]["reference"].startswith("Organization/") and c["subscriberId"]
    updated = [v for v in versions.values() if len(v) > 1]
    assert updated, "some patients have a registration update"
    for v1, v2 in updated:
        assert (v1["meta"]["versionId"], v2["meta"]["versionId"]) == ("1", "2")
        assert v2["meta"]["lastUpdated"] > v1["meta"]["lastUpdated"]
        assert v2["subscriberId"] != v1["subscriberId"]

    orgs = {o["id"]: o for o in read_ndjson(folder / "Organization.ndjson")}
    kinds = defaultdict(list)
    for o in orgs.values():
        kinds[o["type"][0]["coding"][0]["code"]].append(o)
    hospitals = [o for o in kinds["prov"] if "partOf" not in o]
    clinics = [o for o in kinds["prov"] if "partOf" in o]
    assert len(hospitals) == 1 and len(clinics) == 4 and len(kinds["pay"]) >= 3
    assert all(ref_id(c["partOf"]) == hospitals[0]["id"] for c in clinics)
    for o in kinds["prov"]:
        assert npi_is_valid(o["identifier"][0]["value"])
    payer_ids = {o["id"] for o in kinds["pay"]}
    assert {ref_id(c["payor"][0]) for c in coverages} <= payer_ids
    assert {r["payer_id"] for r in read_csv(batch(out, "rcm") / "payers.csv")} == payer_ids
    encounters = read_ndjson(folder / "Encounter.ndjson")
    assert all(ref_id(e["serviceProvider"]) in orgs for e in encounters)


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")  # the CMS example NPI
    assert not npi_is_valid("1234567890")


def test_diagnoses_are_billable_icd10cm_codes(default: tuple[Path, dict[str, Any]]) -> None:
    import simple_icd_10_cm as icd

    curated = {code for codes in DIAGNOSES.values() for code in codes}
    for code in curated:
        assert icd.is_valid_item(code) and icd.is_leaf(code), code
    out, _ = default
    used = {c["coding"][0]["code"] for e in read_ndjson(batch(out, "ehr") / "Encounter.ndjson")
            for c in e["reasonCode"]}
    assert used <= curated
    hi = {part.split(":")[1] for s in segments(x12_file(out, "837")) if s[0] == "HI"
          for part in s[1:]}
    assert hi <= {code.replace(".", "") for code in curated}


# ----------------------------------------------------------------------------- money


def test_clean_money_ties_out_per_account_and_in_the_gl(clean: Path) -> None:
    ehr, rcm, erp = batch(clean, "ehr"), batch(clean, "rcm"), batch(clean, "erp")
    charges: dict[str, dict[str, int]] = defaultdict(dict)
    for item in read_ndjson(ehr / "ChargeItem.ndjson"):
        charges[ref_id(item["context"])][item["id"]] = cents(item["priceOverride"]["value"])
    claims = parse_837(x12_file(clean, "837"))
    payments = parse_835(x12_file(clean, "835"))
    assert claims and payments

    for account, account_claims in claims.items():
        current = account_claims[-1]
        assert current["lines"] == charges[account]  # clean: every charge billed, nothing more
        assert current["total"] == sum(current["lines"].values())
        assert [c["frequency"] for c in account_claims] == ["1"]

    remitted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pay in payments:
        assert pay["amount"] == sum(c["paid"] for c in pay["claims"]) - pay.get("plb", 0)
        for clp in pay["claims"]:
            assert clp["account"] in claims and clp["status"] == "1"
            assert clp["charge"] == clp["paid"] + sum(clp["adj"].values())
            assert clp["pr"] == clp["adj"]["PR"]
            for line in clp["lines"]:
                assert line["charge"] == line["paid"] + sum(line["adj"].values())
                assert line["charge_id"] in charges[clp["account"]]
            totals = remitted[clp["account"]]
            for key in ("charge", "paid", "pr"):
                totals[key] += clp[key]
            totals["co"] += clp["adj"]["CO"]
    for account, t in remitted.items():
        # charges = payer paid + contractual adjustments + patient responsibility
        assert sum(charges[account].values()) == t["charge"] == t["paid"] + t["co"] + t["pr"]

    patient_paid: dict[str, int] = defaultdict(int)
    for p in read_csv(rcm / "patient_payments.csv"):
        patient_paid[p["account_id"]] += cents(p["amount"])
    coa = {r["account"]: r["account_type"] for r in read_csv(erp / "chart_of_accounts.csv")}
    journals: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in read_csv(erp / "gl_journal_lines.csv"):
        journals[line["journal_id"]].append(line)
    by_type: dict[str, int] = defaultdict(int)  # debit - credit per account type
    written_off: dict[str, int] = defaultdict(int)
    cash_by_reference: dict[str, int] = defaultdict(int)
    for lines in journals.values():
        assert sum(cents(x["debit"]) for x in lines) == sum(cents(x["credit"]) for x in lines)
        for x in lines:
            kind = coa[x["account"]]
            by_type[kind] += cents(x["debit"]) - cents(x["credit"])
            if kind == "WRITE_OFF":
                assert x["approved_by"]
                written_off[x["reference"]] += cents(x["debit"])
            if kind == "CASH" and x["source"] == "REMITTANCE":
                cash_by_reference[x["reference"]] += cents(x["debit"])
    for account, t in remitted.items():
        # patient responsibility = patient payments (net of refunds) + write-offs + open balance
        assert 0 <= patient_paid[account] + written_off[account] <= t["pr"]

    for s in read_csv(rcm / "statements.csv"):
        assert 0 < cents(s["amount_due"]) <= remitted[s["account_id"]]["pr"]

    total_charges = sum(sum(c.values()) for c in charges.values())
    payer_paid = sum(p["amount"] for p in payments)
    contractual = sum(t["co"] for t in remitted.values())
    patient_net = sum(patient_paid.values())
    write_offs = sum(written_off.values())
    assert -by_type["GROSS_REVENUE"] == total_charges
    assert by_type["CONTRACTUAL_ALLOWANCE"] == contractual
    assert by_type["WRITE_OFF"] == write_offs
    assert by_type["PATIENT_AR"] == (total_charges - payer_paid - contractual - patient_net
                                     - write_offs)
    deposits = {(d["trace_number"], cents(d["amount"])) for d in
                read_csv(erp / "bank_deposits.csv")}
    traces = [p["trace"] for p in payments]
    assert len(set(traces)) == len(traces)
    assert deposits == {(p["trace"], p["amount"]) for p in payments if p["amount"] > 0}
    assert {k: v for k, v in cash_by_reference.items() if v} == {
        p["trace"]: p["amount"] for p in payments if p["amount"] > 0}


def test_remits_balance_with_replacements_reversals_and_denials(tmp_path: Path) -> None:
    generate(tmp_path, months=2, defect_rate=0.2, seed=3)
    statuses: set[str] = set()
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    net: dict[str, int] = defaultdict(int)
    last: dict[str, int] = {}
    for folder in sorted((tmp_path / "landing" / "rcm").iterdir()):
        for account, account_claims in parse_837(next((folder / "837").glob("*.x12"))).items():
            claims[account] += account_claims
        for pay in parse_835(next((folder / "835").glob("*.x12"))):
            assert pay["amount"] == sum(c["paid"] for c in pay["claims"]) >= 0
            for clp in pay["claims"]:
                statuses.add(clp["status"])
                assert clp["charge"] == clp["paid"] + sum(clp["adj"].values())
                for line in clp["lines"]:
                    assert line["charge"] == line["paid"] + sum(line["adj"].values())
                net[clp["account"]] += clp["charge"]
                if clp["status"] == "22":
                    assert clp["charge"] < 0 and clp["paid"] <= 0
                else:
                    last[clp["account"]] = clp["charge"]
    for account_claims in claims.values():
        for claim in account_claims:
            assert claim["total"] == sum(claim["lines"].values())
            assert (claim["frequency"] == "7") == ("F8" in claim["refs"])
    for account, charge in net.items():
        # a reversal cancels the earlier payment: what remains is the latest adjudication
        assert charge == last[account]
        assert charge in {c["total"] for c in claims[account]}
    assert {"1", "4", "22"} <= statuses
    for path in sorted((tmp_path / "landing" / "rcm").glob("*/83?/*.x12")):
        valid, errors, _ = pyx12_validate(path)  # negative reversal amounts are valid X12
        assert errors == [] and valid, path.name


# ----------------------------------------------------------------------------- truth


def test_truth_rows_point_at_their_evidence(default: tuple[Path, dict[str, Any]]) -> None:
    out, summary = default
    rows = read_csv(out / "truth" / "defects.csv")
    assert rows and list(rows[0]) == ["defect_type", "key", "account_id", "claim_id",
                                      "charge_id", "trace_number", "journal_id",
                                      "statement_id", "patient_id", "amount", "batch_id"]
    items = {i["id"]: i for i in read_ndjson(batch(out, "ehr") / "ChargeItem.ndjson")}
    claims = parse_837(x12_file(out, "837"))
    remits = {(p["trace"], c["account"]): c for p in parse_835(x12_file(out, "835"))
              for c in p["claims"]}
    as_of = datetime(2026, 11, 1, 4)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["defect_type"]] += 1
        account_claims = claims.get(row["account_id"], [])
        if row["defect_type"] == "DENIAL":
            assert row["key"] == row["account_id"] == row["claim_id"]
            clp = remits[(row["trace_number"], row["key"])]
            assert clp["status"] == "4" and clp["paid"] == 0
            assert cents(row["amount"]) == clp["charge"] == clp["adj"]["CO"]
            assert row["batch_id"] == batch(out, "rcm").name
            continue
        item = items[row["key"]]
        assert row["charge_id"] == row["key"] and ref_id(item["context"]) == row["account_id"]
        assert cents(row["amount"]) == cents(item["priceOverride"]["value"])
        assert row["batch_id"] == batch(out, "ehr").name
        entered = datetime.strptime(item["enteredDate"], "%Y-%m-%dT%H:%M:%SZ")
        if row["defect_type"] == "UNBILLED_CHARGE":
            assert all(row["key"] not in c["lines"] for c in account_claims)
            assert entered <= as_of - timedelta(days=10)
        else:
            assert row["defect_type"] == "LATE_CHARGE"
            assert entered > account_claims[0]["submitted"]
            assert account_claims[-1]["frequency"] == "7" and "F8" in account_claims[-1]["refs"]
            assert row["key"] in account_claims[-1]["lines"]
    assert counts["UNBILLED_CHARGE"] and counts["LATE_CHARGE"] and counts["DENIAL"]
    assert summary["defects"] == dict(counts)
    denied = {c["account"] for c in remits.values() if c["status"] == "4"}
    assert denied == {r["key"] for r in rows if r["defect_type"] == "DENIAL"}


def test_clean_output_has_an_empty_truth_with_header(clean: Path) -> None:
    text = (clean / "truth" / "defects.csv").read_text()
    assert text == ("defect_type,key,account_id,claim_id,charge_id,trace_number,journal_id,"
                    "statement_id,patient_id,amount,batch_id\n")
    summary = json.loads((clean / "truth" / "summary.json").read_text())
    assert set(summary["defects"]) >= {"UNBILLED_CHARGE", "LATE_CHARGE", "DENIAL"}
    assert not any(summary["defects"].values())
    assert summary["patients"] == 200 and summary["accounts"] > 200


# ----------------------------------------------------------------------------- determinism


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_is_byte_identical_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=7)
    second = generate(tmp_path / "b", seed=7)
    assert first == second
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    generate(tmp_path / "c", seed=8)
    a, c = tree(tmp_path / "a"), tree(tmp_path / "c")
    assert a.keys() == c.keys()
    assert a["landing/ehr/20261101T020000Z/Patient.ndjson"] != (
        c["landing/ehr/20261101T020000Z/Patient.ndjson"])


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "huge"}, "unknown scale"),
    ({"scale": "large"}, "not generated yet"),
    ({"start": "2026-13"}, "bad --start"),
    ({"start": "10/2026"}, "bad --start"),
    ({"start": "2026-1"}, "bad --start"),
    ({"months": 0}, "bad --months"),
    ({"months": -2}, "bad --months"),
    ({"seed": "abc"}, "bad --seed"),
    ({"defect_rate": 1.5}, "bad defect rate"),
])
def test_bad_arguments_raise_billops_error(tmp_path: Path, kwargs: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(BillopsError, match=message):
        generate(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_or_holds_the_batches_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(BillopsError, match="is a file"):
        generate(a_file)
    generate(tmp_path / "out", defect_rate=0)
    with pytest.raises(BillopsError, match="already exists"):
        generate(tmp_path / "out", defect_rate=0)
