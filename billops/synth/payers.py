"""The payers: their contract terms (read from ``data/payers.json``), how their member ids
and 835s look, and which payers insure a patient second."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Any

from billops.synth.address import Address
from billops.synth.draw import between, pick
from billops.synth.money import cents

PAYERS_FILE = "data/payers.json"

# How a payer names itself in its 835s (RemitStyle.payer_id_in): N1*PR N103/N104 (XV), REF*2U,
# TRN03 (the payer id is its '1' + EIN company id) or nowhere (TRN03 is a company id that is no
# payer id, so the payer is known only from the 837 claim that CLP01 answers).
PAYER_ID_IN = ("N104", "REF2U", "TRN03", "CLAIM")
# X12 segment terminators a payer's 835 files use: with a line break, without, with CR LF.
TERMINATORS = ("~\n", "~", "~\r\n")


@dataclass(frozen=True)
class RemitStyle:
    """How one payer writes its 835s: where it puts its payer id, its segment terminator and
    the situational segments it sends (the rest of the transaction is the same for all)."""

    payer_id_in: str = "REF2U"
    terminator: str = "~\n"
    production_date: bool = True  # DTM*405 in the header
    payee_tax_id: bool = True  # REF*TJ in loop 1000B
    business_contact: bool = False  # PER*CX in loop 1000A, before the PER*BL


@cache
def payer_terms() -> tuple[dict[str, Any], ...]:
    """The payers of ``data/payers.json`` in file order (the order draws are made in), as
    ``Payer`` keyword arguments (amounts in cents, lists as tuples): what is fixed; the EIN,
    address and bank account are drawn per seed (reference.build_reference)."""
    text = files("billops.synth").joinpath(PAYERS_FILE).read_text(encoding="utf-8")
    return tuple(
        {
            **row,
            "copay": cents(row["copay"]),
            "deductible": cents(row["deductible"]),
            "pay_weekdays": tuple(row["pay_weekdays"]),
            "adjudication_days": (row["adjudication_days"][0], row["adjudication_days"][1]),
            "auth_codes": tuple(row["auth_codes"]),
        }
        for row in json.loads(text)["payers"]
    )


@dataclass(frozen=True)
class Payer:
    id: str
    name: str
    payer_type: str
    filing_indicator: str  # SBR09 / CLP06
    sopt: str  # Source of Payment Typology code (Coverage.type)
    timely_filing_days: int
    weight: int  # share of patients (within its age band)
    senior: bool  # covers patients 65 and older (Medicare and Medicare Advantage)
    fee_factor: str | None  # expected allowed = Medicare-like rate x factor, per unit
    pct_of_charge: str | None  # or expected allowed = charge x fraction
    copay: int  # cents, on the visit line of a non-preventive encounter
    coinsurance: str
    deductible: int  # cents; the remaining deductible of members who have one
    deductible_share: float  # share of members who still have deductible left
    pay_weekdays: tuple[int, ...]  # payment runs (0 = Monday)
    adjudication_days: tuple[int, int]  # submission -> adjudication, inclusive range
    auth_codes: tuple[str, ...]
    ein: str
    member_prefix: str
    address: Address
    routing: str
    account: str
    denial_tendency: float = 1.0  # multiplies the denial probability of its claims
    remit: RemitStyle = RemitStyle()  # how its 835s look (drawn per seed, remit_styles)
    # the code of the payer in the payer tables (data/payers.json, SECONDARY_PAYERS); equal to
    # ``id`` unless the payer's id is its TRN03 company id
    key: str = ""

    @property
    def company_id(self) -> str:
        """BPR10 and TRN03: '1' followed by the payer's EIN."""
        return f"1{self.ein}"

    @property
    def self_pay(self) -> bool:
        return self.payer_type == "SELF_PAY"

    @property
    def remit_filing_indicator(self) -> str:
        """CLP06: the 835 code list has no CI/BL; commercial PPO plans report 12."""
        return {"CI": "12", "BL": "12"}.get(self.filing_indicator, self.filing_indicator)


# Second coverages (Coverage.order = 2) by primary payer: the share of its patients who have
# one, and the payers that insure them second with their weights. Medicare Part B patients
# carry a Medicare supplement or, when dual eligible, Medicaid; employer plans overlap with a
# spouse's plan. Medicare Advantage and Medicaid members have none.
SECONDARY_PAYERS: dict[str, tuple[float, tuple[tuple[str, int], ...]]] = {
    "MCRB1": (0.30, (("MCDST", 2), ("BMM01", 3), ("SHP01", 2))),
    "SHP01": (0.08, (("BMM01", 1), ("PWT01", 1), ("RHA01", 1))),
    "BMM01": (0.08, (("SHP01", 1), ("PWT01", 1))),
    "RHA01": (0.06, (("SHP01", 1), ("BMM01", 1))),
    "PWT01": (0.08, (("SHP01", 1), ("BMM01", 1))),
}

MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def member_id(rng: random.Random, payer: Payer) -> str:
    """A member id the way ``payer`` issues them."""
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


def remit_styles(rng: random.Random, payers: list[Payer]) -> list[Payer]:
    """Give every payer that is sent claims its 835 style, drawn from the seed: each way of
    naming the payer (PAYER_ID_IN) is used by one or two payers, each terminator by at least
    one (CR LF by one); situational segments are left out by some payers. A payer identified by
    TRN03 has its company id ('1' + EIN) as its payer id."""
    billed = [p for p in payers if not p.self_pay]
    ways = [*PAYER_ID_IN, *rng.sample(PAYER_ID_IN, len(billed) - len(PAYER_ID_IN))]
    rng.shuffle(ways)
    ends = [*TERMINATORS, *rng.choices(TERMINATORS[:2], weights=(3, 1), k=len(billed) - 3)]
    rng.shuffle(ends)
    styles = {
        p.key: RemitStyle(
            payer_id_in=way,
            terminator=end,
            production_date=rng.random() < 0.6,
            payee_tax_id=rng.random() < 0.7,
            business_contact=rng.random() < 0.3,
        )
        for p, way, end in zip(billed, ways, ends, strict=True)
    }
    out = []
    for p in payers:
        style = styles.get(p.key)
        if style is None:
            out.append(p)
            continue
        pid = p.company_id if style.payer_id_in == "TRN03" else p.id
        out.append(replace(p, id=pid, remit=style))
    return out
