"""Suite on the reconciliation mart, ``marts.fct_account_reconciliation`` (one row per account)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from expectations.rules import PERIOD
from expectations.spec import Rule, cents
from expectations.suites.base import mart_suite

RECON_STATUSES = [
    "TIED",
    "UNBILLED",
    "PARTIALLY_BILLED",
    "BILLED_WITHOUT_CHARGE",
    "AMOUNT_VARIANCE",
]

# Amounts that are sums of charge or claim line amounts and so can never be negative.
NON_NEGATIVE_AMOUNTS = (
    "charge_amount",
    "matched_amount",
    "unbilled_amount",
    "billed_amount",
    "billed_not_charged_amount",
)


def rules(as_of: datetime | None) -> list[Rule]:
    found = [
        Rule(
            "account_id_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": "account_id"},
            "critical",
            "FINANCE",
        ),
        Rule(
            "account_id_unique",
            "ExpectColumnValuesToBeUnique",
            {"column": "account_id"},
            "critical",
            "FINANCE",
        ),
        Rule(
            "entity_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": "entity"},
            "critical",
            "FINANCE",
        ),
        Rule(
            "recon_status_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": "recon_status"},
            "critical",
            "BILLING",
        ),
        Rule(
            "recon_status_allowed",
            "ExpectColumnValuesToBeInSet",
            {"column": "recon_status", "value_set": RECON_STATUSES},
            "critical",
            "BILLING",
        ),
        Rule(
            "period_format",
            "ExpectColumnValuesToMatchRegex",
            {"column": "period", "regex": PERIOD},
            "warning",
            "FINANCE",
        ),
        # Every EHR charge is either on the current claim (matched) or not (unbilled).
        Rule(
            "charges_split_matched_unbilled",
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "charge_cents", "column_B": "matched_plus_unbilled_cents"},
            "critical",
            "FINANCE",
        ),
        Rule(
            "variance_is_charge_minus_billed",
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "variance_cents", "column_B": "charge_minus_billed_cents"},
            "warning",
            "FINANCE",
        ),
    ]
    found += [
        Rule(
            f"{col}_non_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": col, "min_value": 0},
            "critical"
            if col in ("charge_amount", "matched_amount", "unbilled_amount")
            else "warning",
            "FINANCE" if col != "billed_not_charged_amount" else "BILLING",
        )
        for col in NON_NEGATIVE_AMOUNTS
    ]
    return found


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds tie-out helpers in whole cents; amounts arrive from DuckDB as floats."""
    frame = frame.copy()
    frame["charge_cents"] = cents(frame["charge_amount"])
    frame["matched_plus_unbilled_cents"] = cents(frame["matched_amount"]) + cents(
        frame["unbilled_amount"]
    )
    frame["variance_cents"] = cents(frame["variance_amount"])
    frame["charge_minus_billed_cents"] = frame["charge_cents"] - cents(frame["billed_amount"])
    return frame


SUITE = mart_suite(
    "fct_account_reconciliation",
    (
        "account_id",
        "entity",
        "period",
        "recon_status",
        "charge_amount",
        "billed_amount",
        "matched_amount",
        "unbilled_amount",
        "billed_not_charged_amount",
        "variance_amount",
    ),
    rules,
    keys=("account_id",),
    prepare=prepare,
)
