"""The loop-tree walk of pyx12's ``walk_tree``, over compiled rules and integer counters.

From the map node of the last segment, the next segment is looked for among the siblings at or
after that position, then in the enclosing loops, outward to the root; entering a loop resets the
counters below it. Repeat counts, mandatory segments and loops passed over, not-used segments and
loops, and segments found nowhere are reported with pyx12's error codes.
"""

from __future__ import annotations

from bisect import bisect_left

from billops.sources.x12.ig.maps import Guide, LoopRule, SegmentRule
from billops.sources.x12.tokenizer import Segment

# (code, message, segment id to report) of one structural error; no element values in messages.
WalkError = tuple[str, str, str]


def matches(rule: SegmentRule, seg: Segment) -> bool:
    """pyx12's is_match: the id and, when the rule has one, the qualifier code."""
    if seg.id != rule.id:
        return False
    key = rule.key
    if key is None:
        return True
    index, sub, codes = key
    value = seg[index]
    if sub:
        value = value.split(seg.delimiters.component)[0] if value else ""
    return value in codes


class Walker:
    """A cursor in one guide's loop tree with the counts pyx12 keeps."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.parents = guide.parents
        self.counts = [0] * (guide.nodes + 1)
        # mandatory segments and loops passed over: (first segment, "segment" or "loop", id)
        self.missing: list[tuple[SegmentRule, str, str]] = []
        self.errors: list[WalkError] = []

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
        self.missing = []
        self.errors = errors = []
        pos = node.pos
        loop = node if node.is_loop else self.parents[node.node]  # type: ignore[assignment]
        root = self.guide.root
        while True:
            found = self._scan(loop, pos, seg)
            if found is not None:
                return found, errors
            if loop is root:
                errors.append(("1", "Segment not found where the guide allows it", seg.id))
                return None, errors
            pos = loop.pos
            loop = self.parents[loop.node]

    def _scan(self, loop: LoopRule, pos: int, seg: Segment) -> SegmentRule | None:
        counts = self.counts
        children = loop.children
        sid = seg.id
        for index in range(bisect_left(loop.positions, pos), len(children)):
            child = children[index]
            if child.is_loop:
                if self._loop_match(child, seg):  # type: ignore[arg-type]
                    return self._goto(child, seg)  # type: ignore[arg-type]
                continue
            if child.id == sid and (child.key is None or matches(child, seg)):  # type: ignore[union-attr]
                if loop is not self.guide.root and self._loop_match(loop, seg):
                    return self._goto(loop, seg)
                node = child.node
                counts[node] += 1
                if child.usage == "N" or counts[node] > child.max_use:  # type: ignore[union-attr]
                    self._segment_usage(child, seg)  # type: ignore[arg-type]
                if self.missing:
                    self.missing = [m for m in self.missing if m[0] is not child]
                    self._flush(child.pos)
                return child  # type: ignore[return-value]
            if child.usage == "R" and counts[child.node] < 1:
                self.missing.append((child, "segment", child.id))  # type: ignore[arg-type]
        return None

    def _segment_usage(self, rule: SegmentRule, seg: Segment) -> None:
        if rule.usage == "N":
            self.errors.append(("2", f"Segment {rule.id} found but marked as not used", seg.id))
        elif self.counts[rule.node] > rule.max_use:
            self.errors.append(
                ("5", f"Segment {rule.id} exceeded max count {rule.max_use}", seg.id)
            )

    def _loop_match(self, loop: LoopRule, seg: Segment) -> bool:
        children = loop.children
        if not children:
            return False
        first = children[0]
        if isinstance(first, LoopRule):
            return any(isinstance(c, LoopRule) and self._loop_match(c, seg) for c in children)
        if matches(first, seg):  # type: ignore[arg-type]
            return True
        if loop.usage == "R" and self.counts[loop.node] < 1:
            self.missing.append((first, "loop", loop.id))  # type: ignore[arg-type]
        return False

    def _goto(self, loop: LoopRule, seg: Segment) -> SegmentRule | None:
        first = loop.children[0] if loop.children else None
        if isinstance(first, SegmentRule) and matches(first, seg):
            self._loop_usage(loop, seg)
            self.counts[first.node] += 1
            if self.missing:
                self._flush(None)
            return first
        for child in loop.children:
            if isinstance(child, LoopRule):
                found = self._goto(child, seg)
                if found is not None:
                    return found
        return None

    def _loop_usage(self, loop: LoopRule, seg: Segment) -> None:
        if loop.usage == "N":
            self.errors.append(("2", f"Loop {loop.id} found but marked as not used", seg.id))
            return
        counts = self.counts
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
