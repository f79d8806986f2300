"""One segment's element checks, precompiled per segment rule, with each element's verdict
on a value remembered (bounded) so the common values of a file are checked once."""

from __future__ import annotations

from billops.sources.x12.ig.elements import EleError, check_composite, check_syntax, check_value
from billops.sources.x12.ig.maps import CompositeRule, ElementRule, SegmentRule

CACHE_VALUES = 2048  # remembered values per element rule


class SegmentCheck:
    __slots__ = ("count", "external", "plan", "rule", "syntax", "syntax_seen")

    def __init__(self, rule: SegmentRule, external: dict[str, frozenset[str]]) -> None:
        self.rule = rule
        self.external = external
        self.count = len(rule.elements)
        self.plan = tuple((r.seq, {}, r) for r in rule.elements)
        self.syntax = bool(rule.syntax)
        # The syntax rules' verdict hangs only on which elements are present.
        self.syntax_seen: dict[tuple[bool, ...], list[EleError]] = {}

    def errors(self, elements: list[str], component: str) -> list[EleError]:
        """The element errors of a segment's ``elements`` (``elements[0]`` is its id)."""
        out: list[EleError] = []
        last = len(elements) - 1
        if last > self.count:
            out.append(("3", "", f"Too many elements in segment: {last} > {self.count}"))
        for seq, cache, rule in self.plan:
            value = elements[seq] if seq <= last else ""
            found = cache.get(value)
            if found is None:
                found = self._check(rule, value, component)
                if len(cache) < CACHE_VALUES:
                    cache[value] = found
            if found:
                out.extend(found)
        if self.syntax:
            present = tuple(map(bool, elements))
            verdict = self.syntax_seen.get(present)
            if verdict is None:
                verdict = self.syntax_seen[present] = check_syntax(self.rule, elements)
            if verdict:
                out.extend(verdict)
        return out

    def _check(
        self, rule: ElementRule | CompositeRule, value: str, component: str
    ) -> tuple[EleError, ...]:
        if isinstance(rule, CompositeRule):
            return tuple(check_composite(rule, value, component, self.external))
        if component in value:
            return (("6", rule.refdes, f"Data element {rule.refdes} is an invalid composite"),)
        return tuple(check_value(rule, value, self.external))


_CHECKS: dict[int, SegmentCheck] = {}


def segment_check(rule: SegmentRule, external: dict[str, frozenset[str]]) -> SegmentCheck:
    """The (per process) check of ``rule``."""
    found = _CHECKS.get(id(rule))
    if found is None or found.rule is not rule:
        found = _CHECKS[id(rule)] = SegmentCheck(rule, external)
    return found
