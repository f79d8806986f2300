"""pyx12 validation off the load path: PENDING at load, VALID/INVALID/UNAVAILABLE afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_ingest import (
    B1,
    B2,
    B3,
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
from billops.ingest.x12_validation import (
    KNOWN_FALSE_POSITIVES,
    KnownFalsePositive,
    suppress_known_false_positives,
    validate_pending,
)
from billops.pipeline import validate_x12_step
from billops.sources.x12.validate import INVALID, VALID, validate_x12

CORPUS = Path(__file__).resolve().parent / "fixtures" / "x12"
VALID_835 = CORPUS / "pyx12__835_mult_loops.835"
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
    assert f"rcm/{B1}/835/remit.x12: X12 validation (billops) INVALID" in result.stderr + result.stdout
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


# ---------------------------------------------------------------------------------- false positives


def with_plb(name: str, plbs: list[str]) -> str:
    """A public corpus 835 with ``plbs`` (written with * and :) added before its SE, SE01 fixed."""
    text = (CORPUS / name).read_text(encoding="utf-8-sig")
    element, component, terminator = text[3], text[104], text[105]
    se = re.search(rf"SE{re.escape(element)}(\d+){re.escape(element)}", text)
    assert se is not None
    added = "".join(
        plb.replace("*", element).replace(":", component) + terminator + "\r\n" for plb in plbs
    )
    count = f"SE{element}{int(se.group(1)) + len(plbs)}{element}"
    return text[: se.start()] + added + count + text[se.end():]


TWO_PLB = ["PLB*1234567893*20111231*WO:REF1*-5.00", "PLB*1234567893*20111231*FB:REF2*2.50"]
PLB_ENTRY = "pyx12-835-plb-footer-repeat"


def test_two_plb_segments_are_a_known_pyx12_false_positive(tmp_path: Path) -> None:
    one = tmp_path / "one_plb.835"
    one.write_text(with_plb("tigershark__5010-835-example-1.835", TWO_PLB[:1]))
    assert validate_x12(one).status == VALID  # the base file and one PLB pass the guide

    two = tmp_path / "two_plb.835"
    two.write_text(with_plb("tigershark__5010-835-example-1.835", TWO_PLB))
    raw = validate_x12(two)
    # pyx12's own verdict: its map gives PLB max_use >1, yet it counts a second FOOTER loop
    assert raw.status == INVALID and raw.error_count == 1
    (error,) = raw.errors
    assert (error["segment"], error["code"]) == ("PLB", "4")
    assert error["message"].startswith("Loop FOOTER exceeded max count")

    result = suppress_known_false_positives(raw)
    assert (result.status, result.error_count) == (VALID, 0)
    assert result.errors == [{**error, "suppressed": PLB_ENTRY}]  # recorded, not hidden
    assert json.loads(result.errors_json)[0]["suppressed"] == PLB_ENTRY


def test_other_errors_keep_a_file_invalid_and_the_plb_one_is_still_flagged(
        tmp_path: Path) -> None:
    path = tmp_path / "two_plb.835"
    # lfh__demo.835 has guide errors of its own and one PLB: one more makes two in a row
    path.write_text(with_plb("lfh__demo.835", TWO_PLB[:1]))
    raw = validate_x12(path)
    result = suppress_known_false_positives(raw)
    assert result.status == INVALID and result.error_count == raw.error_count - 1
    assert [e.get("suppressed") for e in result.errors].count(PLB_ENTRY) == 1
    assert all(e.get("suppressed") in (None, PLB_ENTRY) for e in result.errors)


def test_known_false_positive_matchers_are_narrow() -> None:
    (entry,) = [k for k in KNOWN_FALSE_POSITIVES if k.id == PLB_ENTRY]
    assert entry.reason and all(isinstance(k, KnownFalsePositive) for k in KNOWN_FALSE_POSITIVES)
    plb = {"segment": "PLB", "code": "4", "message": "Loop FOOTER exceeded max count.  Found 2"}
    assert entry.matches(plb)
    assert not entry.matches({**plb, "segment": "CLP"})
    assert not entry.matches({**plb, "code": "3"})
    assert not entry.matches({**plb, "message": "Loop 2100 exceeded max count.  Found 2"})


def test_a_file_with_only_known_false_positives_is_recorded_valid(billops_home: Settings) -> None:
    two_plb = with_plb("tigershark__5010-835-example-1.835", TWO_PLB)
    write_batch(billops_home.landing, "rcm", B1, {"835/two_plb.x12": two_plb})
    assert ingest(settings=billops_home).batches_loaded == 1
    assert count(billops_home, "x12_remit_plb") == 2
    report = validate_pending(billops_home, workers=1)
    assert (report.valid, report.invalid) == (1, 0)
    assert any("known pyx12 false positive" in m for m in report.messages)
    ((status, error_count, errors),) = query(
        billops_home, "select status, error_count, errors from raw._x12_validation")
    assert (status, error_count) == ("VALID", 0)
    assert [e["suppressed"] for e in json.loads(errors)] == [PLB_ENTRY]
