"""Property: random corruption of valid NDJSON and X12 never crashes the loader, never loses a record.

Every example writes a fresh landing batch whose manifest matches the corrupted bytes (as a feed
would send it) and runs the real loader. Whatever the corruption, ingest returns, and either the
batch is quarantined with a reason, or every record of the corrupted file is accounted for: loaded
into its raw table or kept in raw._rejects. Records the corruption left intact always load.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest import (
    ENCOUNTER,
    claim_837,
    file_835,
    file_837,
    ndjson,
)

from billops.config import Settings
from billops.ingest import ingest

BATCH = "20240131T230000Z"
# Characters that matter to the formats, plus a multi-byte one and bytes that are not UTF-8.
NOISE = [b"*", b":", b"^", b"~", b"\n", b"\r", b"{", b"}", b'"', b",", b" ", b"0", b"A",
         "é".encode(), b"\xff", b"\xc3"]

corruption = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.integers(min_value=1, max_value=40),
    st.sampled_from(NOISE),
)


def corrupt(data: bytes, operations: list[tuple[str, float, int, bytes]]) -> bytes:
    for op, where, size, noise in operations:
        at = int(where * len(data))
        if op == "delete":
            data = data[:at] + data[at + size:]
        elif op == "insert":
            data = data[:at] + noise + data[at:]
        elif op == "replace":
            data = data[:at] + noise + data[at + len(noise):]
        elif op == "truncate":
            data = data[:at]
        else:
            data = data[:at] + data[at:at + size] + data[at:]
    return data


def ndjson_lines(data: bytes) -> list[tuple[int, str]] | None:
    """(line number, text) of the non-blank lines, as the manifest counts them; None if not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = io.StringIO(text, newline="").readlines()
    return [(n, line.rstrip("\r\n")) for n, line in enumerate(lines, start=1)
            if line.strip()]


def x12_segments(data: bytes) -> list[str]:
    """Segments split on the terminator the ISA declares (an independent, naive reading)."""
    text = data.decode("utf-8", errors="replace").lstrip()
    if len(text) < 106 or not text.startswith("ISA"):
        return []
    return [s.strip() for s in text.split(text[105]) if s.strip()]


def load(home: Path, system: str, rel: str, data: bytes, records: int
         ) -> tuple[Settings, str, str | None]:
    folder = home / "landing" / system / BATCH
    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
    (folder / rel).write_bytes(data)
    (folder / "_manifest.json").write_text(json.dumps({
        "system": system, "batch_id": BATCH, "extracted_at": "2024-01-31T23:00:00Z",
        "files": [{"path": rel, "sha256": hashlib.sha256(data).hexdigest(),
                   "records": records}]}))
    config = Settings(home=home)
    report = ingest(settings=config)  # must not raise, whatever the bytes
    with duckdb.connect(str(config.warehouse), read_only=True) as con:
        status, reason = con.execute("select status, reason from raw._batches").fetchone()
    if status == "QUARANTINED":
        assert reason and any(rel in m for m in report.messages)
        assert (config.quarantine / system / BATCH / "_reason.txt").is_file()
    else:
        assert status == "LOADED"
    return config, status, reason


def rejects(config: Settings) -> list[tuple[int, str]]:
    with duckdb.connect(str(config.warehouse), read_only=True) as con:
        return con.execute("select record, original_text from raw._rejects").fetchall()


ENCOUNTERS = [ENCOUNTER, *({**ENCOUNTER, "id": f"ENC{n}"} for n in range(2, 7))]
ORIGINAL_NDJSON = ndjson(*ENCOUNTERS).encode()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corruption, min_size=1, max_size=3))
def test_corrupted_ndjson_never_crashes_and_never_loses_a_record(operations: list) -> None:
    data = corrupt(ORIGINAL_NDJSON, operations)
    lines = ndjson_lines(data)
    original = {json.dumps(e): e["id"] for e in ENCOUNTERS}
    with tempfile.TemporaryDirectory() as tmp:
        config, status, reason = load(Path(tmp), "ehr", "Encounter.ndjson", data,
                                      len(lines) if lines is not None else 0)
        if lines is None:  # not UTF-8: the file cannot be read as a whole
            assert status == "QUARANTINED" and "not valid UTF-8" in reason
            return
        assert status == "LOADED", reason
        with duckdb.connect(str(config.warehouse), read_only=True) as con:
            loaded = dict(con.execute("select _record, id from raw.fhir_encounter").fetchall())
        rejected = dict(rejects(config))
        assert loaded.keys().isdisjoint(rejected)
        assert sorted([*loaded, *rejected]) == [n for n, _ in lines]  # every record accounted
        for number, text in lines:
            if text in original:  # left intact by the corruption: it must load
                assert loaded.get(number) == original[text]
            elif number in rejected:
                assert rejected[number] == text  # the original text is kept


