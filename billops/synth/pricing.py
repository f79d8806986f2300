"""How payers price and pay claims: the primary and secondary adjudication, reversals, the
remittance day, prompt-pay interest and when a payment arrives and is posted."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.clock import at, next_weekday
from billops.synth.draw import rint
from billops.synth.model import (
    Adjustment,
    Charge,
    Claim,
    Payment,
    ProviderAdjustment,
    RemitClaim,
    RemitLine,
)
from billops.synth.money import mul_fraction
from billops.synth.payers import Payer
from billops.synth.reference import Reference

# Days a payer has to pay a clean electronic claim before it owes interest, by payer type, and
# the daily interest rate (12% a year).
PROMPT_PAY_DAYS = {"COMMERCIAL": 15}
DAILY_INTEREST = "0.000329"


def adjudicate(ref: Reference, claim: Claim, deductible_left: int) -> tuple[RemitClaim, int]:
    """Price every line at the contract, apply copay, deductible and coinsurance.

    Returns the remittance of the claim (CLP02 = 1) and the deductible left afterwards."""
    payer = claim.payer
    copay_left = payer.copay
    coinsurance = payer.coinsurance or "0"
    lines = []
    for ch in claim.lines:
        code = CHARGEMASTER[ch.hcpcs]
        allowed = contract_allowed(ref, payer, ch)
        adjustments = []
        if ch.amount > allowed:
            adjustments.append(Adjustment(group="CO", reason="45", amount=ch.amount - allowed))
        remaining = allowed
        if not code.preventive:
            # copay (visit codes), then deductible, then coinsurance on what is left
            if code.visit and copay_left and remaining:
                amount = min(copay_left, remaining)
                copay_left -= amount
                adjustments.append(Adjustment(group="PR", reason="3", amount=amount))
                remaining -= amount
            if deductible_left and remaining:
                amount = min(deductible_left, remaining)
                deductible_left -= amount
                adjustments.append(Adjustment(group="PR", reason="1", amount=amount))
                remaining -= amount
            amount = mul_fraction(remaining, coinsurance)
            if amount:
                adjustments.append(Adjustment(group="PR", reason="2", amount=amount))
                remaining -= amount
        lines.append(
            RemitLine(
                charge=ch,
                charge_amount=ch.amount,
                paid=remaining,
                allowed=allowed,
                adjustments=adjustments,
            )
        )
    return RemitClaim(claim=claim, status="1", icn=claim.icn, lines=lines), deductible_left


def contract_allowed(ref: Reference, payer: Payer, ch: Charge) -> int:
    """The payer's contract price of a charge line, never above the charge."""
    if payer.fee_factor is not None:
        allowed = ref.contract_rate(payer, ch.hcpcs, ch.service_date) * ch.units
    else:
        assert payer.pct_of_charge is not None
        allowed = mul_fraction(ch.amount, payer.pct_of_charge)
    return min(allowed, ch.amount)


def adjudicate_secondary(ref: Reference, claim: Claim, primary: RemitClaim) -> RemitClaim:
    """The secondary payer's adjudication (CLP02 = 2) of what the primary left to the patient.

    Per line it covers the primary's patient responsibility up to its own contract price less
    what the primary paid (coordination of benefits), the patient keeping the secondary's
    coinsurance of that. What it does not cover stays with the patient, except under Medicaid
    (payer of last resort), whose payment the provider accepts in full: the rest is CO-45. The
    primary's payment and contractual adjustment are OA-23 (impact of prior payer adjudication),
    so CLP03 = CLP04 + every CAS amount."""
    payer = claim.payer
    coinsurance = payer.coinsurance if payer.payer_type == "COMMERCIAL" else "0"
    prior_lines = {ln.charge.id: ln for ln in primary.lines}
    lines = []
    for ch in claim.lines:
        prior = prior_lines[ch.id]
        left = sum(a.amount for a in prior.adjustments if a.group == "PR")
        allowed = contract_allowed(ref, payer, ch)
        covered = min(left, max(0, allowed - prior.paid))
        share = mul_fraction(covered, coinsurance)
        rest = left - covered
        adjustments = []
        if ch.amount - left:
            adjustments.append(Adjustment(group="OA", reason="23", amount=ch.amount - left))
        if rest and payer.payer_type == "MEDICAID":
            adjustments.append(Adjustment(group="CO", reason="45", amount=rest))
            rest = 0
        owed: dict[str, int] = {}
        if rest:
            # what the patient still owes keeps the primary's reason (deductible, copay, ...)
            reason = max(
                (a for a in prior.adjustments if a.group == "PR"), key=lambda a: a.amount
            ).reason
            owed[reason] = rest
        if share:
            owed["2"] = owed.get("2", 0) + share
        adjustments += [
            Adjustment(group="PR", reason=reason, amount=amount) for reason, amount in owed.items()
        ]
        lines.append(
            RemitLine(
                charge=ch,
                charge_amount=ch.amount,
                paid=covered - share,
                allowed=allowed,
                adjustments=adjustments,
            )
        )
    return RemitClaim(claim=claim, status="2", icn=claim.icn, lines=lines)


def reversal(remit: RemitClaim) -> RemitClaim:
    """CLP02 = 22: the payer takes back a previous payment of the claim, every amount negated."""
    lines = [
        RemitLine(
            charge=ln.charge,
            charge_amount=-ln.charge_amount,
            paid=-ln.paid,
            allowed=-ln.allowed,
            adjustments=[
                Adjustment(group=a.group, reason=a.reason, amount=-a.amount) for a in ln.adjustments
            ],
        )
        for ln in remit.lines
    ]
    return RemitClaim(claim=remit.claim, status="22", icn=remit.icn, lines=lines)


def remit_date(rng: random.Random, claim: Claim) -> date:
    payer = claim.payer
    earliest = claim.submitted_at.date() + timedelta(days=rint(rng, *payer.adjudication_days))
    return next_weekday(earliest, payer.pay_weekdays)


def prompt_pay_interest(payment: Payment) -> list[ProviderAdjustment]:
    """Interest a payer owes under the prompt-pay rules for claims it paid late, added to the
    payment as PLB L6 adjustments (negative: they increase the payment)."""
    limit = PROMPT_PAY_DAYS.get(payment.payer.payer_type)
    out = []
    for remit in payment.claims:
        if limit is None or remit.status != "1" or remit.paid <= 0:
            continue
        late = (payment.paid_on - remit.claim.submitted_at.date()).days - limit
        interest = mul_fraction(remit.paid * late, DAILY_INTEREST) if late > 0 else 0
        if interest > 0:
            out.append(ProviderAdjustment(reason="L6", reference=remit.icn, amount=-interest))
    return out


def payment_times(
    ref: Reference, payer: Payer, entity: str, day: date
) -> tuple[datetime, datetime]:
    """When a payer's EFT/835 of a day arrives, and when it is auto-posted."""
    p = ref.payer_index[payer.id]
    e = ref.hospital_index[entity]
    received = at(day, 9) + timedelta(minutes=len(ref.hospitals) * p + e)
    return received, received + timedelta(hours=2)
