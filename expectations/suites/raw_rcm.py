"""Suites on the revenue-cycle system's CSV extracts: claim events, eligibility checks, patient
statements and patient payments."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings, known_event_types
from expectations.rules import between, in_set, not_before, not_null, unique
from expectations.spec import Rule, timestamps
from expectations.suites.base import EHR_ACCOUNT_NUMBERS, raw_suite

SOURCE = "rcm-workflow"


def _not_after_as_of(column: str, as_of: datetime | None, team: str) -> list[Rule]:
    if as_of is None:
        return []
    return [between(column, "warning", team, max_value=as_of, name=f"{column}_not_after_as_of")]


def claim_event_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("claim_id", "critical", "BILLING"),
        not_null("event_type", "critical", "BILLING"),
        not_null("event_ts", "critical", "BILLING"),
        unique(
            ["claim_id", "event_type", "event_ts", "_batch_id"],
            "warning",
            "DATA_ENGINEERING",
            name="event_unique_in_batch",
        ),
        not_null(
            "ehr_account_id",
            "warning",
            "BILLING",
            name="claim_id_in_ehr",
            notes="claim ids are EHR account numbers",
        ),
        in_set(
            "event_type_known",
            [True],
            "warning",
            "BILLING",
            name="event_type_known",
            notes="the event type maps to an event-log activity (setting claim_event_activities) "
            "or is one; an unknown type is logged upper-cased",
        ),
        *_not_after_as_of("event_ts", as_of, "BILLING"),
    ]


def eligibility_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("check_id", "critical", "PATIENT_ACCESS"),
        unique("check_id", "critical", "PATIENT_ACCESS"),
        not_null("patient_id", "critical", "PATIENT_ACCESS"),
        not_null("payer_id", "critical", "PATIENT_ACCESS"),
        in_set(
            "status",
            get_settings().eligibility_statuses,
            "warning",
            "PATIENT_ACCESS",
            notes="the status is one the eligibility_statuses setting allows; only INACTIVE is "
            "evidence of inactive coverage",
        ),
        not_null("checked_at", "critical", "PATIENT_ACCESS"),
        not_before("plan_end", "plan_begin", "warning", "PATIENT_ACCESS"),
        *_not_after_as_of("checked_at", as_of, "PATIENT_ACCESS"),
    ]


def statement_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("statement_id", "critical", "BILLING"),
        unique("statement_id", "critical", "BILLING"),
        not_null("account_id", "critical", "BILLING"),
        between("amount_due", "warning", "BILLING", min_value=0),
        not_null("ehr_account_id", "warning", "BILLING", name="account_id_in_ehr"),
        *_not_after_as_of("statement_date", as_of, "BILLING"),
    ]


def payment_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("payment_id", "critical", "CASH_POSTING"),
        unique("payment_id", "critical", "CASH_POSTING"),
        not_null("amount", "critical", "CASH_POSTING"),
        not_null("received_at", "critical", "CASH_POSTING"),
        not_null("method", "warning", "CASH_POSTING"),
        not_null("ehr_account_id", "warning", "CASH_POSTING", name="account_id_in_ehr"),
        *_not_after_as_of("received_at", as_of, "CASH_POSTING"),
    ]


def _prepare_eligibility(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "checked_at", "plan_begin", "plan_end")


def _prepare_events(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "event_ts")
    known = set(known_event_types())
    frame["event_type_known"] = [
        pd.isna(value) or str(value).strip().upper() in known for value in frame["event_type"]
    ]
    return frame


def _with_ehr_account(column: str) -> str:
    return f"""select t.*, e.id as ehr_account_id from {{asset}} t
               left join (select distinct id from {EHR_ACCOUNT_NUMBERS}) e on e.id = t.{column}"""


CLAIM_EVENTS = raw_suite(
    "claim_events",
    SOURCE,
    claim_event_rules,
    query=_with_ehr_account("claim_id"),
    prepare=_prepare_events,
)
ELIGIBILITY = raw_suite(
    "eligibility_checks", SOURCE, eligibility_rules, prepare=_prepare_eligibility
)
STATEMENTS = raw_suite(
    "statements",
    SOURCE,
    statement_rules,
    query=_with_ehr_account("account_id"),
    prepare=lambda f: timestamps(f, "statement_date"),
)
PATIENT_PAYMENTS = raw_suite(
    "patient_payments",
    SOURCE,
    payment_rules,
    query=_with_ehr_account("account_id"),
    prepare=lambda f: timestamps(f, "received_at"),
)

SUITES = (CLAIM_EVENTS, ELIGIBILITY, STATEMENTS, PATIENT_PAYMENTS)
