"""The X12 envelope: ISA/GS/ST..SE/GE/IEA nesting, trailer counts and control numbers.

ST..SE transaction sets are yielded one at a time. SE01 (segment count), GE01 and IEA01 (counts)
and the ST/SE, GS/GE and ISA/IEA control numbers are checked; a disagreement is an
:class:`X12Error`, a file-level error (or, for diagnostics, an entry in a list of errors).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from billops.sources.x12.tokenizer import Segment, X12Error, iter_segments, read_chunks

_ENVELOPE_IDS = frozenset({"SE", "ST", "GS", "GE", "ISA", "IEA"})


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

    def control_columns(self) -> dict[str, object]:
        """The envelope columns every row read from the set carries (ISA13, ST02)."""
        return {
            "interchange_control_number": self.interchange_control_number,
            "st_control_number": self.control_number,
        }

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


class _Envelope:
    """Where a segment stream is in its ISA/GS/ST nesting, with the counts its trailers must
    match. Reads the envelope segments (and any segment outside a transaction set)."""

    def __init__(self, errors: list[X12Error] | None) -> None:
        self.errors = errors
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.current: TransactionSet | None = None  # the set between its ST and SE
        self.groups = self.sets = self.interchanges = 0

    def fail(self, reason: str, seg: Segment | None) -> None:
        error = X12Error(reason, seg.number if seg else None)
        if self.errors is None:
            raise error
        self.errors.append(error)

    def read(self, seg: Segment) -> TransactionSet | None:
        """Reads ``seg``; returns the transaction set it closes when it is an SE."""
        if seg.problem is not None:
            self.fail(
                f"segment {seg.number} ({seg.id}) {seg.problem}: the envelope cannot be read", seg
            )
        if self.current is not None and seg.id != "SE":
            self.fail(
                f"{seg.id} inside transaction set {self.current.control_number} (SE missing)", seg
            )
            self.current = None
        sid = seg.id
        if sid == "ISA":
            self._isa(seg)
        elif sid == "GS":
            self._gs(seg)
        elif sid == "ST":
            self._st(seg)
        elif sid == "SE":
            return self._se(seg)
        elif sid == "GE":
            self._ge(seg)
        elif sid == "IEA":
            self._iea(seg)
        else:
            self.fail(f"{seg.id} outside a transaction set", seg)
        return None

    def _isa(self, seg: Segment) -> None:
        if self.isa is not None:
            self.fail(f"ISA before the IEA of interchange {self.isa[13]}", seg)
        self.isa, self.gs, self.groups = seg, None, 0
        self.interchanges += 1

    def _gs(self, seg: Segment) -> None:
        if self.isa is None or self.gs is not None:
            self.fail("GS outside an interchange or before the previous GE", seg)
        self.gs, self.sets = seg, 0
        self.groups += 1

    def _st(self, seg: Segment) -> None:
        isa, gs = self.isa, self.gs
        if gs is None or isa is None:
            self.fail("ST outside a functional group", seg)
        self.sets += 1
        self.current = TransactionSet(
            kind=seg[1],
            control_number=seg[2],
            implementation=seg[3] or (gs[8] if gs else ""),
            interchange_control_number=isa[13] if isa else "",
            segments=[seg],
        )

    def _se(self, seg: Segment) -> TransactionSet | None:
        current = self.current
        if current is None:
            self.fail("SE without ST", seg)
            return None
        current.segments.append(seg)
        if _count(seg[1]) != len(current.segments):
            self.fail(
                f"SE01 of transaction set {current.control_number} says {seg[1]!r} "
                f"segments, found {len(current.segments)}",
                seg,
            )
        if not _same_control(seg[2], current.control_number):
            self.fail(f"SE02 {seg[2]!r} does not match ST02 {current.control_number!r}", seg)
        self.current = None
        return current

    def _ge(self, seg: Segment) -> None:
        gs = self.gs
        if gs is None:
            self.fail("GE without GS", seg)
            return
        if _count(seg[1]) != self.sets:
            self.fail(
                f"GE01 of group {gs[6]} says {seg[1]!r} transaction sets, found {self.sets}", seg
            )
        if not _same_control(seg[2], gs[6]):
            self.fail(f"GE02 {seg[2]!r} does not match GS06 {gs[6]!r}", seg)
        self.gs = None

    def _iea(self, seg: Segment) -> None:
        isa = self.isa
        if isa is None or self.gs is not None:
            self.fail("IEA without ISA, or before the GE of its group", seg)
            self.isa = self.gs = None
            return
        if _count(seg[1]) != self.groups:
            self.fail(
                f"IEA01 of interchange {isa[13]} says {seg[1]!r} groups, found {self.groups}", seg
            )
        if not _same_control(seg[2], isa[13]):
            self.fail(f"IEA02 {seg[2]!r} does not match ISA13 {isa[13]!r}", seg)
        self.isa = None

    def end(self, last: Segment | None) -> None:
        """Checks that the stream, whose last segment is ``last``, closed everything it opened."""
        if self.interchanges == 0:
            self.fail("no ISA segment: the file is empty or not X12", None)
        if self.current is not None:
            self.fail(
                f"file ends inside transaction set {self.current.control_number} (SE missing)", last
            )
        if self.gs is not None:
            self.fail("file ends inside a functional group (GE missing)", last)
        if self.isa is not None:
            self.fail("file ends inside an interchange (IEA missing)", last)


def iter_transaction_sets(
    segments: Iterable[Segment], errors: list[X12Error] | None = None
) -> Iterator[TransactionSet]:
    """ST..SE sets of a segment stream, with the envelope checked.

    An envelope error raises :class:`X12Error`; when ``errors`` is a list the error is appended
    there instead and reading goes on (for diagnostics and tests of third-party files).
    """
    envelope = _Envelope(errors)
    current: TransactionSet | None = None
    last: Segment | None = None
    for seg in segments:
        last = seg
        if current is not None and seg.id not in _ENVELOPE_IDS:
            current.segments.append(seg)
            continue
        closed = envelope.read(seg)
        current = envelope.current
        if closed is not None:
            yield closed
    envelope.end(last)


def read_transaction_sets(
    source: Path | BinaryIO, errors: list[X12Error] | None = None, max_bytes: int | None = None
) -> Iterator[TransactionSet]:
    """Transaction sets of an X12 file (a path or a binary file already open), streamed;
    ``max_bytes`` caps a segment (default ``settings.max_record_bytes``)."""
    return iter_transaction_sets(iter_segments(read_chunks(source), max_bytes), errors)
