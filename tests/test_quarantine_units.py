"""Every staging model reads its raw source without the units the raw checks hold back, and names
the unit as billops.quarantine defines it for that table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from billops.quarantine import UNITS, hold_unit, unit_table
from billops.raw_schema import TABLES

STAGING = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging"
CALL = re.compile(
    r"without_held_units\(\s*source\('(\w+)', '(\w+)'\),\s*'(\w+)',\s*'(\w+)',\s*'(\w+)'\s*\)"
)
RAW_SOURCE = re.compile(r"source\('(ehr|rcm|erp)', '(\w+)'\)")


def _calls() -> dict[str, tuple[str, str, str, str]]:
    found = {}
    for path in STAGING.glob("*/*.sql"):
        for source, table, system, unit, key in CALL.findall(path.read_text()):
            found[table] = (source, system, unit, key)
    macros = (STAGING.parents[1] / "macros" / "staging_helpers.sql").read_text()
    for source, table, system, unit, key in CALL.findall(macros):
        found[table] = (source, system, unit, key)
    return found


def test_staging_names_each_tables_unit_as_the_quarantine_does() -> None:
    calls = _calls()
    for table, (source, system, unit, key) in calls.items():
        hold = hold_unit(table)
        assert (source, system) == (TABLES[table].system,) * 2, table
        assert (unit, key) == (hold.kind, hold.key_column), table


@pytest.mark.parametrize("path", sorted(STAGING.glob("*/*.sql")), ids=lambda p: p.name)
def test_no_staging_model_reads_a_raw_source_around_the_quarantine(path: Path) -> None:
    text = path.read_text()
    wrapped = {t for _, t, _, _, _ in CALL.findall(text)}
    detail = "rows_of_kept_remittances" in text  # joined to the kept, unheld remittances
    for _, table in RAW_SOURCE.findall(text):
        assert table in wrapped or detail, f"{path.name} reads raw.{table} without the quarantine"


def test_every_table_has_a_unit_and_an_amount_table() -> None:
    for table in TABLES:
        assert hold_unit(table).kind in UNITS
        assert unit_table(table) in TABLES
