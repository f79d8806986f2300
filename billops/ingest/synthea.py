"""``billops ingest --synthea DIR``: a Synthea CSV export mapped onto the raw-zone contracts.

The export is rewritten as ordinary landing batches, then loaded by :func:`billops.ingest.ingest`,
so it gets the same checksums, ledger, atomicity and rejects as any feed:

* ehr: ``Patient`` (patients.csv), ``Organization`` (organizations.csv as providers, type
  ``prov``; payers.csv as payers, type ``pay``), ``Coverage`` (payer_transitions.csv, one per
  row and payer: primary order 1, secondary order 2), ``Encounter`` (encounters.csv; Encounter.id
  is the account id) and ``ChargeItem`` (claims_transactions.csv rows of TYPE ``CHARGE``).
* rcm: ``payers.csv`` (payer id, name, a payer type from the name, no timely-filing limit).

Synthea's claims are not X12 and its procedure codes are SNOMED CT, not HCPCS: claims, remittances
and GL are not synthesised here (docs/synthea.md says what maps and what does not). The batch
stamp and ``extracted_at`` come from the latest timestamp in the export, never the wall clock, so
mapping the same export twice writes the same batches and the second load changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.ingest.manifest import MANIFEST
from billops.ingest.runner import IngestReport, ingest

SNOMED = "http://snomed.info/sct"
# Only the columns mapped are required; Synthea versions add columns freely.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("Id", "BIRTHDATE", "FIRST", "LAST", "GENDER", "ZIP"),
    "organizations": ("Id", "NAME"),
    "payers": ("Id", "NAME"),
    "payer_transitions": (
        "PATIENT",
        "MEMBERID",
        "START_YEAR",
        "END_YEAR",
        "PAYER",
        "SECONDARY_PAYER",
    ),
    "encounters": ("Id", "START", "STOP", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS", "CODE"),
    "claims_transactions": (
        "ID",
        "PATIENTID",
        "TYPE",
        "AMOUNT",
        "FROMDATE",
        "TODATE",
        "PROCEDURECODE",
        "UNITS",
        "APPOINTMENTID",
        "PROVIDERID",
    ),
}
GOVERNMENT = ("medicare", "medicaid", "dual eligible")

Record = dict[str, str]


def read_table(folder: Path, name: str) -> Iterator[tuple[int, Record]]:
    """(row number, row) of ``<name>.csv``, every value a string; the header must hold COLUMNS."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise BillopsError(f"{path}: Synthea file missing")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS[name] if c not in (reader.fieldnames or ())]
        if missing:
            raise BillopsError(f"{path}: missing column(s) {', '.join(missing)}")
        for number, row in enumerate(reader, start=1):
            yield number, {c: (row.get(c) or "").strip() for c in COLUMNS[name]}


def _number(value: str) -> float | str | None:
    """A JSON number; a value that is not one is passed on for the loader to reject."""
    try:
        return float(Decimal(value)) if value else None
    except InvalidOperation:
        return value


def _ref(kind: str, value: str) -> dict[str, str] | None:
    return {"reference": f"{kind}/{value}"} if value else None


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def patient(row: Record) -> dict[str, Any]:
    gender = {"M": "male", "F": "female"}.get(row["GENDER"].upper(), "unknown")
    return _clean(
        {
            "resourceType": "Patient",
            "id": row["Id"],
            "birthDate": row["BIRTHDATE"],
            "gender": gender,
            "name": [{"use": "official", "family": row["LAST"], "given": [row["FIRST"]]}],
            "address": [{"postalCode": row["ZIP"]}] if row["ZIP"] else None,
        }
    )


def organization(row: Record, type_code: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": row["Id"],
        "active": True,
        "name": row["NAME"],
        "type": [{"coding": [{"code": type_code}]}],
    }


def coverages(row: Record) -> Iterator[dict[str, Any]]:
    for order, payer in ((1, row["PAYER"]), (2, row["SECONDARY_PAYER"])):
        if not payer:
            continue
        key = f"{row['PATIENT']}|{row['START_YEAR']}|{payer}|{order}"
        yield _clean(
            {
                "resourceType": "Coverage",
                "id": hashlib.sha1(key.encode()).hexdigest()[:20],
                "meta": _clean({"versionId": "1", "lastUpdated": row["START_YEAR"]}),
                "status": "active",
                "beneficiary": _ref("Patient", row["PATIENT"]),
                "payor": [_ref("Organization", payer)],
                "order": order,
                "subscriberId": row["MEMBERID"] if order == 1 else None,
                "period": _clean({"start": row["START_YEAR"], "end": row["END_YEAR"]}),
            }
        )


def encounter(row: Record) -> dict[str, Any]:
    return _clean(
        {
            "resourceType": "Encounter",
            "id": row["Id"],
            "status": "finished",
            "class": {"code": row["ENCOUNTERCLASS"]},
            "type": [{"coding": [{"system": SNOMED, "code": row["CODE"]}]}],
            "subject": _ref("Patient", row["PATIENT"]),
            "serviceProvider": _ref("Organization", row["ORGANIZATION"]),
            "period": _clean({"start": row["START"], "end": row["STOP"]}),
        }
    )


