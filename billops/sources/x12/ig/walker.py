"""The loop-tree walk of pyx12's ``walk_tree``, over compiled rules and integer counters.

From the map node of the last segment, the next segment is looked for among the siblings at or
after that position, then in the enclosing loops, outward to the root; entering a loop resets the
counters below it. Repeat counts, mandatory segments and loops passed over, not-used segments and
loops, and segments found nowhere are reported with pyx12's error codes.

Where the walk goes depends only on the map, the node it starts from and the segment's id and
qualifiers, never on the counts: so a walk is planned once per (node, segment id, qualifiers) as
a short list of counter operations (:mod:`plan`) and replayed on the counts for each segment.
"""

from __future__ import annotations

from billops.sources.x12.ig.maps import Guide, LoopRule, SegmentRule
from billops.sources.x12.ig.plan import (
    ENTER,
    LOOP,
    MISS_LOOP,
    MISS_SEGMENT,
    NOT_FOUND,
    SEGMENT,
    Plan,
    plan_walk,
)
from billops.sources.x12.tokenizer import Segment

# (code, message, segment id to report) of one structural error; no element values in messages.
WalkError = tuple[str, str, str]
MEMO_SIZE = 20_000  # planned walks kept per guide

_ZEROS = [0] * 4096
_NONE: list[WalkError] = []  # shared, never changed: no errors
_MEMOS: dict[str, dict[tuple[int, str, object], Plan]] = {}


def _qualifier(seg: Segment, where: tuple[int, int]) -> str:
    index, sub = where
    value = seg[index]
    if sub and value:
        value = value.split(seg.delimiters.component, 1)[0]
    return value


