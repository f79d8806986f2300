"""Rows of the RCM and ERP CSV extracts, as dicts keyed by the raw_schema column names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.erp import Deposit, Journal
from billops.synth.model import ClaimEvent, EligibilityCheck, PatientPayment, Statement
from billops.synth.money import fmt
from billops.synth.params import iso
from billops.synth.reference import CHART_OF_ACCOUNTS, Reference

Row = dict[str, Any]


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def payers(ref: Reference) -> Iterator[Row]:
    for p in ref.payers:
        yield {
            "payer_id": p.id,
            "name": p.name,
            "payer_type": p.payer_type,
            "timely_filing_days": p.timely_filing_days,
        }


def payer_contracts(ref: Reference) -> Iterator[Row]:
    for p in ref.payers:
        if p.self_pay:
            continue  # no contract: the patient owes the chargemaster price
        for year in ref.years:
            first, last = date(year, 1, 1), date(year, 12, 31)
            for hcpcs in CHARGEMASTER:
                per_unit = fmt(ref.contract_rate(p, hcpcs, first)) if p.fee_factor else ""
                yield {
                    "payer_id": p.id,
                    "hcpcs": hcpcs,
                    "effective_from": _d(first),
                    "effective_to": _d(last),
                    "expected_allowed_amount": per_unit,
                    "allowed_pct_of_charge": p.pct_of_charge or "",
                }


def auth_rules(ref: Reference) -> Iterator[Row]:
    for p in ref.payers:
        for hcpcs in p.auth_codes:
            yield {
                "payer_id": p.id,
                "hcpcs": hcpcs,
                "effective_from": _d(date(ref.years[0], 1, 1)),
                "effective_to": "",
            }


def chargemaster(ref: Reference) -> Iterator[Row]:
    for year in ref.years:
        for code in CHARGEMASTER.values():
            first = date(year, 1, 1)
            yield {
                "hcpcs": code.hcpcs,
                "description": code.description,
                "unit_price": fmt(ref.unit_price(code.hcpcs, first)),
                "effective_from": _d(first),
            }


def claim_event(e: ClaimEvent) -> Row:
    return {
        "claim_id": e.claim_id,
        "event_type": e.event_type,
        "event_ts": iso(e.ts),
        "actor": e.actor,
        "queue": e.queue,
        "detail": e.detail,
    }


def eligibility_check(e: EligibilityCheck) -> Row:
    return {
        "check_id": e.id,
        "patient_id": e.patient_id,
        "payer_id": e.payer_id,
        "member_id": e.member_id,
        "checked_at": iso(e.checked_at),
        "status": e.status,
        "plan_begin": _d(e.plan_begin),
        "plan_end": _d(e.plan_end),
    }


def statement(s: Statement) -> Row:
    return {
        "statement_id": s.id,
        "patient_id": s.patient_id,
        "account_id": s.account_id,
        "statement_date": _d(s.statement_date),
        "amount_due": fmt(s.amount_due),
        "payer_id_on_file": s.payer_id,
        "member_id_on_file": s.member_id,
    }


def patient_payment(pp: PatientPayment) -> Row:
    return {
        "payment_id": pp.id,
        "patient_id": pp.patient_id,
        "account_id": pp.account_id,
        "amount": fmt(pp.amount),
        "received_at": iso(pp.received_at),
        "method": pp.method,
    }


def gl_lines(j: Journal) -> Iterator[Row]:
    for n, (account, debit, credit) in enumerate(j.lines, 1):
        yield {
            "journal_id": j.id,
            "line_no": n,
            "entity": j.entity,
            "posting_date": _d(j.posting_date),
            "period": f"{j.posting_date:%Y-%m}",
            "account": account,
            "debit": fmt(debit),
            "credit": fmt(credit),
            "source": j.source,
            "reference": j.reference,
            "description": j.description,
            "created_by": j.created_by,
            "approved_by": j.approved_by,
        }


def bank_deposit(d: Deposit) -> Row:
    return {
        "deposit_id": d.id,
        "entity": d.entity,
        "bank_account": d.bank_account,
        "deposit_date": _d(d.deposit_date),
        "amount": fmt(d.amount),
        "trace_number": d.trace_number,
        "payer_name": d.payer_name,
    }


def chart_of_accounts(ref: Reference) -> Iterator[Row]:
    for h in ref.hospitals:
        for a in CHART_OF_ACCOUNTS:
            yield {
                "entity": h.id,
                "account": a.account,
                "name": a.name,
                "account_type": a.account_type,
            }
