"""Patient journeys: registration, encounters, charges, claims, adjudication, remittance and
the patient-side money (copays, statements, payments, refunds, small-balance write-offs).

``Simulation`` runs each encounter through its stages, each a module of its own:
journey_charges (the account and its charges), journey_eligibility (check-in: the defect or
case the account carries, eligibility, authorization, copay), journey_claims (the claim and
its way out), journey_adjudication (what the payers answer), journey_patient_side (what the
patient owes) and journey_payments (the payer payments of a day). The defects and cases enter
through defect_hooks.py, defect_cases.py and defect_remits.py, beside defects.py.

Each patient and each account draws from its own ``random.Random`` stream derived from the
seed, so adding defects (which draw from their own streams) leaves the clean journeys of the
other accounts unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from billops.synth import defects
from billops.synth.clock import at
from billops.synth.defect_remits import unbalance
from billops.synth.journey_adjudication import settle
from billops.synth.journey_charges import open_account
from billops.synth.journey_claims import prepare_claim, send_claim
from billops.synth.journey_eligibility import check_in, register
from billops.synth.journey_patient_side import patient_side, self_pay
from billops.synth.journey_patients import make_patient
from billops.synth.journey_payments import make_payments
from billops.synth.model import Account, Coverage, Patient, Revenue, World
from billops.synth.simulation_state import SimulationState


class Simulation(SimulationState):
    """Runs every encounter through the journey stages, in service-day order."""

    def run(
        self,
        progress: Callable[[str], None] | None = None,
        day_done: Callable[[date], None] | None = None,
    ) -> World:
        """Simulate every encounter in service-day order. After each service day, the payer
        payments of that day are made and ``day_done(day)`` lets the writer flush the batches
        that no later day can change."""
        w = self.world
        self.patients = [
            make_patient(self.seed, n, self.ref, self.horizon)
            for n in range(1, self.scale.patients + 1)
            if n % self.scale.parts == self.part
        ]
        for p in self.patients:
            w.patients.append(p)
            register(self, p)
            self._hand_out_coverage(p)
        visits = sorted(
            ((day, p.id, p) for p in self.patients for day in p.service_days),
            key=lambda v: (v[0], v[1]),
        )
        if progress:
            progress(f"simulating {len(self.patients)} patients, {len(visits)} encounters")
        for seq, (day, _, patient) in enumerate(visits, 1):
            self._account(seq, day, patient)
            for account in self.done:
                self._hand_out(account)
            self.done.clear()
            if seq == len(visits) or visits[seq][0] != day:
                make_payments(self, day)
                if day_done:
                    day_done(day)
                if progress and (seq == len(visits) or visits[seq][0].month != day.month):
                    progress(f"simulated service month {day:%Y-%m}")
        make_payments(self, None)
        return w

    def _hand_out(self, account: Account) -> None:
        """Put a simulated account's records into the buckets of the batches that show them."""
        w = self.world
        w.accounts.append(account)
        by_day: dict[date, int] = {}
        for c in account.charges:
            w.charges.append(c)
            day = c.entered_at.date()
            by_day[day] = by_day.get(day, 0) + c.amount
        for day, amount in by_day.items():
            w.revenue.append(
                Revenue(entity=account.entity, day=day, ts=at(day, 21, 30), amount=amount)
            )
        for claim in account.claims:
            w.claims.append(claim)
        for remit, day in zip(account.remits, account.remit_dates, strict=True):
            key: tuple[date, int, str] | tuple[date, int, str, str] = (
                day,
                self._payer_index[remit.claim.payer.id],
                account.entity,
            )
            if remit.separate:  # a takeback: an 835 and payment of its own
                key = (*key, "T")
            self.remit_groups.setdefault(key, []).append(remit)
        self._hand_out_coverage(account.patient)

    def _hand_out_coverage(self, p: Patient) -> None:
        """Hand out the Coverage versions (and the successor Coverage) not yet handed out."""
        versions, successor = self._coverages_out.get(p.id, (0, False))
        coverages = self.world.coverages
        if not versions and p.secondary is not None:
            coverages.append(
                Coverage(updated_at=p.secondary.created_at, patient=p, secondary=p.secondary)
            )
        for v in p.coverage[versions:]:
            coverages.append(Coverage(updated_at=v.updated_at, patient=p, version=v))
        if p.successor is not None and not successor:
            coverages.append(
                Coverage(updated_at=p.successor.created_at, patient=p, successor=p.successor)
            )
        self._coverages_out[p.id] = (len(p.coverage), p.successor is not None)

    def _account(self, seq: int, day: date, p: Patient) -> None:
        """One encounter, from check-in to a zero balance, stage by stage."""
        rng = random.Random(f"{self.seed}:account:{seq}{self.stream}")
        drng = random.Random(f"{self.seed}:defects:{seq}{self.stream}")
        account = open_account(self, rng, seq, day, p)
        if p.payer.self_pay:
            self_pay(self, rng, account)
            return
        enc = check_in(self, seq, day, rng, drng, account)
        billing = prepare_claim(self, enc)
        if not send_claim(self, enc, billing):
            return
        remit_received = settle(self, enc, billing)
        patient_side(self, enc, billing.behaviour)
        if enc.kind == defects.REMIT_UNBALANCED:
            unbalanced = unbalance(account.remits[-1])
            if unbalanced is not None:
                account.remits[-1] = unbalanced[0]
                self.world.defects.append(
                    defects.account_truth(enc.kind, account, remit_received, unbalanced[1])
                )
