"""Every CLI command given a missing or corrupt input exits non-zero with one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "billops", *args], cwd=home, env=env,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message on stderr"
    last = lines[-1]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert last.startswith("billops: "), last
    for needle in needles:
        assert needle in last, f"{needle!r} not in {last!r}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def corrupt_warehouse(home: Path) -> Path:
    path = home / "warehouse" / "billops.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a duckdb file" * 100)
    return path


CASES = {
    "generate-bad-scale": (("generate", "--scale", "huge"), ("--scale", "huge")),
    "generate-bad-start": (("generate", "--start", "2026-13"), ("--start",)),
    "generate-bad-months": (("generate", "--months", "0"), ("months",)),
    "ingest-missing-landing": (("ingest", "--landing", "nowhere"), ("nowhere", "not found")),
    "transform-no-warehouse": (("transform",), ("warehouse not found",)),
    "check-no-warehouse": (("check",), ("warehouse not found",)),
    "check-new-batches-no-warehouse": (("check", "--layer", "raw", "--new-batches"),
                                       ("warehouse not found",)),
    "check-new-batches-of-marts": (("check", "--new-batches"), ("--new-batches", "--layer raw")),
    "mine-no-warehouse": (("mine",), ("warehouse not found",)),
    "mine-json-no-warehouse": (("mine", "--json"), ("warehouse not found",)),
    "mine-missing-log": (("mine", "--log", "absent.csv", "--case", "c", "--activity", "a",
                          "--timestamp", "t"), ("absent.csv", "not found")),
    "mine-log-without-columns": (("mine", "--log", "absent.csv"), ("--case",)),
    "score-no-warehouse": (("score",), ("warehouse not found",)),
    "publish-no-warehouse": (("publish",), ("warehouse not found",)),
    "run-empty-landing": (("run",), ("no landing batch loaded",)),
    "run-intraday-empty-landing": (("run", "--pipeline", "intraday"), ("no landing batch loaded",)),
    "run-unknown-pipeline": (("run", "--pipeline", "month_end"), ("--pipeline", "nightly or intraday")),
    "close-bad-period": (("close", "--period", "October"), ("--period", "YYYY-MM")),
    "close-no-warehouse": (("close", "--period", "2026-10"), ("warehouse not found",)),
    "scorecard-missing-truth": (("scorecard", "--truth", "no-truth"), ("defects.csv", "not found")),
    "dashboard-bad-port": (("dashboard", "--port", "eighty"), ("--port",)),
    "unknown-command": (("frobnicate",), ("frobnicate",)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_missing_input_is_one_line(home: Path, case: str) -> None:
    args, needles = CASES[case]
    assert_one_line_error(run_cli(home, *args), *needles)


@pytest.mark.parametrize("command", ["transform", "check", "score", "publish", "mine"])
def test_corrupt_warehouse_is_one_line(home: Path, corrupt_warehouse: Path, command: str) -> None:
    assert_one_line_error(run_cli(home, command), str(corrupt_warehouse.name))


def test_corrupt_truth_file(home: Path) -> None:
    truth = home / "truth"
    truth.mkdir()
    (truth / "defects.csv").write_bytes(b"defect_type,key\nUNBILLED_CHARGE,\xff\xfe\n")
    assert_one_line_error(run_cli(home, "scorecard", "--truth", str(truth)), "defects.csv")
    (truth / "defects.csv").write_text("kind,id\nX,1\n")
    assert_one_line_error(run_cli(home, "scorecard", "--truth", str(truth)), "defect_type")


def test_corrupt_event_log(home: Path) -> None:
    log = home / "log.csv"
    log.write_text("case,act,ts\n1,A,not-a-time\n")
    assert_one_line_error(
        run_cli(home, "mine", "--log", str(log), "--case", "case", "--activity", "act",
                "--timestamp", "ts"), "log.csv")
    assert_one_line_error(
        run_cli(home, "mine", "--log", str(log), "--case", "nope", "--activity", "act",
                "--timestamp", "ts"), "nope")


def test_corrupt_landing_batch_exits_non_zero(home: Path) -> None:
    batch = home / "landing" / "erp" / "20261101T040000Z"
    batch.mkdir(parents=True)
    (batch / "bank_deposits.csv").write_text("deposit_id\n1\n")
    (batch / "_manifest.json").write_text("{not json")
    result = run_cli(home, "ingest")
    assert_one_line_error(result, "quarantined")
    assert "_manifest.json" in result.stderr


def test_close_unknown_period(home: Path) -> None:
    path = home / "warehouse" / "billops.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema marts")
        con.execute("create table raw._batches (system varchar, batch_id varchar, "
                    "extracted_at timestamp, status varchar, reason varchar, loaded_at timestamp)")
        con.execute("create table marts.fct_account_reconciliation (period varchar)")
        con.execute("insert into marts.fct_account_reconciliation values ('2026-10')")
    assert_one_line_error(run_cli(home, "close", "--period", "2025-01"), "2026-10")


def test_help_lists_every_contract_command(home: Path) -> None:
    result = run_cli(home, "--help")
    assert result.returncode == 0
    for command in ("generate", "ingest", "transform", "check", "mine", "score", "publish",
                    "run", "close", "scorecard", "dashboard"):
        assert command in result.stdout


def test_ingest_synthea_missing_folder(home: Path) -> None:
    assert_one_line_error(run_cli(home, "ingest", "--synthea", "no-such-export"),
                          "no-such-export", "not found")


def test_ingest_synthea_fixture(home: Path) -> None:
    export = REPO.parent / "shared" / "fixtures" / "synthea"
    if not export.is_dir():
        pytest.skip(f"Synthea fixture not found at {export}")
    result = run_cli(home, "ingest", "--synthea", str(export))
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.fhir_patient").fetchone()[0] == 27
