"""HIPAA X12 5010 writers: 837P professional claims (005010X222A1) of the clinics, 837I
institutional claims (005010X223A2, the errata of X223A1 that HIPAA names and pyx12 validates)
of the hospitals' inpatient, outpatient and emergency encounters, and 835 remittance
(005010X221A1).

An 837I claim carries the bill type in CLM05 (facility type 11 inpatient or 13 outpatient
hospital, A institutional, frequency), statement dates (DTP*434), on an admission its date and
hour (DTP*435) and discharge hour (DTP*096), CL1 (admission type, point of origin, patient
status), its principal (ABK), admitting (ABJ, inpatient) and other (ABF) diagnoses each in the
HI their guide prescribes, the attending physician (loop 2310A), and lines as SV2 with the NUBC
revenue code, the HCPCS code, charge, UN and units.

A claim to a secondary payer (SBR01 = S in loop 2000B) carries the primary's adjudication for
coordination of benefits: loop 2320 (the other subscriber's SBR with SBR01 = P, the primary's
claim-level CAS adjustments by group and reason, AMT*D what the primary paid, OI), 2330A (the
other subscriber, the member id on the primary) and 2330B (the primary payer, NM109 = its payer
id, DTP*573 its payment date).

One file per landing batch and kind. Each file is one interchange (ISA); each submission day
and claim type (837P, then 837I) or payer payment (835) is its own functional group with one
transaction set, so the GS04/GS05 and BHT04/BHT05 of a claim are its submission time and
BPR16/DTM*405 of a payment its payment date. Delimiters: element ``*``, segment ``~`` (followed by a newline), component
``:``, repetition ``^``.

An 835 file holds the payments of one payer and follows that payer's style
(payers.RemitStyle): its segment terminator (``~`` with a line break, without, or with CR LF),
where it names itself (N1*PR N103/N104, REF*2U, TRN03, or nowhere, so that only the 837 claim
that CLP01 answers tells the payer) and whether it sends DTM*405, PER*CX and REF*TJ.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from billops.synth.address import Address
from billops.synth.chargemaster import revenue_code
from billops.synth.model import Account, Charge, Claim, Patient, Payment, RemitClaim, RemitLine
from billops.synth.money import fmt_x12
from billops.synth.reference import Reference

IMPL_837P = "005010X222A1"
IMPL_837I = "005010X223A2"
IMPLEMENTATIONS = {"P": IMPL_837P, "I": IMPL_837I}
IMPL_835 = "005010X221A1"
SEGMENT_END = "~\n"
PHONE_BILLING = "6145550100"
PHONE_PAYER = "8005550199"
PHONE_PAYER_CLAIMS = "8005550177"
OFFICE = "11"  # 837P place of service of a clinic visit
INPATIENT_HOSPITAL, OUTPATIENT_HOSPITAL = "11", "13"  # 837I facility type (bill type 11x, 13x)
# CL101 admission type (1 emergency, 2 urgent, 3 elective); CL102 point of origin 1 (not a
# health care facility); CL103 patient status 01 (discharged home)
ADMISSION_TYPE = {"EMERGENCY": "1", "OBSERVATION": "2", "INPATIENT": "1"}
CAS_GROUPS = ("CO", "PR", "OA", "PI")


@dataclass
class ControlNumbers:
    """Interchange and group control numbers, unique across the whole generation."""

    interchange: int = 0
    group: int = 0

    def next_interchange(self) -> int:
        self.interchange += 1
        return self.interchange

    def next_group(self) -> int:
        self.group += 1
        return self.group


def seg(*elements: str) -> str:
    """One segment; trailing empty elements are dropped as X12 requires."""
    n = len(elements)
    while n and elements[n - 1] == "":
        n -= 1
    return "*".join(elements[:n]) + SEGMENT_END


@lru_cache(maxsize=4096)
def d8(day: date) -> str:
    """CCYYMMDD."""
    return f"{day:%Y%m%d}"


_DELIMITERS = str.maketrans("", "", "*~:^")


@lru_cache(maxsize=1 << 14)
def x12_text(value: str) -> str:
    """Upper case with the delimiter characters removed."""
    return value.upper().translate(_DELIMITERS)


def _isa(sender: str, receiver: str, ts: datetime, control: int) -> str:
    return seg(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{sender:<15}",
        "ZZ",
        f"{receiver:<15}",
        f"{ts:%y%m%d}",
        f"{ts:%H%M}",
        "^",
        "00501",
        f"{control:09d}",
        "0",
        "P",
        ":",
    )


def _n3n4(a: Address, zip_code: str) -> list[str]:
    return [seg("N3", x12_text(a.line)), seg("N4", x12_text(a.city), a.state, zip_code)]


class _Writer:
    """Counts segments of the open transaction set."""

    def __init__(self, fh: TextIO) -> None:
        self.fh = fh
        self.count = 0

    def put(self, segments: str | list[str]) -> None:
        if isinstance(segments, str):
            self.fh.write(segments)
            self.count += 1
        else:
            self.fh.write("".join(segments))
            self.count += len(segments)


def _account(claim: Claim) -> Account:
    assert claim.account is not None, f"claim {claim.account_id} has no account"
    return claim.account


def facility_code(account: Account) -> str:
    """CLM05-1 and CLP08: the place of service of a professional claim, the facility type
    (first two digits of the bill type) of an institutional one."""
    if account.claim_type == "P":
        return OFFICE
    return INPATIENT_HOSPITAL if account.inpatient else OUTPATIENT_HOSPITAL


def write_837(
    fh: TextIO,
    days: list[tuple[datetime, list[Claim]]],
    ref: Reference,
    controls: ControlNumbers,
    created: datetime,
) -> int:
    """Write one 837 interchange with a group per submission day and claim type (837P, then
    837I); returns the ST count."""
    icn = controls.next_interchange()
    fh.write(_isa(ref.submitter_id, ref.receiver_id, created, icn))
    st = 0
    for submitted, claims in days:
        for claim_type in ("P", "I"):
            typed = [c for c in claims if _account(c).claim_type == claim_type]
            if typed:
                st += 1
                _transaction_set(fh, submitted, typed, claim_type, st, ref, controls)
    fh.write(seg("IEA", str(st), f"{icn:09d}"))
    return st


def _transaction_set(
    fh: TextIO,
    submitted: datetime,
    claims: list[Claim],
    claim_type: str,
    st: int,
    ref: Reference,
    controls: ControlNumbers,
) -> None:
    implementation = IMPLEMENTATIONS[claim_type]
    gs = controls.next_group()
    fh.write(
        seg(
            "GS",
            "HC",
            ref.submitter_id,
            ref.receiver_id,
            f"{submitted:%Y%m%d}",
            f"{submitted:%H%M}",
            str(gs),
            "X",
            implementation,
        )
    )
    w = _Writer(fh)
    w.put(seg("ST", "837", f"{st:04d}", implementation))
    w.put(
        seg(
            "BHT",
            "0019",
            "00",
            f"{submitted:%Y%m%d}{st:04d}",
            f"{submitted:%Y%m%d}",
            f"{submitted:%H%M}",
            "CH",
        )
    )
    w.put(seg("NM1", "41", "2", ref.submitter_name, "", "", "", "", "46", ref.submitter_id))
    w.put(seg("PER", "IC", "BILLING OFFICE", "TE", PHONE_BILLING))
    w.put(seg("NM1", "40", "2", ref.receiver_name, "", "", "", "", "46", ref.receiver_id))
    hl = 0
    by_entity: dict[str, list[Claim]] = {}
    for c in sorted(claims, key=lambda c: (_account(c).entity, c.account_id)):
        by_entity.setdefault(_account(c).entity, []).append(c)
    for entity, entity_claims in by_entity.items():
        billing = ref.facility_by_id[entity]
        hl += 1
        parent = hl
        w.put(seg("HL", str(hl), "", "20", "1"))
        w.put(seg("NM1", "85", "2", x12_text(billing.name), "", "", "", "", "XX", billing.npi))
        w.put(_n3n4(billing.address, billing.address.zip9))
        w.put(seg("REF", "EI", billing.ein))
        for claim in entity_claims:
            hl += 1
            account = _account(claim)
            w.put(_subscriber(claim, account, hl, parent))
            if claim_type == "P":
                w.put(_professional(claim, account))
            else:
                w.put(_institutional(claim, account, ref))
    w.put(seg("SE", str(w.count + 1), f"{st:04d}"))
    fh.write(seg("GE", "1", str(gs)))


def _subscriber_name(p: Patient, member_id: str) -> str:
    """NM1*IL: the subscriber (loops 2010BA and 2330A) with the member id of that coverage."""
    return seg("NM1", "IL", "1", x12_text(p.family), x12_text(p.given), "", "", "", "MI", member_id)


def _subscriber(claim: Claim, account: Account, hl: int, parent: int) -> list[str]:
    """Loop 2000B with 2010BA (the subscriber) and 2010BB (the payer)."""
    p = account.patient
    payer = claim.payer
    return [
        seg("HL", str(hl), str(parent), "22", "0"),
        seg("SBR", claim.responsibility, "18", "", "", "", "", "", "", payer.filing_indicator),
        _subscriber_name(p, claim.member_id),
        *_n3n4(p.address, p.address.zip5),
        seg("DMG", "D8", f"{p.birth_date:%Y%m%d}", "F" if p.gender == "female" else "M"),
        seg("NM1", "PR", "2", x12_text(payer.name), "", "", "", "", "PI", payer.id),
    ]


def _claim_refs(claim: Claim, account: Account) -> list[str]:
    """REF*G1 prior authorization, REF*F8 the original claim (replacements), REF*EA."""
    out: list[str] = []
    if claim.auth_number and not claim.line_auth_ids:
        out.append(seg("REF", "G1", claim.auth_number))
    if claim.original_icn:
        out.append(seg("REF", "F8", claim.original_icn))
    out.append(seg("REF", "EA", account.patient.id))  # medical record number: the EHR Patient.id
    return out


def _professional(claim: Claim, account: Account) -> list[str]:
    """Loop 2300 of an 837P claim with its 2310C, 2320/2330 and 2400 loops."""
    out = [
        seg(
            "CLM",
            claim.account_id,
            fmt_x12(claim.total),
            "",
            "",
            f"{facility_code(account)}:B:{claim.frequency}",
            "Y",
            "A",
            "Y",
            "Y",
        ),
        *_claim_refs(claim, account),
    ]
    codes = [dx.replace(".", "") for dx in account.diagnoses[:12]]
    out.append(seg("HI", *[f"{'ABK' if i == 0 else 'ABF'}:{code}" for i, code in enumerate(codes)]))
    f = account.facility
    out.append(seg("NM1", "77", "2", x12_text(f.name), "", "", "", "", "XX", f.npi))
    out += _n3n4(f.address, f.address.zip9)
    if claim.prior is not None:
        out += _other_payer(claim, account, "P")
    pointers = ":".join(str(i) for i in range(1, min(len(codes), 4) + 1))
    for n, line in enumerate(claim.lines, 1):
        out += [
            f"LX*{n}~\n",
            f"SV1*{_procedure(line)}*{fmt_x12(line.amount)}*UN*{line.units}***{pointers}~\n",
            f"DTP*472*D8*{d8(line.service_date)}~\n",
        ]
        if line.id in claim.line_auth_ids:  # line-level prior authorization (2400 REF*G1)
            out.append(seg("REF", "G1", claim.auth_number or ""))
        out.append(f"REF*6R*{line.id}~\n")
    return out


def _procedure(line: Charge) -> str:
    """The composite procedure: HC, the HCPCS code and a repeat-procedure modifier if any."""
    return f"HC:{line.hcpcs}:{line.modifier}" if line.modifier else f"HC:{line.hcpcs}"


def _institutional(claim: Claim, account: Account, ref: Reference) -> list[str]:
    """Loop 2300 of an 837I claim with its 2310A, 2320/2330 and 2400 loops."""
    start, end = account.start, account.end
    out = [
        seg(
            "CLM",
            claim.account_id,
            fmt_x12(claim.total),
            "",
            "",
            f"{facility_code(account)}:A:{claim.frequency}",
            "",
            "A",
            "Y",
            "Y",
        )
    ]
    if account.inpatient:
        out.append(seg("DTP", "096", "TM", f"{end:%H%M}"))
    out.append(seg("DTP", "434", "RD8", f"{d8(start.date())}-{d8(end.date())}"))
    if account.inpatient:
        out.append(seg("DTP", "435", "DT", f"{start:%Y%m%d%H%M}"))
    out.append(seg("CL1", ADMISSION_TYPE.get(account.profile, "3"), "1", "01"))
    out += _claim_refs(claim, account)
    codes = [dx.replace(".", "") for dx in account.diagnoses[:12]]
    out.append(seg("HI", f"ABK:{codes[0]}"))
    if account.inpatient:
        out.append(seg("HI", f"ABJ:{codes[0]}"))
    if len(codes) > 1:
        out.append(seg("HI", *[f"ABF:{code}" for code in codes[1:]]))
    doctor = ref.attending(account.facility.id, account.id)
    out.append(
        seg(
            "NM1",
            "71",
            "1",
            x12_text(doctor.family),
            x12_text(doctor.given),
            "",
            "",
            "",
            "XX",
            doctor.npi,
        )
    )
    if claim.prior is not None:
        out += _other_payer(claim, account, "I")
    for n, line in enumerate(claim.lines, 1):
        out += [
            f"LX*{n}~\n",
            f"SV2*{revenue_code(line.hcpcs)}*{_procedure(line)}*{fmt_x12(line.amount)}*UN*"
            f"{line.units}~\n",
            f"DTP*472*D8*{d8(line.service_date)}~\n",
            f"REF*6R*{line.id}~\n",
        ]
    return out


def _other_payer(claim: Claim, account: Account, claim_type: str) -> list[str]:
    """Loops 2320, 2330A and 2330B: the primary payer's adjudication of this claim (the 837I
    OI has no patient signature source, OI04)."""
    prior = claim.prior
    assert prior is not None and claim.prior_paid_on is not None
    primary = prior.claim
    p = account.patient
    by_reason: dict[tuple[str, str], int] = {}
    for line in prior.lines:
        for a in line.adjustments:
            by_reason[(a.group, a.reason)] = by_reason.get((a.group, a.reason), 0) + a.amount
    out = [seg("SBR", "P", "18", "", "", "", "", "", "", primary.payer.filing_indicator)]
    for group in CAS_GROUPS:
        triplets: list[str] = []
        for (g, reason), amount in sorted(by_reason.items()):
            if g == group and amount:
                triplets += [reason, fmt_x12(amount), ""]
        for i in range(0, len(triplets), 18):  # at most six reason/amount/quantity triplets
            out.append(seg("CAS", group, *triplets[i : i + 18]))
    out += [
        seg("AMT", "D", fmt_x12(prior.paid)),
        seg("OI", "", "", "Y", "P" if claim_type == "P" else "", "", "Y"),
        _subscriber_name(p, primary.member_id),
        seg("NM1", "PR", "2", x12_text(primary.payer.name), "", "", "", "", "PI", primary.payer.id),
        seg("DTP", "573", "D8", d8(claim.prior_paid_on)),
    ]
    return out


def write_835(
    fh: TextIO, payments: list[Payment], ref: Reference, controls: ControlNumbers, created: datetime
) -> int:
    """Write one payer's 835 interchange with a group per payment, in the payer's style (its
    segment terminator, where it names itself, the situational segments it sends); returns the
    ST count."""
    style = payments[0].payer.remit
    assert all(p.payer.remit is style for p in payments), "one payer per 835 file"
    buf = io.StringIO()
    icn = controls.next_interchange()
    buf.write(_isa(ref.receiver_id, ref.submitter_id, created, icn))
    for st, pay in enumerate(payments, 1):
        gs = controls.next_group()
        buf.write(
            seg(
                "GS",
                "HP",
                ref.receiver_id,
                ref.submitter_id,
                f"{pay.received_at:%Y%m%d}",
                f"{pay.received_at:%H%M}",
                str(gs),
                "X",
                IMPL_835,
            )
        )
        w = _Writer(buf)
        w.put(seg("ST", "835", f"{st:04d}"))
        w.put(_payment_header(pay, ref))
        w.put(seg("LX", "1"))
        for remit in pay.claims:
            w.put(_remit_claim(remit, _account(remit.claim)))
        if pay.plb:
            w.put(_provider_adjustments(pay, ref))
        w.put(seg("SE", str(w.count + 1), f"{st:04d}"))
        buf.write(seg("GE", "1", str(gs)))
    buf.write(seg("IEA", str(len(payments)), f"{icn:09d}"))
    text = buf.getvalue()
    if style.terminator != SEGMENT_END:
        # "~" never occurs inside an element (x12_text strips it), so every "~\n" ends a segment
        text = text.replace(SEGMENT_END, style.terminator)
    fh.write(text)
    return len(payments)


def write_835_count(path: Path) -> int:
    """The number of transaction sets (ST segments) of an X12 file written here, whatever
    its segment terminator."""
    text = path.read_text(encoding="utf-8")
    return sum(1 for s in text.split("~") if s.lstrip("\r\n").startswith("ST*"))


PLB_PAIRS = 6  # reason/amount pairs of one PLB segment


def _provider_adjustments(pay: Payment, ref: Reference) -> list[str]:
    """One PLB segment (PLB02 the fiscal year end) with at most six reason/amount pairs: the
    guide lets PLB repeat, but pyx12 reads a second PLB as a second footer loop and rejects
    it, so beyond five adjustments the rest is one pair referencing the payment's trace
    (the amounts, and so BPR02, are unchanged)."""
    payee = ref.facility_by_id[pay.entity]
    adjustments = [(f"{a.reason}:{a.reference}", a.amount) for a in pay.plb]
    if len(adjustments) > PLB_PAIRS:
        rest = pay.plb[PLB_PAIRS - 1 :]
        [reason] = {a.reason for a in rest}  # interest (L6) is the only kind written
        total = sum(a.amount for a in rest)
        adjustments = [*adjustments[: PLB_PAIRS - 1], (f"{reason}:{pay.trace}", total)]
    pairs: list[str] = []
    for reason, amount in adjustments:
        pairs += [reason, fmt_x12(amount)]
    return [seg("PLB", payee.npi, f"{pay.paid_on.year}1231", *pairs)]


def payee_bank(entity_ein: str) -> tuple[str, str]:
    """Routing and account number of a hospital's operating account (synthetic)."""
    return f"0{entity_ein[:8]}", f"7{entity_ein}"


