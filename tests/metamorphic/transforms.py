"""Metamorphic transforms of a landing zone (issue 21 point 9).

Each public transform takes the path of a landing zone (a copy: ``<landing>/<system>/<batch_id>/``)
and rewrites it in place into another encoding of the same health system, as real systems send
it (docs/architecture.md, landing-zone formats). Every transform recomputes the ``_manifest.json``
of the batches it touched (sha256 and records counted by billops' own readers), so the result is
a landing zone billops must load, and ``marts.billing_exceptions`` must come out the same.

The transforms are written for any landing zone of the contract (several batches per system, the
EHR's files under any bulk-export name), not only for what the generator writes; each says what
it changes in its docstring. None reads the generator's truth.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from billops.ingest.manifest import BATCH_ID, MANIFEST, FileKind, file_kind
from billops.sources.csvfiles import read_csv
from billops.sources.fhir import read_ndjson
from billops.sources.x12 import Segment, iter_segments, read_chunks, read_x12

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
# a local chargemaster code system, as an EHR names it (an OID of its own build)
LOCAL_CDM_SYSTEM = "urn:oid:1.2.840.114350.1.13.861.1.7.2.696580"
_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4c35-9a51-2f3c1f0e9b21")

Resource = dict


# ------------------------------------------------------------------------------ manifests


def _drain(reader: Iterator[object]) -> int:
    while True:
        try:
            next(reader)
        except StopIteration as stop:
            return int(stop.value)


def count_records(path: Path, kind: FileKind | None) -> int:
    """What the manifest counts for the file (CSV data rows, NDJSON non-blank lines, X12
    transaction sets), as billops' own readers count it; a file billops has no reader for is
    counted by the same rule from its suffix."""
    if kind is not None and kind.format == "ndjson":
        return _drain(read_ndjson(path, kind.name))
    if kind is not None and kind.format == "x12":
        return _drain(read_x12(path, kind.name))
    if kind is not None and kind.format == "csv":
        return _drain(read_csv(path, kind.name))
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
        return max(len(rows) - 1, 0)
    return sum(1 for line in text.splitlines() if line.strip())


def write_manifest(batch: Path, extracted_at: str | None = None) -> None:
    """(Re)write ``batch/_manifest.json`` listing every file of the folder.

    system and batch_id come from the folder; extracted_at and each file's ``snapshot`` flag are
    kept from the manifest already there (``extracted_at`` overrides; a new batch needs it)."""
    system, batch_id = batch.parent.name, batch.name
    old: dict = {}
    if (batch / MANIFEST).is_file():
        old = json.loads((batch / MANIFEST).read_text(encoding="utf-8-sig"))
    snapshots = {f["path"]: f["snapshot"] for f in old.get("files", []) if "snapshot" in f}
    files = []
    for path in sorted(p for p in batch.rglob("*") if p.is_file()):
        rel = path.relative_to(batch).as_posix()
        if rel == MANIFEST:
            continue
        entry: dict[str, object] = {
            "path": rel,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "records": count_records(path, file_kind(system, rel)),
        }
        if rel in snapshots:
            entry["snapshot"] = snapshots[rel]
        files.append(entry)
    manifest = {
        "system": system,
        "batch_id": batch_id,
        "extracted_at": extracted_at or old["extracted_at"],
        "files": files,
    }
    (batch / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def batches(landing: Path, system: str) -> list[Path]:
    """The complete batches of a system, in batch_id order."""
    root = landing / system
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def recompute_manifests(landing: Path, systems: Iterable[str] = ("ehr", "rcm", "erp")) -> None:
    for system in systems:
        for batch in batches(landing, system):
            write_manifest(batch)


# ------------------------------------------------------------------------------ FHIR NDJSON


def ndjson_files(batch: Path, resource_type: str | None = None) -> list[Path]:
    """The batch's NDJSON files of a resource type (any bulk-export name), in name order."""
    found = []
    for path in sorted(batch.glob("*.ndjson")):
        kind = file_kind("ehr", path.name)
        if kind is not None and (resource_type is None or kind.name == resource_type):
            found.append(path)
    return found


def read_resources(path: Path) -> list[Resource]:
    text = path.read_text(encoding="utf-8-sig")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_resources(path: Path, resources: list[Resource]) -> None:
    path.write_text(
        "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources), encoding="utf-8"
    )


