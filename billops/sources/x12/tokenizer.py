"""X12 tokenizer: text chunks to segments, in time linear in the input whatever it holds.

Delimiters are never assumed: every ISA segment (fixed length, 106 characters) gives its own
element separator (byte 4), repetition separator (ISA11, 5010 only), component separator (ISA16)
and segment terminator (the character after ISA16). Line breaks (``\\n``, ``\\r\\n``), spaces and
tabs between a terminator and the next segment id are tolerated (files indented for reading,
``~ \\n``), and so is a missing terminator after the file's last IEA.

Linear time. Every character is examined a bounded number of times: the complete segments of a
chunk are split in bulk (one ``str.split``) when nothing in them needs a look segment by segment,
else they are found one by one with ``str.find`` from where the last one ended; a chunk without
a terminator is held aside and joined once, when its segment's terminator arrives.

Hostile input. A segment longer than ``max_bytes`` (``settings.max_record_bytes``) is not
buffered past that: it becomes a :class:`FlawedSegment` holding only its id, and what follows is
skipped up to the next terminator; a file that ends before that terminator cannot be
resynchronised and is an :class:`X12Error`. A segment with a control character (C0 or DEL, other
than the file's own delimiters, in an element) becomes a :class:`FlawedSegment` whose elements and
text show it escaped (``\\x00``). The extractors reject the unit holding a flawed segment (837 claim,
835 transaction set or service line); a flawed envelope segment is an :class:`X12Error`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import BinaryIO

from billops.sources import FileError

ISA_LENGTH = 106
# Offsets of the 16 element separators of a well-formed ISA segment.
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_LINE_BREAKS = "\r\n"
# Padding a sender may put between a terminator and the next segment id: line breaks, and the
# spaces or tabs of a file indented for reading or of a "~ \n" style. A segment id never
# starts with it, so it is dropped there (pyx12 drops it too).
_PADDING = " \t\r\n"
_NOT_PADDING = re.compile(r"[^ \t\r\n]")
# What may trail the last segment of a file (DOS end-of-file marks, NUL fill).
_END_PADDING = " \t\r\n\x1a\x00"
_CONTROL_CODES = (*range(0x20), 0x7F)
# Never a separator. Not str.isspace(): that counts FS, GS, RS and US (0x1C-0x1F), which some
# senders use as delimiters precisely because no data holds them.
_SPACING = " \t\r\n\x0b\x0c"
CHUNK_SIZE = 1 << 16


class X12Error(FileError):
    """The file cannot be tokenized or its envelope is wrong: a file-level error."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str


class Segment:
    """One segment; ``elements[0]`` is the segment id, so element n is ``seg[n]`` (1-based).

    A plain slotted class: one is made per segment, and its ``__init__`` is cheaper than a
    dataclass's. ``problem`` is None except on a :class:`FlawedSegment`.
    """

    __slots__ = ("delimiters", "elements", "id", "number")
    problem: str | None = None

    def __init__(self, id: str, elements: list[str], number: int, delimiters: Delimiters) -> None:
        self.id = id
        self.elements = elements
        self.number = number  # 1-based position in the file
        self.delimiters = delimiters

    def __repr__(self) -> str:
        return f"Segment({self.id!r}, {self.elements!r}, {self.number})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return (self.id, self.elements, self.number, self.delimiters) == (
            other.id,
            other.elements,
            other.number,
            other.delimiters,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __getitem__(self, index: int) -> str:
        try:  # an element past the last one present is empty; rare, so cheaper than a test
            return self.elements[index]
        except IndexError:
            return ""

    def components(self, index: int) -> list[str]:
        return self[index].split(self.delimiters.component)

    def component(self, index: int, sub: int) -> str:
        parts = self.components(index)
        return parts[sub - 1] if sub - 1 < len(parts) else ""

    @property
    def text(self) -> str:
        return self.delimiters.element.join(self.elements) + self.delimiters.segment