CLAIMS = [claim_837(f"ENC{n}", [(f"CHG{n}{k}", "J1100", "50.00") for k in range(2)])
          for n in range(1, 5)]
ORIGINAL_837 = file_837(*CLAIMS).encode()
ORIGINAL_835 = file_835().encode()


def count_segments(segments: list[str], sid: str, element: str) -> int:
    return sum(1 for s in segments if s.split(element, 1)[0] == sid)


def check_x12(data: bytes, rel: str, sid: str, table: str) -> None:
    segments = x12_segments(data)
    element = data.decode("utf-8", errors="replace").lstrip()[3:4] or "*"
    with tempfile.TemporaryDirectory() as tmp:
        config, status, _ = load(Path(tmp), "rcm", rel, data,
                                 count_segments(segments, "ST", element))
        if status == "QUARANTINED":
            return
        with duckdb.connect(str(config.warehouse), read_only=True) as con:
            loaded = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        terminator = _terminator(data)
        in_rejects = sum(count_segments([s.strip() for s in text.split(terminator) if s.strip()],
                                        sid, element) for _, text in rejects(config))
        assert loaded + in_rejects == count_segments(segments, sid, element)


def _terminator(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").lstrip()[105]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corruption, min_size=1, max_size=3))
def test_corrupted_837_never_crashes_and_never_loses_a_claim(operations: list) -> None:
    check_x12(corrupt(ORIGINAL_837, operations), "837/claims.x12", "CLM", "x12_claims")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corruption, min_size=1, max_size=3))
def test_corrupted_835_never_crashes_and_never_loses_a_remitted_claim(operations: list) -> None:
    check_x12(corrupt(ORIGINAL_835, operations), "835/remit.x12", "CLP", "x12_remit_claims")


def corrupt_elements(text: str, edits: list[tuple[float, int, str]]) -> str:
    """Replace elements of body segments (never ISA/GS/ST/SE/GE/IEA) by arbitrary values."""
    segments = text.split("~")
    body = [i for i, s in enumerate(segments)
            if s.strip() and s.strip()[:3].rstrip("*") not in ("ISA", "GS", "ST", "SE", "GE", "IEA")]
    for where, element, value in edits:
        index = body[int(where * (len(body) - 1))]
        parts = segments[index].split("*")
        parts[min(element, len(parts) - 1) or 1] = value
        segments[index] = "*".join(parts)
    return "~".join(segments)


element_edit = st.tuples(
    st.floats(min_value=0, max_value=1, allow_nan=False), st.integers(min_value=1, max_value=9),
    st.text(alphabet=st.characters(blacklist_characters="*:^~\r\n",
                                   blacklist_categories=("Cs", "Cc")), max_size=12))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(element_edit, min_size=1, max_size=4))
def test_bad_element_values_in_x12_never_quarantine_and_never_lose_a_claim(edits: list) -> None:
    """Values that break a claim, with the envelope intact: the file loads, claims are kept."""
    data = corrupt_elements(ORIGINAL_837.decode(), edits).encode()
    segments = x12_segments(data)
    with tempfile.TemporaryDirectory() as tmp:
        config, status, reason = load(Path(tmp), "rcm", "837/claims.x12", data, 1)
        assert status == "LOADED", reason
        with duckdb.connect(str(config.warehouse), read_only=True) as con:
            loaded = con.execute("select count(*) from raw.x12_claims").fetchone()[0]
        in_rejects = sum(count_segments(text.split("~"), "CLM", "*")
                         for _, text in rejects(config))
        assert loaded + in_rejects == count_segments(segments, "CLM", "*")


def test_uncorrupted_files_load_whole() -> None:
    """The baseline the properties corrupt: every record of each file loads, nothing rejected."""
    with tempfile.TemporaryDirectory() as tmp:
        config, status, _ = load(Path(tmp) / "a", "ehr", "Encounter.ndjson", ORIGINAL_NDJSON, 6)
        assert status == "LOADED" and rejects(config) == []
        config, status, _ = load(Path(tmp) / "b", "rcm", "837/claims.x12", ORIGINAL_837, 1)
        assert status == "LOADED" and rejects(config) == []
        with duckdb.connect(str(config.warehouse), read_only=True) as con:
            assert con.execute("select count(*) from raw.x12_claims").fetchone()[0] == 4
