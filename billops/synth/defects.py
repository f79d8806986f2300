"""Injected defects and their truth rows (``truth/defects.csv``).

Each account draws from its own stream, ``Random(f"{seed}:defects:{seq}")``, and each payer
payment from ``Random(f"{seed}:payment:{trace}")``, so the clean journeys do not move when the
rates change. An account carries at most one injected type (``choose``); some types bring a
consequence that is a defect of its own (a claim billed without authorization or on terminated
coverage is usually denied: the DENIAL row sits beside it). A defect is only injected where the
as-of time of the generated data makes it unambiguous, and each truth row has exactly one
correct key (docs/architecture.md, exception table).

What is injected (detection must find these from the extracts and its own settings, never from
the constants below):

* UNBILLED_CHARGE (key charge_id): a charge left off its claim, or an account whose claim is
  held by the scrubber and never sent (one row per charge). Entered at least 10 days before
  the as-of time.
* LATE_CHARGE (charge_id): a charge entered 4-14 days after the claim went out, billed on a
  replacement claim (CLM05-3 = 7, REF*F8 = the payer's original claim number), an 837P or an
  837I as the original.
* DUPLICATE_CHARGE (charge_id of the later one): the charge interface sends a line twice: a
  second ChargeItem with the same code, units, amount and service date, entered minutes to
  hours later. Both lines are billed and paid.
* DENIAL (account_id): the payer denies the whole claim (CLP02 = 4, CO-<reason> on every line,
  nothing paid); the account stays open in AR. The chance depends on the payer's tendency, the
  service and noise.
* COVERAGE_MISMATCH (account_id): at check-in the patient shows a new card, registration adds a
  Coverage version with the new member id, but the claim goes out with the id keyed at
  registration (a stale, real-looking id). Only on a patient's first visit.
* COVERAGE_INACTIVE (account_id): the eligibility check at check-in answers INACTIVE, the EHR
  records the termination (a Coverage version with period.end before the service date) or,
  for INACTIVE_UNRECORDED of them, never does, and the claim is billed to that coverage anyway;
  the payer denies it with CARC 27. Only on a
  patient's last visit, so earlier visits stay covered.
* MISSING_PRIOR_AUTH (account_id): a service on the payer's auth_rules is billed with no
  REF*G1 (no authorization was requested); the payer usually denies it with CARC 197.
* CLAIM_NO_RESPONSE (account_id): the claim is accepted by the clearinghouse and the payer
  never sends an 835. Submitted at least 40 days before the as-of time.
* UNDERPAYMENT (account_id): the payer prices the claim 10-25% below the contract and books the
  difference as CO-45; paid plus patient responsibility falls short of the contract by $5 or
  more.
* REMIT_UNBALANCED (account_id): the 835 drops the CO-45 adjustment of one line, so CLP03
  differs from CLP04 plus the CAS amounts (the GL contractual posting follows the 835).
* REMIT_NOT_IN_GL (trace_number): an 835 payment whose cash receipt journal is never posted.
* GL_AMOUNT_MISMATCH (trace_number): the cash receipt is keyed with two digits transposed (or
  off by $9.00 when no transposition changes the amount).
* GL_DUPLICATE_POSTING (journal_id of the later journal): the remittance journal is posted a
  second time the next business day.
* DEPOSIT_MISMATCH (trace_number): the EFT never reaches the bank extract, or it arrives short
  by a bank fee ($15-$35).
* STATEMENT_STALE_COVERAGE (statement_id): a single-visit patient changes coverage (a new
  Coverage resource with a new member id replaces the old one, which gets period.end) after
  the claim was paid; the first statement still shows the old member id.
* PATIENT_BALANCE_MISMATCH (statement_id): the first statement ignores the copay collected at
  check-in (amount due = patient responsibility); later statements are right.
* CREDIT_BALANCE (account_id): an over-collected copay is never refunded, or the patient pays
  a statement twice (two methods, days apart).
* WRITE_OFF_UNAPPROVED (journal_id): a claim above $1,000 is denied for timely filing
  (CARC 29) and a biller writes the whole charge off without an approver. $1,000 is this
  health system's approval policy (and the default of the detection setting): a write-off
  above it needs an approver.

Edge cases and clean look-alikes (``CASE_RATES``, drawn from their own streams on accounts and
payments that carry no defect, so a defect and a look-alike never share a key): for every
threshold of the detection settings one case just inside (no truth row: it must not fire) and
one just outside (a truth row of its type), and the legitimate cases a rule must tell from a
defect (docs/generator.md, "Edge cases and look-alikes"). Their rates scale with the defect
rate (none at rate 0, so clean output keeps every money identity) and each can be set like a
defect type's (``generate(defect_rates={"EDGE_UNDERPAYMENT": 0.05})``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from billops.config import get_settings
from billops.errors import BillopsError
from billops.synth.clock import office_time
from billops.synth.draw import pick, rint
from billops.synth.model import (
    Account,
    Charge,
    Claim,
    Defect,
    Payment,
    RemitClaim,
)
from billops.synth.params import Horizon, validate_defect_rate

UNBILLED_CHARGE = "UNBILLED_CHARGE"
LATE_CHARGE = "LATE_CHARGE"
DUPLICATE_CHARGE = "DUPLICATE_CHARGE"
DENIAL = "DENIAL"
COVERAGE_MISMATCH = "COVERAGE_MISMATCH"
COVERAGE_INACTIVE = "COVERAGE_INACTIVE"
MISSING_PRIOR_AUTH = "MISSING_PRIOR_AUTH"
CLAIM_NO_RESPONSE = "CLAIM_NO_RESPONSE"
UNDERPAYMENT = "UNDERPAYMENT"
REMIT_UNBALANCED = "REMIT_UNBALANCED"
REMIT_NOT_IN_GL = "REMIT_NOT_IN_GL"
GL_AMOUNT_MISMATCH = "GL_AMOUNT_MISMATCH"
GL_DUPLICATE_POSTING = "GL_DUPLICATE_POSTING"
DEPOSIT_MISMATCH = "DEPOSIT_MISMATCH"
STATEMENT_STALE_COVERAGE = "STATEMENT_STALE_COVERAGE"
PATIENT_BALANCE_MISMATCH = "PATIENT_BALANCE_MISMATCH"
CREDIT_BALANCE = "CREDIT_BALANCE"
WRITE_OFF_UNAPPROVED = "WRITE_OFF_UNAPPROVED"

# Share of the total defect rate per type; the account types are drawn per account, the
# payment types per payer payment (scaled by PAYMENT_BOOST, as a payment carries many accounts).
ACCOUNT_SHARES: dict[str, float] = {
    UNBILLED_CHARGE: 0.10,
    LATE_CHARGE: 0.08,
    DUPLICATE_CHARGE: 0.06,
    DENIAL: 0.10,
    COVERAGE_MISMATCH: 0.06,
    COVERAGE_INACTIVE: 0.04,
    MISSING_PRIOR_AUTH: 0.04,
    CLAIM_NO_RESPONSE: 0.05,
    UNDERPAYMENT: 0.08,
    REMIT_UNBALANCED: 0.04,
    STATEMENT_STALE_COVERAGE: 0.05,
    PATIENT_BALANCE_MISMATCH: 0.06,
    CREDIT_BALANCE: 0.05,
    WRITE_OFF_UNAPPROVED: 0.04,
}
PAYMENT_SHARES: dict[str, float] = {
    REMIT_NOT_IN_GL: 0.0375,
    GL_AMOUNT_MISMATCH: 0.0375,
    GL_DUPLICATE_POSTING: 0.0375,
    DEPOSIT_MISMATCH: 0.0375,
}
DEFECT_TYPES: tuple[str, ...] = (*ACCOUNT_SHARES, *PAYMENT_SHARES)

# Edge cases and look-alikes: the probability of each at the default defect rate (3 %), per
# account or payment that can carry it (see the module docstring and docs/generator.md).
EDGE_UNBILLED = "EDGE_UNBILLED"  # charges held unbilled just inside / outside the billing window
EDGE_LATE_CHARGE = "EDGE_LATE_CHARGE"  # a charge just inside / outside the late-charge window
EDGE_NO_RESPONSE = "EDGE_NO_RESPONSE"  # an unanswered claim just inside / outside follow-up
EDGE_UNDERPAYMENT = "EDGE_UNDERPAYMENT"  # a shortfall just inside / outside the tolerance
EDGE_WRITE_OFF = "EDGE_WRITE_OFF"  # of WRITE_OFF_UNAPPROVED accounts: at / just above policy
EDGE_GL_LAG = "EDGE_GL_LAG"  # a posting missing just inside / outside gl_posting_lag_days
EDGE_DEPOSIT_LAG = "EDGE_DEPOSIT_LAG"  # a deposit missing just inside / outside deposit_lag_days
PRICE_BELOW_CONTRACT = "PRICE_BELOW_CONTRACT"  # a line charged below the contract rate
LATE_CHARGES_CLAIM = "LATE_CHARGES_CLAIM"  # of inpatient late charges: a CLM05-3 = 5 claim
INTERIM_BILLS = "INTERIM_BILLS"  # an inpatient stay billed as interim claims (2, then 4)
REPEAT_MODIFIER = "REPEAT_MODIFIER"  # a service repeated the same day, modifier 76/59/91/77
GL_REPOST = "GL_REPOST"  # a cash receipt reversed and posted again
GL_POSTING_LAG = "GL_POSTING_LAG"  # a cash receipt posted 1-3 days after the payment
DEPOSIT_LAG = "DEPOSIT_LAG"  # a deposit 1-3 days after the payment
LOCKBOX = "LOCKBOX"  # a payer's payments of one day deposited together without a trace
SPLIT_DEPOSIT = "SPLIT_DEPOSIT"  # one payment deposited in two parts
TAKEBACK = "TAKEBACK"  # a payer takes back an overpayment: an 835 with BPR03 = D
LINE_AUTH = "LINE_AUTH"  # of authorized accounts: the authorization on the lines (2400 REF*G1)
ELIGIBILITY_RECHECK = "ELIGIBILITY_RECHECK"  # an INACTIVE response, then ACTIVE on a re-check
REFERENCE_DELTA = "REFERENCE_DELTA"  # the second RCM batch re-sends one payer's reference rows
# of COVERAGE_INACTIVE accounts: the EHR never records the end, only eligibility says INACTIVE
INACTIVE_UNRECORDED = "INACTIVE_UNRECORDED"
CASE_RATES: dict[str, float] = {
    EDGE_UNBILLED: 0.04,
    EDGE_LATE_CHARGE: 0.012,
    EDGE_NO_RESPONSE: 0.04,
    EDGE_UNDERPAYMENT: 0.012,
    EDGE_WRITE_OFF: 0.6,
    EDGE_GL_LAG: 0.15,
    EDGE_DEPOSIT_LAG: 0.15,
    PRICE_BELOW_CONTRACT: 0.01,
    LATE_CHARGES_CLAIM: 0.7,
    INTERIM_BILLS: 0.2,
    REPEAT_MODIFIER: 0.01,
    GL_REPOST: 0.03,
    GL_POSTING_LAG: 0.1,
    DEPOSIT_LAG: 0.1,
    LOCKBOX: 0.05,
    SPLIT_DEPOSIT: 0.03,
    TAKEBACK: 0.01,
    LINE_AUTH: 0.3,
    ELIGIBILITY_RECHECK: 0.01,
    REFERENCE_DELTA: 1.0,
    INACTIVE_UNRECORDED: 0.5,
}
CASES: tuple[str, ...] = tuple(CASE_RATES)
# Account-level cases, drawn (at most one) for an account without a defect, in this order.
ACCOUNT_CASES: tuple[str, ...] = (
    EDGE_UNBILLED,
    EDGE_LATE_CHARGE,
    EDGE_NO_RESPONSE,
    EDGE_UNDERPAYMENT,
    PRICE_BELOW_CONTRACT,
    INTERIM_BILLS,
    REPEAT_MODIFIER,
    TAKEBACK,
    ELIGIBILITY_RECHECK,
)
DEFAULT_RATE = 0.03
PAYMENT_BOOST = 15.0
# About half of the account defects drawn cannot be placed (no statement or remittance before
# the as-of time, a claim too young to be unanswered), so they are drawn twice as often for
# about ``rate`` of the accounts to carry one.
PLACEMENT_FACTOR = 2.0
# Types that only some accounts can carry are drawn more often where they can, so that their
# count stays near their share.
CONDITIONAL_BOOST: dict[str, float] = {
    MISSING_PRIOR_AUTH: 15.0,
    WRITE_OFF_UNAPPROVED: 15.0,
    COVERAGE_INACTIVE: 2.0,
    COVERAGE_MISMATCH: 1.0,
    STATEMENT_STALE_COVERAGE: 10.0,
    PATIENT_BALANCE_MISMATCH: 4.0,
    CREDIT_BALANCE: 6.0,
}
TRUTH_COLUMNS: tuple[str, ...] = (
    "defect_type",
    "key",
    "account_id",
    "claim_id",
    "charge_id",
    "trace_number",
    "journal_id",
    "statement_id",
    "patient_id",
    "amount",
    "batch_id",
)

UNBILLED_MIN_AGE = timedelta(days=10)
NO_RESPONSE_MIN_AGE = timedelta(days=40)
LATE_AFTER_SUBMISSION_DAYS = (4, 14)
REPLACEMENT_MAX_DELAY = timedelta(days=5)
LATE_CODES: tuple[tuple[str, int], ...] = (
    ("J2405", 4),
    ("J1885", 1),
    ("A4216", 2),
    ("J7050", 1),
    ("J3420", 1),
)
# Bare CARC values of whole-claim denials (group CO): information missing, not medically
# necessary, diagnosis inconsistent with the procedure, non-covered charge.
DENIAL_REASONS = ("16", "50", "11", "96")
AUTH_DENIAL_REASON = "197"
INACTIVE_DENIAL_REASON = "27"
TIMELY_FILING_REASON = "29"
UNDERPAYMENT_MIN = 500  # cents: smaller cuts are not injected (below any sane tolerance)
WRITE_OFF_POLICY = 100_000  # cents: write-offs above this amount need an approver
# Services whose claims a payer denies more often (documentation-heavy or costly).
SERVICE_DENIAL_FACTOR = {
    "INPATIENT": 1.5,  # medical necessity of the admission (inpatient versus observation)
    "DME": 2.0,
    "INFUSION": 2.0,
    "OBSERVATION": 1.5,
    "THERAPY": 1.5,
    "WELLNESS": 0.4,
}


def type_rates(rate: float, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The rate of each type: its share of ``rate``, unless ``overrides`` sets it; and of each
    edge case and look-alike (CASE_RATES, scaled by ``rate`` against the default rate)."""
    out = {t: rate * share * PLACEMENT_FACTOR for t, share in ACCOUNT_SHARES.items()}
    out.update({t: rate * share for t, share in PAYMENT_SHARES.items()})
    # below the default rate the cases thin out with it (none at 0); above it they stay
    out.update({c: min(p, p * rate / DEFAULT_RATE) for c, p in CASE_RATES.items()})
    out.update(overrides or {})
    return out


