"""marts.billing_exceptions end to end on the hand-made raw zone of test_dbt, plus reference rows.

The raw zone of test_dbt.build_raw_zone is extended with an authorization rule and a payer
contract, so that the coverage, charge, claim and cash rule families all fire on it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
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
    "exception_id",
    "exception_type",
    "severity",
    "entity",
    "patient_id",
    "account_id",
    "claim_id",
    "charge_id",
    "trace_number",
    "journal_id",
    "statement_id",
    "amount_at_risk",
    "detected_at",
    "age_days",
    "owner_team",
    "root_cause",
    "priority_score",
    "status",
    "exception_key",
    "as_of",
    "assignee",
    "status_changed_at",
]
# What the rules must find in the raw zone (see build_raw_zone in test_dbt): no EHR coverage is
# on file for PT-ACC1/3/4/5 (coverage inactive); PAY1 requires authorization for G0463 and no
# claim carries one; ACC4 is denied; ACC2's charge has no claim after the billing window, and
# ACC3's second charge is on no line of its claim; PAY2's contract (50 a unit) is underpaid on
# ACC5, whose CAS adjustments also leave its 835 claim 10.00 short of balancing; TR2 (25.00) is
# neither in the GL nor in the bank.
EXPECTED = {
    ("COVERAGE_INACTIVE", "ACC1"),
    ("COVERAGE_INACTIVE", "ACC3"),
    ("COVERAGE_INACTIVE", "ACC4"),
    ("COVERAGE_INACTIVE", "ACC5"),
    ("MISSING_PRIOR_AUTH", "ACC1"),
    ("MISSING_PRIOR_AUTH", "ACC3"),
    ("MISSING_PRIOR_AUTH", "ACC4"),
    ("DENIAL", "ACC4"),
    ("UNBILLED_CHARGE", "CH21"),
    ("UNBILLED_CHARGE", "CH32"),
    ("UNDERPAYMENT", "ACC5"),
    ("REMIT_UNBALANCED", "ACC5"),
    ("REMIT_NOT_IN_GL", "TR2"),
    ("DEPOSIT_MISMATCH", "TR2"),
}


def cas(
    trace: str, st: str, account: str, seq: int, group: str, reason: str, amount: float
) -> dict[str, Any]:
    return {
        "trace_number": trace,
        "st_control_number": st,
        "claim_seq": 1 if account != "ACC4" else 2,
        "account_id": account,
        "line_seq": 0,
        "adj_seq": seq,
        "group_code": group,
        "reason_code": reason,
        "amount": amount,
    }


def add_reference(settings: Settings) -> None:
    write_raw(
        settings,
        "x12_remit_adjustments",
        RCM_1,
        [
            cas("TR1", "1001", "ACC1", 1, "PR", "1", 10),
            cas("TR1", "1001", "ACC1", 2, "CO", "45", 20),
            cas("TR1", "1001", "ACC4", 1, "CO", "50", 180),
            cas("TR2", "1002", "ACC5", 1, "PR", "2", 5),
        ],
    )
    write_raw(
        settings,
        "auth_rules",
        RCM_1,
        [
            {"payer_id": "PAY1", "hcpcs": "G0463", "effective_from": "2024-01-01"},
            # not yet effective on any service date here
            {"payer_id": "PAY2", "hcpcs": "G0463", "effective_from": "2024-06-01"},
        ],
    )
    write_raw(
        settings,
        "payer_contracts",
        RCM_1,
        [
            {
                "payer_id": "PAY2",
                "hcpcs": "G0463",
                "effective_from": "2024-01-01",
                "expected_allowed_amount": 50,
            },
        ],
    )


@dataclass
class Built:
    settings: Settings
    result: TransformResult


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    home = tmp_path_factory.mktemp("billops_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLOPS_HOME", str(home))
        # TR2 is paid on the as-of day: with no posting or deposit lag allowed it is already
        # missing from the GL and the bank (the lag windows have dbt unit tests in int_exc_remit_not_in_gl and int_exc_deposit_mismatch)
        mp.setenv("BILLOPS_GL_POSTING_LAG_DAYS", "0")
        mp.setenv("BILLOPS_DEPOSIT_LAG_DAYS", "0")
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


def test_a_build_with_operator_settings_leaves_the_unit_tests_out(built: Built) -> None:
    """This build runs with a non-default deposit lag: the unit tests, written against the
    project's default vars, are CI's (tests/test_dbt.py runs them), not a production build's."""
    assert built.result.nodes_of("unit_test") == []
    assert built.result.unit_tests == 0


