"""Non-patient cash: what else moves through a hospital's cash accounts and bank.

A real GL cash account does not carry remittances and patient payments only. Per entity (the
hospital) this writes, on its CASH accounts (1010 operating, 1020 payroll):

* vendor payments (source AP): a payment run every Thursday, three to eight payments of
  Dr accounts payable / Cr operating cash, by check (reference = the six-digit check number)
  or by ACH (reference = the fifteen-digit ACH trace number: the bank's routing prefix and a
  sequence, a number that looks like an 835 trace but never is one);
* payroll (source PAYROLL), every other Friday: Dr salaries / Cr payroll withholdings and
  Cr payroll cash for the net pay (reference = the payroll run id ``PR-<entity>-<year>-<nn>``), and the
  tax deposit Dr payroll withholdings / Cr operating cash (reference = the fifteen-digit EFTPS
  acknowledgement number);
* transfers between bank accounts (source TREASURY): operating to payroll the day before each
  payday (reference ``XFER-<entity>-<yyyymmdd>``) and, in most months, from the investment account to
  operating (reference = a ten-digit wire confirmation); each lands in bank_deposits.csv of the
  receiving bank account with the transfer reference as its trace number;
* bank fees (source BANK): the account analysis charge on the last business day of a month,
  Dr bank service charges / Cr operating cash;
* interest (source BANK): interest earned on the operating account, the same day, Dr operating
  cash / Cr interest income, and a deposit without a trace number;
* vendor refunds (source AP, some months): Dr operating cash / Cr accounts payable, deposited
  with the vendor's check number as trace number;
* reversals (source AP, some months): a vendor check of the month voided (stale or lost),
  Dr operating cash / Cr accounts payable, with the check number of the payment it reverses.

These are not defects: no truth rows. Every journal balances. Amounts follow the size of the
simulated system (accounts per hospital and month), so the non-patient cash of an entity is of
the order of its patient cash. Drawn from its own stream per entity, so the patients' records
do not move; written by the first part only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from billops.synth.clock import at, next_weekday
from billops.synth.draw import below, pick, rint
from billops.synth.erp import Deposit, Journal
from billops.synth.params import Horizon
from billops.synth.reference import (
    ACCOUNTS_PAYABLE,
    BANK_FEES,
    BANK_INTEREST,
    GL_BY_TYPE,
    INVESTMENTS,
    PAYROLL_CASH,
    PAYROLL_LIABILITIES,
    SALARIES,
    Facility,
    Reference,
)
from billops.synth.x12 import payee_bank

OPERATING_CASH = GL_BY_TYPE["CASH"]
BANK_NAME = "Buckeye State Bank"
VENDORS = (
    "Tristate Medical Supply",
    "Northgate Biomedical Services",
    "Buckeye Pharma Distributors",
    "Lakeside Linen Service",
    "Valley Power and Light",
    "Harbor Health IT Solutions",
    "Keystone Laboratory Supply",
    "Summit Food Services",
    "Riverside Waste Management",
    "Meridian Staffing Partners",
    "Crescent Facilities Maintenance",
    "Pinecrest Imaging Services",
)
VENDOR_RUN_DAY = 3  # Thursday
PAYDAY = 4  # Friday, every other week
# Shares of an entity's monthly operating cash outflow (about net patient revenue).
PAYROLL_SHARE = 0.55
VENDOR_SHARE = 0.40
TAX_SHARE = 0.24  # of gross pay withheld and deposited
# About what a visit brings in cash (cents), to size an entity's monthly outflow.
CASH_PER_ACCOUNT = 30_000
SOURCES = ("AP", "PAYROLL", "TREASURY", "BANK")


@dataclass
class Treasury:
    """The non-patient journals and deposits of the whole horizon (numbered when written)."""

    journals: list[Journal]
    deposits: list[Deposit]


def monthly_outflow(patients: int, hospitals: int, months: int) -> int:
    """An entity's monthly operating cash outflow in cents: its accounts per month (patients
    visit 1.08 + 0.35 times per simulated month, see journey_patients.make_patient) times the cash a
    visit brings."""
    accounts = patients * (1.08 + 0.35 * months) / max(months, 1) / hospitals
    return max(int(accounts * CASH_PER_ACCOUNT), 2_000_000)


def non_patient_cash(ref: Reference, horizon: Horizon, seed: int, patients: int) -> Treasury:
    journals: list[Journal] = []
    deposits: list[Deposit] = []
    outflow = monthly_outflow(patients, len(ref.hospitals), horizon.months)
    for h in ref.hospitals:
        rng = random.Random(f"{seed}:treasury:{h.id}")
        _Entity(rng, h, horizon, outflow, journals, deposits).run()
    journals.sort(key=lambda j: (j.ts, j.entity, j.reference))
    deposits.sort(key=lambda d: (d.ts, d.entity, d.trace_number))
    return Treasury(journals, deposits)


def _round(amount: float, unit: int = 1) -> int:
    """Cents, rounded to ``unit`` cents."""
    return max(unit, int(amount / unit) * unit)


class _Entity:
    def __init__(
        self,
        rng: random.Random,
        h: Facility,
        horizon: Horizon,
        outflow: int,
        journals: list[Journal],
        deposits: list[Deposit],
    ) -> None:
        self.rng, self.h, self.horizon, self.outflow = rng, h, horizon, outflow
        self.journals, self.deposits = journals, deposits
        self.check_no = rint(rng, 100_000, 400_000)
        self.ach_prefix = payee_bank(h.ein)[0][:8]  # the bank's routing prefix, starts with 0
        self.ach_seq = rint(rng, 1, 900_000)
        self.payroll_account = f"PAYR-{rint(rng, 1000, 9999)}"

    # ------------------------------------------------------------------------ helpers
    def journal(
        self,
        day: date,
        hour: int,
        minute: int,
        source: str,
        reference: str,
        description: str,
        created_by: str,
        approved_by: str,
        lines: list[tuple[str, int, int]],
    ) -> Journal:
        j = Journal(
            "",
            self.h.id,
            day,
            at(day, hour, minute),
            source,
            reference,
            description,
            created_by,
            approved_by,
        )
        j.lines = lines
        self.journals.append(j)
        return j

    def deposit(
        self, day: date, hour: int, account: str, amount: int, trace: str, name: str
    ) -> None:
        self.deposits.append(
            Deposit("", self.h.id, account, day, at(day, hour), amount, trace, name)
        )

    def days(self, weekday: int) -> Iterator[date]:
        day = next_weekday(self.horizon.start, (weekday,))
        while day <= self.horizon.end:
            yield day
            day += timedelta(days=7)

    # ------------------------------------------------------------------------ entries
    def run(self) -> None:
        self.vendor_runs()
        self.payroll()
        for first in self.horizon.month_starts:
            self.month_end(first)

    def vendor_runs(self) -> None:
        rng = self.rng
        weekly = self.outflow * VENDOR_SHARE * 12 / 52
        voided = 0
        for day in self.days(VENDOR_RUN_DAY):
            n = rint(rng, 3, 8)
            weights = [rng.random() + 0.2 for _ in range(n)]
            total = sum(weights)
            checks: list[tuple[str, str, int]] = []
            for i, w in enumerate(weights):
                amount = _round(weekly * w / total)
                vendor = pick(rng, VENDORS)
                invoice = f"INV-{rint(rng, 10_000, 99_999)}"
                if rng.random() < 0.6:
                    self.check_no += 1
                    reference, how = str(self.check_no), "check"
                    checks.append((reference, vendor, amount))
                else:
                    self.ach_seq += 1
                    reference, how = f"{self.ach_prefix}{self.ach_seq:07d}", "ACH"
                self.journal(
                    day,
                    14,
                    i,
                    "AP",
                    reference,
                    f"AP {how} payment {vendor} {invoice}",
                    "ap.interface",
                    "ap.manager01",
                    [(ACCOUNTS_PAYABLE, amount, 0), (OPERATING_CASH, 0, amount)],
                )
            # now and then a check of an earlier run is voided (stale, lost in the mail)
            void_day = next_weekday(day + timedelta(days=rint(rng, 5, 12)))
            if checks and rng.random() < 0.12 and void_day <= self.horizon.end:
                reference, vendor, amount = pick(rng, checks)
                voided += 1
                self.journal(
                    void_day,
                    11,
                    voided % 60,
                    "AP",
                    reference,
                    f"void check {reference} {vendor} (reversal)",
                    "ap.clerk02",
                    "ap.manager01",
                    [(OPERATING_CASH, amount, 0), (ACCOUNTS_PAYABLE, 0, amount)],
                )

    def payroll(self) -> None:
        rng = self.rng
        gross_run = self.outflow * PAYROLL_SHARE * 12 / 26
        for day in self.days(PAYDAY):
            if day.toordinal() // 7 % 2:  # every other Friday, the same weeks in every run
                continue
            gross = _round(gross_run * (0.95 + 0.1 * rng.random()))
            taxes = _round(gross * TAX_SHARE)
            net = gross - taxes
            period = (day.timetuple().tm_yday + 13) // 14
            funding_day = day - timedelta(days=1)
            if funding_day >= self.horizon.start:
                reference = f"XFER-{self.h.id}-{funding_day:%Y%m%d}"
                self.journal(
                    funding_day,
                    16,
                    0,
                    "TREASURY",
                    reference,
                    "transfer operating to payroll account (payroll funding)",
                    "treasury.analyst",
                    "controller",
                    [(PAYROLL_CASH, net, 0), (OPERATING_CASH, 0, net)],
                )
                self.deposit(
                    funding_day,
                    16,
                    self.payroll_account,
                    net,
                    reference,
                    "TRANSFER FROM OPERATING",
                )
            self.journal(
                day,
                7,
                0,
                "PAYROLL",
                f"PR-{self.h.id}-{day:%Y}-{period:02d}",
                f"payroll run pay date {day:%Y-%m-%d}",
                "payroll.interface",
                "payroll.manager",
                [
                    (SALARIES, gross, 0),
                    (PAYROLL_LIABILITIES, 0, taxes),
                    (PAYROLL_CASH, 0, net),
                ],
            )
            self.journal(
                day,
                10,
                30,
                "PAYROLL",
                f"27{rint(rng, 10**12, 10**13 - 1)}",
                "federal and state payroll tax deposit (EFTPS)",
                "payroll.interface",
                "payroll.manager",
                [(PAYROLL_LIABILITIES, taxes, 0), (OPERATING_CASH, 0, taxes)],
            )

    def month_end(self, first: date) -> None:
        rng, horizon = self.rng, self.horizon
        nxt = (first + timedelta(days=32)).replace(day=1)
        last = nxt - timedelta(days=1)
        while last.weekday() >= 5:
            last -= timedelta(days=1)
        scale = self.outflow / 30_000_000  # about 1 for a hospital paying out $300,000 a month
        # the bank's monthly account analysis charge and the interest on the operating account
        fee = _round((350 + 900 * rng.random()) * 100 * max(scale, 0.2) ** 0.5)
        interest = _round((0.5 + rng.random()) * self.outflow * 0.004)
        if last <= horizon.end:
            self.journal(
                last,
                18,
                0,
                "BANK",
                f"ANL-{self.h.bank_account}-{first:%Y%m}",
                f"account analysis service charges {first:%Y-%m}",
                "treasury.analyst",
                "",
                [(BANK_FEES, fee, 0), (OPERATING_CASH, 0, fee)],
            )
            self.journal(
                last,
                18,
                5,
                "BANK",
                f"INT-{self.h.bank_account}-{first:%Y%m}",
                f"interest earned {first:%Y-%m}",
                "treasury.analyst",
                "",
                [(OPERATING_CASH, interest, 0), (BANK_INTEREST, 0, interest)],
            )
            self.deposit(
                last, 18, self.h.bank_account, interest, "", f"{BANK_NAME.upper()} INTEREST"
            )
        # most months the operating account is topped up from the investment account
        if rng.random() < 0.7:
            day = next_weekday(first + timedelta(days=rint(rng, 9, 18)))
            amount = _round(self.outflow * (0.3 + 0.4 * rng.random()), 100_000)
            confirmation = str(rint(rng, 8 * 10**9, 9 * 10**9 - 1))
            if day <= horizon.end:
                self.journal(
                    day,
                    12,
                    0,
                    "TREASURY",
                    confirmation,
                    "transfer from investment account to operating",
                    "treasury.analyst",
                    "controller",
                    [(OPERATING_CASH, amount, 0), (INVESTMENTS, 0, amount)],
                )
                self.deposit(
                    day,
                    12,
                    self.h.bank_account,
                    amount,
                    confirmation,
                    "TRANSFER FROM INVESTMENT ACCOUNT",
                )
        # some months a vendor refunds an overpayment or a returned order by check
        if rng.random() < 0.4:
            day = next_weekday(first + timedelta(days=below(rng, 27)))
            amount = _round((50 + 4_950 * rng.random()) * 100)
            vendor = pick(rng, VENDORS)
            check = str(rint(rng, 1_000_000, 9_999_999))
            if day <= horizon.end:
                self.journal(
                    day,
                    15,
                    30,
                    "AP",
                    check,
                    f"vendor refund {vendor} check {check}",
                    "ap.clerk02",
                    "",
                    [(OPERATING_CASH, amount, 0), (ACCOUNTS_PAYABLE, 0, amount)],
                )
                self.deposit(day, 15, self.h.bank_account, amount, check, vendor.upper())
