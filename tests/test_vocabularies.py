"""Raw rules that check a vocabulary read its allowed values from settings, and an unknown value
warns on its record: only an untrustworthy extract blocks (docs/data-quality.md)."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from billops import taxonomy
from billops.config import get_settings
from billops.raw_schema import LEDGER_DDL, TABLES, all_columns
from expectations import quarantine, spec
from expectations.suites import RAW_SUITES, SUITES
from expectations.suites import marts as marts_suites
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


# ------------------------------------------------------ owner teams and work queues, defined once

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"


def _dbt_yaml_files() -> list[Path]:
    return sorted(p for p in DBT.rglob("*.yml") if "target" not in p.relative_to(DBT).parts[:1])


def _accepted_values(column: str) -> dict[str, list[str]]:
    """'<file>:<model>' -> the accepted_values of ``column`` declared there."""
    found: dict[str, list[str]] = {}
    for path in _dbt_yaml_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        nodes = [n for key in ("models", "seeds") if isinstance(doc.get(key), list) for n in doc[key]]
        for node in nodes:
            for col in node.get("columns", []):
                if col.get("name") != column:
                    continue
                for check in col.get("data_tests", []) or col.get("tests", []):
                    if isinstance(check, dict) and "accepted_values" in check:
                        test = check["accepted_values"]
                        values = test.get("arguments", test)["values"]
                        found[f"{path.relative_to(REPO)}:{node['name']}"] = values
    return found


def test_owner_teams_are_the_work_queues_and_data_engineering() -> None:
    assert spec.OWNER_TEAMS is taxonomy.OWNER_TEAMS
    assert set(taxonomy.WORK_QUEUES) < taxonomy.OWNER_TEAMS
    assert taxonomy.OWNER_TEAMS - set(taxonomy.WORK_QUEUES) == {"DATA_ENGINEERING"}


def test_dbt_accepts_exactly_the_work_queues_as_owner_team() -> None:
    declared = _accepted_values("owner_team")
    assert declared, "no accepted_values for owner_team in the dbt YAML"
    for where, values in declared.items():
        assert sorted(values) == sorted(taxonomy.WORK_QUEUES), where


def test_the_routing_seed_routes_to_the_work_queues_only() -> None:
    with (DBT / "seeds" / "exception_routing.csv").open(newline="") as f:
        teams = {row["owner_team"] for row in csv.DictReader(f)}
    assert teams <= set(taxonomy.WORK_QUEUES), sorted(teams - set(taxonomy.WORK_QUEUES))


def test_dbt_accepts_exactly_the_work_queues_as_statement_hold_queue() -> None:
    gate = ("statement_hold_reasons", "int_statement_hold_reasons", "fct_statement_release")
    declared = {k: v for k, v in _accepted_values("queue").items() if k.split(":")[-1] in gate}
    assert len(declared) == len(gate), f"accepted_values of queue: {sorted(declared)}"
    for where, values in declared.items():
        assert sorted(values) == sorted(taxonomy.WORK_QUEUES), where


def test_the_statement_hold_reasons_route_to_the_work_queues_only() -> None:
    with (DBT / "seeds" / "statement_hold_reasons.csv").open(newline="") as f:
        queues = {row["queue"] for row in csv.DictReader(f)}
    assert queues and queues <= set(taxonomy.WORK_QUEUES), sorted(queues - set(taxonomy.WORK_QUEUES))


def test_dbt_accepts_exactly_the_owner_teams_as_work_item_queue() -> None:
    """A work item's queue is any owner team (DATA_ENGINEERING too: the routing table's
    catch-all); its owner team (by exception type) is a work queue, as above."""
    queues = ("stg_ops__work_items", "stg_ops__work_item_events", "int_work_item_events",
              "fct_work_queue_daily")
    declared = {k: v for k, v in _accepted_values("queue").items() if k.split(":")[-1] in queues}
    assert len(declared) == len(queues), f"accepted_values of queue: {sorted(declared)}"
    escalation = _accepted_values("escalation_queue")
    assert len(escalation) == 1, sorted(escalation)
    for where, values in [*declared.items(), *escalation.items()]:
        assert sorted(values) == sorted(taxonomy.OWNER_TEAMS), where


def test_dbt_accepts_exactly_the_workflow_statuses_and_actions() -> None:
    from billops.workflow import vocabulary

    for where, values in _accepted_values("status").items():
        if where.split(":")[-1].startswith("stg_ops__"):
            assert values == list(vocabulary.STATUSES), where
    assert _accepted_values("to_status") == {
        "dbt_project/models/staging/ops/stg_ops__work_item_events.yml:stg_ops__work_item_events":
        list(vocabulary.STATUSES)}
    actions = _accepted_values("action")
    assert list(actions.values()) == [[*vocabulary.ACTIONS, *vocabulary.SYSTEM_ACTIONS]], actions
    active = ", ".join(f"'{s}'" for s in vocabulary.STATUSES if s in vocabulary.ACTIVE_STATUSES)
    sql = (DBT / "models" / "intermediate" / "int_work_item_daily_states.sql").read_text()
    assert f"status in ({active}) as is_open" in sql


def test_quality_rules_and_rejects_name_known_owner_teams() -> None:
    assert set(quarantine.REJECT_OWNER.values()) <= taxonomy.OWNER_TEAMS
    assert sorted(marts_suites.BUSINESS_TEAMS) == sorted(taxonomy.WORK_QUEUES)
    for suite in SUITES:
        for rule in suite.rules(AS_OF):
            assert rule.owner_team in taxonomy.OWNER_TEAMS, (suite.name, rule.name)


# ------------------------------------------------------ dbt sources against billops.raw_schema


def _raw_sources() -> dict[str, dict[str, str | None]]:
    """table -> {column: data_type} of every dbt source in the raw schema."""
    tables: dict[str, dict[str, str | None]] = {}
    for path in sorted((DBT / "models").rglob("_*sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            if source.get("schema") != "raw":
                continue
            for table in source["tables"]:
                tables[table["name"]] = {
                    c["name"]: c.get("data_type") for c in table.get("columns", [])
                }
    return tables


def _ledger_columns() -> dict[str, dict[str, str]]:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(LEDGER_DDL)
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall()
    ledger: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        ledger.setdefault(table, {})[column] = kind
    return ledger


def test_dbt_raw_sources_declare_exactly_the_raw_zone_tables() -> None:
    declared = set(_raw_sources())
    ledger = set(_ledger_columns())
    assert declared - ledger == set(TABLES), (
        f"not in raw_schema: {sorted(declared - ledger - set(TABLES))}; "
        f"no dbt source: {sorted(set(TABLES) - declared)}"
    )


@pytest.mark.parametrize("table", sorted(TABLES))
def test_dbt_raw_source_columns_are_the_raw_schema_columns(table: str) -> None:
    declared = _raw_sources()[table]
    expected = all_columns(table)
    assert list(declared) == list(expected)
    for column, kind in expected.items():
        assert (declared[column] or "").upper() == kind, column


def test_dbt_raw_ledger_sources_name_ledger_columns() -> None:
    ledger = _ledger_columns()
    for table, columns in _raw_sources().items():
        if table in TABLES:
            continue
        for column, kind in columns.items():
            assert ledger[table].get(column) == (kind or "").upper(), f"{table}.{column}"