class FlawedSegment(Segment):
    """A segment that must not load: ``problem`` says why, without its values.

    Its unit is rejected whole. ``text`` (kept as the reject's original text) is what can be
    shown of it: the id alone for an oversize segment, the text with each control character
    escaped (``\\x00``) otherwise.
    """

    __slots__ = ("problem", "shown")

    def __init__(
        self,
        id: str,
        elements: list[str],
        number: int,
        delimiters: Delimiters,
        problem: str,
        shown: str,
    ) -> None:
        super().__init__(id, elements, number, delimiters)
        self.problem = problem
        self.shown = shown

    @property
    def text(self) -> str:
        return self.shown


def read_chunks(source: Path | BinaryIO, size: int = CHUNK_SIZE) -> Iterator[str]:
    """A file (a path, or a binary file already open) as UTF-8 text chunks, a leading BOM
    dropped; invalid UTF-8 is a FileError."""
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield from read_chunks(handle, size)
        return
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    while True:
        data = source.read(size)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise FileError(f"not valid UTF-8 at byte {offset + exc.start}") from exc
        offset += len(data)
        if text:
            yield text
        if not data:
            return


class _Controls:
    """The control characters a segment read with one set of delimiters must not hold."""

    def __init__(self, delimiters: Delimiters) -> None:
        own = {delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition}
        codes = [code for code in _CONTROL_CODES if chr(code) not in own]
        self.pattern = re.compile("[" + "".join(re.escape(chr(code)) for code in codes) + "]")
        # Deleted from a body's UTF-8 to find one in bulk (C speed, no regex): all but the line
        # feed and carriage return, which the bulk split allows only right after a terminator.
        self.bulk = bytes(code for code in codes if code not in (0x0A, 0x0D))


_CONTROLS: dict[Delimiters, _Controls] = {}


def _controls(delimiters: Delimiters) -> _Controls:
    found = _CONTROLS.get(delimiters)
    if found is None:
        found = _CONTROLS.setdefault(delimiters, _Controls(delimiters))
    return found


def _delimiters(isa: str, number: int) -> Delimiters:
    if len(isa) < ISA_LENGTH:
        raise X12Error(f"ISA segment is truncated ({len(isa)} of {ISA_LENGTH} characters)", number)
    element = isa[3]
    if any(isa[pos] != element for pos in _ISA_SEPARATORS):
        raise X12Error(
            "ISA segment is not 106 characters with its element separator at the "
            "fixed positions (bad envelope or delimiters)",
            number,
        )
    component, segment, repetition = isa[104], isa[105], isa[82]
    if isa[84:89] != "00501" or repetition.isalnum() or repetition in _SPACING:
        repetition = None  # 4010 carries a standards id there; some 5010 senders too ("U")
    chars = [element, component, segment] + ([repetition] if repetition else [])
    bad = [c for c in (element, component) if c.isalnum() or c in _SPACING]
    if bad or segment.isalnum() or segment == " " or len(set(chars)) != len(chars):
        raise X12Error("ISA delimiters are not distinct non-alphanumeric characters", number)
    delimiters = Delimiters(element, component, repetition, segment)
    found = _controls(delimiters).pattern.search(isa)
    if found is not None:
        raise X12Error(f"ISA segment holds control character U+{ord(found.group()):04X}", number)
    return delimiters


