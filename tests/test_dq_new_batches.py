"""The intraday raw check covers the new batches only (expectations.coverage), and decides what
the nightly's whole check would: the same units held, the same breaks open, the same verdicts.

A tiny generated system is ingested and checked whole. Later batches arrive with a bad record
(a charge with a negative quantity) and a payment repeating an older payment's id; each is
checked on its own rows, then the whole check runs on the same warehouse and must agree.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from billops import pipeline
from billops.config import Settings
from expectations.batches import PASSED, WARNED
from expectations.breaks import refresh_breaks
from expectations.results_store import ensure_tables

CHARGE_BATCH = "20261102T020000Z"
PAYMENT_BATCH = "20261102T030000Z"
CLEAN_BATCH = "20261102T021500Z"


@pytest.fixture
def checked(billops_home: Settings) -> Settings:
    """A tiny system, ingested and checked whole (the nightly's raw check)."""
    from billops.synth import generate

    generate(billops_home.home, scale="tiny", seed=7)
    pipeline.ingest_step(billops_home)
    pipeline.check_raw_step(billops_home)
    return billops_home


def _land(settings: Settings, system: str, batch_id: str, files: dict[str, bytes]) -> None:
    batch = Path(settings.landing) / system / batch_id  # type: ignore[arg-type]
    batch.mkdir(parents=True)
    entries = []
    for name, body in files.items():
        (batch / name).write_bytes(body)
        records = body.count(b"\n") - (1 if name.endswith(".csv") else 0)
        entries.append({"path": name, "sha256": hashlib.sha256(body).hexdigest(),
                        "records": records})
    stamp = datetime.strptime(batch_id, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
    (batch / "_manifest.json").write_text(json.dumps(
        {"system": system, "batch_id": batch_id, "extracted_at": stamp, "files": entries}))


def _first(settings: Settings, system: str, name: str) -> Path:
    landing = Path(settings.landing)  # type: ignore[arg-type]
    return sorted((landing / system).iterdir())[0] / name


def _charge(settings: Settings, charge_id: str, quantity: float) -> bytes:
    line = _first(settings, "ehr", "ChargeItem.ndjson").read_text().splitlines()[0]
    resource = json.loads(line)
    resource["id"] = charge_id
    resource["quantity"] = {"value": quantity}
    return (json.dumps(resource) + "\n").encode()


def _repeated_payment(settings: Settings) -> bytes:
    header, first = _first(settings, "rcm", "patient_payments.csv").read_text().splitlines()[:2]
    return f"{header}\n{first}\n".encode()


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _state(settings: Settings) -> dict[str, object]:
    """What a check decides: the units held, the breaks open, each batch's latest verdict."""
    return {
        "held": sorted(_rows(settings, "select system, batch_id, file, unit, unit_key, rule "
                                       "from dq.quarantine_units where status = 'HELD'")),
        "released": sorted(_rows(settings, "select system, batch_id, unit, unit_key from "
                                           "dq.quarantine_units where status = 'RELEASED'")),
        "breaks": sorted(_rows(settings, "select suite, rule from marts.dq_breaks")),
        "verdicts": sorted(_rows(settings, "select system, batch_id, arg_max(dq_status, "
                                           "checked_at) from dq.batch_quality group by all")),
    }


def test_new_batches_are_checked_alone_and_decide_what_the_whole_check_decides(
        checked: Settings) -> None:
    _land(checked, "ehr", CHARGE_BATCH, {"ChargeItem.ndjson": _charge(checked, "CI-BAD-1", -2)})
    _land(checked, "rcm", PAYMENT_BATCH, {"patient_payments.csv": _repeated_payment(checked)})
    pipeline.ingest_step(checked)

    result = pipeline.check_new_batches_step(checked)

    assert result["coverage"] == "batches"
    run = result["run_id"]
    suites = dict(_rows(checked, f"select suite, element_count from dq.validation_results "
                                 f"where run_id = '{run}'"))
    # only the systems that sent batches, and only their rows (plus the older payment whose id
    # the new one repeats)
    assert suites["raw_fhir_charge_item"] == 1
    assert suites["raw_patient_payments"] == 2
    assert not any(s.startswith(("raw_x12", "raw_gl", "raw_bank")) for s in suites)
    assert {c for (c,) in _rows(checked, f"select distinct coverage from "
                                         f"dq.expectation_results where run_id = '{run}'")} \
        == {"batches"}
    held = _rows(checked, "select batch_id, unit_key, rule from dq.quarantine_units "
                          "where status = 'HELD' and source_table <> 'raw._rejects'")
    assert any(b == CHARGE_BATCH and "quantity_positive" in r for b, _k, r in held)
    repeated = [b for b, _k, r in held if "payment_id_unique" in r]
    assert len(repeated) == 2 and PAYMENT_BATCH in repeated  # both rows, old and new
    scoped = _state(checked)
    assert (("ehr", CHARGE_BATCH, WARNED) in scoped["verdicts"]  # type: ignore[operator]
            and ("rcm", PAYMENT_BATCH, WARNED) in scoped["verdicts"])  # type: ignore[operator]

    pipeline.check_raw_step(checked)  # the nightly's whole check on the same warehouse
    assert _state(checked) == scoped


def test_a_clean_batch_neither_releases_nor_closes_what_it_did_not_see(checked: Settings) -> None:
    _land(checked, "ehr", CHARGE_BATCH, {"ChargeItem.ndjson": _charge(checked, "CI-BAD-1", -2)})
    pipeline.ingest_step(checked)
    pipeline.check_new_batches_step(checked)
    before = _state(checked)
    assert ("raw_fhir_charge_item", "quantity_positive") in before["breaks"]  # type: ignore[operator]

    _land(checked, "ehr", CLEAN_BATCH, {"ChargeItem.ndjson": _charge(checked, "CI-OK-1", 1)})
    pipeline.ingest_step(checked)
    pipeline.check_new_batches_step(checked)

    after = _state(checked)
    assert ("ehr", CLEAN_BATCH, PASSED) in after["verdicts"]  # type: ignore[operator]
    assert after["held"] == before["held"] and after["breaks"] == before["breaks"]
    assert not after["released"]
    pipeline.check_raw_step(checked)
    assert _state(checked)["held"] == after["held"]
    assert _state(checked)["breaks"] == after["breaks"]


def test_nothing_new_checks_nothing(checked: Settings) -> None:
    before = _rows(checked, "select count(*) from dq.batch_quality")
    result = pipeline.check_new_batches_step(checked)
    assert result["suites"] == 0 and result["expectations"] == 0
    assert _rows(checked, "select count(*) from dq.batch_quality") == before


def test_a_break_stays_open_until_a_whole_check_passes() -> None:
    con = duckdb.connect()
    ensure_tables(con)

    def add(day: int, coverage: str, success: bool) -> None:
        at = datetime(2026, 11, day, 3)
        con.execute(
            "insert into dq.expectation_results (run_id, suite, rule, severity, owner_team, "
            "success, evaluated_at, as_of, coverage, unexpected_sample) "
            "values (?, 's', 'r', 'critical', 'BILLING', ?, ?, ?, ?, '[]')",
            [f"r{day}", success, at, at, coverage])

    add(1, "table", False)
    add(2, "batches", True)
    assert refresh_breaks(con) == 1  # the new rows passed; the old ones were not seen
    assert con.execute("select first_failed_at, last_checked_at, runs_failing from "
                       "marts.dq_breaks").fetchone() == (
        datetime(2026, 11, 1, 3), datetime(2026, 11, 2, 3), 1)
    add(3, "table", True)
    assert refresh_breaks(con) == 0
    add(4, "batches", False)
    assert refresh_breaks(con) == 1  # a new row failing opens it again
    add(5, "batches", True)
    assert refresh_breaks(con) == 1  # until a whole check sees every row pass
    add(6, "table", True)
    assert refresh_breaks(con) == 0
