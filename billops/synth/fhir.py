"""FHIR R4 resources of the EHR bulk export, as plain dicts in a fixed key order."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from billops.synth.address import Address
from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.landing import dump_json
from billops.synth.landing import json_string as _string
from billops.synth.model import (
    Account,
    Charge,
    CoverageVersion,
    Patient,
    SecondaryCoverage,
    Successor,
)
from billops.synth.money import as_number
from billops.synth.params import iso
from billops.synth.payers import Payer
from billops.synth.reference import (
    HCPCS_SYSTEM,
    ICD10CM_SYSTEM,
    LOCAL_SID,
    NPI_SYSTEM,
    Facility,
)

ORG_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SOPT_SYSTEM = "https://nahdo.org/sopt"
RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
VISIT_TYPE_SYSTEM = "https://billops.example.org/CodeSystem/visit-type"

Resource = dict[str, Any]


def _meta(version: int, updated: datetime) -> Resource:
    return {"versionId": str(version), "lastUpdated": iso(updated)}


def _ref(kind: str, rid: str) -> Resource:
    return {"reference": f"{kind}/{rid}"}


def _address(a: Address) -> Resource:
    return {
        "line": [a.line],
        "city": a.city,
        "state": a.state,
        "postalCode": a.zip5,
        "country": "US",
    }


def facility_organization(f: Facility, updated: datetime) -> Resource:
    res: Resource = {
        "resourceType": "Organization",
        "id": f.id,
        "meta": _meta(1, updated),
        "identifier": [{"system": NPI_SYSTEM, "value": f.npi}],
        "active": True,
        "type": [
            {
                "coding": [
                    {"system": ORG_TYPE_SYSTEM, "code": "prov", "display": "Healthcare Provider"}
                ]
            }
        ],
        "name": f.name,
        "address": [_address(f.address)],
    }
    if f.part_of:
        res["partOf"] = _ref("Organization", f.part_of)
    return res


def payer_organization(p: Payer, updated: datetime) -> Resource:
    return {
        "resourceType": "Organization",
        "id": p.id,
        "meta": _meta(1, updated),
        "identifier": [{"system": f"{LOCAL_SID}/payer-id", "value": p.id}],
        "active": True,
        "type": [{"coding": [{"system": ORG_TYPE_SYSTEM, "code": "pay", "display": "Payer"}]}],
        "name": p.name,
        "address": [_address(p.address)],
    }


def patient(p: Patient) -> Resource:
    return {
        "resourceType": "Patient",
        "id": p.id,
        "meta": _meta(1, p.registered_at),
        "identifier": [
            {
                "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                "system": f"{LOCAL_SID}/mrn",
                "value": p.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": p.family, "given": [p.given]}],
        "gender": p.gender,
        "birthDate": p.birth_date.isoformat(),
        "address": [_address(p.address)],
        "managingOrganization": _ref("Organization", p.hospital_id),
    }


def _coverage(
    p: Patient,
    cid: str,
    version: int,
    updated: datetime,
    member_id: str,
    start: date,
    end: date | None,
) -> Resource:
    period = {"start": start.isoformat()}
    if end is not None:
        period["end"] = end.isoformat()
    return {
        "resourceType": "Coverage",
        "id": cid,
        "meta": _meta(version, updated),
        "status": "active",
        "type": {"coding": [{"system": SOPT_SYSTEM, "code": p.payer.sopt}]},
        "subscriber": _ref("Patient", p.id),
        "subscriberId": member_id,
        "beneficiary": _ref("Patient", p.id),
        "relationship": {"coding": [{"system": RELATIONSHIP_SYSTEM, "code": "self"}]},
        "period": period,
        "payor": [_ref("Organization", p.payer.id)],
        "order": 1,
    }


def coverage(p: Patient, v: CoverageVersion) -> Resource:
    """A version of the patient's first Coverage (a termination sets period.end)."""
    return _coverage(
        p, p.coverage_id, v.version, v.updated_at, v.member_id, p.coverage_start, v.period_end
    )


def successor_coverage(p: Patient, s: Successor) -> Resource:
    """The Coverage that replaces the first one (a new card: new id, new member id)."""
    return _coverage(p, s.id, 1, s.created_at, s.member_id, s.start, None)


def secondary_coverage(p: Patient, s: SecondaryCoverage) -> Resource:
    """The patient's second coverage (order 2): its own payer and member id."""
    resource = _coverage(p, s.id, 1, s.created_at, s.member_id, s.start, None)
    resource["type"] = {"coding": [{"system": SOPT_SYSTEM, "code": s.payer.sopt}]}
    resource["payor"] = [_ref("Organization", s.payer.id)]
    resource["order"] = 2
    return resource


ENCOUNTER_CLASS = {
    "INPATIENT": ("IMP", "inpatient encounter"),
    "OBSERVATION": ("OBSENC", "observation encounter"),
    "EMERGENCY": ("EMER", "emergency"),
    "TELEHEALTH": ("VR", "virtual"),
}