def rate_overrides(defect_rates: Mapping[str, float]) -> dict[str, float]:
    """The validated rates of single defect types, edge cases and look-alikes."""
    overrides = {}
    for kind, value in defect_rates.items():
        if kind not in DEFECT_TYPES and kind not in CASES:
            raise BillopsError(
                f"unknown defect type {kind!r}; use one of: {', '.join(DEFECT_TYPES + CASES)}"
            )
        if kind in CASES:  # an edge case's or look-alike's probability, up to 1
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise BillopsError(f"bad rate {value!r} of {kind}: expected a fraction from 0 to 1")
            overrides[kind] = float(value)
            continue
        overrides[kind] = validate_defect_rate(value)
    return overrides


def choose_case(
    rng: random.Random, rates: Mapping[str, float], eligible: Mapping[str, float]
) -> str | None:
    """At most one account-level case of ``eligible`` (case -> factor on its rate)."""
    u, cumulative = rng.random(), 0.0
    for case in ACCOUNT_CASES:
        if case in eligible and rates.get(case, 0) > 0:
            cumulative += min(0.9, rates[case] * eligible[case])
            if u < cumulative:
                return case
    return None


def inside_or_outside(rng: random.Random) -> bool:
    """True: the case lands just outside its threshold (a defect); False: just inside."""
    return rng.random() < 0.5


