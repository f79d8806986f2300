"""docs/workflow.md prints the transition table and the tiers the code uses."""

from __future__ import annotations

from pathlib import Path

from billops.auth import approval_tiers
from billops.workflow.vocabulary import RESOLUTION_CODES, transition_table

DOC = (Path(__file__).resolve().parents[1] / "docs" / "workflow.md").read_text()


def test_the_transition_table_is_the_codes() -> None:
    assert transition_table() in DOC


def test_the_tiers_and_codes_are_documented() -> None:
    for tier in approval_tiers():
        assert f"| {tier} |" in DOC
    assert "resolution_codes.csv" in DOC and RESOLUTION_CODES
