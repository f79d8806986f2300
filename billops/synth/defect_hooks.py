"""Where the account defects enter a journey: which types an account can carry, a duplicated
charge, a changed or ended coverage, a write-off without an approver, a coverage that changes
after the claim was paid. The journeys (journeys.py and its journey_* stages) call these at
their stage; each draws from the account's defect stream only."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billops.synth import defects
from billops.synth.clock import later, office_time
from billops.synth.draw import pick, rint
from billops.synth.model import Account, Charge, CoverageVersion, Defect, Successor, WriteOff
from billops.synth.payers import member_id

# Account defect types beside which a secondary payer is billed as usual; the others (a
# denial, a replacement, an unanswered, underpaid or unbalanced primary claim, a claim billed to
# the wrong coverage) stop at the primary.
SECONDARY_WITH = frozenset(
    {
        None,
        defects.UNBILLED_CHARGE,
        defects.DUPLICATE_CHARGE,
        defects.STATEMENT_STALE_COVERAGE,
        defects.PATIENT_BALANCE_MISMATCH,
        defects.CREDIT_BALANCE,
        defects.WRITE_OFF_UNAPPROVED,
    }
)


def eligible_types(account: Account, day: date, auth_codes: list[str]) -> dict[str, float]:
    """The account-level defect types this account can carry, with their boosts."""
    p, boost = account.patient, defects.CONDITIONAL_BOOST
    out = {
        t: 1.0
        for t in (
            defects.UNBILLED_CHARGE,
            defects.LATE_CHARGE,
            defects.DUPLICATE_CHARGE,
            defects.CLAIM_NO_RESPONSE,
            defects.UNDERPAYMENT,
            defects.REMIT_UNBALANCED,
        )
    }
    if account.inpatient:
        out[defects.LATE_CHARGE] = 5.0
    out[defects.DENIAL] = defects.denial_factor(account)
    out[defects.CREDIT_BALANCE] = boost[defects.CREDIT_BALANCE]
    out[defects.PATIENT_BALANCE_MISMATCH] = boost[defects.PATIENT_BALANCE_MISMATCH]
    only_that_day = p.service_days.count(day) == 1
    if only_that_day and day == p.service_days[0]:
        out[defects.COVERAGE_MISMATCH] = boost[defects.COVERAGE_MISMATCH]
    if only_that_day and day == p.service_days[-1] and day > p.coverage_start:
        out[defects.COVERAGE_INACTIVE] = boost[defects.COVERAGE_INACTIVE]
    if auth_codes:
        out[defects.MISSING_PRIOR_AUTH] = boost[defects.MISSING_PRIOR_AUTH]
    if sum(c.amount for c in account.charges) > defects.WRITE_OFF_POLICY + 100:
        out[defects.WRITE_OFF_UNAPPROVED] = boost[defects.WRITE_OFF_UNAPPROVED]
    if len(p.service_days) == 1:
        out[defects.STATEMENT_STALE_COVERAGE] = boost[defects.STATEMENT_STALE_COVERAGE]
    return out


def duplicate_charge(
    drng: random.Random, account: Account, new_charge_id: Callable[[], str]
) -> Defect:
    """DUPLICATE_CHARGE: the charge interface sends one of the account's lines again."""
    orig = pick(drng, account.charges)
    dup = Charge(
        id=new_charge_id(),
        account_id=account.id,
        patient_id=account.patient.id,
        hcpcs=orig.hcpcs,
        units=orig.units,
        amount=orig.amount,
        service_date=orig.service_date,
        entered_at=later(drng, orig.entered_at, 5, 180),
        facility_id=account.facility.id,
    )
    account.charges.append(dup)
    return Defect(
        defect_type=defects.DUPLICATE_CHARGE,
        key=dup.id,
        system="ehr",
        seen_at=dup.entered_at,
        account_id=account.id,
        claim_id=account.id,
        charge_id=dup.id,
        patient_id=account.patient.id,
        amount=dup.amount,
    )


