"""Injected defects and their truth rows (``truth/defects.csv``).

Each account draws its defects from its own stream, ``Random(f"{seed}:defects:{seq}")``, so the
clean journeys do not move when the rate changes. A defect is only injected where the as-of
time of the generated data makes it unambiguous: an unbilled charge is old enough to be past
any reasonable billing window, a late charge is followed by its replacement claim inside the
landed data. Each truth row has exactly one correct key (ARCHITECTURE.md, exception table).

Types injected so far: UNBILLED_CHARGE (a charge left off its claim, or an account whose claim
is held by the scrubber and never sent), LATE_CHARGE (a charge entered after the claim was
submitted, billed on a replacement claim, CLM05-3 = 7) and DENIAL (the payer denies the whole
claim, CLP02 = 4 with CO-<reason> on every line; the account stays open in AR). The next issue
adds the rest of the catalog (coverage, authorization, duplicates, underpayments, cash and GL
breaks, statements, credit balances, unapproved write-offs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from billops.synth.clock import office_time
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

UNBILLED_CHARGE = "UNBILLED_CHARGE"
LATE_CHARGE = "LATE_CHARGE"
DENIAL = "DENIAL"
DEFECT_TYPES: tuple[str, ...] = (UNBILLED_CHARGE, LATE_CHARGE, DENIAL)
TRUTH_COLUMNS: tuple[str, ...] = (
    "defect_type", "key", "account_id", "claim_id", "charge_id", "trace_number", "journal_id",
    "statement_id", "patient_id", "amount", "batch_id")

# An unbilled charge is at least this old at the as-of time (longer than any billing window a
# health system would configure for outpatient claims).
UNBILLED_MIN_AGE = timedelta(days=10)
# A late charge arrives this many days after the claim went out; the replacement claim needs
# at most this long after it to be submitted (next business day, weekend included).
LATE_AFTER_SUBMISSION_DAYS = (4, 14)
REPLACEMENT_MAX_DELAY = timedelta(days=5)
LATE_CODES: tuple[tuple[str, int], ...] = (
    ("J2405", 4), ("J1885", 1), ("A4216", 2), ("J7050", 1), ("J3420", 1))
# Bare CARC values of whole-claim denials (group CO): information missing, not medically
# necessary, diagnosis inconsistent with the procedure, non-covered charge.
DENIAL_REASONS = ("16", "50", "11", "96")


@dataclass(frozen=True)
class LateCharge:
    hcpcs: str
    units: int
    entered_at: datetime


@dataclass
class AccountPlan:
    blocked: bool = False  # the claim never leaves the scrubber: every charge is unbilled
    dropped: list[Charge] = field(default_factory=list)  # charges left off the claim
    late: LateCharge | None = None
    denial_reason: str | None = None  # the payer denies the whole claim (CLP02 = 4)

    def truth(self, account: Account, late_charge: Charge | None) -> list[Defect]:
        rows = []
        unbilled = account.charges if self.blocked else self.dropped
        for c in unbilled:
            rows.append(Defect(UNBILLED_CHARGE, c.id, "ehr", c.entered_at, account_id=account.id,
                               claim_id="" if self.blocked else account.id, charge_id=c.id,
                               patient_id=account.patient.id, amount=c.amount))
        if late_charge is not None:
            rows.append(Defect(LATE_CHARGE, late_charge.id, "ehr", late_charge.entered_at,
                               account_id=account.id, claim_id=account.id,
                               charge_id=late_charge.id, patient_id=account.patient.id,
                               amount=late_charge.amount))
        return rows


def plan_account(rng: random.Random, rate: float, account: Account, claim: Claim,
                 remit_day: date, patient_paid: int, horizon: Horizon) -> AccountPlan:
    """Decide the defects of one account from its clean claim draft and remittance day."""
    plan = AccountPlan()
    if rate <= 0:
        return plan
    u_block, u_drop, u_late, u_deny = rng.random(), rng.random(), rng.random(), rng.random()
    oldest_entry = horizon.as_of - UNBILLED_MIN_AGE
    rcm_final = horizon.extracts("rcm")[-1]
    if u_block < rate / 3 and all(c.entered_at <= oldest_entry for c in account.charges):
        plan.blocked = True
        return plan
    if u_drop < rate and len(claim.lines) >= 2:
        candidates = [c for c in claim.lines[1:] if c.entered_at <= oldest_entry]
        if candidates:
            plan.dropped = [rng.choice(candidates)]
    if u_late < rate:
        days = rng.randint(*LATE_AFTER_SUBMISSION_DAYS)
        entered = office_time(rng, claim.submitted_at.date() + timedelta(days=days))
        if entered + REPLACEMENT_MAX_DELAY <= rcm_final:
            hcpcs, units = rng.choice(LATE_CODES)
            plan.late = LateCharge(hcpcs, units, entered)
    # a denied account that holds a copay would also read as a credit balance: not injected
    if (u_deny < rate and plan.late is None and not patient_paid
            and remit_day < rcm_final.date()):
        plan.denial_reason = rng.choice(DENIAL_REASONS)
    return plan


def deny(remit: RemitClaim, reason: str) -> RemitClaim:
    """The remittance of a denied claim: nothing paid, every line adjusted CO-<reason>."""
    lines = [RemitLine(ln.charge, ln.charge_amount, 0, 0,
                       [Adjustment("CO", reason, ln.charge_amount)]) for ln in remit.lines]
    return RemitClaim(remit.claim, "4", remit.icn, lines)


def denial_truth(account: Account, remit: RemitClaim, payment: Payment) -> Defect:
    return Defect(DENIAL, account.id, "rcm", payment.received_at, account_id=account.id,
                  claim_id=account.id, trace_number=payment.trace,
                  patient_id=account.patient.id, amount=remit.charge)
