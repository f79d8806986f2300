"""Reference data of the synthetic health system: facilities, the payers drawn from their terms
(payers.py, data/payers.json), the chart of accounts, the ICD-10-CM codes used for diagnoses
and the synthetic name lists; the chargemaster is chargemaster.py.

Every value here is invented except the public code sets (HCPCS Level II codes with their
public descriptions, ICD-10-CM codes). Prices and rates are plausible, not real fee schedules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zlib import crc32

from billops.synth.address import Address
from billops.synth.chargemaster import CHARGEMASTER
from billops.synth.money import cents
from billops.synth.payers import Payer, payer_terms, remit_styles

HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
LOCAL_SID = "https://billops.example.org/sid"
BASE_YEAR = 2026  # prices below are the BASE_YEAR values; other years scale from them
STATE = "OH"


def npi_check_digit(base9: str) -> str:
    """Luhn check digit of an NPI: computed over the prefix 80840 followed by the 9 digits."""
    total = 0
    for i, ch in enumerate(reversed("80840" + base9)):
        d = int(ch)
        if i % 2 == 0:  # rightmost payload digit is doubled (the check digit is appended after)
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def make_npi(rng: random.Random, first: str) -> str:
    base = first + "".join(str(rng.randrange(10)) for _ in range(8))
    return base + npi_check_digit(base)


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    kind: str  # hospital | clinic
    part_of: str | None
    npi: str
    ein: str
    address: Address
    bank_account: str

    @property
    def entity(self) -> str:
        return self.part_of or self.id


@dataclass(frozen=True)
class Physician:
    """A hospital's attending physician (837I loop 2310A)."""

    npi: str
    family: str
    given: str


# ICD-10-CM billable codes (validated against simple_icd_10_cm in the tests), by purpose.
DIAGNOSES: dict[str, tuple[str, ...]] = {
    "chronic": (
        "I10",
        "E11.9",
        "E78.5",
        "E03.9",
        "J45.909",
        "K21.9",
        "F41.9",
        "E66.9",
        "I48.91",
        "I25.10",
        "M17.11",
        "G43.909",
        "N18.30",
        "D64.9",
        "E55.9",
        "J30.9",
    ),
    "acute": (
        "J06.9",
        "N39.0",
        "R51.9",
        "M54.50",
        "R10.9",
        "J02.9",
        "J20.9",
        "H66.90",
        "L03.115",
        "H10.9",
        "R53.83",
        "R06.02",
        "M25.561",
        "M25.511",
        "B34.9",
        "R42",
        "L30.9",
        "M54.16",
        "R50.9",
        "K59.00",
    ),
    "observation": ("R07.9", "R55", "E86.0", "R11.2", "J18.9", "R42"),
    "wellness": ("Z00.00", "Z00.01", "Z13.31", "Z13.89", "Z71.41", "Z13.220", "Z68.30"),
    "vaccine": ("Z23",),
    "pap": ("Z01.419", "Z12.4"),
    "colonoscopy": ("Z12.11",),
    "infusion": ("K50.90", "M06.9"),
    "osteoporosis": ("M81.0",),
    "dme": ("S93.401A", "R26.81", "G47.33", "E11.65", "S61.411A", "S83.91XA", "M62.81"),
    "therapy": ("M54.50", "M25.561", "M79.604", "M62.81"),
}


@dataclass(frozen=True)
class GlAccount:
    account: str
    name: str
    account_type: str


CHART_OF_ACCOUNTS: tuple[GlAccount, ...] = (
    GlAccount(account="1010", name="Cash - operating", account_type="CASH"),
    GlAccount(account="1020", name="Cash - payroll", account_type="CASH"),
    GlAccount(account="1150", name="Short-term investments", account_type="OTHER"),
    GlAccount(account="1200", name="Patient accounts receivable", account_type="PATIENT_AR"),
    GlAccount(account="1290", name="Allowance for uncollectible accounts", account_type="OTHER"),
    GlAccount(account="2000", name="Accounts payable - trade", account_type="OTHER"),
    GlAccount(account="2150", name="Patient refunds payable", account_type="REFUNDS_PAYABLE"),
    GlAccount(account="2210", name="Payroll taxes and withholdings payable", account_type="OTHER"),
    GlAccount(account="4000", name="Gross patient service revenue", account_type="GROSS_REVENUE"),
    GlAccount(account="4400", name="Contractual allowances", account_type="CONTRACTUAL_ALLOWANCE"),
    GlAccount(account="4500", name="Administrative write-offs", account_type="WRITE_OFF"),
    GlAccount(account="4600", name="Bad debt expense", account_type="BAD_DEBT"),
    GlAccount(account="4910", name="Prompt-payment interest income", account_type="OTHER"),
    GlAccount(account="4920", name="Interest income - bank deposits", account_type="OTHER"),
    GlAccount(account="6000", name="Salaries and wages", account_type="OTHER"),
    GlAccount(account="6100", name="Medical supplies expense", account_type="OTHER"),
    GlAccount(account="6900", name="Bank service charges", account_type="OTHER"),
)
INTEREST_INCOME = "4910"  # where the interest a payer adds to a payment (PLB L6) is posted
# the non-patient cash entries of treasury.py (the first CASH account is the operating one,
# where every patient posting goes)
PAYROLL_CASH, INVESTMENTS, ACCOUNTS_PAYABLE, PAYROLL_LIABILITIES = "1020", "1150", "2000", "2210"
BANK_INTEREST, SALARIES, BANK_FEES = "4920", "6000", "6900"
GL_BY_TYPE: dict[str, str] = {}
for _acct in CHART_OF_ACCOUNTS:
    GL_BY_TYPE.setdefault(_acct.account_type, _acct.account)

GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "female": (
        "Alma",
        "Bette",
        "Carys",
        "Delia",
        "Elsie",
        "Fern",
        "Greta",
        "Hollis",
        "Ines",
        "Juna",
        "Kira",
        "Lorna",
        "Mabry",
        "Nell",
        "Orla",
        "Pella",
        "Quinta",
        "Rhea",
        "Sela",
        "Tamsin",
        "Una",
        "Vela",
        "Wren",
        "Yara",
        "Zelda",
    ),
    "male": (
        "Abel",
        "Bram",
        "Cyrus",
        "Dorian",
        "Emory",
        "Fitch",
        "Gideon",
        "Hale",
        "Ivo",
        "Jasper",
        "Knox",
        "Linus",
        "Marlo",
        "Nash",
        "Oren",
        "Pike",
        "Quill",
        "Rowan",
        "Silas",
        "Thane",
        "Ulric",
        "Vance",
        "Wells",
        "Yates",
        "Zane",
    ),
}
# Surnames are built from syllables so that no list of real people is involved.
SURNAME_HEADS = (
    "Ash",
    "Bram",
    "Cor",
    "Dun",
    "Ell",
    "Fen",
    "Gar",
    "Hol",
    "Ing",
    "Kel",
    "Lind",
    "Mor",
    "Nor",
    "Orm",
    "Pel",
    "Quar",
    "Ros",
    "Sted",
    "Tarn",
    "Ulm",
    "Vay",
    "Wick",
)
SURNAME_TAILS = (
    "bury",
    "dale",
    "ford",
    "gate",
    "holm",
    "ley",
    "mere",
    "ridge",
    "stow",
    "thorpe",
    "ton",
    "well",
    "wick",
    "worth",
)
TOWNS = (
    "Riverbend",
    "Cedar Hollow",
    "Lakemont",
    "Millbrook",
    "Ashford Falls",
    "Pine Ridge",
    "Stonebridge",
    "Fairhaven",
    "Elm Crossing",
    "Willow Bay",
    "Granite Point",
    "Maple Glen",
    "Harbor View",
    "Oak Terrace",
    "Silver Creek",
    "Foxrun",
)
STREETS = (
    "Maple",
    "Oak",
    "Cedar",
    "Elm",
    "Birch",
    "Walnut",
    "Chestnut",
    "Spruce",
    "Willow",
    "Aspen",
    "Hickory",
    "Juniper",
    "Laurel",
    "Magnolia",
    "Sycamore",
)
STREET_KINDS = ("St", "Ave", "Rd", "Ln", "Dr", "Ct")


def street_address(rng: random.Random) -> str:
    return f"{rng.randrange(10, 9990)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"


def zip9(rng: random.Random, zip3: str) -> str:
    return f"{zip3}{rng.randrange(10, 99):02d}{rng.randrange(1, 9999):04d}"


@dataclass
class Reference:
    facilities: list[Facility]
    payers: list[Payer]
    years: list[int]
    submitter_id: str = "BILLOPSHS"
    submitter_name: str = "BILLOPS HEALTH SYSTEM BILLING OFFICE"
    receiver_id: str = "CLEARHSE01"
    receiver_name: str = "SYNTHETIC CLEARINGHOUSE"
    payer_by_id: dict[str, Payer] = field(default_factory=dict)
    payer_by_key: dict[str, Payer] = field(default_factory=dict)
    facility_by_id: dict[str, Facility] = field(default_factory=dict)
    payer_index: dict[str, int] = field(default_factory=dict)
    hospital_index: dict[str, int] = field(default_factory=dict)
    physicians: dict[str, tuple[Physician, ...]] = field(default_factory=dict)  # by hospital

    def __post_init__(self) -> None:
        self.payer_by_id = {p.id: p for p in self.payers}
        self.payer_by_key = {p.key: p for p in self.payers}
        self.facility_by_id = {f.id: f for f in self.facilities}
        self.payer_index = {p.id: i for i, p in enumerate(self.payers)}
        self._hospitals = [f for f in self.facilities if f.kind == "hospital"]
        self.hospital_index = {h.id: i for i, h in enumerate(self.hospitals)}
        self._clinics = {
            h.id: [f for f in self.facilities if f.part_of == h.id] for h in self.hospitals
        }

    @property
    def hospitals(self) -> list[Facility]:
        return self._hospitals

    def clinics_of(self, hospital_id: str) -> list[Facility]:
        return self._clinics.get(hospital_id, [])

    def unit_price(self, hcpcs: str, on: date) -> int:
        """Chargemaster unit price in cents in effect on a date (versions start each Jan 1)."""
        return scaled(CHARGEMASTER[hcpcs].price, "1.04", on.year)

    def contract_rate(self, payer: Payer, hcpcs: str, on: date) -> int:
        """Expected allowed amount per unit in cents (fee-schedule payers only)."""
        return _contract_rate(payer.fee_factor, hcpcs, on.year)

    def needs_auth(self, payer: Payer, hcpcs: str) -> bool:
        return hcpcs in payer.auth_codes

    def attending(self, hospital_id: str, account_id: str) -> Physician:
        """The attending physician of a hospital encounter, fixed by its account number."""
        staff = self.physicians[hospital_id]
        return staff[crc32(account_id.encode()) % len(staff)]


