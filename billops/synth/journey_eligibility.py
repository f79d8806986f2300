"""The eligibility stage: the registration check, and at check-in the defect or case the
account carries, the eligibility check, the prior authorization and the copay."""

from __future__ import annotations

import random
from datetime import date, timedelta

from billops.synth import defects
from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.clock import later, office_time
from billops.synth.defect_cases import case_charges, eligible_cases
from billops.synth.defect_hooks import change_coverage, duplicate_charge, eligible_types
from billops.synth.draw import between, pick, rint
from billops.synth.journey_encounter import Encounter
from billops.synth.model import Account, ClaimEvent, EligibilityCheck, Patient, PatientPayment
from billops.synth.simulation_state import SimulationState
from billops.synth.staff import REGISTRARS


def register(sim: SimulationState, p: Patient) -> None:
    """A member id keyed wrong at registration is found by a NOT_FOUND eligibility answer."""
    if len(p.coverage) > 1:
        rng = random.Random(f"{sim.seed}:registration:{p.id}")
        sim.world.eligibility.append(
            EligibilityCheck(
                id="",
                patient_id=p.id,
                payer_id=p.payer.id,
                member_id=p.coverage[0].member_id,
                checked_at=later(rng, p.registered_at, 5, 30),
                status="NOT_FOUND",
                plan_begin=None,
                plan_end=None,
            )
        )


def check_in(
    sim: SimulationState,
    seq: int,
    day: date,
    rng: random.Random,
    drng: random.Random,
    account: Account,
) -> Encounter:
    p, w = account.patient, sim.world
    account.eligibility_at = account.start - timedelta(minutes=rint(rng, 20, 120))
    auth_codes = [c.hcpcs for c in account.charges if sim.ref.needs_auth(p.payer, c.hcpcs)]
    kind = defects.choose(drng, sim.rates, eligible_types(account, day, auth_codes))
    # an edge case or look-alike, only on an account without a defect (its own stream)
    crng = random.Random(f"{sim.seed}:cases:{seq}{sim.stream}")
    as_of = sim.horizon.as_of
    case = (
        defects.choose_case(crng, sim.rates, eligible_cases(account, day, as_of, sim.rcm_final))
        if kind is None
        else None
    )
    enc = Encounter(
        seq=seq,
        day=day,
        rng=rng,
        drng=drng,
        crng=crng,
        account=account,
        kind=kind,
        case=case,
        outside=defects.inside_or_outside(crng),
    )
    case_charges(crng, case, enc.outside, account, sim.ref, as_of, sim.new_charge_id)
    if kind == defects.DUPLICATE_CHARGE:
        w.defects.append(duplicate_charge(drng, account, sim.new_charge_id))
    coverage = change_coverage(drng, kind, account, day, sim.seed, sim.rates)
    enc.stale_member = coverage.stale_member
    if case == defects.ELIGIBILITY_RECHECK:
        # the first inquiry goes out with a mistyped birth date and comes back INACTIVE;
        # patient access corrects it and the re-check minutes later is ACTIVE
        w.eligibility.append(
            EligibilityCheck(
                id="",
                patient_id=p.id,
                payer_id=p.payer.id,
                member_id=p.member_id_at(account.eligibility_at),
                checked_at=account.eligibility_at - timedelta(minutes=rint(crng, 3, 15)),
                status="INACTIVE",
                plan_begin=None,
                plan_end=None,
            )
        )
    w.eligibility.append(
        EligibilityCheck(
            id="",
            patient_id=p.id,
            payer_id=p.payer.id,
            member_id=p.member_id_at(account.eligibility_at),
            checked_at=account.eligibility_at,
            status=coverage.status,
            plan_begin=p.coverage_start,
            plan_end=coverage.plan_end,
        )
    )
    if auth_codes and kind != defects.MISSING_PRIOR_AUTH:
        _authorize(sim, rng, account, day, auth_codes)
    enc.copay_owed = _copay(sim, rng, account, active=coverage.status == "ACTIVE")
    return enc


def _authorize(
    sim: SimulationState, rng: random.Random, account: Account, day: date, auth_codes: list[str]
) -> None:
    account.auth_number = f"PA{between(rng, 10**8, 10**9)}"
    account.auth_at = office_time(rng, day - timedelta(days=rint(rng, 2, 10)))
    sim.world.claim_events.append(
        ClaimEvent(
            claim_id=account.id,
            event_type="AUTH_OBTAINED",
            ts=account.auth_at,
            actor=pick(rng, REGISTRARS),
            queue="PATIENT_ACCESS",
            detail=f"prior authorization {account.auth_number} for "
            + ",".join(sorted(set(auth_codes))),
        )
    )


def _copay(sim: SimulationState, rng: random.Random, account: Account, active: bool) -> int:
    """The copay collected at check-in (card), 0 when none."""
    payer = account.patient.payer
    copay_owed = payer.copay if any(CHARGEMASTER[c.hcpcs].visit for c in account.charges) else 0
    if not copay_owed and payer.copay and rng.random() < 0.08:
        copay_owed = payer.copay  # collected at check-in although the visit had none
    if not active:
        copay_owed = 0  # no active plan, no copay
    if copay_owed:
        sim.world.patient_payments.append(
            PatientPayment(
                id="",
                patient_id=account.patient.id,
                account_id=account.id,
                entity=account.entity,
                amount=copay_owed,
                received_at=account.start - timedelta(minutes=rint(rng, 5, 15)),
                method="CARD",
            )
        )
    return copay_owed
