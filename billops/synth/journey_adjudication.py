"""The adjudication stage: what the payers answer to a sent claim (a payment, a denial and its
appeal, a replacement for a late charge, interim bills, a takeback, the secondary payer's
share) as remittances with their payment days on the account."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from billops.synth import defects
from billops.synth.clock import next_weekday, office_time
from billops.synth.defect_cases import takeback
from billops.synth.defect_hooks import SECONDARY_WITH
from billops.synth.defect_remits import cut_line, deny, underpay
from billops.synth.draw import between, pick, rint
from billops.synth.journey_claims import claim_events, new_claim, submission
from billops.synth.journey_encounter import Billing, Encounter
from billops.synth.model import Account, Charge, Claim, ClaimEvent, RemitClaim
from billops.synth.pricing import (
    adjudicate,
    adjudicate_secondary,
    payment_times,
    remit_date,
    reversal,
)
from billops.synth.simulation_state import SimulationState
from billops.synth.staff import BILLERS

SECONDARY_BILLED_SHARE = 0.9  # of eligible accounts: the rest the biller never crosses over
APPEAL_SHARE = 0.6  # of denials for documentation, necessity or coding (not auth, eligibility)
OVERTURN_SHARE = 0.5  # of appeals


def settle(sim: SimulationState, enc: Encounter, billing: Billing) -> datetime:
    """Adjudicate the sent claim; returns when its first 835 arrives."""
    account, claim, plan = enc.account, billing.claim, billing.plan
    p = account.patient
    deductible_before = p.deductible_left
    remit, p.deductible_left = adjudicate(sim.ref, claim, deductible_before)
    remit_received, _ = payment_times(sim.ref, p.payer, account.entity, billing.remit_day)
    add_on = (
        account.inpatient
        and not enc.copay_owed
        and random.Random(f"{sim.seed}:late-charges-claim:{enc.seq}{sim.stream}").random()
        < sim.rates.get(defects.LATE_CHARGES_CLAIM, 0)
    )
    if billing.late is not None and add_on:
        _late_charges_claim(sim, enc, billing, remit, billing.late)
    elif billing.late is not None:
        _replacement(sim, enc, billing, remit, billing.late, deductible_before)
    elif plan.denial_reason is not None:
        p.deductible_left = deductible_before
        account.remits.append(deny(remit, plan.denial_reason))
        account.remit_dates.append(billing.remit_day)
        if enc.kind == defects.DENIAL and enc.drng.random() < APPEAL_SHARE:
            _appeal(sim, enc.drng, account, remit, billing.remit_day)
    elif enc.case == defects.INTERIM_BILLS:
        _interim_bills(sim, enc.rng, account, remit, billing.remit_day, billing.interim_rest)
    else:
        _paid(sim, enc, remit, billing.remit_day, remit_received)
    return remit_received


def _late_charges_claim(
    sim: SimulationState, enc: Encounter, billing: Billing, remit: RemitClaim, late: Charge
) -> None:
    """An inpatient stay's late charge goes out on a late-charges claim (CLM05-3 = 5) that
    adds to the original, adjudicated on its own."""
    rng, account = enc.rng, enc.account
    p = account.patient
    account.charges.append(late)
    extra = new_claim(rng, account, [late], "5", None, late.entered_at)
    claim_events(sim, rng, extra)
    account.claims.append(extra)
    extra_remit, p.deductible_left = adjudicate(sim.ref, extra, p.deductible_left)
    account.remits += [remit, extra_remit]
    account.remit_dates += [billing.remit_day, max(remit_date(rng, extra), billing.remit_day)]


def _replacement(
    sim: SimulationState,
    enc: Encounter,
    billing: Billing,
    remit: RemitClaim,
    late: Charge,
    deductible_before: int,
) -> None:
    """A late charge rebilled on a replacement claim (CLM05-3 = 7); a payment of the original
    made before the replacement went out is reversed."""
    rng, account, claim = enc.rng, enc.account, billing.claim
    p = account.patient
    account.charges.append(late)
    replacement = new_claim(rng, account, [*claim.lines, late], "7", claim.icn, late.entered_at)
    claim_events(sim, rng, replacement)
    account.claims.append(replacement)
    new_remit, p.deductible_left = adjudicate(sim.ref, replacement, deductible_before)
    replacement_remit_date = remit_date(rng, replacement)
    if billing.remit_day < replacement.submitted_at.date():
        account.remits.append(remit)
        account.remit_dates.append(billing.remit_day)
        account.remits.append(reversal(remit))
        account.remit_dates.append(replacement_remit_date)
    account.remits.append(new_remit)
    account.remit_dates.append(replacement_remit_date)


def _paid(
    sim: SimulationState, enc: Encounter, remit: RemitClaim, remit_day: date, remit_received: datetime
) -> None:
    """A paid claim: underpaid (a defect, or a case at the tolerance's edge), paid and taken
    back, or paid and crossed over to the secondary payer."""
    account, kind, case, crng = enc.account, enc.kind, enc.case, enc.crng
    w = sim.world
    if kind == defects.UNDERPAYMENT and remit.paid > 0:
        underpaid, short = underpay(enc.drng, remit)
        if short >= defects.UNDERPAYMENT_MIN:
            remit = underpaid
            w.defects.append(defects.account_truth(kind, account, remit_received, short))
    if case == defects.EDGE_UNDERPAYMENT and remit.paid > 0:
        cents = defects.tolerance_cut(crng, enc.outside)
        cut = cut_line(remit, cents)
        if cut is not None:
            remit = cut
            if enc.outside:
                w.defects.append(
                    defects.account_truth(defects.UNDERPAYMENT, account, remit_received, cents)
                )
    if case == defects.TAKEBACK and takeback(crng, account, remit, remit_day, sim.rcm_final):
        return
    account.remits.append(remit)
    account.remit_dates.append(remit_day)
    if kind in SECONDARY_WITH and case is None:
        _bill_secondary(sim, account, remit, remit_day, enc.copay_owed)


def _bill_secondary(
    sim: SimulationState, account: Account, primary: RemitClaim, paid_on: date, collected: int
) -> None:
    """Cross the claim over to the patient's second coverage once the primary's 835 is
    posted: a secondary 837 (SBR01 = S, the primary's adjudication in loops 2320/2330) for
    what the primary left to the patient, and the secondary's 835 (CLP02 = 2).

    Only a balance the copay collected at check-in does not already cover is crossed over:
    a copay above the primary's patient responsibility is refunded when the primary's 835
    is posted, so no credit balance waits for the secondary."""
    second = account.patient.secondary
    if (
        second is None
        or second.start > account.start.date()
        or primary.status != "1"
        or primary.adjusted("PR") <= collected
    ):
        return
    rng = random.Random(f"{sim.seed}:secondary:{account.id}")
    if rng.random() >= SECONDARY_BILLED_SHARE:
        return
    _, posted = payment_times(sim.ref, primary.claim.payer, account.entity, paid_on)
    created, submitted, accepted = submission(rng, posted, 3)
    claim = Claim(
        account_id=account.id,
        frequency="1",
        created_at=created,
        submitted_at=submitted,
        accepted_at=accepted,
        lines=list(primary.claim.lines),
        payer=second.payer,
        member_id=second.member_id,
        auth_number=account.auth_number,
        icn=f"{accepted:%y%j}{between(rng, 10**9, 10**10)}",
        account=account,
        responsibility="S",
        prior=primary,
        prior_paid_on=paid_on,
    )
    claim_events(sim, rng, claim)
    account.claims.append(claim)
    account.remits.append(adjudicate_secondary(sim.ref, claim, primary))
    account.remit_dates.append(remit_date(rng, claim))


def _appeal(
    sim: SimulationState, drng: random.Random, account: Account, clean: RemitClaim, denied_on: date
) -> None:
    """The denials team appeals with the missing documentation; the payer overturns some
    denials and pays the claim at contract in a later 835 (CLP02 = 1)."""
    p = account.patient
    _, posted = payment_times(sim.ref, p.payer, account.entity, denied_on)
    account.appealed_at = office_time(drng, posted.date() + timedelta(days=rint(drng, 3, 12)))
    sim.world.claim_events.append(
        ClaimEvent(
            claim_id=account.id,
            event_type="APPEALED",
            ts=account.appealed_at,
            actor=pick(drng, BILLERS),
            queue="DENIALS",
            detail="appeal sent with medical records",
        )
    )
    if drng.random() >= OVERTURN_SHARE:
        return  # upheld: the denial stands
    day = next_weekday(
        account.appealed_at.date() + timedelta(days=rint(drng, 15, 35)), p.payer.pay_weekdays
    )
    deductible_taken = sum(
        a.amount
        for ln in clean.lines
        for a in ln.adjustments
        if a.group == "PR" and a.reason == "1"
    )
    p.deductible_left = max(0, p.deductible_left - deductible_taken)
    account.remits.append(clean)
    account.remit_dates.append(day)
    account.overturned_at = payment_times(sim.ref, p.payer, account.entity, day)[0]


def _interim_bills(
    sim: SimulationState,
    rng: random.Random,
    account: Account,
    first: RemitClaim,
    first_day: date,
    rest: list[Charge],
) -> None:
    """The last interim claim (CLM05-3 = 4) of a stay, after the first: each is adjudicated
    on its own."""
    p = account.patient
    claim = new_claim(rng, account, rest, "4", None, first.claim.submitted_at)
    claim_events(sim, rng, claim)
    account.claims.append(claim)
    last, p.deductible_left = adjudicate(sim.ref, claim, p.deductible_left)
    account.remits += [first, last]
    account.remit_dates += [first_day, max(remit_date(rng, claim), first_day)]
