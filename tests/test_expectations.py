"""Great Expectations suites: each rule catches its defect, and the runner records results."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from billops.config import Settings, get_settings
from billops.raw_schema import all_columns
from billops.warehouse import connect
from expectations.runner import run_checks
from expectations.spec import Rule, SuiteSpec
from expectations.suites import SUITES, account_reconciliation, raw_charge_items
from expectations.validate import ExpectationOutcome, FrameValidator

AS_OF = datetime(2024, 2, 1, 6, 0)

Mutation = Callable[[pd.DataFrame], None]


@pytest.fixture(scope="module")
def validator() -> FrameValidator:
    return FrameValidator()


def clean_charges() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["ch1", "ch2", "ch1"],  # ch1 again in a later batch: a new version, not a duplicate
        "_batch_id": ["20240101T000000Z", "20240101T000000Z", "20240102T000000Z"],
        "account_id": ["enc1", "enc1", "enc2"],
        "hcpcs": ["J1100", "A0428", "G0008"],
        "quantity": [1.0, 2.0, 1.0],
        "price_override": [25.50, 0.0, 310.00],
        "occurrence_date": ["2024-01-05", "2024-01-05", "2024-01-06"],
        # entered at midnight on the service day is not early
        "entered_date": ["2024-01-05 00:00:00", "2024-01-06 14:30:00", "2024-02-01 06:00:00"],
    })


def clean_reconciliation() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["enc1", "enc2", "enc3", "enc4"],
        "entity": ["org-h1", "org-h1", "org-h2", "org-h2"],
        "period": ["2024-01", "2024-01", "2024-02", "2024-12"],
        "recon_status": ["TIED", "UNBILLED", "PARTIALLY_BILLED", "BILLED_WITHOUT_CHARGE"],
        "charge_amount": [100.10, 50.05, 30.30, 0.0],
        "billed_amount": [100.10, 0.0, 10.10, 15.00],
        "matched_amount": [100.10, 0.0, 10.10, 0.0],
        "unbilled_amount": [0.0, 50.05, 20.20, 0.0],
        "billed_not_charged_amount": [0.0, 0.0, 0.0, 15.00],
        "variance_amount": [0.0, 50.05, 20.20, -15.00],
    })


def _set(column: str, row: int, value: object) -> Mutation:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[row, column] = value
    return mutate


def _all(*mutations: Mutation) -> Mutation:
    def mutate(frame: pd.DataFrame) -> None:
        for m in mutations:
            m(frame)
    return mutate


# (rule, defect, other rules the same defect necessarily breaks)
CHARGE_DEFECTS: list[tuple[str, Mutation, set[str]]] = [
    ("charge_id_not_null", _set("id", 1, None), set()),
    ("charge_id_unique_in_batch", _set("id", 1, "ch1"), set()),
    ("account_id_not_null", _set("account_id", 0, None), set()),
    ("hcpcs_not_null", _set("hcpcs", 0, None), set()),
    ("hcpcs_level_ii_format", _set("hcpcs", 0, "W1100"), set()),  # W is outside A-V
    ("hcpcs_level_ii_format", _set("hcpcs", 0, "j1100"), set()),
    ("hcpcs_level_ii_format", _set("hcpcs", 0, "J110"), set()),
    ("hcpcs_level_ii_format", _set("hcpcs", 0, "J11000"), set()),
    ("quantity_positive", _set("quantity", 0, 0.0), set()),
    ("quantity_positive", _set("quantity", 0, -1.0), set()),
    ("price_override_non_negative", _set("price_override", 0, -0.01), set()),
    ("entered_not_before_service", _set("entered_date", 0, "2024-01-04 23:59:59"), set()),
    ("entered_not_after_as_of", _set("entered_date", 2, "2024-02-01 06:00:01"), set()),
]

RECON_DEFECTS: list[tuple[str, Mutation, set[str]]] = [
    ("account_id_not_null", _set("account_id", 0, None), set()),
    ("account_id_unique", _set("account_id", 1, "enc1"), set()),
    ("entity_not_null", _set("entity", 2, None), set()),
    ("recon_status_not_null", _set("recon_status", 0, None), set()),
    ("recon_status_allowed", _set("recon_status", 0, "RECONCILED"), set()),
    ("period_format", _set("period", 0, "2024-13"), set()),
    ("period_format", _set("period", 0, "202401"), set()),
    ("charges_split_matched_unbilled", _set("unbilled_amount", 2, 20.19), set()),
    ("variance_is_charge_minus_billed", _set("variance_amount", 0, 0.01), set()),
    # charge = matched + unbilled, so a negative charge needs a negative part too
    ("charge_amount_non_negative",
     _all(_set("charge_amount", 3, -15.0), _set("unbilled_amount", 3, -15.0),
          _set("variance_amount", 3, -30.0)),
     {"unbilled_amount_non_negative"}),
    ("matched_amount_non_negative",
     _all(_set("matched_amount", 3, -5.0), _set("unbilled_amount", 3, 5.0)), set()),
    ("unbilled_amount_non_negative",
     _all(_set("matched_amount", 3, 5.0), _set("unbilled_amount", 3, -5.0)), set()),
    ("billed_amount_non_negative",
     _all(_set("billed_amount", 3, -15.0), _set("variance_amount", 3, 15.0)), set()),
    ("billed_not_charged_amount_non_negative", _set("billed_not_charged_amount", 3, -15.0), set()),
]


def _failing(outcomes: list[ExpectationOutcome]) -> set[str]:
    return {o.rule for o in outcomes if not o.success}


@pytest.mark.parametrize(("spec", "clean"), [
    (raw_charge_items.SUITE, clean_charges), (account_reconciliation.SUITE, clean_reconciliation),
])
def test_clean_frame_passes_every_rule(validator: FrameValidator, spec: SuiteSpec,
                                       clean: Callable[[], pd.DataFrame]) -> None:
    outcomes = validator.validate(clean(), spec, AS_OF)
    assert [o.rule for o in outcomes] == [r.name for r in spec.rules(AS_OF)]
    assert all(o.error is None for o in outcomes)
    assert _failing(outcomes) == set()
    assert all(o.element_count == len(clean()) for o in outcomes)


@pytest.mark.parametrize(("spec", "clean", "rule", "mutate", "also"), [
    *[(raw_charge_items.SUITE, clean_charges, *case) for case in CHARGE_DEFECTS],
    *[(account_reconciliation.SUITE, clean_reconciliation, *case) for case in RECON_DEFECTS],
], ids=[c[0] for c in CHARGE_DEFECTS + RECON_DEFECTS])
def test_defect_fails_its_rule(validator: FrameValidator, spec: SuiteSpec,
                               clean: Callable[[], pd.DataFrame], rule: str, mutate: Mutation,
                               also: set[str]) -> None:
    frame = clean()
    mutate(frame)
    outcomes = validator.validate(frame, spec, AS_OF)
    assert _failing(outcomes) == {rule} | also
    target = next(o for o in outcomes if o.rule == rule)
    assert target.unexpected_count and target.unexpected_count >= 1
    assert len(json.loads(target.unexpected_sample)) >= 1


@pytest.mark.parametrize(("spec", "defects"), [
    (raw_charge_items.SUITE, CHARGE_DEFECTS), (account_reconciliation.SUITE, RECON_DEFECTS),
])
def test_every_rule_has_a_defect_case(spec: SuiteSpec, defects: list) -> None:
    assert {r.name for r in spec.rules(AS_OF)} == {d[0] for d in defects}


def test_every_rule_carries_severity_and_owner() -> None:
    for spec in SUITES:
        for rule in spec.rules(AS_OF):
            assert rule.meta["severity"] in {"critical", "warning"}
            assert rule.meta["owner_team"] in {
                "PATIENT_ACCESS", "CODING", "BILLING", "CASH_POSTING", "FINANCE"}
    with pytest.raises(ValueError, match="owner_team"):
        Rule("x", "ExpectColumnValuesToNotBeNull", {"column": "x"}, "critical", "IT")


def test_as_of_rule_only_with_an_as_of() -> None:
    names = {r.name for r in raw_charge_items.rules(None)}
    assert "entered_not_after_as_of" not in names


def test_sample_never_holds_phi(validator: FrameValidator) -> None:
    spec = SuiteSpec(
        name="phi_probe", data_asset="raw.x12_claims", columns=("member_id", "payer_id"),
        rules=lambda _: [
            Rule("member_id_format", "ExpectColumnValuesToMatchRegex",
                 {"column": "member_id", "regex": "^Z"}, "warning", "PATIENT_ACCESS"),
            Rule("payer_id_format", "ExpectColumnValuesToMatchRegex",
                 {"column": "payer_id", "regex": "^P"}, "warning", "PATIENT_ACCESS"),
        ])
    frame = pd.DataFrame({"member_id": ["MEM123456"], "payer_id": ["X1"]})
    member, payer = validator.validate(frame, spec)
    assert not member.success and member.unexpected_count == 1
    assert member.unexpected_sample == "[]"
    assert json.loads(payer.unexpected_sample) == ["X1"]


def test_sample_is_capped_at_twenty(validator: FrameValidator) -> None:
    frame = pd.concat([clean_charges()] * 10, ignore_index=True)
    frame["hcpcs"] = [f"Z{i:04d}" for i in range(len(frame))]
    frame["_batch_id"] = [f"b{i}" for i in range(len(frame))]
    outcomes = validator.validate(frame, raw_charge_items.SUITE, AS_OF)
    fmt = next(o for o in outcomes if o.rule == "hcpcs_level_ii_format")
    assert fmt.unexpected_count == 30
    assert len(json.loads(fmt.unexpected_sample)) == 20


# ---------------------------------------------------------------- runner on a tmp warehouse

RECON_COLUMNS = {
    "account_id": "VARCHAR", "patient_id": "VARCHAR", "entity": "VARCHAR",
    "facility_id": "VARCHAR", "payer_id": "VARCHAR", "service_date": "DATE",
    "period": "VARCHAR", "charge_lines": "INTEGER", "charge_amount": "DECIMAL(18,2)",
    "billed_lines": "INTEGER", "billed_amount": "DECIMAL(18,2)", "matched_lines": "INTEGER",
    "matched_amount": "DECIMAL(18,2)", "unbilled_lines": "INTEGER",
    "unbilled_amount": "DECIMAL(18,2)", "billed_not_charged_lines": "INTEGER",
    "billed_not_charged_amount": "DECIMAL(18,2)", "variance_amount": "DECIMAL(18,2)",
    "claim_count": "INTEGER", "first_submitted_at": "TIMESTAMP",
    "last_submitted_at": "TIMESTAMP", "recon_status": "VARCHAR", "as_of": "TIMESTAMP",
}


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    return get_settings(fresh=True)


def _create(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
            frame: pd.DataFrame) -> None:
    con.execute(f"create table {table} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    con.register("frame", frame)
    con.execute(f"insert into {table} by name select * from frame")
    con.unregister("frame")


def _build_warehouse(settings: Settings, charges: pd.DataFrame | None,
                     recon: pd.DataFrame | None) -> None:
    with connect(settings) as con:
        con.execute("insert into raw._batches values ('ehr', '20240201T060000Z', ?, 'LOADED', "
                    "null, ?)", [AS_OF, AS_OF])
        if charges is not None:
            charges = charges.assign(
                occurrence_date=pd.to_datetime(charges["occurrence_date"]),
                entered_date=pd.to_datetime(charges["entered_date"], format="ISO8601"))
            _create(con, "raw.fhir_charge_item", all_columns("fhir_charge_item"), charges)
        if recon is not None:
            _create(con, "marts.fct_account_reconciliation", RECON_COLUMNS, recon)


def _rows(settings: Settings) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute("select * from dq.validation_results").df()


def test_run_checks_records_every_expectation(settings: Settings) -> None:
    charges = clean_charges()
    charges.loc[0, "hcpcs"] = "W1100"
    charges.loc[2, "entered_date"] = "2024-02-03 00:00:00"  # after the data's as-of
    _build_warehouse(settings, charges, clean_reconciliation())

    summary = run_checks(settings, run_id="run-1")

    n_rules = len(raw_charge_items.rules(AS_OF)) + len(account_reconciliation.rules(AS_OF))
    assert (summary.run_id, summary.suites, summary.expectations) == ("run-1", 2, n_rules)
    assert (summary.failed, summary.critical_failed, summary.skipped) == (2, 1, [])
    rows = _rows(settings)
    assert list(rows.columns) == [
        "run_id", "suite", "data_asset", "expectation", "column_name", "kwargs", "severity",
        "owner_team", "success", "element_count", "unexpected_count", "unexpected_sample",
        "evaluated_at"]
    assert len(rows) == n_rules and set(rows["run_id"]) == {"run-1"}
    failed = rows[~rows["success"]].set_index("expectation")
    assert set(failed["column_name"]) == {"hcpcs", "entered_date"}
    fmt = failed.loc["expect_column_values_to_match_regex"]
    assert (fmt["data_asset"], fmt["severity"], fmt["owner_team"]) == (
        "raw.fhir_charge_item", "critical", "CODING")
    assert (fmt["element_count"], fmt["unexpected_count"]) == (3, 1)
    assert json.loads(fmt["unexpected_sample"]) == ["W1100"]
    assert json.loads(fmt["kwargs"])["regex"] == raw_charge_items.HCPCS_LEVEL_II
    assert rows["evaluated_at"].notna().all()
    mart = rows[rows["data_asset"] == "marts.fct_account_reconciliation"]
    assert len(mart) == len(account_reconciliation.rules(AS_OF)) and mart["success"].all()

    run_checks(settings, run_id="run-2")  # results append, one row per expectation per run
    assert _rows(settings).groupby("run_id").size().to_dict() == {"run-1": n_rules,
                                                                  "run-2": n_rules}


def test_run_checks_skips_missing_tables(settings: Settings) -> None:
    _build_warehouse(settings, clean_charges(), None)
    summary = run_checks(settings, run_id="run-1")
    assert summary.skipped == ["marts_fct_account_reconciliation"]
    assert summary.suites == 1 and summary.failed == 0
    assert set(_rows(settings)["data_asset"]) == {"raw.fhir_charge_item"}


def test_run_checks_fails_a_table_missing_contract_columns(settings: Settings) -> None:
    _build_warehouse(settings, None, clean_reconciliation().drop(columns=["recon_status"]))
    with connect(settings) as con:
        con.execute("alter table marts.fct_account_reconciliation drop column recon_status")
    summary = run_checks(settings, run_id="run-1")
    assert summary.skipped == ["raw_fhir_charge_item"]
    assert summary.expectations == len(account_reconciliation.rules(AS_OF))
    assert summary.failed == summary.expectations
    assert all("recon_status" in (o.error or "") for o in summary.results)
