"""A second health system, written by hand (tests/fixtures/second_system): billops must handle it
unchanged. `billops run` end to end on a copy of its landing zone must publish, and the exceptions
it finds must be exactly the ones listed in expected_exceptions.csv (EXPECTED.md says why each one
is there, and which look-alikes must not fire)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "second_system"
LANDING = FIXTURE / "landing"
EXPECTED = FIXTURE / "expected_exceptions.csv"

# the contract's key column of each exception type
KEY_COLUMN = {
    "COVERAGE_MISMATCH": "account_id",
    "COVERAGE_INACTIVE": "account_id",
    "MISSING_PRIOR_AUTH": "account_id",
    "UNBILLED_CHARGE": "charge_id",
    "DUPLICATE_CHARGE": "charge_id",
    "LATE_CHARGE": "charge_id",
    "CLAIM_NO_RESPONSE": "account_id",
    "DENIAL": "account_id",
    "UNDERPAYMENT": "account_id",
    "REMIT_NOT_IN_GL": "trace_number",
    "GL_AMOUNT_MISMATCH": "trace_number",
    "GL_DUPLICATE_POSTING": "journal_id",
    "DEPOSIT_MISMATCH": "trace_number",
    "STATEMENT_STALE_COVERAGE": "statement_id",
    "PATIENT_BALANCE_MISMATCH": "statement_id",
    "CREDIT_BALANCE": "account_id",
    "REMIT_UNBALANCED": "account_id",
    "WRITE_OFF_UNAPPROVED": "journal_id",
}


def _expected() -> set[tuple[str, str]]:
    with open(EXPECTED, newline="") as handle:
        return {(row["exception_type"], row["key"]) for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def second_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BILLOPS_HOME holding a copy of the fixture's landing zone, after `billops run`."""
    home = tmp_path_factory.mktemp("second_system") / "home"
    shutil.copytree(LANDING, home / "landing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "billops", "run"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    (home / "run.log").write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    return home


def _query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_fixture_manifests_are_current() -> None:
    """Every file of every batch is listed in its manifest with the right hash (run
    make_manifests.py after editing a data file)."""
    import hashlib

    for manifest_path in sorted(LANDING.glob("*/*/_manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        folder = manifest_path.parent
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
        present = {
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.name != "_manifest.json"
        }
        assert set(listed) == present, manifest_path
        for rel, sha in listed.items():
            assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == sha, rel


def test_expected_file_names_every_type() -> None:
    expected = _expected()
    assert {t for t, _ in expected} == set(KEY_COLUMN)


def test_run_publishes(second_home: Path) -> None:
    log = (second_home / "run.log").read_text()
    assert (second_home / "warehouse" / "serving.duckdb").is_file(), log[-3000:]


def test_every_landed_record_is_loaded(second_home: Path) -> None:
    """No record rejected, no file ignored: every FHIR resource of the fixture is in the raw zone
    (bulk-export file names such as Patient_000.ndjson included)."""
    rejects = _query(second_home, "select * from raw._rejects")
    assert rejects == []
    expected = {"Patient": 0, "Coverage": 0, "Encounter": 0, "ChargeItem": 0, "Organization": 0}
    for path in LANDING.glob("ehr/*/*.ndjson"):
        resource = path.name.split(".")[0].split("_")[0].split("-")[0]
        expected[resource] += sum(1 for line in path.read_text().splitlines() if line.strip())
    tables = {
        "Patient": "fhir_patient",
        "Coverage": "fhir_coverage",
        "Encounter": "fhir_encounter",
        "ChargeItem": "fhir_charge_item",
        "Organization": "fhir_organization",
    }
    loaded = {
        r: _query(second_home, f"select count(*) from raw.{t}")[0][0] for r, t in tables.items()
    }
    assert loaded == expected


def test_exceptions_match_the_hand_written_truth(second_home: Path) -> None:
    rows = _query(
        second_home,
        "select exception_type, account_id, charge_id, trace_number, journal_id, statement_id "
        "from marts.billing_exceptions",
    )
    columns = ("account_id", "charge_id", "trace_number", "journal_id", "statement_id")
    found: set[tuple[str, str]] = set()
    for exception_type, *values in rows:
        key = dict(zip(columns, values, strict=True)).get(KEY_COLUMN.get(exception_type, ""))
        found.add((exception_type, str(key)))
    expected = _expected()
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    lines = [f"  missing    {t:<26} {k}" for t, k in missing]
    lines += [f"  unexpected {t:<26} {k}" for t, k in unexpected]
    assert not lines, (
        f"billing_exceptions differs from {EXPECTED.name} "
        f"({len(missing)} missing, {len(unexpected)} unexpected):\n" + "\n".join(lines)
    )