def _split_plain(
    body: str, terminator: str, separator: str, known_ids: set[str], controls: bytes
) -> tuple[list[str], list[list[str]]] | None:
    """Ids and elements of the complete segments in ``body``, split in bulk, when nothing in it
    needs a look segment by segment; else None.

    That is: no control character, every segment id a valid one (an ISA, which may bring new
    delimiters, is read on its own; a new id is checked once and remembered in ``known_ids``),
    and no line break other than one ``\\n`` or ``\\r\\n`` right after each terminator (the
    common ``~\\n`` and ``~\\r\\n``), so no segment starts with a line break or holds one once
    the terminator and its line break are split off. Counting proves the last: as many line
    breaks (and carriage returns) as terminators, and as many pieces as either.
    """
    encoded = body.encode()
    if len(encoded.translate(None, controls)) != len(encoded):
        return None  # a control character: the segment-by-segment path names its segment
    if "\n" in body:
        carriage = "\r" in body
        pieces = body.split(terminator + ("\r\n" if carriage else "\n"))
        breaks = len(pieces) - 1
        if breaks != body.count(terminator) or breaks != body.count("\n"):
            return None  # a terminator without its line break, or one inside a segment
        if carriage and breaks != body.count("\r"):
            return None
    elif "\r" in body:
        return None
    else:
        pieces = body.split(terminator)
    split = [piece.split(separator) for piece in pieces]
    ids = [elements[0] for elements in split]
    if not known_ids.issuperset(ids):
        new = set(ids).difference(known_ids)
        if "ISA" in new or not all(_SEGMENT_ID.fullmatch(sid) for sid in new):
            return None  # the segment-by-segment path names the segment, or reads the ISA
        known_ids.update(new)
    return ids, split


Runs = Generator[list[Segment], None, str]
_Pieces = Generator[list[Segment], None, int]


def _skip_padding(text: str, pos: int, end: int) -> int:
    """Where the padding at ``pos`` ends: a few characters one by one (a line break, an indent),
    longer runs by regex."""
    stop = min(pos + 8, end)
    while pos < stop and text[pos] in _PADDING:
        pos += 1
    if pos == stop and pos < end:
        found = _NOT_PADDING.search(text, pos)
        pos = found.start() if found is not None else end
    return pos


def _escape(found: re.Match[str]) -> str:
    """A control character written as an escape (``\\x00``), as values.printable writes it."""
    return f"\\x{ord(found.group()):02x}"


