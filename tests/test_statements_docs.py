"""docs/statements.md in step with the seed of hold reasons and the dbt unit tests it names."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "statements.md"
SEED = REPO / "dbt_project" / "seeds" / "statement_hold_reasons.csv"
MODELS = REPO / "dbt_project" / "models"
ROW = re.compile(r"^\| `([A-Z_]+)` \| ([A-Z_]+) \|", re.MULTILINE)
UNIT_TEST = re.compile(r"`((?:int|fct)_statement\w+)::(test_\w+)`")


def _seed() -> list[tuple[str, str]]:
    with SEED.open(newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["precedence"]))
    return [(r["reason"], r["queue"]) for r in rows]


def test_the_reasons_table_is_the_seed_in_precedence_order() -> None:
    assert ROW.findall(DOC.read_text(encoding="utf-8")) == _seed()


def test_every_unit_test_named_exists_and_every_one_is_named() -> None:
    named = set(UNIT_TEST.findall(DOC.read_text(encoding="utf-8")))
    existing = set()
    for name in ("int_statements_due", "int_statement_hold_reasons", "fct_statement_release"):
        [path] = MODELS.rglob(f"{name}.yml")
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        existing |= {(t["model"], t["name"]) for t in doc.get("unit_tests", [])}
    assert named == existing


def test_the_readme_and_the_cli_page_point_here() -> None:
    assert "docs/statements.md" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "`statements [--release]" in (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