def billing_window_times(rng: random.Random, as_of: datetime, outside: bool) -> datetime:
    """A charge entry time a few hours inside or outside the billing window at the as-of time
    (a charge is unbilled once entered_at + billing_window_days <= as_of)."""
    edge = as_of - timedelta(days=get_settings().billing_window_days)
    if outside:
        return edge - timedelta(hours=rint(rng, 5, 9), minutes=rint(rng, 0, 50))
    return edge + timedelta(hours=rint(rng, 2, 5), minutes=rint(rng, 0, 50))


def late_charge_time(rng: random.Random, submitted: datetime, outside: bool) -> datetime:
    """A charge entered a few hours before or after the late-charge window closes (it is late
    once entered_at > first submission + late_charge_window_days)."""
    edge = submitted + timedelta(days=get_settings().late_charge_window_days)
    hours = timedelta(hours=rint(rng, 1, 2), minutes=rint(rng, 0, 50))
    return edge + hours if outside else edge - hours


def follow_up_days(as_of: datetime) -> tuple[date, date]:
    """The latest submission day whose claim is unanswered past the follow-up window at the
    as-of time (submitted_at + follow_up_window_days <= as_of; claims go out at 19:00), and the
    next day, whose claim is still inside it."""
    window = timedelta(days=get_settings().follow_up_window_days)
    outside = (as_of - window - timedelta(hours=19)).date()
    return outside, outside + timedelta(days=1)