@dataclass(frozen=True)
class CoverageAtCheckIn:
    """What the eligibility check at check-in answers, and the member id billing keeps."""

    status: str = "ACTIVE"
    plan_end: date | None = None
    stale_member: str | None = None  # billed instead of the current member id


def change_coverage(
    drng: random.Random,
    kind: str | None,
    account: Account,
    day: date,
    seed: int,
    rates: Mapping[str, float],
) -> CoverageAtCheckIn:
    """COVERAGE_MISMATCH (a new card billing never sees) and COVERAGE_INACTIVE (a plan ended
    before the service, recorded by registration or, for INACTIVE_UNRECORDED, never)."""
    p = account.patient
    assert account.eligibility_at is not None
    if kind == defects.COVERAGE_MISMATCH:
        # a new card at check-in: registration records it, billing keeps the old id
        updated = account.eligibility_at - timedelta(minutes=rint(drng, 5, 15))
        stale_member = p.coverage[-1].member_id
        p.coverage.append(
            CoverageVersion(
                version=len(p.coverage) + 1,
                updated_at=updated,
                member_id=member_id(drng, p.payer),
            )
        )
        return CoverageAtCheckIn(stale_member=stale_member)
    if kind != defects.COVERAGE_INACTIVE:
        return CoverageAtCheckIn()
    earlier = [d for d in p.service_days if d < day]
    plan_end = day - timedelta(days=rint(drng, 1, 20))
    if earlier:
        plan_end = max(plan_end, earlier[-1])
    ended = CoverageVersion(
        version=len(p.coverage) + 1,
        updated_at=later(drng, account.eligibility_at, 10, 90),
        member_id=p.member_id_at(account.eligibility_at),
        period_end=plan_end,
    )
    if random.Random(f"{seed}:inactive-unrecorded:{account.id}").random() >= (
        rates.get(defects.INACTIVE_UNRECORDED, 0)
    ):
        p.coverage.append(ended)
    # else registration never records the termination: only the INACTIVE eligibility
    # response (with the plan's end) shows it
    return CoverageAtCheckIn(status="INACTIVE", plan_end=plan_end)


def unapproved_write_off(
    drng: random.Random,
    account: Account,
    posted: datetime,
    seed: int,
    rates: Mapping[str, float],
    billers: tuple[str, ...],
) -> WriteOff:
    """WRITE_OFF_UNAPPROVED: a biller writes a timely-filing denial off without an approver
    (EDGE_WRITE_OFF of them: exactly at the approval policy, or a few cents above it)."""
    biller = pick(drng, billers)
    wo_at = office_time(drng, posted.date() + timedelta(days=rint(drng, 2, 7)))
    amount = account.remits[-1].charge
    erng = random.Random(f"{seed}:write-off-edge:{account.id}")
    if erng.random() < rates.get(defects.EDGE_WRITE_OFF, 0):
        # the biller writes off up to the approval policy alone: exactly the policy
        # (no approval needed) or a few cents above it (a defect)
        amount = defects.WRITE_OFF_POLICY + (
            rint(erng, 1, 99) if defects.inside_or_outside(erng) else 0
        )
    return WriteOff(
        account_id=account.id,
        entity=account.entity,
        amount=amount,
        at=wo_at,
        approved_by="",
        reason="timely filing denial",
        created_by=biller,
    )


def stale_coverage(drng: random.Random, account: Account, posted: datetime) -> str:
    """STATEMENT_STALE_COVERAGE: the patient changes plans after the claim was paid; a new
    Coverage replaces the old one, which ends the day before. Returns the old member id."""
    p = account.patient
    changed = office_time(drng, posted.date() + timedelta(days=1))
    stale = p.member_id_at(changed)
    p.coverage.append(
        CoverageVersion(
            version=len(p.coverage) + 1,
            updated_at=changed,
            member_id=stale,
            period_end=changed.date() - timedelta(days=1),
        )
    )
    p.successor = Successor(
        id=f"{p.coverage_id}-2",
        start=changed.date(),
        created_at=changed,
        member_id=member_id(drng, p.payer),
    )
    return stale