def _payment_header(pay: Payment, ref: Reference) -> list[str]:
    payer = pay.payer
    payee = ref.facility_by_id[pay.entity]
    # a takeback (the payer recovers more than it pays) is a debit: BPR03 = D, BPR02 positive
    amount, credit = abs(pay.amount), "C" if pay.amount >= 0 else "D"
    date = f"{pay.paid_on:%Y%m%d}"
    company = payer.company_id
    if amount == 0:
        bpr = seg("BPR", "H", "0", "C", "NON", "", "", "", "", "", "", "", "", "", "", "", date)
    else:
        routing, account = payee_bank(payee.ein)
        bpr = seg(
            "BPR",
            "I",
            fmt_x12(amount),
            credit,
            "ACH",
            "CCP",
            "01",
            payer.routing,
            "DA",
            payer.account,
            company,
            "",
            "01",
            routing,
            "DA",
            account,
            date,
        )
    style = payer.remit
    # the payer names itself in N1*PR N104 (XV), in REF*2U, by its TRN03 company id (when that
    # is its payer id) or not at all (TRN03 is then a company id that is no payer id)
    n1 = (
        seg("N1", "PR", x12_text(payer.name), "XV", payer.id)
        if style.payer_id_in == "N104"
        else seg("N1", "PR", x12_text(payer.name))
    )
    trn03 = payer.id if style.payer_id_in == "TRN03" else company
    out = [bpr, seg("TRN", "1", pay.trace, trn03)]
    if style.production_date:
        out.append(seg("DTM", "405", date))
    out += [n1, *_n3n4(payer.address, payer.address.zip9)]
    if style.payer_id_in == "REF2U":
        out.append(seg("REF", "2U", payer.id))
    if style.business_contact:
        out.append(seg("PER", "CX", "CLAIMS DEPARTMENT", "TE", PHONE_PAYER_CLAIMS))
    out += [
        seg("PER", "BL", "PROVIDER SERVICES", "TE", PHONE_PAYER),
        seg("N1", "PE", x12_text(payee.name), "XX", payee.npi),
        *_n3n4(payee.address, payee.address.zip9),
    ]
    if style.payee_tax_id:
        out.append(seg("REF", "TJ", payee.ein))
    return out


