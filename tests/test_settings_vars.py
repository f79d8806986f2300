"""Every rule setting is defined once, in ``billops.config.Settings``, and reaches dbt as a var."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from billops.config import RULE_VARS, Settings
from billops.transform import dbt_vars

REPO = Path(__file__).resolve().parents[1]


def _project_vars() -> dict[str, object]:
    return yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]


def test_every_dbt_var_is_a_setting_and_back() -> None:
    assert set(_project_vars()) == set(RULE_VARS)


@pytest.mark.parametrize("name", RULE_VARS)
def test_dbt_project_defaults_equal_the_settings_defaults(name: str) -> None:
    """A bare ``dbt build`` (no --vars) judges exactly as ``billops run`` with default settings."""
    assert _project_vars()[name] == getattr(Settings(), name)


def test_settings_from_environment_reach_the_dbt_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLOPS_BILLING_WINDOW_DAYS", "1")
    monkeypatch.setenv("BILLOPS_ELIGIBILITY_LINK_DAYS", "12")
    monkeypatch.setenv("BILLOPS_DENIED_CLAIM_STATUS_CODES", '["4", "19"]')
    monkeypatch.setenv("BILLOPS_CLAIM_EVENT_ACTIVITIES", json.dumps({"SENT": "CLAIM_SUBMITTED"}))
    found = dbt_vars(Settings())
    assert found["billing_window_days"] == 1
    assert found["eligibility_link_days"] == 12
    assert found["denied_claim_status_codes"] == ["4", "19"]
    assert found["claim_event_activities"] == {"SENT": "CLAIM_SUBMITTED"}
    json.dumps(found)  # dbt receives them as one JSON --vars argument
