"""Where the edge cases and look-alikes (defects.CASE_RATES) enter a journey: which cases an
account can carry, their charges, their claim, a takeback and the GL and bank side of a clean
payment. Each draws from its own stream, so the journeys without a case do not move."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from billops.synth import defects
from billops.synth.clock import at, later, next_weekday, office_time
from billops.synth.draw import between, pick, rint
from billops.synth.model import (
    Account,
    Adjustment,
    Charge,
    Claim,
    Defect,
    Payment,
    RemitClaim,
    RemitLine,
)
from billops.synth.params import Horizon
from billops.synth.pricing import reversal
from billops.synth.reference import Reference

REPEAT_MODIFIERS = ("76", "76", "59", "91", "77")


def eligible_cases(
    account: Account, day: date, as_of: datetime, rcm_final: datetime
) -> dict[str, float]:
    """The edge cases and look-alikes an account without a defect can carry."""
    p = account.patient
    out = {
        # an inpatient stay's late charge goes out on a late-charges claim (CLM05-3 = 5)
        defects.EDGE_LATE_CHARGE: 15.0 if account.inpatient else 1.0,
        defects.ELIGIBILITY_RECHECK: 1.0,
    }
    if account.end + timedelta(days=7) < rcm_final:
        # a repeat is told from a duplicate by its claim line's modifier (a FHIR ChargeItem
        # has none), so it is placed where the claim has gone out by the as-of time
        out[defects.REPEAT_MODIFIER] = 1.0
    window = timedelta(days=defects.get_settings().billing_window_days)
    if day >= (as_of - window).date() - timedelta(
        days=4
    ) and account.end < as_of - window - timedelta(hours=10):
        out[defects.EDGE_UNBILLED] = 1.0
    outside_day, inside_day = defects.follow_up_days(as_of)
    if outside_day - timedelta(days=8) <= day < inside_day - timedelta(days=1):
        out[defects.EDGE_NO_RESPONSE] = 1.0
    if p.payer.fee_factor is not None:
        out[defects.EDGE_UNDERPAYMENT] = 1.0
        out[defects.PRICE_BELOW_CONTRACT] = 1.0
    if account.inpatient and len(account.charges) >= 2:
        out[defects.INTERIM_BILLS] = 1.0
    if p.secondary is None:
        out[defects.TAKEBACK] = 1.0
    return out


def case_charges(
    crng: random.Random,
    case: str | None,
    outside: bool,
    account: Account,
    ref: Reference,
    as_of: datetime,
    new_charge_id: Callable[[], str],
) -> None:
    """The charge side of a case: a repeat with its modifier, a price below the contract,
    entry times at the billing window's edge."""
    if case == defects.REPEAT_MODIFIER:
        orig = account.charges[0]
        account.charges.append(
            Charge(
                id=new_charge_id(),
                account_id=account.id,
                patient_id=orig.patient_id,
                hcpcs=orig.hcpcs,
                units=orig.units,
                amount=orig.amount,
                service_date=orig.service_date,
                entered_at=later(crng, orig.entered_at, 5, 120),
                facility_id=orig.facility_id,
                modifier=pick(crng, REPEAT_MODIFIERS),
            )
        )
    elif case == defects.PRICE_BELOW_CONTRACT:
        payer = account.patient.payer
        total = sum(c.amount for c in account.charges)
        for ch in account.charges:
            rate = ref.contract_rate(payer, ch.hcpcs, ch.service_date) * ch.units
            price = rate - between(crng, rate // 20, rate // 5)
            # a courtesy price below the contract rate: the payer allows the charge; never
            # so low that a copay taken at check-in would exceed the account's charges
            if rate >= 1000 and total - ch.amount + price >= 2 * payer.copay:
                ch.amount = price
                break
    elif case == defects.EDGE_UNBILLED:
        entered = defects.billing_window_times(crng, as_of, outside)
        for n, ch in enumerate(account.charges):
            ch.entered_at = entered + timedelta(minutes=n)


def claim_case(
    crng: random.Random,
    case: str | None,
    outside: bool,
    account: Account,
    claim: Claim,
    plan: defects.AccountPlan,
    horizon: Horizon,
) -> str | None:
    """The claim side of a case: held by the scrubber, a late charge at the late-charge
    window's edge, a claim sent at the follow-up window's edge. Returns the case, None when an
    unanswered claim cannot be placed."""
    rcm_final = horizon.extracts("rcm")[-1]
    if case == defects.EDGE_UNBILLED:
        plan.blocked = True  # held by the scrubber: every charge stays unbilled
        plan.unbilled_truth = outside
    elif case == defects.EDGE_LATE_CHARGE:
        entered = defects.late_charge_time(crng, claim.submitted_at, outside)
        taken = {c.hcpcs for c in account.charges}
        codes = [lc for lc in defects.LATE_CODES if lc[0] not in taken]
        if codes and entered + defects.REPLACEMENT_MAX_DELAY <= rcm_final:
            hcpcs, units = pick(crng, codes)
            plan.late = defects.LateCharge(hcpcs=hcpcs, units=units, entered_at=entered)
            plan.late_truth = outside
    elif case == defects.EDGE_NO_RESPONSE:
        target = _follow_up_target(outside, claim, horizon)
        if target is None:
            return None
        claim.created_at = office_time(crng, target, 9, 15)
        claim.submitted_at = at(target, 19)
        claim.accepted_at = office_time(crng, target + timedelta(days=1), 7, 9)
        if claim.scrubber_failed_at is not None:
            claim.scrubber_failed_at = later(crng, claim.created_at, 5, 40)
    return case


def _follow_up_target(outside: bool, claim: Claim, horizon: Horizon) -> date | None:
    """The submission day of an unanswered claim just outside (the latest weekday past the
    follow-up window) or just inside it (the first weekday after), if the claim can go out
    that day."""
    outside_day, inside_day = defects.follow_up_days(horizon.as_of)
    target, step = (outside_day, -1) if outside else (inside_day, 1)
    while target.weekday() >= 5:
        target += timedelta(days=step)
    ready = max(c.entered_at for c in claim.lines).date()
    if ready < target <= min(ready + timedelta(days=10), horizon.end):
        return target
    return None


def takeback(
    crng: random.Random, account: Account, remit: RemitClaim, paid_on: date, rcm_final: datetime
) -> bool:
    """The payer first pays without the deductible and coinsurance, then recovers the
    overpayment: a reversal and the corrected adjudication in an 835 of their own whose
    payment is negative (BPR03 = D). False when the claim has nothing to recover or the
    correction would come after the extract."""
    if remit.status != "1":
        return False
    corrected_on = next_weekday(
        paid_on + timedelta(days=rint(crng, 14, 30)), account.patient.payer.pay_weekdays
    )
    if corrected_on >= rcm_final.date() - timedelta(days=1):
        return False
    lines, recovered = [], 0
    for ln in remit.lines:
        owed = sum(a.amount for a in ln.adjustments if a.group == "PR" and a.reason in ("1", "2"))
        recovered += owed
        lines.append(
            RemitLine(
                charge=ln.charge,
                charge_amount=ln.charge_amount,
                paid=ln.paid + owed,
                allowed=ln.allowed,
                adjustments=[
                    Adjustment(group=a.group, reason=a.reason, amount=a.amount)
                    for a in ln.adjustments
                    if not (a.group == "PR" and a.reason in ("1", "2"))
                ],
            )
        )
    if not recovered:
        return False
    overpaid = RemitClaim(claim=remit.claim, status="1", icn=remit.icn, lines=lines)
    undo = reversal(overpaid)
    undo.separate = True
    corrected = RemitClaim(
        claim=remit.claim, status=remit.status, icn=remit.icn, lines=remit.lines, separate=True
    )
    account.remits += [overpaid, undo, corrected]
    account.remit_dates += [paid_on, corrected_on, corrected_on]
    return True


def payment_case(
    payment: Payment,
    lockbox: bool,
    seed: int,
    rates: Mapping[str, float],
    as_of: datetime,
    first_part: bool,
) -> Defect | None:
    """The edge cases and look-alikes of a clean payment's GL posting and deposit; returns
    the truth row of a case just outside its lag window."""
    if payment.amount <= 0:
        return None
    rng = random.Random(f"{seed}:payment-case:{payment.trace}")
    row = _gl_case(rng, payment, rates, as_of)
    if lockbox:
        if first_part:
            payment.deposit = "lockbox"
        return row
    if row is not None:
        return row
    return _deposit_case(rng, payment, rates, as_of)


def _missing(kind: str, payment: Payment) -> Defect:
    return Defect(
        defect_type=kind,
        key=payment.trace,
        system="erp",
        seen_at=payment.posted_at,
        trace_number=payment.trace,
        amount=payment.amount,
    )


def _gl_case(
    rng: random.Random, payment: Payment, rates: Mapping[str, float], as_of: datetime
) -> Defect | None:
    """The GL side: posted one to three days late; a posting missing just past the window
    (a defect) or still pending just inside it; reversed and posted again."""
    day, row = payment.paid_on, None
    days_left = (as_of.date() - day).days
    gl_lag = defects.get_settings().gl_posting_lag_days
    u = rng.random()
    if defects.lag_judged(day, as_of, gl_lag):
        if not defects.lag_judged(day, as_of, gl_lag + 3) and u < rates.get(defects.EDGE_GL_LAG, 0):
            payment.gl = "skip"
            row = _missing(defects.REMIT_NOT_IN_GL, payment)
    elif u < rates.get(defects.EDGE_GL_LAG, 0):
        payment.gl_days = days_left + rint(rng, 1, 3)  # lands after the as-of time
    if payment.gl == "post" and not payment.gl_days:
        v = rng.random()
        if v < rates.get(defects.GL_POSTING_LAG, 0):
            payment.gl_days = rint(rng, 1, min(3, gl_lag))
        elif v < rates.get(defects.GL_POSTING_LAG, 0) + rates.get(defects.GL_REPOST, 0):
            payment.gl = "repost"
    return row


def _deposit_case(
    rng: random.Random, payment: Payment, rates: Mapping[str, float], as_of: datetime
) -> Defect | None:
    """The bank side: a deposit missing just past the window (a defect) or pending just
    inside it; a deposit one to three days late; a payment deposited in two parts."""
    day = payment.paid_on
    days_left = (as_of.date() - day).days
    deposit_lag = defects.get_settings().deposit_lag_days
    u = rng.random()
    if defects.lag_judged(day, as_of, deposit_lag):
        if not defects.lag_judged(day, as_of, deposit_lag + 3) and u < rates.get(
            defects.EDGE_DEPOSIT_LAG, 0
        ):
            payment.deposit = "missing"
            return _missing(defects.DEPOSIT_MISMATCH, payment)
    elif u < rates.get(defects.EDGE_DEPOSIT_LAG, 0):
        payment.deposit_days = days_left + rint(rng, 1, 3)
        return None
    v = rng.random()
    if v < rates.get(defects.DEPOSIT_LAG, 0):
        payment.deposit_days = rint(rng, 1, min(3, deposit_lag))
    elif (
        v < rates.get(defects.DEPOSIT_LAG, 0) + rates.get(defects.SPLIT_DEPOSIT, 0)
        and payment.amount >= 200
    ):
        payment.deposit = "split"
        payment.deposit_amount = between(rng, payment.amount // 3, payment.amount // 3 * 2)
    return None
