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

from billops.config import Settings
from billops.errors import BillopsError
from billops.raw_schema import CSV_FILES
from billops.synth import generate
from billops.synth.reference import DIAGNOSES, npi_is_valid

HCPCS_LEVEL_II = re.compile(r"[A-V]\d{4}")
SETTINGS = Settings()  # the detection settings' defaults, which the edge cases straddle
HCPCS_SYSTEMS = {
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
}


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


def x12_files(out: Path, kind: str) -> list[Path]:
    """The X12 files of a kind in the (only) RCM batch: 835s come one file per payer."""
    paths = sorted((batch(out, "rcm") / kind).glob("*.x12"))
    assert paths
    return paths


def parse_835s(paths: list[Path]) -> list[dict[str, Any]]:
    return [pay for path in paths for pay in parse_835(path)]


# the sources of the journals about patients; the others are non-patient cash (treasury.py)
PATIENT_SOURCES = {"CHARGES", "REMITTANCE", "PATIENT_PAYMENT", "REFUND", "WRITE_OFF"}
NON_PATIENT_SOURCES = {"AP", "PAYROLL", "TREASURY", "BANK"}


def ref_id(ref: dict[str, str]) -> str:
    return ref["reference"].split("/")[-1]


# ----------------------------------------------------------------------------- parsing 837/835


def parse_837(path: Path) -> dict[str, list[dict[str, Any]]]:
    """account -> claims in file order: submitted, total, frequency, lines {charge_id: amount},
    SBR01 (responsibility) and, on a secondary claim, the other payer's loops 2320/2330."""
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    submitted = None
    claim: dict[str, Any] | None = None
    amount, code = 0, ""
    subscriber: dict[str, str] = {}
    other: dict[str, Any] | None = None  # loops 2320/2330 of the claim being read
    in_line = False  # in a 2400 loop
    for s in segments(path):
        if s[0] in ("HL", "LX"):
            other = None
        if s[0] in ("HL", "CLM"):
            in_line = False
        elif s[0] == "LX":
            in_line = True
        if s[0] == "BHT":
            submitted = datetime.strptime(s[4] + s[5], "%Y%m%d%H%M")
        elif s[0] == "HL":
            claim = None
        elif s[0] == "SBR" and claim is None:
            subscriber["SBR"] = s[1]
        elif s[0] == "SBR" and claim is not None:  # loop 2320: the other payer of the claim
            other = claim["other"] = {"sbr": s[1], "adj": defaultdict(int)}
        elif other is not None:
            if s[0] == "CAS":
                for i in range(2, len(s), 3):
                    other["adj"][s[1]] += cents(s[i + 1])
            elif s[0] == "AMT" and s[1] == "D":
                other["paid"] = cents(s[2])
            elif s[0] == "NM1":
                other[s[1]] = s[9]
            elif s[0] == "DTP" and s[1] == "573":
                other["paid_on"] = s[3]
        elif s[0] == "NM1" and s[1] in ("IL", "PR"):
            subscriber[s[1]] = s[9]
        elif s[0] == "CLM":
            claim = {
                "submitted": submitted,
                "total": cents(s[2]),
                "frequency": s[5].split(":")[2],
                "responsibility": subscriber["SBR"],
                "lines": {},
                "refs": {},
                "member": subscriber["IL"],
                "payer": subscriber["PR"],
                "codes": {},
            }
            claims[s[1]].append(claim)
        elif s[0] == "REF" and claim is not None and s[1] in ("F8", "G1") and not in_line:
            claim["refs"][s[1]] = s[2]
        elif s[0] == "REF" and claim is not None and s[1] == "G1":  # 2400: a line's
            claim.setdefault("line_auth", {})[s[2]] = s[2]
        elif s[0] == "SV1":
            amount = cents(s[2])
            code = s[1].split(":")[1]
            assert HCPCS_LEVEL_II.fullmatch(code)
        elif s[0] == "SV2":  # 837I: SV201 revenue code, SV202 HC:HCPCS, SV203 amount
            assert re.fullmatch(r"\d{4}", s[1]), s
            amount = cents(s[3])
            code = s[2].split(":")[1]
            assert HCPCS_LEVEL_II.fullmatch(code)
        elif s[0] == "REF" and s[1] == "6R" and claim is not None:
            claim["lines"][s[2]] = amount
            claim["codes"][s[2]] = code
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
            # BPR03 = D: a debit, the payer takes money back (a takeback)
            pay["amount"] = cents(s[2]) * (-1 if s[3] == "D" else 1)
        elif s[0] == "TRN":
            pay["trace"] = s[2]
        elif s[0] == "PLB":
            pay.setdefault("plb", 0)
            pay["plb"] += sum(cents(s[i]) for i in range(4, len(s), 2))
        elif s[0] == "CLP":
            clp = {
                "account": s[1],
                "status": s[2],
                "charge": cents(s[3]),
                "paid": cents(s[4]),
                "pr": cents(s[5] or "0"),
                "adj": defaultdict(int),
                "lines": [],
            }
            pay["claims"].append(clp)
            target = clp
        elif s[0] == "SVC":
            line = {
                "code": s[1],
                "charge": cents(s[2]),
                "paid": cents(s[3]),
                "adj": defaultdict(int),
                "charge_id": None,
                "units": int(s[5]) if len(s) > 5 and s[5] else 1,
            }
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
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), str(path), ack, None, None, errors_json
    )
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
    out, summary = default
    claims = x12_file(out, "837")
    valid, errors, ack = pyx12_validate(claims)
    assert errors == [] and valid
    sets = [s for s in segments(claims) if s[0] == "ST"]
    assert ack.count("IK5*A") == len(sets) and "IK5*R" not in ack and "IK5*E" not in ack
    assert re.search(r"AK9\*A\*", ack)
    # clinics bill 837P, hospitals 837I: both implementations are in the file and validated
    implementations = {s[3] for s in sets}
    assert implementations == {"005010X222A1", "005010X223A2"}
    by_type = summary["claims_by_type"]
    assert by_type["837P"] > 0 and by_type["837I"] > 0
    assert by_type["837P"] + by_type["837I"] == summary["claims"]
    for remits in x12_files(out, "835"):
        # pyx12 4.0 cannot build a 999 for an 835 (its ST03 is not used), so errors are the check
        valid, errors, _ = pyx12_validate(remits)
        assert errors == [] and valid, remits.name


def test_hospital_claims_are_837i_and_ingest_like_837p(
    default: tuple[Path, dict[str, Any]],
) -> None:
    """Clinics bill 837P, hospitals 837I; the ingestion reads the same values from both."""
    from billops.sources import Reject
    from billops.sources.x12 import read_x12

    out, _ = default
    path = x12_file(out, "837")
    ehr = batch(out, "ehr")
    items = {i["id"]: i for i in read_ndjson(ehr / "ChargeItem.ndjson")}
    encounters = {e["id"]: e for e in read_ndjson(ehr / "Encounter.ndjson")}
    parsed = parse_837(path)
    results = list(read_x12(path, "837"))
    assert not [r for r in results if isinstance(r, Reject)]
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        rows[r.table].append(r.values)
    claims = rows["x12_claims"]
    types = {c["claim_type"] for c in claims}
    assert types == {"P", "I"}
    seen: dict[str, int] = defaultdict(int)
    claim_types: dict[tuple[str, str], str] = {}
    for c in claims:
        account = c["account_id"]
        encounter = encounters[account]
        provider = ref_id(encounter["serviceProvider"])
        hospital = "-C" not in provider
        expected = parsed[account][seen[account]]
        seen[account] += 1
        claim_types[(account, c["st_control_number"])] = c["claim_type"]
        if c["claim_type"] == "I":
            assert hospital and c["implementation"] == "005010X223A2"
            inpatient = encounter["class"]["code"] == "IMP"
            assert c["facility_code"] == ("11" if inpatient else "13")
            start = encounter["period"]["start"][:10]
            assert str(c["statement_from"]) == start
            assert str(c["statement_to"]) == encounter["period"]["end"][:10]
        else:
            assert not hospital and c["implementation"] == "005010X222A1"
            assert c["facility_code"] == "11"
        assert c["payer_id"] == expected["payer"] and c["member_id"] == expected["member"]
        assert c["claim_frequency_code"] == expected["frequency"]
        assert c["prior_auth_number"] == expected["refs"].get("G1")
        assert c["original_claim_ref"] == expected["refs"].get("F8")
        assert (c["claim_frequency_code"] == "7") == (c["original_claim_ref"] is not None)
        assert cents(c["total_charge"]) == expected["total"]
        assert c["payer_responsibility"] == expected["responsibility"]
    for line in rows["x12_claim_lines"]:
        item = items[line["charge_id"]]
        assert ref_id(item["context"]) == line["account_id"]
        assert line["hcpcs"] == item["code"]["coding"][0]["code"]
        assert cents(line["charge_amount"]) == cents(item["priceOverride"]["value"])
        assert line["units"] == item["quantity"]["value"]
        assert str(line["service_date"]) == item["occurrenceDateTime"]
    lines_by_type = {
        claim_types[(ln["account_id"], ln["st_control_number"])] for ln in rows["x12_claim_lines"]
    }
    assert lines_by_type == {"P", "I"}
    principal = {
        (d["account_id"], d["st_control_number"])
        for d in rows["x12_claim_diagnoses"]
        if d["qualifier"] == "ABK"
    }
    assert principal == set(claim_types)


