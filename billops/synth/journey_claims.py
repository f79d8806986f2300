"""The claim stage: the claim built from the charges, its claim-stage defects and cases, and
its way out (scrubber, clearinghouse, payer acceptance), or why it never goes out."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from billops.synth import defects
from billops.synth.clock import at, later, next_weekday, office_time
from billops.synth.defect_cases import claim_case
from billops.synth.draw import between, pick, rint
from billops.synth.journey_charges import charge
from billops.synth.journey_encounter import Billing, Encounter, PatientBehaviour
from billops.synth.model import Account, Charge, Claim, ClaimEvent
from billops.synth.pricing import remit_date
from billops.synth.simulation_state import SimulationState
from billops.synth.staff import BILLERS


def submission(
    rng: random.Random, ready: datetime, max_days: int
) -> tuple[datetime, datetime, datetime]:
    """A claim created in office hours 1 to ``max_days`` weekdays after ``ready``, submitted at
    19:00 that day and accepted by the clearinghouse the next morning."""
    submit_day = next_weekday(ready.date() + timedelta(days=rint(rng, 1, max_days)))
    created = office_time(rng, submit_day, 9, 15)
    submitted = at(submit_day, 19)
    return created, submitted, office_time(rng, submitted.date() + timedelta(days=1), 7, 9)


def new_claim(
    rng: random.Random,
    account: Account,
    lines: list[Charge],
    frequency: str,
    original_icn: str | None,
    ready: datetime,
) -> Claim:
    """A claim to the primary payer of ``lines`` once they are all entered (``ready``)."""
    p = account.patient
    created, submitted, accepted = submission(rng, ready, 2)
    claim = Claim(
        account_id=account.id,
        frequency=frequency,
        created_at=created,
        submitted_at=submitted,
        accepted_at=accepted,
        lines=list(lines),
        payer=p.payer,
        member_id=p.member_id_at(created),
        auth_number=account.auth_number,
        icn=f"{accepted:%y%j}{between(rng, 10**9, 10**10)}",
        original_icn=original_icn,
        account=account,
    )
    if rng.random() < 0.08:
        claim.scrubber_failed_at = later(rng, created, 5, 40)
    return claim


def claim_events(sim: SimulationState, rng: random.Random, claim: Claim) -> None:
    ev = sim.world.claim_events
    biller = pick(rng, BILLERS)
    detail = (
        "secondary claim"
        if claim.responsibility == "S"
        else "replacement claim"
        if claim.frequency == "7"
        else "original claim"
    )

    def event(event_type: str, ts: datetime, actor: str, text: str) -> ClaimEvent:
        return ClaimEvent(
            claim_id=claim.account_id,
            event_type=event_type,
            ts=ts,
            actor=actor,
            queue="BILLING",
            detail=text,
        )

    ev.append(event("CLAIM_CREATED", claim.created_at, "system", detail))
    if claim.scrubber_failed_at:
        ev.append(
            event(
                "SCRUBBER_FAILED",
                claim.scrubber_failed_at,
                "system",
                "claim edit failed: corrected by biller",
            )
        )
    ev.append(
        event(
            "CLAIM_SUBMITTED",
            claim.submitted_at,
            biller,
            f"837P frequency {claim.frequency}"
            + (" to the secondary payer" if claim.responsibility == "S" else ""),
        )
    )
    ev.append(event("CLAIM_ACCEPTED", claim.accepted_at, "clearinghouse", "accepted by payer"))


def prepare_claim(sim: SimulationState, enc: Encounter) -> Billing:
    """The original claim with the claim-stage defects and cases planned on it."""
    rng, account = enc.rng, enc.account
    p = account.patient
    claim = new_claim(
        rng, account, account.charges, "1", None, max(c.entered_at for c in account.charges)
    )
    if enc.stale_member is not None:
        claim.member_id = enc.stale_member
    if (
        account.auth_number
        and account.claim_type == "P"
        and random.Random(f"{sim.seed}:line-auth:{enc.seq}{sim.stream}").random()
        < sim.rates.get(defects.LINE_AUTH, 0)
    ):
        # the authorization rides on the lines that need it (2400 REF*G1), not the claim
        claim.line_auth_ids = frozenset(
            c.id for c in claim.lines if sim.ref.needs_auth(p.payer, c.hcpcs)
        )
    behaviour = PatientBehaviour.draw(rng)
    remit_day = remit_date(rng, claim)
    plan = defects.plan_claim(
        enc.drng, enc.kind, account, claim, remit_day, enc.copay_owed, sim.horizon
    )
    enc.case = claim_case(enc.crng, enc.case, enc.outside, account, claim, plan, sim.horizon)
    billing = Billing(claim=claim, behaviour=behaviour, remit_day=remit_day, plan=plan)
    if plan.late is not None:
        billing.late = charge(
            sim,
            account,
            hcpcs=plan.late.hcpcs,
            units=plan.late.units,
            day=enc.day,
            entered_at=plan.late.entered_at,
        )
    sim.done.append(account)
    sim.world.defects.extend(plan.truth(account, billing.late))
    if enc.case == defects.INTERIM_BILLS and enc.copay_owed:
        # a copay taken at check-in is settled after the last adjudication: with an interim
        # bill still unanswered at the extract it would read as a credit balance
        enc.case = None
    if enc.case == defects.INTERIM_BILLS:
        # the stay is billed in interim claims: the first (CLM05-3 = 2) with the first
        # half of the lines, the last (4) with the rest
        claim.frequency = "2"
        half = max(1, len(claim.lines) // 2)
        claim.lines, billing.interim_rest = claim.lines[:half], claim.lines[half:]
    return billing


def send_claim(sim: SimulationState, enc: Encounter, billing: Billing) -> bool:
    """Send the claim; False when the payer will never answer it (held by the scrubber,
    never answered, or not yet answered at the extract)."""
    rng, account, claim, plan, kind = enc.rng, enc.account, billing.claim, billing.plan, enc.kind
    w = sim.world
    if plan.blocked:
        created = claim.created_at
        w.claim_events += [
            ClaimEvent(
                claim_id=account.id,
                event_type="CLAIM_CREATED",
                ts=created,
                actor="system",
                queue="BILLING",
                detail="claim built",
            ),
            ClaimEvent(
                claim_id=account.id,
                event_type="SCRUBBER_FAILED",
                ts=later(rng, created, 5, 40),
                actor="system",
                queue="CODING",
                detail="claim edit failed: held for coding review",
            ),
        ]
        return False
    if plan.dropped:
        dropped = {c.id for c in plan.dropped}
        claim.lines = [c for c in claim.lines if c.id not in dropped]
    claim_events(sim, rng, claim)
    account.claims.append(claim)
    billed_on = claim.submitted_at
    if kind in (defects.COVERAGE_MISMATCH, defects.COVERAGE_INACTIVE):
        w.defects.append(defects.account_truth(kind, account, billed_on, claim.total))
    if kind == defects.MISSING_PRIOR_AUTH:
        needs_auth = [c for c in claim.lines if sim.ref.needs_auth(account.patient.payer, c.hcpcs)]
        w.defects.append(
            defects.account_truth(kind, account, billed_on, sum(c.amount for c in needs_auth))
        )
    if (
        kind == defects.CLAIM_NO_RESPONSE
        and billed_on <= sim.horizon.as_of - defects.NO_RESPONSE_MIN_AGE
    ):
        w.defects.append(defects.account_truth(kind, account, billed_on, claim.total))
        return False  # the payer never answers
    if enc.case == defects.EDGE_NO_RESPONSE:
        # no answer yet: just past the follow-up window (a defect) or just inside it
        if enc.outside:
            w.defects.append(
                defects.account_truth(defects.CLAIM_NO_RESPONSE, account, billed_on, claim.total)
            )
        return False
    return True
