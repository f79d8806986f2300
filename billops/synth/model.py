"""The simulated world: patients, accounts (encounters), charges, claims, remittances and the
patient-side money, each with the timestamps that decide which landing batch shows it.

Amounts are integer cents. Timestamps are naive datetimes in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from billops.synth.address import Address
from billops.synth.payers import Payer
from billops.synth.reference import Facility
from billops.synth.stream import Buckets

INPATIENT = "INPATIENT"  # the encounter profile of an admission (FHIR Encounter.class IMP)


@dataclass
class CoverageVersion:
    version: int
    updated_at: datetime
    member_id: str
    period_end: date | None = None  # set by a termination (or the start of a successor)


@dataclass
class Successor:
    """A second Coverage resource that replaces the patient's first one from ``start``."""

    id: str
    start: date
    created_at: datetime
    member_id: str


@dataclass
class SecondaryCoverage:
    """A second Coverage resource (Coverage.order = 2) active beside the first: a Medicare
    supplement, Medicaid for a dual-eligible patient, or a spouse's employer plan. Its payer is
    billed after the primary has paid, for what the primary left to the patient."""

    id: str
    payer: Payer
    member_id: str
    start: date
    created_at: datetime


@dataclass
class Patient:
    id: str
    mrn: str
    family: str
    given: str
    gender: str
    birth_date: date
    address: Address
    hospital_id: str
    clinic_id: str
    payer: Payer
    coverage_id: str
    coverage_start: date
    registered_at: datetime
    coverage: list[CoverageVersion]
    deductible_left: int
    service_days: list[date]
    successor: Successor | None = None
    secondary: SecondaryCoverage | None = None

    def member_id_at(self, ts: datetime) -> str:
        """Member id of the coverage version current at ``ts``."""
        current = self.coverage[0]
        for v in self.coverage:
            if v.updated_at <= ts:
                current = v
        return current.member_id


@dataclass
class Charge:
    id: str
    account_id: str
    patient_id: str
    hcpcs: str
    units: int
    amount: int
    service_date: date
    entered_at: datetime
    facility_id: str
    # a repeat-procedure modifier on the claim line that bills the charge (76, 77, 59, 91): the
    # same service given again that day, never a duplicate (FHIR ChargeItem has no modifier)
    modifier: str = ""


@dataclass
class Claim:
    account_id: str
    frequency: str  # 1 original, 7 replacement
    created_at: datetime
    submitted_at: datetime
    accepted_at: datetime
    lines: list[Charge]
    payer: Payer
    member_id: str
    auth_number: str | None
    icn: str  # payer claim control number, assigned at acceptance
    original_icn: str | None = None
    scrubber_failed_at: datetime | None = None
    account: Account | None = field(default=None, repr=False, compare=False)
    # SBR01 of loop 2000B: P when the payer is billed first, S when it is billed after the
    # primary (the claim then carries the primary's adjudication in loops 2320/2330)
    responsibility: str = "P"
    prior: RemitClaim | None = field(default=None, repr=False, compare=False)
    prior_paid_on: date | None = None  # the primary's payment date (2330B DTP*573)
    # charges whose line carries the authorization (2400 REF*G1) instead of the claim (2300)
    line_auth_ids: frozenset[str] = frozenset()

    @property
    def total(self) -> int:
        return sum(c.amount for c in self.lines)


@dataclass
class Adjustment:
    group: str  # CO | PR | OA | PI
    reason: str  # bare CARC value
    amount: int


@dataclass
class RemitLine:
    charge: Charge
    charge_amount: int  # negative on a reversal
    paid: int
    allowed: int
    adjustments: list[Adjustment]


@dataclass
class RemitClaim:
    claim: Claim
    status: str  # CLP02: 1 processed as primary, 2 as secondary, 4 denied, 22 reversal
    icn: str
    lines: list[RemitLine]
    # paid in a payment of its own (a takeback: the payer's debit 835, BPR03 = D)
    separate: bool = False

    @property
    def charge(self) -> int:
        return sum(ln.charge_amount for ln in self.lines)

    @property
    def paid(self) -> int:
        return sum(ln.paid for ln in self.lines)

    def adjusted(self, group: str) -> int:
        return sum(a.amount for ln in self.lines for a in ln.adjustments if a.group == group)


@dataclass
class ProviderAdjustment:
    reason: str  # PLB03-1, e.g. L6 interest owed
    reference: str  # PLB03-2, e.g. the payer claim control number the interest is for
    amount: int


@dataclass
class Payment:
    """One payer payment (EFT) = one 835 transaction set = one bank deposit.

    ``gl`` and ``deposit`` say how the ERP side records it: ``post`` / ``deposit`` when clean,
    otherwise the defect of defects.py that breaks it."""

    trace: str
    payer: Payer
    entity: str
    paid_on: date
    received_at: datetime
    posted_at: datetime
    claims: list[RemitClaim] = field(default_factory=list)
    gl: str = "post"  # post | skip | amount | twice | repost (reversed, then posted again)
    gl_amount: int = 0  # the cash amount the GL records when gl == "amount"
    gl_days: int = 0  # the cash receipt is posted this many days after the payment
    deposit: str = "deposit"  # deposit | missing | short | lockbox | split
    deposit_amount: int = 0  # the deposited amount when deposit == "short" (first part: split)
    deposit_days: int = 0  # the deposit reaches the bank this many days after the payment
    # provider-level adjustments (835 PLB): a positive amount reduces the payment, a negative
    # one (interest the payer owes) adds to it
    plb: list[ProviderAdjustment] = field(default_factory=list)

    @property
    def claims_paid(self) -> int:
        """Sum of CLP04 over the claims."""
        return sum(c.paid for c in self.claims)

    @property
    def amount(self) -> int:
        """BPR02, the money that moves: the claims' payments less the PLB amounts."""
        return self.claims_paid - sum(a.amount for a in self.plb)