def test_detects_exactly_the_expected_exceptions(built: Built) -> None:
    found = {(r["exception_type"], r["exception_key"]) for r in exceptions(built.settings)}
    assert found == EXPECTED


def test_mart_columns_and_contract(built: Built) -> None:
    columns = rows(
        built.settings,
        "select column_name from information_schema.columns where "
        "table_schema = 'marts' and table_name = 'billing_exceptions' "
        "order by ordinal_position",
    )
    assert [c["column_name"] for c in columns] == MART_COLUMNS


def test_ids_routing_age_and_priority(built: Built) -> None:
    routing = {
        r["exception_type"]: r
        for r in rows(built.settings, "select * from seeds.exception_routing")
    }
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
        column = {
            "COVERAGE_INACTIVE": "account_id",
            "MISSING_PRIOR_AUTH": "account_id",
            "DENIAL": "account_id",
            "UNDERPAYMENT": "account_id",
            "REMIT_UNBALANCED": "account_id",
            "UNBILLED_CHARGE": "charge_id",
            "REMIT_NOT_IN_GL": "trace_number",
            "DEPOSIT_MISMATCH": "trace_number",
        }[r["exception_type"]]
        assert r[column] == key


def test_amounts_and_causes(built: Built) -> None:
    by_key = {(r["exception_type"], r["exception_key"]): r for r in exceptions(built.settings)}
    # ACC5: two lines of one unit at 50 under contract but charged 30 and 10: the contract expects
    # the lesser, 40; paid 25 plus 5 patient responsibility
    assert float(by_key[("UNDERPAYMENT", "ACC5")]["amount_at_risk"]) == 10.0
    assert float(by_key[("DENIAL", "ACC4")]["amount_at_risk"]) == 180.0
    assert by_key[("DENIAL", "ACC4")]["root_cause"] == "CO-50"
    assert float(by_key[("REMIT_UNBALANCED", "ACC5")]["amount_at_risk"]) == 10.0
    assert float(by_key[("REMIT_NOT_IN_GL", "TR2")]["amount_at_risk"]) == 25.0
    assert by_key[("UNBILLED_CHARGE", "CH32")]["entity"] == "H1"
    assert by_key[("MISSING_PRIOR_AUTH", "ACC1")]["root_cause"] == "AUTH_REQUIRED_G0463"


