"""Hostile X12: missing terminators, oversize segments, control characters, broken ISAs.

Each case asserts the outcome the contract gives it (docs/ingestion.md): a one-line error naming
where and why and never a PHI value, the unit holding the bad segment rejected (837 claim, 835
transaction set or service line), and the other transaction sets of the file loaded. Time is
asserted through behaviour, never a clock: the tokenizer is handed each character a bounded number
of times (a counting wrapper on its feed), whatever the input. The timings are in
bench/bench_x12_tokenizer.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from test_ingest import B1, B2, query, write_batch
from test_x12_parser import CLAIMS_837P, REMIT_835, interchange, isa, redelimit

from billops.config import Settings
from billops.ingest import ingest
from billops.ingest.x12_validation import validate_pending
from billops.sources import FileError, ReadLimits, Reject, Row
from billops.sources.x12 import CHUNK_SIZE, X12Error, read_x12
from billops.sources.x12.tokenizer import FlawedSegment, Segment, _Tokenizer, iter_segments
from billops.sources.x12.validate import INVALID, flatten_errors, validate_x12

# PHI values of the builders' files (names, member ids, a birth date): never in a message.
PHI = ("DOE", "JANE", "ROE", "RICH", "M123", "M456", "19800101")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LIMIT = 2000  # max_record_bytes of most tests: small files show the cap

REMIT_2 = [s.replace("EFT0001", "EFT0002") for s in REMIT_835]


def remit_file(first: list[str], second: list[str] = REMIT_2) -> str:
    return interchange("835", [first, second], "005010X221A1")


def replaced(body: list[str], old: str, new: str) -> list[str]:
    """``body`` with the first segment starting with ``old`` replaced by ``new``."""
    at = next(i for i, seg in enumerate(body) if seg.startswith(old))
    return [*body[:at], new, *body[at + 1 :]]


class Trickle(io.RawIOBase):
    """A binary file that gives at most ``step`` bytes per read (chunks of that size)."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__()
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        part = self.data[self.pos : self.pos + min(len(buffer), self.step)]
        buffer[: len(part)] = part
        self.pos += len(part)
        return len(part)


