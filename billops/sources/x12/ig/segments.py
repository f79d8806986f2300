"""One segment's element checks, precompiled per segment rule, with each element's verdict
on a value remembered (bounded) so the common values of a file are checked once."""

from __future__ import annotations

from billops.sources.x12.ig.elements import (
    EleError,
    check_composite,
    check_syntax,
    check_type_list,
    check_value,
)
from billops.sources.x12.ig.maps import CompositeRule, ElementRule, SegmentRule

CACHE_VALUES = 2048  # remembered values per element rule


class SegmentCheck:
    __slots__ = ("count", "external", "plan", "rule", "syntax", "syntax_seen", "typed")

    def __init__(self, rule: SegmentRule, external: dict[str, frozenset[str]]) -> None:
        self.rule = rule
        self.external = external
        self.count = len(rule.elements)
        self.plan = tuple((r.seq, {}, r) for r in rule.elements)
        self.syntax = bool(rule.syntax)
        self.typed = _typed(rule)
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
        if self.typed:
            out.extend(self._types(elements))
        if self.syntax:
            present = tuple(map(bool, elements))
            verdict = self.syntax_seen.get(present)
            if verdict is None:
                verdict = self.syntax_seen[present] = check_syntax(self.rule, elements)
            if verdict:
                out.extend(verdict)
        return out

    def _types(self, elements: list[str]) -> list[EleError]:
        out: list[EleError] = []
        for seq, rule, types in self.typed:
            value = elements[seq] if seq < len(elements) else ""
            if types is None:  # DTP03: the format DTP02 names
                named = elements[2] if len(elements) > 2 else ""
                types = (named,) if named in _DTP_FORMATS else ()
            out.extend(check_type_list(rule, value, types))
        return out

    def _check(
        self, rule: ElementRule | CompositeRule, value: str, component: str
    ) -> tuple[EleError, ...]:
        if isinstance(rule, CompositeRule):
            return tuple(check_composite(rule, value, component, self.external))
        if component in value:
            return (("6", rule.refdes, f"Data element {rule.refdes} is an invalid composite"),)
        return tuple(check_value(rule, value, self.external))


_DTP_FORMATS = ("RD8", "D8", "D6", "DT", "TM")
Typed = tuple[tuple[int, ElementRule, tuple[str, ...] | None], ...]


def _typed(rule: SegmentRule) -> Typed:
    """The elements pyx12 checks against a format list: DTP03 (the format in DTP02, None here)
    and any 1251 value after a 1250 qualifier (the formats its listed codes name)."""
    out: list[tuple[int, ElementRule, tuple[str, ...] | None]] = []
    formats: list[str] = []
    for element in rule.elements:
        if not isinstance(element, ElementRule):
            continue
        if rule.id == "DTP" and element.seq == 3:
            out.append((3, element, None))
        elif element.data_ele == "1251" and formats:
            out.append((element.seq, element, tuple(formats)))
        if element.data_ele == "1250" and element.codes:
            formats.extend(sorted(element.codes))
    return tuple(out)


_CHECKS: dict[int, SegmentCheck] = {}


def segment_check(rule: SegmentRule, external: dict[str, frozenset[str]]) -> SegmentCheck:
    """The (per process) check of ``rule``."""
    found = _CHECKS.get(id(rule))
    if found is None or found.rule is not rule:
        found = _CHECKS[id(rule)] = SegmentCheck(rule, external)
    return found
