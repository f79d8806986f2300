"""pyx12 validation off the load path: PENDING at load, VALID/INVALID/UNAVAILABLE afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_ingest import (
    B1,
    B2,
    B3,
    SHARED_X12,
    claim_837,
    count,
    file_835,
    file_837,
    query,
    write_batch,
)

from billops.config import Settings
from billops.errors import BillopsError
from billops.ingest import ingest
from billops.ingest.x12_validation import validate_pending
from billops.pipeline import validate_x12_step

VALID_835 = SHARED_X12 / "pyx12__835_mult_loops.835"
STATUS_SQL = "select batch_id, file, status from raw._x12_validation order by batch_id, file"


def valid_835() -> bytes:
    if not VALID_835.is_file():
        pytest.skip(f"third-party fixture not found: {VALID_835}")
    return VALID_835.read_bytes()


def statuses(settings: Settings) -> dict[str, str]:
    return {f"{b}/{f}": s for b, f, s in query(settings, STATUS_SQL)}


def test_pending_files_are_validated_and_invalid_ones_stay_loaded(billops_home: Settings) -> None:
    write_batch(
        billops_home.landing,
        "rcm",
        B1,
        {
            "835/good.x12": valid_835(),
            "835/bad.x12": file_835("EFT0001"),  # tokenizes and maps, but breaks the 835 guide
            "837/claims.x12": file_837(claim_837("ENC1", [("CHG1", "J1100", "100.00")])),
        },
    )
    loaded = ingest(settings=billops_home)
    assert loaded.batches_loaded == 1 and loaded.rows_rejected == 0
    assert set(statuses(billops_home).values()) == {"PENDING"}
    remits_before = count(billops_home, "x12_remittances")

    report = validate_pending(billops_home, workers=1)

    assert (report.files_validated, report.valid, report.invalid, report.pending_left) == (
        3,
        1,
        2,
        0,
    )
    assert statuses(billops_home) == {
        f"{B1}/835/bad.x12": "INVALID",
        f"{B1}/835/good.x12": "VALID",
        f"{B1}/837/claims.x12": "INVALID",
    }
    ((errors, error_count, validated_at),) = query(
        billops_home,
        "select errors, error_count, validated_at from raw._x12_validation "
        "where file = '835/bad.x12'",
    )
    assert error_count > 0 and validated_at is not None
    assert json.loads(errors) and all("message" in e for e in json.loads(errors))
    # the policy: a file that fails validation is flagged, never unloaded or rejected
    assert count(billops_home, "x12_remittances") == remits_before
    assert query(
        billops_home, "select count(*) from raw.x12_remittances where _file = '835/bad.x12'"
    ) == [(1,)]
    assert query(billops_home, "select count(*) from raw._rejects") == [(0,)]
    warnings = [m for m in report.messages if "INVALID" in m]
    assert len(warnings) == 2 and any(f"rcm/{B1}/835/bad.x12" in m for m in warnings)
    assert all("stay loaded" in m for m in warnings)


def test_validation_is_idempotent_and_only_reads_new_files(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "rcm", B1, {"835/remit.x12": file_835("EFT0001")})
    ingest(settings=billops_home)
    assert validate_pending(billops_home, workers=1).files_validated == 1
    before = query(billops_home, "select * from raw._x12_validation order by file")

    again = validate_pending(billops_home, workers=1)
    assert (again.files_validated, again.pending_left, again.messages) == (0, 0, [])
    assert query(billops_home, "select * from raw._x12_validation order by file") == before

    write_batch(landing, "rcm", B2, {"835/remit.x12": file_835("EFT0002")})
    ingest(settings=billops_home)
    assert statuses(billops_home) == {
        f"{B1}/835/remit.x12": "INVALID",
        f"{B2}/835/remit.x12": "PENDING",
    }
    assert validate_pending(billops_home, workers=1).files_validated == 1
    rows = query(billops_home, "select * from raw._x12_validation order by batch_id")
    assert rows[0] == before[0]  # the earlier result is never rewritten


def test_limit_works_off_a_backlog_oldest_first(billops_home: Settings) -> None:
    for n, batch in enumerate((B3, B1, B2)):
        write_batch(billops_home.landing, "rcm", batch, {"835/remit.x12": file_835(f"EFT{n}")})
    ingest(settings=billops_home)
    first = validate_pending(billops_home, limit=2, workers=1)
    assert (first.files_validated, first.pending_left) == (2, 1)
    assert [b for b, _, s in query(billops_home, STATUS_SQL) if s == "PENDING"] == [B3]
    rest = validate_pending(billops_home, limit=2, workers=1)
    assert (rest.files_validated, rest.pending_left) == (1, 0)
    with pytest.raises(BillopsError, match="--limit 0"):
        validate_pending(billops_home, limit=0)


def test_files_gone_or_changed_in_landing_are_unavailable(billops_home: Settings) -> None:
    landing = billops_home.landing
    gone = write_batch(landing, "rcm", B1, {"835/remit.x12": file_835("EFT0001")})
    changed = write_batch(landing, "rcm", B2, {"835/remit.x12": file_835("EFT0002")})
    ingest(settings=billops_home)
    (gone / "835" / "remit.x12").unlink()
    (changed / "835" / "remit.x12").write_text(file_835("EFT9999"))
    report = validate_pending(billops_home, workers=1)
    assert report.unavailable == 2
    assert set(statuses(billops_home).values()) == {"UNAVAILABLE"}
    assert any("no longer there" in m for m in report.messages)
    assert any("sha256 differs" in m for m in report.messages)
    assert count(billops_home, "x12_remittances") == 2  # the loaded rows stay


def test_worker_processes_give_the_same_results(billops_home: Settings) -> None:
    write_batch(
        billops_home.landing,
        "rcm",
        B1,
        {"835/good.x12": valid_835(), "835/bad.x12": file_835("EFT0001")},
    )
    ingest(settings=billops_home)
    report = validate_x12_step(billops_home, workers=2)
    assert (report["valid"], report["invalid"], report["pending_left"]) == (1, 1, 0)
    assert statuses(billops_home) == {f"{B1}/835/bad.x12": "INVALID", f"{B1}/835/good.x12": "VALID"}


def test_cli_validate_x12(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "rcm", B1, {"835/remit.x12": file_835("EFT0001")})
    ingest(settings=billops_home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(billops_home.home)
    result = subprocess.run(
        [sys.executable, "-m", "billops", "validate-x12", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"rcm/{B1}/835/remit.x12: pyx12 validation INVALID" in result.stderr + result.stdout
    assert statuses(billops_home) == {f"{B1}/835/remit.x12": "INVALID"}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "billops",
            "validate-x12",
            "--landing",
            str(Path(billops_home.home) / "nowhere"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0 and "landing folder not found" in bad.stderr
    assert "Traceback" not in bad.stderr
