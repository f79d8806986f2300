"""The PHI vocabulary is defined once (billops/phi.py); no other module keeps a copy by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from billops.phi import MASK, PHI_COLUMNS, masked

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("billops", "expectations", "dashboards", "process_mining", "dags", "bench")
HOME = ROOT / "billops" / "phi.py"
# The PHI store's own row: the one place that must name the PHI fields it holds.
HOLDERS = {ROOT / "billops" / "phi_store.py"}


def _literal_collections(tree: ast.AST) -> list[tuple[int, set[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Set | ast.List | ast.Tuple):
            names = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            found.append((node.lineno, names))
    return found


def test_no_hand_kept_copy_of_the_phi_columns() -> None:
    copies = []
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == HOME or path in HOLDERS or ".venv" in path.parts:
                continue
            for line, names in _literal_collections(ast.parse(path.read_text(), str(path))):
                if len(names & PHI_COLUMNS) >= 3:
                    copies.append(f"{path.relative_to(ROOT)}:{line}: {sorted(names & PHI_COLUMNS)}")
    assert not copies, "import billops.phi.PHI_COLUMNS instead of keeping a list: " + "; ".join(copies)


def test_every_module_shares_the_one_vocabulary() -> None:
    from billops.sources import values
    from expectations import spec

    assert values.PHI_COLUMNS is PHI_COLUMNS and spec.PHI_COLUMNS is PHI_COLUMNS
    assert spec.MASK == MASK


@pytest.mark.parametrize("column", ["family_name", "given_name", "birth_date", "postal_code",
                                    "member_id", "subscriber_id", "patient_id", "mrn",
                                    "resource_json", "original_text", "subscriber_birth_date"])
def test_vocabulary_covers_names_dates_addresses_ids_and_record_text(column: str) -> None:
    assert column in PHI_COLUMNS and masked("x", column) == MASK


def test_non_phi_columns_pass_unmasked() -> None:
    assert masked("ACC-1", "account_id") == "ACC-1" and masked(None, "birth_date") is None
