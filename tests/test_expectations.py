"""Every expectation of every suite: the clean generator output passes it, and a frame with the
targeted defect fails it.

The clean output is a tiny system generated with no injected defects, ingested and built by dbt
once per session. Defects are derived from the rule itself where its kind says what breaks it
(a null for a not-null rule, a copied key for a uniqueness rule, a value outside the set, ...);
rules on columns computed in ``prepare`` (tie-outs) have an explicit defect on their inputs. A new
rule whose defect cannot be derived and has no explicit case fails ``test_defect_fails_its_rule``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from billops.config import Settings
from billops.raw_schema import TABLES
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect
from expectations.codes import icd10cm_billable, icd10cm_exists, luhn_check_digit, npi_is_valid
from expectations.runner import read_frame, table_columns
from expectations.spec import OWNER_TEAMS, PHI_COLUMNS, Rule, SuiteSpec
from expectations.suites import MART_SUITES, RAW_SUITES, SUITES
from expectations.validate import FrameValidator

# Rules depend on the as-of only through whether it exists; any as-of names the same rules.
ANY_AS_OF = datetime(2026, 1, 1)
RELIED_ON_MARTS = {
    "fct_account_reconciliation",
    "billing_exceptions",
    "fct_claims",
    "fct_remittance_claims",
    "reconciliation_summary",
    "ar_rollforward",
    "billing_event_log",
}

Mutation = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass
class CleanOutput:
    frames: dict[str, pd.DataFrame]
    as_of: datetime


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanOutput:
    """A tiny generated system with no injected defects, ingested and built, read per suite."""
    import os

    from billops.config import get_settings
    from billops.ingest import ingest
    from billops.synth import generate
    from billops.transform import transform

    home = tmp_path_factory.mktemp("dq-clean")
    previous = os.environ.get("BILLOPS_HOME")
    os.environ["BILLOPS_HOME"] = str(home)
    try:
        settings: Settings = get_settings(fresh=True)
        generate(home, scale="tiny", seed=11, defect_rate=0.0)
        ingest(settings=settings)
        # Models and seeds only: dbt's own tests are test_dbt*.py's business, not this fixture's.
        transform(select="resource_type:seed resource_type:model", settings=settings)
        frames = {}
        with connect(settings) as con:
            as_of = warehouse_as_of(con)
            for spec in SUITES:
                columns = table_columns(con, spec.data_asset)
                if columns is not None:
                    frames[spec.name] = read_frame(con, spec, columns)
    finally:
        if previous is None:
            os.environ.pop("BILLOPS_HOME", None)
        else:
            os.environ["BILLOPS_HOME"] = previous
        get_settings(fresh=True)
    assert as_of is not None
    return CleanOutput(frames, as_of)


@pytest.fixture(scope="module")
def validator() -> FrameValidator:
    return FrameValidator()


# ---------------------------------------------------------------- the spec itself


def test_every_raw_table_and_relied_on_mart_has_a_suite() -> None:
    assert {s.data_asset for s in RAW_SUITES} == {f"raw.{t}" for t in TABLES}
    assert {f"marts.{t}" for t in RELIED_ON_MARTS} <= {s.data_asset for s in MART_SUITES}


@pytest.mark.parametrize("spec", SUITES, ids=lambda s: s.name)
def test_every_rule_carries_severity_owner_and_a_unique_name(spec: SuiteSpec) -> None:
    rules = spec.rules(ANY_AS_OF)
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.meta["severity"] in {"critical", "warning"}
        assert rule.meta["owner_team"] in OWNER_TEAMS
    assert not set(spec.keys) & PHI_COLUMNS, "keys are shown in samples; PHI keys would be masked"
    with pytest.raises(ValueError, match="owner_team"):
        Rule("x", "ExpectColumnValuesToNotBeNull", {"column": "x"}, "critical", "IT")


def test_npi_check_digit() -> None:
    assert luhn_check_digit("80840123456789") == 3  # CMS's worked example: NPI 1234567893
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678a3")
    assert not npi_is_valid(None)


def test_icd10cm_existence_and_billability() -> None:
    assert icd10cm_exists("M5450") and icd10cm_exists("M54.50") and icd10cm_exists("J06")
    assert not icd10cm_exists("Z999") and not icd10cm_exists("A00-B99")
    assert icd10cm_billable("J069") and not icd10cm_billable("J06")


# ---------------------------------------------------------------- clean output passes


@pytest.mark.parametrize("spec", SUITES, ids=lambda s: s.name)
def test_clean_generator_output_passes(
    clean: CleanOutput, validator: FrameValidator, spec: SuiteSpec
) -> None:
    if spec.name not in clean.frames:
        pytest.skip(f"{spec.data_asset} is not built by this dbt project yet")
    outcomes = validator.validate(clean.frames[spec.name], spec, clean.as_of)
    assert [o.rule for o in outcomes] == [r.name for r in spec.rules(clean.as_of)]
    failing = {o.rule: (o.error, o.unexpected_sample) for o in outcomes if not o.success}
    assert failing == {}


# ---------------------------------------------------------------- each defect fails its rule


def _cents_off(column: str) -> Mutation:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
        frame.loc[0, column] = frame.loc[0, column] + 0.01
        return frame

    return mutate


def _set(column: str, value: object) -> Mutation:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = value
        return frame

    return mutate


def _both_terms_missing(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[0, ["expected_allowed_amount", "allowed_pct_of_charge"]] = None
    return frame


def _both_sides(frame: pd.DataFrame) -> pd.DataFrame:
    frame[["debit", "credit"]] = frame[["debit", "credit"]].astype(float)
    frame.loc[0, ["debit", "credit"]] = [5.0, 5.0]
    return frame


def _other_period(frame: pd.DataFrame) -> pd.DataFrame:
    posted = pd.Timestamp(frame.loc[0, "posting_date"])
    frame.loc[0, "period"] = f"{posted.year - 1}-{posted.month:02d}"
    return frame


def _not_current(frame: pd.DataFrame) -> pd.DataFrame:
    account = frame.loc[frame["is_current"].astype(bool)].iloc[0]["account_id"]
    frame.loc[frame["account_id"] == account, "is_current"] = False
    return frame


def _gl_off_with_variance(frame: pd.DataFrame) -> pd.DataFrame:
    frame[["gl_ar_balance", "variance"]] = frame[["gl_ar_balance", "variance"]].astype(float)
    frame.loc[0, "gl_ar_balance"] += 10.0
    frame.loc[0, "variance"] -= 10.0
    return frame


def _same_id_other_case(frame: pd.DataFrame) -> pd.DataFrame:
    """Two rows of one batch for one EHR id, written in other case and spacing."""
    frame.loc[1, ["source_system", "_batch_id"]] = frame.loc[0, ["source_system", "_batch_id"]]
    frame.loc[1, "source_payer_id"] = f" {str(frame.loc[0, 'source_payer_id']).upper()} "
    return frame


# Rules on columns computed in ``prepare``: the defect breaks the inputs of the computation.
EXPLICIT: dict[tuple[str, str], Mutation] = {
    ("raw_x12_claims", "total_charge_equals_lines"): _cents_off("total_charge"),
    ("raw_x12_remittances", "bpr_equals_claims_minus_plb"): _cents_off("payment_amount"),
    ("raw_x12_remit_claims", "charge_equals_paid_plus_adjustments"): _cents_off("paid_amount"),
    ("raw_payer_contracts", "one_pricing_term"): _both_terms_missing,
    ("raw_gl_journal_lines", "period_is_posting_month"): _other_period,
    ("raw_gl_journal_lines", "one_side_per_line"): _both_sides,
    ("raw_gl_journal_lines", "journal_balances"): _cents_off("debit"),
    ("raw_claim_events", "event_type_known"): _set("event_type", "TELEPORTED"),
    ("raw_payer_crosswalk", "crosswalk_unique_in_batch"): _same_id_other_case,
    ("marts_fct_account_reconciliation", "charges_split_matched_unbilled"): _cents_off(
        "unbilled_amount"
    ),
    ("marts_fct_account_reconciliation", "variance_is_charge_minus_billed"): _cents_off(
        "variance_amount"
    ),
    ("marts_fct_claims", "one_current_claim_per_account"): _not_current,
    ("marts_fct_remittance_claims", "charge_equals_paid_plus_adjustments"): _cents_off(
        "paid_amount"
    ),
    (
        "marts_reconciliation_summary",
        "charge_to_claim_variance_is_charged_minus_billed",
    ): _cents_off("charge_to_claim_variance"),
    ("marts_ar_rollforward", "ending_ar_rolls_forward"): _cents_off("ending_ar"),
    ("marts_ar_rollforward", "variance_is_ending_minus_gl"): _cents_off("variance"),
    ("marts_ar_rollforward", "billing_ar_ties_to_gl"): _gl_off_with_variance,
}


def _seed_plb(frame: pd.DataFrame) -> pd.DataFrame:
    row = {
        "interchange_control_number": "000000009",
        "st_control_number": "0001",
        "trace_number": "T-PLB-1",
        "plb_seq": 1,
        "provider_id": "1234567893",
        "fiscal_period_date": pd.Timestamp("2026-12-31"),
        "adj_seq": 1,
        "reason_code": "WO",
        "reference_id": "ADJ1",
        "amount": 12.5,
        "_batch_id": "20260101T000000Z",
        "_file": "835/a.x12",
        "_record": 40,
        "remittance_trace": "T-PLB-1",
    }
    return pd.DataFrame([row, {**row, "plb_seq": 2, "_record": 41}])


def _seed_account(frame: pd.DataFrame) -> pd.DataFrame:
    """FHIR Account is optional (the generator sends none): two valid rows."""
    row = {
        "id": "acct-1",
        "version_id": "1",
        "last_updated": pd.Timestamp("2026-01-02 03:04:05"),
        "status": "active",
        "account_number": "70010001",
        "patient_id": "pt-1",
        "_batch_id": "20260101T000000Z",
        "_file": "Account.ndjson",
        "_record": 1,
    }
    return pd.DataFrame([row, {**row, "id": "acct-2", "account_number": "70010002", "_record": 2}])


def _seed_crosswalk(frame: pd.DataFrame) -> pd.DataFrame:
    """payer_crosswalk.csv is optional (the generator's ids agree on both sides): two rows."""
    row = {
        "source_system": "ehr",
        "source_payer_id": "org-1",
        "payer_id": "60054",
        "_batch_id": "20260101T000000Z",
        "_file": "payer_crosswalk.csv",
        "_record": 1,
    }
    return pd.DataFrame([row, {**row, "source_payer_id": "org-2", "_record": 2}])


def _seed_ehr_payer_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Two EHR payer ids, one through the crosswalk, one equal on both sides."""
    row = {
        "ehr_payer_id": "org-1",
        "payer_id": "60054",
        "x12_payer_id": "60054",
        "mapping": "CROSSWALK",
        "claims_affected": 0,
        "first_account_id": None,
    }
    return pd.DataFrame([row, {**row, "ehr_payer_id": "PAY2", "payer_id": "PAY2",
                               "x12_payer_id": "PAY2", "mapping": "SAME_ID"}])


def _seed_exceptions(frame: pd.DataFrame) -> pd.DataFrame:
    row = {
        "exception_id": "e1",
        "exception_type": "DENIAL",
        "exception_key": "A1",
        "owner_team": "BILLING",
        "status": "OPEN",
        "amount_at_risk": 120.0,
        "age_days": 3,
    }
    return pd.DataFrame([row, {**row, "exception_id": "e2", "exception_key": "A2"}])


# Tables the clean output leaves empty get two valid rows to break (and must pass with them).
SEEDS: dict[str, Mutation] = {
    "raw_x12_remit_plb": _seed_plb,
    "raw_fhir_account": _seed_account,
    "raw_payer_crosswalk": _seed_crosswalk,
    "marts_dq_ehr_payer_ids": _seed_ehr_payer_ids,
    "marts_billing_exceptions": _seed_exceptions,
}


def _other_value(value_set: list[object]) -> object:
    if all(isinstance(v, bool) for v in value_set):
        return False
    if all(isinstance(v, int) for v in value_set):
        return max(value_set) + 1  # type: ignore[type-var, operator]
    return "ZZ_NOT_ALLOWED"


def _below(value: object) -> object:
    return value - timedelta(days=1) if isinstance(value, datetime) else value - 1  # type: ignore[operator]


def _derived(rule: Rule) -> Mutation | None:
    """The defect a rule's kind implies, on its column, in row 0 (None: no derivable defect)."""
    kw, kind = rule.kwargs, rule.expectation
    column = kw.get("column")

    def on(col: str, value_of: Callable[[pd.DataFrame], object]) -> Mutation:
        def mutate(frame: pd.DataFrame) -> pd.DataFrame:
            value = value_of(frame)
            frame[col] = frame[col].astype(object)
            frame.loc[0, col] = value
            return frame

        return mutate

    if kind == "ExpectTableColumnsToMatchSet":
        return lambda frame: frame.drop(columns=[kw["column_set"][0]])
    if kind == "ExpectColumnValuesToNotBeNull":
        return on(column, lambda f: None)
    if kind == "ExpectColumnValuesToBeUnique":
        return on(column, lambda f: f.loc[1, column])
    if kind == "ExpectCompoundColumnsToBeUnique":
        return lambda frame: pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    if kind == "ExpectColumnValuesToBeInSet":
        return on(column, lambda f: _other_value(kw["value_set"]))
    if kind == "ExpectColumnValuesToMatchRegex":
        return on(column, lambda f: "!not-a-code!")
    if kind == "ExpectColumnValuesToBeValidNpi":
        return on(column, lambda f: "1234567890")
    if kind == "ExpectColumnValuesToBeKnownIcd10Cm":
        return on(column, lambda f: "Z999")
    if kind == "ExpectColumnValuesToBeBillableIcd10Cm":
        return on(column, lambda f: "J06")  # a category header: exists, not billable
    if kind == "ExpectColumnValuesToBeBetween":
        if kw.get("min_value") == 0 and kw.get("max_value") == 0:
            return None  # a tie-out on a computed column: explicit
        if "min_value" in kw:
            low = kw["min_value"]
            return on(column, lambda f: low if kw.get("strict_min") else _below(low))
        high = kw["max_value"]
        return on(
            column,
            lambda f: (
                pd.Timestamp(high) + timedelta(days=1) if isinstance(high, datetime) else high + 1
            ),
        )
    if kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = kw["column_A"], kw["column_B"]

        def reversed_dates(frame: pd.DataFrame) -> pd.DataFrame:
            base = pd.to_datetime(frame[b]).dropna()
            start = base.iloc[0] if len(base) else pd.Timestamp("2026-01-15")
            frame[[a, b]] = frame[[a, b]].astype(object)
            frame.loc[0, b] = start
            frame.loc[0, a] = start - timedelta(days=1)
            return frame

        return reversed_dates
    return None


CASES = [(spec, rule.name) for spec in SUITES for rule in spec.rules(ANY_AS_OF)]


@pytest.mark.parametrize(("spec", "rule_name"), CASES, ids=[f"{s.name}.{r}" for s, r in CASES])
def test_defect_fails_its_rule(
    clean: CleanOutput, validator: FrameValidator, spec: SuiteSpec, rule_name: str
) -> None:
    rule = next(r for r in spec.rules(clean.as_of) if r.name == rule_name)
    mutate = EXPLICIT.get((spec.name, rule.name)) or _derived(rule)
    assert mutate is not None, f"{spec.name}.{rule.name}: add a defect case to EXPLICIT"
    if spec.name not in clean.frames:
        pytest.skip(f"{spec.data_asset} is not built by this dbt project yet")
    frame = clean.frames[spec.name].copy()
    if spec.name in SEEDS:
        frame = SEEDS[spec.name](frame)
        assert all(o.success for o in validator.validate(frame, spec, clean.as_of))
    assert len(frame) >= 2, f"{spec.name}: the clean output has too few rows to break"
    frame = mutate(frame.reset_index(drop=True))
    outcomes = {o.rule: o for o in validator.validate(frame, spec, clean.as_of)}
    target = outcomes[rule.name]
    assert not target.success
    if rule.row_level and target.error is None:
        assert target.unexpected_count and target.unexpected_count >= 1
        sample = json.loads(target.unexpected_sample)
        assert sample, "a failing rule keeps a sample of the failing rows"
        keys = [k for k in spec.keys if k in frame.columns]
        assert all(set(keys) <= set(row) for row in sample), "samples carry the row keys"


def test_samples_mask_phi(validator: FrameValidator) -> None:
    from expectations.suites.raw_claims import CLAIMS

    spec = SuiteSpec(
        name="phi_probe",
        data_asset="raw.x12_claims",
        columns=("member_id", "account_id"),
        keys=("account_id", "patient_id"),
        rules=lambda _: [
            Rule(
                "member_id_format",
                "ExpectColumnValuesToMatchRegex",
                {"column": "member_id", "regex": "^Z"},
                "warning",
                "PATIENT_ACCESS",
            )
        ],
    )
    frame = pd.DataFrame(
        {"member_id": ["MEM123456", "ZOK"], "account_id": ["A1", "A2"], "patient_id": ["P1", "P2"]}
    )
    (outcome,) = validator.validate(frame, spec)
    assert json.loads(outcome.unexpected_sample) == [
        {"member_id": "***", "account_id": "A1", "patient_id": "***"}
    ]
    assert "MEM123456" not in outcome.unexpected_sample and "P1" not in outcome.unexpected_sample
    assert "member_id" in PHI_COLUMNS and CLAIMS.keys == (
        "account_id",
        "st_control_number",
        "_batch_id",
        "_file",
        "_record",
    )


def test_sample_is_capped_at_twenty(validator: FrameValidator) -> None:
    spec = SuiteSpec(
        name="cap_probe",
        data_asset="raw.fhir_charge_item",
        columns=("hcpcs",),
        keys=("id",),
        rules=lambda _: [
            Rule(
                "hcpcs_format",
                "ExpectColumnValuesToMatchRegex",
                {"column": "hcpcs", "regex": "^[A-V][0-9]{4}$"},
                "critical",
                "CODING",
            )
        ],
    )
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(30)], "hcpcs": ["99213"] * 30})
    (outcome,) = validator.validate(frame, spec)
    assert outcome.unexpected_count == 30 and outcome.unexpected_percent == 100.0
    assert len(json.loads(outcome.unexpected_sample)) == 20


def test_suite_files_stay_free_of_gx_imports() -> None:
    for path in (Path(__file__).resolve().parents[1] / "expectations" / "suites").glob("*.py"):
        assert "great_expectations" not in path.read_text(), path
