"""Raw rules that check a vocabulary read its allowed values from settings, and an unknown value
warns on its record: only an untrustworthy extract blocks (docs/data-quality.md)."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
import pytest

from billops.config import get_settings
from expectations.suites import RAW_SUITES
from expectations.suites.raw_rcm import _prepare_events

AS_OF = datetime(2026, 11, 1)
# (suite, rule, setting whose values it reads)
VOCABULARY_RULES = [
    ("raw_fhir_charge_item", "procedure_code_format", "procedure_code_pattern"),
    ("raw_x12_claim_lines", "procedure_code_format", "procedure_code_pattern"),
    ("raw_x12_remit_service_lines", "procedure_code_format", "remittance_procedure_code_pattern"),
    ("raw_payer_contracts", "procedure_code_format", "procedure_code_pattern"),
    ("raw_auth_rules", "procedure_code_format", "procedure_code_pattern"),
    ("raw_chargemaster", "procedure_code_format", "procedure_code_pattern"),
    ("raw_eligibility_checks", "status_allowed", "eligibility_statuses"),
    ("raw_chart_of_accounts", "account_type_allowed", "gl_account_types"),
    ("raw_gl_journal_lines", "period_format", "gl_period_pattern"),
    ("raw_x12_claims", "claim_frequency_code_allowed", "claim_frequency_codes"),
    ("raw_claim_events", "event_type_known", "claim_event_activities"),
]


def _rules() -> dict[tuple[str, str], object]:
    return {(s.name, r.name): r for s in RAW_SUITES for r in s.rules(AS_OF)}


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings(fresh=True)
    yield
    get_settings(fresh=True)


@pytest.mark.parametrize(("suite", "rule", "setting"), VOCABULARY_RULES)
def test_a_vocabulary_rule_warns_on_its_record(suite: str, rule: str, setting: str) -> None:
    found = _rules()
    assert (suite, rule) in found, sorted(r for s, r in found if s == suite)
    assert found[(suite, rule)].scope == "warn"


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("J1100", True),  # HCPCS Level II
        ("G0463", True),
        ("00000", True),  # Level I form (a made-up value: billops ships no CPT code)
        ("0000T", True),
        ("W1234", False),  # Level II sections end at V
        ("J110", False),
        ("J1100-59", False),
        ("ABCDE", False),
    ],
)
def test_the_default_procedure_code_pattern_accepts_both_hcpcs_levels(code: str, valid: bool) -> None:
    assert bool(re.fullmatch(get_settings().procedure_code_pattern, code)) is valid


def test_allowed_values_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLOPS_ELIGIBILITY_STATUSES", '["ACTIVE", "INACTIVE", "PENDING"]')
    monkeypatch.setenv("BILLOPS_PROCEDURE_CODE_PATTERN", "^[A-Z0-9]{5}$")
    monkeypatch.setenv("BILLOPS_GL_ACCOUNT_TYPES", '["CASH", "PATIENT_AR", "CLEARING"]')
    get_settings(fresh=True)
    found = _rules()
    assert "PENDING" in found[("raw_eligibility_checks", "status_allowed")].kwargs["value_set"]
    assert found[("raw_fhir_charge_item", "procedure_code_format")].kwargs["regex"] == "^[A-Z0-9]{5}$"
    assert "CLEARING" in found[("raw_chart_of_accounts", "account_type_allowed")].kwargs["value_set"]


def test_claim_event_types_are_known_through_the_activity_map(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({
        "event_type": [" submitted ", "CLAIM_SUBMITTED", "TELEPORTED", None],
        "event_ts": ["2026-10-01T00:00:00"] * 4,
    })
    assert _prepare_events(frame.copy())["event_type_known"].tolist() == [True, True, False, True]
    monkeypatch.setenv("BILLOPS_CLAIM_EVENT_ACTIVITIES", '{"TELEPORTED": "CLAIM_SUBMITTED"}')
    get_settings(fresh=True)
    assert _prepare_events(frame.copy())["event_type_known"].tolist()[2] is True
