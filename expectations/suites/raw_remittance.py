"""Suites on remittance advice, X12 835: payments (BPR/TRN), claims (CLP), adjustments (CAS),
service lines (SVC) and provider-level adjustments (PLB)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings
from expectations.rules import (
    between,
    in_set,
    not_null,
    npi,
    procedure_code_format,
    unique,
    zero,
)
from expectations.spec import Rule, cents, timestamps
from expectations.suites.base import X12_VALIDATION_JOIN, raw_suite, x12_file_not_invalid

SOURCE = "rcm-835"
CREDIT_DEBIT = ["C", "D"]
PAYMENT_METHODS = ["ACH", "BOP", "CHK", "FWT", "NON"]
CLAIM_STATUS_CODES = ["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]
ADJUSTMENT_GROUPS = ["CO", "CR", "OA", "PI", "PR"]
PROCEDURE_QUALIFIERS = ["HC", "HP", "AD", "ER", "IV", "N4", "NU", "WK"]


def remittance_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("trace_number", "critical", "CASH_POSTING"),
        unique(
            ["trace_number", "_batch_id", "_file"],
            "critical",
            "CASH_POSTING",
            name="trace_number_unique_in_file",
            notes="a TRN02 trace is one payment in a file; the same trace in a later file is a "
            "re-send or a correction, posted once by the models",
        ),
        in_set(
            "same_originator_as_first_delivery",
            [True],
            "critical",
            "CASH_POSTING",
            name="trace_number_of_one_originator",
            notes="a payment is (originator TRN03, TRN02): a later delivery of the trace from the "
            "same originator is a re-send, posted once; the same TRN02 from another originator "
            "is another payment the trace-keyed marts cannot tell apart, so it is held for review",
        ),
        npi("payee_npi", "critical", "CASH_POSTING"),
        in_set("credit_debit", CREDIT_DEBIT, "warning", "CASH_POSTING"),
        in_set("payment_method", PAYMENT_METHODS, "warning", "CASH_POSTING"),
        x12_file_not_invalid(),
        between("payment_amount", "warning", "CASH_POSTING", min_value=0),
        zero(
            "bpr_minus_claims_plb_cents",
            "critical",
            "CASH_POSTING",
            name="bpr_equals_claims_minus_plb",
            notes="BPR02 (negative when BPR03 = D, a takeback) = sum of CLP04 claim payments - "
            "sum of PLB adjustments",
        ),
    ]
    if as_of is not None:
        found.append(
            between(
                "payment_date",
                "warning",
                "CASH_POSTING",
                max_value=as_of,
                name="payment_date_not_after_as_of",
            )
        )
    return found


def remit_claim_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("account_id", "critical", "CASH_POSTING"),
        unique(
            ["trace_number", "claim_seq", "_batch_id", "_file"],
            "critical",
            "DATA_ENGINEERING",
            name="claim_unique_in_remittance",
        ),
        in_set("claim_status_code", CLAIM_STATUS_CODES, "warning", "CASH_POSTING"),
        # Also a REMIT_UNBALANCED exception in the work queue; here it measures the feed.
        zero(
            "charge_minus_paid_adjusted_cents",
            "warning",
            "CASH_POSTING",
            name="charge_equals_paid_plus_adjustments",
            notes="CLP03 charge = CLP04 paid + every CAS adjustment of the claim",
        ),
        not_null(
            "billed_account_id",
            "warning",
            "BILLING",
            name="account_id_was_billed",
            notes="CLP01 echoes CLM01 of a submitted 837 claim",
        ),
    ]


def adjustment_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["trace_number", "claim_seq", "line_seq", "adj_seq", "_batch_id", "_file"],
            "critical",
            "DATA_ENGINEERING",
            name="adjustment_unique",
        ),
        in_set("group_code", ADJUSTMENT_GROUPS, "critical", "CASH_POSTING"),
        not_null("reason_code", "critical", "CASH_POSTING"),
        not_null("amount", "critical", "CASH_POSTING"),
    ]


def service_line_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["trace_number", "claim_seq", "line_seq", "_batch_id", "_file"],
            "critical",
            "DATA_ENGINEERING",
            name="service_line_unique",
        ),
        in_set("procedure_qualifier", PROCEDURE_QUALIFIERS, "warning", "CASH_POSTING"),
        procedure_code_format(
            "procedure_code", pattern=get_settings().remittance_procedure_code_pattern
        ),
        not_null(
            "charge_id",
            "warning",
            "CASH_POSTING",
            notes="SVC lines echo REF*6R so payments post to the charge",
        ),
    ]


def plb_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["trace_number", "plb_seq", "adj_seq", "_batch_id", "_file"],
            "critical",
            "DATA_ENGINEERING",
            name="plb_unique",
        ),
        not_null("reason_code", "critical", "CASH_POSTING"),
        not_null("amount", "critical", "CASH_POSTING"),
        not_null(
            "remittance_trace",
            "critical",
            "CASH_POSTING",
            name="trace_in_remittance",
            notes="a PLB belongs to a known 835 payment",
        ),
    ]


def _prepare_remittances(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "payment_date")
    # BPR02 is unsigned; BPR03 = D (debit, a takeback) makes the payment negative
    debit = frame["credit_debit"].astype("string").str.strip().str.upper().eq("D").fillna(False)
    payment = cents(frame["payment_amount"]).where(~debit, -cents(frame["payment_amount"]))
    frame["bpr_minus_claims_plb_cents"] = (
        payment - cents(frame["claims_paid"]) + cents(frame["plb_total"])
    )
    return frame


def _prepare_remit_claims(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["charge_minus_paid_adjusted_cents"] = (
        cents(frame["charge_amount"])
        - cents(frame["paid_amount"])
        - cents(frame["adjustment_total"])
    )
    return frame


REMITTANCES = raw_suite(
    "x12_remittances",
    SOURCE,
    remittance_rules,
    prepare=_prepare_remittances,
    query="""with claims as (select _batch_id, _file, trace_number, sum(paid_amount) as paid
                             from raw.x12_remit_claims group by all),
                  plb as (select _batch_id, _file, trace_number, sum(amount) as plb
                          from raw.x12_remit_plb group by all)
             select r.*, coalesce(c.paid, 0) as claims_paid, coalesce(p.plb, 0) as plb_total,
                    coalesce(r.originator_id, r.payer_id, '') = first_value(
                        coalesce(r.originator_id, r.payer_id, '')) over (
                        partition by r.trace_number order by r._batch_id, r._file, r._record)
                        as same_originator_as_first_delivery,
                    coalesce(v.status, 'NOT_RECORDED') as x12_validation_status
             from {asset} r
             left join claims c using (_batch_id, _file, trace_number)
             left join plb p using (_batch_id, _file, trace_number)
             """
    + X12_VALIDATION_JOIN.format(alias="r"),
)
REMIT_CLAIMS = raw_suite(
    "x12_remit_claims",
    SOURCE,
    remit_claim_rules,
    prepare=_prepare_remit_claims,
    query="""with adj as (select _batch_id, _file, trace_number, claim_seq,
                                 sum(amount) as adjustment_total
                          from raw.x12_remit_adjustments group by all)
             select c.*, coalesce(a.adjustment_total, 0) as adjustment_total,
                    b.account_id as billed_account_id
             from {asset} c
             left join adj a using (_batch_id, _file, trace_number, claim_seq)
             left join (select distinct account_id from raw.x12_claims) b
                    on b.account_id = c.account_id""",
)
ADJUSTMENTS = raw_suite("x12_remit_adjustments", SOURCE, adjustment_rules)
SERVICE_LINES = raw_suite("x12_remit_service_lines", SOURCE, service_line_rules)
PLB = raw_suite(
    "x12_remit_plb",
    SOURCE,
    plb_rules,
    query="""select p.*, r.trace_number as remittance_trace
             from {asset} p
             left join (select distinct trace_number from raw.x12_remittances) r
                    using (trace_number)""",
)

SUITES = (REMITTANCES, REMIT_CLAIMS, ADJUSTMENTS, SERVICE_LINES, PLB)
