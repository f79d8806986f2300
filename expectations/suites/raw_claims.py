"""Suites on the submitted claims, X12 837P/837I: claims, service lines and diagnoses."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings
from billops.sources.x12 import DIAGNOSIS_QUALIFIERS as X12_DIAGNOSIS_QUALIFIERS
from expectations.rules import (
    between,
    icd10cm,
    in_set,
    not_before,
    not_null,
    npi,
    procedure_code_format,
    unique,
    zero,
)
from expectations.spec import Rule, cents, timestamps
from expectations.suites.base import (
    EHR_ACCOUNT_NUMBERS,
    X12_VALIDATION_JOIN,
    raw_suite,
    x12_file_not_invalid,
)

SOURCE = "rcm-837"
# The HI qualifiers the 837 reader maps (billops.sources.x12): one list for both.
DIAGNOSIS_QUALIFIERS = sorted(X12_DIAGNOSIS_QUALIFIERS)
# One claim is one (file, transaction set, account); replacements arrive in later files.
CLAIM_KEY = ("account_id", "interchange_control_number", "st_control_number")


def claim_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("account_id", "critical", "BILLING"),
        unique(
            ["_batch_id", "_file", *CLAIM_KEY],
            "critical",
            "DATA_ENGINEERING",
            name="claim_unique_in_file",
        ),
        npi("billing_provider_npi", "critical", "BILLING"),
        not_null("payer_id", "critical", "PATIENT_ACCESS"),
        not_null("member_id", "critical", "PATIENT_ACCESS"),
        between("total_charge", "critical", "BILLING", min_value=0),
        in_set(
            "claim_frequency_code",
            get_settings().claim_frequency_codes,
            "warning",
            "BILLING",
            notes="CLM05-3 is a frequency the claim_frequency_codes setting allows",
        ),
        zero(
            "total_minus_lines_cents",
            "critical",
            "BILLING",
            name="total_charge_equals_lines",
            notes="CLM02 equals the sum of the claim's service-line charges",
        ),
        not_before("statement_to", "statement_from", "warning", "BILLING"),
        x12_file_not_invalid(),
        not_null(
            "ehr_account_id",
            "warning",
            "BILLING",
            name="account_id_in_ehr",
            notes="CLM01 is an EHR Encounter (patient account)",
        ),
    ]
    if as_of is not None:
        found.append(
            between(
                "submitted_at",
                "warning",
                "BILLING",
                max_value=as_of,
                name="submitted_at_not_after_as_of",
            )
        )
    return found


def line_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("account_id", "critical", "BILLING"),
        unique(
            ["_batch_id", "_file", "st_control_number", "account_id", "line_number"],
            "critical",
            "DATA_ENGINEERING",
            name="line_unique_in_claim",
        ),
        in_set(
            "charge_id_known",
            [True],
            "warning",
            "BILLING",
            name="charge_id_in_ehr",
            notes="a line's REF*6R, when sent (it is optional), is a ChargeItem id in the EHR; "
            "without it the line matches its charge on account, code, modifiers, date and units",
        ),
        procedure_code_format(),
        between("charge_amount", "critical", "BILLING", min_value=0),
        between("units", "critical", "CODING", min_value=0, strict_min=True),
    ]
    if as_of is not None:
        found.append(
            between(
                "service_date",
                "warning",
                "CODING",
                max_value=as_of,
                name="service_date_not_after_as_of",
            )
        )
    return found


def diagnosis_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("code", "critical", "CODING"),
        icd10cm("code", "critical", "CODING"),
        icd10cm("code", "warning", "CODING", billable=True),
        in_set("qualifier", DIAGNOSIS_QUALIFIERS, "warning", "CODING"),
        between(
            "sequence",
            "warning",
            "CODING",
            min_value=1,
            max_value=12,
            notes="an 837 claim carries at most 12 diagnosis codes",
        ),
        unique(
            ["_batch_id", "_file", "st_control_number", "account_id", "sequence"],
            "critical",
            "DATA_ENGINEERING",
            name="diagnosis_unique_in_claim",
        ),
    ]


def _prepare_claims(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "submitted_at", "statement_from", "statement_to")
    frame["total_minus_lines_cents"] = cents(frame["total_charge"]) - cents(frame["lines_total"])
    return frame


def _prepare_lines(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "service_date")


CLAIMS = raw_suite(
    "x12_claims",
    "rcm-837",
    claim_rules,
    prepare=_prepare_claims,
    keys=("account_id", "st_control_number"),
    query="""with lines as (
                 select _batch_id, _file, st_control_number, account_id,
                        sum(charge_amount) as lines_total
                 from raw.x12_claim_lines group by all)
             select c.*, coalesce(l.lines_total, 0) as lines_total, e.id as ehr_account_id,
                    coalesce(v.status, 'NOT_RECORDED') as x12_validation_status
             from {asset} c
             left join lines l using (_batch_id, _file, st_control_number, account_id)
             left join (select distinct id from """
    + EHR_ACCOUNT_NUMBERS
    + """) e on e.id = c.account_id
             """
    + X12_VALIDATION_JOIN.format(alias="c"),
)
CLAIM_LINES = raw_suite(
    "x12_claim_lines",
    SOURCE,
    line_rules,
    prepare=_prepare_lines,
    keys=("account_id", "line_number", "charge_id"),
    query="""select l.*, (l.charge_id is null or e.id is not null) as charge_id_known
             from {asset} l
             left join (select distinct id from raw.fhir_charge_item) e on e.id = l.charge_id""",
)
DIAGNOSES = raw_suite(
    "x12_claim_diagnoses", SOURCE, diagnosis_rules, keys=("account_id", "sequence", "code")
)

SUITES = (CLAIMS, CLAIM_LINES, DIAGNOSES)