def read(text: str | bytes, kind: str, limit: int = LIMIT, chunk: int = CHUNK_SIZE
         ) -> tuple[list[Row | Reject], int]:
    """The items and transaction-set count of ``read_x12`` over an open binary file read in
    chunks of ``chunk`` bytes."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    reader = read_x12(Trickle(data, chunk), kind, ReadLimits(limit, 64))  # type: ignore[arg-type]
    items: list[Row | Reject] = []
    while True:
        try:
            items.append(next(reader))
        except StopIteration as stop:
            return items, stop.value


def table(items: list[Row | Reject], name: str) -> list[dict[str, object]]:
    return [i.values for i in items if isinstance(i, Row) and i.table == name]


def rejects(items: list[Row | Reject]) -> list[Reject]:
    return [i for i in items if isinstance(i, Reject)]


def assert_clean(message: str) -> None:
    """One line, no control character, no PHI value."""
    assert CONTROL.search(message) is None, repr(message)
    assert not [v for v in PHI if v in message], message


def assert_no_control_in_rows(items: list[Row | Reject]) -> None:
    """No control character in a text value of a row, nor in a reject (its original text may
    end segments with a line break, when that is the file's terminator)."""
    for item in items:
        if isinstance(item, Row):
            texts = [v for v in item.values.values() if isinstance(v, str)]
        else:
            texts = [item.reason, item.unit_key or "", re.sub("[\r\n]", "", item.original_text)]
        for text in texts:
            assert CONTROL.search(text) is None, repr(text)


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths of the texts the tokenizer is handed (a counting wrapper on its feed)."""
    sizes: list[int] = []
    feed = _Tokenizer.feed

    def counting(self: _Tokenizer, text: str, final: bool) -> Iterator[list[Segment]]:
        sizes.append(len(text))
        return feed(self, text, final)

    monkeypatch.setattr(_Tokenizer, "feed", counting)
    return sizes


# ---------------------------------------------------------------------------------- linear


HEAD = isa() + "GS*HP*S*R*20240131*1200*7*X*005010X221A1~ST*835*0001~BPR*"


def hostile(kind: str, size: int) -> str:
    """About ``size`` characters of one kind of hostile input (most after a valid ISA and GS)."""
    if kind == "no terminator":
        return HEAD + "A" * size
    if kind == "terminator only at the end":
        return HEAD + "A*" * (size // 2) + "~SE*3*0001~GE*1*7~IEA*1*000000001~"
    if kind == "long elements":
        return HEAD + ("I*" + "9" * 1500 + "~N1*PR*") * (size // 1510) + "X~"
    if kind == "repetition separators":
        return HEAD + "^" * size + "~"
    if kind == "NUL bytes":
        return HEAD + "\x00*" * (size // 2) + "~"
    if kind == "short ISA":
        return isa()[:60] + isa()[70:] + "GS*" * (size // 3)
    if kind == "segment per character":
        return isa() + "A~" * (size // 2)
    if kind == "alternating delimiters":  # empty interchanges, each with another terminator
        pair = isa() + "IEA*0*000000001~" + isa()[:-1] + "!\nIEA*0*000000001!\n"
        return pair * (size // len(pair))
    raise AssertionError(kind)


KINDS = ("no terminator", "terminator only at the end", "long elements",
         "repetition separators", "NUL bytes", "short ISA", "segment per character",
         "alternating delimiters")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [1 << 16, 1 << 19, 1 << 22])
@pytest.mark.parametrize("limit", [LIMIT, 1 << 30])  # the cap, and none at all
def test_hostile_input_is_handed_to_the_tokenizer_about_once(
    fed: list[int], kind: str, size: int, limit: int
) -> None:
    text = hostile(kind, size)
    try:
        items, _sets = read(text, "835", limit)
    except X12Error as exc:
        assert kind != "alternating delimiters", exc
        assert_clean(str(exc))
    else:
        assert_no_control_in_rows(items)
        for reject in rejects(items):
            assert_clean(reject.reason)
    # Each character at most twice (in its chunk, then once more as the start of a segment
    # that chunk left incomplete), plus the 106 of an ISA waiting for the rest of itself.
    assert sum(fed) <= 2 * len(text) + 2 * CHUNK_SIZE


def test_unterminated_input_fails_with_one_line_at_the_cap(fed: list[int]) -> None:
    for size in (1 << 16, 1 << 20, 1 << 23):
        fed.clear()
        with pytest.raises(X12Error) as caught:
            read(hostile("no terminator", size), "835", limit=1 << 16)
        assert str(caught.value) == (
            "record 4: segment 4 is longer than 65536 bytes and the file ends before its terminator"
        )
        assert sum(fed) <= 2 * CHUNK_SIZE  # the rest is skipped, never buffered


def test_unterminated_input_under_the_cap_is_held_not_rejoined(fed: list[int]) -> None:
    for size in (1 << 16, 1 << 20, 1 << 23):
        fed.clear()
        with pytest.raises(X12Error) as caught:
            read(hostile("no terminator", size), "835", limit=1 << 30)
        assert str(caught.value) == (
            "record 4: segment 4 is not terminated (expected '~'; wrong delimiters?)"
        )
        assert sum(fed) <= 2 * CHUNK_SIZE


HOSTILE_CHARS = st.sampled_from(list("*:^~\n\r \t\x00\x1b\x7fISAGETN0123é"))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tail=st.text(HOSTILE_CHARS, max_size=400),
    chunk=st.integers(min_value=1, max_value=300),
    limit=st.integers(min_value=4, max_value=500),
)
def test_tokenizer_raises_only_x12_errors_and_loads_no_control_character(
    tail: str, chunk: int, limit: int
) -> None:
    text = isa() + tail
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    segments: list[Segment] = []
    try:
        segments.extend(iter_segments(pieces, limit))
    except X12Error as exc:  # anything else fails the test
        assert_clean(str(exc))
    for seg in segments:
        assert CONTROL.search(seg.text.replace("\n", "")) is None, seg
        if isinstance(seg, FlawedSegment):
            assert seg.problem and (seg.problem.startswith("holds control character")
                                    or seg.text == f"{seg.id}*…~")
        elif seg.id != "ISA":  # an ISA is 106 characters whatever the cap
            assert len(seg.text.encode()) <= limit + 1


@hsettings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600), kind=st.sampled_from(["835", "837"]))
def test_arbitrary_bytes_are_read_or_refused_with_a_file_error(data: bytes, kind: str) -> None:
    for text in (data, isa().encode() + data):
        try:
            items, _sets = read(text, kind, limit=300, chunk=64)
        except FileError as exc:  # X12Error is one
            assert_clean(str(exc))
        else:
            assert_no_control_in_rows(items)


@hsettings(max_examples=60, deadline=None)
@given(
    segment=st.integers(min_value=0, max_value=len(REMIT_835) - 1),
    offset=st.integers(min_value=0, max_value=200),
    char=st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f", "\t"]),
)
def test_a_control_character_anywhere_in_a_set_leaves_the_next_set_loaded(
    segment: int, offset: int, char: str
) -> None:
    body = list(REMIT_835)
    text = body[segment]
    at = len(text.split("*", 1)[0]) + 1 + offset % max(len(text) - 3, 1)  # after the id
    body[segment] = text[:at] + char + text[at:]
    items, sets = read(remit_file(body), "835")
    assert sets == 2
    assert_no_control_in_rows(items)
    assert "EFT0002" in [r["trace_number"] for r in table(items, "x12_remittances")]
    held = rejects(items)
    assert held and all(f"control character U+{ord(char):04X}" in r.reason for r in held)
    for reject in held:
        assert_clean(reject.reason)


# ---------------------------------------------------------------------------------- oversize


def test_oversize_835_segment_rejects_its_set_and_the_next_set_loads() -> None:
    first = replaced(REMIT_835, "N1*PR", "N1*PR*" + "X" * 3000 + "*XV*NAIC1")
    text = remit_file(first)
    for chunk in (CHUNK_SIZE, 256, 7):  # whole, across chunks, and held over many chunks
        items, sets = read(text, "835", chunk=chunk)
        assert sets == 2
        [reject] = rejects(items)
        assert reject.unit == "transaction_set" and reject.unit_key == "EFT0001"
        assert reject.amount == Decimal("230.00")
        assert reject.reason == (
            "835 transaction set 0001 (trace EFT0001) is rejected whole, so that no part of its "
            "payment loads: its header cannot be read: segment 7 (N1) of transaction set 0001 "
            "is longer than 2000 bytes; it was not read"
        )
        assert "XXXX" not in reject.original_text and len(reject.original_text) < LIMIT
        assert [r["trace_number"] for r in table(items, "x12_remittances")] == ["EFT0002"]
        assert len(table(items, "x12_remit_claims")) == 2  # the second set's two claims


def test_oversize_835_service_line_is_rejected_alone() -> None:
    first = replaced(REMIT_835, "REF*6R*CHG1", "REF*6R*" + "Y" * 5000)
    items, _sets = read(remit_file(first), "835")
    [reject] = rejects(items)
    assert reject.unit == "record"
    assert "835 service line 1 of claim 1" in reject.reason
    assert "segment 19 (REF) of transaction set 0001 is longer than 2000 bytes" in reject.reason
    lines = table(items, "x12_remit_service_lines")
    assert [line["charge_id"] for line in lines] == ["CHG2", "CHG3", "CHG1", "CHG2", "CHG3"]


def test_oversize_837_segment_rejects_its_claim_and_the_other_claim_loads() -> None:
    claims = replaced(CLAIMS_837P, "NM1*82", "NM1*82*1*" + "Z" * 4000 + "****XX*1111111111")
    items, _sets = read(interchange("837", [claims], "005010X222A1"), "837")
    [reject] = rejects(items)
    assert (reject.unit, reject.unit_key, reject.amount) == ("claim", "ENC1", Decimal("150.00"))
    assert reject.reason == (
        "claim (CLM at segment 14) cannot be mapped: segment 18 (NM1) of transaction set 0001 "
        "is longer than 2000 bytes; it was not read"
    )
    assert [c["account_id"] for c in table(items, "x12_claims")] == ["ENC2"]


def test_oversize_segment_of_a_subscriber_rejects_only_the_claims_under_it() -> None:
    other = ["HL*3*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*" + "Q" * 3000 + "****MI*M999",
             "NM1*PR*2*ACME HEALTH*****PI*PAYER1", "CLM*ENC7*10.00***11:B:1*Y*A*Y*Y",
             "LX*1", "SV1*HC:J1100*10.00*UN*1***1", "DTP*472*D8*20240115"]
    items, _sets = read(interchange("837", [CLAIMS_837P + other], "005010X222A1"), "837")
    [reject] = rejects(items)
    assert (reject.unit, reject.unit_key) == ("claim", "ENC7")
    assert "segment 43 (NM1) of transaction set 0001 is longer than 2000 bytes" in reject.reason
    assert [c["account_id"] for c in table(items, "x12_claims")] == ["ENC1", "ENC2"]


def test_oversize_segment_in_the_837_header_rejects_every_claim_of_its_set() -> None:
    claims = replaced(CLAIMS_837P, "NM1*41", "NM1*41*2*" + "S" * 3000 + "*****46*S1")
    items, _sets = read(interchange("837", [claims], "005010X222A1"), "837")
    assert [r.unit_key for r in rejects(items)] == ["ENC1", "ENC2"]
    assert not table(items, "x12_claims")


def test_oversize_envelope_segment_refuses_the_file() -> None:
    text = remit_file(REMIT_835).replace("ST*835*0002*005010X221A1", "ST*835*0002*" + "V" * 3000)
    with pytest.raises(X12Error) as caught:
        read(text, "835")
    assert str(caught.value).endswith(
        "(ST) is longer than 2000 bytes; it was not read: the envelope cannot be read"
    )


# ---------------------------------------------------------------------------------- control


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\t", "\r", "\n"])
def test_control_character_in_an_835_claim_rejects_its_set(char: str) -> None:
    first = replaced(REMIT_835, "NM1*QC*1*DOE", f"NM1*QC*1*D{char}OE*JANE****MI*M123")
    items, sets = read(remit_file(first), "835")
    assert sets == 2
    [reject] = rejects(items)
    assert reject.unit == "transaction_set" and reject.unit_key == "EFT0001"
    assert reject.reason.endswith(
        "claim 1 (CLP at segment 12) cannot be mapped: segment 14 (NM1) of transaction set 0001 "
        f"holds control character U+{ord(char):04X} in element 3"
    )
    assert_clean(reject.reason)
    assert f"D\\x{ord(char):02x}OE" in reject.original_text and char not in reject.original_text
    assert_no_control_in_rows(items)
    assert [r["trace_number"] for r in table(items, "x12_remittances")] == ["EFT0002"]


def test_control_character_in_an_835_service_line_rejects_the_line_alone() -> None:
    first = replaced(REMIT_835, "REF*6R*CHG2", "REF*6R*CH\x00G2")
    items, _sets = read(remit_file(first), "835")
    [reject] = rejects(items)
    assert reject.unit == "record" and "835 service line 2 of claim 1" in reject.reason
    assert "segment 23 (REF) of transaction set 0001 holds control character U+0000" in (
        reject.reason
    )
    assert len(table(items, "x12_remittances")) == 2
    assert_no_control_in_rows(items)


def test_control_character_in_an_837_claim_rejects_the_claim_without_its_key() -> None:
    claims = replaced(CLAIMS_837P, "CLM*ENC2", "CLM*EN\x00C2*75.00***11:B:7*Y*A*Y*Y")
    items, _sets = read(interchange("837", [claims], "005010X222A1"), "837")
    [reject] = rejects(items)
    assert (reject.unit, reject.unit_key, reject.amount) == ("claim", None, None)
    assert "holds control character U+0000 in element 1" in reject.reason
    assert [c["account_id"] for c in table(items, "x12_claims")] == ["ENC1"]
    assert_no_control_in_rows(items)


def test_control_characters_that_are_the_files_delimiters_load() -> None:
    canonical = remit_file(REMIT_835)
    own = redelimit(canonical, "\x1d", "\x1f", "\x1e", "\x1c")
    expected, _ = read(canonical, "835")
    items, _ = read(own, "835")
    assert not rejects(items)
    assert table(items, "x12_remit_claims") == table(expected, "x12_remit_claims")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ST*835*0002", "ST*835*00\x002", "segment 31 (ST) holds control character U+0000"),
        ("GS*HP", "GS*H\x07P", "segment 2 (GS) holds control character U+0007"),
        ("SENDER   ", "SEN\x00DER  ", "ISA segment holds control character U+0000"),
    ],
)
def test_control_character_in_the_envelope_refuses_the_file(
    old: str, new: str, message: str
) -> None:
    with pytest.raises(X12Error) as caught:
        read(remit_file(REMIT_835).replace(old, new, 1), "835")
    assert message in str(caught.value)
    assert_clean(str(caught.value))


# ---------------------------------------------------------------------------------- ISA


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (isa()[:50], "record 1: ISA segment is truncated (50 of 106 characters)"),
        (isa().replace("SENDER         ", "SENDER") + "GS*HP*S*R*20240131*1200~",
         "record 1: ISA segment is not 106 characters with its element separator at the fixed "
         "positions (bad envelope or delimiters)"),
        (isa().replace(":~", "*~") + "GS~",
         "record 1: ISA delimiters are not distinct non-alphanumeric characters"),
        (isa().replace("^", ":") + "GS~",
         "record 1: ISA delimiters are not distinct non-alphanumeric characters"),
        (isa()[:-1] + "A", "record 1: ISA delimiters are not distinct non-alphanumeric characters"),
        ("\x00" * 200, "record 1: the file does not start with an ISA segment"),
    ],
)
def test_broken_isa_refuses_the_file_with_one_line(text: str, message: str) -> None:
    with pytest.raises(X12Error) as caught:
        read(text, "835")
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------- ingest


def test_ingest_loads_the_clean_sets_and_quarantines_an_unterminated_file(
    billops_home: Settings,
) -> None:
    nul = replaced(REMIT_835, "NM1*QC*1*DOE", "NM1*QC*1*D\x00OE*JANE****MI*M123")
    write_batch(billops_home.landing, "rcm", B1, {"835/remit.x12": remit_file(nul)})
    broken = remit_file(REMIT_835).split("CLP*ENC1", 1)[0] + "CLP*" + "W" * 1_100_000
    write_batch(billops_home.landing, "rcm", B2, {"835/remit.x12": broken})
    report = ingest(settings=billops_home)
    batches = dict(query(billops_home, "select batch_id, status from raw._batches"))
    assert batches == {B1: "LOADED", B2: "QUARANTINED"}
    [(reason,)] = query(billops_home, "select reason from raw._batches "
                                      "where status = 'QUARANTINED'")
    assert (
        "835/remit.x12: record 12: segment 12 is longer than 1000000 bytes and the file ends "
        "before its terminator"
    ) in reason
    assert_clean(reason)
    assert query(billops_home, "select trace_number from raw.x12_remittances") == [("EFT0002",)]
    [(unit, key, text, why)] = query(
        billops_home, "select unit, unit_key, original_text, reason from raw._rejects")
    assert (unit, key) == ("transaction_set", "EFT0001")
    assert "\x00" not in text and "holds control character U+0000 in element 3" in why
    for message in report.messages:
        assert_clean(message)
    for name in ("x12_remittances", "x12_remit_claims", "x12_remit_service_lines"):
        columns = [c for (c,) in query(
            billops_home, "select column_name from information_schema.columns "
                          "where table_schema = 'raw' and table_name = ? "
                          "and data_type = 'VARCHAR'", [name])]
        for column in columns:
            assert not query(billops_home, f"select 1 from raw.{name} "
                                           f"where strpos({column}, chr(0)) > 0")
    validation = validate_pending(billops_home, workers=1)
    assert validation.invalid == 1
    [(errors,)] = query(billops_home, "select errors from raw._x12_validation")
    assert "\x00" not in errors and not [v for v in PHI if v in errors]


# ---------------------------------------------------------------------------------- pyx12


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "A" * (2 << 20),
        remit_file(replaced(REMIT_835, "NM1*QC*1*DOE", "NM1*QC*1*DOE\x00*JANE****MI*M123")),
        remit_file(replaced(REMIT_835, "N1*PR", "N1*PR*" + "X" * (2 << 20))),
        remit_file(replaced(REMIT_835, "N1*PR", "N1*PR*" + "^" * (1 << 20))),
        isa()[:50],
        isa().replace("SENDER         ", "SENDER") + "GS*HP*S~",
        isa().replace(":~", "*~") + "GS*HP~",
        isa() + bytes(range(256)).decode("latin-1") * 400,
    ],
    ids=["unterminated", "NUL", "oversize", "repetitions", "truncated ISA", "short ISA",
         "bad delimiters", "noise"],
)
def test_pyx12_validation_gives_invalid_with_one_line_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hostile.x12"
    path.write_text(text, encoding="utf-8")
    result = validate_x12(path)
    assert result.status == INVALID and result.errors
    for error in result.errors:
        assert_clean(str(error.get("message", "")))
    invalid_utf8 = tmp_path / "binary.x12"
    invalid_utf8.write_bytes(isa().encode() + b"\xff\xfe\x00" * 1000)
    assert validate_x12(invalid_utf8).status == INVALID


def test_pyx12_error_messages_are_kept_on_one_line_without_control_characters() -> None:
    doc = {"interchanges": [{"cur_line": 1, "errors": [
        {"err_cde": "6", "err_str": "Data element contains\nan invalid character (\x00) DOE",
         "err_val": "DOE"}]}]}
    [error] = flatten_errors(doc)
    assert error["message"] == "Data element contains an invalid character (\\x00) …"


@pytest.mark.parametrize("fill", ["\x00", "\x1a", " \r\n"])
def test_fill_after_the_last_segment_is_tolerated_however_long(fed: list[int], fill: str) -> None:
    text = remit_file(REMIT_835) + fill * (3 * CHUNK_SIZE)
    items, sets = read(text, "835")  # the fill is longer than the cap and several chunks
    assert sets == 2 and not rejects(items)
    assert sum(fed) <= 2 * len(text)
