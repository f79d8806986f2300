"""Planning one step of pyx12's walk: where a segment goes from a map node, as counter
operations. The route (siblings at or after the node's position, then the enclosing loops
outward; a loop entered by its first segment) depends on the map and the segment's id and
qualifiers only, so a plan is made once and replayed on the counts (:mod:`walker`)."""

from __future__ import annotations

from bisect import bisect_left

from billops.sources.x12.ig.maps import Guide, LoopRule, SegmentRule
from billops.sources.x12.tokenizer import Segment

# Operations: (code, rule[, first segment])
SEGMENT = 0  # a segment found in its loop: count it, check its usage and repeat, flush missing
MISS_SEGMENT = 1  # a required segment passed over: missing if not counted yet
MISS_LOOP = 2  # a required loop passed over: missing if not entered yet (reported on its first)
LOOP = 3  # a loop entered: check its usage, reset the counts below it, count it, check repeat
ENTER = 4  # the first segment of the loop just entered: count it, flush missing
NOT_FOUND = 5

Op = tuple[int, ...]
# (the segment's rule or None, all operations, the nodes the MISS operations test, the others,
# the rule when the others are one SEGMENT operation: the common step)
Plan = tuple[
    SegmentRule | None, tuple[Op, ...], tuple[int, ...], tuple[Op, ...], SegmentRule | None
]


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


class _Planner:
    def __init__(self, guide: Guide, seg: Segment) -> None:
        self.guide = guide
        self.seg = seg
        self.ops: list[Op] = []

    def walk(self, node: SegmentRule | LoopRule) -> SegmentRule | None:
        pos = node.pos
        loop = node if isinstance(node, LoopRule) else self.guide.parents[node.node]
        root = self.guide.root
        while True:
            found = self.scan(loop, pos)
            if found is not None:
                return found
            if loop is root:
                self.ops.append((NOT_FOUND, None))  # type: ignore[arg-type]
                return None
            pos = loop.pos
            loop = self.guide.parents[loop.node]

    def scan(self, loop: LoopRule, pos: int) -> SegmentRule | None:
        children = loop.children
        for index in range(bisect_left(loop.positions, pos), len(children)):
            child = children[index]
            if isinstance(child, LoopRule):
                if self.loop_match(child):
                    return self.goto(child)
                continue
            if matches(child, self.seg):
                if loop is not self.guide.root and self.loop_match(loop):
                    return self.goto(loop)
                self.ops.append((SEGMENT, child))  # type: ignore[arg-type]
                return child
            if child.usage == "R":
                self.ops.append((MISS_SEGMENT, child))  # type: ignore[arg-type]
        return None

    def loop_match(self, loop: LoopRule) -> bool:
        children = loop.children
        if not children:
            return False
        first = children[0]
        if isinstance(first, LoopRule):
            return any(isinstance(c, LoopRule) and self.loop_match(c) for c in children)
        if matches(first, self.seg):
            return True
        if loop.usage == "R":
            self.ops.append((MISS_LOOP, loop, first))  # type: ignore[arg-type]
        return False

    def goto(self, loop: LoopRule) -> SegmentRule | None:
        first = loop.children[0] if loop.children else None
        if isinstance(first, SegmentRule) and matches(first, self.seg):
            self.ops.append((LOOP, loop))  # type: ignore[arg-type]
            self.ops.append((ENTER, first))  # type: ignore[arg-type]
            return first
        for child in loop.children:
            if isinstance(child, LoopRule):
                found = self.goto(child)
                if found is not None:
                    return found
        return None


def plan_walk(guide: Guide, node: SegmentRule | LoopRule, seg: Segment) -> Plan:
    """Where ``seg`` goes from ``node`` in ``guide``, and the operations on the way."""
    planner = _Planner(guide, seg)
    found = planner.walk(node)
    ops = tuple(planner.ops)
    # The cursor's own segment is always counted (it was found last), so never missing: the
    # test is left out for it. MISS operations always come before the others.
    tested = tuple(
        op[1].node  # type: ignore[attr-defined]
        for op in ops
        if op[0] in (MISS_SEGMENT, MISS_LOOP) and not (op[0] == MISS_SEGMENT and op[1] is node)
    )
    rest = tuple(op for op in ops if op[0] not in (MISS_SEGMENT, MISS_LOOP))
    simple = rest[0][1] if len(rest) == 1 and rest[0][0] == SEGMENT else None
    return found, ops, tested, rest, simple  # type: ignore[return-value]
