"""What an encounter is: its profile, kind of facility, charge lines (HCPCS, units),
diagnoses and length, drawn from the account's stream."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from billops.synth.draw import pick, rint
from billops.synth.model import INPATIENT, Patient
from billops.synth.reference import DIAGNOSES

Lines = list[tuple[str, int]]  # (HCPCS, units) per charge line


@dataclass(frozen=True)
class Visit:
    profile: str
    kind: str  # clinic | hospital
    lines: Lines
    diagnoses: list[str]
    minutes: int


def _age(p: Patient, on: date) -> int:
    return (
        on.year - p.birth_date.year - ((on.month, on.day) < (p.birth_date.month, p.birth_date.day))
    )


def _injection(rng: random.Random) -> Lines:
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


def _ancillary(rng: random.Random, kind: str, lines: Lines) -> None:
    """Add supply and drug lines, each code at most once per encounter (a code charged twice
    on one day is a duplicate charge)."""
    pool, fewest, most = ANCILLARY[kind]
    taken = {code for code, _ in lines}
    for code, low, high in rng.sample(pool, rint(rng, fewest, most)):
        if code not in taken:
            taken.add(code)
            lines.append((code, rint(rng, low, high)))


def visit(rng: random.Random, p: Patient, day: date) -> Visit:
    drawn = _main_service(rng, p, day)
    if drawn.profile not in ("WELLNESS", "TELEHEALTH", "DME"):
        _ancillary(rng, drawn.kind, drawn.lines)
    return drawn


def _profile_weights(age: int) -> dict[str, int]:
    if age < 18:
        return {
            "CLINIC_VISIT": 60,
            "WELLNESS": 20,
            "TELEHEALTH": 10,
            "DME": 5,
            "HOSPITAL_VISIT": 5,
            "EMERGENCY": 6,
            INPATIENT: 1,
        }
    if age >= 65:
        return {
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
    return {
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


def _main_service(rng: random.Random, p: Patient, day: date) -> Visit:
    age = _age(p, day)
    weights = _profile_weights(age)
    profile = rng.choices(list(weights), weights=list(weights.values()))[0]
    if profile in ("CLINIC_VISIT", "HOSPITAL_VISIT"):
        return _office_visit(rng, profile)
    if profile == "EMERGENCY":
        return _emergency(rng)
    if profile == "WELLNESS":
        return _wellness(rng, p, day, age)
    if profile == "OBSERVATION":
        return _observation(rng)
    if profile == INPATIENT:
        return _admission(rng, DIAGNOSES)
    if profile == "INFUSION":
        return _infusion(rng, age)
    if profile == "COLONOSCOPY":
        lines = [("G0121", 1)] + ([("A4216", 1)] if rng.random() < 0.5 else [])
        return Visit(
            profile=profile,
            kind="hospital",
            lines=lines,
            diagnoses=["Z12.11"],
            minutes=rint(rng, 90, 180),
        )
    if profile == "DME":
        return _equipment(rng)
    if profile == "TELEHEALTH":
        lines = [("Q3014", 1)] + ([("G2211", 1)] if rng.random() < 0.3 else [])
        diagnoses = [pick(rng, DIAGNOSES["acute"] + DIAGNOSES["chronic"])]
        return Visit(
            profile=profile,
            kind="clinic",
            lines=lines,
            diagnoses=diagnoses,
            minutes=rint(rng, 15, 40),
        )
    lines = [("G0283", 1)] + ([("G0463", 1)] if rng.random() < 0.2 else [])
    return Visit(
        profile="THERAPY",
        kind="clinic",
        lines=lines,
        diagnoses=rng.sample(DIAGNOSES["therapy"], 1),
        minutes=rint(rng, 30, 60),
    )


def _office_visit(rng: random.Random, profile: str) -> Visit:
    dx = DIAGNOSES
    lines = [("G0463", 1)]
    if rng.random() < 0.4:
        lines.append(("G2211", 1))
    if rng.random() < 0.25:
        lines += _injection(rng)
    diagnoses = rng.sample(dx["acute"], rint(rng, 1, 2))
    if rng.random() < 0.5:
        diagnoses.append(pick(rng, dx["chronic"]))
    kind = "clinic" if profile == "CLINIC_VISIT" else "hospital"
    return Visit(
        profile=profile, kind=kind, lines=lines, diagnoses=diagnoses, minutes=rint(rng, 20, 60)
    )


def _emergency(rng: random.Random) -> Visit:
    dx = DIAGNOSES
    lines = [("G0383", 1) if rng.random() < 0.35 else ("G0381", 1)]
    lines += _injection(rng)
    if rng.random() < 0.5:
        lines.append(("J7030", 1))
    diagnoses = rng.sample(dx["acute"] + dx["observation"], rint(rng, 1, 3))
    return Visit(
        profile="EMERGENCY",
        kind="hospital",
        lines=lines,
        diagnoses=diagnoses,
        minutes=rint(rng, 90, 360),
    )


def _wellness(rng: random.Random, p: Patient, day: date, age: int) -> Visit:
    dx = DIAGNOSES
    lines: Lines = []
    diagnoses = [pick(rng, dx["wellness"][:2])]
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
    return Visit(
        profile="WELLNESS",
        kind="clinic",
        lines=lines,
        diagnoses=diagnoses,
        minutes=rint(rng, 30, 60),
    )


def _observation(rng: random.Random) -> Visit:
    hours = rint(rng, 4, 12)
    lines = [("G0378", hours), ("J7030", rint(rng, 1, 2))]
    if rng.random() < 0.7:
        lines.append(("J2405", pick(rng, (4, 8))))
    if rng.random() < 0.4:
        lines.append(("J1885", rint(rng, 1, 2)))
    if rng.random() < 0.5:
        lines.append(("A4216", 2))
    return Visit(
        profile="OBSERVATION",
        kind="hospital",
        lines=lines,
        diagnoses=rng.sample(DIAGNOSES["observation"], rint(rng, 1, 2)),
        minutes=hours * 60 + rint(rng, 20, 50),
    )


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
    return Visit(
        profile=INPATIENT,
        kind="hospital",
        lines=lines,
        diagnoses=diagnoses,
        minutes=nights * 24 * 60 + rint(rng, -240, 240),
    )


def _equipment(rng: random.Random) -> Visit:
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
    return Visit(
        profile="DME",
        kind="clinic",
        lines=[(code, units)],
        diagnoses=[diagnosis],
        minutes=rint(rng, 15, 30),
    )


def _infusion(rng: random.Random, age: int) -> Visit:
    if age >= 65 and rng.random() < 0.5:
        lines, diagnoses = [("J0897", 60)], ["M81.0"]
    else:
        lines = [("J1745", pick(rng, (30, 40, 50, 60)))]
        diagnoses = [pick(rng, DIAGNOSES["infusion"])]
    lines += [("J7050", 1), ("A4216", 2)]
    return Visit(
        profile="INFUSION",
        kind="hospital",
        lines=lines,
        diagnoses=diagnoses,
        minutes=rint(rng, 120, 300),
    )
