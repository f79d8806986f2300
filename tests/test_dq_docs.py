"""docs/data-quality.md lists every raw rule with its scope, as the suites declare it."""

from __future__ import annotations

from pathlib import Path

from expectations.catalogue import BEGIN, END, render_scope_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-quality.md"


def test_the_rule_scope_table_matches_the_suites() -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render_scope_table(), (
        "docs/data-quality.md is out of date: paste expectations.catalogue.render_scope_table()"
    )


def test_only_extract_level_rules_block() -> None:
    from datetime import datetime

    from expectations.suites import RAW_SUITES

    blocking = {
        rule.name for spec in RAW_SUITES for rule in spec.rules(datetime(2000, 1, 1))
        if rule.scope == "block"
    }
    assert blocking == {"schema_contract_columns", "journal_balances"}