@dataclass
class Account:
    """An encounter: Encounter.id is the account number (CLM01, CLP01)."""

    id: str
    patient: Patient
    facility: Facility
    profile: str
    start: datetime
    end: datetime
    diagnoses: list[str]
    charges: list[Charge]
    auth_number: str | None = None
    auth_at: datetime | None = None
    eligibility_at: datetime | None = None
    claims: list[Claim] = field(default_factory=list)
    remits: list[RemitClaim] = field(default_factory=list)
    remit_dates: list[date] = field(default_factory=list)
    appealed_at: datetime | None = None
    overturned_at: datetime | None = None  # when the 835 paying an overturned denial arrives

    @property
    def entity(self) -> str:
        return self.facility.entity

    @property
    def claim_type(self) -> str:
        """P: a clinic bills 837P professional claims; I: a hospital (inpatient, outpatient and
        emergency encounters) bills 837I institutional claims."""
        return "I" if self.facility.kind == "hospital" else "P"

    @property
    def inpatient(self) -> bool:
        return self.profile == INPATIENT

    @property
    def patient_responsibility(self) -> int:
        """What the patient owes once every payer has paid: the PR of the latest secondary
        adjudication (CLP02 = 2) when a secondary payer has paid, which replaces the primary's;
        otherwise the PR over the primary's CLPs (a reversal nets out the payment it reverses)."""
        secondary = [r for r in self.remits if r.status == "2"]
        if secondary:
            return secondary[-1].adjusted("PR")
        return sum(r.adjusted("PR") for r in self.remits)


@dataclass
class PatientPayment:
    id: str
    patient_id: str
    account_id: str
    entity: str
    amount: int  # negative = refund
    received_at: datetime
    method: str


@dataclass
class Statement:
    id: str
    patient_id: str
    account_id: str
    statement_date: date
    sent_at: datetime
    amount_due: int
    payer_id: str
    member_id: str


@dataclass
class WriteOff:
    account_id: str
    entity: str
    amount: int
    at: datetime
    approved_by: str
    reason: str
    created_by: str = "billing.system"


@dataclass
class ClaimEvent:
    claim_id: str
    event_type: str
    ts: datetime
    actor: str
    queue: str
    detail: str


@dataclass
class EligibilityCheck:
    id: str
    patient_id: str
    payer_id: str
    member_id: str
    checked_at: datetime
    status: str
    plan_begin: date | None
    plan_end: date | None


@dataclass
class Defect:
    defect_type: str
    key: str
    system: str  # the system whose batch shows the defect
    seen_at: datetime  # when the defect's evidence lands
    account_id: str = ""
    claim_id: str = ""
    charge_id: str = ""
    trace_number: str = ""
    journal_id: str = ""
    statement_id: str = ""
    patient_id: str = ""
    amount: int = 0


@dataclass
class Coverage:
    """A Coverage resource version to export: a version of the patient's first Coverage,
    with ``successor`` the resource that replaces it, with ``secondary`` the second coverage."""

    updated_at: datetime
    patient: Patient
    version: CoverageVersion | None = None
    successor: Successor | None = None
    secondary: SecondaryCoverage | None = None


@dataclass
class Revenue:
    """Charges entered on one day at one entity, posted by the nightly charge interface."""

    entity: str
    day: date
    ts: datetime
    amount: int


class World:
    """What the simulation makes, bucketed by the landing batch that shows it (stream.py)."""

    def __init__(self, extracts: dict[str, list[datetime]], tag: str = "") -> None:
        """``tag`` (the part number when the patients are split over processes) starts the
        number of every id made here, so that the parts' ids never collide."""
        width = 8 - len(tag)
        ehr, rcm, erp = {"ehr": extracts["ehr"]}, {"rcm": extracts["rcm"]}, {"erp": extracts["erp"]}
        self.patients: Buckets[Patient] = Buckets(ehr, lambda p: p.registered_at)
        self.coverages: Buckets[Coverage] = Buckets(ehr, lambda c: c.updated_at)
        self.accounts: Buckets[Account] = Buckets(ehr, lambda a: a.end)
        self.charges: Buckets[Charge] = Buckets(ehr, lambda c: c.entered_at)
        self.revenue: Buckets[Revenue] = Buckets(erp, lambda r: r.ts)
        self.claims: Buckets[Claim] = Buckets(rcm, lambda c: c.submitted_at)
        self.remittances: Buckets[Payment] = Buckets(rcm, lambda p: p.received_at)
        self.payments: Buckets[Payment] = Buckets(erp, lambda p: p.posted_at)
        self.claim_events: Buckets[ClaimEvent] = Buckets(rcm, lambda e: e.ts)
        self.eligibility: Buckets[EligibilityCheck] = Buckets(
            rcm, lambda e: e.checked_at, f"EC{tag}", width
        )
        self.statements: Buckets[Statement] = Buckets(rcm, lambda s: s.sent_at, f"ST{tag}", width)
        self.patient_payments: Buckets[PatientPayment] = Buckets(
            {**rcm, **erp}, lambda p: p.received_at, f"PM{tag}", width
        )
        self.write_offs: Buckets[WriteOff] = Buckets(erp, lambda w: w.at)
        self.defects: list[Defect] = []
