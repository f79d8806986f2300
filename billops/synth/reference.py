"""Reference data of the synthetic health system: facilities, payers and their contracts,
prior-authorization rules, the chargemaster (HCPCS Level II only), the chart of accounts, the
ICD-10-CM codes used for diagnoses and the synthetic name lists.

Every value here is invented except the public code sets (HCPCS Level II codes with their
public descriptions, ICD-10-CM codes). Prices and rates are plausible, not real fee schedules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zlib import crc32

from billops.synth.money import cents

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
class Address:
    line: str
    city: str
    state: str
    zip9: str

    @property
    def zip5(self) -> str:
        return self.zip9[:5]


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
    # the code of the payer in this module's tables (SECONDARY_PAYERS); equal to ``id`` unless
    # the payer's id is its TRN03 company id
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


@dataclass(frozen=True)
class ChargeCode:
    hcpcs: str
    description: str
    price: str  # chargemaster unit price in BASE_YEAR
    rate: str  # Medicare-like allowed amount per unit in BASE_YEAR
    preventive: bool = False  # no patient cost sharing
    visit: bool = False  # carries the copay


CHARGEMASTER: dict[str, ChargeCode] = {
    c.hcpcs: c
    for c in [
        ChargeCode(
            "G0463",
            "Hospital outpatient clinic visit for assessment and management of a patient",
            "285.00",
            "138.50",
            visit=True,
        ),
        ChargeCode(
            "G2211",
            "Visit complexity inherent to evaluation and management associated with medical care services",
            "45.00",
            "16.05",
        ),
        ChargeCode(
            "G0438",
            "Annual wellness visit; includes a personalized prevention plan of service (pps), initial visit",
            "395.00",
            "168.10",
            preventive=True,
        ),
        ChargeCode(
            "G0439",
            "Annual wellness visit, includes a personalized prevention plan of service (pps), subsequent visit",
            "310.00",
            "130.40",
            preventive=True,
        ),
        ChargeCode(
            "G0402",
            "Initial preventive physical examination; face-to-face visit, services limited to new beneficiary during the first 12 months of medicare enrollment",
            "360.00",
            "165.25",
            preventive=True,
        ),
        ChargeCode(
            "G0444",
            "Annual depression screening, 5 to 15 minutes",
            "55.00",
            "18.60",
            preventive=True,
        ),
        ChargeCode(
            "G0442",
            "Annual alcohol misuse screening, 5 to 15 minutes",
            "52.00",
            "18.60",
            preventive=True,
        ),
        ChargeCode(
            "G0447",
            "Face-to-face behavioral counseling for obesity, 15 minutes",
            "72.00",
            "25.80",
            preventive=True,
        ),
        ChargeCode(
            "G0008", "Administration of influenza virus vaccine", "68.00", "33.40", preventive=True
        ),
        ChargeCode(
            "Q2039",
            "Influenza virus vaccine, not otherwise specified",
            "62.00",
            "24.85",
            preventive=True,
        ),
        ChargeCode(
            "Q0091",
            "Screening papanicolaou smear; obtaining, preparing and conveyance of cervical or vaginal smear to laboratory",
            "95.00",
            "43.30",
            preventive=True,
        ),
        ChargeCode(
            "G0121",
            "Colorectal cancer screening; colonoscopy on individual not meeting criteria for high risk",
            "2450.00",
            "1040.00",
            preventive=True,
        ),
        ChargeCode("G0378", "Hospital observation service, per hour", "165.00", "55.00"),
        ChargeCode(
            "G0283",
            "Electrical stimulation (unattended), to one or more areas for indication(s) other than wound care, as part of a therapy plan of care",
            "68.00",
            "12.90",
        ),
        ChargeCode("Q3014", "Telehealth originating site facility fee", "75.00", "31.85"),
        ChargeCode("J1885", "Injection, ketorolac tromethamine, per 15 mg", "38.00", "0.55"),
        ChargeCode(
            "J3301",
            "Injection, triamcinolone acetonide, not otherwise specified, 10 mg",
            "42.00",
            "1.85",
        ),
        ChargeCode("J1100", "Injection, dexamethasone sodium phosphate, 1 mg", "9.00", "0.12"),
        ChargeCode("J1030", "Injection, methylprednisolone acetate, 40 mg", "48.00", "4.10"),
        ChargeCode("J0696", "Injection, ceftriaxone sodium, per 250 mg", "35.00", "0.85"),
        ChargeCode("J2405", "Injection, ondansetron hydrochloride, per 1 mg", "14.00", "0.10"),
        ChargeCode(
            "J2930", "Injection, methylprednisolone sodium succinate, up to 125 mg", "58.00", "3.90"
        ),
        ChargeCode(
            "J3420", "Injection, vitamin b-12 cyanocobalamin, up to 1000 mcg", "32.00", "0.75"
        ),
        ChargeCode("J7030", "Infusion, normal saline solution, 1000 cc", "95.00", "3.20"),
        ChargeCode("J7050", "Infusion, normal saline solution, 250 cc", "60.00", "1.10"),
        ChargeCode("J1745", "Injection, infliximab, excludes biosimilar, 10 mg", "310.00", "38.50"),
        ChargeCode("J0897", "Injection, denosumab, 1 mg", "92.00", "21.05"),
        ChargeCode(
            "G0381",
            "Level 2 hospital emergency department visit provided in a type b emergency department",
            "420.00",
            "96.40",
            visit=True,
        ),
        ChargeCode(
            "G0383",
            "Level 4 hospital emergency department visit provided in a type b emergency department",
            "1180.00",
            "268.30",
            visit=True,
        ),
        ChargeCode("J1170", "Injection, hydromorphone, up to 4 mg", "46.00", "1.45"),
        ChargeCode("J1200", "Injection, diphenhydramine hcl, up to 50 mg", "28.00", "0.95"),
        ChargeCode("J2270", "Injection, morphine sulfate, up to 10 mg", "44.00", "1.20"),
        ChargeCode("J2550", "Injection, promethazine hcl, up to 50 mg", "30.00", "1.05"),
        ChargeCode(
            "J7040", "Infusion, normal saline solution, sterile (500 ml=1 unit)", "78.00", "2.10"
        ),
        ChargeCode("A4206", "Syringe with needle, sterile, 1 cc or less, each", "6.00", "0.20"),
        ChargeCode("A4215", "Needle, sterile, any size, each", "5.00", "0.15"),
        ChargeCode("A4550", "Surgical trays", "145.00", "8.40"),
        ChargeCode("A4556", "Electrodes (e.g., apnea monitor), per pair", "24.00", "14.80"),
        ChargeCode(
            "A4606", "Oxygen probe for use with oximeter device, replacement", "38.00", "17.50"
        ),
        ChargeCode(
            "A6250",
            "Skin sealants, protectants, moisturizers, ointments, any type, any size",
            "22.00",
            "3.40",
        ),
        ChargeCode(
            "A6402",
            "Gauze, non-impregnated, sterile, pad size 16 sq. in. or less, without adhesive border, each dressing",
            "8.00",
            "0.30",
        ),
        ChargeCode(
            "A4216", "Sterile water, saline and/or dextrose, diluent/flush, 10 ml", "18.00", "0.60"
        ),
        ChargeCode(
            "A4253",
            "Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips",
            "85.00",
            "31.50",
        ),
        ChargeCode(
            "E0114",
            "Crutches, underarm, other than wood, adjustable or fixed, pair, with pads, tips and handgrips",
            "145.00",
            "38.20",
        ),
        ChargeCode(
            "E0143", "Walker, folding, wheeled, adjustable or fixed height", "225.00", "98.40"
        ),
        ChargeCode(
            "E0601", "Continuous positive airway pressure (cpap) device", "1850.00", "780.00"
        ),
        ChargeCode(
            "L3908",
            "Wrist hand orthosis, wrist extension control cock-up, non molded, prefabricated, off-the-shelf",
            "120.00",
            "58.90",
        ),
    ]
}

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


# NUBC revenue code of each chargemaster line on an institutional claim (837I SV201): the
# department that posts it. Drugs needing detailed coding go to 0636, IV solutions to 0258.
REVENUE_CODES: dict[str, str] = {
    "G0463": "0510",
    "G2211": "0510",
    "G0438": "0510",
    "G0439": "0510",
    "G0402": "0510",
    "G0444": "0510",
    "G0442": "0510",
    "G0447": "0510",
    "G0008": "0771",
    "Q2039": "0636",
    "Q0091": "0310",
    "G0121": "0750",
    "G0378": "0762",
    "G0283": "0420",
    "Q3014": "0780",
    "G0381": "0450",
    "G0383": "0450",
    "J7030": "0258",
    "J7040": "0258",
    "J7050": "0258",
    "A4253": "0270",
    "E0114": "0290",
    "E0143": "0290",
    "E0601": "0290",
    "L3908": "0274",
}


def revenue_code(hcpcs: str) -> str:
    """The four-digit revenue code a hospital bills ``hcpcs`` under (drugs 0636, supplies 0270)."""
    code = REVENUE_CODES.get(hcpcs)
    if code is not None:
        return code
    return "0636" if hcpcs.startswith("J") else "0270"


@dataclass(frozen=True)
class GlAccount:
    account: str
    name: str
    account_type: str


CHART_OF_ACCOUNTS: tuple[GlAccount, ...] = (
    GlAccount("1010", "Cash - operating", "CASH"),
    GlAccount("1020", "Cash - payroll", "CASH"),
    GlAccount("1150", "Short-term investments", "OTHER"),
    GlAccount("1200", "Patient accounts receivable", "PATIENT_AR"),
    GlAccount("1290", "Allowance for uncollectible accounts", "OTHER"),
    GlAccount("2000", "Accounts payable - trade", "OTHER"),
    GlAccount("2150", "Patient refunds payable", "REFUNDS_PAYABLE"),
    GlAccount("2210", "Payroll taxes and withholdings payable", "OTHER"),
    GlAccount("4000", "Gross patient service revenue", "GROSS_REVENUE"),
    GlAccount("4400", "Contractual allowances", "CONTRACTUAL_ALLOWANCE"),
    GlAccount("4500", "Administrative write-offs", "WRITE_OFF"),
    GlAccount("4600", "Bad debt expense", "BAD_DEBT"),
    GlAccount("4910", "Prompt-payment interest income", "OTHER"),
    GlAccount("4920", "Interest income - bank deposits", "OTHER"),
    GlAccount("6000", "Salaries and wages", "OTHER"),
    GlAccount("6100", "Medical supplies expense", "OTHER"),
    GlAccount("6900", "Bank service charges", "OTHER"),
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
    def addr(city: str) -> Address:
        return Address(street_address(rng), city, STATE, zip9(rng, "432"))

    def ein() -> str:
        return f"{rng.randrange(10, 99)}{rng.randrange(0, 10_000_000):07d}"

    def bank() -> tuple[str, str]:
        return f"0{rng.randrange(10_000_000, 99_999_999)}", str(rng.randrange(10**9, 10**10))

    specs = [
        (
            "MCRB1",
            "Heartland Medicare Part B Contractor",
            "MEDICARE",
            "MB",
            "1",
            365,
            70,
            True,
            "1.00",
            None,
            "0.00",
            "0.20",
            "257.00",
            0.15,
            (0, 1, 2, 3, 4),
            (13, 19),
            (),
            "MBI",
        ),
        (
            "KMA01",
            "Keystone Medicare Advantage HMO",
            "MEDICARE_ADVANTAGE",
            "16",
            "111",
            120,
            30,
            True,
            "1.02",
            None,
            "20.00",
            "0.00",
            "0.00",
            0.0,
            (0, 3),
            (10, 20),
            ("J1745", "J0897", "E0601"),
            "KMA",
        ),
        (
            "MCDST",
            "State Medicaid Program",
            "MEDICAID",
            "MC",
            "2",
            180,
            30,
            False,
            "0.72",
            None,
            "0.00",
            "0.00",
            "0.00",
            0.0,
            (2,),
            (10, 20),
            ("J1745", "E0601"),
            "MCD",
        ),
        (
            "SHP01",
            "Summit Health Plan",
            "COMMERCIAL",
            "CI",
            "5",
            90,
            40,
            False,
            None,
            "0.6200",
            "30.00",
            "0.10",
            "1500.00",
            0.30,
            (1, 4),
            (7, 18),
            ("J1745", "J0897", "E0601"),
            "SHP",
        ),
        (
            "BMM01",
            "Blue Meadow Mutual",
            "COMMERCIAL",
            "BL",
            "5",
            180,
            30,
            False,
            None,
            "0.6800",
            "25.00",
            "0.20",
            "1000.00",
            0.25,
            (3,),
            (9, 20),
            ("J1745", "E0601"),
            "BMM",
        ),
        (
            "RHA01",
            "Ridgeline Health Alliance HMO",
            "COMMERCIAL",
            "HM",
            "511",
            90,
            20,
            False,
            "1.18",
            None,
            "35.00",
            "0.00",
            "500.00",
            0.20,
            (0, 2),
            (8, 16),
            ("J1745", "J0897", "E0601", "E0143"),
            "RHA",
        ),
        (
            "PWT01",
            "Prairie Workers Trust",
            "COMMERCIAL",
            "CI",
            "5",
            365,
            15,
            False,
            None,
            "0.5800",
            "20.00",
            "0.25",
            "2500.00",
            0.40,
            (4,),
            (12, 25),
            ("J1745",),
            "PWT",
        ),
        # uninsured patients: no claim is sent, the patient is billed by statement
        (
            "SELF1",
            "Self-pay",
            "SELF_PAY",
            "ZZ",
            "81",
            365,
            8,
            False,
            None,
            None,
            "0.00",
            "0.00",
            "0.00",
            0.0,
            (0, 1, 2, 3, 4),
            (1, 1),
            (),
            "SP",
        ),
    ]
    tendency = {
        "MCRB1": 0.6,
        "KMA01": 1.3,
        "MCDST": 1.6,
        "SHP01": 1.1,
        "BMM01": 0.9,
        "RHA01": 1.4,
        "PWT01": 1.0,
        "SELF1": 0.0,
    }
    out = []
    for (
        pid,
        name,
        ptype,
        filing,
        sopt,
        tfd,
        weight,
        senior,
        fee,
        pct,
        copay,
        coins,
        ded,
        ded_share,
        weekdays,
        adj,
        auth,
        prefix,
    ) in specs:
        routing, account = bank()
        out.append(
            Payer(
                pid,
                name,
                ptype,
                filing,
                sopt,
                tfd,
                weight,
                senior,
                fee,
                pct,
                cents(copay),
                coins,
                cents(ded),
                ded_share,
                weekdays,
                adj,
                auth,
                ein(),
                prefix,
                addr(rng.choice(TOWNS)),
                routing,
                account,
                tendency[pid],
                key=pid,
            )
        )
    return out


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
            way,
            end,
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
                hid,
                name,
                "hospital",
                None,
                make_npi(rng, "1"),
                ein,
                Address(street_address(rng), town, STATE, zip9(rng, zip3)),
                bank,
            )
        )
        for c in range(1, clinics_per_hospital + 1):
            ctown = towns[(hospitals + (h - 1) * clinics_per_hospital + c - 1) % len(towns)]
            out.append(
                Facility(
                    f"{hid}-C{c:02d}",
                    f"{ctown} Family Clinic",
                    "clinic",
                    hid,
                    make_npi(rng, "1"),
                    ein,
                    Address(street_address(rng), ctown, STATE, zip9(rng, zip3)),
                    bank,
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
                make_npi(rng, "1"),
                rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_TAILS),
                rng.choice(GIVEN_NAMES[rng.choice(("female", "male"))]),
            )
            for _ in range(PHYSICIANS_PER_HOSPITAL)
        )
    return out