def tolerance_cut(rng: random.Random, outside: bool) -> int:
    """A shortfall in cents just inside (at most) or just outside (above) the underpayment
    tolerance."""
    tolerance = round(get_settings().underpayment_tolerance * 100)
    return tolerance + rint(rng, 1, 25) if outside else tolerance - rint(rng, 0, 20)


def lag_judged(payment_day: date, as_of: datetime, lag_days: int) -> bool:
    """Whether a posting or deposit of a payment of ``payment_day`` is overdue at ``as_of``:
    payment_date + lag <= as_of (the rules compare the date, at midnight, with the as-of time)."""
    return datetime.combine(payment_day + timedelta(days=lag_days), datetime.min.time()) <= as_of


def choose(
    rng: random.Random, rates: Mapping[str, float], eligible: dict[str, float]
) -> str | None:
    """At most one account-level type: ``eligible`` maps the types the account can carry to a
    factor on their probability (1 = the plain rate)."""
    u, cumulative = rng.random(), 0.0
    for kind in ACCOUNT_SHARES:
        if kind in eligible and rates[kind] > 0:
            cumulative += min(0.5, rates[kind] * eligible[kind])
            if u < cumulative:
                return kind
    return None


def choose_payment(rng: random.Random, rates: Mapping[str, float]) -> str | None:
    u, cumulative = rng.random(), 0.0
    for kind in PAYMENT_SHARES:
        if rates[kind] > 0:
            cumulative += min(0.2, rates[kind] * PAYMENT_BOOST)
            if u < cumulative:
                return kind
    return None