def charge_item(row: Record) -> dict[str, Any]:
    # Synthea has no charge-entry time: the charge is taken as entered when the service ends.
    # An unset TODATE is written as the epoch (1970-01-01), before FROMDATE: then FROMDATE.
    ended = max(row["FROMDATE"], row["TODATE"])  # ISO stamps of one format sort as text
    return _clean(
        {
            "resourceType": "ChargeItem",
            "id": row["ID"],
            "status": "billable",
            "code": {"coding": [{"system": SNOMED, "code": row["PROCEDURECODE"]}]},
            "quantity": {"value": _number(row["UNITS"])},
            "priceOverride": {"value": _number(row["AMOUNT"])},
            "occurrenceDateTime": row["FROMDATE"],
            "enteredDate": ended,
            "context": _ref("Encounter", row["APPOINTMENTID"]),
            "subject": _ref("Patient", row["PATIENTID"]),
            "performer": [{"actor": _ref("Practitioner", row["PROVIDERID"])}]
            if row["PROVIDERID"]
            else None,
        }
    )


def payer_type(name: str) -> str:
    lowered = name.lower()
    if lowered in ("no_insurance", "no insurance"):
        return "SELF_PAY"
    return "GOVERNMENT" if any(g in lowered for g in GOVERNMENT) else "COMMERCIAL"


def extracted_at(folder: Path) -> datetime:
    """The latest timestamp of the export (encounter ends, charge dates): the batches' as-of."""
    stamps = [r["STOP"] or r["START"] for _, r in read_table(folder, "encounters")]
    stamps += [r["TODATE"] for _, r in read_table(folder, "claims_transactions")]
    parsed = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps if s]
    if not parsed:
        raise BillopsError(f"{folder}: no encounter or charge timestamps; nothing to load")
    latest = max(parsed)
    return (latest if latest.tzinfo else latest.replace(tzinfo=UTC)).astimezone(UTC)


def _write_batch(landing: Path, system: str, at: datetime, files: dict[str, Iterable[str]]) -> Path:
    """Write one landing batch, manifest last; an existing complete batch is left as it is."""
    batch_id = at.strftime("%Y%m%dT%H%M%SZ")
    root = landing / system / batch_id
    if (root / MANIFEST).is_file():
        return root
    entries = []
    for rel, lines in files.items():
        sha, records = hashlib.sha256(), 0
        root.mkdir(parents=True, exist_ok=True)
        with (root / rel).open("w", encoding="utf-8", newline="") as handle:
            for line in lines:
                handle.write(line)
                sha.update(line.encode("utf-8"))
                records += 1
        header = rel.endswith(".csv")
        entries.append(
            {"path": rel, "sha256": sha.hexdigest(), "records": records - 1 if header else records}
        )
    manifest = {
        "system": system,
        "batch_id": batch_id,
        "extracted_at": at.isoformat().replace("+00:00", "Z"),
        "files": entries,
    }
    (root / (MANIFEST + ".tmp")).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (root / (MANIFEST + ".tmp")).replace(root / MANIFEST)
    return root


def _ndjson(resources: Iterable[dict[str, Any]]) -> Iterator[str]:
    for resource in resources:
        yield json.dumps(resource, separators=(",", ":")) + "\n"


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    for row in rows:
        yield (
            ",".join(
                '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v for v in row
            )
            + "\n"
        )


def write_landing(folder: Path, landing: Path) -> list[Path]:
    """Map the export in ``folder`` to an ehr and an rcm landing batch; returns their folders."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BillopsError(f"{folder}: Synthea export folder not found")
    for name in COLUMNS:  # every header first, so a bad export leaves no partial batch
        next(read_table(folder, name), None)
    at = extracted_at(folder)
    payers = [row for _, row in read_table(folder, "payers")]
    charges = (
        charge_item(r)
        for _, r in read_table(folder, "claims_transactions")
        if r["TYPE"] == "CHARGE"
    )
    ehr = {
        "Patient.ndjson": _ndjson(patient(r) for _, r in read_table(folder, "patients")),
        "Organization.ndjson": _ndjson(
            [
                *(organization(r, "prov") for _, r in read_table(folder, "organizations")),
                *(organization(r, "pay") for r in payers),
            ]
        ),
        "Coverage.ndjson": _ndjson(
            c for _, r in read_table(folder, "payer_transitions") for c in coverages(r)
        ),
        "Encounter.ndjson": _ndjson(encounter(r) for _, r in read_table(folder, "encounters")),
        "ChargeItem.ndjson": _ndjson(charges),
    }
    rcm = {
        "payers.csv": _csv_lines(
            [
                ["payer_id", "name", "payer_type", "timely_filing_days"],
                *([r["Id"], r["NAME"], payer_type(r["NAME"]), ""] for r in payers),
            ]
        )
    }
    return [_write_batch(landing, "ehr", at, ehr), _write_batch(landing, "rcm", at, rcm)]


def ingest_synthea(folder: Path, settings: Settings | None = None) -> IngestReport:
    """Map a Synthea CSV export into the landing zone and load it (see the module doc)."""
    settings = settings or get_settings()
    landing = Path(settings.landing)  # type: ignore[arg-type]
    write_landing(Path(folder), landing)
    return ingest(landing, settings)