class Walker:
    """A cursor in one guide's loop tree with the counts pyx12 keeps."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.parents = guide.parents
        self.counts = [0] * (guide.nodes + 1)
        # mandatory segments and loops passed over: (first segment, "segment" or "loop", id)
        self.missing: list[tuple[SegmentRule, str, str]] = []
        self.errors: list[WalkError] = []
        self.memo = _MEMOS.setdefault(guide.name, {})
        self.match_keys = guide.match_keys

    def adopt(self, previous: Walker) -> None:
        """Takes over the counts of ``previous`` (another guide's walker in the same file) for
        the paths both guides have, as pyx12's one counter keyed by path does across maps."""
        old = previous.counts
        for path, node in self.guide.paths.items():
            theirs = previous.guide.paths.get(path)
            if theirs is not None:
                self.counts[node] = old[theirs]

    def force(self, loop: LoopRule, first: SegmentRule) -> SegmentRule:
        """pyx12's forceWalkCounterToLoopStart at ISA and GS."""
        counts = self.counts
        for node in loop.descendants:
            counts[node] = 0
        counts[loop.node] += 1
        counts[first.node] += 1
        return first

    def walk(
        self, node: SegmentRule | LoopRule, seg: Segment
    ) -> tuple[SegmentRule | None, list[WalkError]]:
        """The rule of ``seg`` from the cursor ``node``, and the errors met on the way."""
        sid = seg.id
        where = self.match_keys.get(sid)
        qualifier: object = ""
        if where is not None:  # only the qualifier: never a value that may be PHI
            if len(where) == 1:
                index, sub = where[0]
                elements = seg.elements
                qualifier = elements[index] if index < len(elements) else ""
                if sub and qualifier:
                    qualifier = qualifier.split(seg.delimiters.component, 1)[0]  # type: ignore[attr-defined]
            else:
                qualifier = tuple(_qualifier(seg, at) for at in where)
        key = (node.node, sid, qualifier)
        planned = self.memo.get(key)
        if planned is None:
            planned = plan_walk(self.guide, node, seg)
            if len(self.memo) < MEMO_SIZE:
                self.memo[key] = planned
        found, ops, tested, rest, simple = planned
        counts = self.counts
        if tested and min(map(counts.__getitem__, tested)) < 1:
            return found, self._replay(ops, seg)  # something mandatory may be missing
        if simple is not None:  # the next segment of the same loop, within its limits
            number = simple.node
            if counts[number] < simple.max_use and simple.usage != "N":
                counts[number] += 1
                return found, _NONE
        self.missing = []
        self.errors = errors = []
        for op in rest:  # nothing missing: only the counts and their limits
            code, rule = op[0], op[1]
            if code == SEGMENT:
                number = rule.node  # type: ignore[attr-defined]
                counts[number] += 1
                if rule.usage == "N" or counts[number] > rule.max_use:  # type: ignore[attr-defined]
                    counts[number] -= 1
                    self._segment(rule, seg)  # type: ignore[arg-type]
            elif code == LOOP:
                self._loop_usage(rule, seg)  # type: ignore[arg-type]
            elif code == ENTER:
                counts[rule.node] += 1  # type: ignore[attr-defined]
            else:
                errors.append(("1", "Segment not found where the guide allows it", seg.id))
        return found, errors

    def _replay(self, ops: tuple[tuple[int, ...], ...], seg: Segment) -> list[WalkError]:
        self.missing = []
        self.errors = errors = []
        counts = self.counts
        for op in ops:
            code, rule = op[0], op[1]
            if code == SEGMENT:
                self._segment(rule, seg)  # type: ignore[arg-type]
            elif code == MISS_SEGMENT:
                if counts[rule.node] < 1:  # type: ignore[attr-defined]
                    self.missing.append((rule, "segment", rule.id))  # type: ignore[arg-type, attr-defined]
            elif code == MISS_LOOP:
                if counts[rule.node] < 1:  # type: ignore[attr-defined]
                    self.missing.append((op[2], "loop", rule.id))  # type: ignore[arg-type, attr-defined]
            elif code == LOOP:
                self._loop_usage(rule, seg)  # type: ignore[arg-type]
            elif code == ENTER:
                counts[rule.node] += 1  # type: ignore[attr-defined]
                if self.missing:
                    self._flush(None)
            elif code == NOT_FOUND:
                errors.append(("1", "Segment not found where the guide allows it", seg.id))
        return errors

    def _segment(self, rule: SegmentRule, seg: Segment) -> None:
        """A segment found in its loop: counted, its usage and repeat checked, the mandatory
        ones passed over reported unless they share its position."""
        counts = self.counts
        counts[rule.node] += 1
        if rule.usage == "N":
            self.errors.append(("2", f"Segment {rule.id} found but marked as not used", seg.id))
        elif counts[rule.node] > rule.max_use:
            self.errors.append(
                ("5", f"Segment {rule.id} exceeded max count {rule.max_use}", seg.id)
            )
        if self.missing:
            self.missing = [m for m in self.missing if m[0] is not rule]
            self._flush(rule.pos)

    def _loop_usage(self, loop: LoopRule, seg: Segment) -> None:
        if loop.usage == "N":
            self.errors.append(("2", f"Loop {loop.id} found but marked as not used", seg.id))
            return
        counts = self.counts
        span = loop.span
        if span is not None:
            low, high = span
            counts[low:high] = _ZEROS[: high - low]
        else:
            for node in loop.descendants:
                counts[node] = 0
        counts[loop.node] += 1
        if counts[loop.node] > loop.repeat:
            self.errors.append(("4", f"Loop {loop.id} exceeded max count {loop.repeat}", seg.id))

    def _flush(self, pos: int | None) -> None:
        keep: list[tuple[SegmentRule, str, str]] = []
        for entry in self.missing:
            rule, kind, what = entry
            if rule.pos == pos:
                keep.append(entry)
            else:
                self.errors.append(("3", f"Mandatory {kind} {what} missing", rule.id))
        self.missing = keep

    def loop_of(self, rule: SegmentRule) -> str:
        """The id of the loop holding ``rule`` (for error locations)."""
        return self.parents[rule.node].id
