"""Patient journeys: registration, encounters, charges, claims, adjudication, remittance and
the patient-side money (copays, statements, payments, refunds, small-balance write-offs).

Each patient and each account draws from its own ``random.Random`` stream derived from the
seed, so adding defects (which draw from their own streams) leaves the clean journeys of the
other accounts unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from billops.synth import defects
from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.clock import at, later, next_weekday, office_time
from billops.synth.draw import below, between, pick, rint
from billops.synth.model import (
    INPATIENT,
    Account,
    Adjustment,
    Charge,
    Claim,
    ClaimEvent,
    Coverage,
    CoverageVersion,
    Defect,
    EligibilityCheck,
    Patient,
    PatientPayment,
    Payment,
    ProviderAdjustment,
    RemitClaim,
    RemitLine,
    Revenue,
    SecondaryCoverage,
    Statement,
    Successor,
    World,
    WriteOff,
)
from billops.synth.money import mul_fraction
from billops.synth.params import SYSTEMS, Horizon, Scale
from billops.synth.payers import SECONDARY_PAYERS, Payer
from billops.synth.reference import (
    DIAGNOSES,
    GIVEN_NAMES,
    SURNAME_HEADS,
    SURNAME_TAILS,
    Address,
    Reference,
    street_address,
    zip9,
)

BILLERS = tuple(f"biller{i:02d}" for i in range(1, 13))
REGISTRARS = tuple(f"registrar{i:02d}" for i in range(1, 9))
CASH_POSTERS = tuple(f"cashposter{i:02d}" for i in range(1, 5))
SUPERVISORS = ("billing.supervisor01", "billing.supervisor02")
SMALL_BALANCE = 500  # cents: balances below this are written off instead of billed
# Days a payer has to pay a clean electronic claim before it owes interest, by payer type, and
# the daily interest rate (12% a year).
PROMPT_PAY_DAYS = {"COMMERCIAL": 15}
DAILY_INTEREST = "0.000329"
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
REPEAT_MODIFIERS = ("76", "76", "59", "91", "77")
SECONDARY_BILLED_SHARE = 0.9  # of eligible accounts: the rest the biller never crosses over
APPEAL_SHARE = 0.6  # of denials for documentation, necessity or coding (not auth, eligibility)
OVERTURN_SHARE = 0.5  # of appeals


# ------------------------------------------------------------------------------- patients

MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def _member_id(rng: random.Random, payer: Payer) -> str:
    if payer.member_prefix == "MBI":  # the Medicare Beneficiary Identifier pattern
        digit = "0123456789"
        alnum = MBI_LETTERS + digit
        pattern = [
            "123456789",
            MBI_LETTERS,
            alnum,
            digit,
            MBI_LETTERS,
            alnum,
            digit,
            MBI_LETTERS,
            MBI_LETTERS,
            digit,
            digit,
        ]
        return "".join(pick(rng, p) for p in pattern)
    return f"{payer.member_prefix}{between(rng, 10**8, 10**9)}"


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


def make_patient(seed: int, n: int, ref: Reference, horizon: Horizon) -> Patient:
    rng = random.Random(f"{seed}:patient:{n}")
    senior = rng.random() < 0.38
    payer = _pick_payer(rng, ref, senior)
    if senior:
        age = rint(rng, 65, 94)
    elif payer.payer_type == "MEDICAID":
        age = rint(rng, 0, 64)
    else:
        age = rint(rng, 19, 64)
    gender = "female" if rng.random() < 0.52 else "male"
    birth = date(horizon.start.year - age, horizon.start.month, 1) - timedelta(days=below(rng, 365))
    hospital = pick(rng, ref.hospitals)
    clinic = pick(rng, ref.clinics_of(hospital.id) or [hospital])
    zip3 = hospital.address.zip9[:3]
    address = Address(
        street_address(rng), clinic.address.city, clinic.address.state, zip9(rng, zip3)
    )
    months_insured = rint(rng, 1, 96)
    month = horizon.start.year * 12 + horizon.start.month - 1 - months_insured
    coverage_start = date(month // 12, month % 12 + 1, 1)
    if senior and payer.payer_type == "MEDICARE":
        # nobody is on Medicare before 65
        turned_65 = date(birth.year + 65, birth.month, 1)
        coverage_start = max(coverage_start, turned_65)
    visits = 1 + sum(rng.random() < 0.35 for _ in range(horizon.months)) + (rng.random() < 0.08)
    days = _service_days(rng, horizon, visits)
    registered = office_time(rng, days[0] - timedelta(days=rint(rng, 3, 12)))
    first_member = _member_id(rng, payer)
    coverage = [CoverageVersion(1, registered, first_member)]
    if rng.random() < 0.10:
        # a registration update: the member id keyed at registration was wrong, and patient
        # access corrects it the next day, after a NOT_FOUND eligibility response
        coverage.append(
            CoverageVersion(
                2, office_time(rng, registered.date() + timedelta(days=1)), _member_id(rng, payer)
            )
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
        f"{p.coverage_id}-S", payer, _member_id(rng, payer), p.coverage_start, p.registered_at
    )


# ------------------------------------------------------------------------------- encounters


@dataclass(frozen=True)
class Visit:
    profile: str
    kind: str  # clinic | hospital
    lines: list[tuple[str, int]]
    diagnoses: list[str]
    minutes: int


def _age(p: Patient, on: date) -> int:
    return (
        on.year - p.birth_date.year - ((on.month, on.day) < (p.birth_date.month, p.birth_date.day))
    )


def _injection(rng: random.Random) -> list[tuple[str, int]]:
    code, units = pick(
        rng,
        [
            ("J1885", rint(rng, 1, 2)),
            ("J3301", rint(rng, 1, 4)),
            ("J1100", rint(rng, 4, 10)),
            ("J1030", 1),
            ("J0696", rint(rng, 1, 4)),
            ("J3420", 1),
            ("J2930", 1),
        ],
    )
    lines = [(code, units)]
    if rng.random() < 0.3:
        lines.append(("A4216", rint(rng, 1, 2)))
    return lines


# Supplies and drugs charged beside the main service (nursing, pharmacy and central supply
# post them as their own lines), per kind of encounter: (pool, fewest, most lines).
ANCILLARY: dict[str, tuple[tuple[tuple[str, int, int], ...], int, int]] = {
    "hospital": (
        (
            ("A4550", 1, 1),
            ("A4206", 1, 4),
            ("A4215", 1, 4),
            ("A4556", 1, 3),
            ("A4606", 1, 1),
            ("A6250", 1, 2),
            ("A6402", 2, 10),
            ("J7040", 1, 2),
            ("J1200", 1, 1),
            ("J2550", 1, 1),
            ("J2270", 1, 2),
            ("J1170", 1, 2),
            ("A4216", 1, 3),
        ),
        4,
        10,
    ),
    "clinic": (
        (
            ("A4206", 1, 2),
            ("A4215", 1, 2),
            ("A6250", 1, 1),
            ("A6402", 1, 4),
            ("A4216", 1, 2),
            ("J3420", 1, 1),
            ("J1885", 1, 2),
        ),
        2,
        5,
    ),
}


def _ancillary(rng: random.Random, kind: str, lines: list[tuple[str, int]]) -> None:
    """Add supply and drug lines, each code at most once per encounter (a code charged twice
    on one day is a duplicate charge)."""
    pool, fewest, most = ANCILLARY[kind]
    taken = {code for code, _ in lines}
    for code, low, high in rng.sample(pool, rint(rng, fewest, most)):
        if code not in taken:
            taken.add(code)
            lines.append((code, rint(rng, low, high)))


def _visit(rng: random.Random, p: Patient, day: date) -> Visit:
    visit = _main_service(rng, p, day)
    if visit.profile not in ("WELLNESS", "TELEHEALTH", "DME"):
        _ancillary(rng, visit.kind, visit.lines)
    return visit


def _admission(rng: random.Random, dx: Mapping[str, tuple[str, ...]]) -> Visit:
    """An inpatient stay of one to four nights: IV fluids, antibiotics and symptom drugs given
    over the stay (room and board carry no HCPCS code and are not in the chargemaster)."""
    nights = rint(rng, 1, 4)
    lines = [("J7030", 2 * nights), ("J0696", 4 * nights), ("J2405", 4 * nights)]
    if rng.random() < 0.5:
        lines.append(("J2270", rint(rng, 1, 2 * nights)))
    if rng.random() < 0.4:
        lines.append(("J1885", rint(rng, 1, 4)))
    diagnoses = rng.sample(dx["observation"], rint(rng, 1, 2))
    if rng.random() < 0.6:
        diagnoses.append(pick(rng, dx["chronic"]))
    return Visit(INPATIENT, "hospital", lines, diagnoses, nights * 24 * 60 + rint(rng, -240, 240))


def _main_service(rng: random.Random, p: Patient, day: date) -> Visit:
    age = _age(p, day)
    if age < 18:
        weights = {
            "CLINIC_VISIT": 60,
            "WELLNESS": 20,
            "TELEHEALTH": 10,
            "DME": 5,
            "HOSPITAL_VISIT": 5,
            "EMERGENCY": 6,
            INPATIENT: 1,
        }
    elif age >= 65:
        weights = {
            "CLINIC_VISIT": 40,
            "WELLNESS": 14,
            "HOSPITAL_VISIT": 8,
            "OBSERVATION": 6,
            "INFUSION": 4,
            "COLONOSCOPY": 5,
            "DME": 9,
            "TELEHEALTH": 6,
            "THERAPY": 8,
            "EMERGENCY": 9,
            INPATIENT: 4,
        }
    else:
        weights = {
            "CLINIC_VISIT": 45,
            "WELLNESS": 12,
            "HOSPITAL_VISIT": 8,
            "OBSERVATION": 4,
            "INFUSION": 3,
            "COLONOSCOPY": 3 if age >= 45 else 0,
            "DME": 7,
            "TELEHEALTH": 10,
            "THERAPY": 8,
            "EMERGENCY": 8,
            INPATIENT: 2,
        }
    profile = rng.choices(list(weights), weights=list(weights.values()))[0]
    dx = DIAGNOSES
    if profile in ("CLINIC_VISIT", "HOSPITAL_VISIT"):
        lines = [("G0463", 1)]
        if rng.random() < 0.4:
            lines.append(("G2211", 1))
        if rng.random() < 0.25:
            lines += _injection(rng)
        diagnoses = rng.sample(dx["acute"], rint(rng, 1, 2))
        if rng.random() < 0.5:
            diagnoses.append(pick(rng, dx["chronic"]))
        kind = "clinic" if profile == "CLINIC_VISIT" else "hospital"
        return Visit(profile, kind, lines, diagnoses, rint(rng, 20, 60))
    if profile == "EMERGENCY":
        lines = [("G0383", 1) if rng.random() < 0.35 else ("G0381", 1)]
        lines += _injection(rng)
        if rng.random() < 0.5:
            lines.append(("J7030", 1))
        diagnoses = rng.sample(dx["acute"] + dx["observation"], rint(rng, 1, 3))
        return Visit(profile, "hospital", lines, diagnoses, rint(rng, 90, 360))
    if profile == "WELLNESS":
        lines, diagnoses = [], [pick(rng, dx["wellness"][:2])]
        if age < 18:
            pass
        elif p.payer.senior:
            if (day - p.coverage_start).days < 365 and p.payer.payer_type == "MEDICARE":
                lines.append(("G0402", 1))
            else:
                lines.append(("G0438", 1) if rng.random() < 0.25 else ("G0439", 1))
        else:
            if rng.random() < 0.3:
                lines.append(("G0447", 1))
                diagnoses.append("Z68.30")
            if p.gender == "female" and 21 <= age <= 65 and rng.random() < 0.35:
                lines.append(("Q0091", 1))
                diagnoses.append(pick(rng, dx["pap"]))
        if age >= 12 and rng.random() < 0.4:
            lines.append(("G0444", 1))
            diagnoses.append("Z13.31")
        if age >= 18 and rng.random() < 0.2:
            lines.append(("G0442", 1))
            diagnoses.append("Z71.41")
        if not lines or (day.month in (9, 10, 11, 12, 1, 2, 3) and rng.random() < 0.55):
            lines += [("G0008", 1), ("Q2039", 1)]
            diagnoses.append("Z23")
        return Visit(profile, "clinic", lines, diagnoses, rint(rng, 30, 60))
    if profile == "OBSERVATION":
        hours = rint(rng, 4, 12)
        lines = [("G0378", hours), ("J7030", rint(rng, 1, 2))]
        if rng.random() < 0.7:
            lines.append(("J2405", pick(rng, (4, 8))))
        if rng.random() < 0.4:
            lines.append(("J1885", rint(rng, 1, 2)))
        if rng.random() < 0.5:
            lines.append(("A4216", 2))
        return Visit(
            profile,
            "hospital",
            lines,
            rng.sample(dx["observation"], rint(rng, 1, 2)),
            hours * 60 + rint(rng, 20, 50),
        )
    if profile == INPATIENT:
        return _admission(rng, dx)
    if profile == "INFUSION":
        if age >= 65 and rng.random() < 0.5:
            lines, diagnoses = [("J0897", 60)], ["M81.0"]
        else:
            lines = [("J1745", pick(rng, (30, 40, 50, 60)))]
            diagnoses = [pick(rng, dx["infusion"])]
        lines += [("J7050", 1), ("A4216", 2)]
        return Visit(profile, "hospital", lines, diagnoses, rint(rng, 120, 300))
    if profile == "COLONOSCOPY":
        lines = [("G0121", 1)] + ([("A4216", 1)] if rng.random() < 0.5 else [])
        return Visit(profile, "hospital", lines, ["Z12.11"], rint(rng, 90, 180))
    if profile == "DME":
        code, units, diagnosis = pick(
            rng,
            [
                ("E0114", 1, pick(rng, ("S93.401A", "S83.91XA"))),
                ("E0143", 1, "R26.81"),
                ("E0601", 1, "G47.33"),
                ("A4253", rint(rng, 1, 3), "E11.65"),
                ("L3908", 1, "S61.411A"),
            ],
        )
        return Visit(profile, "clinic", [(code, units)], [diagnosis], rint(rng, 15, 30))
    if profile == "TELEHEALTH":
        lines = [("Q3014", 1)] + ([("G2211", 1)] if rng.random() < 0.3 else [])
        diagnoses = [pick(rng, dx["acute"] + dx["chronic"])]
        return Visit(profile, "clinic", lines, diagnoses, rint(rng, 15, 40))
    lines = [("G0283", 1)] + ([("G0463", 1)] if rng.random() < 0.2 else [])
    return Visit("THERAPY", "clinic", lines, rng.sample(dx["therapy"], 1), rint(rng, 30, 60))


# ------------------------------------------------------------------------------- claims
def _submission(
    rng: random.Random, ready: datetime, max_days: int
) -> tuple[datetime, datetime, datetime]:
    """A claim created in office hours 1 to ``max_days`` weekdays after ``ready``, submitted at
    19:00 that day and accepted by the clearinghouse the next morning."""
    submit_day = next_weekday(ready.date() + timedelta(days=rint(rng, 1, max_days)))
    created = office_time(rng, submit_day, 9, 15)
    submitted = at(submit_day, 19)
    return created, submitted, office_time(rng, submitted.date() + timedelta(days=1), 7, 9)


# ------------------------------------------------------------------------------- adjudication


def adjudicate(ref: Reference, claim: Claim, deductible_left: int) -> tuple[RemitClaim, int]:
    """Price every line at the contract, apply copay, deductible and coinsurance.

    Returns the remittance of the claim (CLP02 = 1) and the deductible left afterwards."""
    payer = claim.payer
    copay_left = payer.copay
    coinsurance = payer.coinsurance or "0"
    lines = []
    for ch in claim.lines:
        code = CHARGEMASTER[ch.hcpcs]
        allowed = contract_allowed(ref, payer, ch)
        adjustments = []
        if ch.amount > allowed:
            adjustments.append(Adjustment("CO", "45", ch.amount - allowed))
        remaining = allowed
        if not code.preventive:
            # copay (visit codes), then deductible, then coinsurance on what is left
            if code.visit and copay_left and remaining:
                amount = min(copay_left, remaining)
                copay_left -= amount
                adjustments.append(Adjustment("PR", "3", amount))
                remaining -= amount
            if deductible_left and remaining:
                amount = min(deductible_left, remaining)
                deductible_left -= amount
                adjustments.append(Adjustment("PR", "1", amount))
                remaining -= amount
            amount = mul_fraction(remaining, coinsurance)
            if amount:
                adjustments.append(Adjustment("PR", "2", amount))
                remaining -= amount
        lines.append(RemitLine(ch, ch.amount, remaining, allowed, adjustments))
    return RemitClaim(claim, "1", claim.icn, lines), deductible_left


def contract_allowed(ref: Reference, payer: Payer, ch: Charge) -> int:
    """The payer's contract price of a charge line, never above the charge."""
    if payer.fee_factor is not None:
        allowed = ref.contract_rate(payer, ch.hcpcs, ch.service_date) * ch.units
    else:
        assert payer.pct_of_charge is not None
        allowed = mul_fraction(ch.amount, payer.pct_of_charge)
    return min(allowed, ch.amount)