def _rewrite_ndjson(
    landing: Path, resource_type: str, edit: Callable[[Resource], Resource | None]
) -> None:
    """Apply ``edit`` to every resource of a type in every EHR batch (None drops it)."""
    for batch in batches(landing, "ehr"):
        for path in ndjson_files(batch, resource_type):
            kept = [r for r in (edit(res) for res in read_resources(path)) if r is not None]
            write_resources(path, kept)


def all_resources(landing: Path, resource_type: str) -> list[Resource]:
    return [
        r
        for batch in batches(landing, "ehr")
        for path in ndjson_files(batch, resource_type)
        for r in read_resources(path)
    ]


def _rewrite_references(node: object, mapping: dict[str, str]) -> None:
    """Every ``{"reference": "Type/id"}`` in the tree whose target is a key of mapping."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref in mapping:
            node["reference"] = mapping[ref]
        for value in node.values():
            _rewrite_references(value, mapping)
    elif isinstance(node, list):
        for value in node:
            _rewrite_references(value, mapping)


def _coded(identifier: object, code: str) -> bool:
    if not isinstance(identifier, dict):
        return False
    codings = (identifier.get("type") or {}).get("coding") or []
    return any(c.get("code") == code and c.get("system") in (V2_0203, None) for c in codings)


def _typed_identifier(code: str, system: str, value: str) -> dict:
    return {
        "type": {"coding": [{"system": V2_0203, "code": code}]},
        "system": system,
        "value": value,
    }


def opaque_id(kind: str, old: str) -> str:
    """A stable opaque logical id (a UUID), as many EHRs' bulk exports write them."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}/{old}"))


def patient_keys(landing: Path) -> dict[str, str]:
    """Patient logical id -> patient key (the MR identifier, else the id)."""
    keys = {}
    for patient in all_resources(landing, "Patient"):
        mrn = next((i.get("value") for i in patient.get("identifier", []) if _coded(i, "MR")), None)
        keys[patient["id"]] = mrn or patient["id"]
    return keys


def _ref_id(ref: object) -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
        return ref["reference"].rsplit("/", 1)[-1]
    return None


# ------------------------------------------------------------------------------ CSV


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def rcm_rows(landing: Path, name: str) -> list[dict[str, str]]:
    return [
        row
        for batch in batches(landing, "rcm")
        if (batch / name).is_file()
        for row in read_rows(batch / name)[1]
    ]


# ------------------------------------------------------------------------------ X12


def read_segments(path: Path) -> tuple[list[Segment], str]:
    """The file's segments by billops' tokenizer (delimiters from each ISA) and the line break
    the sender wrote after each terminator ('' when none)."""
    text = path.read_text(encoding="utf-8-sig")
    segments = list(iter_segments(read_chunks(path)))
    terminator = segments[0].delimiters.segment
    newline = "\r\n" if terminator + "\r\n" in text else "\n" if terminator + "\n" in text else ""
    return segments, newline


def write_segments(path: Path, segments: list[Segment], newline: str) -> None:
    path.write_text(
        "".join(
            s.delimiters.element.join(s.elements) + s.delimiters.segment + newline for s in segments
        ),
        encoding="utf-8",
    )


def _set(seg: Segment, index: int, value: str) -> None:
    while len(seg.elements) <= index:
        seg.elements.append("")
    seg.elements[index] = value


def fix_counts(segments: list[Segment]) -> None:
    """SE01 (segments ST..SE), GE01 (sets in the group), IEA01 (groups in the interchange)."""
    st_at = sets = groups = 0
    for i, seg in enumerate(segments):
        if seg.id == "ISA":
            groups = 0
        elif seg.id == "GS":
            groups += 1
            sets = 0
        elif seg.id == "ST":
            st_at = i
            sets += 1
        elif seg.id == "SE":
            _set(seg, 1, str(i - st_at + 1))
        elif seg.id == "GE":
            _set(seg, 1, str(sets))
        elif seg.id == "IEA":
            _set(seg, 1, str(groups))


def x12_files(batch: Path, transaction: str) -> list[Path]:
    folder = batch / transaction
    return sorted(folder.glob("*.x12")) if folder.is_dir() else []


# ================================================================================ transforms


