"""Hostile and broken landing input never stops the line (issue 13, points 4, 5 and 7).

Each case builds a small landing zone by hand and runs the real loader. What must hold every
time: the problem is named in one line (no traceback, no PHI), nothing valid is lost (the other
records and batches load, counted), and no other batch is harmed (no LOADING row is left, the
next batch loads, a rerun does not repeat the failure).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from test_ingest import (
    DEPOSITS,
    GL,
    ORGANIZATION,
    PAYERS,
    erp_files,
    file_835,
    ndjson,
    query,
    raw_folders,
    rcm_files,
    write_batch,
)

from billops.config import Settings
from billops.ingest import IngestReport, ingest
from billops.ingest.manifest import check_times, read_manifest
from billops.sources import ReadLimits, Reject, Row
from billops.sources.fhir import nested_deeper_than, read_ndjson
from billops.sources.values import reject_control_characters

B1, B2, B3 = "20240131T230000Z", "20240207T230000Z", "20240214T230000Z"
# A patient whose every PHI value is distinctive, so a leak into a message is found.
PHI_VALUES = ("Quixotelli", "Zebulonia", "1931-07-04", "MBR-7781-ZX", "99501")
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1931-07-04",
           "name": [{"family": "Quixotelli", "given": ["Zebulonia"]}],
           "address": [{"postalCode": "99501"}]}
COVERAGE = {"resourceType": "Coverage", "id": "cov-1", "status": "active",
            "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"reference": "Organization/PAYER1"}], "subscriberId": "MBR-7781-ZX"}
SLOW = hsettings(max_examples=5, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def patient(pid: str, **extra: object) -> dict:
    return {**PATIENT, "id": pid, **extra}


def run(settings: Settings, **kwargs: object) -> IngestReport:
    return ingest(settings=settings, **kwargs)  # type: ignore[arg-type]


def assert_clean_messages(report: IngestReport) -> None:
    """One line each, no traceback, no PHI value."""
    for message in report.messages + report.blocked_alert.split("; "):
        assert "\n" not in message and "Traceback" not in message, message
        for value in PHI_VALUES:
            assert value not in message, message


def assert_no_loading(settings: Settings) -> None:
    assert query(settings, "select count(*) from raw._batches where status = 'LOADING'") == [(0,)]


def statuses(settings: Settings) -> dict[str, str]:
    rows = query(settings, "select system || '/' || batch_id, status from raw._batches "
                           "order by loaded_at")
    return dict(rows)


def reasons(settings: Settings, system: str, batch_id: str) -> str:
    rows = query(settings, "select reason from raw._batches where system = ? and batch_id = ? "
                           "and status = 'QUARANTINED'", [system, batch_id])
    return " ".join(r[0] for r in rows)


def rejects(settings: Settings) -> list[tuple]:
    return query(settings, "select system, batch_id, file, record, reason, original_text "
                           "from raw._rejects order by system, batch_id, file, record")


def with_limits(settings: Settings, **values: object) -> Settings:
    return settings.model_copy(update=values)


def nested(depth: int, kind: str) -> str:
    opening, closing = ("[", "]") if kind == "array" else ('{"a":', "}")
    return opening * depth + "1" + closing * depth


# ---------------------------------------------------------------------------------- deep JSON


@SLOW
@given(depth=st.integers(min_value=65, max_value=150_000), kind=st.sampled_from(["array", "object"]))
def test_deeply_nested_json_rejects_its_line_alone(tmp_path_factory: pytest.TempPathFactory,
                                                   depth: int, kind: str) -> None:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)  # type: ignore[call-arg]
    deep = '{"resourceType": "Patient", "id": "deep", "extension": ' + nested(depth, kind) + "}"
    write_batch(settings.landing, "ehr", B1,
                {"Patient.ndjson": ndjson(patient("p1"), deep, patient("p2"))})
    write_batch(settings.landing, "erp", B1, erp_files())
    write_batch(settings.landing, "ehr", B2, {"Patient.ndjson": ndjson(patient("p3"))})
    report = run(settings)
    assert report.batches_loaded == 3 and report.batches_quarantined == 0
    assert sorted(query(settings, "select id from raw.fhir_patient")) == [("p1",), ("p2",),
                                                                          ("p3",)]
    ((record, reason),) = [(r[3], r[4]) for r in rejects(settings)]
    assert record == 2 and reason == "JSON nested deeper than 64 levels"
    assert_no_loading(settings)
    assert_clean_messages(report)
    again = run(settings)  # a rerun loads nothing again and fails on nothing
    assert again.batches_loaded == 0 and again.batches_skipped == 3 and not again.messages


def test_depth_check_ignores_brackets_inside_strings() -> None:
    text = json.dumps({"a": "[" * 500 + "{" * 500})
    assert not nested_deeper_than(text, 64)
    assert nested_deeper_than(nested(65, "array"), 64)
    assert not nested_deeper_than(nested(64, "object"), 64)


def test_deeply_nested_manifest_quarantines_its_batch_only(billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    (folder / "_manifest.json").write_text(nested(100_000, "array"))
    write_batch(billops_home.landing, "erp", B2, erp_files() | {"bank_deposits.csv": DEPOSITS
                                                                + "D2,hosp-1,OPER,2024-02-03,"
                                                                "1.00,EFT9,ACME\n"})
    report = run(billops_home)
    assert statuses(billops_home) == {f"erp/{B1}": "QUARANTINED", f"erp/{B2}": "LOADED"}
    assert "_manifest.json" in reasons(billops_home, "erp", B1)
    assert_no_loading(billops_home)
    assert_clean_messages(report)


def test_an_unexpected_error_in_one_file_quarantines_its_batch_only(
        billops_home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import billops.ingest.reading as runner

    real = runner.read_csv

    def exploding(source: object, name: str, limits: object = None) -> object:
        if name == "bank_deposits.csv":
            raise RuntimeError("cannot map 'Quixotelli' born 19310704")
        return real(source, name, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "read_csv", exploding)
    write_batch(billops_home.landing, "erp", B1, erp_files())
    write_batch(billops_home.landing, "rcm", B1, {"payers.csv": PAYERS})
    write_batch(billops_home.landing, "erp", B2, {"gl_journal_lines.csv": GL})
    report = run(billops_home)
    assert statuses(billops_home) == {f"erp/{B1}": "QUARANTINED", f"erp/{B2}": "LOADED",
                                      f"rcm/{B1}": "LOADED"}
    reason = reasons(billops_home, "erp", B1)
    assert reason == "bank_deposits.csv: unexpected error while reading: RuntimeError: cannot " \
                     "map '…' born #"
    assert not (billops_home.landing / "erp" / B1).exists()  # moved: a rerun does not repeat it
    assert_no_loading(billops_home)
    assert_clean_messages(report)
    assert run(billops_home).batches_quarantined == 0


# ---------------------------------------------------------------------------------- long lines


@SLOW
@given(size=st.integers(min_value=4097, max_value=60_000), where=st.integers(0, 3),
       fmt=st.sampled_from(["ndjson", "csv", "csv-open-quote"]))
def test_a_line_longer_than_the_cap_is_one_reject(tmp_path_factory: pytest.TempPathFactory,
                                                  size: int, where: int, fmt: str) -> None:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, max_record_bytes=4096)  # type: ignore[call-arg]
    if fmt == "ndjson":
        good = [json.dumps(patient(f"p{n}")) for n in range(4)]
        long = json.dumps(patient("long", text="x" * size))
        lines = [*good[:where], long, *good[where:]]
        files = {"Patient.ndjson": ndjson(*lines)}
        table, system = "fhir_patient", "ehr"
    else:
        header = PAYERS.splitlines()[0]
        good = [f"P{n},Payer {n},COMMERCIAL,90" for n in range(4)]
        long = (f'PX,"{"y" * size}",COMMERCIAL,90' if fmt == "csv"
                else 'PX,"never closed,COMMERCIAL,90\n' + "z" * size)
        lines = [*good[:where], long, *good[where:]]
        files = {"payers.csv": header + "\n" + "\n".join(lines) + "\n"}
        table, system = "payers", "rcm"
    write_batch(settings.landing, system, B1, files, records={"payers.csv": 5})
    report = run(settings)
    assert report.batches_loaded == 1, report.messages
    assert query(settings, f"select count(*) from raw.{table}") == [(4,)]
    ((record, reason, original),) = [(r[3], r[4], r[5]) for r in rejects(settings)]
    assert record == where + 1 or fmt == "ndjson"
    assert reason == "record longer than 4096 bytes; not read"
    assert len(original) <= 1024 * 2
    assert_clean_messages(report)


def test_a_long_line_is_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson"
    with path.open("w") as handle:
        handle.write(json.dumps(patient("p1")) + "\n")
        handle.write('{"resourceType": "Patient", "id": "big", "x": "' + "x" * (40 << 20) + '"}\n')
        handle.write(json.dumps(patient("p2")) + "\n")
    tracemalloc.start()
    try:
        items = list(read_ndjson(path, "Patient", ReadLimits(1 << 16, 64)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [type(i) for i in items] == [Row, Reject, Row]
    assert peak < 4 << 20, f"peak {peak} bytes for a 40 MB line"


# ---------------------------------------------------------------------------------- control chars


CONTROLS = [chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127]]


@given(char=st.sampled_from(CONTROLS), text=st.text(min_size=0, max_size=20),
       at=st.integers(0, 20))
def test_control_characters_are_rejected_and_named_by_code_point(char: str, text: str,
                                                                 at: int) -> None:
    value = text[:at] + char + text[at:]
    with pytest.raises(ValueError) as caught:
        reject_control_characters(value, "family_name")
    first = next(c for c in value if c in CONTROLS)
    assert str(caught.value) == f"family_name: contains control character U+{ord(first):04X}"


@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(
    "\t\r\n"), max_size=40))
def test_text_without_control_characters_passes(text: str) -> None:
    assert reject_control_characters(text, "name") == text


def test_nul_and_control_characters_reject_their_record(billops_home: Settings) -> None:
    escaped_nul = json.dumps(patient("p2", name=[{"family": "Quixo\u0000telli"}]))
    write_batch(billops_home.landing, "ehr", B1, {
        "Patient.ndjson": ndjson(patient("p1"), escaped_nul, patient("p3")),
        "Organization.ndjson": ndjson({**ORGANIZATION, "name": "Gen\u007feral"}, ORGANIZATION)})
    header, row = DEPOSITS.splitlines()
    deposits = f"{header}\n{row}\nD2,hosp-1,OP\x00ER,2024-02-02,1.00,EFT2,ACME\n" \
               "D3,hosp-1,OPER,2024-02-02,2.00,EFT3,AC\tME\n"
    write_batch(billops_home.landing, "erp", B1, {"bank_deposits.csv": deposits})
    report = run(billops_home)
    assert report.batches_loaded == 2
    assert query(billops_home, "select id from raw.fhir_patient order by id") == [("p1",),
                                                                                   ("p3",)]
    assert query(billops_home, "select deposit_id from raw.bank_deposits order by 1") == [
        ("D1",), ("D3",)]  # a tab is allowed in CSV text
    found = {(r[2], r[3]): (r[4], r[5]) for r in rejects(billops_home)}
    assert found[("Patient.ndjson", 2)][0] == "family_name: contains control character U+0000"
    assert found[("Organization.ndjson", 1)][0] == "name: contains control character U+007F"
    reason, original = found[("bank_deposits.csv", 2)]
    assert reason == "bank_account: contains control character U+0000"
    assert "\x00" not in original and "OP\\x00ER" in original  # kept, escaped
    assert_clean_messages(report)


# ---------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("name", "data"), [
    ("latin-1 CSV", DEPOSITS.replace("ACME", "ACMÉ").encode("latin-1")),
    ("UTF-16 with BOM", DEPOSITS.encode("utf-16")),
    ("UTF-8 cut inside a character", DEPOSITS.replace("ACME", "ACMÉ").encode()[:-2]),
])
def test_wrong_encodings_quarantine_the_batch_and_the_next_one_loads(
        billops_home: Settings, name: str, data: bytes) -> None:
    write_batch(billops_home.landing, "erp", B1, {"bank_deposits.csv": data},
                records={"bank_deposits.csv": 1})
    write_batch(billops_home.landing, "erp", B2, erp_files())
    write_batch(billops_home.landing, "ehr", B1, {"Patient.ndjson": ndjson(patient("p1"))})
    report = run(billops_home)
    assert statuses(billops_home) == {f"erp/{B1}": "QUARANTINED", f"erp/{B2}": "LOADED",
                                      f"ehr/{B1}": "LOADED"}, name
    assert "not valid UTF-8" in reasons(billops_home, "erp", B1)
    assert query(billops_home, "select count(*) from raw.bank_deposits") == [(1,)]
    assert_no_loading(billops_home)
    assert_clean_messages(report)


# ---------------------------------------------------------------------------------- symlinks


def outside_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "payers.csv"
    secret.parent.mkdir()
    secret.write_text(PAYERS.replace("Acme", "SECRET-OUTSIDE"))
    return secret


def test_a_listed_file_that_is_a_link_quarantines_the_batch(billops_home: Settings,
                                                             tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    folder = write_batch(billops_home.landing, "rcm", B1, {"payers.csv": secret.read_text()})
    (folder / "payers.csv").unlink()
    (folder / "payers.csv").symlink_to(secret)
    write_batch(billops_home.landing, "rcm", B2, {"payers.csv": PAYERS})
    report = run(billops_home)
    assert statuses(billops_home) == {f"rcm/{B1}": "QUARANTINED", f"rcm/{B2}": "LOADED"}
    assert "payers.csv: is a symbolic link" in reasons(billops_home, "rcm", B1)
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        text = str(con.execute("select * from raw._rejects").fetchall()) + str(
            con.execute("select * from raw.payers").fetchall())
    assert "SECRET-OUTSIDE" not in text
    assert secret.read_text().count("SECRET-OUTSIDE") == 1  # the target is untouched
    quarantined = Path(billops_home.quarantine) / "rcm" / B1 / "payers.csv"
    assert quarantined.is_symlink()  # moved as a link, never copied through it
    assert_no_loading(billops_home)
    assert_clean_messages(report)


def test_a_folder_link_inside_the_batch_quarantines_it(billops_home: Settings,
                                                        tmp_path: Path) -> None:
    outside = tmp_path / "outside835"
    outside.mkdir()
    (outside / "remit.x12").write_text(file_835())
    folder = write_batch(billops_home.landing, "rcm", B1, {"835/remit.x12": file_835()})
    (folder / "835" / "remit.x12").unlink()
    (folder / "835").rmdir()
    (folder / "835").symlink_to(outside, target_is_directory=True)
    report = run(billops_home)
    assert "835/remit.x12: folder 835 is a symbolic link" in reasons(billops_home, "rcm", B1)
    assert (outside / "remit.x12").is_file()
    assert raw_folders(billops_home) == []
    assert_clean_messages(report)


def test_a_batch_folder_that_is_a_link_is_quarantined_as_a_link(billops_home: Settings,
                                                                 tmp_path: Path) -> None:
    real = write_batch(tmp_path / "elsewhere", "erp", B1, erp_files())
    (billops_home.landing / "erp").mkdir(parents=True)
    (billops_home.landing / "erp" / B1).symlink_to(real, target_is_directory=True)
    write_batch(billops_home.landing, "erp", B2, erp_files())
    report = run(billops_home)
    assert statuses(billops_home) == {f"erp/{B1}": "QUARANTINED", f"erp/{B2}": "LOADED"}
    assert "batch folder is a symbolic link" in reasons(billops_home, "erp", B1)
    assert sorted(p.name for p in real.iterdir()) == [
        "_manifest.json", "bank_deposits.csv", "gl_journal_lines.csv"]  # nothing written there
    target = Path(billops_home.quarantine) / "erp" / B1
    assert (target / "batch-folder-link").is_symlink() and (target / "_reason.txt").is_file()
    assert_clean_messages(report)


def test_an_unlisted_link_is_reported_and_not_read(billops_home: Settings,
                                                   tmp_path: Path) -> None:
    folder = write_batch(billops_home.landing, "rcm", B1, {"payers.csv": PAYERS})
    (folder / "extra.csv").symlink_to(outside_secret(tmp_path))
    report = run(billops_home)
    assert report.batches_loaded == 1
    assert any(f"rcm/{B1}/extra.csv: is a symbolic link" in m for m in report.messages)


def test_a_fifo_is_refused_without_blocking(billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    (folder / "bank_deposits.csv").unlink()
    os.mkfifo(folder / "bank_deposits.csv")
    run(billops_home)
    assert "bank_deposits.csv: not a regular file" in reasons(billops_home, "erp", B1)


def test_a_file_swapped_after_it_was_opened_is_read_as_opened(
        billops_home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from billops.ingest.landing_files import BatchFolder

    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    real_open = BatchFolder.open
    opened: list[str] = []

    def open_then_swap(self: BatchFolder, rel: str) -> object:
        handle = real_open(self, rel)
        if rel == "bank_deposits.csv" and rel in opened:  # the read, not the check before it
            swap = folder / "swap.tmp"
            swap.write_text(DEPOSITS.replace("80.00", "99999.00"))
            swap.replace(folder / "bank_deposits.csv")
        opened.append(rel)
        return handle

    monkeypatch.setattr(BatchFolder, "open", open_then_swap)
    report = run(billops_home)
    assert report.batches_loaded == 1
    assert query(billops_home, "select amount from raw.bank_deposits")[0][0] == 80


# ---------------------------------------------------------------------------------- times and ids


def manifest_stamp(batch_id: str, offset: timedelta) -> str:
    base = datetime.strptime(batch_id, "%Y%m%dT%H%M%SZ") + offset
    return base.strftime("%Y-%m-%dT%H:%M:%SZ")


@SLOW
@given(hours=st.floats(min_value=-200, max_value=200, allow_nan=False))
def test_extracted_at_must_lie_within_the_skew_of_the_batch_id(
        tmp_path_factory: pytest.TempPathFactory, hours: float) -> None:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)  # type: ignore[call-arg]
    stamp = manifest_stamp(B1, timedelta(hours=hours))
    write_batch(settings.landing, "erp", B1, erp_files(), extracted_at=stamp)
    write_batch(settings.landing, "erp", B2, erp_files())
    report = run(settings)
    skew_seconds = abs(
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ") - datetime.strptime(B1, "%Y%m%dT%H%M%SZ")
    ).total_seconds()
    expected = "LOADED" if skew_seconds <= 24 * 3600 else "QUARANTINED"
    assert statuses(settings)[f"erp/{B1}"] == expected
    assert statuses(settings)[f"erp/{B2}"] == "LOADED"
    if expected == "QUARANTINED":
        assert "is more than 24 h from its batch id" in reasons(settings, "erp", B1)
    assert_clean_messages(report)


def test_a_batch_from_the_future_is_quarantined_and_moves_no_as_of(
        billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "erp", B1, erp_files())
    write_batch(landing, "erp", "29991231T000000Z", erp_files(),
                extracted_at="2999-12-31T00:00:00Z")
    clock = datetime(2024, 2, 1, 12, 0)
    write_batch(landing, "rcm", "20240202T230000Z", {"payers.csv": PAYERS})  # 35 h after
    report = run(billops_home, now=clock)
    assert statuses(billops_home) == {f"erp/{B1}": "LOADED",
                                      "erp/29991231T000000Z": "QUARANTINED",
                                      "rcm/20240202T230000Z": "QUARANTINED"}
    assert "after this run's clock 2024-02-01T12:00:00Z plus 24 h" in reasons(
        billops_home, "erp", "29991231T000000Z")
    assert query(billops_home, "select max(extracted_at) from raw._batches "
                               "where status = 'LOADED'") == [(datetime(2024, 1, 31, 23),)]
    assert_clean_messages(report)


@pytest.mark.parametrize("batch_id", ["20269999T999999Z", "20240230T000000Z",
                                      "20240131T235960Z", "20241301T000000Z"])
def test_a_batch_id_that_is_no_real_time_is_quarantined(billops_home: Settings,
                                                        batch_id: str) -> None:
    write_batch(billops_home.landing, "erp", batch_id, erp_files(),
                extracted_at="2024-01-31T23:00:00Z")
    write_batch(billops_home.landing, "erp", B2, erp_files())
    report = run(billops_home)
    assert statuses(billops_home) == {f"erp/{batch_id}": "QUARANTINED", f"erp/{B2}": "LOADED"}
    assert f"batch id {batch_id} is not a real UTC time" in reasons(billops_home, "erp", batch_id)
    assert_clean_messages(report)


@given(stamp=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
def test_check_times_accepts_every_real_stamp_and_its_own_time(stamp: datetime) -> None:
    from billops.ingest.manifest import Manifest

    stamp = stamp.replace(microsecond=0)
    batch_id = stamp.strftime("%Y%m%dT%H%M%SZ")
    manifest = Manifest("erp", batch_id, stamp, ())
    assert check_times(manifest, stamp, 24) is None
    assert "after this run's clock" in str(check_times(manifest, stamp - timedelta(hours=25), 24))


# ---------------------------------------------------------------------------------- blocking


def test_an_empty_batch_folder_blocks_loudly_after_the_wait(
        billops_home: Settings, caplog: pytest.LogCaptureFixture) -> None:
    landing = billops_home.landing
    (landing / "ehr" / B1).mkdir(parents=True)  # an empty folder: no manifest will ever come
    write_batch(landing, "ehr", B2, {"Patient.ndjson": ndjson(patient("p2"))})
    write_batch(landing, "ehr", B3, {"Patient.ndjson": ndjson(patient("p3"))})
    write_batch(landing, "erp", B1, erp_files())
    soon = datetime.utcnow() + timedelta(hours=1)
    report = run(billops_home, now=soon)
    assert report.blocked_alert == "" and report.batches_pending == 3
    assert any(f"ehr/{B1}: has no _manifest.json after 1.0 h; 2 later batch(es) of ehr, from "
               f"{B2} wait for it (alarm after 2 h)" in m for m in report.messages)
    assert statuses(billops_home) == {f"erp/{B1}": "LOADED"}  # another system is not held

    later = datetime.utcnow() + timedelta(hours=3)
    with caplog.at_level(logging.ERROR, logger="billops.ingest"):
        report = run(billops_home, now=later)
    assert report.blocked_alert.startswith(f"ehr/{B1}: blocks 2 later batch(es) of ehr, from {B2}")
    assert any(r.levelno == logging.ERROR and f"ehr/{B1}" in r.getMessage()
               for r in caplog.records)
    ((rule, sample),) = query(billops_home, "select rule, unexpected_sample from marts.dq_breaks "
                                            "where suite = 'landing_batch_order'")
    assert rule == "ehr_batches_not_blocked" and json.loads(sample)[0]["batch_id"] == B1
    assert_clean_messages(report)

    (landing / "ehr" / B1).rmdir()  # the operator removes the empty folder
    report = run(billops_home, now=later)
    assert report.blocked_alert == "" and report.batches_loaded == 2
    assert query(billops_home, "select count(*) from marts.dq_breaks "
                               "where suite = 'landing_batch_order'") == [(0,)]
    assert_no_loading(billops_home)


def test_billops_ingest_exits_non_zero_naming_the_blocking_batch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    landing = home / "landing"
    (landing / "rcm" / B1).mkdir(parents=True)
    (landing / "rcm" / B1 / "payers.csv").write_text(PAYERS)  # files whose manifest never came
    write_batch(landing, "rcm", B2, {"payers.csv": PAYERS})
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env |= {"BILLOPS_HOME": str(home), "BILLOPS_BLOCKED_BATCH_WAIT_HOURS": "0"}
    result = subprocess.run([sys.executable, "-m", "billops", "ingest"], cwd=home, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("billops: ") and f"rcm/{B1}: blocks 1 later batch(es)" in last
    assert "Traceback" not in result.stderr + result.stdout


# ---------------------------------------------------------------------------------- duplicates


def test_only_the_manifest_counts_when_another_manifest_like_file_is_there(
        billops_home: Settings) -> None:
    folder = write_batch(billops_home.landing, "erp", B1, erp_files())
    doc = json.loads((folder / "_manifest.json").read_text())
    (folder / "_manifest (1).json").write_text(json.dumps({**doc, "files": doc["files"][:1]}))
    (folder / "manifest.json").write_text(json.dumps({**doc, "files": []}))
    report = run(billops_home)
    assert report.batches_loaded == 1
    assert query(billops_home, "select count(*) from raw._loads where status = 'LOADED'") == [
        (2,)]
    for name in ("_manifest (1).json", "manifest.json"):
        assert any(f"erp/{B1}/{name}: not listed in the manifest; not read" in m
                   for m in report.messages)
    assert read_manifest(folder, "erp").files == tuple(read_manifest(folder, "erp").files)


def test_the_same_batch_delivered_twice_loads_once(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "erp", B1, erp_files())
    assert run(billops_home).batches_loaded == 1
    # delivered again under another id: every file is a duplicate, nothing posts twice
    write_batch(billops_home.landing, "erp", B2, erp_files())
    report = run(billops_home)
    assert report.batches_loaded == 1 and report.files_skipped_duplicate == 2
    assert query(billops_home, "select count(*) from raw.gl_journal_lines") == [(2,)]
    assert run(billops_home).batches_skipped == 2


def test_batch_ids_colliding_across_systems_are_kept_apart(billops_home: Settings) -> None:
    landing = billops_home.landing
    write_batch(landing, "ehr", B1, {"Patient.ndjson": ndjson(patient("p1"), "{bad")})
    write_batch(landing, "rcm", B1, rcm_files())
    write_batch(landing, "erp", B1, erp_files())
    run(billops_home)
    assert statuses(billops_home) == {f"{s}/{B1}": "LOADED" for s in ("ehr", "erp", "rcm")}
    # the rcm batch re-delivered broken is quarantined; the other systems' B1 stay whole
    bad = write_batch(landing, "rcm", B2, {"payers.csv": PAYERS}, sha256={"payers.csv": "0" * 64})
    assert bad.exists()
    write_batch(landing, "erp", B2, {"bank_deposits.csv": DEPOSITS}, records={
        "bank_deposits.csv": 7})
    run(billops_home)
    assert query(billops_home, "select system, count(*) from raw._rejects group by 1") == [
        ("ehr", 1)]
    assert query(billops_home, "select count(*) from raw.fhir_patient") == [(1,)]
    assert query(billops_home, "select count(*) from raw.gl_journal_lines") == [(2,)]
    assert query(billops_home, "select count(*) from raw.payers") == [(1,)]
    folders = raw_folders(billops_home)
    assert f"fhir_patient/batch_id={B1}" in folders and f"payers/batch_id={B1}" in folders
    assert f"bank_deposits/batch_id={B1}" in folders and not any(B2 in f for f in folders)
    assert query(billops_home, "select system, count(*) from raw._loads where batch_id = ? "
                               "group by 1 order by 1", [B1]) == [("ehr", 1), ("erp", 2),
                                                                  ("rcm", 4)]
    assert_no_loading(billops_home)


def test_manifest_sha_is_checked_for_a_skipped_duplicate(billops_home: Settings) -> None:
    write_batch(billops_home.landing, "erp", B1, erp_files())
    run(billops_home)
    folder = write_batch(billops_home.landing, "erp", B2, erp_files())
    listed = hashlib.sha256(GL.encode()).hexdigest()
    (folder / "gl_journal_lines.csv").write_text(GL + "J9,1,hosp-1,2024-02-02,2024-02,1000,1,0,"
                                                 "CASH,X,x,u1,\n")  # claims to be the old file
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert any(f["sha256"] == listed for f in manifest["files"])
    run(billops_home)
    assert "gl_journal_lines.csv: sha256" in reasons(billops_home, "erp", B2)
