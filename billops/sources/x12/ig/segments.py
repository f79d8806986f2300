"""One segment's element checks, precompiled per segment rule, with the verdict on a whole
segment and each element's verdict on a value remembered (bounded), so what repeats in a file
is checked once. A check, and what it remembers, lives as long as one file's validation."""

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
CACHE_SEGMENTS = 4096  # remembered segments per segment rule
Plan = tuple[tuple[int, dict[str, tuple[EleError, ...]], ElementRule | CompositeRule], ...]


class SegmentCheck:
    __slots__ = (
        "absent",
        "component",
        "count",
        "external",
        "ordered",
        "plan",
        "rule",
        "seen",
        "syntax",
        "syntax_seen",
        "typed",
    )

    def __init__(self, rule: SegmentRule, external: dict[str, frozenset[str]]) -> None:
        self.rule = rule
        self.external = external
        self.count = len(rule.elements)
        self.plan: Plan = tuple((r.seq, {}, r) for r in rule.elements)  # set on first use
        self.ordered = all(r.seq == n for n, r in enumerate(rule.elements, start=1))
        self.absent: dict[int, list[EleError]] = {}  # last element present -> absent's errors
        self.syntax = bool(rule.syntax)
        self.typed = _typed(rule)
        # The syntax rules' verdict hangs only on which elements are present.
        self.syntax_seen: dict[tuple[bool, ...], list[EleError]] = {}
        self.seen: dict[tuple[str, ...], list[EleError]] = {}
        self.component = ""

    def errors(self, elements: list[str], component: str) -> list[EleError]:
        """The element errors of a segment's ``elements`` (``elements[0]`` is its id); the
        list returned may be shared: not to be changed."""
        if component != self.component:  # another interchange's delimiters: start afresh
            self.component = component
            self.seen = {}
            self.plan = tuple((seq, _cache(rule, component), rule) for seq, _old, rule in self.plan)
            self.absent = {}
        key = tuple(elements)
        out = self.seen.get(key)
        if out is None:
            out = self._errors(elements, component)
            if len(self.seen) < CACHE_SEGMENTS:
                self.seen[key] = out
        return out

    def _errors(self, elements: list[str], component: str) -> list[EleError]:
        out: list[EleError] = []
        last = len(elements) - 1
        if last > self.count:
            out.append(("3", "", f"Too many elements in segment: {last} > {self.count}"))
        plan = self.plan
        if self.ordered:  # element n at plan[n - 1]: the absent ones' verdict is known
            present, absent = plan[:last], self.absent.get(last)
            if absent is None:
                absent = self.absent[last] = self._absent(plan[last:], component)
        else:
            present, absent = plan, []
        for seq, cache, rule in present:
            value = elements[seq] if seq <= last else ""
            found = cache.get(value)
            if found is None:
                found = self._check(rule, value, component)
                if len(cache) < CACHE_VALUES:
                    cache[value] = found
            if found:
                out.extend(found)
        if absent:
            out.extend(absent)
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

    def _absent(self, rules: Plan, component: str) -> list[EleError]:
        """The errors of the elements after the last one present (a required one missing)."""
        out: list[EleError] = []
        for _seq, _cache, rule in rules:
            out.extend(self._check(rule, "", component))
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


# Element verdicts kept for the process, for the types that never hold PHI: codes (ID),
# amounts and counts (N, R) and times; the others (AN, dates) are remembered per file only.
_SHARED_TYPES = frozenset({"ID", "R", "TM"})
_SHARED: dict[tuple[int, str], dict[str, tuple[EleError, ...]]] = {}


def _cache(rule: ElementRule | CompositeRule, component: str) -> dict[str, tuple[EleError, ...]]:
    """Where an element's verdicts are remembered (they hang on the component separator)."""
    if isinstance(rule, ElementRule) and (
        rule.data_type in _SHARED_TYPES or rule.data_type.startswith("N")
    ):
        return _SHARED.setdefault((id(rule), component), {})
    return {}


class SegmentChecks:
    """The checks of one file's segment rules, made as its segments need them."""

    def __init__(self) -> None:
        self.checks: dict[int, SegmentCheck] = {}

    def get(self, rule: SegmentRule, external: dict[str, frozenset[str]]) -> SegmentCheck:
        found = self.checks.get(id(rule))
        if found is None:
            found = self.checks[id(rule)] = SegmentCheck(rule, external)
        return found
