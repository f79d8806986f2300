"""Contracts in docs/ stay in sync with the code that implements them."""

from __future__ import annotations

from pathlib import Path

from billops.docs_gen import render_raw_zone_doc
from billops.raw_schema import CSV_FILES, FHIR_RESOURCES, TABLES

REPO = Path(__file__).resolve().parents[1]


def test_raw_zone_doc_is_current() -> None:
    assert (REPO / "docs" / "raw-zone.md").read_text() == render_raw_zone_doc(), (
        "run: python -m billops.docs_gen > docs/raw-zone.md"
    )


def test_every_documented_variant_has_its_metamorphic_transform() -> None:
    from billops.landing_variants import VARIANTS

    transforms = (REPO / "tests" / "metamorphic" / "transforms.py").read_text()
    for variant in VARIANTS:
        if variant.transform:
            assert f"def {variant.transform}(" in transforms, variant.transform
        else:
            assert variant.tested_by, f"{variant.field}: name where it is tested"


def test_landing_contract_files_are_all_mapped() -> None:
    assert set(FHIR_RESOURCES) == {
        "Patient", "Coverage", "Encounter", "ChargeItem", "Organization", "Account"}
    assert set(CSV_FILES) == {
        "claim_events.csv", "eligibility_checks.csv", "statements.csv", "patient_payments.csv",
        "payers.csv", "payer_contracts.csv", "auth_rules.csv", "chargemaster.csv", "payer_crosswalk.csv",
        "gl_journal_lines.csv", "bank_deposits.csv", "chart_of_accounts.csv",
    }
    assert all(t.system in ("ehr", "rcm", "erp") for t in TABLES.values())


def test_readme_opens_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    head = text[: text.index("## ")]
    assert "make run" in head and "make test" in head
    assert "```mermaid" in text
