"""X12 5010: a streaming tokenizer, the ISA/GS/ST envelope, and the 837 and 835 extractors.

Tokenizing (:mod:`billops.sources.x12_tokenizer`). Delimiters come from each ISA segment;
padding between segments and a missing terminator after the last IEA are tolerated; the time is
linear in the input whatever it holds. A segment longer than ``settings.max_record_bytes`` or
with a control character (C0 or DEL other than the file's delimiters) in an element is a
:class:`FlawedSegment`: never loaded, its unit is rejected (below), and the reason names the
transaction set, the segment number and the problem, never a value. A file that ends inside an
oversize segment cannot be resynchronised and is an :class:`X12Error`.

Envelope. ST..SE transaction sets are yielded one at a time. SE01 (segment count), GE01 and IEA01
(counts) and the ST/SE, GS/GE and ISA/IEA control numbers are checked; a disagreement is an
:class:`X12Error`, a file-level error.

Extraction follows loops by segment id and the HL hierarchy (20 billing provider, 22 subscriber,
23 patient). Units of rejection (each a :class:`Reject` with its ``unit``):

* 837: the claim (2300 loop with its lines), ``unit="claim"``, ``unit_key`` CLM01, ``amount``
  CLM02 when readable; the claims beside it load. A diagnosis without a code is a ``record``.
* 835: the transaction set. Its rows are all built before any is handed on, and a header
  (BPR/TRN/N1/DTM*405), a claim at claim level (CLP, claim CAS, claim DTM, empty CLP01) or a
  PLB that cannot be mapped makes the whole set one Reject, ``unit="transaction_set"``,
  ``unit_key`` TRN02 (None without one) and ``amount`` BPR02 when readable: a payment never
  loads in part. An 835 without a trace number (TRN02) is rejected so too, since every row of
  it is keyed by the trace.
* 835 service line (SVC with its DTM/CAS/REF): a malformed line is rejected on its own,
  ``unit="record"``, and the rest of its claim loads (as pyx12 keeps the claim). Its
  adjustments go with it; the other lines keep ``line_seq`` = their SVC's place in the claim.
* A flawed segment rejects the smallest of these units holding it: its 837 claim (or every claim
  under its HL level, or of its set when it is in the set's header), its 835 service line when
  it is in one, else its 835 transaction set. A flawed ST, SE, GS, GE or IEA is an X12Error.

Every 835 claim is its own x12_remit_claims row, numbered ``claim_seq`` in its set: several
claims may share one CLP01 (a reversal and its correction), so no row is keyed by CLP01 alone.
Reasons carry no PHI: no names, member ids, account numbers or claim and service dates.

Choices where the guides leave room: ``x12_claims.patient_id`` is 2300 REF*EA (medical record
number); ``claim_type`` is ``P`` (837P, X222) or ``I`` (837I, X223); ``modifiers`` are the
procedure modifiers joined with ``,``; statement dates come from 2300 DTP*434; the 835
``payer_id`` is N1*PR N104, else the 1000A REF*2U, else TRN03 (the originating company id, also
kept as ``originator_id``), and ``payer_name`` is N1*PR N102 (a payer still missing is resolved
downstream through the matching 837 claim); ``payee_npi`` is N1*PE N104 when N103 is XX; the
835 claim ``member_id`` is NM1*IL NM109, else NM1*QC NM109; ``paid_date`` is claim DTM*232, else
DTM*050, else BPR16; an 835 service line's ``service_date`` is DTM*472, else DTM*150. Optional
segments (N1*PE, DTM*405, REF*2U, NM1*IL, line DTM, CAS) may be absent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from billops.sources import ReadLimits, RecordError, Reject, Row, SourceReader
from billops.sources.values import to_decimal
from billops.sources.x12_tokenizer import (
    CHUNK_SIZE,
    ISA_LENGTH,
    Delimiters,
    FlawedSegment,
    Segment,
    X12Error,
    iter_segments,
    read_chunks,
)

__all__ = [
    "CHUNK_SIZE",
    "EXTRACTORS",
    "ISA_LENGTH",
    "Delimiters",
    "FlawedSegment",
    "Segment",
    "TransactionSet",
    "X12Error",
    "extract_835",
    "extract_837",
    "iter_segments",
    "iter_transaction_sets",
    "read_chunks",
    "read_transaction_sets",
    "read_x12",
]


# ---------------------------------------------------------------------------------- envelope


@dataclass(slots=True)
class TransactionSet:
    """One ST..SE transaction set with its envelope identifiers."""

    kind: str  # ST01: 837, 835, ...
    control_number: str  # ST02
    implementation: str  # ST03, else GS08
    interchange_control_number: str  # ISA13
    segments: list[Segment] = field(default_factory=list)  # ST..SE inclusive

    @property
    def number(self) -> int:
        return self.segments[0].number

    @property
    def body(self) -> list[Segment]:
        return self.segments[1:-1]

    def flawed(self) -> list[Segment]:
        """Its segments that must not load (oversize, control characters); usually none."""
        return [seg for seg in self.segments if seg.problem is not None]

    def flaw(self, seg: Segment) -> str:
        """Why ``seg`` of this set does not load, for a reject reason (no value in it)."""
        return (
            f"segment {seg.number} ({seg.id}) of transaction set {self.control_number} "
            f"{seg.problem}"
        )


def _same_control(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return int(a) == int(b) if a.isdigit() and b.isdigit() else a == b


def _count(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


_ENVELOPE_IDS = frozenset({"SE", "ST", "GS", "GE", "ISA", "IEA"})


def iter_transaction_sets(
    segments: Iterable[Segment], errors: list[X12Error] | None = None
) -> Iterator[TransactionSet]:
    """ST..SE sets of a segment stream, with the envelope checked.

    An envelope error raises :class:`X12Error`; when ``errors`` is a list the error is appended
    there instead and reading goes on (for diagnostics and tests of third-party files).
    """

    def fail(reason: str, seg: Segment | None) -> None:
        error = X12Error(reason, seg.number if seg else None)
        if errors is None:
            raise error
        errors.append(error)

    isa: Segment | None = None
    gs: Segment | None = None
    current: TransactionSet | None = None
    groups = sets = interchanges = 0
    last: Segment | None = None
    for seg in segments:
        last = seg
        if current is not None and seg.id not in _ENVELOPE_IDS:
            current.segments.append(seg)
            continue
        if seg.problem is not None:
            fail(f"segment {seg.number} ({seg.id}) {seg.problem}: the envelope cannot be read", seg)
        if current is not None and seg.id != "SE":
            fail(f"{seg.id} inside transaction set {current.control_number} (SE missing)", seg)
            current = None
        if seg.id == "ISA":
            if isa is not None:
                fail(f"ISA before the IEA of interchange {isa[13]}", seg)
            isa, gs, groups, interchanges = seg, None, 0, interchanges + 1
        elif seg.id == "GS":
            if isa is None or gs is not None:
                fail("GS outside an interchange or before the previous GE", seg)
            gs, sets, groups = seg, 0, groups + 1
        elif seg.id == "ST":
            if gs is None or isa is None:
                fail("ST outside a functional group", seg)
            sets += 1
            implementation = seg[3] or (gs[8] if gs else "")
            current = TransactionSet(seg[1], seg[2], implementation, isa[13] if isa else "", [seg])
        elif seg.id == "SE":
            if current is None:
                fail("SE without ST", seg)
                continue
            current.segments.append(seg)
            if _count(seg[1]) != len(current.segments):
                fail(
                    f"SE01 of transaction set {current.control_number} says {seg[1]!r} "
                    f"segments, found {len(current.segments)}",
                    seg,
                )
            if not _same_control(seg[2], current.control_number):
                fail(f"SE02 {seg[2]!r} does not match ST02 {current.control_number!r}", seg)
            yield current
            current = None
        elif seg.id == "GE":
            if gs is None:
                fail("GE without GS", seg)
                continue
            if _count(seg[1]) != sets:
                fail(f"GE01 of group {gs[6]} says {seg[1]!r} transaction sets, found {sets}", seg)
            if not _same_control(seg[2], gs[6]):
                fail(f"GE02 {seg[2]!r} does not match GS06 {gs[6]!r}", seg)
            gs = None
        elif seg.id == "IEA":
            if isa is None or gs is not None:
                fail("IEA without ISA, or before the GE of its group", seg)
                isa = gs = None
                continue
            if _count(seg[1]) != groups:
                fail(f"IEA01 of interchange {isa[13]} says {seg[1]!r} groups, found {groups}", seg)
            if not _same_control(seg[2], isa[13]):
                fail(f"IEA02 {seg[2]!r} does not match ISA13 {isa[13]!r}", seg)
            isa = None
        else:
            fail(f"{seg.id} outside a transaction set", seg)
    if interchanges == 0:
        fail("no ISA segment: the file is empty or not X12", None)
    if current is not None:
        fail(f"file ends inside transaction set {current.control_number} (SE missing)", last)
    if gs is not None:
        fail("file ends inside a functional group (GE missing)", last)
    if isa is not None:
        fail("file ends inside an interchange (IEA missing)", last)


def read_transaction_sets(
    source: Path | BinaryIO, errors: list[X12Error] | None = None, max_bytes: int | None = None
) -> Iterator[TransactionSet]:
    """Transaction sets of an X12 file (a path or a binary file already open), streamed;
    ``max_bytes`` caps a segment (default ``settings.max_record_bytes``)."""
    return iter_transaction_sets(iter_segments(read_chunks(source), max_bytes), errors)


# ---------------------------------------------------------------------------------- values


# Parsed dates and amounts by their text: feeds repeat the same few values (service dates,
# prices, adjustment amounts) thousands of times. Only values that parse are kept; bounded.
_CACHE_LIMIT = 1 << 16
_DATES: dict[str, date] = {}
_AMOUNTS: dict[str, Decimal] = {}


def _date(value: str, where: str, phi: bool = False) -> date | None:
    """CCYYMMDD, or the start of a CCYYMMDD-CCYYMMDD range; empty is NULL."""
    known = _DATES.get(value)
    if known is not None:
        return known
    text = value.strip()
    if not text:
        return None
    head = text.split("-", 1)[0] if "-" in text else text
    try:
        if len(head) == 8 and head.isdigit():
            parsed = date(int(head[:4]), int(head[4:6]), int(head[6:]))
            if len(_DATES) < _CACHE_LIMIT:
                _DATES[value] = parsed
            return parsed
    except ValueError:
        pass
    raise RecordError(f"{where}: {'the value' if phi else repr(text)} is not a CCYYMMDD date")


def _range_end(value: str, where: str, phi: bool = False) -> date | None:
    if "-" in value:
        return _date(value.split("-", 1)[1], where, phi)
    return _date(value, where, phi)


def _amount(value: str, where: str) -> Decimal | None:
    known = _AMOUNTS.get(value)
    if known is not None:
        return known
    if not value.strip():
        return None
    parsed = to_decimal(value, 18, 2, where)
    if len(_AMOUNTS) < _CACHE_LIMIT:
        _AMOUNTS[value] = parsed
    return parsed


def _readable_amount(value: str) -> Decimal | None:
    """An amount for a Reject's ``amount``: None when it is empty or cannot be read."""
    try:
        return _amount(value, "amount")
    except RecordError:
        return None


