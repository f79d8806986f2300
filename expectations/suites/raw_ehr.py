"""Suites on the EHR's FHIR R4 bulk export: Patient, Coverage, Encounter, ChargeItem, Organization,
Account (where sent)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from expectations.rules import (
    between,
    in_set,
    not_before,
    not_null,
    npi,
    procedure_code_format,
    unique,
)
from expectations.spec import Rule, timestamps
from expectations.suites.base import raw_suite

SOURCE = "ehr"
FHIR_GENDERS = ["male", "female", "other", "unknown"]
ENCOUNTER_STATUSES = [
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
]
COVERAGE_STATUSES = ["active", "cancelled", "draft", "entered-in-error"]
ORGANIZATION_TYPES = [
    "prov",
    "pay",
    "dept",
    "team",
    "govt",
    "ins",
    "edu",
    "reli",
    "crs",
    "cg",
    "bus",
    "other",
]


def _not_after_as_of(column: str, as_of: datetime | None, team: str) -> list[Rule]:
    """A record dated after the extract that carried it is a clock or feed defect."""
    if as_of is None:
        return []
    return [between(column, "warning", team, max_value=as_of, name=f"{column}_not_after_as_of")]


def patient_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "PATIENT_ACCESS"),
        unique(["id", "_batch_id"], "critical", "DATA_ENGINEERING", name="id_unique_in_batch"),
        in_set("gender", FHIR_GENDERS, "warning", "PATIENT_ACCESS"),
        between(
            "birth_date",
            "warning",
            "PATIENT_ACCESS",
            min_value=datetime(1900, 1, 1),
            name="birth_date_after_1900",
        ),
        *_not_after_as_of("birth_date", as_of, "PATIENT_ACCESS"),
    ]


def coverage_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "PATIENT_ACCESS"),
        unique(["id", "version_id"], "critical", "DATA_ENGINEERING", name="id_version_unique"),
        not_null("patient_id", "critical", "PATIENT_ACCESS"),
        not_null("payer_id", "critical", "PATIENT_ACCESS"),
        # Coverage.subscriberId is optional in FHIR (the claim's NM109 then gives the member id),
        # and a self-pay Coverage (payor = the Patient) has none: worth a look, never a hold.
        not_null(
            "subscriber_id",
            "warning",
            "PATIENT_ACCESS",
            notes="optional: without it the member id comes from the claim (NM109)",
        ),
        in_set("status", COVERAGE_STATUSES, "warning", "PATIENT_ACCESS"),
        not_before("period_end", "period_start", "warning", "PATIENT_ACCESS"),
        not_null(
            "payer_in_reference",
            "warning",
            "PATIENT_ACCESS",
            name="payer_id_known",
            notes="the payer is listed in the payers reference extract",
        ),
    ]


def encounter_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "PATIENT_ACCESS"),
        unique(["id", "_batch_id"], "critical", "DATA_ENGINEERING", name="id_unique_in_batch"),
        not_null("patient_id", "critical", "PATIENT_ACCESS"),
        not_null(
            "service_provider_id",
            "critical",
            "PATIENT_ACCESS",
            notes="the facility decides the GL entity of the account",
        ),
        in_set("status", ENCOUNTER_STATUSES, "warning", "PATIENT_ACCESS"),
        not_before("period_end", "period_start", "warning", "PATIENT_ACCESS"),
        *_not_after_as_of("period_start", as_of, "PATIENT_ACCESS"),
    ]


def charge_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "BILLING", name="charge_id_not_null"),
        # Raw keeps every batch's version of a charge, so an id is unique within its batch only.
        unique(["id", "_batch_id"], "critical", "BILLING", name="charge_id_unique_in_batch"),
        not_null("account_id", "critical", "PATIENT_ACCESS"),
        not_null("hcpcs", "critical", "CODING"),
        procedure_code_format(),
        between("quantity", "critical", "CODING", min_value=0, strict_min=True),
        between("price_override", "critical", "BILLING", min_value=0),
        not_before(
            "entered_date",
            "occurrence_date",
            "warning",
            "CODING",
            name="entered_not_before_service",
        ),
        *(
            [
                between(
                    "entered_date",
                    "warning",
                    "BILLING",
                    max_value=as_of,
                    name="entered_not_after_as_of",
                )
            ]
            if as_of is not None
            else []
        ),
    ]


def organization_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "DATA_ENGINEERING"),
        unique(["id", "_batch_id"], "critical", "DATA_ENGINEERING", name="id_unique_in_batch"),
        in_set("type_code", ORGANIZATION_TYPES, "warning", "DATA_ENGINEERING"),
        npi("npi", "critical", "BILLING"),
    ]


def account_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("id", "critical", "PATIENT_ACCESS"),
        unique(["id", "_batch_id"], "critical", "DATA_ENGINEERING", name="id_unique_in_batch"),
        not_null(
            "account_number",
            "warning",
            "PATIENT_ACCESS",
            notes="without an identifier the Encounter's own id is the account number",
        ),
    ]


def _prepare_patient(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "birth_date")


def _prepare_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "period_start", "period_end")


def _prepare_encounter(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "period_start", "period_end")


def _prepare_charge(frame: pd.DataFrame) -> pd.DataFrame:
    """Both dates as timestamps: a charge entered any time on the service day is not early."""
    return timestamps(frame, "entered_date", "occurrence_date")


PATIENT = raw_suite("fhir_patient", SOURCE, patient_rules, prepare=_prepare_patient)
COVERAGE = raw_suite(
    "fhir_coverage",
    SOURCE,
    coverage_rules,
    prepare=_prepare_coverage,
    # a self-pay Coverage's payor is the Patient (or a RelatedPerson): no payer to look up
    query="""select c.*, coalesce(p.payer_id, case when c.payer_resource_type in
                 ('Patient', 'RelatedPerson') then c.payer_id end) as payer_in_reference
             from (select * exclude (resource_json) from {asset}) c
             left join (select distinct payer_id from raw.payers) p using (payer_id)""",
)
ENCOUNTER = raw_suite("fhir_encounter", SOURCE, encounter_rules, prepare=_prepare_encounter)
CHARGE_ITEM = raw_suite("fhir_charge_item", SOURCE, charge_rules, prepare=_prepare_charge)
ORGANIZATION = raw_suite("fhir_organization", SOURCE, organization_rules)
ACCOUNT = raw_suite("fhir_account", SOURCE, account_rules)

SUITES = (PATIENT, COVERAGE, ENCOUNTER, CHARGE_ITEM, ORGANIZATION, ACCOUNT)
