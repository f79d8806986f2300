"""marts.billing_exceptions end to end on the hand-made raw zone of test_dbt, plus reference rows.

The raw zone of test_dbt.build_raw_zone is extended with an authorization rule and a payer
contract, so that the coverage, charge, claim and cash rule families all fire on it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest
from test_dbt import AS_OF, RCM_1, build_raw_zone, write_raw

from billops.config import Settings, get_settings
from billops.transform import TransformResult, transform

pytestmark = pytest.mark.integration  # runs dbt end to end

MART_COLUMNS = [
    "exception_id", "exception_type", "severity", "entity", "patient_id", "account_id",
    "claim_id", "charge_id", "trace_number", "journal_id", "statement_id", "amount_at_risk",
    "detected_at", "age_days", "owner_team", "root_cause", "priority_score", "status",
    "exception_key", "as_of",
]
# What the rules must find in the raw zone (see build_raw_zone in test_dbt): no EHR coverage is
# on file for PT-ACC1/3/4/5 (coverage inactive); PAY1 requires authorization for G0463 and no
# claim carries one; ACC4 is denied; ACC2's charge has no claim after the billing window, and
# ACC3's second charge is on no line of its claim; PAY2's contract (50 a unit) is underpaid on
# ACC5, whose CAS adjustments also leave its 835 claim 10.00 short of balancing; TR2 (25.00) is
# neither in the GL nor in the bank.
EXPECTED = {
    ("COVERAGE_INACTIVE", "ACC1"), ("COVERAGE_INACTIVE", "ACC3"), ("COVERAGE_INACTIVE", "ACC4"),
    ("COVERAGE_INACTIVE", "ACC5"),
    ("MISSING_PRIOR_AUTH", "ACC1"), ("MISSING_PRIOR_AUTH", "ACC3"),
    ("MISSING_PRIOR_AUTH", "ACC4"),
    ("DENIAL", "ACC4"),
    ("UNBILLED_CHARGE", "CH21"), ("UNBILLED_CHARGE", "CH32"),
    ("UNDERPAYMENT", "ACC5"), ("REMIT_UNBALANCED", "ACC5"),
    ("REMIT_NOT_IN_GL", "TR2"), ("DEPOSIT_MISMATCH", "TR2"),
}


def cas(trace: str, st: str, account: str, seq: int, group: str, reason: str,
        amount: float) -> dict[str, Any]:
    return {"trace_number": trace, "st_control_number": st, "claim_seq": 1 if account != "ACC4"
            else 2, "account_id": account, "line_seq": 0, "adj_seq": seq, "group_code": group,
            "reason_code": reason, "amount": amount}


def add_reference(settings: Settings) -> None:
    write_raw(settings, "x12_remit_adjustments", RCM_1, [
        cas("TR1", "1001", "ACC1", 1, "PR", "1", 10), cas("TR1", "1001", "ACC1", 2, "CO", "45", 20),
        cas("TR1", "1001", "ACC4", 1, "CO", "50", 180),
        cas("TR2", "1002", "ACC5", 1, "PR", "2", 5),
    ])
    write_raw(settings, "auth_rules", RCM_1, [
        {"payer_id": "PAY1", "hcpcs": "G0463", "effective_from": "2024-01-01"},
        # not yet effective on any service date here
        {"payer_id": "PAY2", "hcpcs": "G0463", "effective_from": "2024-06-01"},
    ])
    write_raw(settings, "payer_contracts", RCM_1, [
        {"payer_id": "PAY2", "hcpcs": "G0463", "effective_from": "2024-01-01",
         "expected_allowed_amount": 50},
    ])


@dataclass
class Built:
    settings: Settings
    result: TransformResult


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    home = tmp_path_factory.mktemp("billops_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        build_raw_zone(settings)
        add_reference(settings)
        result = transform(settings=settings)
        yield Built(settings, result)
    get_settings(fresh=True)


def rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def exceptions(settings: Settings) -> list[dict[str, Any]]:
    return rows(settings, "select * from marts.billing_exceptions order by exception_id")


def test_rule_unit_tests_pass(built: Built) -> None:
    unit_tests = [n for n in built.result.nodes_of("unit_test") if ".int_exc_" in n.unique_id
                  or ".int_account_adjudications." in n.unique_id]
    assert len(unit_tests) >= 10
    assert {n.status for n in unit_tests} == {"pass"}


def test_detects_exactly_the_expected_exceptions(built: Built) -> None:
    found = {(r["exception_type"], r["exception_key"]) for r in exceptions(built.settings)}
    assert found == EXPECTED


def test_mart_columns_and_contract(built: Built) -> None:
    columns = rows(built.settings, "select column_name from information_schema.columns where "
                   "table_schema = 'marts' and table_name = 'billing_exceptions' "
                   "order by ordinal_position")
    assert [c["column_name"] for c in columns] == MART_COLUMNS


def test_ids_routing_age_and_priority(built: Built) -> None:
    routing = {r["exception_type"]: r for r in rows(
        built.settings, "select * from seeds.exception_routing")}
    assert len(routing) == 18
    for r in exceptions(built.settings):
        key = r["exception_key"]
        digest = hashlib.md5(f"{r['exception_type']}|{key}".encode()).hexdigest()
        assert r["exception_id"] == digest
        assert r["status"] == "OPEN"
        assert r["as_of"] == AS_OF
        assert r["owner_team"] == routing[r["exception_type"]]["owner_team"]
        assert r["severity"] == routing[r["exception_type"]]["severity"]
        assert r["root_cause"]
        assert r["age_days"] == max((AS_OF.date() - r["detected_at"].date()).days, 0)
        expected_priority = abs(float(r["amount_at_risk"])) * math.log(2 + r["age_days"])
        assert float(r["priority_score"]) == pytest.approx(expected_priority, abs=1e-3)
        column = {"COVERAGE_INACTIVE": "account_id", "MISSING_PRIOR_AUTH": "account_id",
                  "DENIAL": "account_id", "UNDERPAYMENT": "account_id",
                  "REMIT_UNBALANCED": "account_id",
                  "UNBILLED_CHARGE": "charge_id", "REMIT_NOT_IN_GL": "trace_number",
                  "DEPOSIT_MISMATCH": "trace_number"}[r["exception_type"]]
        assert r[column] == key


def test_amounts_and_causes(built: Built) -> None:
    by_key = {(r["exception_type"], r["exception_key"]): r for r in exceptions(built.settings)}
    # ACC5: two lines of one unit at 50 under contract, paid 25 plus 5 patient responsibility
    assert float(by_key[("UNDERPAYMENT", "ACC5")]["amount_at_risk"]) == 70.0
    assert float(by_key[("DENIAL", "ACC4")]["amount_at_risk"]) == 180.0
    assert by_key[("DENIAL", "ACC4")]["root_cause"] == "CO-50"
    assert float(by_key[("REMIT_UNBALANCED", "ACC5")]["amount_at_risk"]) == 10.0
    assert float(by_key[("REMIT_NOT_IN_GL", "TR2")]["amount_at_risk"]) == 25.0
    assert by_key[("UNBILLED_CHARGE", "CH32")]["entity"] == "H1"
    assert by_key[("MISSING_PRIOR_AUTH", "ACC1")]["root_cause"] == "AUTH_REQUIRED_G0463"


def test_ids_are_stable_and_settings_drive_windows(built: Built,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    before = {r["exception_id"] for r in exceptions(built.settings)}
    monkeypatch.setenv("BILLOPS_HOME", str(built.settings.home))
    # a billing window longer than the data's span: no charge is unbilled yet
    monkeypatch.setenv("BILLOPS_BILLING_WINDOW_DAYS", "60")
    settings = get_settings(fresh=True)
    try:
        transform(select="int_exc_charges billing_exceptions", settings=settings)
        after = exceptions(settings)
        assert not any(r["exception_type"] == "UNBILLED_CHARGE" for r in after)
        assert {r["exception_id"] for r in after} == {
            i for i in before if i not in {
                hashlib.md5(b"UNBILLED_CHARGE|CH21").hexdigest(),
                hashlib.md5(b"UNBILLED_CHARGE|CH32").hexdigest()}}
    finally:
        monkeypatch.delenv("BILLOPS_BILLING_WINDOW_DAYS")
        transform(select="int_exc_charges billing_exceptions", settings=get_settings(fresh=True))
    assert {r["exception_id"] for r in exceptions(built.settings)} == before


def test_ar_rollforward_identity_and_tie_outs(built: Built) -> None:
    roll = rows(built.settings, "select * from marts.ar_rollforward order by entity, period")
    assert roll and {r["entity"] for r in roll} == {"H1"}
    previous_ending = 0.0
    for r in roll:
        amounts = {k: float(v) for k, v in r.items() if k not in ("entity", "period")}
        assert amounts["beginning_ar"] == pytest.approx(previous_ending)
        assert amounts["ending_ar"] == pytest.approx(
            amounts["beginning_ar"] + amounts["charges"] - amounts["payer_payments"]
            - amounts["patient_payments"] - amounts["contractual_adjustments"]
            - amounts["write_offs"] + amounts["refunds"])
        assert amounts["variance"] == pytest.approx(amounts["ending_ar"] - amounts["gl_ar_balance"])
        previous_ending = amounts["ending_ar"]
    # the 835s paid 120 + 0 + 25; CAS other than PR: CO 20 (ACC1) and CO 180 (ACC4)
    assert sum(float(r["payer_payments"]) for r in roll) == pytest.approx(145)
    assert sum(float(r["contractual_adjustments"]) for r in roll) == pytest.approx(200)
    # the GL's only AR line is J1's 120 credit
    assert float(roll[-1]["gl_ar_balance"]) == pytest.approx(-120)

    summary = rows(built.settings, "select * from marts.reconciliation_summary")
    total = {k: sum(float(r[k]) for r in summary) for k in (
        "remittance_amount", "gl_cash_amount", "remit_to_gl_variance", "bank_deposit_amount",
        "remit_to_bank_variance", "remit_not_in_gl_amount", "unbilled_amount")}
    assert total["remittance_amount"] == pytest.approx(145)
    assert total["gl_cash_amount"] == pytest.approx(120)
    # the variance is TR2, which the open REMIT_NOT_IN_GL exception explains
    assert total["remit_to_gl_variance"] == pytest.approx(25)
    assert total["remit_not_in_gl_amount"] == pytest.approx(25)
    assert total["remit_to_bank_variance"] == pytest.approx(25)
    assert total["unbilled_amount"] == pytest.approx(75 + 60)


def test_facts_and_dimensions(built: Built) -> None:
    claims = rows(built.settings, "select * from marts.fct_claims where account_id = 'ACC1' "
                  "order by submitted_at")
    assert [c["claim_frequency_code"] for c in claims] == ["1", "7"]
    assert claims[1]["replaces_claim_key"] == claims[0]["claim_key"]
    assert [c["is_current"] for c in claims] == [False, True]
    remits = rows(built.settings, "select * from marts.fct_remittance_claims "
                  "where account_id = 'ACC1'")
    assert float(remits[0]["contractual_adjustment_amount"]) == 20.0
    history = rows(built.settings, "select * from marts.dim_coverage_history "
                   "where coverage_id = 'CV2' order by version_id")
    assert [(h["payer_id"], h["is_current"]) for h in history] == [("PAY1", False),
                                                                   ("PAY2", True)]
    manifest = json.loads((built.settings.home / "dbt" / "target" / "manifest.json").read_text())
    patients = manifest["nodes"]["model.billops.dim_patients"]["columns"]
    phi = {name for name, c in patients.items()
           if (c.get("config", {}).get("meta") or c.get("meta") or {}).get("phi")}
    assert phi == {"family_name", "given_name", "birth_date", "postal_code"}