def encounter(a: Account) -> Resource:
    code, display = ENCOUNTER_CLASS.get(a.profile, ("AMB", "ambulatory"))
    return {
        "resourceType": "Encounter",
        "id": a.id,
        "meta": _meta(1, a.end),
        "identifier": [
            {
                "type": {"coding": [{"system": V2_0203, "code": "AN"}]},
                "system": f"{LOCAL_SID}/account",
                "value": a.id,
            }
        ],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [{"coding": [{"system": VISIT_TYPE_SYSTEM, "code": a.profile}]}],
        "subject": _ref("Patient", a.patient.id),
        "period": {"start": iso(a.start), "end": iso(a.end)},
        "reasonCode": [{"coding": [{"system": ICD10CM_SYSTEM, "code": dx}]} for dx in a.diagnoses],
        "serviceProvider": _ref("Organization", a.facility.id),
    }


@lru_cache(maxsize=64)
def _encounter_kind_json(profile: str) -> str:
    code, display = ENCOUNTER_CLASS.get(profile, ("AMB", "ambulatory"))
    return (
        f'"class":{dump_json({"system": ACT_CODE, "code": code, "display": display})},'
        f'"type":{dump_json([{"coding": [{"system": VISIT_TYPE_SYSTEM, "code": profile}]}])}'
    )


_ACCOUNT_IDENTIFIER_TYPE = dump_json({"coding": [{"system": V2_0203, "code": "AN"}]})
_REASON = f'{{{{"coding":[{{{{"system":{dump_json(ICD10CM_SYSTEM)},"code":{{}}}}}}]}}}}'


def encounter_json(a: Account) -> str:
    """``encounter(a)`` as its NDJSON line (the same bytes as landing.dump_json), built
    directly: an Encounter per account is the second most numerous resource."""
    aid = _string(a.id)
    end = iso(a.end)
    reasons = ",".join([_REASON.format(_string(dx)) for dx in a.diagnoses])
    return (
        f'{{"resourceType":"Encounter","id":{aid},"meta":{{"versionId":"1",'
        f'"lastUpdated":"{end}"}},"identifier":[{{"type":{_ACCOUNT_IDENTIFIER_TYPE},'
        f'"system":"{LOCAL_SID}/account","value":{aid}}}],"status":"finished",'
        f"{_encounter_kind_json(a.profile)},"
        f'"subject":{{"reference":{_string("Patient/" + a.patient.id)}}},'
        f'"period":{{"start":"{iso(a.start)}","end":"{end}"}},'
        f'"reasonCode":[{reasons}],'
        f'"serviceProvider":{{"reference":{_string("Organization/" + a.facility.id)}}}}}'
    )


def charge_item(c: Charge) -> Resource:
    return {
        "resourceType": "ChargeItem",
        "id": c.id,
        "meta": _meta(1, c.entered_at),
        "status": "billable",
        "code": {
            "coding": [
                {
                    "system": HCPCS_SYSTEM,
                    "code": c.hcpcs,
                    "display": CHARGEMASTER[c.hcpcs].description,
                }
            ]
        },
        "subject": _ref("Patient", c.patient_id),
        "context": _ref("Encounter", c.account_id),
        "occurrenceDateTime": c.service_date.isoformat(),
        "performingOrganization": _ref("Organization", c.facility_id),
        "quantity": {"value": c.units},
        "priceOverride": {"value": as_number(c.amount), "currency": "USD"},
        "enteredDate": iso(c.entered_at),
    }


@lru_cache(maxsize=256)
def _charge_code_json(hcpcs: str) -> str:
    return dump_json(
        {
            "coding": [
                {"system": HCPCS_SYSTEM, "code": hcpcs, "display": CHARGEMASTER[hcpcs].description}
            ]
        }
    )


def charge_item_json(c: Charge) -> str:
    """``charge_item(c)`` as its NDJSON line (the same bytes as landing.dump_json), built
    directly: ChargeItems are the most numerous resource, and their free text is the
    chargemaster description, escaped once per code."""
    entered = iso(c.entered_at)
    return (
        f'{{"resourceType":"ChargeItem","id":"{c.id}","meta":{{"versionId":"1",'
        f'"lastUpdated":"{entered}"}},"status":"billable",'
        f'"code":{_charge_code_json(c.hcpcs)},'
        f'"subject":{{"reference":"Patient/{c.patient_id}"}},'
        f'"context":{{"reference":"Encounter/{c.account_id}"}},'
        f'"occurrenceDateTime":"{c.service_date.isoformat()}",'
        f'"performingOrganization":{{"reference":"Organization/{c.facility_id}"}},'
        f'"quantity":{{"value":{c.units}}},'
        f'"priceOverride":{{"value":{as_number(c.amount)!r},"currency":"USD"}},'
        f'"enteredDate":"{entered}"}}'
    )