def identities_by_identifier(landing: Path) -> None:
    """Point 1: accounts and patients by identifier, with opaque FHIR logical ids.

    Encounter.id becomes a UUID. Every other encounter (in id order) keeps the account number as
    its Encounter.identifier of type AN; the others lose that identifier and reference an Account
    resource (Account.ndjson in the same batch, opaque id) whose AN identifier carries it.
    Patient.id becomes a UUID and its MR identifier carries the old id, which is what the RCM
    knows the patient by (837 REF*EA, eligibility_checks/statements/patient_payments patient_id:
    those keep the MRN). Every FHIR reference to a Patient or Encounter (subject, context,
    beneficiary, subscriber, payor, ...) follows the new logical ids."""
    encounters = sorted({e["id"] for e in all_resources(landing, "Encounter")})
    by_account = {old: i % 2 == 1 for i, old in enumerate(encounters)}  # True: via Account
    patients = {p["id"] for p in all_resources(landing, "Patient")}
    mapping = {f"Patient/{old}": f"Patient/{opaque_id('Patient', old)}" for old in patients}
    mapping |= {
        f"Encounter/{old}": f"Encounter/{opaque_id('Encounter', old)}" for old in encounters
    }

    for batch in batches(landing, "ehr"):
        accounts: list[Resource] = []
        for path in ndjson_files(batch):
            kind = file_kind("ehr", path.name)
            resources = read_resources(path)
            for res in resources:
                if kind.name == "Patient":
                    old = res["id"]
                    res["id"] = opaque_id("Patient", old)
                    others = [i for i in res.get("identifier", []) if not _coded(i, "MR")]
                    res["identifier"] = [
                        _typed_identifier("MR", "urn:oid:2.16.840.1.113883.3.9999.2", old),
                        *others,
                    ]
                elif kind.name == "Encounter":
                    old = res["id"]
                    an = [i for i in res.get("identifier", []) if _coded(i, "AN")]
                    number = an[0]["value"] if an else old
                    an_system = (
                        an[0].get("system", "urn:oid:2.16.840.1.113883.3.9999.3")
                        if an
                        else "urn:oid:2.16.840.1.113883.3.9999.3"
                    )
                    others = [i for i in res.get("identifier", []) if not _coded(i, "AN")]
                    res["id"] = opaque_id("Encounter", old)
                    if by_account[old]:
                        account_id = opaque_id("Account", number)
                        if others:
                            res["identifier"] = others
                        else:
                            res.pop("identifier", None)
                        res["account"] = [{"reference": f"Account/{account_id}"}]
                        account: Resource = {
                            "resourceType": "Account",
                            "id": account_id,
                            "identifier": [_typed_identifier("AN", an_system, number)],
                            "status": "active",
                            "subject": [dict(res["subject"])] if "subject" in res else [],
                        }
                        if "meta" in res:
                            account["meta"] = dict(res["meta"])
                        accounts.append(account)
                    else:
                        res["identifier"] = [_typed_identifier("AN", an_system, number), *others]
                _rewrite_references(res, mapping)
            write_resources(path, resources)
        for account in accounts:
            _rewrite_references(account, mapping)
        if accounts:
            write_resources(batch / "Account.ndjson", accounts)
    recompute_manifests(landing, ("ehr",))


