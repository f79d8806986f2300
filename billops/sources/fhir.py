"""FHIR R4 bulk-export NDJSON: one resource per line, mapped to the columns of a ``fhir_*`` table.

The resource is kept whole (the line as delivered) in ``resource_json``. Identities are kept as
sent: the Patient's MR identifier (``mrn``), the Encounter's AN identifier (``account_number``)
and the Account it references (``account_ref_id``); staging decides the patient key and the
account number from them, and translates the logical ids that references carry. References keep only
the id ("Encounter/abc", "http://host/fhir/Encounter/abc/_history/2" and "urn:uuid:abc" all give
"abc"). Timestamps with an offset are converted to UTC. A DATE column fed by a FHIR dateTime takes
its calendar date as written; a partial date ("1974", "1974-06") gives NULL, the full value stays
in ``resource_json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from billops.raw_schema import FHIR_RESOURCES, TABLES
from billops.sources import (
    FileError,
    ReadLimits,
    RecordError,
    Reject,
    Row,
    SourceReader,
    describe_error,
)
from billops.sources.text_lines import LongLine, bounded_lines, open_text
from billops.sources.values import cast_row

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
# HL7 v2 table 0203 (identifier type): MR = medical record number, AN = account number
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# One decoder for every line (json.loads with parse_float builds a new one per call).
_DECODER = json.JSONDecoder(parse_float=Decimal)

Resource = dict[str, Any]


def reference_id(ref: object) -> str | None:
    """The id of a FHIR Reference (or of its ``reference`` string)."""
    if isinstance(ref, dict):
        ref = ref.get("reference")
    if not isinstance(ref, str) or not ref:
        return None
    tail = ref.rpartition("/")[2]
    if tail and ":" not in ref and "_history" not in ref:
        return tail  # the common "Type/id" (or a bare id)
    if ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
        return ref.split(":", 2)[2]
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-1] if parts else None


def reference_type(ref: object) -> str | None:
    """The resource type a FHIR Reference points to: its ``type``, else the segment before the id
    of its ``reference`` ("Patient/p1", ".../fhir/Patient/p1/_history/2"); None for a urn."""
    if isinstance(ref, dict):
        if isinstance(ref.get("type"), str) and ref["type"]:
            return ref["type"].rpartition("/")[2]  # a type may be given as a canonical URL
        ref = ref.get("reference")
    if not isinstance(ref, str) or not ref or ref.startswith("urn:") or ref.startswith("#"):
        return None
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else None


def identifier_of_type(resource: Resource, code: str) -> str | None:
    """The value of the resource's first identifier whose type has the v2-0203 ``code`` (a coding
    of that code without a system counts too)."""
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        codings = _get(identifier, "type", "coding")
        for coding in codings if isinstance(codings, list) else []:
            if (
                isinstance(coding, dict)
                and coding.get("code") == code
                and coding.get("system") in (IDENTIFIER_TYPE_SYSTEM, None)
                and isinstance(identifier.get("value"), str)
                and identifier["value"].strip()
            ):
                return identifier["value"].strip()
    return None


def _first_identifier(resource: Resource) -> str | None:
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        value = _get(identifier, "value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _get(obj: object, *path: str | int) -> Any:
    """obj[path[0]][path[1]]... or None when any step is missing or of the wrong kind.

    A name steps into an object, a number into an array (``path`` holds no negative numbers):
    a name on an array, a number on an object (JSON keys are text) or any step into a scalar
    (text included) gives None.
    """
    try:
        for step in path:
            kind = obj.__class__
            if kind is not dict and kind is not list:
                return None
            obj = obj[step]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None
    return obj


def _date(value: object) -> str | None:
    """The calendar date of a FHIR date/dateTime; NULL for a partial date."""
    if not isinstance(value, str):
        return value  # type: ignore[return-value]  # let the cast report the wrong kind
    return value[:10] if _FULL_DATE.match(value) else None


def _datetime(value: object) -> object:
    """A FHIR dateTime/instant for a TIMESTAMP column; NULL for a partial date."""
    if isinstance(value, str) and not _FULL_DATE.match(value):
        return None
    return value


def _meta(resource: Resource) -> dict[str, object]:
    meta = resource.get("meta")
    if meta.__class__ is not dict:
        meta = {}
    return {
        "id": resource.get("id"),
        "version_id": meta.get("versionId"),  # type: ignore[union-attr]
        "last_updated": _datetime(meta.get("lastUpdated")),  # type: ignore[union-attr]
    }


def _patient(r: Resource) -> dict[str, object]:
    names = r.get("name") if isinstance(r.get("name"), list) else []
    name = next(
        (n for n in names if isinstance(n, dict) and n.get("use") == "official"),
        names[0] if names else None,
    )
    return {
        **_meta(r),
        "family_name": _get(name, "family"),
        "given_name": _get(name, "given", 0),
        "birth_date": _date(r.get("birthDate")),
        "gender": r.get("gender"),
        "postal_code": _get(r, "address", 0, "postalCode"),
        "managing_organization_id": reference_id(r.get("managingOrganization")),
        "mrn": identifier_of_type(r, "MR"),
    }


def _coverage(r: Resource) -> dict[str, object]:
    return {
        **_meta(r),
        "status": r.get("status"),
        "patient_id": reference_id(r.get("beneficiary")),
        "payer_id": reference_id(_get(r, "payor", 0)),
        "payer_resource_type": reference_type(_get(r, "payor", 0)),
        "subscriber_id": r.get("subscriberId"),
        "relationship": _get(r, "relationship", "coding", 0, "code"),
        "coverage_order": r.get("order"),
        "period_start": _date(_get(r, "period", "start")),
        "period_end": _date(_get(r, "period", "end")),
    }


def _encounter(r: Resource) -> dict[str, object]:
    encounter_class = r.get("class")
    if isinstance(encounter_class, list):  # R5 made class a list of CodeableConcepts
        class_code = _get(encounter_class, 0, "coding", 0, "code")
    else:
        class_code = _get(encounter_class, "code")
    return {
        **_meta(r),
        "status": r.get("status"),
        "class_code": class_code,
        "type_code": _get(r, "type", 0, "coding", 0, "code"),
        "patient_id": reference_id(r.get("subject")),
        "service_provider_id": reference_id(r.get("serviceProvider")),
        "period_start": _datetime(_get(r, "period", "start")),
        "period_end": _datetime(_get(r, "period", "end")),
        "account_number": identifier_of_type(r, "AN"),
        "account_ref_id": reference_id(_get(r, "account", 0)),
    }


# Code systems of HCPCS (Level II) and CPT (HCPCS Level I): by URL or OID
_PROCEDURE_CODE_SYSTEMS = ("hcpcs", "cpt", "2.16.840.1.113883.6.285", "2.16.840.1.113883.6.12",
                           "2.16.840.1.113883.6.14")


def _procedure_code(code: object) -> object:
    """ChargeItem.code: the coding whose system is HCPCS or CPT (an EHR may list its own
    chargemaster coding first), else the first coding."""
    codings = _get(code, "coding")
    if not isinstance(codings, list):
        return None
    for coding in codings:
        system = _get(coding, "system")
        if isinstance(system, str) and any(s in system.lower() for s in _PROCEDURE_CODE_SYSTEMS):
            return _get(coding, "code")
    return _get(codings, 0, "code")


def _charge_item(r: Resource) -> dict[str, object]:
    occurrence = r.get("occurrenceDateTime") or _get(r, "occurrencePeriod", "start")
    return {
        **_meta(r),
        "status": r.get("status"),
        "hcpcs": _procedure_code(r.get("code")),
        "quantity": _get(r, "quantity", "value"),
        "price_override": _get(r, "priceOverride", "value"),
        "occurrence_date": _date(occurrence),
        "occurrence_at": _datetime(occurrence),
        "entered_date": _datetime(r.get("enteredDate")),
        "account_id": reference_id(r.get("context")),
        "patient_id": reference_id(r.get("subject")),
        "performer_id": reference_id(_get(r, "performer", 0, "actor")),
    }


def _organization(r: Resource) -> dict[str, object]:
    identifiers = r.get("identifier") if isinstance(r.get("identifier"), list) else []
    npi = next(
        (
            i.get("value")
            for i in identifiers
            if isinstance(i, dict) and i.get("system") == NPI_SYSTEM
        ),
        None,
    )
    return {
        **_meta(r),
        "active": r.get("active"),
        "name": r.get("name"),
        "type_code": _get(r, "type", 0, "coding", 0, "code"),
        "npi": npi,
        "part_of_id": reference_id(r.get("partOf")),
    }


def _account(r: Resource) -> dict[str, object]:
    return {
        **_meta(r),
        "status": r.get("status"),
        "account_number": identifier_of_type(r, "AN") or _first_identifier(r),
        "patient_id": reference_id(_get(r, "subject", 0)),
    }


MAPPERS: dict[str, Callable[[Resource], dict[str, object]]] = {
    "Patient": _patient,
    "Coverage": _coverage,
    "Encounter": _encounter,
    "ChargeItem": _charge_item,
    "Organization": _organization,
    "Account": _account,
}


def map_resource(resource: object, resource_type: str, original: str) -> dict[str, object]:
    """Typed row values of a resource of ``resource_type``; a RecordError says why not."""
    if not isinstance(resource, dict):
        raise RecordError(f"expected a JSON object, found a JSON {type(resource).__name__}")
    found = resource.get("resourceType")
    if found != resource_type:
        raise RecordError(f"resourceType is {found!r}, expected {resource_type!r} in this file")
    if not isinstance(resource.get("id"), str) or not resource["id"]:
        raise RecordError("resource has no id")
    table = FHIR_RESOURCES[resource_type]
    values = MAPPERS[resource_type](resource)
    values["resource_json"] = original
    return cast_row(values, TABLES[table.name].columns)


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit`` (brackets inside
    strings do not count). Checked before decoding, so a hostile line cannot exhaust the stack."""
    if text.count("{") + text.count("[") <= limit:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark == "{" or mark == "[":
            depth += 1
            if depth > limit:
                return True
        elif mark == "}" or mark == "]":
            depth -= 1
    return False


