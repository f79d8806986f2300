"""The charges stage: the encounter's facility and times, and its charge lines as the EHR
enters them (the main service first, at checkout or from the visit note; supplies and drugs
after it, so the charges entered so far always cover a check-in copay)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from billops.synth.clock import at, later
from billops.synth.draw import between, pick, rint
from billops.synth.journey_visits import visit
from billops.synth.model import INPATIENT, Account, Charge, Patient
from billops.synth.reference import Facility
from billops.synth.simulation_state import SimulationState


def open_account(sim: SimulationState, rng: random.Random, seq: int, day: date, p: Patient) -> Account:
    """The account of the patient's encounter on ``day``, with its charges."""
    ref = sim.ref
    drawn = visit(rng, p, day)
    facility: Facility
    if drawn.kind == "hospital":
        facility = ref.facility_by_id[p.hospital_id]
    else:
        clinics = ref.clinics_of(p.hospital_id)
        home = ref.facility_by_id[p.clinic_id]
        facility = home if not clinics or rng.random() < 0.85 else pick(rng, clinics)
    start = at(day, rint(rng, 8, 15), between(rng, 0, 60, 5))
    end = start + timedelta(minutes=drawn.minutes)
    if drawn.profile == INPATIENT:
        # a stay is discharged by the last simulated day, so its Encounter lands with the
        # eligibility check, authorization and any copay of its admission
        end = min(end, at(sim.horizon.end, 20))
    account = Account(
        id=f"A{sim.tag}{seq:0{9 - len(sim.tag)}d}",
        patient=p,
        facility=facility,
        profile=drawn.profile,
        start=start,
        end=end,
        diagnoses=drawn.diagnoses,
        charges=[],
    )
    first: datetime | None = None
    for hcpcs, units in drawn.lines:
        if first is None:
            entered = first = later(rng, end, 15, 24 * 60)
        else:
            entered = later(rng, first, 5, 12 * 60)
        account.charges.append(
            charge(sim, account, hcpcs=hcpcs, units=units, day=day, entered_at=entered)
        )
    return account


def charge(
    sim: SimulationState, account: Account, *, hcpcs: str, units: int, day: date, entered_at: datetime
) -> Charge:
    """A new charge line of the account at the chargemaster price of ``day``."""
    return Charge(
        id=sim.new_charge_id(),
        account_id=account.id,
        patient_id=account.patient.id,
        hcpcs=hcpcs,
        units=units,
        amount=sim.ref.unit_price(hcpcs, day) * units,
        service_date=day,
        entered_at=entered_at,
        facility_id=account.facility.id,
    )