def bulk_export_names(landing: Path) -> None:
    """Point 2: each EHR NDJSON file split into up to four files named as bulk exports write
    them: ``<Type>.ndjson``, ``<Type>.1.ndjson``, ``<Type>_000.ndjson``, ``<Type>-2.ndjson``
    (contiguous parts, in order; an empty part is not written)."""
    for batch in batches(landing, "ehr"):
        by_type: dict[str, list[Resource]] = defaultdict(list)
        for path in ndjson_files(batch):
            kind = file_kind("ehr", path.name)
            if kind.format != "ndjson":
                continue
            by_type[kind.name].extend(read_resources(path))
            path.unlink()
        for resource_type, resources in by_type.items():
            names = [f"{resource_type}{suffix}.ndjson" for suffix in ("", ".1", "_000", "-2")]
            size = -(-len(resources) // len(names)) or 1
            for i, name in enumerate(names):
                part = resources[i * size : (i + 1) * size]
                if part or i == 0:
                    write_resources(batch / name, part)
    recompute_manifests(landing, ("ehr",))


def no_line_control_numbers(landing: Path) -> None:
    """Point 3: 837s without the 2400 REF*6R (line item control number = ChargeItem.id), SE01
    fixed. An 835 echoes REF*6R only when the claim sent it, so the 835 service lines lose it
    too: charges then match their lines on account, code, modifiers, date and units."""
    for batch in batches(landing, "rcm"):
        for transaction in ("837", "835"):
            for path in x12_files(batch, transaction):
                segments, newline = read_segments(path)
                kept = [s for s in segments if not (s.id == "REF" and s[1] == "6R")]
                if len(kept) != len(segments):
                    fix_counts(kept)
                    write_segments(path, kept, newline)
    recompute_manifests(landing, ("rcm",))


def _member_id_variant(member_id: str) -> str:
    """The same member id as another system writes it: lower case, a hyphen and a space."""
    if len(member_id) < 4:
        return member_id.lower()
    third = len(member_id) // 3
    return f"{member_id[:third]}-{member_id[third : 2 * third]} {member_id[2 * third :]}".lower()


def payer_ids_crosswalked(landing: Path) -> None:
    """Point 4: the EHR's own payer ids and member-id spelling.

    Every payer Organization (type ``pay``) gets an EHR id of its own (``ehr-payer-NNN``), and
    every reference to it (Coverage.payor) follows; ``payer_crosswalk.csv`` (source_system
    ``ehr``, source_payer_id, payer_id) in the first rcm batch maps them back to the X12 payer
    ids. Coverage.subscriberId is written in lower case with a hyphen and a space (member ids
    compare without case, spaces and punctuation)."""
    payers = sorted(
        {
            org["id"]
            for org in all_resources(landing, "Organization")
            if any(c.get("code") == "pay" for t in org.get("type", []) for c in t.get("coding", []))
        }
    )
    new_ids = {old: f"ehr-payer-{i + 101:03d}" for i, old in enumerate(payers)}
    mapping = {f"Organization/{old}": f"Organization/{new}" for old, new in new_ids.items()}

    def organization(res: Resource) -> Resource:
        res["id"] = new_ids.get(res["id"], res["id"])
        _rewrite_references(res, mapping)
        return res

    def coverage(res: Resource) -> Resource:
        _rewrite_references(res, mapping)
        if isinstance(res.get("subscriberId"), str):
            res["subscriberId"] = _member_id_variant(res["subscriberId"])
        return res

    _rewrite_ndjson(landing, "Organization", organization)
    _rewrite_ndjson(landing, "Coverage", coverage)
    first = batches(landing, "rcm")[0]
    write_rows(
        first / "payer_crosswalk.csv",
        ["source_system", "source_payer_id", "payer_id"],
        [
            {"source_system": "ehr", "source_payer_id": new, "payer_id": old}
            for old, new in new_ids.items()
        ],
    )
    recompute_manifests(landing, ("ehr", "rcm"))


def _chargemaster(landing: Path) -> dict[str, list[tuple[str, Decimal]]]:
    prices: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for row in rcm_rows(landing, "chargemaster.csv"):
        prices[row["hcpcs"]].append(
            (row["effective_from"] or "0000-00-00", Decimal(row["unit_price"]))
        )
    return {code: sorted(rows) for code, rows in prices.items()}


def _is_hcpcs(coding: dict) -> bool:
    return "hcpcs" in str(coding.get("system", "")).lower()


def procedure_codings(landing: Path) -> None:
    """Point 5: ChargeItem.code lists the EHR's own chargemaster coding first and the HCPCS
    coding second; priceOverride is left out where it equals the chargemaster's unit price (the
    row in effect on the service date, rcm chargemaster.csv) times the quantity."""
    prices = _chargemaster(landing)

    def charge_item(res: Resource) -> Resource:
        codings = res.get("code", {}).get("coding", [])
        hcpcs = next((c for c in codings if _is_hcpcs(c)), None)
        if hcpcs is None:
            return res
        local = {
            "system": LOCAL_CDM_SYSTEM,
            "code": "CDM" + hashlib.sha256(hcpcs["code"].encode()).hexdigest()[:8].upper(),
            "display": f"CHARGE {hcpcs['code']}",
        }
        res["code"]["coding"] = [local, *codings]
        override = res.get("priceOverride", {}).get("value")
        quantity = res.get("quantity", {}).get("value", 1)
        service = str(
            res.get("occurrenceDateTime") or res.get("occurrencePeriod", {}).get("start", "")
        )[:10]
        in_effect = [p for start, p in prices.get(hcpcs["code"], []) if start <= service]
        if (
            override is not None
            and in_effect
            and Decimal(str(override)) == in_effect[-1] * Decimal(str(quantity))
        ):
            del res["priceOverride"]
        return res

    _rewrite_ndjson(landing, "ChargeItem", charge_item)
    recompute_manifests(landing, ("ehr",))


def _stamp(batch_id: str) -> datetime:
    return datetime.strptime(batch_id, "%Y%m%dT%H%M%SZ")


def remittances_resent(landing: Path) -> None:
    """Point 6: every 835 transaction set of the last rcm batch that has 835s is sent again, in
    a new interchange (new ISA09/ISA10/ISA13, GS04/GS05/GS06, ST02; so new file content), in a
    new rcm batch one minute later. Its extracted_at is one minute after the batch it re-sends,
    but never later than the latest extracted_at of the landing zone, so the as-of time of the
    rules does not move. Each re-sent payment must post once and raise nothing."""
    rcm = [b for b in batches(landing, "rcm") if x12_files(b, "835")]
    source = rcm[-1]
    latest = max(
        json.loads((b / MANIFEST).read_text())["extracted_at"]
        for system in ("ehr", "rcm", "erp")
        for b in batches(landing, system)
    )
    last_rcm = batches(landing, "rcm")[-1]
    stamp = _stamp(last_rcm.name) + timedelta(minutes=1)
    extracted = json.loads((source / MANIFEST).read_text())["extracted_at"]
    source_time = datetime.fromisoformat(extracted.replace("Z", "+00:00")).replace(tzinfo=None)
    latest_time = datetime.fromisoformat(latest.replace("Z", "+00:00")).replace(tzinfo=None)
    resent_at = min(source_time + timedelta(minutes=1), latest_time)
    target = landing / "rcm" / stamp.strftime("%Y%m%dT%H%M%SZ")
    assert BATCH_ID.fullmatch(target.name) and not target.exists()
    (target / "835").mkdir(parents=True)
    interchange, group, set_number = 900000001, 90001, 9001
    for path in x12_files(source, "835"):
        segments, newline = read_segments(path)
        for seg in segments:
            if seg.id == "ISA":
                _set(seg, 9, resent_at.strftime("%y%m%d"))
                _set(seg, 10, resent_at.strftime("%H%M"))
                _set(seg, 13, f"{interchange:09d}")
            elif seg.id == "IEA":
                _set(seg, 2, f"{interchange:09d}")
                interchange += 1
            elif seg.id == "GS":
                _set(seg, 4, resent_at.strftime("%Y%m%d"))
                _set(seg, 5, resent_at.strftime("%H%M"))
                _set(seg, 6, str(group))
            elif seg.id == "GE":
                _set(seg, 2, str(group))
                group += 1
            elif seg.id == "ST":
                _set(seg, 2, f"{set_number:04d}")
            elif seg.id == "SE":
                _set(seg, 2, f"{set_number:04d}")
                set_number += 1
        write_segments(target / "835" / f"resent_{path.name}", segments, newline)
    write_manifest(target, resent_at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _claims_member_ids(landing: Path) -> dict[str, set[str]]:
    """Patient key (837 REF*EA) -> every member id (NM1*IL NM109) in the HL of its claims."""
    found: dict[str, set[str]] = defaultdict(set)
    for batch in batches(landing, "rcm"):
        for path in x12_files(batch, "837"):
            segments, _ = read_segments(path)
            members: set[str] = set()
            patients: set[str] = set()

            def close(members: set[str], patients: set[str]) -> None:
                for patient in patients:
                    found[patient] |= members

            for seg in segments:
                if seg.id in ("HL", "SE"):
                    close(members, patients)
                    members, patients = set(), set()
                elif seg.id == "NM1" and seg[1] == "IL" and seg[9]:
                    members.add(seg[9])
                elif seg.id == "REF" and seg[1] == "EA" and seg[2]:
                    patients.add(seg[2])
    return found


def _self_pay_payers(landing: Path) -> set[str]:
    """X12 payer ids of type SELF_PAY (payers.csv), and the EHR ids the crosswalk maps to them."""
    own = {
        r["payer_id"] for r in rcm_rows(landing, "payers.csv") if r.get("payer_type") == "SELF_PAY"
    }
    mapped = {
        r["source_payer_id"]
        for r in rcm_rows(landing, "payer_crosswalk.csv")
        if r.get("source_system") == "ehr" and r.get("payer_id") in own
    }
    return own | mapped


def _self_paid(self_pay: set[str]) -> Callable[[Resource], bool]:
    def self_paid(cov: Resource) -> bool:
        payor = (cov.get("payor") or [None])[0]
        return (
            isinstance(payor, dict)
            and str(payor.get("reference", "")).startswith("Organization/")
            and _ref_id(payor) in self_pay
        )

    return self_paid


def _coverages_by_patient(landing: Path) -> dict[str, list[Resource]]:
    by_patient: dict[str, list[Resource]] = defaultdict(list)
    for cov in all_resources(landing, "Coverage"):
        by_patient[_ref_id(cov.get("beneficiary")) or ""].append(cov)
    return by_patient


def coverage_without_subscriber_id(landing: Path) -> None:
    """Point 7, member id: Coverage without subscriberId, where the RCM states the same member
    id for the patient everywhere (837 NM1*IL NM109 in the claims' HL, eligibility_checks
    member_id, statements member_id_on_file) and the patient has one Coverage record (not
    self-pay): the member id then comes from the claim (NM109) and nothing is lost."""
    keys = patient_keys(landing)
    self_paid = _self_paid(_self_pay_payers(landing))
    rcm_members = _claims_member_ids(landing)
    for row in rcm_rows(landing, "eligibility_checks.csv"):
        if row.get("member_id"):
            rcm_members[row["patient_id"]].add(row["member_id"])
    for row in rcm_rows(landing, "statements.csv"):
        if row.get("member_id_on_file"):
            rcm_members[row["patient_id"]].add(row["member_id_on_file"])
    bare = set()
    for patient, covs in _coverages_by_patient(landing).items():
        if len(covs) != 1 or self_paid(covs[0]):
            continue
        member = covs[0].get("subscriberId")
        seen = rcm_members.get(keys.get(patient, patient), set()) | rcm_members.get(patient, set())
        if member and seen == {member}:
            bare.add(covs[0]["id"])

    def coverage(res: Resource) -> Resource:
        if res["id"] in bare:
            del res["subscriberId"]
        return res

    _rewrite_ndjson(landing, "Coverage", coverage)
    recompute_manifests(landing, ("ehr",))


def self_pay_by_patient(landing: Path) -> None:
    """Point 7, self-pay: a Coverage whose payor is a payer of type SELF_PAY (payers.csv, or an
    EHR id the crosswalk maps to one). Every other such coverage (in id order) gets payor = the
    Patient (its beneficiary); the others are not sent at all (only where every coverage record
    of the patient is self-pay). The RCM's statements keep their payer on file."""
    self_paid = _self_paid(_self_pay_payers(landing))
    by_patient = _coverages_by_patient(landing)
    patient_of = {c["id"]: p for p, covs in by_patient.items() for c in covs}
    self_pay_ids = sorted({c["id"] for covs in by_patient.values() for c in covs if self_paid(c)})
    dropped = {
        cid
        for i, cid in enumerate(self_pay_ids)
        if i % 2 == 1 and all(self_paid(c) for c in by_patient[patient_of[cid]])
    }

    def coverage(res: Resource) -> Resource | None:
        if res["id"] in dropped:
            return None
        if self_paid(res):
            res["payor"] = [dict(res["beneficiary"])]
        return res

    _rewrite_ndjson(landing, "Coverage", coverage)
    recompute_manifests(landing, ("ehr",))


def encounters_without_period_end(landing: Path) -> None:
    """Point 7, open periods: no Encounter.period.end."""

    def encounter(res: Resource) -> Resource:
        period = res.get("period")
        if isinstance(period, dict):
            period.pop("end", None)
        return res

    _rewrite_ndjson(landing, "Encounter", encounter)
    recompute_manifests(landing, ("ehr",))


def optional_elements(landing: Path) -> None:
    """Point 7: optional is optional: coverage_without_subscriber_id, self_pay_by_patient and
    encounters_without_period_end (each says what it leaves out)."""
    coverage_without_subscriber_id(landing)
    self_pay_by_patient(landing)
    encounters_without_period_end(landing)


# Applied in this order by ``every_transform``: identities first (the others follow whatever
# ids they find), optional elements before the payer crosswalk renames the self-pay payer,
# file names last (the others read any bulk-export name, but split files are the end state).
TRANSFORMS: dict[str, Callable[[Path], None]] = {
    "identities_by_identifier": identities_by_identifier,
    "optional_elements": optional_elements,
    "payer_ids_crosswalked": payer_ids_crosswalked,
    "procedure_codings": procedure_codings,
    "no_line_control_numbers": no_line_control_numbers,
    "remittances_resent": remittances_resent,
    "bulk_export_names": bulk_export_names,
}


def every_transform(landing: Path) -> None:
    for transform in TRANSFORMS.values():
        transform(landing)
