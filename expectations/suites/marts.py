"""Suites on the marts other parts rely on: claims, remittances, exceptions, tie-outs, the AR
rollforward, the event log and (when built) the monthly KPIs."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings, known_activities
from billops.taxonomy import EXCEPTION_TYPES, WORK_QUEUES
from expectations.rules import PERIOD, between, in_set, matches, not_before, not_null, unique, zero
from expectations.spec import Rule, cents, timestamps
from expectations.suites.base import mart_suite

SOURCE_SYSTEMS = ["ehr", "rcm", "erp"]
BUSINESS_TEAMS = sorted(WORK_QUEUES)


def claim_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("claim_key", "critical", "DATA_ENGINEERING"),
        unique("claim_key", "critical", "DATA_ENGINEERING"),
        not_null("account_id", "critical", "BILLING"),
        in_set(
            "current_claims",
            [1],
            "critical",
            "BILLING",
            name="one_current_claim_per_account",
            notes="a replacement supersedes the original: one current claim per account",
        ),
        not_null("payer_id", "critical", "PATIENT_ACCESS"),
        not_null("entity", "critical", "FINANCE"),
        not_null("submitted_at", "critical", "BILLING"),
        between("total_charge", "critical", "BILLING", min_value=0),
        in_set(
            "claim_frequency_code", get_settings().claim_frequency_codes, "warning", "BILLING"
        ),
        not_before(
            "submitted_at",
            "service_date",
            "warning",
            "BILLING",
            name="submitted_not_before_service",
        ),
    ]


def remittance_claim_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("remit_claim_key", "critical", "DATA_ENGINEERING"),
        unique("remit_claim_key", "critical", "DATA_ENGINEERING"),
        not_null("trace_number", "critical", "CASH_POSTING"),
        not_null("account_id", "critical", "CASH_POSTING"),
        not_null("entity", "critical", "FINANCE"),
        not_null("paid_date", "warning", "CASH_POSTING"),
        zero(
            "charge_minus_paid_adjusted_cents",
            "warning",
            "CASH_POSTING",
            name="charge_equals_paid_plus_adjustments",
            notes="charge = paid + contractual + patient + other adjustments",
        ),
    ]


def ehr_payer_id_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("payer_id", "critical", "DATA_ENGINEERING"),
        not_null(
            "x12_payer_id",
            "warning",
            "PATIENT_ACCESS",
            name="ehr_payer_id_mapped",
            notes="every EHR payer id maps to an X12 payer id (payer_crosswalk.csv, or equal "
            "ids); each failing row is one unmapped id with the claims it affects",
        ),
    ]


def exception_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("exception_id", "critical", "DATA_ENGINEERING"),
        unique("exception_id", "critical", "DATA_ENGINEERING"),
        in_set("exception_type", EXCEPTION_TYPES, "critical", "DATA_ENGINEERING"),
        not_null("exception_key", "critical", "DATA_ENGINEERING"),
        in_set(
            "owner_team",
            BUSINESS_TEAMS,
            "critical",
            "DATA_ENGINEERING",
            notes="an exception without a known owner team is routed to no work queue",
        ),
        not_null("status", "critical", "DATA_ENGINEERING"),
        between("amount_at_risk", "warning", "FINANCE", min_value=0),
        between("age_days", "warning", "DATA_ENGINEERING", min_value=0),
    ]


def summary_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(["entity", "period"], "critical", "FINANCE", name="entity_period_unique"),
        not_null("entity", "critical", "FINANCE"),
        matches("period", PERIOD, "critical", "FINANCE"),
        zero(
            "charge_variance_check_cents",
            "critical",
            "FINANCE",
            name="charge_to_claim_variance_is_charged_minus_billed",
            notes="the variance column is the difference of the amounts it reconciles",
        ),
    ]


def rollforward_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(["entity", "period"], "critical", "FINANCE", name="entity_period_unique"),
        matches("period", PERIOD, "critical", "FINANCE"),
        zero(
            "rollforward_gap_cents",
            "critical",
            "FINANCE",
            name="ending_ar_rolls_forward",
            notes="ending = beginning + charges - payments - adjustments - write-offs + refunds",
        ),
        zero(
            "variance_check_cents",
            "critical",
            "FINANCE",
            name="variance_is_ending_minus_gl",
            notes="variance = ending AR (billing) - AR balance in the GL",
        ),
        zero(
            "variance_cents",
            "warning",
            "FINANCE",
            name="billing_ar_ties_to_gl",
            notes="the billing AR and the GL AR agree",
        ),
    ]


def event_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("case_id", "critical", "DATA_ENGINEERING"),
        not_null("ts", "critical", "DATA_ENGINEERING"),
        in_set(
            "activity",
            known_activities(),
            "warning",
            "DATA_ENGINEERING",
            notes="the event-log activities of the contract or of the claim_event_activities "
            "setting; an unknown claim event type is logged upper-cased",
        ),
        in_set("source_system", SOURCE_SYSTEMS, "critical", "DATA_ENGINEERING"),
        unique(
            ["case_id", "event_order"],
            "warning",
            "DATA_ENGINEERING",
            name="event_order_unique_in_case",
        ),
    ]
    if as_of is not None:
        found.append(
            between("ts", "warning", "DATA_ENGINEERING", max_value=as_of, name="ts_not_after_as_of")
        )
    return found


def kpi_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["entity", "payer_id", "period"],
            "critical",
            "FINANCE",
            name="entity_payer_period_unique",
        ),
        not_null("entity", "critical", "FINANCE"),
        matches("period", PERIOD, "critical", "FINANCE"),
    ]


def _prepare_claims(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "submitted_at", "service_date")
    current = frame["is_current"].fillna(False).astype(int)
    frame["current_claims"] = current.groupby(frame["account_id"].fillna("")).transform("sum")
    return frame


def _prepare_remittance_claims(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "paid_date")
    frame["charge_minus_paid_adjusted_cents"] = (
        cents(frame["charge_amount"])
        - cents(frame["paid_amount"])
        - cents(frame["contractual_adjustment_amount"])
        - cents(frame["patient_adjustment_amount"])
        - cents(frame["other_adjustment_amount"])
    )
    return frame


def _prepare_summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["charge_variance_check_cents"] = (
        cents(frame["charge_to_claim_variance"])
        - cents(frame["charged_amount"])
        + cents(frame["billed_amount"])
    )
    return frame


def _prepare_rollforward(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    c = {
        col: cents(frame[col])
        for col in (
            "beginning_ar",
            "charges",
            "payer_payments",
            "patient_payments",
            "contractual_adjustments",
            "write_offs",
            "refunds",
            "ending_ar",
            "gl_ar_balance",
            "variance",
        )
    }
    frame["rollforward_gap_cents"] = c["ending_ar"] - (
        c["beginning_ar"]
        + c["charges"]
        - c["payer_payments"]
        - c["patient_payments"]
        - c["contractual_adjustments"]
        - c["write_offs"]
        + c["refunds"]
    )
    frame["variance_check_cents"] = c["variance"] - (c["ending_ar"] - c["gl_ar_balance"])
    frame["variance_cents"] = c["variance"]
    return frame


CLAIMS = mart_suite(
    "fct_claims",
    (
        "claim_key",
        "account_id",
        "claim_frequency_code",
        "is_current",
        "payer_id",
        "entity",
        "service_date",
        "submitted_at",
        "total_charge",
    ),
    claim_rules,
    keys=("claim_key", "account_id"),
    prepare=_prepare_claims,
)
REMITTANCE_CLAIMS = mart_suite(
    "fct_remittance_claims",
    (
        "remit_claim_key",
        "trace_number",
        "account_id",
        "entity",
        "charge_amount",
        "paid_amount",
        "contractual_adjustment_amount",
        "patient_adjustment_amount",
        "other_adjustment_amount",
        "paid_date",
    ),
    remittance_claim_rules,
    keys=("trace_number", "account_id"),
    prepare=_prepare_remittance_claims,
)
EXCEPTIONS = mart_suite(
    "billing_exceptions",
    (
        "exception_id",
        "exception_type",
        "exception_key",
        "owner_team",
        "status",
        "amount_at_risk",
        "age_days",
    ),
    exception_rules,
    keys=("exception_id", "exception_type", "exception_key"),
)
RECONCILIATION_SUMMARY = mart_suite(
    "reconciliation_summary",
    ("entity", "period", "charged_amount", "billed_amount", "charge_to_claim_variance"),
    summary_rules,
    keys=("entity", "period"),
    prepare=_prepare_summary,
)
AR_ROLLFORWARD = mart_suite(
    "ar_rollforward",
    (
        "entity",
        "period",
        "beginning_ar",
        "charges",
        "payer_payments",
        "patient_payments",
        "contractual_adjustments",
        "write_offs",
        "refunds",
        "ending_ar",
        "gl_ar_balance",
        "variance",
    ),
    rollforward_rules,
    keys=("entity", "period"),
    prepare=_prepare_rollforward,
)
EVENT_LOG = mart_suite(
    "billing_event_log",
    ("case_id", "activity", "ts", "source_system", "event_order"),
    event_rules,
    keys=("case_id", "activity", "event_order"),
    prepare=lambda f: timestamps(f, "ts"),
)
EHR_PAYER_IDS = mart_suite(
    "dq_ehr_payer_ids",
    ("ehr_payer_id", "payer_id", "x12_payer_id", "mapping", "claims_affected", "first_account_id"),
    ehr_payer_id_rules,
    keys=("ehr_payer_id", "payer_id", "claims_affected", "first_account_id"),
)
KPI_MONTHLY = mart_suite(
    "kpi_monthly",
    ("entity", "payer_id", "period"),
    kpi_rules,
    keys=("entity", "payer_id", "period"),
)

SUITES = (
    CLAIMS,
    EHR_PAYER_IDS,
    REMITTANCE_CLAIMS,
    EXCEPTIONS,
    RECONCILIATION_SUMMARY,
    AR_ROLLFORWARD,
    EVENT_LOG,
    KPI_MONTHLY,
)
