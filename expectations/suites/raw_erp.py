"""Suites on the ERP extracts: general-ledger journal lines and bank deposits."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings
from expectations.rules import between, in_set, matches, not_null, unique, zero
from expectations.spec import Rule, cents, timestamps
from expectations.suites.base import raw_suite


def journal_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("journal_id", "critical", "FINANCE"),
        unique(
            ["journal_id", "line_no", "_batch_id"],
            "critical",
            "FINANCE",
            name="line_unique_in_batch",
        ),
        not_null("entity", "critical", "FINANCE"),
        matches(
            "period",
            get_settings().gl_period_pattern,
            "warning",
            "FINANCE",
            notes="the period has the form the gl_period_pattern setting allows",
        ),
        in_set(
            "period_matches_posting_date",
            [True],
            "warning",
            "FINANCE",
            name="period_is_posting_month",
        ),
        between("debit", "critical", "FINANCE", min_value=0),
        between("credit", "critical", "FINANCE", min_value=0),
        in_set(
            "sides_used",
            [1],
            "warning",
            "FINANCE",
            name="one_side_per_line",
            notes="a line debits or credits, never both or neither",
        ),
        zero(
            "journal_imbalance_cents",
            "critical",
            "FINANCE",
            name="journal_balances",
            notes="the debits of a journal equal its credits; a GL extract with an unbalanced "
            "journal cannot be trusted as a whole, so it blocks",
            blocks=True,
        ),
        not_null(
            "account_type",
            "critical",
            "FINANCE",
            name="account_in_chart",
            notes="every line's account is in the chart of accounts of its entity",
        ),
    ]
    if as_of is not None:
        found.append(
            between(
                "posting_date",
                "warning",
                "FINANCE",
                max_value=as_of,
                name="posting_date_not_after_as_of",
            )
        )
    return found


def deposit_rules(as_of: datetime | None) -> list[Rule]:
    found = [
        not_null("deposit_id", "critical", "CASH_POSTING"),
        unique("deposit_id", "critical", "CASH_POSTING"),
        not_null("entity", "critical", "FINANCE"),
        not_null("amount", "critical", "CASH_POSTING"),
        between("amount", "warning", "CASH_POSTING", min_value=0, strict_min=True),
    ]
    if as_of is not None:
        found.append(
            between(
                "deposit_date",
                "warning",
                "CASH_POSTING",
                max_value=as_of,
                name="deposit_date_not_after_as_of",
            )
        )
    return found


def _prepare_journals(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "posting_date")
    debit, credit = cents(frame["debit"]), cents(frame["credit"])
    frame["sides_used"] = (debit != 0).astype(int) + (credit != 0).astype(int)
    net = (debit - credit).groupby(frame["journal_id"].fillna("")).transform("sum")
    frame["journal_imbalance_cents"] = net
    frame["period_matches_posting_date"] = (
        frame["posting_date"].dt.strftime("%Y-%m") == frame["period"]
    )
    return frame


JOURNAL_LINES = raw_suite(
    "gl_journal_lines",
    "erp-gl",
    journal_rules,
    prepare=_prepare_journals,
    keys=("journal_id", "line_no", "reference"),
    query="""with chart as (
                 select entity, account, arg_max(account_type, _batch_id) as account_type
                 from raw.chart_of_accounts group by all)
             select g.*, c.account_type
             from {asset} g
             left join chart c using (entity, account)""",
)
# Cash accounts and bank accounts also carry vendor payments, payroll, transfers, fees and
# interest: a GL cash line or a deposit that references no remittance is non-patient cash, shown
# on the reconciliation and never a break. Unmatched remittances are the business exceptions
# REMIT_NOT_IN_GL and DEPOSIT_MISMATCH, judged from the 835 side.
BANK_DEPOSITS = raw_suite(
    "bank_deposits",
    "erp-bank",
    deposit_rules,
    prepare=lambda f: timestamps(f, "deposit_date"),
)

SUITES = (JOURNAL_LINES, BANK_DEPOSITS)
