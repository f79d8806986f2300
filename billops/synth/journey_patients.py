"""Patients: demographics, the primary coverage (with a registration correction for some) and a
second coverage for some, each patient from its own stream ``Random(f"{seed}:patient:{n}")``."""

from __future__ import annotations

import random
from datetime import date, timedelta

from billops.synth.address import Address
from billops.synth.clock import office_time
from billops.synth.draw import below, between, pick, rint
from billops.synth.model import CoverageVersion, Patient, SecondaryCoverage
from billops.synth.params import Horizon
from billops.synth.payers import SECONDARY_PAYERS, Payer, member_id
from billops.synth.reference import (
    GIVEN_NAMES,
    SURNAME_HEADS,
    SURNAME_TAILS,
    Reference,
    street_address,
    zip9,
)


def _pick_payer(rng: random.Random, ref: Reference, senior: bool) -> Payer:
    pool = [p for p in ref.payers if p.senior == senior]
    return rng.choices(pool, weights=[p.weight for p in pool])[0]


def _service_days(rng: random.Random, horizon: Horizon, count: int) -> list[date]:
    span = (horizon.end - horizon.start).days + 1
    days = []
    for _ in range(count):
        day = horizon.start + timedelta(days=below(rng, span))
        while day.weekday() >= 5:  # clinics and outpatient departments run Monday to Friday
            day = horizon.start + timedelta(days=below(rng, span))
        days.append(day)
    return sorted(days)


def _age_for(rng: random.Random, payer: Payer, senior: bool) -> int:
    if senior:
        return rint(rng, 65, 94)
    if payer.payer_type == "MEDICAID":
        return rint(rng, 0, 64)
    return rint(rng, 19, 64)


def _coverage_start(
    rng: random.Random, horizon: Horizon, payer: Payer, senior: bool, birth: date
) -> date:
    months_insured = rint(rng, 1, 96)
    month = horizon.start.year * 12 + horizon.start.month - 1 - months_insured
    coverage_start = date(month // 12, month % 12 + 1, 1)
    if senior and payer.payer_type == "MEDICARE":
        # nobody is on Medicare before 65
        turned_65 = date(birth.year + 65, birth.month, 1)
        coverage_start = max(coverage_start, turned_65)
    return coverage_start


def make_patient(seed: int, n: int, ref: Reference, horizon: Horizon) -> Patient:
    rng = random.Random(f"{seed}:patient:{n}")
    senior = rng.random() < 0.38
    payer = _pick_payer(rng, ref, senior)
    age = _age_for(rng, payer, senior)
    gender = "female" if rng.random() < 0.52 else "male"
    birth = date(horizon.start.year - age, horizon.start.month, 1) - timedelta(days=below(rng, 365))
    hospital = pick(rng, ref.hospitals)
    clinic = pick(rng, ref.clinics_of(hospital.id) or [hospital])
    zip3 = hospital.address.zip9[:3]
    address = Address(
        line=street_address(rng),
        city=clinic.address.city,
        state=clinic.address.state,
        zip9=zip9(rng, zip3),
    )
    coverage_start = _coverage_start(rng, horizon, payer, senior, birth)
    visits = 1 + sum(rng.random() < 0.35 for _ in range(horizon.months)) + (rng.random() < 0.08)
    days = _service_days(rng, horizon, visits)
    registered = office_time(rng, days[0] - timedelta(days=rint(rng, 3, 12)))
    first_member = member_id(rng, payer)
    coverage = [CoverageVersion(version=1, updated_at=registered, member_id=first_member)]
    if rng.random() < 0.10:
        # a registration update: the member id keyed at registration was wrong, and patient
        # access corrects it the next day, after a NOT_FOUND eligibility response
        corrected_at = office_time(rng, registered.date() + timedelta(days=1))
        coverage.append(
            CoverageVersion(version=2, updated_at=corrected_at, member_id=member_id(rng, payer))
        )
    deductible = 0
    if payer.deductible and rng.random() < payer.deductible_share:
        deductible = between(rng, 0, payer.deductible // 100 + 1) * 100
    family = pick(rng, SURNAME_HEADS) + pick(rng, SURNAME_TAILS)
    patient = Patient(
        id=f"P{n:07d}",
        mrn=f"MR{n:08d}",
        family=family,
        given=pick(rng, GIVEN_NAMES[gender]),
        gender=gender,
        birth_date=birth,
        address=address,
        hospital_id=hospital.id,
        clinic_id=clinic.id,
        payer=payer,
        coverage_id=f"COV{n:07d}",
        coverage_start=coverage_start,
        registered_at=registered,
        coverage=coverage,
        deductible_left=deductible,
        service_days=days,
    )
    patient.secondary = _secondary_coverage(seed, n, ref, patient)
    return patient


def _secondary_coverage(seed: int, n: int, ref: Reference, p: Patient) -> SecondaryCoverage | None:
    """A second coverage for some patients, recorded at registration (its own stream, so the
    rest of the patient does not move)."""
    share, plans = SECONDARY_PAYERS.get(p.payer.key, (0.0, ()))
    rng = random.Random(f"{seed}:secondary-coverage:{n}")
    if not plans or rng.random() >= share:
        return None
    payer_id = rng.choices([pid for pid, _ in plans], weights=[w for _, w in plans])[0]
    payer = ref.payer_by_key[payer_id]
    return SecondaryCoverage(
        id=f"{p.coverage_id}-S",
        payer=payer,
        member_id=member_id(rng, payer),
        start=p.coverage_start,
        created_at=p.registered_at,
    )