# ----------------------------------------------------------------------------- batches


def test_tiny_writes_three_batches_with_matching_manifests(
    default: tuple[Path, dict[str, Any]],
) -> None:
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
    ehr_files = {
        f["path"] for f in json.loads((batch(out, "ehr") / "_manifest.json").read_text())["files"]
    }
    assert ehr_files == {
        f"{t}.ndjson" for t in ("Patient", "Coverage", "Encounter", "ChargeItem", "Organization")
    }
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


def test_daily_cadence_lands_the_same_records_in_nightly_and_intraday_batches(
    tmp_path: Path, default: tuple[Path, dict[str, Any]]
) -> None:
    daily = generate(tmp_path, cadence="daily")
    monthly_out, monthly = default
    varies = ("cadence", "batches", "resent_files")  # more 835 files, more of them re-sent
    assert {k: v for k, v in daily.items() if k not in varies} == {
        k: v for k, v in monthly.items() if k not in varies
    }
    for system, hour in (("ehr", "02"), ("rcm", "03"), ("erp", "04")):
        folders = sorted((tmp_path / "landing" / system).iterdir())
        names = [f.name for f in folders]
        nightly = [n for n in names if n[9:11] == hour]
        intraday = [n for n in names if n.startswith("20261031T") and n[9:11] != hour]
        assert len(nightly) == 31 and nightly[0] == f"20261002T{hour}0000Z"
        assert len(intraday) == 16 and names[-1] == f"20261101T{hour}0000Z"
        assert names[-17:-1] == intraday  # hourly batches of the last day, then its nightly
        for folder in folders:
            manifest = json.loads((folder / "_manifest.json").read_text())
            assert manifest["batch_id"] == folder.name and manifest["system"] == system
            files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
            assert files - {"_manifest.json"} == {f["path"] for f in manifest["files"]}
            for f in manifest["files"]:
                data = (folder / f["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == f["sha256"]
    for name in ("ChargeItem.ndjson", "Encounter.ndjson", "Coverage.ndjson"):
        assert sorted(map(json.dumps, landed(tmp_path, "ehr", name))) == sorted(
            map(json.dumps, landed(monthly_out, "ehr", name))
        )
    for name in ("statements.csv", "patient_payments.csv", "claim_events.csv"):
        assert landed(tmp_path, "rcm", name) == landed(monthly_out, "rcm", name)
    daily_journals = landed(tmp_path, "erp", "gl_journal_lines.csv")
    assert daily_journals == landed(monthly_out, "erp", "gl_journal_lines.csv")
    truth = read_csv(tmp_path / "truth" / "defects.csv")
    assert truth and all((tmp_path / "landing").glob(f"*/{r['batch_id']}") for r in truth)


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
    for v in updated:
        assert [c["meta"]["versionId"] for c in v] == [str(n) for n in range(1, len(v) + 1)]
        stamps = [c["meta"]["lastUpdated"] for c in v]
        assert stamps == sorted(set(stamps))
    assert any(v[1]["subscriberId"] != v[0]["subscriberId"] for v in updated)

    orgs = {o["id"]: o for o in read_ndjson(folder / "Organization.ndjson")}
    kinds = defaultdict(list)
    for o in orgs.values():
        kinds[o["type"][0]["coding"][0]["code"]].append(o)
    hospitals = [o for o in kinds["prov"] if "partOf" not in o]
    clinics = [o for o in kinds["prov"] if "partOf" in o]
    # tiny: two GL entities (hospital plus its clinics), two clinics each
    assert len(hospitals) == 2 and len(clinics) == 4
    parents = [ref_id(c["partOf"]) for c in clinics]
    assert sorted(parents) == sorted(h["id"] for h in hospitals for _ in range(2))
    for o in kinds["prov"]:
        assert npi_is_valid(o["identifier"][0]["value"])
    payer_ids = {o["id"] for o in kinds["pay"]}
    assert {ref_id(c["payor"][0]) for c in coverages} <= payer_ids
    assert {r["payer_id"] for r in read_csv(batch(out, "rcm") / "payers.csv")} == payer_ids
    encounters = read_ndjson(folder / "Encounter.ndjson")
    assert all(ref_id(e["serviceProvider"]) in orgs for e in encounters)


def x12_segments(path: Path) -> tuple[str, list[list[str]]]:
    """The segment terminator that follows ISA16 (with its line break, if any) and the
    segments of a file."""
    text = path.read_bytes().decode("utf-8")
    terminator = text[105]
    rest = text[106:108]
    end = terminator + ("\r\n" if rest == "\r\n" else "\n" if rest[:1] == "\n" else "")
    return end, [s.split("*") for s in text.split(end) if s]


def test_each_payer_sends_835s_in_its_own_style(default: tuple[Path, dict[str, Any]]) -> None:
    """One 835 file per payer, in the payer's style: its terminator, where it names itself
    (N1*PR N104, REF*2U, TRN03 or only through the 837 claim that CLP01 answers) and the
    situational segments it sends; every file stays valid X12 (test_837_and_835_...)."""
    from billops.synth.reference import build_reference

    out, _ = default
    rcm = batch(out, "rcm")
    payers = {p["payer_id"]: p for p in read_csv(rcm / "payers.csv")}
    billed_to = {
        account: [c["payer"] for c in claims]
        for account, claims in parse_837(x12_file(out, "837")).items()
    }
    ways: dict[str, str] = {}  # payer name -> how its 835s identify it
    ends: dict[str, str] = {}
    production_date: dict[str, bool] = {}
    for path in x12_files(out, "835"):
        end, segs = x12_segments(path)
        assert all("\n" not in "*".join(s) and "\r" not in "*".join(s) for s in segs)
        names = {s[2] for s in segs if s[:2] == ["N1", "PR"]}
        assert len(names) == 1, path.name  # one payer per file
        [name] = names
        ends[name] = end
        production_date[name] = any(s[:2] == ["DTM", "405"] for s in segs)
        n1 = [s for s in segs if s[:2] == ["N1", "PR"]]
        ref2u = {s[2] for s in segs if s[:2] == ["REF", "2U"]}
        trn03 = {s[3] for s in segs if s[0] == "TRN"}
        accounts = {s[1] for s in segs if s[0] == "CLP"}
        if all(len(s) == 5 for s in n1):
            assert all(s[3] == "XV" for s in n1) and not ref2u
            [payer] = {s[4] for s in n1}
            way = "N104"
        elif ref2u:
            assert all(len(s) == 3 for s in n1)
            [payer] = ref2u
            way = "REF2U"
        elif trn03 <= set(payers):
            [payer] = trn03
            way = "TRN03"
        else:
            # TRN03 is a company id ('1' + EIN) that is no payer id: only the 837 claims that
            # the CLP01s answer tell the payer
            assert not trn03 & set(payers)
            assert all(re.fullmatch(r"1\d{9}", t) for t in trn03)
            [payer] = {p for a in accounts for p in billed_to[a]} & {
                p for p in payers if payers[p]["name"].upper() == name
            }
            way = "CLAIM"
        assert payers[payer]["name"].upper() == name
        assert all(payer in billed_to[a] for a in accounts)  # each claim was billed to it
        assert ways.setdefault(name, way) == way  # a payer keeps its style
    assert set(ways.values()) == {"N104", "REF2U", "TRN03", "CLAIM"}
    assert set(ends.values()) == {"~\n", "~", "~\r\n"}
    assert list(ends.values()).count("~\r\n") == 1
    assert set(production_date.values()) == {True, False}
    # styles come from the seed, not from the payer: another seed gives another assignment
    styles = [
        tuple(p.remit for p in build_reference(seed, 2, 2, 2026, 2026).payers)
        for seed in range(1, 6)
    ]
    assert len(set(styles)) > 1
    for payers_of_seed in (build_reference(seed, 2, 2, 2026, 2026).payers for seed in range(1, 6)):
        for p in payers_of_seed:
            if p.remit.payer_id_in == "TRN03":
                assert p.id == p.company_id and re.fullmatch(r"1\d{9}", p.id)
            else:
                assert p.id == p.key and p.company_id not in {q.id for q in payers_of_seed}


def test_non_patient_cash_on_the_cash_accounts_is_balanced_and_never_a_remittance(
    default: tuple[Path, dict[str, Any]],
) -> None:
    """Vendor payments, payroll, transfers, bank fees, interest, vendor refunds and voided
    checks on the entities' CASH accounts, with deposits of their own: balanced, no truth, and
    no reference that is an 835 trace or a patient payment id."""
    out, _ = default
    erp, rcm = batch(out, "erp"), batch(out, "rcm")
    coa = {
        (r["entity"], r["account"]): r["account_type"]
        for r in read_csv(erp / "chart_of_accounts.csv")
    }
    journals: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in read_csv(erp / "gl_journal_lines.csv"):
        journals[line["journal_id"]].append(line)
    payments = parse_835s(x12_files(out, "835"))
    traces = {p["trace"] for p in payments}
    patient_payment_ids = {p["payment_id"] for p in read_csv(rcm / "patient_payments.csv")}
    entities = {e for e, _ in coa}
    seen: dict[tuple[str, str], int] = defaultdict(int)
    descriptions: set[str] = set()
    references: set[str] = set()
    cash = 0
    for jid, lines in journals.items():
        source = lines[0]["source"]
        assert source in PATIENT_SOURCES | NON_PATIENT_SOURCES
        if source in PATIENT_SOURCES:
            continue
        entity, reference = lines[0]["entity"], lines[0]["reference"]
        assert all(x["entity"] == entity and x["reference"] == reference for x in lines)
        assert reference and lines[0]["description"]
        assert sum(cents(x["debit"]) for x in lines) == sum(cents(x["credit"]) for x in lines) > 0
        types = [coa[(entity, x["account"])] for x in lines]
        assert "CASH" in types and set(types) <= {"CASH", "OTHER"}, jid
        cash += sum(
            cents(x["debit"]) - cents(x["credit"])
            for x in lines
            if coa[(entity, x["account"])] == "CASH"
        )
        assert reference not in traces and reference not in patient_payment_ids
        seen[(entity, source)] += 1
        descriptions.add(lines[0]["description"].split()[0])
        references.add(reference)
    assert {(e, s) for e in entities for s in NON_PATIENT_SOURCES} <= set(seen)
    assert cash < 0  # the entities pay out more than the bank pays them
    # vendor runs every week, payroll every other week, fees and interest monthly
    for e in entities:
        assert seen[(e, "AP")] >= 12 and 4 <= seen[(e, "PAYROLL")] <= 6
        assert seen[(e, "BANK")] == 2
    assert {"AP", "void", "payroll", "federal", "transfer", "interest", "account"} <= descriptions
    assert any(re.fullmatch(r"\d{15}", r) for r in references)  # ACH and EFTPS numbers
    assert any(re.fullmatch(r"\d{6}", r) for r in references)  # check numbers
    # the bank: deposits of 835 payments carry their trace; the others none or their own
    others = [d for d in read_csv(erp / "bank_deposits.csv") if d["trace_number"] not in traces]
    assert others and any(d["trace_number"] == "" for d in others)
    assert any(d["trace_number"] for d in others)
    for d in others:
        assert cents(d["amount"]) > 0 and d["payer_name"] and d["bank_account"]
        assert d["trace_number"] not in patient_payment_ids
    # not defects: no truth row points at them
    truth = read_csv(out / "truth" / "defects.csv")
    assert not {r["journal_id"] for r in truth} & {
        jid for jid, lines in journals.items() if lines[0]["source"] in NON_PATIENT_SOURCES
    }
    assert not {r["trace_number"] for r in truth} & references


def test_provider_adjustments_fit_one_plb_segment() -> None:
    """pyx12 rejects a second PLB in a transaction set (it reads it as a second footer loop):
    beyond five adjustments the rest is one pair on the payment's trace, the sum unchanged."""
    from billops.synth.model import Payment, ProviderAdjustment
    from billops.synth.reference import build_reference
    from billops.synth.x12 import _provider_adjustments

    ref = build_reference(1, 1, 1, 2026, 2026)
    day = datetime(2026, 10, 2, 9)
    pay = Payment("202610020000001", ref.payers[3], ref.hospitals[0].id, day.date(), day, day)
    for n in (3, 6, 9):
        pay.plb = [ProviderAdjustment("L6", f"ICN{i}", -(i + 1) * 10) for i in range(n)]
        [plb] = _provider_adjustments(pay, ref)
        parts = plb.rstrip("~\n").split("*")
        assert len(parts) == 3 + 2 * min(n, 6)
        assert sum(cents(v) for v in parts[4::2]) == sum(a.amount for a in pay.plb)
        assert (parts[-2] == f"L6:{pay.trace}") == (n > 6)


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")  # the CMS example NPI
    assert not npi_is_valid("1234567890")


def test_diagnoses_are_billable_icd10cm_codes(default: tuple[Path, dict[str, Any]]) -> None:
    import simple_icd_10_cm as icd

    curated = {code for codes in DIAGNOSES.values() for code in codes}
    for code in curated:
        assert icd.is_valid_item(code) and icd.is_leaf(code), code
    out, _ = default
    used = {
        c["coding"][0]["code"]
        for e in read_ndjson(batch(out, "ehr") / "Encounter.ndjson")
        for c in e["reasonCode"]
    }
    assert used <= curated
    hi = {
        part.split(":")[1] for s in segments(x12_file(out, "837")) if s[0] == "HI" for part in s[1:]
    }
    assert hi <= {code.replace(".", "") for code in curated}


# ----------------------------------------------------------------------------- money


def test_clean_money_ties_out_per_account_and_in_the_gl(clean: Path) -> None:
    ehr, rcm, erp = batch(clean, "ehr"), batch(clean, "rcm"), batch(clean, "erp")
    charges: dict[str, dict[str, int]] = defaultdict(dict)
    for item in read_ndjson(ehr / "ChargeItem.ndjson"):
        charges[ref_id(item["context"])][item["id"]] = cents(item["priceOverride"]["value"])
    claims = parse_837(x12_file(clean, "837"))
    payments = parse_835s(x12_files(clean, "835"))
    assert claims and payments

    for account, account_claims in claims.items():
        primary = [c for c in account_claims if c["responsibility"] == "P"]
        current = primary[-1]
        assert current["lines"] == charges[account]  # clean: every charge billed, nothing more
        assert current["total"] == sum(current["lines"].values())
        assert [c["frequency"] for c in primary] == ["1"]
        for claim in account_claims[len(primary) :]:
            assert claim["responsibility"] == "S" and claim["lines"] == current["lines"]
            assert claim["other"]["PR"] == current["payer"] != claim["payer"]
    assert any(c["responsibility"] == "S" for cs in claims.values() for c in cs)

    remitted = account_money(payments, claims)
    for account, t in remitted.items():
        assert set(charges[account]) == t["charge_ids"]
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
        if lines[0]["source"] not in PATIENT_SOURCES:
            continue  # non-patient cash (test_non_patient_cash_...)
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

    self_pay = {
        p["payer_id"] for p in read_csv(rcm / "payers.csv") if p["payer_type"] == "SELF_PAY"
    }
    assert self_pay
    billed_to_patient: set[str] = set()
    for s in read_csv(rcm / "statements.csv"):
        if s["payer_id_on_file"] in self_pay:
            # uninsured: no claim, the statement asks for the charges less what was paid
            account = s["account_id"]
            billed_to_patient.add(account)
            assert account not in claims
            assert 0 < cents(s["amount_due"]) <= sum(charges[account].values())
            assert 0 <= patient_paid[account] <= sum(charges[account].values())
        else:
            assert 0 < cents(s["amount_due"]) <= remitted[s["account_id"]]["pr"]
    assert billed_to_patient
    # an uninsured patient's accounts are never claimed
    uninsured = {
        ref_id(c["beneficiary"])
        for c in read_ndjson(ehr / "Coverage.ndjson")
        if ref_id(c["payor"][0]) in self_pay
    }
    accounts_of = {e["id"]: ref_id(e["subject"]) for e in read_ndjson(ehr / "Encounter.ndjson")}
    assert not {a for a in claims if accounts_of[a] in uninsured}
    assert {accounts_of[a] for a in billed_to_patient} <= uninsured

    total_charges = sum(sum(c.values()) for c in charges.values())
    payer_paid = sum(c["paid"] for p in payments for c in p["claims"])  # CLP04: the AR side
    interest = -sum(p.get("plb", 0) for p in payments)  # PLB L6: paid on top, not AR
    assert interest > 0  # some commercial claims are paid after the prompt-pay limit
    contractual = sum(t["co"] for t in remitted.values())
    patient_net = sum(patient_paid.values())
    write_offs = sum(written_off.values())
    assert -by_type["GROSS_REVENUE"] == total_charges
    assert by_type["CONTRACTUAL_ALLOWANCE"] == contractual
    assert by_type["WRITE_OFF"] == write_offs
    assert by_type["OTHER"] == -interest  # prompt-payment interest income
    assert by_type["PATIENT_AR"] == (
        total_charges - payer_paid - contractual - patient_net - write_offs
    )
    traces = [p["trace"] for p in payments]
    deposits = {
        (d["trace_number"], cents(d["amount"]))
        for d in read_csv(erp / "bank_deposits.csv")
        if d["trace_number"] in traces
    }
    assert len(set(traces)) == len(traces)
    assert deposits == {(p["trace"], p["amount"]) for p in payments if p["amount"] > 0}
    assert {k: v for k, v in cash_by_reference.items() if v} == {
        p["trace"]: p["amount"] for p in payments if p["amount"] > 0
    }


def final_pr(remits: list[dict[str, Any]]) -> int:
    """What the patient owes after every payer: a secondary's PR replaces the primary's."""
    secondary = [c for c in remits if c["status"] == "2"]
    return secondary[-1]["pr"] if secondary else sum(c["pr"] for c in remits)


def account_money(
    payments: list[dict[str, Any]], claims: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Per account of clean 835s: charge (once), payer paid (primary + secondary), CO, the
    final patient responsibility; asserts each CLP balances and that a secondary's CLP
    (CLP02 = 2) answers a secondary 837 whose COB loops repeat the primary's 835."""
    out: dict[str, dict[str, Any]] = {}
    primary: dict[str, dict[str, Any]] = {}
    remits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pay in payments:
        assert pay["amount"] == sum(c["paid"] for c in pay["claims"]) - pay.get("plb", 0)
        for clp in pay["claims"]:
            account = clp["account"]
            assert account in claims and clp["status"] in ("1", "2")
            assert clp["charge"] == clp["paid"] + sum(clp["adj"].values())
            assert clp["pr"] == clp["adj"]["PR"]
            for line in clp["lines"]:
                assert line["charge"] == line["paid"] + sum(line["adj"].values())
            t = out.setdefault(account, defaultdict(int))
            if clp["status"] == "1":
                primary[account] = clp
                t["charge"] += clp["charge"]
                t["charge_ids"] = {line["charge_id"] for line in clp["lines"]}
            else:
                first = primary[account]  # a secondary pays after the primary, never alone
                [sent] = [c for c in claims[account] if c["responsibility"] == "S"]
                cob = sent["other"]
                assert cob["sbr"] == "P" and cob["paid"] == first["paid"]
                assert dict(cob["adj"]) == {g: a for g, a in first["adj"].items() if a}
                assert clp["charge"] == first["charge"] == sent["total"]
                # the primary's payment and allowance are the prior payer's impact (OA-23);
                # the secondary pays, allows or leaves to the patient what the primary left
                assert clp["adj"]["OA"] == first["charge"] - first["pr"]
                assert clp["paid"] + clp["adj"]["CO"] + clp["pr"] == first["pr"]
                assert 0 <= clp["pr"] <= first["pr"]
            t["paid"] += clp["paid"]
            t["co"] += clp["adj"]["CO"]
            remits[account].append(clp)
    for account, t in out.items():
        t["pr"] = final_pr(remits[account])
        t["secondary"] = any(c["status"] == "2" for c in remits[account])
    return out


def test_remits_balance_with_replacements_reversals_and_denials(tmp_path: Path) -> None:
    generate(
        tmp_path,
        months=2,
        defect_rate=0.2,
        seed=3,
        defect_rates={"LATE_CHARGE": 0.3, "DENIAL": 0.1},
    )
    unbalanced = {
        r["key"]
        for r in read_csv(tmp_path / "truth" / "defects.csv")
        if r["defect_type"] == "REMIT_UNBALANCED"
    }
    statuses: set[str] = set()
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    net: dict[str, int] = defaultdict(int)
    last: dict[str, int] = {}
    denied: set[str] = set()
    shared: list[list[str]] = []  # the CLP02s of the accounts with several CLPs in a payment
    takebacks: list[list[str]] = []  # the CLP02s of the payments with BPR03 = D
    for folder in sorted((tmp_path / "landing" / "rcm").iterdir()):
        for account, account_claims in parse_837(next((folder / "837").glob("*.x12"))).items():
            claims[account] += account_claims
        for pay in parse_835s(sorted((folder / "835").glob(f"remits_{folder.name}-*.x12"))):
            assert pay["amount"] == sum(c["paid"] for c in pay["claims"]) - pay.get("plb", 0)
            if pay["amount"] < 0:  # a takeback: a reversal and the corrected adjudication
                takebacks.append([c["status"] for c in pay["claims"]])
            clp01 = [c["account"] for c in pay["claims"]]
            for account in {a for a in clp01 if clp01.count(a) > 1}:
                # several claims of one account in one payment: the reversal of the paid
                # original (CLP02 = 22) first, then the replacement claim's adjudication
                shared.append([c["status"] for c in pay["claims"] if c["account"] == account])
            for clp in pay["claims"]:
                statuses.add(clp["status"])
                if clp["account"] in unbalanced:
                    continue  # the injected 835 that drops an adjustment
                assert clp["charge"] == clp["paid"] + sum(clp["adj"].values())
                for line in clp["lines"]:
                    assert line["charge"] == line["paid"] + sum(line["adj"].values())
                if clp["status"] == "4":
                    # a denial pays nothing and is never reversed: an appeal the payer
                    # overturns is paid by a later CLP02 = 1
                    denied.add(clp["account"])
                    assert clp["paid"] == 0
                    continue
                if clp["status"] == "2":
                    continue  # a secondary's CLP03 repeats the charge the primary priced
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
        frequencies = {c["frequency"] for c in claims[account]}
        if frequencies & {"2", "3", "4", "5"}:
            # interim and late-charges claims add to their claim: each is adjudicated once
            # (the last one's 835 may come after the extract)
            totals = [c["total"] for c in claims[account] if c["responsibility"] == "P"]
            assert charge in {sum(totals), sum(totals[:-1])}, (account, charge, totals)
            continue
        # a reversal cancels the earlier payment: what remains is the latest adjudication
        assert charge == last[account]
        assert charge in {c["total"] for c in claims[account]}
    assert {"1", "4", "22"} <= statuses
    # a reversal comes first, before the adjudication that follows it
    assert shared and all(st[0] == "22" != st[1] for st in shared if "22" in st)
    assert all(st[0] == "22" for st in takebacks)
    events = read_csv_all(tmp_path, "claim_events.csv")
    appealed = {e["claim_id"] for e in events if e["event_type"] == "APPEALED"}
    assert appealed and appealed <= denied
    assert appealed & set(net)  # some appeals are overturned and paid
    for path in sorted((tmp_path / "landing" / "rcm").glob("*/83?/*.x12")):
        valid, errors, _ = pyx12_validate(path)  # negative reversal amounts are valid X12
        assert errors == [] and valid, path.name


# ----------------------------------------------------------------------------- truth


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Three months at a high defect rate, so that every type is injected."""
    out = tmp_path_factory.mktemp("defective")
    return out, generate(
        out,
        months=3,
        defect_rate=0.3,
        seed=5,
        defect_rates={
            "COVERAGE_INACTIVE": 0.04,
            "STATEMENT_STALE_COVERAGE": 0.04,
            "CREDIT_BALANCE": 0.03,
            # deposits that are not one per trace (pending past the as-of time, lockbox,
            # split, late): test_edge_cases_and_look_alikes
            "EDGE_DEPOSIT_LAG": 0,
            "DEPOSIT_LAG": 0,
            "LOCKBOX": 0,
            "SPLIT_DEPOSIT": 0,
        },
    )


def landed(out: Path, system: str, name: str) -> list[dict[str, Any]]:
    """Rows of one extract over all batches of a system, in batch order."""
    rows: list[dict[str, Any]] = []
    for folder in sorted((out / "landing" / system).iterdir()):
        path = folder / name
        if path.exists():
            rows += read_ndjson(path) if name.endswith(".ndjson") else read_csv(path)
    return rows


def read_csv_all(out: Path, name: str) -> list[dict[str, str]]:
    """The rows of an RCM CSV extract over every batch."""
    return [
        row
        for folder in sorted((out / "landing" / "rcm").iterdir())
        for row in read_csv(folder / name)
    ]


def landed_x12(out: Path, kind: str) -> list[Path]:
    """The X12 files of every RCM batch, without the files re-sent from an earlier batch (they
    are named after the batch that first delivered them)."""
    return sorted(
        p
        for p in (out / "landing" / "rcm").glob(f"*/{kind}/*.x12")
        if p.parent.parent.name in p.name
    )


def test_resent_835_files_repeat_an_earlier_delivery_byte_for_byte(
    tmp_path: Path, default: tuple[Path, dict[str, Any]]
) -> None:
    summary = generate(tmp_path, cadence="daily")
    rcm = tmp_path / "landing" / "rcm"
    resent = sorted(p for p in rcm.glob("*/835/*.x12") if p.parent.parent.name not in p.name)
    assert len(resent) == summary["resent_files"] > 0
    for copy in resent:
        first = rcm / copy.stem.removeprefix("remits_").split("-")[0] / "835" / copy.name
        assert first.read_bytes() == copy.read_bytes()
        assert copy.parent.parent.name > first.parent.parent.name  # a later batch
        manifest = json.loads((copy.parent.parent / "_manifest.json").read_text())
        assert f"835/{copy.name}" in {f["path"] for f in manifest["files"]}


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


class Evidence:
    """The landed extracts of a generation, indexed for the truth checks."""

    def __init__(self, out: Path, summary: dict[str, Any]) -> None:
        self.as_of = ts(summary["as_of"])
        self.items = {i["id"]: i for i in landed(out, "ehr", "ChargeItem.ndjson")}
        self.encounters = {e["id"]: e for e in landed(out, "ehr", "Encounter.ndjson")}
        self.coverages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in landed(out, "ehr", "Coverage.ndjson"):
            self.coverages[ref_id(c["beneficiary"])].append(c)
        self.claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for path in landed_x12(out, "837"):
            for account, account_claims in parse_837(path).items():
                self.claims[account] += account_claims
        self.payments = [p for path in landed_x12(out, "835") for p in parse_835(path)]
        self.remits: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pay in self.payments:
            for clp in pay["claims"]:
                self.remits[clp["account"]].append(clp)
        self.statements = {s["statement_id"]: s for s in landed(out, "rcm", "statements.csv")}
        self.patient_payments = landed(out, "rcm", "patient_payments.csv")
        self.eligibility = landed(out, "rcm", "eligibility_checks.csv")
        self.auth = {(r["payer_id"], r["hcpcs"]) for r in landed(out, "rcm", "auth_rules.csv")}
        self.contracts = {
            (r["payer_id"], r["hcpcs"], r["effective_from"][:4]): r
            for r in landed(out, "rcm", "payer_contracts.csv")
        }
        self.journals: dict[str, list[dict[str, str]]] = defaultdict(list)
        for line in landed(out, "erp", "gl_journal_lines.csv"):
            self.journals[line["journal_id"]].append(line)
        self.coa = {
            r["account"]: r["account_type"] for r in landed(out, "erp", "chart_of_accounts.csv")
        }
        self.deposits = {
            (d["trace_number"], cents(d["amount"])) for d in landed(out, "erp", "bank_deposits.csv")
        }

    def current_coverage(self, patient: str) -> dict[str, Any]:
        """The latest version of the primary Coverage (order 1) that started last."""
        latest: dict[str, dict[str, Any]] = {}
        for c in self.coverages[patient]:
            if c.get("order", 1) == 1:
                latest[c["id"]] = c
        return max(latest.values(), key=lambda c: (c["period"]["start"], c["id"]))

    def cash_journals(self, trace: str) -> dict[str, int]:
        return {
            jid: sum(cents(x["debit"]) for x in lines if self.coa[x["account"]] == "CASH")
            for jid, lines in self.journals.items()
            if lines[0]["source"] == "REMITTANCE" and lines[0]["reference"] == trace
        }

    def expected(self, clp: dict[str, Any], payer: str) -> int:
        total = 0
        for line in clp["lines"]:
            item = self.items[line["charge_id"]]
            code = line["code"].split(":")[1]
            c = self.contracts[(payer, code, item["occurrenceDateTime"][:4])]
            if c["expected_allowed_amount"]:
                amount = cents(c["expected_allowed_amount"]) * line["units"]
            else:
                amount = int(
                    (Decimal(line["charge"]) * Decimal(c["allowed_pct_of_charge"])).quantize(
                        Decimal(1), rounding="ROUND_HALF_UP"
                    )
                )
            total += min(amount, line["charge"])
        return total


def check_truth_row(ev: Evidence, row: dict[str, str]) -> None:
    kind, key, amount = row["defect_type"], row["key"], cents(row["amount"])
    account_claims = ev.claims.get(row["account_id"], [])
    if kind in ("UNBILLED_CHARGE", "LATE_CHARGE", "DUPLICATE_CHARGE"):
        item = ev.items[key]
        assert row["charge_id"] == key and ref_id(item["context"]) == row["account_id"]
        assert amount == cents(item["priceOverride"]["value"])
        entered = ts(item["enteredDate"])
        if kind == "UNBILLED_CHARGE":
            assert all(key not in c["lines"] for c in account_claims)
            # past the billing window at the as-of time (detection's setting)
            assert entered + timedelta(days=SETTINGS.billing_window_days) <= ev.as_of
        elif kind == "LATE_CHARGE":
            window = timedelta(days=SETTINGS.late_charge_window_days)
            assert entered > account_claims[0]["submitted"] + window
            # billed on a replacement (7), or for an inpatient stay on a late-charges claim (5)
            assert any(
                c["frequency"] in ("5", "7") and key in c["lines"] for c in account_claims[1:]
            )
        else:
            twins = [
                i
                for i in ev.items.values()
                if i["id"] != key
                and i["context"] == item["context"]
                and i["code"] == item["code"]
                and i["quantity"] == item["quantity"]
                and i["priceOverride"] == item["priceOverride"]
            ]
            assert twins and all(t["enteredDate"] < item["enteredDate"] for t in twins)
        return
    if kind in (
        "DENIAL",
        "COVERAGE_MISMATCH",
        "COVERAGE_INACTIVE",
        "MISSING_PRIOR_AUTH",
        "CLAIM_NO_RESPONSE",
        "UNDERPAYMENT",
        "REMIT_UNBALANCED",
        "CREDIT_BALANCE",
    ):
        assert key == row["account_id"] == row["claim_id"] and account_claims
    claim = account_claims[-1] if account_claims else None
    remits = ev.remits.get(key, [])
    if kind == "DENIAL":
        [clp] = [
            c
            for p in ev.payments
            if p["trace"] == row["trace_number"]
            for c in p["claims"]
            if c["account"] == key
        ]
        assert clp["status"] == "4" and clp["paid"] == 0 and amount == clp["charge"]
    elif kind == "COVERAGE_MISMATCH":
        assert claim is not None
        assert claim["member"] != ev.current_coverage(row["patient_id"])["subscriberId"]
    elif kind == "COVERAGE_INACTIVE":
        coverage = ev.current_coverage(row["patient_id"])
        start = ev.encounters[key]["period"]["start"][:10]
        if "end" in coverage["period"]:
            assert coverage["period"]["end"] < start
        else:  # the EHR never recorded the end: the eligibility response says INACTIVE
            assert any(
                c["patient_id"] == row["patient_id"]
                and c["status"] == "INACTIVE"
                and c["checked_at"][:10] <= start
                for c in ev.eligibility
            )
    elif kind == "MISSING_PRIOR_AUTH":
        assert claim is not None and "G1" not in claim["refs"] and not claim.get("line_auth")
        assert any((claim["payer"], code) in ev.auth for code in claim["codes"].values())
    elif kind == "CLAIM_NO_RESPONSE":
        assert not remits and claim is not None
        window = timedelta(days=SETTINGS.follow_up_window_days)
        assert claim["submitted"] + window <= ev.as_of
    elif kind == "UNDERPAYMENT":
        [clp] = remits
        assert clp["status"] == "1" and claim is not None
        shortfall = ev.expected(clp, claim["payer"]) - clp["paid"] - clp["pr"]
        assert shortfall == amount > round(SETTINGS.underpayment_tolerance * 100)
    elif kind == "REMIT_UNBALANCED":
        clp = remits[-1]
        assert clp["charge"] - clp["paid"] - sum(clp["adj"].values()) == amount > 0
    elif kind == "CREDIT_BALANCE":
        paid = sum(cents(p["amount"]) for p in ev.patient_payments if p["account_id"] == key)
        assert paid - final_pr(remits) == amount > 0
    elif kind in ("REMIT_NOT_IN_GL", "GL_AMOUNT_MISMATCH", "DEPOSIT_MISMATCH"):
        assert key == row["trace_number"]
        [pay] = [p for p in ev.payments if p["trace"] == key]
        cash = ev.cash_journals(key)
        if kind == "REMIT_NOT_IN_GL":
            assert not cash
        elif kind == "GL_AMOUNT_MISMATCH":
            [posted] = cash.values()
            assert abs(posted - pay["amount"]) == amount > 0
        else:
            assert (key, pay["amount"]) not in ev.deposits
    elif kind == "GL_DUPLICATE_POSTING":
        cash = ev.cash_journals(row["trace_number"])
        assert len(cash) == 2 and key == row["journal_id"] == max(cash)
    elif kind == "WRITE_OFF_UNAPPROVED":
        lines = ev.journals[key]
        assert lines[0]["source"] == "WRITE_OFF" and not lines[0]["approved_by"]
        assert sum(cents(x["debit"]) for x in lines) == amount > 100_000
    elif kind in ("STATEMENT_STALE_COVERAGE", "PATIENT_BALANCE_MISMATCH"):
        s = ev.statements[key]
        assert key == row["statement_id"]
        if kind == "STATEMENT_STALE_COVERAGE":
            current = ev.current_coverage(s["patient_id"])
            assert s["member_id_on_file"] != current["subscriberId"]
        else:
            sent = s["statement_date"]
            paid = sum(
                cents(p["amount"])
                for p in ev.patient_payments
                if p["account_id"] == s["account_id"] and p["received_at"][:10] < sent
            )
            pr = final_pr(ev.remits[s["account_id"]])
            assert cents(s["amount_due"]) - (pr - paid) == amount > 0
    else:
        raise AssertionError(f"unknown defect type {kind}")


def test_every_defect_type_is_injected_with_one_truth_row_at_its_evidence(
    defective: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = defective
    rows = read_csv(out / "truth" / "defects.csv")
    assert list(rows[0]) == [
        "defect_type",
        "key",
        "account_id",
        "claim_id",
        "charge_id",
        "trace_number",
        "journal_id",
        "statement_id",
        "patient_id",
        "amount",
        "batch_id",
    ]
    ev = Evidence(out, summary)
    batches = {
        f"{s}/{b.name}" for s in ("ehr", "rcm", "erp") for b in (out / "landing" / s).iterdir()
    }
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["defect_type"]] += 1
        assert any(b.endswith("/" + row["batch_id"]) for b in batches)
        check_truth_row(ev, row)
    keys = [(r["defect_type"], r["key"]) for r in rows]
    assert len(keys) == len(set(keys))  # one truth row per defect
    assert set(counts) == set(summary["defects"])  # every type of the contract
    assert summary["defects"] == dict(counts)
    # evidence of these types appears only where the truth says so
    latest: dict[str, str] = {}  # account -> CLP02 of its latest adjudication (a denial
    for p in ev.payments:  # overturned on appeal is followed by a payment)
        for c in p["claims"]:
            if c["status"] != "22":
                latest[c["account"]] = c["status"]
    denied = {account for account, status in latest.items() if status == "4"}
    assert denied == {r["key"] for r in rows if r["defect_type"] == "DENIAL"}
    unbalanced = {
        c["account"]
        for p in ev.payments
        for c in p["claims"]
        if c["charge"] != c["paid"] + sum(c["adj"].values())
    }
    assert unbalanced == {r["key"] for r in rows if r["defect_type"] == "REMIT_UNBALANCED"}
    short = {
        p["trace"]
        for p in ev.payments
        if p["amount"] > 0 and (p["trace"], p["amount"]) not in ev.deposits
    }
    assert short == {r["key"] for r in rows if r["defect_type"] == "DEPOSIT_MISMATCH"}
    for path in [*landed_x12(out, "837"), *landed_x12(out, "835")]:
        valid, errors, _ = pyx12_validate(path)  # defects keep the files valid X12
        assert errors == [] and valid, path.name


def test_clean_output_shows_no_defect_evidence(clean: Path) -> None:
    ev = Evidence(clean, json.loads((clean / "truth" / "summary.json").read_text()))
    for account, claims in ev.claims.items():
        coverage = ev.current_coverage(ref_id(ev.encounters[account]["subject"]))
        claim = [c for c in claims if c["responsibility"] == "P"][-1]
        assert claim["member"] == coverage["subscriberId"]
        assert "end" not in coverage["period"]
        codes = claim["codes"].values()
        if any((claim["payer"], code) in ev.auth for code in codes):
            assert "G1" in claim["refs"] or claim.get("line_auth")
    signatures = [
        (
            i["context"]["reference"],
            i["code"]["coding"][0]["code"],
            i["quantity"]["value"],
            i["priceOverride"]["value"],
        )
        for i in ev.items.values()
    ]
    assert len(signatures) == len(set(signatures))  # no service charged twice
    for pay in ev.payments:
        posted = [v for v in ev.cash_journals(pay["trace"]).values() if v]
        assert posted == ([pay["amount"]] if pay["amount"] > 0 else [])
        for clp in pay["claims"]:
            if clp["status"] == "2":
                continue  # a secondary pays what the primary left (test_secondary_payers_...)
            # paid exactly at contract: paid + patient responsibility = expected allowed
            assert clp["paid"] + clp["pr"] == ev.expected(
                clp, ev.claims[clp["account"]][0]["payer"]
            )
    for s in ev.statements.values():
        assert s["member_id_on_file"] == ev.current_coverage(s["patient_id"])["subscriberId"]


@pytest.fixture(scope="module")
def with_secondary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Three clean months, so that the secondary payers' 835s come back within the horizon."""
    out = tmp_path_factory.mktemp("secondary")
    return out, generate(out, months=3, defect_rate=0, seed=2)


def test_secondary_payers_pay_after_the_primary_and_money_adds_up(
    with_secondary: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = with_secondary
    ev = Evidence(out, summary)
    remitted = account_money(ev.payments, ev.claims)
    sent = {a: c for a, cs in ev.claims.items() for c in cs if c["responsibility"] == "S"}
    assert summary["secondary_claims"] == len(sent) > 0
    paid_second = {a for a, t in remitted.items() if t["secondary"]}
    assert paid_second and paid_second <= set(sent)
    statuses = {c["status"] for p in ev.payments for c in p["claims"]}
    assert statuses == {"1", "2"}  # clean: paid as primary, then as secondary
    for account, claim in sent.items():
        patient = ref_id(ev.encounters[account]["subject"])
        [primary] = [c for c in ev.claims[account] if c["responsibility"] == "P"]
        # billed to the second Coverage (order 2) after the primary's 835 was paid
        [second] = [c for c in ev.coverages[patient] if c["order"] == 2]
        assert claim["payer"] == ref_id(second["payor"][0]) != primary["payer"]
        assert claim["member"] == second["subscriberId"]
        assert claim["other"]["PR"] == primary["payer"]
        assert claim["other"]["IL"] == primary["member"]
        assert claim["submitted"].strftime("%Y%m%d") > claim["other"]["paid_on"]
        [first] = [c for c in ev.remits[account] if c["status"] == "1"]
        assert first["pr"] > 0  # only what the primary left to the patient is crossed over
    charges: dict[str, int] = defaultdict(int)
    for item in ev.items.values():
        charges[ref_id(item["context"])] += cents(item["priceOverride"]["value"])
    paid: dict[str, int] = defaultdict(int)
    for p in ev.patient_payments:
        paid[p["account_id"]] += cents(p["amount"])
    written_off: dict[str, int] = defaultdict(int)
    by_type: dict[str, int] = defaultdict(int)  # debit - credit per account type
    for lines in ev.journals.values():
        for x in lines:
            by_type[ev.coa[x["account"]]] += cents(x["debit"]) - cents(x["credit"])
            if ev.coa[x["account"]] == "WRITE_OFF":
                written_off[x["reference"]] += cents(x["debit"])
    # the GL allowance follows both payers' CO-45 (a Medicaid secondary's included)
    assert by_type["CONTRACTUAL_ALLOWANCE"] == sum(t["co"] for t in remitted.values())
    assert any(c["status"] == "2" and c["adj"]["CO"] > 0 for p in ev.payments for c in p["claims"])
    for account, t in remitted.items():
        # charges = payer paid (primary + secondary) + contractual + patient responsibility
        assert charges[account] == t["charge"] == t["paid"] + t["co"] + t["pr"]
        assert 0 <= paid[account] + written_off[account] <= t["pr"]
    for s in ev.statements.values():
        if s["account_id"] in paid_second:  # the patient is billed after both payers paid
            assert 0 < cents(s["amount_due"]) <= remitted[s["account_id"]]["pr"]
    for pay in ev.payments:  # GL cash and the bank follow the secondary's 835 like any other
        posted = [v for v in ev.cash_journals(pay["trace"]).values() if v]
        assert posted == ([pay["amount"]] if pay["amount"] > 0 else [])
        if pay["amount"] > 0:
            assert (pay["trace"], pay["amount"]) in ev.deposits
    for path in [*landed_x12(out, "837"), *landed_x12(out, "835")]:
        valid, errors, _ = pyx12_validate(path)
        assert errors == [] and valid, path.name


def test_scales_model_the_regional_system() -> None:
    from billops.synth.params import SCALES
    from billops.synth.reference import build_reference

    for name in ("small", "medium"):
        sc = SCALES[name]
        ref = build_reference(1, sc.hospitals, sc.clinics_per_hospital, 2026, 2026)
        assert len(ref.hospitals) == 3 and len(ref.facilities) == 15
        assert {f.entity for f in ref.facilities} == {h.id for h in ref.hospitals}
        assert all(npi_is_valid(f.npi) for f in ref.facilities)
    types = [p.payer_type for p in ref.payers]
    assert {"MEDICARE", "MEDICAID"} <= set(types) and types.count("COMMERCIAL") >= 4
    assert all(p.timely_filing_days > 0 and p.adjudication_days[0] > 0 for p in ref.payers)
    assert sum(bool(p.auth_codes) for p in ref.payers) >= 4
    assert len({p.denial_tendency for p in ref.payers}) > 1


def test_large_is_twelve_months_of_medium() -> None:
    from billops.synth.params import SCALES

    medium, large = SCALES["medium"], SCALES["large"]
    assert large.months == 12 and medium.months == 1
    assert (large.hospitals, large.clinics_per_hospital, large.cadence) == (
        medium.hospitals,
        medium.clinics_per_hospital,
        medium.cadence,
    )
    # a patient visits about 1.43 times in one month and about 5.3 times in twelve
    assert 11 <= (large.patients * 5.28) / (medium.patients * 1.43) <= 13


def test_batches_are_written_while_the_simulation_runs(tmp_path: Path) -> None:
    """Streaming: the first month's batches land before the last month is simulated, so a
    long horizon never holds the whole system in memory."""
    said: list[str] = []
    generate(tmp_path / "out", scale="tiny", months=3, seed=5, progress=said.append)
    first_batch = next(i for i, m in enumerate(said) if m.startswith("wrote ehr batch"))
    last_month = said.index("simulated service month 2026-12")
    assert first_batch < said.index("simulated service month 2026-11") < last_month


def test_default_rate_injects_about_three_percent_of_accounts(
    default: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = default
    rows = read_csv(out / "truth" / "defects.csv")
    accounts = {r["account_id"] for r in rows if r["account_id"]}
    assert 0.01 <= len(accounts) / summary["accounts"] <= 0.06
    assert summary["defects"] == {
        t: sum(r["defect_type"] == t for r in rows) for t in summary["defects"]
    }


def test_clean_output_has_an_empty_truth_with_header(clean: Path) -> None:
    text = (clean / "truth" / "defects.csv").read_text()
    assert text == (
        "defect_type,key,account_id,claim_id,charge_id,trace_number,journal_id,"
        "statement_id,patient_id,amount,batch_id\n"
    )
    summary = json.loads((clean / "truth" / "summary.json").read_text())
    assert set(summary["defects"]) >= {"UNBILLED_CHARGE", "LATE_CHARGE", "DENIAL"}
    assert not any(summary["defects"].values())
    assert summary["patients"] == 200 and summary["accounts"] > 200


# ----------------------------------------------------------------------------- determinism


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def test_same_seed_is_byte_identical_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=7)
    second = generate(tmp_path / "b", seed=7)
    assert first == second
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    generate(tmp_path / "c", seed=8)
    a, c = tree(tmp_path / "a"), tree(tmp_path / "c")
    assert a.keys() == c.keys()
    assert (
        a["landing/ehr/20261101T020000Z/Patient.ndjson"]
        != (c["landing/ehr/20261101T020000Z/Patient.ndjson"])
    )


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": "huge"}, "unknown scale"),
        ({"start": "2026-13"}, "bad --start"),
        ({"start": "10/2026"}, "bad --start"),
        ({"start": "2026-1"}, "bad --start"),
        ({"months": 0}, "bad --months"),
        ({"months": -2}, "bad --months"),
        ({"seed": "abc"}, "bad --seed"),
        ({"defect_rate": 1.5}, "bad defect rate"),
        ({"defect_rates": {"TYPO": 0.1}}, "unknown defect type"),
        ({"defect_rates": {"DENIAL": -0.1}}, "bad defect rate"),
    ],
)
def test_bad_arguments_raise_billops_error(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
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


# ----------------------------------------------------------------------------- parallel parts


def test_parallel_parts_merge_into_the_same_kind_of_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """medium and large simulate their patients in parts; the merged batches are what one
    process would write: one file per kind (X12 per part), a CSV header once, ids unique,
    manifests true, and the output still a function of the arguments."""
    import dataclasses
    import hashlib

    from billops.synth import params

    monkeypatch.setitem(params.SCALES, "tiny", dataclasses.replace(params.SCALES["tiny"], parts=2))
    first = generate(tmp_path / "a", seed=11)
    assert generate(tmp_path / "b", seed=11) == first
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert not (tmp_path / "a" / ".parts").exists()
    out = tmp_path / "a"
    ehr, rcm = batch(out, "ehr"), batch(out, "rcm")
    for folder in (ehr, rcm, batch(out, "erp")):
        manifest = json.loads((folder / "_manifest.json").read_text())
        for f in manifest["files"]:
            data = (folder / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"]
            if f["path"].endswith(".csv"):
                lines = data.decode().splitlines()
                assert lines.count(lines[0]) == 1 and len(lines) - 1 == f["records"]
            elif f["path"].endswith(".ndjson"):
                assert len(data.decode().splitlines()) == f["records"]
    assert sorted(p.name for p in (rcm / "837").iterdir()) == [
        f"claims_{rcm.name}_0.x12",
        f"claims_{rcm.name}_1.x12",
    ]
    encounters = [e["id"] for e in read_ndjson(ehr / "Encounter.ndjson")]
    items = [i["id"] for i in read_ndjson(ehr / "ChargeItem.ndjson")]
    patients = {ref_id(e["subject"]) for e in read_ndjson(ehr / "Encounter.ndjson")}
    assert len(set(encounters)) == len(encounters) and len(set(items)) == len(items)
    assert {e[1] for e in encounters} == {"0", "1"}  # both parts' accounts, tagged
    assert sum(1 for _ in read_ndjson(ehr / "Organization.ndjson")) == len(
        {o["id"] for o in read_ndjson(ehr / "Organization.ndjson")}
    )  # written once
    assert len(patients) > 100 and first["accounts"] == len(encounters)
    statements = [s["statement_id"] for s in read_csv(rcm / "statements.csv")]
    assert len(set(statements)) == len(statements)
    traces = [p["trace"] for path in landed_x12(out, "835") for p in parse_835(path)]
    assert len(set(traces)) == len(traces)
    for path in [*landed_x12(out, "837"), *landed_x12(out, "835")]:
        valid, errors, _ = pyx12_validate(path)
        assert errors == [] and valid, path.name


# ----------------------------------------------------------------------------- edge cases


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Three months at the default rate with the rarer look-alikes made common."""
    out = tmp_path_factory.mktemp("edges")
    return out, generate(
        out,
        months=3,
        seed=4,
        defect_rates={
            "TAKEBACK": 0.2,
            "REPEAT_MODIFIER": 0.1,
            "PRICE_BELOW_CONTRACT": 0.1,
            "INTERIM_BILLS": 0.5,
            "EDGE_LATE_CHARGE": 0.05,
            "EDGE_UNDERPAYMENT": 0.1,
            "EDGE_NO_RESPONSE": 0.3,
            "EDGE_UNBILLED": 0.3,
            "LOCKBOX": 0.3,
            "SPLIT_DEPOSIT": 0.2,
            "GL_REPOST": 0.2,
            "WRITE_OFF_UNAPPROVED": 0.2,
            "EDGE_WRITE_OFF": 1.0,
        },
    )


def test_edge_cases_straddle_each_threshold(edges: tuple[Path, dict[str, Any]]) -> None:
    """For each threshold the data holds a case just outside it with a truth row and one just
    inside it without: both within hours (or cents) of the edge the settings draw."""
    out, summary = edges
    rows = read_csv(out / "truth" / "defects.csv")
    truth = {(r["defect_type"], r["key"]) for r in rows}
    ev = Evidence(out, summary)
    for row in rows:
        check_truth_row(ev, row)
    near = timedelta(hours=12)
    # billing window: unbilled charges entered within hours of as-of - billing_window_days
    edge = ev.as_of - timedelta(days=SETTINGS.billing_window_days)
    billed = {cid for claims in ev.claims.values() for c in claims for cid in c["lines"]}
    unbilled = [
        i
        for i in ev.items.values()
        if i["id"] not in billed and abs(ts(i["enteredDate"]) - edge) < near
    ]
    assert any(("UNBILLED_CHARGE", i["id"]) in truth for i in unbilled)
    inside = [i for i in unbilled if ts(i["enteredDate"]) > edge]
    assert inside and not any(("UNBILLED_CHARGE", i["id"]) in truth for i in inside)
    # late-charge window: charges on a claim after the first, entered near submission + window
    window = timedelta(days=SETTINGS.late_charge_window_days)
    late_in, late_out = [], []
    for claims in ev.claims.values():
        first = claims[0]
        for c in claims[1:]:
            for cid in c["lines"]:
                if cid in first["lines"]:
                    continue
                delta = ts(ev.items[cid]["enteredDate"]) - (first["submitted"] + window)
                if abs(delta) < near:
                    (late_out if delta > timedelta(0) else late_in).append(cid)
    assert late_out and all(("LATE_CHARGE", cid) in truth for cid in late_out)
    assert late_in and not any(("LATE_CHARGE", cid) in truth for cid in late_in)
    # follow-up window: unanswered claims submitted a day either side of the edge
    follow = timedelta(days=SETTINGS.follow_up_window_days)
    # the current claim: the latest original or replacement (add-ons add to it)
    unanswered = {
        account: [c for c in claims if c["frequency"] in ("1", "7")][-1]["submitted"]
        for account, claims in ev.claims.items()
        if not ev.remits.get(account) and abs(claims[0]["submitted"] + follow - ev.as_of) < 3 * near
    }
    overdue = {a for a, sub in unanswered.items() if sub + follow <= ev.as_of}
    assert overdue and all(("CLAIM_NO_RESPONSE", a) in truth for a in overdue)
    pending = set(unanswered) - overdue
    assert pending and not any(("CLAIM_NO_RESPONSE", a) in truth for a in pending)
    # underpayment tolerance: shortfalls of a few cents either side of it
    tolerance = round(SETTINGS.underpayment_tolerance * 100)
    shortfalls = {}
    for account, remits in ev.remits.items():
        if len(remits) == 1 and remits[0]["status"] == "1" and ev.claims.get(account):
            clp = remits[0]
            short = ev.expected(clp, ev.claims[account][0]["payer"]) - clp["paid"] - clp["pr"]
            if 0 < short <= tolerance + 25:
                shortfalls[account] = short
    assert any(s > tolerance for s in shortfalls.values())
    assert any(s <= tolerance for s in shortfalls.values())
    for account, short in shortfalls.items():
        assert (("UNDERPAYMENT", account) in truth) == (short > tolerance)
    # write-off approval policy: unapproved write-offs of exactly $1,000.00 and a few cents more
    write_offs = {
        jid: sum(cents(x["debit"]) for x in lines)
        for jid, lines in ev.journals.items()
        if lines[0]["source"] == "WRITE_OFF" and not lines[0]["approved_by"]
    }
    assert 100_000 in write_offs.values()
    assert any(100_000 < a < 100_100 for a in write_offs.values())
    for jid, amount in write_offs.items():
        assert (("WRITE_OFF_UNAPPROVED", jid) in truth) == (amount > 100_000)


def test_look_alikes_are_written_and_carry_no_truth(edges: tuple[Path, dict[str, Any]]) -> None:
    out, summary = edges
    rows = read_csv(out / "truth" / "defects.csv")
    truth_keys = {r["key"] for r in rows}
    ev = Evidence(out, summary)
    claims = [c for cs in ev.claims.values() for c in cs]
    frequencies = {c["frequency"] for c in claims}
    assert {"2", "4", "5"} <= frequencies  # interim bills and late-charges claims
    # a takeback: BPR03 = D, a reversal then the corrected adjudication; a negative cash
    # receipt in the GL and no deposit
    takebacks = [p for p in ev.payments if p["amount"] < 0]
    assert takebacks
    deposit_traces = {t for t, _ in ev.deposits}
    for pay in takebacks:
        assert pay["claims"][0]["status"] == "22"
        assert list(ev.cash_journals(pay["trace"]).values()) == [0]
        credits = sum(
            cents(x["credit"])
            for jid in ev.cash_journals(pay["trace"])
            for x in ev.journals[jid]
            if ev.coa[x["account"]] == "CASH"
        )
        assert credits == -pay["amount"] and pay["trace"] not in deposit_traces
        assert pay["trace"] not in truth_keys
    # repeat-procedure modifiers on a second line of the same service
    text = "".join(p.read_text() for p in landed_x12(out, "837"))
    assert re.search(r"\*HC:[A-Z0-9]{5}:(76|59|91|77)\*", text)
    # line-level authorizations (2400 REF*G1 before REF*6R)
    assert re.search(r"REF\*G1\*PA\d+~\s*REF\*6R\*", text)
    # lockbox: an untraced deposit of a payer's payments of one day; split: two of one trace
    deposits = landed(out, "erp", "bank_deposits.csv")
    traced: dict[str, int] = defaultdict(int)
    for d in deposits:
        traced[d["trace_number"]] += cents(d["amount"])
    paid = {p["trace"]: p["amount"] for p in ev.payments}
    split = [t for t in paid if sum(d["trace_number"] == t for d in deposits) == 2]
    assert split and all(traced[t] == paid[t] for t in split)
    undeposited = [t for t, a in paid.items() if a > 0 and t not in traced]
    lockbox = [d for d in deposits if not d["trace_number"] and "Bank" not in d["payer_name"]]
    assert lockbox
    # reversed and re-posted cash receipts: the reversal names its original
    reversals = [
        lines for lines in ev.journals.values() if lines[0]["description"].startswith("reversal of")
    ]
    assert reversals
    for lines in reversals:
        original = ev.journals[lines[0]["description"].split()[-1]]
        assert lines[0]["reference"] == original[0]["reference"]
        assert sorted((x["account"], x["credit"], x["debit"]) for x in lines) == sorted(
            (x["account"], x["debit"], x["credit"]) for x in original
        )
    assert undeposited  # lockboxed, pending past the as-of time, or a DEPOSIT_MISMATCH
    # reference extracts: full snapshots first, then a delta of one payer without snapshot
    manifests = [
        json.loads((b / "_manifest.json").read_text())
        for b in sorted((out / "landing" / "rcm").iterdir())
    ]
    first = {f["path"]: f for f in manifests[0]["files"]}
    for name in ("payers.csv", "payer_contracts.csv", "auth_rules.csv", "chargemaster.csv"):
        assert first[name]["snapshot"] is True
    second = {f["path"]: f for f in manifests[1]["files"]}
    for name in ("payers.csv", "payer_contracts.csv", "auth_rules.csv"):
        assert "snapshot" not in second[name]
        assert 0 < second[name]["records"] < first[name]["records"]
    for path in [*landed_x12(out, "837"), *landed_x12(out, "835")]:
        valid, errors, _ = pyx12_validate(path)  # the look-alikes keep the files valid X12
        assert errors == [] and valid, path.name
