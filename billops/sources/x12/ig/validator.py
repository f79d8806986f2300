"""billops' own implementation-guide validator: one X12 file, every transaction set walked over
the loop tree of its guide as pyx12 publishes it (see :mod:`maps`), with element checks and the
envelope's control numbers and counts; the same result shape as pyx12's validation.

Segments come from billops' tokenizer and transaction sets from its envelope reader (with its
errors collected, not raised), in one pass.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from billops.sources import FileError
from billops.sources.x12.envelope import iter_transaction_sets
from billops.sources.x12.ig.elements import EleError
from billops.sources.x12.ig.maps import Guide, LoopRule, SegmentRule, find_map, load_guide
from billops.sources.x12.ig.numbering import NUMBERED, Numbering
from billops.sources.x12.ig.segments import SegmentChecks
from billops.sources.x12.ig.walker import Walker
from billops.sources.x12.tokenizer import Segment, X12Error, iter_segments, read_chunks
from billops.sources.x12.validate import INVALID, MAX_ERRORS, UNSUPPORTED, VALID, X12Validation

_OPENERS = frozenset({"ISA", "GS", "ST"})


class Unsupported(Exception):
    """No pyx12 map for the group's guide."""


def _first(loop: LoopRule) -> SegmentRule:
    first = loop.children[0]
    assert isinstance(first, SegmentRule)
    return first


def _loop(parent: LoopRule, loop_id: str) -> LoopRule:
    return next(c for c in parent.children if isinstance(c, LoopRule) and c.id == loop_id)


class FileWalk:
    """The state of one file's validation: the guide, the walker's cursor, the errors."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.count = 0
        self.guide: Guide | None = None
        self.walker: Walker | None = None
        self.node: SegmentRule | LoopRule | None = None
        self.isa: Segment | None = None
        self.st: str | None = None
        self.icvn = ""
        self.checks = SegmentChecks()  # per file: what they remember goes with the file
        self.numbering = Numbering()

    def error(self, seg: Segment | None, code: str, message: str, **where: Any) -> None:
        self.count += 1
        if len(self.errors) < MAX_ERRORS:
            entry: dict[str, Any] = {"line": seg.number if seg else None}
            if self.st is not None:
                entry["transaction_set"] = self.st
            if seg is not None:
                entry["segment"] = seg.id
            entry.update(where)
            entry.update(code=code, message=message)
            self.errors.append(entry)

    def read(self, seg: Segment) -> None:
        sid = seg.id
        if sid in _OPENERS:
            if sid == "ISA":
                self.isa, self.icvn = seg, seg[12]  # walked at its GS, once the guide is known
                return
            if sid == "GS":
                self._group(seg)
                return
            self.st = seg[2]
        walker = self.walker
        if walker is None or self.node is None:
            self.error(seg, "1", "Segment outside a functional group", level="segment")
            return
        if sid in NUMBERED:
            for code, message in self.numbering.read(seg):
                self.error(seg, code, message, level="segment")
        found, walk_errors = walker.walk(self.node, seg)
        if walk_errors:
            for code, message, seg_id in walk_errors:
                self.error(seg, code, message, level="segment", segment=seg_id)
        if found is not None:
            self.node = found
            elements = seg.elements
            if elements[-1] == "" and len(elements) > 1:
                self.error(seg, "SEG1", "Segment has trailing element separators", level="segment")
            check = self.checks.checks.get(id(found))
            if check is None:
                check = self.checks.get(found, walker.guide.codes)
            errors = check.errors(elements, seg.delimiters.component)
            if errors:
                self._report(found, seg, errors, walker)
        if sid == "SE":
            self.st = None

    def _check(self, rule: SegmentRule, seg: Segment, walker: Walker) -> None:
        """The element checks of an ISA (against the control map) or GS."""
        elements = seg.elements
        if len(elements) > 1 and elements[-1] == "":
            self.error(seg, "SEG1", "Segment has trailing element separators", level="segment")
        component = seg.delimiters.component if seg.id != "ISA" else "\x00"  # ISA16 is one
        found = self.checks.get(rule, walker.guide.codes).errors(elements, component)
        if found:
            self._report(rule, seg, found, walker)

    def _report(
        self, rule: SegmentRule, seg: Segment, found: list[EleError], walker: Walker
    ) -> None:
        loop = walker.loop_of(rule)
        for code, refdes, message in found:
            if refdes:
                self.error(seg, code, message, level="element", element=refdes, loop=loop)
            else:
                self.error(seg, code, message, level="segment", loop=loop)

    def _group(self, gs: Segment) -> None:
        isa = self.isa
        icvn = self.icvn
        filename = find_map(icvn, gs[1], gs[8])
        if filename is None:
            raise Unsupported(f"Map not found.  icvn={icvn}, fic={gs[1]}, vriic={gs[8]}")
        guide = load_guide(filename)
        self.numbering.check_lx = guide.xid == "837"
        if self.walker is None or self.guide is not guide:
            previous, self.walker = self.walker, Walker(guide)
            self.guide = guide
            if previous is not None:
                self.walker.adopt(previous)
        walker = self.walker
        isa_loop = _loop(guide.root, "ISA_LOOP")
        if isa is not None:  # checked against pyx12's control map, as pyx12 does
            walker.force(isa_loop, _first(isa_loop))
            control = load_guide(
                f"x12.control.{icvn}.xml" if icvn == "00501" else "x12.control.00401.xml"
            )
            self._check(_first(_loop(control.root, "ISA_LOOP")), isa, walker)
            self.isa = None
        gs_loop = _loop(isa_loop, "GS_LOOP")
        self.node = walker.force(gs_loop, _first(gs_loop))
        self._check(self.node, gs, walker)


def _walked(segments: Iterator[Segment], state: FileWalk) -> Iterator[Segment]:
    read = state.read
    for seg in segments:
        read(seg)
        yield seg


@contextlib.contextmanager
def _no_automatic_collection() -> Iterator[None]:
    """No cyclic garbage collection while a file is read: it makes hundreds of thousands of
    short-lived segments, freed by reference counting (none is in a cycle), which the automatic
    collections would traverse again and again (a third of the time). Restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_file(path: Path, max_bytes: int | None = None) -> X12Validation:
    """Validate one X12 file against its implementation guide (VALID, INVALID, UNSUPPORTED)."""
    with _no_automatic_collection():
        return _validate_file(path, max_bytes)


def _validate_file(path: Path, max_bytes: int | None) -> X12Validation:
    state = FileWalk()
    envelope: list[X12Error] = []
    try:
        segments = iter_segments(read_chunks(path), max_bytes)
        for _ts in iter_transaction_sets(_walked(segments, state), envelope):
            pass
    except Unsupported as exc:
        return X12Validation(UNSUPPORTED, 0, [{"level": "file", "message": str(exc)}])
    except FileError as exc:
        state.error(None, "file", exc.reason, level="file")
    for exc in envelope:
        state.st = None
        state.error(None, "envelope", exc.reason, level="envelope", line=exc.record)
    if state.count == 0:
        return X12Validation(VALID, 0, [])
    return X12Validation(INVALID, state.count, state.errors)