def _remit_claim(remit: RemitClaim, account: Account) -> list[str]:
    claim = remit.claim
    p = account.patient
    responsibility = remit.adjusted("PR")
    out = [
        seg(
            "CLP",
            claim.account_id,
            remit.status,
            fmt_x12(remit.charge),
            fmt_x12(remit.paid),
            fmt_x12(responsibility),
            claim.payer.remit_filing_indicator,
            remit.icn,
            facility_code(account),
            claim.frequency,
        ),
        seg(
            "NM1",
            "QC",
            "1",
            x12_text(p.family),
            x12_text(p.given),
            "",
            "",
            "",
            "MI",
            claim.member_id,
        ),
    ]
    for line in remit.lines:
        out += _service_line(line)
    return out


def _service_line(line: RemitLine) -> list[str]:
    ch = line.charge
    out = [
        f"SVC*{_procedure(ch)}*{fmt_x12(line.charge_amount)}*{fmt_x12(line.paid)}**{ch.units}~\n",
        f"DTM*472*{d8(ch.service_date)}~\n",
    ]
    by_group: dict[str, list[str]] = {}
    for a in line.adjustments:
        by_group.setdefault(a.group, []).extend((a.reason, fmt_x12(a.amount), ""))
    for group in CAS_GROUPS:
        triplets = by_group.get(group)
        if triplets:
            for i in range(0, len(triplets), 18):  # at most six reason/amount/quantity triplets
                out.append(seg("CAS", group, *triplets[i : i + 18]))
    out.append(f"REF*6R*{ch.id}~\n")
    out.append(f"AMT*B6*{fmt_x12(line.allowed)}~\n")
    return out