def adjudicate_secondary(ref: Reference, claim: Claim, primary: RemitClaim) -> RemitClaim:
    """The secondary payer's adjudication (CLP02 = 2) of what the primary left to the patient.

    Per line it covers the primary's patient responsibility up to its own contract price less
    what the primary paid (coordination of benefits), the patient keeping the secondary's
    coinsurance of that. What it does not cover stays with the patient, except under Medicaid
    (payer of last resort), whose payment the provider accepts in full: the rest is CO-45. The
    primary's payment and contractual adjustment are OA-23 (impact of prior payer adjudication),
    so CLP03 = CLP04 + every CAS amount."""
    payer = claim.payer
    coinsurance = payer.coinsurance if payer.payer_type == "COMMERCIAL" else "0"
    prior_lines = {ln.charge.id: ln for ln in primary.lines}
    lines = []
    for ch in claim.lines:
        prior = prior_lines[ch.id]
        left = sum(a.amount for a in prior.adjustments if a.group == "PR")
        allowed = contract_allowed(ref, payer, ch)
        covered = min(left, max(0, allowed - prior.paid))
        share = mul_fraction(covered, coinsurance)
        rest = left - covered
        adjustments = []
        if ch.amount - left:
            adjustments.append(Adjustment("OA", "23", ch.amount - left))
        if rest and payer.payer_type == "MEDICAID":
            adjustments.append(Adjustment("CO", "45", rest))
            rest = 0
        owed: dict[str, int] = {}
        if rest:
            # what the patient still owes keeps the primary's reason (deductible, copay, ...)
            reason = max(
                (a for a in prior.adjustments if a.group == "PR"), key=lambda a: a.amount
            ).reason
            owed[reason] = rest
        if share:
            owed["2"] = owed.get("2", 0) + share
        adjustments += [Adjustment("PR", reason, amount) for reason, amount in owed.items()]
        lines.append(RemitLine(ch, ch.amount, covered - share, allowed, adjustments))
    return RemitClaim(claim, "2", claim.icn, lines)


