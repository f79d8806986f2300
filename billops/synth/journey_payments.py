"""Payer payments: one per payer, entity and payment day (a takeback in one of its own), with
prompt-pay interest, the payment's ERP defects and cases, and the denials' truth rows."""

from __future__ import annotations

import random
from datetime import date

from billops.synth import defects
from billops.synth.defect_cases import payment_case
from billops.synth.model import Payment
from billops.synth.pricing import payment_times, prompt_pay_interest
from billops.synth.simulation_state import SimulationState


def make_payments(sim: SimulationState, through: date | None) -> None:
    """Make the payments of every payment day up to ``through`` (all when None): every
    remittance of such a day is known, as it follows its claim's service day."""
    ready = sorted(k for k in sim.remit_groups if through is None or k[0] <= through)
    for key in ready:
        day, pi, entity = key[:3]
        payer = sim.ref.payers[pi]
        received, posted = payment_times(sim.ref, payer, entity, day)
        sim.traces += 1
        payment = Payment(
            trace=f"{day:%Y%m%d}{sim.tag}{sim.traces:0{7 - len(sim.tag)}d}",
            payer=payer,
            entity=entity,
            paid_on=day,
            received_at=received,
            posted_at=posted,
            claims=sorted(
                sim.remit_groups.pop(key),
                key=lambda r: (r.claim.account_id, r.status != "22"),
            ),
        )
        if not any(r.separate for r in payment.claims):
            payment.plb = prompt_pay_interest(payment)
        _payment_defects(sim, payment)
        for remit in payment.claims:
            account = remit.claim.account
            assert account is not None
            if remit.status == "4" and not (
                account.overturned_at is not None and account.overturned_at <= sim.rcm_final
            ):
                # a denial overturned on appeal before the as-of time is paid, not open
                sim.world.defects.append(defects.denial_truth(account, remit, payment))
        sim.world.remittances.append(payment)
        sim.world.payments.append(payment)


def _payment_defects(sim: SimulationState, payment: Payment) -> None:
    """A payment's ERP defect, or else its edge case or look-alike."""
    day = payment.paid_on
    # a lockbox day of a payer (the same draw in every part): its payments are deposited
    # together without a trace (by the first part), so none of them gets a deposit defect
    # or case
    lockbox = random.Random(f"{sim.seed}:lockbox:{payment.payer.id}:{day}").random() < (
        sim.rates.get(defects.LOCKBOX, 0)
    )
    not_yet = defects.judged_later(day, sim.horizon.as_of)
    if lockbox:
        not_yet |= {defects.DEPOSIT_MISMATCH}
    row = defects.plan_payment(
        random.Random(f"{sim.seed}:payment:{payment.trace}"),
        sim.rates,
        payment,
        not_yet=not_yet,
    )
    if row is not None:
        sim.world.defects.append(row)
    elif payment.gl == "post" and payment.deposit == "deposit":
        case_row = payment_case(
            payment, lockbox, sim.seed, sim.rates, sim.horizon.as_of, first_part=sim.part == 0
        )
        if case_row is not None:
            sim.world.defects.append(case_row)