def denial_factor(account: Account) -> float:
    """Denials follow the payer, the service and noise, so a model can learn them."""
    noise = random.Random(f"denial-noise:{account.id}").uniform(0.5, 1.5)
    return (
        account.patient.payer.denial_tendency
        * SERVICE_DENIAL_FACTOR.get(account.profile, 1.0)
        * noise
    )


@dataclass(frozen=True)
class LateCharge:
    hcpcs: str
    units: int
    entered_at: datetime


@dataclass
class AccountPlan:
    kind: str | None = None
    blocked: bool = False  # the claim never leaves the scrubber: every charge is unbilled
    dropped: list[Charge] = field(default_factory=list)  # charges left off the claim
    late: LateCharge | None = None
    denial_reason: str | None = None  # the payer denies the whole claim (CLP02 = 4)
    # edge cases just inside their window are no defect: no truth row
    unbilled_truth: bool = True
    late_truth: bool = True

    def truth(self, account: Account, late_charge: Charge | None) -> list[Defect]:
        rows = []
        unbilled = account.charges if self.blocked else self.dropped
        if not self.unbilled_truth:
            unbilled = []
        for c in unbilled:
            rows.append(
                Defect(
                    UNBILLED_CHARGE,
                    c.id,
                    "ehr",
                    c.entered_at,
                    account_id=account.id,
                    claim_id="" if self.blocked else account.id,
                    charge_id=c.id,
                    patient_id=account.patient.id,
                    amount=c.amount,
                )
            )
        if late_charge is not None and self.late_truth:
            rows.append(
                Defect(
                    LATE_CHARGE,
                    late_charge.id,
                    "ehr",
                    late_charge.entered_at,
                    account_id=account.id,
                    claim_id=account.id,
                    charge_id=late_charge.id,
                    patient_id=account.patient.id,
                    amount=late_charge.amount,
                )
            )
        return rows