def test_ids_are_stable_and_settings_drive_windows(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {r["exception_id"] for r in exceptions(built.settings)}
    monkeypatch.setenv("BILLOPS_HOME", str(built.settings.home))
    # a billing window longer than the data's span: no charge is unbilled yet
    monkeypatch.setenv("BILLOPS_BILLING_WINDOW_DAYS", "60")
    settings = get_settings(fresh=True)
    try:
        transform(select="int_exc_unbilled_charge billing_exceptions", settings=settings)
        after = exceptions(settings)
        assert not any(r["exception_type"] == "UNBILLED_CHARGE" for r in after)
        assert {r["exception_id"] for r in after} == {
            i
            for i in before
            if i
            not in {
                hashlib.md5(b"UNBILLED_CHARGE|CH21").hexdigest(),
                hashlib.md5(b"UNBILLED_CHARGE|CH32").hexdigest(),
            }
        }
    finally:
        monkeypatch.delenv("BILLOPS_BILLING_WINDOW_DAYS")
        transform(select="int_exc_unbilled_charge billing_exceptions", settings=get_settings(fresh=True))
    assert {r["exception_id"] for r in exceptions(built.settings)} == before


def test_ar_rollforward_identity_and_tie_outs(built: Built) -> None:
    roll = rows(built.settings, "select * from marts.ar_rollforward order by entity, period")
    assert roll and {r["entity"] for r in roll} == {"H1"}
    previous_ending = 0.0
    for r in roll:
        amounts = {k: float(v) for k, v in r.items() if k not in ("entity", "period")}
        assert amounts["beginning_ar"] == pytest.approx(previous_ending)
        assert amounts["ending_ar"] == pytest.approx(
            amounts["beginning_ar"]
            + amounts["charges"]
            - amounts["payer_payments"]
            - amounts["patient_payments"]
            - amounts["contractual_adjustments"]
            - amounts["write_offs"]
            + amounts["refunds"]
        )
        assert amounts["variance"] == pytest.approx(amounts["ending_ar"] - amounts["gl_ar_balance"])
        previous_ending = amounts["ending_ar"]
    # the 835s paid 120 + 0 + 25; contractual: ACC1's CO 20; ACC4's denial (CO 180) stays in AR
    assert sum(float(r["payer_payments"]) for r in roll) == pytest.approx(145)
    assert sum(float(r["contractual_adjustments"]) for r in roll) == pytest.approx(20)
    # the GL's only AR line is J1's 120 credit
    assert float(roll[-1]["gl_ar_balance"]) == pytest.approx(-120)

    summary = rows(built.settings, "select * from marts.reconciliation_summary")
    total = {
        k: sum(float(r[k]) for r in summary)
        for k in (
            "remittance_amount",
            "gl_cash_amount",
            "remit_to_gl_variance",
            "bank_deposit_amount",
            "remit_to_bank_variance",
            "remit_not_in_gl_amount",
            "unbilled_amount",
        )
    }
    assert total["remittance_amount"] == pytest.approx(145)
    assert total["gl_cash_amount"] == pytest.approx(120)
    # the variance is TR2, which the open REMIT_NOT_IN_GL exception explains
    assert total["remit_to_gl_variance"] == pytest.approx(25)
    assert total["remit_not_in_gl_amount"] == pytest.approx(25)
    assert total["remit_to_bank_variance"] == pytest.approx(25)
    assert total["unbilled_amount"] == pytest.approx(75 + 60)


def test_facts_and_dimensions(built: Built) -> None:
    claims = rows(
        built.settings,
        "select * from marts.fct_claims where account_id = 'ACC1' order by submitted_at",
    )
    assert [c["claim_frequency_code"] for c in claims] == ["1", "7"]
    assert claims[1]["replaces_claim_key"] == claims[0]["claim_key"]
    assert [c["is_current"] for c in claims] == [False, True]
    remits = rows(
        built.settings, "select * from marts.fct_remittance_claims where account_id = 'ACC1'"
    )
    assert float(remits[0]["contractual_adjustment_amount"]) == 20.0
    history = rows(
        built.settings,
        "select * from marts.dim_coverage_history where coverage_id = 'CV2' order by version_id",
    )
    assert [(h["payer_id"], h["is_current"]) for h in history] == [("PAY1", False), ("PAY2", True)]
    manifest = json.loads((built.settings.home / "dbt" / "target" / "manifest.json").read_text())
    patients = manifest["nodes"]["model.billops.dim_patients"]["columns"]
    phi = {
        name
        for name, c in patients.items()
        if (c.get("config", {}).get("meta") or c.get("meta") or {}).get("phi")
    }
    assert phi == {"family_name", "given_name", "birth_date", "postal_code"}


def test_replacement_claim_lines_point_at_the_lines_they_replace(built: Built) -> None:
    lines = rows(
        built.settings,
        """
        select l.claim_line_key, l.charge_id, l.claim_frequency_code, l.is_current_claim,
               l.replaces_claim_line_key, r.claim_key as replaced_claim
        from marts.fct_claim_lines as l
        left join marts.fct_claim_lines as r on l.replaces_claim_line_key = r.claim_line_key
        where l.account_id = 'ACC1' order by l.claim_frequency_code, l.line_number""",
    )
    original, *replacement = lines
    assert (original["claim_frequency_code"], original["is_current_claim"]) == ("1", False)
    by_charge = {r["charge_id"]: r for r in replacement}
    # CH11 was on the original claim; CH12 is new on the replacement
    assert by_charge["CH11"]["replaces_claim_line_key"] == original["claim_line_key"]
    assert by_charge["CH12"]["replaces_claim_line_key"] is None
    assert all(r["is_current_claim"] for r in replacement)
    charges = {r["charge_id"]: r for r in rows(built.settings, "select * from marts.fct_charges")}
    assert charges["CH22"]["is_billable"] is False
    assert charges["CH12"]["is_billed"] and float(charges["CH12"]["charge_amount"]) == 50
    assert not charges["CH32"]["is_billed"]
    adjustments = rows(
        built.settings,
        "select group_reason, adjustment_category, amount "
        "from marts.fct_remittance_adjustments where account_id = 'ACC4'",
    )
    assert adjustments == [
        {"group_reason": "CO-50", "adjustment_category": "CONTRACTUAL", "amount": 180}
    ]


def test_kpis_on_the_hand_made_accounts(built: Built) -> None:
    kpis = rows(
        built.settings,
        "select * from marts.kpi_monthly where entity = 'H1' "
        "and payer_id = 'PAY1' and period = '2024-03'",
    )
    assert len(kpis) == 1
    k = kpis[0]
    # first claims in March on PAY1: ACC1, ACC3, ACC4 (ACC3's claim was rejected)
    assert (k["claims_submitted"], k["clean_claims"]) == (3, 2)
    # first adjudications in March: ACC1 paid (after a replacement claim), ACC4 denied
    assert (k["claims_adjudicated"], k["initial_denials"], k["first_pass_resolved"]) == (2, 1, 0)
    assert float(k["initial_denial_dollar_rate"]) == pytest.approx(180 / 330, abs=1e-4)


def test_ar_rollforward_explains_the_variance_by_open_exceptions(built: Built) -> None:
    roll = rows(built.settings, "select * from marts.ar_rollforward order by period")
    last = roll[-1]
    # TR2 (ACC5, 25.00 paid) is not in the GL: the subledger took it off AR, the GL did not
    assert float(last["explained_by_exceptions"]) == pytest.approx(-25)
    items = rows(
        built.settings, "select * from intermediate.int_ar_reconciling_items order by trace_number"
    )
    # TR1's journal J1 posts the cash but not ACC1's CO 20.00 allowance: a reconciling item no
    # exception explains (ACC4's denied CO-50 stays in AR on both sides)
    assert [(i["trace_number"], float(i["ar_difference"]), i["explained_by"]) for i in items] == [
        ("TR1", -20.0, None),
        ("TR2", -25.0, "REMIT_NOT_IN_GL"),
    ]
    for r in roll:
        assert float(r["unexplained_variance"]) == pytest.approx(
            float(r["variance"]) - float(r["explained_by_exceptions"])
        )


def test_status_comes_from_the_operational_store(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs last: it changes the store the module's other tests read as empty."""
    from billops.auth import add_user
    from billops.warehouse import as_of
    from billops.workflow.items import act
    from billops.workflow.sync import sync_from_marts

    monkeypatch.setenv("BILLOPS_HOME", str(built.settings.home))
    settings = get_settings(fresh=True)
    denial = hashlib.md5(b"DENIAL|ACC4").hexdigest()
    gl = hashlib.md5(b"REMIT_NOT_IN_GL|TR2").hexdigest()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        sync_from_marts(con, as_of=as_of(con), settings=settings)
    add_user("biller7", "billing_specialist", actor="root", settings=settings)
    act(denial, "assign", actor="analyst1", role="billing_specialist", channel="cli", version=1,
        assignee="biller7", settings=settings)
    act(gl, "resolve", actor="cash.poster", role="billing_specialist", channel="cli", version=1,
        resolution_code="POSTED", settings=settings)
    transform(select="stg_ops__exception_status+", settings=settings)
    by_id = {r["exception_id"]: r for r in exceptions(settings)}
    assert (by_id[denial]["status"], by_id[denial]["assignee"]) == ("ASSIGNED", "biller7")
    assert by_id[gl]["status"] == "RESOLVED" and by_id[gl]["status_changed_at"] is not None
    assert {r["status"] for i, r in by_id.items() if i not in (denial, gl)} == {"OPEN"}
    # a resolved exception no longer explains the AR variance: it is unexplained again
    last = rows(settings, "select * from marts.ar_rollforward order by period")[-1]
    assert float(last["explained_by_exceptions"]) == 0
    assert float(last["unexplained_variance"]) == pytest.approx(float(last["variance"]))


# --------------------------------------------------------------- secondary payers, generated

SECONDARY_SEED = 3  # two months of tiny in which secondary payers' 835s come back


@dataclass
class Secondary:
    settings: Settings
    summary: dict[str, Any]
    card: dict[str, Any]
    truth_accounts: set[str]


@pytest.fixture(scope="module")
def secondary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secondary]:
    """A generated system whose patients carry second coverages: claims crossed over to
    secondary payers (SBR01 = S) and their 835s (CLP02 = 2) beside the injected defects."""
    from billops.ingest import ingest
    from billops.scorecard import scorecard
    from billops.synth import generate

    generated = tmp_path_factory.mktemp("generated_secondary")
    home = tmp_path_factory.mktemp("home_secondary")
    with pytest.MonkeyPatch.context() as mp:
        # default settings, whatever another fixture of this module set (the generator places
        # its edge cases by the settings, and the rules judge by them)
        for name in [n for n in os.environ if n.startswith("BILLOPS_")]:
            mp.delenv(name)
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        summary = generate(generated, scale="tiny", months=2, seed=SECONDARY_SEED)
        ingest(landing=generated / "landing", settings=settings)
        transform(settings=settings)
        card = scorecard(generated / "truth", settings=settings)
        with (generated / "truth" / "defects.csv").open(encoding="utf-8") as fh:
            truth_accounts = {line.split(",")[2] for line in fh.readlines()[1:]}
        yield Secondary(settings, summary, card, truth_accounts - {""})
    get_settings(fresh=True)


def test_secondary_payers_are_in_the_warehouse(secondary: Secondary) -> None:
    s = secondary.settings
    [claims] = rows(
        s,
        "select count(*) as n, count(other_payer_id) as with_other, "
        "sum(case when is_current then 1 else 0 end) as current "
        "from marts.fct_claims where payer_responsibility = 'S'",
    )
    assert claims["n"] == secondary.summary["secondary_claims"] > 0
    assert claims["with_other"] == claims["n"] and claims["current"] == 0
    [remits] = rows(
        s,
        "select count(*) as n, sum(case when is_secondary then 1 else 0 end) as secondary "
        "from marts.fct_remittance_claims where claim_status_code = '2'",
    )
    assert remits["n"] > 0 and remits["secondary"] == remits["n"]


def test_secondary_payers_raise_no_false_exceptions(secondary: Secondary) -> None:
    card = secondary.card
    assert card["overall"]["injected"] > 0
    misses = {
        t: (c["precision"], c["recall"])
        for t, c in card["types"].items()
        if (c["scored"] and ((c["precision"] or 0) < 1 or c["recall"] < 1))
        or (not c["scored"] and c["flagged"])
    }
    assert not misses, misses


def test_accounts_add_both_payers_payments(secondary: Secondary) -> None:
    s = secondary.settings
    accounts = rows(
        s,
        "select recon.account_id, recon.payer_paid_amount, recon.primary_paid_amount, "
        "recon.secondary_paid_amount, recon.secondary_payer_id, adj.primary_payer_id, "
        "adj.secondary_patient_responsibility_amount as patient_owes, "
        "(select sum(paid_amount) from marts.fct_remittance_claims as r "
        " where r.account_id = recon.account_id) as remitted "
        "from marts.fct_account_reconciliation as recon "
        "inner join intermediate.int_account_adjudications as adj "
        "on recon.account_id = adj.account_id "
        "where adj.secondary_trace_number is not null",
    )
    assert accounts
    for a in accounts:
        assert a["payer_paid_amount"] == a["primary_paid_amount"] + a["secondary_paid_amount"]
        assert a["payer_paid_amount"] == a["remitted"]
        assert a["secondary_payer_id"] and a["secondary_payer_id"] != a["primary_payer_id"]
    assert any(a["secondary_paid_amount"] > 0 for a in accounts)
    # the subledger of a clean account crossed over: charges less both payers' payments and
    # contractual adjustments leave what the secondary left to the patient
    balances = {
        r["account_id"]: r["owed"]
        for r in rows(
            s,
            "select account_id, sum(case when measure in ('charges', 'payer_payments', "
            "'contractual_adjustments') then ar_effect else 0 end) as owed "
            "from intermediate.int_account_movements group by account_id",
        )
    }
    clean = [a for a in accounts if a["account_id"] not in secondary.truth_accounts]
    assert clean
    for a in clean:
        assert balances[a["account_id"]] == a["patient_owes"], a["account_id"]
    roll = rows(s, "select unexplained_variance from marts.ar_rollforward")
    assert roll and all(abs(float(r["unexplained_variance"])) <= 0.01 for r in roll)