def reversal(remit: RemitClaim) -> RemitClaim:
    """CLP02 = 22: the payer takes back a previous payment of the claim, every amount negated."""
    lines = [
        RemitLine(
            ln.charge,
            -ln.charge_amount,
            -ln.paid,
            -ln.allowed,
            [Adjustment(a.group, a.reason, -a.amount) for a in ln.adjustments],
        )
        for ln in remit.lines
    ]
    return RemitClaim(remit.claim, "22", remit.icn, lines)


def remit_date(rng: random.Random, claim: Claim) -> date:
    payer = claim.payer
    earliest = claim.submitted_at.date() + timedelta(days=rint(rng, *payer.adjudication_days))
    return next_weekday(earliest, payer.pay_weekdays)


def prompt_pay_interest(payment: Payment) -> list[ProviderAdjustment]:
    """Interest a payer owes under the prompt-pay rules for claims it paid late, added to the
    payment as PLB L6 adjustments (negative: they increase the payment)."""
    limit = PROMPT_PAY_DAYS.get(payment.payer.payer_type)
    out = []
    for remit in payment.claims:
        if limit is None or remit.status != "1" or remit.paid <= 0:
            continue
        late = (payment.paid_on - remit.claim.submitted_at.date()).days - limit
        interest = mul_fraction(remit.paid * late, DAILY_INTEREST) if late > 0 else 0
        if interest > 0:
            out.append(ProviderAdjustment("L6", remit.icn, -interest))
    return out


def payment_times(
    ref: Reference, payer: Payer, entity: str, day: date
) -> tuple[datetime, datetime]:
    """When a payer's EFT/835 of a day arrives, and when it is auto-posted."""
    p = ref.payer_index[payer.id]
    e = ref.hospital_index[entity]
    received = at(day, 9) + timedelta(minutes=len(ref.hospitals) * p + e)
    return received, received + timedelta(hours=2)


# ------------------------------------------------------------------------------- the simulation