def plan_claim(
    rng: random.Random,
    kind: str | None,
    account: Account,
    claim: Claim,
    remit_day: date,
    patient_paid: int,
    horizon: Horizon,
) -> AccountPlan:
    """Decide the claim-stage defects of one account from its clean claim and remit day."""
    plan = AccountPlan(kind)
    oldest_entry = horizon.as_of - UNBILLED_MIN_AGE
    rcm_final = horizon.extracts("rcm")[-1]
    if kind == UNBILLED_CHARGE:
        if rng.random() < 1 / 3 and all(c.entered_at <= oldest_entry for c in account.charges):
            plan.blocked = True
        elif len(claim.lines) >= 2:
            candidates = [c for c in claim.lines[1:] if c.entered_at <= oldest_entry]
            if candidates:
                plan.dropped = [pick(rng, candidates)]
    elif kind == LATE_CHARGE:
        days = rint(rng, *LATE_AFTER_SUBMISSION_DAYS)
        entered = office_time(rng, claim.submitted_at.date() + timedelta(days=days))
        if entered + REPLACEMENT_MAX_DELAY <= rcm_final:
            hcpcs, units = pick(rng, LATE_CODES)
            plan.late = LateCharge(hcpcs, units, entered)
    # a denied account that holds a copay would also read as a credit balance: not denied
    can_deny = not patient_paid and remit_day < rcm_final.date()
    if kind == DENIAL and can_deny:
        plan.denial_reason = pick(rng, DENIAL_REASONS)
    elif kind == MISSING_PRIOR_AUTH and can_deny and rng.random() < 0.75:
        plan.denial_reason = AUTH_DENIAL_REASON
    elif kind == COVERAGE_INACTIVE and can_deny:
        plan.denial_reason = INACTIVE_DENIAL_REASON
    elif kind == WRITE_OFF_UNAPPROVED and can_deny:
        plan.denial_reason = TIMELY_FILING_REASON
    return plan


def transposed(amount: int) -> int:
    """A keying error: the first pair of different adjacent digits swapped, else +$9.00."""
    digits = list(str(amount))
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1] and not (i == 0 and digits[i + 1] == "0"):
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return int("".join(digits))
    return amount + 900


def judged_later(payment_day: date, as_of: datetime) -> frozenset[str]:
    """The cash defects a payment of ``payment_day`` cannot show at the as-of time: a posting
    or deposit may lag the payment by the settings' windows (gl_posting_lag_days,
    deposit_lag_days), so a missing one is no defect until its window has passed."""
    settings = get_settings()
    lags = {
        REMIT_NOT_IN_GL: settings.gl_posting_lag_days,
        DEPOSIT_MISMATCH: settings.deposit_lag_days,
    }
    return frozenset(k for k, lag in lags.items() if not lag_judged(payment_day, as_of, lag))


def plan_payment(
    rng: random.Random,
    rates: Mapping[str, float],
    payment: Payment,
    not_yet: frozenset[str] = frozenset(),
) -> Defect | None:
    """Break the ERP side of one payer payment; returns the truth row (journal-keyed rows are
    made when the journals are numbered, see erp.py). A kind in ``not_yet`` is not injected: its
    window is still open at the extract's end."""
    if payment.amount <= 0:
        return None
    kind = choose_payment(rng, rates)
    if kind in not_yet:
        return None
    trace = payment.trace
    row = Defect(
        kind or "", trace, "erp", payment.posted_at, trace_number=trace, amount=payment.amount
    )
    if kind == REMIT_NOT_IN_GL:
        payment.gl = "skip"
    elif kind == GL_AMOUNT_MISMATCH:
        payment.gl, payment.gl_amount = "amount", transposed(payment.amount)
        row.amount = abs(payment.gl_amount - payment.amount)
    elif kind == GL_DUPLICATE_POSTING:
        payment.gl = "twice"
        return None
    elif kind == DEPOSIT_MISMATCH:
        fee = rint(rng, 1500, 3500)
        if rng.random() < 0.5 or payment.amount <= 2 * fee:
            payment.deposit = "missing"
        else:
            payment.deposit, payment.deposit_amount = "short", payment.amount - fee
            row.amount = fee
    else:
        return None
    return row


def denial_truth(account: Account, remit: RemitClaim, payment: Payment) -> Defect:
    return Defect(
        DENIAL,
        account.id,
        "rcm",
        payment.received_at,
        account_id=account.id,
        claim_id=account.id,
        trace_number=payment.trace,
        patient_id=account.patient.id,
        amount=remit.charge,
    )


def account_truth(
    kind: str, account: Account, seen_at: datetime, amount: int, system: str = "rcm"
) -> Defect:
    """A truth row keyed by the account."""
    return Defect(
        kind,
        account.id,
        system,
        seen_at,
        account_id=account.id,
        claim_id=account.id if account.claims else "",
        patient_id=account.patient.id,
        amount=amount,
    )
