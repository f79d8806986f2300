"""Suites on the reference extracts: payers, payer contracts, authorization rules, chargemaster
and the chart of accounts. Every extract is kept per batch (the latest wins), so keys are unique
within a batch."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from billops.config import get_settings
from expectations.rules import (
    between,
    in_set,
    not_before,
    not_null,
    procedure_code_format,
    unique,
)
from expectations.spec import Rule, timestamps
from expectations.suites.base import raw_suite

SOURCE = "reference"


def payer_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("payer_id", "critical", "BILLING"),
        unique(["payer_id", "_batch_id"], "critical", "BILLING", name="payer_id_unique_in_batch"),
        not_null("name", "warning", "BILLING"),
        not_null("payer_type", "warning", "BILLING"),
        between(
            "timely_filing_days",
            "critical",
            "BILLING",
            min_value=1,
            max_value=3650,
            notes="drives the billing window of timely filing",
        ),
    ]


def contract_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["payer_id", "hcpcs", "effective_from", "_batch_id"],
            "critical",
            "FINANCE",
            name="contract_unique_in_batch",
        ),
        procedure_code_format(),
        not_null("effective_from", "critical", "FINANCE"),
        not_before("effective_to", "effective_from", "critical", "FINANCE"),
        in_set(
            "pricing_terms",
            [1],
            "critical",
            "FINANCE",
            name="one_pricing_term",
            notes="exactly one of expected_allowed_amount and allowed_pct_of_charge",
        ),
        between("expected_allowed_amount", "critical", "FINANCE", min_value=0),
        between(
            "allowed_pct_of_charge",
            "critical",
            "FINANCE",
            min_value=0,
            max_value=1,
            notes="a fraction such as 0.65, never a percentage such as 65",
        ),
    ]


def auth_rule_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["payer_id", "hcpcs", "effective_from", "_batch_id"],
            "critical",
            "PATIENT_ACCESS",
            name="auth_rule_unique_in_batch",
        ),
        not_null("payer_id", "critical", "PATIENT_ACCESS"),
        procedure_code_format(),
        not_before("effective_to", "effective_from", "critical", "PATIENT_ACCESS"),
    ]


def chargemaster_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["hcpcs", "effective_from", "_batch_id"],
            "critical",
            "BILLING",
            name="price_unique_in_batch",
        ),
        procedure_code_format(),
        between("unit_price", "critical", "BILLING", min_value=0),
        not_null("effective_from", "critical", "BILLING"),
        not_null("description", "warning", "CODING"),
    ]


def chart_rules(as_of: datetime | None) -> list[Rule]:
    return [
        unique(
            ["entity", "account", "_batch_id"],
            "critical",
            "FINANCE",
            name="account_unique_in_batch",
        ),
        in_set(
            "account_type",
            get_settings().gl_account_types,
            "warning",
            "FINANCE",
            notes="GL accounts are found by type (setting gl_account_types), so an account of "
            "an unknown type takes part in no tie-out",
        ),
        not_null("name", "warning", "FINANCE"),
    ]


def crosswalk_rules(as_of: datetime | None) -> list[Rule]:
    return [
        not_null("source_system", "critical", "BILLING"),
        not_null("source_payer_id", "critical", "BILLING"),
        not_null(
            "payer_id",
            "warning",
            "BILLING",
            notes="a row without a target payer id maps nothing (it unmaps an earlier row)",
        ),
        unique(
            ["source_system_key", "source_payer_id_key", "_batch_id"],
            "critical",
            "BILLING",
            name="crosswalk_unique_in_batch",
            notes="ids compare trimmed and case-insensitively, so two rows of one id disagree",
        ),
    ]


def _prepare_crosswalk(frame: pd.DataFrame) -> pd.DataFrame:
    frame["source_system_key"] = frame["source_system"].str.strip().str.lower()
    frame["source_payer_id_key"] = frame["source_payer_id"].str.strip().str.upper()
    return frame


def _prepare_contracts(frame: pd.DataFrame) -> pd.DataFrame:
    frame = timestamps(frame, "effective_from", "effective_to")
    frame["pricing_terms"] = frame["expected_allowed_amount"].notna().astype(int) + frame[
        "allowed_pct_of_charge"
    ].notna().astype(int)
    return frame


def _prepare_dates(frame: pd.DataFrame) -> pd.DataFrame:
    return timestamps(frame, "effective_from", "effective_to")


PAYERS = raw_suite("payers", SOURCE, payer_rules)
PAYER_CONTRACTS = raw_suite("payer_contracts", SOURCE, contract_rules, prepare=_prepare_contracts)
AUTH_RULES = raw_suite("auth_rules", SOURCE, auth_rule_rules, prepare=_prepare_dates)
CHARGEMASTER = raw_suite("chargemaster", SOURCE, chargemaster_rules)
PAYER_CROSSWALK = raw_suite(
    "payer_crosswalk",
    SOURCE,
    crosswalk_rules,
    keys=("source_system", "source_payer_id"),
    prepare=_prepare_crosswalk,
)
CHART_OF_ACCOUNTS = raw_suite("chart_of_accounts", SOURCE, chart_rules)

SUITES = (
    PAYERS, PAYER_CONTRACTS, AUTH_RULES, CHARGEMASTER, PAYER_CROSSWALK, CHART_OF_ACCOUNTS
)