def _int(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise RecordError(f"{where}: {value!r} is not a number")
    return int(value)


def _timestamp(day: str, hhmm: str, where: str) -> datetime | None:
    start = _date(day, where)
    if start is None:
        return None
    digits = hhmm.strip()
    if digits and (not digits.isdigit() or len(digits) < 4):
        raise RecordError(f"{where}: time {digits!r} is not HHMM[SS[DD]]")
    hour, minute = (int(digits[:2]), int(digits[2:4])) if digits else (0, 0)
    second = int(digits[4:6]) if len(digits) >= 6 else 0
    try:
        return datetime(start.year, start.month, start.day, hour, minute, second)
    except ValueError as exc:
        raise RecordError(f"{where}: time {digits!r} is not a valid time") from exc


def _text(segments: list[Segment]) -> str:
    return "".join(seg.text for seg in segments)


def _first_flaw(segments: Iterable[Segment]) -> Segment | None:
    return next((seg for seg in segments if seg.problem is not None), None)


def _modifiers(composite: list[str]) -> str | None:
    mods = [m for m in composite[2:6] if m]
    return ",".join(mods) if mods else None


# ---------------------------------------------------------------------------------- 837


# HI qualifiers that carry diagnoses (ICD-10-CM, and ICD-9-CM for old files).
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"})
# Loops that start inside a 2300 claim or 2400 line and hold their own NM1/REF/DTP segments.
_CLAIM_SUBLOOP = frozenset({"NM1", "SBR"})
_LINE_SUBLOOP = frozenset({"NM1", "LIN", "SVD"})


@dataclass
class _HLevel:
    level: str  # HL03: 20 billing provider, 22 subscriber, 23 patient
    parent: str
    values: dict[str, object] = field(default_factory=dict)


def _claim_type(implementation: str, body: list[Segment]) -> str:
    if "X222" in implementation or "X098" in implementation:
        return "P"
    if "X223" in implementation or "X096" in implementation:
        return "I"
    for seg in body:
        if seg.id in ("SV1", "SV2"):
            return "P" if seg.id == "SV1" else "I"
    return ""


class _Claims837:
    """Walks one 837 transaction set and builds its claims."""

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.claim_type = _claim_type(ts.implementation, ts.body)
        self.levels: dict[str, _HLevel] = {}
        self.latest: dict[str, _HLevel] = {}
        self.current: _HLevel | None = None
        self.bht: Segment | None = None
        self.flawed = bool(ts.flawed())
        self.header_flaw: Segment | None = None  # a flawed segment before the first HL

    def rows(self) -> Iterator[Row | Reject]:
        claim: list[Segment] = []
        claim_level: _HLevel | None = None
        for seg in self.ts.body:
            if seg.id in ("HL", "CLM"):
                if claim:
                    yield from self._claim(claim, claim_level)
                    claim = []
                if seg.id == "HL":
                    self._start_level(seg)
                    if seg.problem is not None:
                        self.current.values["_flaw"] = seg  # type: ignore[union-attr]
                else:
                    claim, claim_level = [seg], self.current
            elif claim:
                claim.append(seg)
            elif seg.problem is not None:  # its level's claims, or the set's, are rejected
                if self.current is None:
                    self.header_flaw = self.header_flaw or seg
                else:
                    self.current.values.setdefault("_flaw", seg)
            elif seg.id == "BHT":
                self.bht = seg
            elif self.current is not None:
                self._level_segment(self.current, seg)
        if claim:
            yield from self._claim(claim, claim_level)

    def _start_level(self, seg: Segment) -> None:
        level = _HLevel(seg[3], seg[2])
        self.levels[seg[1]] = level
        self.latest[level.level] = level
        self.current = level

    @staticmethod
    def _level_segment(level: _HLevel, seg: Segment) -> None:
        values = level.values
        if seg.id == "NM1":
            values["_last_nm1"] = seg[1]
            if seg[1] == "85":
                values["billing_provider_name"] = seg[3] or None
                values["billing_provider_npi"] = seg[9] if seg[8] == "XX" and seg[9] else None
            elif seg[1] == "IL":
                values.update(
                    member_id=seg[9] or None,
                    subscriber_last_name=seg[3] or None,
                    subscriber_first_name=seg[4] or None,
                )
            elif seg[1] == "PR":
                values.update(payer_id=seg[9] or None, payer_name=seg[3] or None)
        elif seg.id == "SBR":
            values["payer_responsibility"] = seg[1] or None
        elif seg.id == "DMG" and values.get("_last_nm1") == "IL":
            values["_dmg"] = seg

    def _parent(self, level: _HLevel | None, wanted: str) -> _HLevel | None:
        """The ancestor of ``level`` at HL level ``wanted`` by HL02, else the latest one seen."""
        seen = 0
        node = level
        while node is not None and seen < 10:
            if node.level == wanted:
                return node
            node = self.levels.get(node.parent)
            seen += 1
        return self.latest.get(wanted)

    def _flaw(self, segments: list[Segment], level: _HLevel | None) -> Segment | None:
        """A flawed segment of the claim, of the set's header or of an HL level it is under."""
        found = _first_flaw(segments) or self.header_flaw
        nodes = [self._parent(level, "22"), self._parent(level, "20")]
        node, seen = level, 0
        while node is not None and seen < 10:
            nodes.append(node)
            node, seen = self.levels.get(node.parent), seen + 1
        for node in nodes:
            if found is None and node is not None:
                found = node.values.get("_flaw")  # type: ignore[assignment]
        return found

    def _claim(self, segments: list[Segment], level: _HLevel | None) -> Iterator[Row | Reject]:
        clm = segments[0]
        try:
            rows, rejects = self._map_claim(segments, level)
        except RecordError as exc:
            yield Reject(
                clm.number,
                f"claim (CLM at segment {clm.number}) cannot be mapped: {exc}",
                _text(segments),
                unit="claim",
                unit_key=(clm[1] or None) if clm.problem is None else None,
                amount=_readable_amount(clm[2]) if clm.problem is None else None,
            )
            return
        yield from rows
        yield from rejects

    def _map_claim(
        self, segments: list[Segment], level: _HLevel | None
    ) -> tuple[list[Row], list[Reject]]:
        clm = segments[0]
        if self.flawed:
            flaw = self._flaw(segments, level)
            if flaw is not None:
                raise RecordError(self.ts.flaw(flaw))
        account_id = clm[1]
        if not account_id:
            raise RecordError("CLM01 (patient account number) is empty")
        if level is None:
            raise RecordError("claim is not inside an HL loop")
        subscriber = self._parent(level, "22")
        provider = self._parent(level, "20")
        sub = subscriber.values if subscriber else {}
        prov = provider.values if provider else {}
        dmg = sub.get("_dmg")
        ts = self.ts
        envelope = {
            "interchange_control_number": ts.interchange_control_number,
            "st_control_number": ts.control_number,
        }
        submitted_at = (
            _timestamp(self.bht[4], self.bht[5], "BHT04/BHT05") if self.bht is not None else None
        )
        claim: dict[str, object] = {
            **envelope,
            "implementation": ts.implementation,
            "claim_type": self.claim_type,
            "submitted_at": submitted_at,
            "billing_provider_npi": prov.get("billing_provider_npi"),
            "billing_provider_name": prov.get("billing_provider_name"),
            "payer_id": sub.get("payer_id"),
            "payer_name": sub.get("payer_name"),
            "member_id": sub.get("member_id"),
            "subscriber_last_name": sub.get("subscriber_last_name"),
            "subscriber_first_name": sub.get("subscriber_first_name"),
            "subscriber_birth_date": (
                _date(dmg[2], "DMG02", phi=True)
                if isinstance(dmg, Segment) and dmg[1] == "D8"
                else None
            ),
            "patient_id": None,
            "account_id": account_id,
            "total_charge": _amount(clm[2], "CLM02"),
            "facility_code": clm.component(5, 1) or None,
            "claim_frequency_code": clm.component(5, 3) or None,
            "original_claim_ref": None,
            "prior_auth_number": None,
            "statement_from": None,
            "statement_to": None,
            "payer_responsibility": sub.get("payer_responsibility"),
            "other_payer_id": None,
            "other_payer_paid_amount": None,
        }
        lines: list[Row] = []
        other_payers = 0  # 2320 loops seen; only the first one's payer and amount are kept
        diagnoses: list[Row] = []
        rejects: list[Reject] = []
        in_subloop = False
        line: dict[str, object] | None = None
        line_seg: Segment | None = None
        line_subloop = False

        def close_line() -> None:
            if line is None or line_seg is None:
                return
            if line.get("hcpcs") is None:
                raise RecordError(
                    f"service line LX*{line['line_number']} has no SV1/SV2 procedure code"
                )
            lines.append(Row("x12_claim_lines", line_seg.number, line))

        for seg in segments[1:]:
            if seg.id == "LX":
                close_line()
                line_seg, line_subloop = seg, False
                line = {
                    **envelope,
                    "account_id": account_id,
                    "line_number": _int(seg[1], "LX01"),
                    "charge_id": None,
                    "hcpcs": None,
                    "modifiers": None,
                    "charge_amount": None,
                    "units": None,
                    "service_date": None,
                    "prior_auth_number": None,
                }
                if line["line_number"] is None:
                    raise RecordError(f"LX at segment {seg.number} has no line number")
            elif line is not None:
                if seg.id in _LINE_SUBLOOP:
                    line_subloop = True
                elif line_subloop:
                    continue
                elif seg.id in ("SV1", "SV2"):
                    professional = seg.id == "SV1"
                    composite = seg.components(1 if professional else 2)
                    where = "SV101" if professional else "SV202"
                    if len(composite) < 2 or not composite[1]:
                        raise RecordError(f"{where} has no procedure code")
                    line.update(
                        hcpcs=composite[1],
                        modifiers=_modifiers(composite),
                        charge_amount=_amount(
                            seg[2] if professional else seg[3], "SV102" if professional else "SV203"
                        ),
                        units=_amount(
                            seg[4] if professional else seg[5], "SV104" if professional else "SV205"
                        ),
                    )
                elif seg.id == "DTP" and seg[1] == "472":
                    line["service_date"] = _date(seg[3], "DTP*472", phi=True)
                elif seg.id == "REF" and seg[1] == "6R":
                    line["charge_id"] = seg[2] or None
                elif seg.id == "REF" and seg[1] == "G1":
                    line["prior_auth_number"] = seg[2] or None  # 2400 prior authorization
            elif seg.id in _CLAIM_SUBLOOP:
                in_subloop = True
                if seg.id == "SBR":
                    other_payers += 1
                elif other_payers == 1 and seg[1] == "PR" and claim["other_payer_id"] is None:
                    claim["other_payer_id"] = seg[9] or None
            elif in_subloop:
                if other_payers == 1 and seg.id == "AMT" and seg[1] == "D":
                    claim["other_payer_paid_amount"] = _amount(seg[2], "2320 AMT*D")
                continue
            elif seg.id == "REF":
                key = {
                    "G1": "prior_auth_number",
                    "F8": "original_claim_ref",
                    "EA": "patient_id",
                }.get(seg[1])
                if key:
                    claim[key] = seg[2] or None
            elif seg.id == "DTP" and seg[1] == "434":
                claim["statement_from"] = _date(seg[3], "DTP*434", phi=True)
                claim["statement_to"] = _range_end(seg[3], "DTP*434", phi=True)
            elif seg.id == "HI":
                self._diagnoses(seg, account_id, envelope, diagnoses, rejects)
        close_line()
        return [Row("x12_claims", clm.number, claim), *lines, *diagnoses], rejects

    @staticmethod
    def _diagnoses(
        seg: Segment,
        account_id: str,
        envelope: dict[str, object],
        diagnoses: list[Row],
        rejects: list[Reject],
    ) -> None:
        for index in range(1, len(seg.elements)):
            composite = seg.components(index)
            qualifier = composite[0]
            if qualifier not in DIAGNOSIS_QUALIFIERS:
                continue  # value, occurrence, condition codes and procedures are not diagnoses
            code = composite[1].replace(".", "") if len(composite) > 1 else ""
            if not code:
                rejects.append(
                    Reject(
                        seg.number,
                        f"HI{index:02d}: diagnosis qualifier {qualifier} without a code",
                        seg.text,
                    )
                )
                continue
            diagnoses.append(
                Row(
                    "x12_claim_diagnoses",
                    seg.number,
                    {
                        **envelope,
                        "account_id": account_id,
                        "sequence": len(diagnoses) + 1,
                        "qualifier": qualifier,
                        "code": code,
                    },
                )
            )


def extract_837(ts: TransactionSet) -> Iterator[Row | Reject]:
    """Rows of x12_claims, x12_claim_lines and x12_claim_diagnoses for one 837 set."""
    return _Claims837(ts).rows()


# ---------------------------------------------------------------------------------- 835


# Where an amount or quantity of CAS triple k comes from, for error messages.
_CAS_WHERE = tuple((f"CAS{3 + 3 * k:02d}", f"CAS{4 + 3 * k:02d}") for k in range(6))
_DTM_WHERE = {code: f"DTM*{code}" for code in ("472", "150", "232", "050")}


def _cas_rows(seg: Segment, base: dict[str, object], start: int) -> list[dict[str, object]]:
    """Every group/reason/amount/quantity triple of a CAS segment."""
    group = seg[1]
    if not group:
        raise RecordError(f"CAS at segment {seg.number} has no group code")
    rows = []
    elements = seg.elements
    count = len(elements)
    for k in range(min(6, count // 3)):  # the triples present: CAS02-04 .. CAS17-19
        i = 2 + 3 * k
        reason = elements[i]
        amount = elements[i + 1] if i + 1 < count else ""
        quantity = elements[i + 2] if i + 2 < count else ""
        if not (reason or amount or quantity):
            continue
        if not reason or not amount:
            raise RecordError(
                f"CAS at segment {seg.number}: adjustment {k + 1} lacks a reason code or amount"
            )
        where_amount, where_quantity = _CAS_WHERE[k]
        rows.append(
            {
                **base,
                "adj_seq": start + len(rows),
                "group_code": group,
                "reason_code": reason,
                "amount": _amount(amount, where_amount),
                "quantity": _amount(quantity, where_quantity),
            }
        )
    return rows


class _SetRejected(Exception):
    """The 835 transaction set cannot be loaded; ``why`` says where (never a PHI value)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


# Segments of an 835 2110 service-line loop after its SVC.
_LineGroup = list[Segment]


class _Remittance835:
    """Walks one 835 transaction set: header, CLP claims and PLB adjustments.

    Every row of the set is built before any is handed on: a header, claim or PLB that cannot be
    mapped makes the whole set one Reject (unit ``transaction_set``), so a payment never loads
    in part. A malformed service line is the exception: it is rejected on its own (unit
    ``record``) and its claim loads without it.
    """

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.envelope: dict[str, object] = {
            "interchange_control_number": ts.interchange_control_number,
            "st_control_number": ts.control_number,
        }
        self.trace = ""
        self.payment: Decimal | None = None  # BPR02 when readable, for a Reject
        self.bpr16: date | None = None
        self.flawed = bool(ts.flawed())

    def _reject_set(self, why: str) -> Reject:
        trace = f" (trace {self.trace})" if self.trace else ""
        return Reject(
            self.ts.number,
            f"835 transaction set {self.ts.control_number}{trace} is rejected whole, so that "
            f"no part of its payment loads: {why}",
            _text(self.ts.segments),
            unit="transaction_set",
            unit_key=self.trace or None,
            amount=self.payment,
        )

    def rows(self) -> Iterator[Row | Reject]:
        body = self.ts.body
        first = next((i for i, s in enumerate(body) if s.id in ("LX", "CLP", "PLB")), len(body))
        header, rest = body[:first], body[first:]
        trn = next((s for s in header if s.id == "TRN"), None)
        bpr = next((s for s in header if s.id == "BPR"), None)
        if bpr is not None and bpr.problem is None:
            self.payment = _readable_amount(bpr[2])
        if self.flawed:
            flawed = _first_flaw(header)
            if flawed is not None:
                self.trace = trn[2] if trn is not None and trn.problem is None else ""
                yield self._reject_set(f"its header cannot be read: {self.ts.flaw(flawed)}")
                return
        if trn is None or not trn[2]:
            yield self._reject_set("it has no TRN02 trace number, which keys every row of it")
            return
        self.trace = trn[2]
        self.envelope["trace_number"] = self.trace
        try:
            items = self._items(header, bpr, trn, rest)
        except _SetRejected as exc:
            yield self._reject_set(exc.why)
            return
        yield from items

    def _items(
        self, header: list[Segment], bpr: Segment | None, trn: Segment, rest: list[Segment]
    ) -> list[Row | Reject]:
        where = bpr or trn
        try:
            items: list[Row | Reject] = [
                Row("x12_remittances", where.number, self._header(header, bpr, trn))
            ]
        except RecordError as exc:
            raise _SetRejected(f"its header (BPR, TRN, N1) cannot be mapped: {exc}") from exc
        claim_seq = plb_seq = 0
        claim: list[Segment] = []
        for seg in rest:
            if seg.id in ("CLP", "LX", "PLB") and claim:
                items.extend(self._claim(claim, claim_seq))
                claim = []
            if seg.id == "CLP":
                claim_seq += 1
                claim = [seg]
            elif claim:
                claim.append(seg)
            elif seg.id == "PLB":
                plb_seq += 1
                items.extend(self._plb(seg, plb_seq))
            elif seg.problem is not None:
                raise _SetRejected(self.ts.flaw(seg))
        if claim:
            items.extend(self._claim(claim, claim_seq))
        return items

    def _header(
        self, header: list[Segment], bpr: Segment | None, trn: Segment
    ) -> dict[str, object]:
        if bpr is None:
            raise RecordError("no BPR segment")
        values: dict[str, object] = {
            **self.envelope,
            "payment_amount": _amount(bpr[2], "BPR02"),
            "credit_debit": bpr[3] or None,
            "payment_method": bpr[4] or None,
            "payment_date": _date(bpr[16], "BPR16"),
            "payer_id": None,
            "payer_name": None,
            "payee_npi": None,
            "payee_name": None,
            "production_date": None,
            "originator_id": trn[3] or None,
        }
        self.bpr16 = values["payment_date"]  # type: ignore[assignment]
        n1 = ""
        payer_ref = None
        for seg in header:
            if seg.id == "N1":
                n1 = seg[1]
                if n1 == "PR":
                    values.update(payer_name=seg[2] or None, payer_id=seg[4] or None)
                elif n1 == "PE":
                    values.update(
                        payee_name=seg[2] or None,
                        payee_npi=seg[4] if seg[3] == "XX" and seg[4] else None,
                    )
            elif seg.id == "REF" and n1 == "PR" and seg[1] == "2U" and seg[2]:
                payer_ref = payer_ref or seg[2]
            elif seg.id == "DTM" and seg[1] == "405":
                values["production_date"] = _date(seg[2], "DTM*405")
        # The payer: N1*PR N104, else its REF*2U, else the originating company (TRN03).
        values["payer_id"] = values["payer_id"] or payer_ref or values["originator_id"]
        return values

    def _claim(self, segments: list[Segment], claim_seq: int) -> list[Row | Reject]:
        clp = segments[0]
        try:
            return self._map_claim(segments, claim_seq)
        except RecordError as exc:
            raise _SetRejected(
                f"claim {claim_seq} (CLP at segment {clp.number}) cannot be mapped: {exc}"
            ) from exc

    def _map_claim(self, segments: list[Segment], claim_seq: int) -> list[Row | Reject]:
        clp = segments[0]
        if self.flawed:  # at claim level (before the first SVC) the set is rejected
            flawed = _first_flaw(itertools.takewhile(lambda seg: seg.id != "SVC", segments))
            if flawed is not None:
                raise RecordError(self.ts.flaw(flawed))
        account_id = clp[1]
        if not account_id:
            raise RecordError("CLP01 (patient account number) is empty")
        base = {**self.envelope, "claim_seq": claim_seq, "account_id": account_id}
        claim: dict[str, object] = {
            **base,
            "claim_status_code": clp[2] or None,
            "charge_amount": _amount(clp[3], "CLP03"),
            "paid_amount": _amount(clp[4], "CLP04"),
            "patient_responsibility_amount": _amount(clp[5], "CLP05"),
            "claim_filing_indicator": clp[6] or None,
            "payer_claim_control_number": clp[7] or None,
            "facility_code": clp[8] or None,
            "claim_frequency_code": clp[9] or None,
            "patient_last_name": None,
            "patient_first_name": None,
            "member_id": None,
            "paid_date": None,
        }
        claim_dates: dict[str, date | None] = {}
        qc_member = il_member = None
        adjustments: list[Row] = []
        lines: list[_LineGroup] = []
        for seg in segments[1:]:
            sid = seg.id
            if sid == "SVC":
                lines.append([seg])
            elif lines:
                lines[-1].append(seg)  # 2110: DTM, CAS, REF, AMT, QTY, LQ of the line
            elif sid == "NM1":
                qualifier = seg[1]
                if qualifier == "QC":
                    claim["patient_last_name"] = seg[3] or None
                    claim["patient_first_name"] = seg[4] or None
                    qc_member = seg[9] or None
                elif qualifier == "IL":
                    il_member = seg[9] or None
            elif sid == "DTM":
                code = seg[1]
                if code in ("232", "050"):
                    claim_dates.setdefault(code, _date(seg[2], _DTM_WHERE[code], phi=True))
            elif sid == "CAS":
                start = len(adjustments) + 1
                for values in _cas_rows(seg, {**base, "line_seq": 0, "charge_id": None}, start):
                    adjustments.append(Row("x12_remit_adjustments", seg.number, values))
        claim["member_id"] = il_member or qc_member
        claim["paid_date"] = claim_dates.get("232") or claim_dates.get("050") or self.bpr16
        rows: list[Row | Reject] = [Row("x12_remit_claims", clp.number, claim), *adjustments]
        rejects: list[Reject] = []
        for line_seq, group in enumerate(lines, start=1):
            try:
                flawed = _first_flaw(group) if self.flawed else None
                if flawed is not None:
                    raise RecordError(self.ts.flaw(flawed))
                rows.extend(self._map_line(group, base, line_seq))
            except RecordError as exc:
                svc = group[0]
                rejects.append(
                    Reject(
                        svc.number,
                        f"835 service line {line_seq} of claim {claim_seq} (SVC at segment "
                        f"{svc.number}, trace {self.trace}) cannot be mapped and is left out; "
                        f"the rest of its claim loads: {exc}",
                        _text(group),
                    )
                )
        return rows + rejects

    @staticmethod
    def _map_line(group: _LineGroup, base: dict[str, object], line_seq: int) -> list[Row]:
        """The service-line row and its CAS rows; ``line_seq`` is the SVC's place in its claim."""
        svc = group[0]
        composite = svc.components(1)
        if len(composite) < 2 or not composite[1]:
            raise RecordError("SVC01 has no procedure code")
        line: dict[str, object] = {
            **base,
            "line_seq": line_seq,
            "charge_id": None,
            "procedure_qualifier": composite[0] or None,
            "procedure_code": composite[1],
            "modifiers": _modifiers(composite),
            "charge_amount": _amount(svc[2], "SVC02"),
            "paid_amount": _amount(svc[3], "SVC03"),
            "units_paid": _amount(svc[5], "SVC05"),
            "service_date": None,
        }
        dates: dict[str, date | None] = {}
        adjustments: list[tuple[Segment, dict[str, object]]] = []
        for seg in group[1:]:
            sid = seg.id
            if sid == "DTM":
                code = seg[1]
                if code in ("472", "150"):
                    dates.setdefault(code, _date(seg[2], _DTM_WHERE[code], phi=True))
            elif sid == "REF" and seg[1] == "6R":
                line["charge_id"] = seg[2] or None
            elif sid == "CAS":
                cas_base = {**base, "line_seq": line_seq, "charge_id": None}
                for values in _cas_rows(seg, cas_base, len(adjustments) + 1):
                    adjustments.append((seg, values))
        line["service_date"] = dates.get("472") or dates.get("150")
        rows = [Row("x12_remit_service_lines", svc.number, line)]
        for cas, values in adjustments:
            values["charge_id"] = line["charge_id"]  # REF*6R may follow the line's CAS
            rows.append(Row("x12_remit_adjustments", cas.number, values))
        return rows

    def _plb(self, seg: Segment, plb_seq: int) -> list[Row]:
        try:
            if seg.problem is not None:
                raise RecordError(self.ts.flaw(seg))
            base = {
                **self.envelope,
                "plb_seq": plb_seq,
                "provider_id": seg[1] or None,
                "fiscal_period_date": _date(seg[2], "PLB02"),
            }
            rows = []
            for k in range(6):
                reason, amount = seg[3 + 2 * k], seg[4 + 2 * k]
                if not (reason or amount):
                    continue
                composite = reason.split(seg.delimiters.component)
                if not composite[0] or not amount:
                    raise RecordError(f"adjustment {k + 1} lacks a reason code or amount")
                rows.append(
                    Row(
                        "x12_remit_plb",
                        seg.number,
                        {
                            **base,
                            "adj_seq": len(rows) + 1,
                            "reason_code": composite[0],
                            "reference_id": composite[1]
                            if len(composite) > 1 and composite[1]
                            else None,
                            "amount": _amount(amount, f"PLB{4 + 2 * k:02d}"),
                        },
                    )
                )
        except RecordError as exc:
            raise _SetRejected(
                f"PLB {plb_seq} (segment {seg.number}) cannot be mapped: {exc}"
            ) from exc
        return rows


def extract_835(ts: TransactionSet) -> Iterator[Row | Reject]:
    """Rows of the x12_remit* tables for one 835 set."""
    return _Remittance835(ts).rows()


# ---------------------------------------------------------------------------------- reader

EXTRACTORS = {"837": extract_837, "835": extract_835}


def read_x12(path: Path | BinaryIO, kind: str, limits: ReadLimits | None = None) -> SourceReader:
    """Reader of one X12 file of ``kind`` (837 or 835), a path or a binary file already open;
    returns the transaction-set count. ``limits.max_record_bytes`` caps a segment (default: the
    settings').

    A transaction set of another kind is rejected; tokenizer and envelope errors raise X12Error.
    """
    sets = 0
    max_bytes = limits.max_record_bytes if limits is not None else None
    for ts in read_transaction_sets(path, max_bytes=max_bytes):
        sets += 1
        if ts.kind != kind:
            yield Reject(
                ts.number,
                f"transaction set {ts.control_number} is a {ts.kind or '?'}, expected {kind}",
                _text(ts.segments),
                unit="transaction_set",
            )
            continue
        yield from EXTRACTORS[kind](ts)
    return sets