class Simulation:
    def __init__(
        self,
        ref: Reference,
        horizon: Horizon,
        scale: Scale,
        seed: int,
        rates: Mapping[str, float],
        part: int = 0,
    ) -> None:
        """``part``: simulate the patients whose number modulo ``scale.parts`` is ``part``."""
        self.ref, self.horizon, self.scale = ref, horizon, scale
        self.seed, self.rates = seed, rates
        self.part = part
        # ids and random streams of a part carry its number, so parts never collide
        self.tag = str(part) if scale.parts > 1 else ""
        self.stream = f"/{part}" if scale.parts > 1 else ""
        self.world = World({s: horizon.extracts(s) for s in SYSTEMS}, self.tag)
        self.patients: list[Patient] = []
        self._charge_seq = 0
        self._done: list[Account] = []  # accounts simulated, not yet handed to the buckets
        # patient id -> (Coverage versions handed out, successor handed out)
        self._coverages_out: dict[str, tuple[int, bool]] = {}
        self._payer_index = {p.id: i for i, p in enumerate(ref.payers)}
        # remittances waiting for their payment day: (day, payer index, entity) -> claims
        self._remit_groups: dict[tuple[Any, ...], list[RemitClaim]] = {}
        self._traces = 0
        self._rcm_final = horizon.extracts("rcm")[-1]

    def new_charge_id(self) -> str:
        self._charge_seq += 1
        return f"CI{self.tag}{self._charge_seq:0{9 - len(self.tag)}d}"

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
            self._registration(p)
            self._hand_out_coverage(p)
        visits = sorted(
            ((day, p.id, p) for p in self.patients for day in p.service_days),
            key=lambda v: (v[0], v[1]),
        )
        if progress:
            progress(f"simulating {len(self.patients)} patients, {len(visits)} encounters")
        for seq, (day, _, patient) in enumerate(visits, 1):
            self._account(seq, day, patient)
            for account in self._done:
                self._hand_out(account)
            self._done.clear()
            if seq == len(visits) or visits[seq][0] != day:
                self._payments(day)
                if day_done:
                    day_done(day)
                if progress and (seq == len(visits) or visits[seq][0].month != day.month):
                    progress(f"simulated service month {day:%Y-%m}")
        self._payments(None)
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
            w.revenue.append(Revenue(account.entity, day, at(day, 21, 30), amount))
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
            self._remit_groups.setdefault(key, []).append(remit)
        self._hand_out_coverage(account.patient)

    def _hand_out_coverage(self, p: Patient) -> None:
        """Hand out the Coverage versions (and the successor Coverage) not yet handed out."""
        versions, successor = self._coverages_out.get(p.id, (0, False))
        if not versions and p.secondary is not None:
            self.world.coverages.append(Coverage(p.secondary.created_at, p, secondary=p.secondary))
        for v in p.coverage[versions:]:
            self.world.coverages.append(Coverage(v.updated_at, p, version=v))
        if p.successor is not None and not successor:
            self.world.coverages.append(Coverage(p.successor.created_at, p, successor=p.successor))
        self._coverages_out[p.id] = (len(p.coverage), p.successor is not None)

    # -- registration and eligibility
    def _registration(self, p: Patient) -> None:
        if len(p.coverage) > 1:
            rng = random.Random(f"{self.seed}:registration:{p.id}")
            self.world.eligibility.append(
                EligibilityCheck(
                    "",
                    p.id,
                    p.payer.id,
                    p.coverage[0].member_id,
                    later(rng, p.registered_at, 5, 30),
                    "NOT_FOUND",
                    None,
                    None,
                )
            )

    # -- one encounter, from check-in to a zero balance
    def _account(self, seq: int, day: date, p: Patient) -> None:
        rng = random.Random(f"{self.seed}:account:{seq}{self.stream}")
        drng = random.Random(f"{self.seed}:defects:{seq}{self.stream}")
        ref, w = self.ref, self.world
        visit = _visit(rng, p, day)
        if visit.kind == "hospital":
            facility = ref.facility_by_id[p.hospital_id]
        else:
            clinics = ref.clinics_of(p.hospital_id)
            home = ref.facility_by_id[p.clinic_id]
            facility = home if not clinics or rng.random() < 0.85 else pick(rng, clinics)
        start = at(day, rint(rng, 8, 15), between(rng, 0, 60, 5))
        end = start + timedelta(minutes=visit.minutes)
        if visit.profile == INPATIENT:
            # a stay is discharged by the last simulated day, so its Encounter lands with the
            # eligibility check, authorization and any copay of its admission
            end = min(end, at(self.horizon.end, 20))
        account = Account(
            f"A{self.tag}{seq:0{9 - len(self.tag)}d}",
            p,
            facility,
            visit.profile,
            start,
            end,
            visit.diagnoses,
            [],
        )
        # the main service is charged first (at checkout or from the visit note); supplies and
        # drugs follow it, so the charges entered so far always cover a check-in copay
        first: datetime | None = None
        for hcpcs, units in visit.lines:
            if first is None:
                entered = first = later(rng, end, 15, 24 * 60)
            else:
                entered = later(rng, first, 5, 12 * 60)
            account.charges.append(
                Charge(
                    self.new_charge_id(),
                    account.id,
                    p.id,
                    hcpcs,
                    units,
                    self.ref.unit_price(hcpcs, day) * units,
                    day,
                    entered,
                    facility.id,
                )
            )
        if p.payer.self_pay:
            self._self_pay(rng, account)
            return
        account.eligibility_at = start - timedelta(minutes=rint(rng, 20, 120))
        auth_codes = [c.hcpcs for c in account.charges if ref.needs_auth(p.payer, c.hcpcs)]
        kind = defects.choose(drng, self.rates, self._eligible(account, day, auth_codes))
        # an edge case or look-alike, only on an account without a defect (its own stream)
        crng = random.Random(f"{self.seed}:cases:{seq}{self.stream}")
        case = (
            defects.choose_case(crng, self.rates, self._eligible_cases(account, day))
            if kind is None
            else None
        )
        outside = defects.inside_or_outside(crng)
        self._case_charges(crng, case, outside, account)
        truth: list[Defect] = []
        if kind == defects.DUPLICATE_CHARGE:
            orig = pick(drng, account.charges)
            dup = Charge(
                self.new_charge_id(),
                account.id,
                p.id,
                orig.hcpcs,
                orig.units,
                orig.amount,
                day,
                later(drng, orig.entered_at, 5, 180),
                facility.id,
            )
            account.charges.append(dup)
            truth.append(
                Defect(
                    kind,
                    dup.id,
                    "ehr",
                    dup.entered_at,
                    account_id=account.id,
                    claim_id=account.id,
                    charge_id=dup.id,
                    patient_id=p.id,
                    amount=dup.amount,
                )
            )
        stale_member = None
        status, plan_end = "ACTIVE", None
        if kind == defects.COVERAGE_MISMATCH:
            # a new card at check-in: registration records it, billing keeps the old id
            updated = account.eligibility_at - timedelta(minutes=rint(drng, 5, 15))
            stale_member = p.coverage[-1].member_id
            p.coverage.append(
                CoverageVersion(len(p.coverage) + 1, updated, _member_id(drng, p.payer))
            )
        elif kind == defects.COVERAGE_INACTIVE:
            earlier = [d for d in p.service_days if d < day]
            plan_end = day - timedelta(days=rint(drng, 1, 20))
            if earlier:
                plan_end = max(plan_end, earlier[-1])
            status = "INACTIVE"
            ended = CoverageVersion(
                len(p.coverage) + 1,
                later(drng, account.eligibility_at, 10, 90),
                p.member_id_at(account.eligibility_at),
                plan_end,
            )
            if random.Random(f"{self.seed}:inactive-unrecorded:{account.id}").random() >= (
                self.rates.get(defects.INACTIVE_UNRECORDED, 0)
            ):
                p.coverage.append(ended)
            # else registration never records the termination: only the INACTIVE eligibility
            # response (with the plan's end) shows it
        if case == defects.ELIGIBILITY_RECHECK:
            # the first inquiry goes out with a mistyped birth date and comes back INACTIVE;
            # patient access corrects it and the re-check minutes later is ACTIVE
            w.eligibility.append(
                EligibilityCheck(
                    "",
                    p.id,
                    p.payer.id,
                    p.member_id_at(account.eligibility_at),
                    account.eligibility_at - timedelta(minutes=rint(crng, 3, 15)),
                    "INACTIVE",
                    None,
                    None,
                )
            )
        w.eligibility.append(
            EligibilityCheck(
                "",
                p.id,
                p.payer.id,
                p.member_id_at(account.eligibility_at),
                account.eligibility_at,
                status,
                p.coverage_start,
                plan_end,
            )
        )
        if auth_codes and kind != defects.MISSING_PRIOR_AUTH:
            account.auth_number = f"PA{between(rng, 10**8, 10**9)}"
            account.auth_at = office_time(rng, day - timedelta(days=rint(rng, 2, 10)))
            w.claim_events.append(
                ClaimEvent(
                    account.id,
                    "AUTH_OBTAINED",
                    account.auth_at,
                    pick(rng, REGISTRARS),
                    "PATIENT_ACCESS",
                    f"prior authorization {account.auth_number} for "
                    + ",".join(sorted(set(auth_codes))),
                )
            )
        copay_owed = (
            p.payer.copay if any(CHARGEMASTER[c.hcpcs].visit for c in account.charges) else 0
        )
        if not copay_owed and p.payer.copay and rng.random() < 0.08:
            copay_owed = p.payer.copay  # collected at check-in although the visit had none
        if status != "ACTIVE":
            copay_owed = 0  # no active plan, no copay
        if copay_owed:
            w.patient_payments.append(
                PatientPayment(
                    "",
                    p.id,
                    account.id,
                    account.entity,
                    copay_owed,
                    start - timedelta(minutes=rint(rng, 5, 15)),
                    "CARD",
                )
            )

        claim = self._claim(
            rng, account, account.charges, "1", None, max(c.entered_at for c in account.charges)
        )
        if stale_member is not None:
            claim.member_id = stale_member
        if (
            account.auth_number
            and account.claim_type == "P"
            and random.Random(f"{self.seed}:line-auth:{seq}{self.stream}").random()
            < self.rates.get(defects.LINE_AUTH, 0)
        ):
            # the authorization rides on the lines that need it (2400 REF*G1), not the claim
            claim.line_auth_ids = frozenset(
                c.id for c in claim.lines if ref.needs_auth(p.payer, c.hcpcs)
            )
        behaviour = _PatientBehaviour.draw(rng)
        claim_remit_date = remit_date(rng, claim)
        plan = defects.plan_claim(
            drng, kind, account, claim, claim_remit_date, copay_owed, self.horizon
        )
        if case == defects.EDGE_UNBILLED:
            plan.blocked = True  # held by the scrubber: every charge stays unbilled
            plan.unbilled_truth = outside
        elif case == defects.EDGE_LATE_CHARGE:
            entered = defects.late_charge_time(crng, claim.submitted_at, outside)
            taken = {c.hcpcs for c in account.charges}
            codes = [lc for lc in defects.LATE_CODES if lc[0] not in taken]
            if codes and entered + defects.REPLACEMENT_MAX_DELAY <= self._rcm_final:
                hcpcs, units = pick(crng, codes)
                plan.late = defects.LateCharge(hcpcs, units, entered)
                plan.late_truth = outside
        elif case == defects.EDGE_NO_RESPONSE:
            target = self._follow_up_target(outside, claim)
            if target is None:
                case = None
            else:
                claim.created_at = office_time(crng, target, 9, 15)
                claim.submitted_at = at(target, 19)
                claim.accepted_at = office_time(crng, target + timedelta(days=1), 7, 9)
                if claim.scrubber_failed_at is not None:
                    claim.scrubber_failed_at = later(crng, claim.created_at, 5, 40)
        late = None
        if plan.late is not None:
            late = Charge(
                self.new_charge_id(),
                account.id,
                p.id,
                plan.late.hcpcs,
                plan.late.units,
                ref.unit_price(plan.late.hcpcs, day) * plan.late.units,
                day,
                plan.late.entered_at,
                facility.id,
            )
        self._done.append(account)
        w.defects.extend(truth)
        w.defects.extend(plan.truth(account, late))
        interim_rest: list[Charge] = []
        if case == defects.INTERIM_BILLS and copay_owed:
            # a copay taken at check-in is settled after the last adjudication: with an interim
            # bill still unanswered at the extract it would read as a credit balance
            case = None
        if case == defects.INTERIM_BILLS:
            # the stay is billed in interim claims: the first (CLM05-3 = 2) with the first
            # half of the lines, the last (4) with the rest
            claim.frequency = "2"
            half = max(1, len(claim.lines) // 2)
            claim.lines, interim_rest = claim.lines[:half], claim.lines[half:]
        if plan.blocked:
            created = claim.created_at
            w.claim_events += [
                ClaimEvent(
                    account.id, "CLAIM_CREATED", created, "system", "BILLING", "claim built"
                ),
                ClaimEvent(
                    account.id,
                    "SCRUBBER_FAILED",
                    later(rng, created, 5, 40),
                    "system",
                    "CODING",
                    "claim edit failed: held for coding review",
                ),
            ]
            return
        if plan.dropped:
            dropped = {c.id for c in plan.dropped}
            claim.lines = [c for c in claim.lines if c.id not in dropped]
        self._claim_events(rng, claim)
        account.claims.append(claim)
        billed_on = claim.submitted_at
        if kind in (defects.COVERAGE_MISMATCH, defects.COVERAGE_INACTIVE):
            w.defects.append(defects.account_truth(kind, account, billed_on, claim.total))
        if kind == defects.MISSING_PRIOR_AUTH:
            w.defects.append(
                defects.account_truth(
                    kind,
                    account,
                    billed_on,
                    sum(c.amount for c in claim.lines if ref.needs_auth(p.payer, c.hcpcs)),
                )
            )
        if (
            kind == defects.CLAIM_NO_RESPONSE
            and billed_on <= self.horizon.as_of - defects.NO_RESPONSE_MIN_AGE
        ):
            w.defects.append(defects.account_truth(kind, account, billed_on, claim.total))
            return  # the payer never answers
        if case == defects.EDGE_NO_RESPONSE:
            # no answer yet: just past the follow-up window (a defect) or just inside it
            if outside:
                w.defects.append(
                    defects.account_truth(
                        defects.CLAIM_NO_RESPONSE, account, billed_on, claim.total
                    )
                )
            return
        deductible_before = p.deductible_left
        remit, p.deductible_left = adjudicate(ref, claim, deductible_before)
        remit_received, _ = payment_times(ref, p.payer, account.entity, claim_remit_date)
        add_on = (
            account.inpatient
            and not copay_owed
            and random.Random(f"{self.seed}:late-charges-claim:{seq}{self.stream}").random()
            < self.rates.get(defects.LATE_CHARGES_CLAIM, 0)
        )
        if late is not None and add_on:
            # an inpatient stay's late charge goes out on a late-charges claim (CLM05-3 = 5)
            # that adds to the original, adjudicated on its own
            account.charges.append(late)
            extra = self._claim(rng, account, [late], "5", None, late.entered_at)
            self._claim_events(rng, extra)
            account.claims.append(extra)
            extra_remit, p.deductible_left = adjudicate(ref, extra, p.deductible_left)
            account.remits += [remit, extra_remit]
            account.remit_dates += [
                claim_remit_date,
                max(remit_date(rng, extra), claim_remit_date),
            ]
        elif late is not None:
            account.charges.append(late)
            replacement = self._claim(
                rng, account, [*claim.lines, late], "7", claim.icn, late.entered_at
            )
            self._claim_events(rng, replacement)
            account.claims.append(replacement)
            new_remit, p.deductible_left = adjudicate(ref, replacement, deductible_before)
            replacement_remit_date = remit_date(rng, replacement)
            if claim_remit_date < replacement.submitted_at.date():
                account.remits.append(remit)
                account.remit_dates.append(claim_remit_date)
                account.remits.append(reversal(remit))
                account.remit_dates.append(replacement_remit_date)
            account.remits.append(new_remit)
            account.remit_dates.append(replacement_remit_date)
        elif plan.denial_reason is not None:
            p.deductible_left = deductible_before
            account.remits.append(defects.deny(remit, plan.denial_reason))
            account.remit_dates.append(claim_remit_date)
            if kind == defects.DENIAL and drng.random() < APPEAL_SHARE:
                self._appeal(drng, account, remit, claim_remit_date)
        elif case == defects.INTERIM_BILLS:
            self._interim_bills(rng, account, remit, claim_remit_date, interim_rest)
        else:
            if kind == defects.UNDERPAYMENT and remit.paid > 0:
                underpaid, short = defects.underpay(drng, remit)
                if short >= defects.UNDERPAYMENT_MIN:
                    remit = underpaid
                    w.defects.append(defects.account_truth(kind, account, remit_received, short))
            if case == defects.EDGE_UNDERPAYMENT and remit.paid > 0:
                cents = defects.tolerance_cut(crng, outside)
                cut = defects.cut_line(remit, cents)
                if cut is not None:
                    remit = cut
                    if outside:
                        w.defects.append(
                            defects.account_truth(
                                defects.UNDERPAYMENT, account, remit_received, cents
                            )
                        )
            if case == defects.TAKEBACK and self._takeback(crng, account, remit, claim_remit_date):
                pass
            else:
                account.remits.append(remit)
                account.remit_dates.append(claim_remit_date)
                if kind in SECONDARY_WITH and case is None:
                    self._bill_secondary(account, remit, claim_remit_date, copay_owed)
        self._patient_side(rng, drng, kind, account, behaviour, copay_owed)
        if kind == defects.REMIT_UNBALANCED:
            unbalanced = defects.unbalance(account.remits[-1])
            if unbalanced is not None:
                account.remits[-1] = unbalanced[0]
                w.defects.append(
                    defects.account_truth(kind, account, remit_received, unbalanced[1])
                )

    def _bill_secondary(
        self, account: Account, primary: RemitClaim, paid_on: date, collected: int
    ) -> None:
        """Cross the claim over to the patient's second coverage once the primary's 835 is
        posted: a secondary 837 (SBR01 = S, the primary's adjudication in loops 2320/2330) for
        what the primary left to the patient, and the secondary's 835 (CLP02 = 2).

        Only a balance the copay collected at check-in does not already cover is crossed over:
        a copay above the primary's patient responsibility is refunded when the primary's 835
        is posted, so no credit balance waits for the secondary."""
        p = account.patient
        second = p.secondary
        if (
            second is None
            or second.start > account.start.date()
            or primary.status != "1"
            or primary.adjusted("PR") <= collected
        ):
            return
        rng = random.Random(f"{self.seed}:secondary:{account.id}")
        if rng.random() >= SECONDARY_BILLED_SHARE:
            return
        _, posted = payment_times(self.ref, primary.claim.payer, account.entity, paid_on)
        created, submitted, accepted = _submission(rng, posted, 3)
        claim = Claim(
            account.id,
            "1",
            created,
            submitted,
            accepted,
            list(primary.claim.lines),
            second.payer,
            second.member_id,
            account.auth_number,
            f"{accepted:%y%j}{between(rng, 10**9, 10**10)}",
            account=account,
            responsibility="S",
            prior=primary,
            prior_paid_on=paid_on,
        )
        self._claim_events(rng, claim)
        account.claims.append(claim)
        account.remits.append(adjudicate_secondary(self.ref, claim, primary))
        account.remit_dates.append(remit_date(rng, claim))

    def _self_pay(self, rng: random.Random, account: Account) -> None:
        """An uninsured patient: no claim, statements for the charges until they are paid."""
        w, p = self.world, account.patient
        self._done.append(account)
        b = _PatientBehaviour.draw(rng)
        owed = sum(c.amount for c in account.charges)
        day = max(c.entered_at for c in account.charges).date() + timedelta(days=b.statement_lag)
        for cycle in range(3):
            sent = at(day, 18)
            w.statements.append(
                Statement("", p.id, account.id, day, sent, owed, p.payer.id, p.member_id_at(sent))
            )
            pays = b.pays_on_cycle(cycle)
            if pays:
                amount = owed if pays == "full" else owed // 2
                paid_at = office_time(rng, day + timedelta(days=b.pay_lag[cycle]), 7, 20)
                w.patient_payments.append(
                    PatientPayment("", p.id, account.id, account.entity, amount, paid_at, b.method)
                )
                owed -= amount
                if owed == 0:
                    w.claim_events.append(
                        ClaimEvent(
                            account.id, "CLOSED", paid_at, "system", "BILLING", "zero balance"
                        )
                    )
                    return
            day += timedelta(days=30)

    def _appeal(
        self, drng: random.Random, account: Account, clean: RemitClaim, denied_on: date
    ) -> None:
        """The denials team appeals with the missing documentation; the payer overturns some
        denials and pays the claim at contract in a later 835 (CLP02 = 1)."""
        p = account.patient
        _, posted = payment_times(self.ref, p.payer, account.entity, denied_on)
        account.appealed_at = office_time(drng, posted.date() + timedelta(days=rint(drng, 3, 12)))
        self.world.claim_events.append(
            ClaimEvent(
                account.id,
                "APPEALED",
                account.appealed_at,
                pick(drng, BILLERS),
                "DENIALS",
                "appeal sent with medical records",
            )
        )
        if drng.random() >= OVERTURN_SHARE:
            return  # upheld: the denial stands
        day = next_weekday(
            account.appealed_at.date() + timedelta(days=rint(drng, 15, 35)), p.payer.pay_weekdays
        )
        p.deductible_left = max(
            0,
            p.deductible_left
            - sum(
                a.amount
                for ln in clean.lines
                for a in ln.adjustments
                if a.group == "PR" and a.reason == "1"
            ),
        )
        account.remits.append(clean)
        account.remit_dates.append(day)
        account.overturned_at = payment_times(self.ref, p.payer, account.entity, day)[0]

    def _eligible(self, account: Account, day: date, auth_codes: list[str]) -> dict[str, float]:
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

    def _eligible_cases(self, account: Account, day: date) -> dict[str, float]:
        """The edge cases and look-alikes an account without a defect can carry."""
        p, as_of = account.patient, self.horizon.as_of
        out = {
            # an inpatient stay's late charge goes out on a late-charges claim (CLM05-3 = 5)
            defects.EDGE_LATE_CHARGE: 15.0 if account.inpatient else 1.0,
            defects.ELIGIBILITY_RECHECK: 1.0,
        }
        if account.end + timedelta(days=7) < self._rcm_final:
            # a repeat is told from a duplicate by its claim line's modifier (a FHIR ChargeItem
            # has none), so it is placed where the claim has gone out by the as-of time
            out[defects.REPEAT_MODIFIER] = 1.0
        window = timedelta(days=defects.get_settings().billing_window_days)
        if day >= (as_of - window).date() - timedelta(
            days=4
        ) and account.end < as_of - window - timedelta(hours=10):
            out[defects.EDGE_UNBILLED] = 1.0
        outside_day, inside_day = defects.follow_up_days(as_of)
        if outside_day - timedelta(days=8) <= day < inside_day - timedelta(days=1):
            out[defects.EDGE_NO_RESPONSE] = 1.0
        if p.payer.fee_factor is not None:
            out[defects.EDGE_UNDERPAYMENT] = 1.0
            out[defects.PRICE_BELOW_CONTRACT] = 1.0
        if account.inpatient and len(account.charges) >= 2:
            out[defects.INTERIM_BILLS] = 1.0
        if p.secondary is None:
            out[defects.TAKEBACK] = 1.0
        return out

    def _case_charges(
        self, crng: random.Random, case: str | None, outside: bool, account: Account
    ) -> None:
        """The charge side of a case: a repeat with its modifier, a price below the contract,
        entry times at the billing window's edge."""
        if case == defects.REPEAT_MODIFIER:
            orig = account.charges[0]
            account.charges.append(
                Charge(
                    self.new_charge_id(),
                    account.id,
                    orig.patient_id,
                    orig.hcpcs,
                    orig.units,
                    orig.amount,
                    orig.service_date,
                    later(crng, orig.entered_at, 5, 120),
                    orig.facility_id,
                    pick(crng, REPEAT_MODIFIERS),
                )
            )
        elif case == defects.PRICE_BELOW_CONTRACT:
            payer = account.patient.payer
            total = sum(c.amount for c in account.charges)
            for ch in account.charges:
                rate = self.ref.contract_rate(payer, ch.hcpcs, ch.service_date) * ch.units
                price = rate - between(crng, rate // 20, rate // 5)
                # a courtesy price below the contract rate: the payer allows the charge; never
                # so low that a copay taken at check-in would exceed the account's charges
                if rate >= 1000 and total - ch.amount + price >= 2 * payer.copay:
                    ch.amount = price
                    break
        elif case == defects.EDGE_UNBILLED:
            entered = defects.billing_window_times(crng, self.horizon.as_of, outside)
            for n, ch in enumerate(account.charges):
                ch.entered_at = entered + timedelta(minutes=n)

    def _follow_up_target(self, outside: bool, claim: Claim) -> date | None:
        """The submission day of an unanswered claim just outside (the latest weekday past the
        follow-up window) or just inside it (the first weekday after), if the claim can go out
        that day."""
        outside_day, inside_day = defects.follow_up_days(self.horizon.as_of)
        target, step = (outside_day, -1) if outside else (inside_day, 1)
        while target.weekday() >= 5:
            target += timedelta(days=step)
        ready = max(c.entered_at for c in claim.lines).date()
        if ready < target <= min(ready + timedelta(days=10), self.horizon.end):
            return target
        return None

    def _interim_bills(
        self,
        rng: random.Random,
        account: Account,
        first: RemitClaim,
        first_day: date,
        rest: list[Charge],
    ) -> None:
        """The last interim claim (CLM05-3 = 4) of a stay, after the first: each is adjudicated
        on its own."""
        p = account.patient
        claim = self._claim(rng, account, rest, "4", None, first.claim.submitted_at)
        self._claim_events(rng, claim)
        account.claims.append(claim)
        last, p.deductible_left = adjudicate(self.ref, claim, p.deductible_left)
        account.remits += [first, last]
        account.remit_dates += [first_day, max(remit_date(rng, claim), first_day)]

    def _takeback(
        self, crng: random.Random, account: Account, remit: RemitClaim, paid_on: date
    ) -> bool:
        """The payer first pays without the deductible and coinsurance, then recovers the
        overpayment: a reversal and the corrected adjudication in an 835 of their own whose
        payment is negative (BPR03 = D). False when the claim has nothing to recover or the
        correction would come after the extract."""
        if remit.status != "1":
            return False
        corrected_on = next_weekday(
            paid_on + timedelta(days=rint(crng, 14, 30)), account.patient.payer.pay_weekdays
        )
        if corrected_on >= self._rcm_final.date() - timedelta(days=1):
            return False
        lines, recovered = [], 0
        for ln in remit.lines:
            owed = sum(
                a.amount for a in ln.adjustments if a.group == "PR" and a.reason in ("1", "2")
            )
            recovered += owed
            lines.append(
                RemitLine(
                    ln.charge,
                    ln.charge_amount,
                    ln.paid + owed,
                    ln.allowed,
                    [
                        Adjustment(a.group, a.reason, a.amount)
                        for a in ln.adjustments
                        if not (a.group == "PR" and a.reason in ("1", "2"))
                    ],
                )
            )
        if not recovered:
            return False
        overpaid = RemitClaim(remit.claim, "1", remit.icn, lines)
        undo = reversal(overpaid)
        undo.separate = True
        corrected = RemitClaim(remit.claim, remit.status, remit.icn, remit.lines, separate=True)
        account.remits += [overpaid, undo, corrected]
        account.remit_dates += [paid_on, corrected_on, corrected_on]
        return True

    def _claim(
        self,
        rng: random.Random,
        account: Account,
        lines: list[Charge],
        frequency: str,
        original_icn: str | None,
        ready: datetime,
    ) -> Claim:
        p = account.patient
        created, submitted, accepted = _submission(rng, ready, 2)
        claim = Claim(
            account.id,
            frequency,
            created,
            submitted,
            accepted,
            list(lines),
            p.payer,
            p.member_id_at(created),
            account.auth_number,
            f"{accepted:%y%j}{between(rng, 10**9, 10**10)}",
            original_icn,
            account=account,
        )
        if rng.random() < 0.08:
            claim.scrubber_failed_at = later(rng, created, 5, 40)
        return claim

    def _claim_events(self, rng: random.Random, claim: Claim) -> None:
        ev = self.world.claim_events
        biller = pick(rng, BILLERS)
        detail = (
            "secondary claim"
            if claim.responsibility == "S"
            else "replacement claim"
            if claim.frequency == "7"
            else "original claim"
        )
        ev.append(
            ClaimEvent(
                claim.account_id, "CLAIM_CREATED", claim.created_at, "system", "BILLING", detail
            )
        )
        if claim.scrubber_failed_at:
            ev.append(
                ClaimEvent(
                    claim.account_id,
                    "SCRUBBER_FAILED",
                    claim.scrubber_failed_at,
                    "system",
                    "BILLING",
                    "claim edit failed: corrected by biller",
                )
            )
        ev.append(
            ClaimEvent(
                claim.account_id,
                "CLAIM_SUBMITTED",
                claim.submitted_at,
                biller,
                "BILLING",
                f"837P frequency {claim.frequency}"
                + (" to the secondary payer" if claim.responsibility == "S" else ""),
            )
        )
        ev.append(
            ClaimEvent(
                claim.account_id,
                "CLAIM_ACCEPTED",
                claim.accepted_at,
                "clearinghouse",
                "BILLING",
                "accepted by payer",
            )
        )

    # -- after the (last) remittance: what the patient owes
    def _patient_side(
        self,
        rng: random.Random,
        drng: random.Random,
        kind: str | None,
        account: Account,
        b: _PatientBehaviour,
        collected: int,
    ) -> None:
        w, p = self.world, account.patient
        ev = w.claim_events
        for remit, day in zip(account.remits, account.remit_dates, strict=True):
            _, posted = payment_times(self.ref, remit.claim.payer, account.entity, day)
            ev.append(
                ClaimEvent(
                    account.id,
                    "PAYMENT_POSTED",
                    posted,
                    "era-autopost",
                    "CASH_POSTING",
                    f"CLP02 {remit.status}",
                )
            )
            if remit.status == "4":  # denied: worked by the denials team, AR stays open
                reason = remit.lines[0].adjustments[0].reason
                ev.append(
                    ClaimEvent(
                        account.id,
                        "DENIED",
                        posted,
                        "era-autopost",
                        "DENIALS",
                        f"claim denied CO-{reason}",
                    )
                )
        last = account.remits[-1]
        _, posted = payment_times(
            self.ref, last.claim.payer, account.entity, account.remit_dates[-1]
        )
        if last.status == "4":
            if kind == defects.WRITE_OFF_UNAPPROVED:
                biller = pick(drng, BILLERS)
                wo_at = office_time(drng, posted.date() + timedelta(days=rint(drng, 2, 7)))
                amount = account.remits[-1].charge
                erng = random.Random(f"{self.seed}:write-off-edge:{account.id}")
                if erng.random() < self.rates.get(defects.EDGE_WRITE_OFF, 0):
                    # the biller writes off up to the approval policy alone: exactly the policy
                    # (no approval needed) or a few cents above it (a defect)
                    amount = defects.WRITE_OFF_POLICY + (
                        rint(erng, 1, 99) if defects.inside_or_outside(erng) else 0
                    )
                w.write_offs.append(
                    WriteOff(
                        account.id,
                        account.entity,
                        amount,
                        wo_at,
                        "",
                        "timely filing denial",
                        created_by=biller,
                    )
                )
                ev.append(
                    ClaimEvent(
                        account.id,
                        "WRITTEN_OFF",
                        wo_at,
                        biller,
                        "BILLING",
                        "denied balance write-off",
                    )
                )
            return
        balance = account.patient_responsibility - collected
        if balance < 0:
            if kind == defects.CREDIT_BALANCE:  # the over-collected copay is never refunded
                w.defects.append(defects.account_truth(kind, account, posted, -balance))
                return
            # refunded when the remittance is posted, so no credit balance outlives a batch
            refunded = later(rng, posted, 30, 240)
            w.patient_payments.append(
                PatientPayment(
                    "", p.id, account.id, account.entity, balance, refunded, "REFUND_CHECK"
                )
            )
            ev.append(
                ClaimEvent(
                    account.id,
                    "REFUNDED",
                    refunded,
                    pick(rng, SUPERVISORS),
                    "CASH_POSTING",
                    "patient credit balance refunded",
                )
            )
            ev.append(
                ClaimEvent(account.id, "CLOSED", refunded, "system", "BILLING", "zero balance")
            )
            return
        if balance == 0:
            ev.append(
                ClaimEvent(
                    account.id,
                    "CLOSED",
                    posted + timedelta(minutes=1),
                    "system",
                    "BILLING",
                    "zero balance",
                )
            )
            return
        if balance < SMALL_BALANCE:
            wo_at = office_time(rng, posted.date() + timedelta(days=rint(rng, 1, 2)))
            w.write_offs.append(
                WriteOff(
                    account.id,
                    account.entity,
                    balance,
                    wo_at,
                    pick(rng, SUPERVISORS),
                    "small balance",
                )
            )
            ev.append(
                ClaimEvent(
                    account.id,
                    "WRITTEN_OFF",
                    wo_at,
                    pick(rng, BILLERS),
                    "BILLING",
                    "small balance write-off",
                )
            )
            ev.append(ClaimEvent(account.id, "CLOSED", wo_at, "system", "BILLING", "zero balance"))
            return
        statement_day = posted.date() + timedelta(days=b.statement_lag)
        stale = None
        if kind == defects.STATEMENT_STALE_COVERAGE:
            # the patient changes plans after the claim was paid; a new Coverage replaces the
            # old one, which ends the day before
            changed = office_time(drng, posted.date() + timedelta(days=1))
            stale = p.member_id_at(changed)
            p.coverage.append(
                CoverageVersion(
                    len(p.coverage) + 1, changed, stale, changed.date() - timedelta(days=1)
                )
            )
            p.successor = Successor(
                f"{p.coverage_id}-2", changed.date(), changed, _member_id(drng, p.payer)
            )
        owed = balance
        for cycle in range(3):
            sent = at(statement_day, 18)
            due = owed
            if cycle == 0 and kind == defects.PATIENT_BALANCE_MISMATCH and collected:
                due = owed + collected  # the check-in copay was not applied
            member = p.successor.member_id if p.successor else p.member_id_at(sent)
            if cycle == 0 and stale is not None:
                member = stale
            statement = Statement(
                "", p.id, account.id, statement_day, sent, due, p.payer.id, member
            )
            w.statements.append(statement)  # numbers it
            if due != owed or (cycle == 0 and stale is not None):
                row = defects.account_truth(kind or "", account, sent, abs(due - owed) or due)
                row.key = row.statement_id = statement.id
                w.defects.append(row)
            pays = b.pays_on_cycle(cycle)
            if pays:
                amount = owed if pays == "full" else owed // 2
                paid_at = office_time(rng, statement_day + timedelta(days=b.pay_lag[cycle]), 7, 20)
                w.patient_payments.append(
                    PatientPayment("", p.id, account.id, account.entity, amount, paid_at, b.method)
                )
                owed -= amount
                if owed == 0 and kind == defects.CREDIT_BALANCE:
                    # the same statement paid a second time, another way, days later
                    again = office_time(
                        drng, paid_at.date() + timedelta(days=rint(drng, 2, 9)), 7, 20
                    )
                    method = "ONLINE" if b.method != "ONLINE" else "CHECK"
                    w.patient_payments.append(
                        PatientPayment("", p.id, account.id, account.entity, amount, again, method)
                    )
                    w.defects.append(defects.account_truth(kind, account, again, amount))
                    return
                if owed == 0:
                    ev.append(
                        ClaimEvent(
                            account.id, "CLOSED", paid_at, "system", "BILLING", "zero balance"
                        )
                    )
                    return
            statement_day += timedelta(days=30)

    # -- payer payments: one per payer, entity and payment day
    def _payments(self, through: date | None) -> None:
        """Make the payments of every payment day up to ``through`` (all when None): every
        remittance of such a day is known, as it follows its claim's service day."""
        ready = sorted(k for k in self._remit_groups if through is None or k[0] <= through)
        for key in ready:
            day, pi, entity = key[:3]
            payer = self.ref.payers[pi]
            received, posted = payment_times(self.ref, payer, entity, day)
            self._traces += 1
            payment = Payment(
                f"{day:%Y%m%d}{self.tag}{self._traces:0{7 - len(self.tag)}d}",
                payer,
                entity,
                day,
                received,
                posted,
                sorted(
                    self._remit_groups.pop(key),
                    key=lambda r: (r.claim.account_id, r.status != "22"),
                ),
            )
            if not any(r.separate for r in payment.claims):
                payment.plb = prompt_pay_interest(payment)
            # a lockbox day of a payer (the same draw in every part): its payments are
            # deposited together without a trace (by the first part), so none of them gets a
            # deposit defect or case
            lockbox = random.Random(f"{self.seed}:lockbox:{payer.id}:{day}").random() < (
                self.rates.get(defects.LOCKBOX, 0)
            )
            not_yet = defects.judged_later(day, self.horizon.as_of)
            if lockbox:
                not_yet |= {defects.DEPOSIT_MISMATCH}
            row = defects.plan_payment(
                random.Random(f"{self.seed}:payment:{payment.trace}"),
                self.rates,
                payment,
                not_yet=not_yet,
            )
            if row is not None:
                self.world.defects.append(row)
            elif payment.gl == "post" and payment.deposit == "deposit":
                case_row = self._payment_case(payment, lockbox)
                if case_row is not None:
                    self.world.defects.append(case_row)
            for remit in payment.claims:
                account = remit.claim.account
                assert account is not None
                if remit.status == "4" and not (
                    account.overturned_at is not None and account.overturned_at <= self._rcm_final
                ):
                    # a denial overturned on appeal before the as-of time is paid, not open
                    self.world.defects.append(defects.denial_truth(account, remit, payment))
            self.world.remittances.append(payment)
            self.world.payments.append(payment)

    def _payment_case(self, payment: Payment, lockbox: bool) -> Defect | None:
        """The edge cases and look-alikes of a clean payment's GL posting and deposit; returns
        the truth row of a case just outside its lag window."""
        if payment.amount <= 0:
            return None
        rng = random.Random(f"{self.seed}:payment-case:{payment.trace}")
        rates, settings = self.rates, defects.get_settings()
        as_of, day = self.horizon.as_of, payment.paid_on
        days_left = (as_of.date() - day).days
        row = None

        def missing(kind: str) -> Defect:
            return Defect(
                kind,
                payment.trace,
                "erp",
                payment.posted_at,
                trace_number=payment.trace,
                amount=payment.amount,
            )

        # the GL side: posted one to three days late; a posting missing just past the window
        # (a defect) or still pending just inside it; reversed and posted again
        gl_lag = settings.gl_posting_lag_days
        u = rng.random()
        if defects.lag_judged(day, as_of, gl_lag):
            if not defects.lag_judged(day, as_of, gl_lag + 3) and u < rates.get(
                defects.EDGE_GL_LAG, 0
            ):
                payment.gl = "skip"
                row = missing(defects.REMIT_NOT_IN_GL)
        elif u < rates.get(defects.EDGE_GL_LAG, 0):
            payment.gl_days = days_left + rint(rng, 1, 3)  # lands after the as-of time
        if payment.gl == "post" and not payment.gl_days:
            v = rng.random()
            if v < rates.get(defects.GL_POSTING_LAG, 0):
                payment.gl_days = rint(rng, 1, min(3, gl_lag))
            elif v < rates.get(defects.GL_POSTING_LAG, 0) + rates.get(defects.GL_REPOST, 0):
                payment.gl = "repost"
        # the bank side
        if lockbox:
            if self.part == 0:
                payment.deposit = "lockbox"
            return row
        if row is not None:
            return row
        deposit_lag = settings.deposit_lag_days
        u = rng.random()
        if defects.lag_judged(day, as_of, deposit_lag):
            if not defects.lag_judged(day, as_of, deposit_lag + 3) and u < rates.get(
                defects.EDGE_DEPOSIT_LAG, 0
            ):
                payment.deposit = "missing"
                return missing(defects.DEPOSIT_MISMATCH)
        elif u < rates.get(defects.EDGE_DEPOSIT_LAG, 0):
            payment.deposit_days = days_left + rint(rng, 1, 3)
            return None
        v = rng.random()
        if v < rates.get(defects.DEPOSIT_LAG, 0):
            payment.deposit_days = rint(rng, 1, min(3, deposit_lag))
        elif (
            v < rates.get(defects.DEPOSIT_LAG, 0) + rates.get(defects.SPLIT_DEPOSIT, 0)
            and payment.amount >= 200
        ):
            payment.deposit = "split"
            payment.deposit_amount = between(rng, payment.amount // 3, payment.amount // 3 * 2)
        return None


@dataclass(slots=True)
class _PatientBehaviour:
    """How a patient answers statements, drawn up front so that defects do not shift it."""

    statement_lag: int
    kind: str  # full | partial | none
    pay_lag: tuple[int, int, int]
    method: str

    @staticmethod
    def draw(rng: random.Random) -> _PatientBehaviour:
        u = rng.random()
        kind = "full" if u < 0.6 else "partial" if u < 0.8 else "none"
        return _PatientBehaviour(
            rint(rng, 2, 6),
            kind,
            (rint(rng, 5, 25), rint(rng, 5, 20), rint(rng, 5, 20)),
            pick(rng, ("CARD", "CHECK", "ONLINE")),
        )

    def pays_on_cycle(self, cycle: int) -> str | None:
        if self.kind == "full":
            return "full" if cycle == 0 else None
        if self.kind == "partial":
            return ("partial", "full", None)[cycle]
        return None
