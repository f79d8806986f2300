"""The state one encounter's journey hands from stage to stage (journeys.py runs the stages)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from billops.synth.defects import AccountPlan
from billops.synth.draw import pick, rint
from billops.synth.model import Account, Charge, Claim


@dataclass(slots=True)
class Encounter:
    """An insured encounter after check-in."""

    seq: int
    day: date
    rng: random.Random  # the account's stream
    drng: random.Random  # its defects' stream
    crng: random.Random  # its edge cases' and look-alikes' stream
    account: Account
    kind: str | None  # the defect type the account carries (defects.choose)
    case: str | None  # or the edge case or look-alike (defects.choose_case)
    outside: bool  # the case lands just outside its threshold (a defect)
    copay_owed: int = 0  # collected at check-in
    stale_member: str | None = None  # the member id billing keeps (COVERAGE_MISMATCH)


@dataclass(slots=True)
class Billing:
    """The claim of an encounter as planned before it goes out."""

    claim: Claim
    behaviour: PatientBehaviour
    remit_day: date  # when the payer would answer the claim
    plan: AccountPlan  # the claim-stage defects
    late: Charge | None = None  # a charge entered after the claim went out
    interim_rest: list[Charge] = field(default_factory=list)  # lines of the last interim bill


@dataclass(slots=True)
class PatientBehaviour:
    """How a patient answers statements, drawn up front so that defects do not shift it."""

    statement_lag: int
    kind: str  # full | partial | none
    pay_lag: tuple[int, int, int]
    method: str

    @staticmethod
    def draw(rng: random.Random) -> PatientBehaviour:
        u = rng.random()
        kind = "full" if u < 0.6 else "partial" if u < 0.8 else "none"
        return PatientBehaviour(
            statement_lag=rint(rng, 2, 6),
            kind=kind,
            pay_lag=(rint(rng, 5, 25), rint(rng, 5, 20), rint(rng, 5, 20)),
            method=pick(rng, ("CARD", "CHECK", "ONLINE")),
        )

    def pays_on_cycle(self, cycle: int) -> str | None:
        if self.kind == "full":
            return "full" if cycle == 0 else None
        if self.kind == "partial":
            return ("partial", "full", None)[cycle]
        return None