@lru_cache(maxsize=4096)
def _contract_rate(fee_factor: str | None, hcpcs: str, year: int) -> int:
    assert fee_factor is not None
    base = Decimal(CHARGEMASTER[hcpcs].rate) * Decimal(fee_factor)
    return scaled(str(base), "1.025", year)


@lru_cache(maxsize=4096)
def scaled(base: str, yearly: str, year: int) -> int:
    """A BASE_YEAR amount grown (or shrunk) by ``yearly`` per year, in cents."""
    value = Decimal(base) * Decimal(yearly) ** (year - BASE_YEAR)
    return cents(str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)))


HOSPITAL_NAMES = (
    "Riverbend Regional Medical Center",
    "Cedar Hollow Community Hospital",
    "Lakemont General Hospital",
    "Millbrook Valley Hospital",
)


def _payers(rng: random.Random) -> list[Payer]:
    """The payers of data/payers.json, each with a bank account, an EIN and an address drawn
    in that order (the draws of the reference stream)."""
    out = []
    for terms in payer_terms():
        routing = f"0{rng.randrange(10_000_000, 99_999_999)}"
        account = str(rng.randrange(10**9, 10**10))
        ein = f"{rng.randrange(10, 99)}{rng.randrange(0, 10_000_000):07d}"
        address = _address(rng, rng.choice(TOWNS), "432")
        out.append(
            Payer(
                **terms, ein=ein, address=address, routing=routing, account=account,
                key=terms["id"],
            )
        )
    return out


def _address(rng: random.Random, city: str, zip3: str) -> Address:
    """A street address in ``city`` (drawn: the street, then the ZIP+4 within ``zip3``)."""
    return Address(line=street_address(rng), city=city, state=STATE, zip9=zip9(rng, zip3))


def _facilities(rng: random.Random, hospitals: int, clinics_per_hospital: int) -> list[Facility]:
    out: list[Facility] = []
    towns = list(TOWNS)
    for h in range(1, hospitals + 1):
        hid = f"H{h:02d}"
        town = towns[(h - 1) % len(towns)]
        zip3 = f"4{30 + h:02d}"
        ein = f"{rng.randrange(20, 99)}{rng.randrange(0, 10_000_000):07d}"
        bank = f"OPER-{rng.randrange(1000, 9999)}"
        name = HOSPITAL_NAMES[(h - 1) % len(HOSPITAL_NAMES)]
        out.append(
            Facility(
                id=hid,
                name=name,
                kind="hospital",
                part_of=None,
                npi=make_npi(rng, "1"),
                ein=ein,
                address=_address(rng, town, zip3),
                bank_account=bank,
            )
        )
        for c in range(1, clinics_per_hospital + 1):
            ctown = towns[(hospitals + (h - 1) * clinics_per_hospital + c - 1) % len(towns)]
            out.append(
                Facility(
                    id=f"{hid}-C{c:02d}",
                    name=f"{ctown} Family Clinic",
                    kind="clinic",
                    part_of=hid,
                    npi=make_npi(rng, "1"),
                    ein=ein,
                    address=_address(rng, ctown, zip3),
                    bank_account=bank,
                )
            )
    return out


def build_reference(
    seed: int, hospitals: int, clinics_per_hospital: int, first_year: int, last_year: int
) -> Reference:
    rng = random.Random(f"{seed}:reference")
    facilities = _facilities(rng, hospitals, clinics_per_hospital)
    payers = remit_styles(random.Random(f"{seed}:remit-styles"), _payers(rng))
    ref = Reference(facilities, payers, list(range(first_year - 1, last_year + 1)))
    ref.physicians = _physicians(random.Random(f"{seed}:physicians"), ref.hospitals)
    return ref


PHYSICIANS_PER_HOSPITAL = 12


def _physicians(rng: random.Random, hospitals: list[Facility]) -> dict[str, tuple[Physician, ...]]:
    """Attending physicians per hospital, each with a Luhn-valid individual NPI."""
    out: dict[str, tuple[Physician, ...]] = {}
    for h in hospitals:
        out[h.id] = tuple(
            Physician(
                npi=make_npi(rng, "1"),
                family=rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_TAILS),
                given=rng.choice(GIVEN_NAMES[rng.choice(("female", "male"))]),
            )
            for _ in range(PHYSICIANS_PER_HOSPITAL)
        )
    return out