def read_ndjson(
    source: Path | BinaryIO, resource_type: str, limits: ReadLimits | None = None
) -> SourceReader:
    """Reader of one ``<ResourceType>.ndjson`` file; returns the number of non-blank lines.

    A line longer than ``limits.max_record_bytes`` or nested deeper than
    ``limits.max_json_depth``, and any error while reading a line, rejects that line alone.
    """
    limits = limits or ReadLimits.from_settings()
    table = FHIR_RESOURCES[resource_type].name
    records = number = 0
    try:
        with open_text(source) as handle:
            for number, line in enumerate(bounded_lines(handle, limits.max_record_bytes), 1):
                if isinstance(line, LongLine):
                    records += 1
                    yield Reject(number, limits.too_long_reason(), line.start)
                    continue
                text = line.rstrip("\r\n")
                if not text.strip():
                    continue
                records += 1
                yield _read_line(text, number, table, resource_type, limits)
    except UnicodeDecodeError as exc:
        raise FileError(f"not valid UTF-8 after line {number}") from exc
    return records


def _read_line(
    text: str, number: int, table: str, resource_type: str, limits: ReadLimits
) -> Row | Reject:
    if nested_deeper_than(text, limits.max_json_depth):
        return Reject(number, f"JSON nested deeper than {limits.max_json_depth} levels", text)
    try:
        resource = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return Reject(number, f"invalid JSON ({exc.msg} at column {exc.colno})", text)
    except (RecursionError, ValueError, MemoryError) as exc:
        return Reject(number, f"invalid JSON ({describe_error(exc)})", text)
    try:
        return Row(table, number, map_resource(resource, resource_type, text))
    except RecordError as exc:
        return Reject(number, str(exc), text)
    except Exception as exc:  # whatever a hostile line causes rejects that line alone
        return Reject(number, f"unreadable resource ({describe_error(exc)})", text)