class _Tokenizer:
    """Segments of text handed over in pieces; the state between them (delimiters, segment
    number, ids already checked)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        # A text of at most this many characters is at most max_bytes bytes in UTF-8, so only
        # longer ones are encoded to be measured.
        self.quarter = max_bytes // 4
        self.delimiters: Delimiters | None = None
        self.controls: _Controls | None = None
        self.number = 0
        self.known_ids: set[str] = set()

    def continues_segment(self, pending: str) -> bool:
        """Whether ``pending`` (what :meth:`feed` left) is the start of a segment (not of an
        ISA) that goes on until the current terminator."""
        return self.delimiters is not None and len(pending) >= 3 and not pending.startswith("ISA")

    def feed(self, text: str, final: bool) -> Runs:
        """Yields runs of the segments of ``text``; returns what is left of it (the start of a
        segment or ISA still incomplete), or raises X12Error after yielding the segments
        before the error. ``final``: nothing follows ``text``."""
        run: list[Segment] = []
        pos, end_of_text = 0, len(text)
        bulk = True  # one bulk split per text: retried after each ISA it would be quadratic
        while True:
            if pos < end_of_text and text[pos] in _PADDING:
                pos = _skip_padding(text, pos, end_of_text)
            if pos >= end_of_text:
                if run:
                    yield run
                return ""
            delimiters = self.delimiters
            if delimiters is None or text.startswith("ISA", pos):
                is_isa = text.startswith("ISA", pos)
                left = end_of_text - pos
                if not final and (left < 3 or (is_isa and left < ISA_LENGTH)):
                    if run:
                        yield run
                    return text[pos:]  # wait for the rest of the segment id or of the ISA
                if run:
                    yield run
                    run = []
                if not is_isa:
                    raise X12Error("the file does not start with an ISA segment", self.number + 1)
                yield [self._isa(text[pos : pos + ISA_LENGTH])]
                pos += ISA_LENGTH
                continue
            terminator = delimiters.segment
            if bulk:  # only ISAs were read before, so ``run`` is empty here
                bulk = False
                last = text.rfind(terminator, pos)
                if last >= 0:
                    body = text[pos:last]
                    plain = self._bulk(body, delimiters)
                    if plain is not None:
                        run.extend(plain)
                        pos = last + 1
                    else:
                        pos = yield from self._pieces(body, pos)
                    continue
            end = text.find(terminator, pos)
            if end >= 0:
                piece = text[pos:end]
                pos = end + 1
            else:
                piece = text[pos:]
                if not final:
                    if run:
                        yield run
                    return piece
                pos = end_of_text
                if not piece.strip(_END_PADDING):
                    continue  # padding after the last segment
                if not (piece.startswith("IEA") and piece.count(delimiters.element) == 2):
                    if run:
                        yield run
                    raise self.unterminated()
                piece = piece.rstrip(_END_PADDING)  # a last IEA without its terminator
            if terminator == "\n":
                piece = piece.rstrip("\r")
            try:
                run.append(self._segment(piece, delimiters))
            except X12Error:
                if run:
                    yield run  # the segments before the error
                raise

    def _isa(self, isa: str) -> Segment:
        """The ISA segment ``isa`` (with its terminator); its delimiters become the current ones."""
        self.number += 1
        delimiters = self.delimiters = _delimiters(isa, self.number)
        self.controls = _controls(delimiters)
        return Segment("ISA", isa[:-1].split(delimiters.element), self.number, delimiters)

    def _pieces(self, body: str, offset: int) -> _Pieces:
        """The complete segments of ``body`` (found at ``offset`` of its text, its last terminator
        just after it), each piece of one split looked at, up to an ISA that brings another
        terminator; returns where reading goes on in the text: after ``body``, or at that ISA,
        from where segments are read one by one (splitting again would not be linear)."""
        assert self.delimiters is not None
        delimiters = self.delimiters
        terminator = delimiters.segment
        quarter, known_ids = self.quarter, self.known_ids
        run: list[Segment] = []
        for piece in body.split(terminator):
            start, offset = offset, offset + len(piece) + 1
            if piece and piece[0] in _PADDING:
                piece = piece.lstrip(_PADDING)
            if terminator == "\n":
                piece = piece.rstrip("\r")
            if not piece and terminator in _LINE_BREAKS:
                continue  # a blank line between segments
            if piece.startswith("ISA"):
                if len(piece) != ISA_LENGTH - 1:
                    if run:
                        yield run
                    return start
                if run:
                    yield run  # the segments before it, read with the old delimiters
                    run = []
                run.append(self._isa(piece + terminator))
                delimiters = self.delimiters
                continue
            if len(piece) <= quarter and piece.isprintable():  # the common case
                elements = piece.split(delimiters.element)
                if elements[0] in known_ids:
                    self.number += 1
                    run.append(Segment(elements[0], elements, self.number, delimiters))
                    continue
            try:
                run.append(self._segment(piece, delimiters))
            except X12Error:
                if run:
                    yield run  # the segments before the error
                raise
        if run:
            yield run
        return offset

    def unterminated(self) -> X12Error:
        """The error for a segment (the next one) that the file ends inside."""
        assert self.delimiters is not None
        return X12Error(
            f"segment {self.number + 1} is not terminated (expected "
            f"{self.delimiters.segment!r}; wrong delimiters?)",
            self.number + 1,
        )

    def _bulk(self, body: str, delimiters: Delimiters) -> list[Segment] | None:
        if len(body) > self.quarter or delimiters.segment in _LINE_BREAKS:
            return None  # a segment of it may be too long; line terminators need a look
        assert self.controls is not None
        plain = _split_plain(
            body, delimiters.segment, delimiters.element, self.known_ids, self.controls.bulk
        )
        if plain is None:
            return None
        ids, split = plain
        first = self.number + 1
        self.number += len(ids)
        return list(map(Segment, ids, split, range(first, self.number + 1), repeat(delimiters)))

    def _checked_id(self, sid: str, number: int) -> str:
        if sid not in self.known_ids:
            if not _SEGMENT_ID.fullmatch(sid):
                raise X12Error(
                    f"segment {number} does not start with a segment id "
                    "(bad delimiters or garbled data)",
                    number,
                )
            self.known_ids.add(sid)
        return sid

    def _segment(self, piece: str, delimiters: Delimiters) -> Segment:
        if len(piece) > self.quarter and len(piece.encode()) > self.max_bytes:
            return self.oversize(piece)
        self.number += 1
        separator = delimiters.element
        elements = piece.split(separator)
        sid = self._checked_id(elements[0], self.number)
        if not piece.isprintable():  # C speed; a control character is rare
            assert self.controls is not None
            found = self.controls.pattern.search(piece)
            if found is not None:
                element = piece.count(separator, 0, found.start())
                clean = [self.controls.pattern.sub(_escape, value) for value in elements]
                return FlawedSegment(
                    sid,
                    clean,
                    self.number,
                    delimiters,
                    f"holds control character U+{ord(found.group()):04X} in element {element}",
                    separator.join(clean) + delimiters.segment,
                )
        return Segment(sid, elements, self.number, delimiters)

    def oversize(self, head: str) -> FlawedSegment:
        """The segment starting with ``head`` and longer than the cap, as its id alone."""
        assert self.delimiters is not None
        self.number += 1
        separator = self.delimiters.element
        sid = self._checked_id(head[:4].split(separator, 1)[0], self.number)
        return FlawedSegment(
            sid,
            [sid],
            self.number,
            self.delimiters,
            f"is longer than {self.max_bytes} bytes; it was not read",
            f"{sid}{separator}…{self.delimiters.segment}",
        )


def iter_segments(chunks: Iterable[str], max_bytes: int | None = None) -> Iterator[Segment]:
    """Segments of an X12 text stream, with delimiters taken from each ISA segment.

    ``max_bytes`` caps a segment's length (default ``settings.max_record_bytes``). Segments are
    made a chunk at a time and handed on one by one without a Python frame per segment.
    """
    if max_bytes is None:
        from billops.config import get_settings

        max_bytes = get_settings().max_record_bytes
    return chain.from_iterable(_segment_runs(chunks, max_bytes))


def _segment_runs(chunks: Iterable[str], max_bytes: int) -> Iterator[list[Segment]]:
    """The segments of :func:`iter_segments`, in lists (a chunk's worth, or fewer)."""
    tokenizer = _Tokenizer(max_bytes)
    pending = ""  # what the tokenizer left: the start of a segment or ISA, no leading padding
    held: list[str] = []  # chunks that continue ``pending`` without a terminator, not yet joined
    held_chars = 0
    skipping = False  # inside an oversize segment: dropped up to its terminator
    for chunk in chunks:
        if not chunk:
            continue
        terminator = tokenizer.delimiters.segment if tokenizer.delimiters else ""
        if skipping:
            at = chunk.find(terminator)
            if at < 0:
                continue
            skipping = False
            chunk = chunk[at + 1 :]
        elif pending and not pending.strip(_END_PADDING) and not chunk.strip(_END_PADDING):
            continue  # fill after the last segment (NUL, SUB) over many chunks: nothing to hold
        elif tokenizer.continues_segment(pending) and terminator not in chunk:
            held.append(chunk)
            held_chars += len(chunk)
            if len(pending) + held_chars > max_bytes:  # characters: at least as many bytes
                yield [tokenizer.oversize(pending)]
                pending, held, held_chars, skipping = "", [], 0, True
            continue
        if held:
            text = "".join([pending, *held, chunk])
            held, held_chars = [], 0
        else:
            text = pending + chunk
        pending = yield from tokenizer.feed(text, final=False)
    if skipping:
        raise X12Error(
            f"segment {tokenizer.number} is longer than {max_bytes} bytes and the file ends "
            "before its terminator",
            tokenizer.number,
        )
    if held and not pending.startswith("IEA"):
        raise tokenizer.unterminated()  # nothing held has a terminator: no need to join it
    yield from tokenizer.feed("".join([pending, *held]), final=True)
