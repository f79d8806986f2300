"""The serving snapshot holds only the declared tables and columns, and no PHI (issue 13).

Every table and column of a snapshot published from a generated system is listed: a column whose
name is in the PHI vocabulary fails unless billops/serving.py allows it, and every value of the
snapshot, read as text, is scanned for the patients' names, birth dates, postal codes, member
ids and patient ids, so PHI under a renamed column is caught too.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from billops import serving
from billops.phi import PHI_COLUMNS
from billops.phi_store import store_path
from tests.phi_system import PhiSystem, phi_system  # noqa: F401  (the session fixture)

TOKEN = re.compile(r"[0-9a-f]{32}")


def _tables(path: str) -> dict[str, list[tuple[str, str]]]:
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "select schema_name || '.' || table_name, column_name, data_type from duckdb_columns() "
            "where database_name = current_database() order by schema_name, table_name, "
            "column_index").fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


@pytest.fixture(scope="module")
def snapshot(phi_system: PhiSystem) -> dict[str, list[tuple[str, str]]]:  # noqa: F811
    return _tables(str(phi_system.settings.serving))


def test_only_declared_tables_are_served(snapshot: dict, phi_system: PhiSystem) -> None:  # noqa: F811
    assert set(snapshot) <= {*serving.SERVED, serving.META_SNAPSHOT}
    for must in ("marts.fct_account_reconciliation", "marts.billing_exceptions", "dq.quality_scores",
                 "marts.dq_breaks", "marts.dq_quarantine", "pm.runs", "meta.snapshot"):
        assert must in snapshot
    assert not {t for t in snapshot if t.split(".")[0] in ("raw", "staging", "intermediate", "ops")}
    assert "marts.dim_patients" not in snapshot
    # Each served table has exactly the declared columns of its warehouse table.
    warehouse = _tables(str(phi_system.settings.warehouse))
    for table, columns in snapshot.items():
        if table == serving.META_SNAPSHOT:
            assert [c for c, _ in columns] == ["published_at", "as_of"]
            continue
        expected = [dst for _, dst in serving.served_columns(table, [c for c, _ in warehouse[table]])]
        assert [c for c, _ in columns] == expected, table


def test_no_phi_column_unless_declared(snapshot: dict) -> None:
    found = [f"{t}.{c}" for t, cols in snapshot.items() for c, _ in cols
             if c.lower() in PHI_COLUMNS and c not in serving.ALLOWED_PHI_COLUMNS]
    assert not found, f"PHI columns in the serving snapshot: {found}"


def test_patient_ids_are_tokens_the_phi_store_knows(phi_system: PhiSystem) -> None:  # noqa: F811
    with duckdb.connect(str(phi_system.settings.serving), read_only=True) as con:
        keys = {k for (k,) in con.execute(
            "select distinct patient_key from marts.billing_exceptions where patient_key is not null "
            "union select distinct patient_key from marts.fct_account_reconciliation "
            "where patient_key is not null").fetchall()}
    assert keys and all(TOKEN.fullmatch(k) for k in keys)
    with duckdb.connect(str(store_path(phi_system.settings)), read_only=True) as con:
        known = {k for (k,) in con.execute("select patient_key from patients").fetchall()}
    assert keys <= known
    # The PHI store is its own file, beside neither the warehouse nor the snapshot.
    assert store_path(phi_system.settings).parent != Path(str(phi_system.settings.serving)).parent


def test_no_phi_value_anywhere_in_the_snapshot(snapshot: dict, phi_system: PhiSystem) -> None:  # noqa: F811
    pattern = phi_system.pattern()
    assert all(phi_system.phi.values()), "the generated system has PHI of every kind"
    leaks = []
    with duckdb.connect(str(phi_system.settings.serving), read_only=True) as con:
        for table, columns in snapshot.items():
            for column, kind in columns:
                if kind.startswith(("DECIMAL", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "BOOLEAN",
                                    "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER")):
                    continue
                schema, name = table.split(".")
                values = con.execute(
                    f'select distinct cast("{column}" as varchar) from "{schema}"."{name}" '
                    f'where "{column}" is not null').fetchall()
                hits = {m.group(0) for (v,) in values for m in pattern.finditer(v)}
                if hits:
                    leaks.append(f"{table}.{column}: {len(hits)} PHI value(s)")
    assert not leaks, leaks
    # Positive control: the same scan finds the patients in the warehouse they came from.
    with duckdb.connect(str(phi_system.settings.warehouse), read_only=True) as con:
        names = con.execute("select distinct family_name || ' ' || cast(birth_date as varchar) "
                            "from marts.dim_patients").fetchall()
    assert sum(bool(pattern.search(v)) for (v,) in names) > 100


def test_served_columns_tokenise_patient_ids_and_drop_other_phi() -> None:
    columns = ["statement_id", "patient_id", "member_id_on_file", "amount_due", "family_name"]
    assert serving.served_columns("marts.fct_statements", columns) == [
        ("statement_id", "statement_id"), ("patient_id", "patient_key"), ("amount_due", "amount_due")]
    assert "marts.dim_patients" not in serving.SERVED
    assert not [t for t in serving.SERVED if t.split(".")[0] in ("raw", "staging", "intermediate")]
