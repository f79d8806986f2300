"""ERP side: general-ledger journals and bank deposits derived from the billing events.

Every journal balances. Accounts are the chart-of-accounts numbers of reference.py; the GL
entity is the hospital Organization id (a clinic posts to its hospital).

* gross revenue: one journal per entity and charge-entry day, Dr PATIENT_AR / Cr GROSS_REVENUE
* remittance: one journal per 835 payment, reference = TRN02 trace: Dr CASH / Cr PATIENT_AR for
  the payment and Dr CONTRACTUAL_ALLOWANCE / Cr PATIENT_AR for the CO-45 adjustments (denied
  amounts stay in AR)
* patient cash: one journal per patient payment, Dr CASH / Cr PATIENT_AR
* refunds: Dr PATIENT_AR / Cr REFUNDS_PAYABLE, reference = the refund payment id
* write-offs: Dr WRITE_OFF / Cr PATIENT_AR, reference = the account, approved_by set

The cash accounts also carry non-patient cash (vendor payments, payroll, transfers, bank fees,
interest, vendor refunds, voided checks): treasury.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from billops.synth.clock import at, next_weekday
from billops.synth.defects import GL_DUPLICATE_POSTING, WRITE_OFF_POLICY, WRITE_OFF_UNAPPROVED
from billops.synth.model import Defect, PatientPayment, Payment, Revenue, WriteOff
from billops.synth.reference import GL_BY_TYPE, INTEREST_INCOME, Reference

SOURCE_ORDER = (
    "CHARGES",
    "REMITTANCE",
    "PATIENT_PAYMENT",
    "REFUND",
    "WRITE_OFF",
    # non-patient cash (treasury.py)
    "AP",
    "PAYROLL",
    "TREASURY",
    "BANK",
)


@dataclass
class Journal:
    id: str
    entity: str
    posting_date: date
    ts: datetime  # when the journal is posted (decides its landing batch)
    source: str
    reference: str
    description: str
    created_by: str
    approved_by: str
    lines: list[tuple[str, int, int]] = field(default_factory=list)  # account, debit, credit
    duplicate: bool = False  # the second posting of a remittance (GL_DUPLICATE_POSTING)
    # the journal this one reverses (its description names it once both are numbered)
    reverses: Journal | None = field(default=None, repr=False)

    def add(self, account_type: str, debit: int, credit: int) -> None:
        if debit < 0 or credit < 0:  # a negative amount posts to the other side
            debit, credit = -credit, -debit
        self.lines.append((GL_BY_TYPE[account_type], debit, credit))

    def pair(self, debit_type: str, credit_type: str, amount: int) -> None:
        if amount:
            self.add(debit_type, amount, 0)
            self.add(credit_type, 0, amount)


@dataclass
class Deposit:
    id: str
    entity: str
    bank_account: str
    deposit_date: date
    ts: datetime
    amount: int
    trace_number: str
    payer_name: str


def build_journals(
    revenue: Iterable[Revenue],
    payments: Iterable[Payment],
    patient_payments: Iterable[PatientPayment],
    write_offs: Iterable[WriteOff],
) -> list[Journal]:
    """The journals of one extract window, not yet numbered. A remittance posted twice
    (GL_DUPLICATE_POSTING) gives a second journal, ``duplicate`` set, the next business day."""
    journals = _charge_journals(revenue)
    for pay in payments:
        journals += _payment_journals(pay)
    journals += [_patient_payment_journal(pp) for pp in patient_payments]
    journals += [_write_off_journal(wo) for wo in write_offs]
    return journals


def _charge_journals(revenue: Iterable[Revenue]) -> list[Journal]:
    """One journal per entity and day of the nightly charge interface."""
    totals: dict[tuple[str, date], int] = defaultdict(int)
    for r in revenue:
        totals[(r.entity, r.day)] += r.amount
    journals = []
    for (entity, day), amount in sorted(totals.items()):
        j = Journal(
            id="",
            entity=entity,
            posting_date=day,
            ts=at(day, 21, 30),
            source="CHARGES",
            reference=f"CHG-{entity}-{day:%Y%m%d}",
            description="daily charge interface",
            created_by="interface.ehr",
            approved_by="",
        )
        j.pair("PATIENT_AR", "GROSS_REVENUE", amount)
        journals.append(j)
    return journals


def _payment_journals(pay: Payment) -> list[Journal]:
    """The cash receipt journals of a payer payment as the GL records it (``pay.gl``)."""
    if pay.gl == "skip":
        return []
    journals = []
    posted = pay.posted_at
    if pay.gl_days:  # posted days after the payment (a journal past the extract is pending)
        posted = at(posted.date() + timedelta(days=pay.gl_days), 10, 30)
    j = _remittance_journal(pay, posted)
    if j.lines:
        journals.append(j)
    if pay.gl == "repost" and j.lines:
        # the cash receipt is reversed the next business day and posted again: a reversal
        # nets against its original, so this is no duplicate
        day = next_weekday(posted.date() + timedelta(days=1))
        undo = _remittance_journal(pay, at(day, 10, 0))
        undo.lines = [(account, credit, debit) for account, debit, credit in undo.lines]
        undo.reverses = j
        journals.append(undo)
        journals.append(_remittance_journal(pay, at(day, 10, 5)))
    if pay.gl == "twice":
        again = _remittance_journal(
            pay, at(next_weekday(pay.posted_at.date() + timedelta(days=1)), 10, 15)
        )
        again.duplicate = True
        journals.append(again)
    return journals


def _patient_payment_journal(pp: PatientPayment) -> Journal:
    """A patient payment (cash in) or refund (a refund payable)."""
    refund = pp.amount <= 0
    j = Journal(
        id="",
        entity=pp.entity,
        posting_date=pp.received_at.date(),
        ts=pp.received_at,
        source="REFUND" if refund else "PATIENT_PAYMENT",
        reference=pp.id,
        description="patient refund" if refund else f"patient payment {pp.method.lower()}",
        created_by="refunds.clerk" if refund else "cashier",
        approved_by="finance.manager01" if refund else "",
    )
    if refund:
        j.pair("PATIENT_AR", "REFUNDS_PAYABLE", -pp.amount)
    else:
        j.pair("CASH", "PATIENT_AR", pp.amount)
    return j


def _write_off_journal(wo: WriteOff) -> Journal:
    j = Journal(
        id="",
        entity=wo.entity,
        posting_date=wo.at.date(),
        ts=wo.at,
        source="WRITE_OFF",
        reference=wo.account_id,
        description=f"{wo.reason} write-off",
        created_by=wo.created_by,
        approved_by=wo.approved_by,
    )
    j.pair("WRITE_OFF", "PATIENT_AR", wo.amount)
    return j


def number_journals(journals: list[Journal], first: int, tag: str = "") -> list[Defect]:
    """Sort one batch's journals in posting order and number them from ``first``; returns the
    truth rows keyed by a journal (a remittance posted twice, a write-off above the approval
    policy without an approver)."""
    journals.sort(key=lambda j: (j.ts, SOURCE_ORDER.index(j.source), j.entity, j.reference))
    truth = []
    for n, j in enumerate(journals, first):
        j.id = f"JE{tag}{n:0{8 - len(tag)}d}"
        if j.reverses is not None:
            j.description = f"reversal of {j.reverses.id}"
        if j.duplicate:
            truth.append(
                Defect(
                    GL_DUPLICATE_POSTING,
                    j.id,
                    "erp",
                    j.ts,
                    trace_number=j.reference,
                    journal_id=j.id,
                    amount=sum(d for _, d, _ in j.lines),
                )
            )
        elif j.source == "WRITE_OFF" and not j.approved_by:
            amount = sum(d for _, d, _ in j.lines)
            if amount > WRITE_OFF_POLICY:
                truth.append(
                    Defect(
                        WRITE_OFF_UNAPPROVED,
                        j.id,
                        "erp",
                        j.ts,
                        account_id=j.reference,
                        journal_id=j.id,
                        amount=amount,
                    )
                )
    return truth


def _remittance_journal(pay: Payment, ts: datetime) -> Journal:
    j = Journal(
        "",
        pay.entity,
        ts.date(),
        ts,
        "REMITTANCE",
        pay.trace,
        f"835 payment {pay.payer.id}",
        "interface.era",
        "",
    )
    cash = pay.gl_amount if pay.gl == "amount" else pay.amount
    interest = pay.amount - pay.claims_paid  # PLB: interest the payer added to the payment
    if cash:
        # a cash receipt keyed wrong (GL_AMOUNT_MISMATCH) is wrong on its AR side too
        j.add("CASH", cash, 0)
        j.add("PATIENT_AR", 0, cash - interest)
        if interest:
            j.lines.append(
                (INTEREST_INCOME, 0, interest) if interest > 0 else (INTEREST_INCOME, -interest, 0)
            )
    # CO-45 is the contractual allowance; a denial (other CO reasons) leaves the AR open
    contractual = sum(
        a.amount
        for c in pay.claims
        for ln in c.lines
        for a in ln.adjustments
        if a.group == "CO" and a.reason == "45"
    )
    if contractual:
        j.add("CONTRACTUAL_ALLOWANCE", contractual, 0)
        j.add("PATIENT_AR", 0, contractual)
    return j


def payment_deposits(payments: Iterable[Payment], ref: Reference) -> list[Deposit]:
    """The bank deposits of payer payments, not yet numbered. A deposit that lags its payment
    (``deposit_days``) carries its own date and time; a lockbox deposits a payer's payments of
    one day together, without a trace; a split payment arrives in two deposits."""
    out: list[Deposit] = []
    lockbox: dict[tuple[str, date], list[Payment]] = {}
    for pay in payments:
        if pay.amount <= 0 or pay.deposit == "missing":
            continue
        if pay.deposit == "lockbox":
            lockbox.setdefault((pay.payer.id, pay.paid_on), []).append(pay)
            continue
        facility = ref.facility_by_id[pay.entity]
        day, ts = pay.paid_on, pay.posted_at
        if pay.deposit_days:  # a deposit past the extract is still pending
            day = pay.paid_on + timedelta(days=pay.deposit_days)
            ts = at(day, 15, 0)
        amount = pay.deposit_amount if pay.deposit in ("short", "split") else pay.amount
        out.append(
            Deposit(
                "", pay.entity, facility.bank_account, day, ts, amount, pay.trace, pay.payer.name
            )
        )
        if pay.deposit == "split":  # the rest of the EFT, credited separately the same day
            rest = pay.amount - amount
            out.append(
                Deposit(
                    "",
                    pay.entity,
                    facility.bank_account,
                    day,
                    ts + timedelta(minutes=20),
                    rest,
                    pay.trace,
                    pay.payer.name,
                )
            )
    for (_, day), paid in sorted(lockbox.items()):
        facility = ref.facility_by_id[paid[0].entity]
        out.append(
            Deposit(
                "",
                paid[0].entity,
                facility.bank_account,
                day,
                max(p.posted_at for p in paid),
                sum(p.amount for p in paid),
                "",
                paid[0].payer.name,
            )
        )
    return out


def build_deposits(
    payments: Iterable[Payment],
    ref: Reference,
    first: int,
    tag: str = "",
    others: Iterable[Deposit] = (),
) -> list[Deposit]:
    """The bank deposits of one window's payments, then the window's other deposits
    (``others``: non-patient ones from treasury.py, deposits that lagged into this window),
    numbered from ``first``."""
    out = []
    for d in [*payment_deposits(payments, ref), *others]:
        d.id = f"DP{tag}{first + len(out):0{8 - len(tag)}d}"
        out.append(d)
    return out
