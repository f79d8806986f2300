"""A guide's structure, read at run time from the installed pyx12 package's map XML.

Nothing of the maps is copied into the repository: the XML files (the guide map, dataele.xml,
codes.xml and the maps.xml index) are parsed from the pyx12 package directory once per process
and compiled into small frozen dataclasses.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import ClassVar

MAXINT = 2**31 - 1
_USAGES = frozenset({"R", "S", "N"})


@dataclass(frozen=True, slots=True)
class ElementRule:
    """One simple element (or component of a composite) of a segment."""

    refdes: str  # CLP01, SVC01-02
    usage: str
    seq: int
    data_type: str
    min_len: int
    max_len: int
    codes: frozenset[str] | None  # the listed codes; None: none listed
    external: str | None  # a codes.xml code list name (checked when not listed)
    first_of_optional_composite: bool = False  # component 1 of a composite that is not R
    first_code: str = ""  # the first listed code, in the map's order
    data_ele: str = ""  # its data element number (1250/1251: a format qualifier and its value)
    regex: re.Pattern[str] | None = None  # a pattern the value must hold (searched)


@dataclass(frozen=True, slots=True)
class CompositeRule:
    refdes: str
    usage: str
    seq: int
    components: tuple[ElementRule, ...]


@dataclass(frozen=True, slots=True)
class SegmentRule:
    id: str
    usage: str
    pos: int
    max_use: int
    elements: tuple[ElementRule | CompositeRule, ...]
    syntax: tuple[tuple[str, tuple[int, ...]], ...]
    key: tuple[int, int, frozenset[str]] | None  # (element, component or 0, codes) to match
    node: int = 0  # index in the guide's node table (counters)
    is_loop: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class LoopRule:
    id: str
    usage: str
    pos: int
    repeat: int
    children: tuple[LoopRule | SegmentRule, ...]
    node: int = 0
    descendants: tuple[int, ...] = ()  # node indexes reset on entry
    name: str = ""
    positions: tuple[int, ...] = ()  # the children's positions, in order (for bisect)
    span: tuple[int, int] | None = None  # descendants as one range of node numbers, if they are
    is_loop: ClassVar[bool] = True


@dataclass(frozen=True)
class Guide:
    """A compiled implementation guide; ``root`` is the ISA_LOOP's parent (the map root)."""

    name: str
    root: LoopRule
    codes: dict[str, frozenset[str]] = field(repr=False)
    parents: dict[int, LoopRule] = field(repr=False)  # node -> its parent loop
    nodes: int = 0
    paths: dict[str, int] = field(default_factory=dict, repr=False)  # pyx12 path -> node
    # segment id -> where its rules read the qualifier that tells them apart (element,
    # component or 0); absent when no rule of that id has one
    match_keys: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict, repr=False)
    xid: str = ""  # the map's transaction xid ("837" for 837P, "837Q3" for 837I, "835W1")


def map_dir() -> Path:
    """The installed pyx12 package's map folder."""
    return Path(str(resources.files("pyx12") / "map"))


@functools.cache
def data_elements() -> dict[str, tuple[str, int, int]]:
    """dataele.xml: element number -> (data type, min length, max length)."""
    tree = ET.parse(map_dir() / "dataele.xml")
    return {
        e.get("ele_num", ""): (
            e.get("data_type", ""),
            int(e.get("min_len", 0)),
            int(e.get("max_len", 0)),
        )
        for e in tree.getroot().iter("data_ele")
    }


@functools.cache
def external_codes() -> dict[str, frozenset[str]]:
    """codes.xml: code list id -> its codes (all versions together, as pyx12 checks them)."""
    tree = ET.parse(map_dir() / "codes.xml")
    out: dict[str, frozenset[str]] = {}
    for codeset in tree.getroot().iter("codeset"):
        name = codeset.findtext("id") or ""
        out[name] = frozenset(c.text or "" for c in codeset.iter("code"))
    return out


@functools.cache
def map_index() -> dict[tuple[str, str, str], str]:
    """maps.xml: (ISA12, GS01, GS08) -> map file name."""
    tree = ET.parse(map_dir() / "maps.xml")
    out: dict[tuple[str, str, str], str] = {}
    for version in tree.getroot().iter("version"):
        for entry in version.iter("map"):
            key = (version.get("icvn", ""), entry.get("fic", ""), entry.get("vriic", ""))
            out.setdefault(key, (entry.text or "").strip())
    return out


def find_map(icvn: str, fic: str, vriic: str) -> str | None:
    return map_index().get((icvn, fic, vriic))


def _text(elem: ET.Element, tag: str, default: str = "") -> str:
    value = elem.get(tag) or elem.findtext(tag)
    return value.strip() if value else default


def _repeat(value: str) -> int:
    return MAXINT if not value or value == ">1" else int(value)


def _element(elem: ET.Element, optional_composite: bool = False) -> ElementRule:
    number = _text(elem, "data_ele")
    data_type, min_len, max_len = data_elements().get(number, ("", 0, MAXINT))
    valid = elem.find("valid_codes")
    codes: frozenset[str] | None = None
    external = None
    ordered: list[str] = []
    if valid is not None:
        external = valid.get("external")
        ordered = [(c.text or "") for c in valid.findall("code")]
        codes = frozenset(ordered) or None
    seq = int(_text(elem, "seq", "0"))
    return ElementRule(
        refdes=elem.get("xid", ""),
        usage=_text(elem, "usage"),
        seq=seq,
        data_type=data_type,
        min_len=min_len,
        max_len=max_len,
        codes=codes,
        external=external,
        first_of_optional_composite=optional_composite and seq == 1,
        first_code=ordered[0] if ordered else "",
        data_ele=number,
        regex=re.compile(pattern, re.S) if (pattern := _text(elem, "regex")) else None,
    )


def _composite(elem: ET.Element) -> CompositeRule:
    usage = _text(elem, "usage")
    parts = tuple(_element(e, usage != "R") for e in elem.findall("element"))
    return CompositeRule(elem.get("xid", ""), usage, int(_text(elem, "seq", "0")), parts)


def _syntax(text: str) -> tuple[str, tuple[int, ...]] | None:
    if not text or text[0] not in "PRCLE":
        return None
    digits = text[1:]
    return text[0], tuple(int(digits[i * 2 : i * 2 + 2]) for i in range(len(digits) // 2))


def _key(
    seg_id: str, elements: tuple[ElementRule | CompositeRule, ...]
) -> tuple[int, int, frozenset[str]] | None:
    """Where pyx12's is_match reads the qualifier that tells same-id segments apart."""
    c0 = elements[0] if elements else None
    if isinstance(c0, ElementRule) and c0.data_type == "ID" and c0.usage == "R" and c0.codes:
        return 1, 0, _listed(c0)
    if (
        isinstance(c0, CompositeRule)
        and c0.components[0].data_type == "ID"
        and c0.components[0].codes
    ):
        return 1, 1, _listed(c0.components[0])
    c2 = elements[2] if len(elements) > 2 else None
    if seg_id == "HL" and isinstance(c2, ElementRule) and c2.codes:
        return 3, 0, _listed(c2)
    return None


def _listed(rule: ElementRule) -> frozenset[str]:
    return rule.codes or frozenset()


class _Builder:
    """Numbers the nodes by pyx12 path (same path, same counter) while compiling a map."""

    def __init__(self) -> None:
        self.paths: dict[str, int] = {}
        self.parents: dict[int, LoopRule] = {}

    def number(self, path: str) -> int:
        return self.paths.setdefault(path, len(self.paths) + 1)

    def segment(self, elem: ET.Element, path: str, suffix: bool) -> SegmentRule:
        seg_id = elem.get("xid", "")
        elements: list[ElementRule | CompositeRule] = []
        for child in elem:
            if child.tag == "element":
                elements.append(_element(child))
            elif child.tag == "composite":
                elements.append(_composite(child))
        elements.sort(key=lambda e: e.seq)
        rules = tuple(elements)
        own = seg_id
        if suffix:  # pyx12 tells same-position segments apart by their first listed code
            guess = _guess_key(seg_id, rules)
            if guess is not None:
                own += f"[{guess}]"
        syntax = tuple(s for s in (_syntax(_t.text or "") for _t in elem.findall("syntax")) if s)
        return SegmentRule(
            id=seg_id,
            usage=_text(elem, "usage"),
            pos=int(_text(elem, "pos", "0")),
            max_use=_repeat(_text(elem, "max_use")),
            elements=rules,
            syntax=syntax,
            key=_key(seg_id, rules),
            node=self.number(f"{path}/{own}"),
        )

    def loop(self, elem: ET.Element, parent_path: str) -> LoopRule:
        loop_id = elem.get("xid", "")
        path = f"{parent_path}/{loop_id}"
        children = self.children(elem, path)
        node = self.number(path)
        prefix = path + "/"
        descendants = tuple(n for p, n in self.paths.items() if p.startswith(prefix))
        rule = LoopRule(
            id=loop_id,
            usage=_text(elem, "usage"),
            pos=int(_text(elem, "pos", "0")),
            repeat=_repeat(_text(elem, "repeat")),
            children=children,
            node=node,
            descendants=descendants,
            name=_text(elem, "name"),
            positions=tuple(c.pos for c in children),
            span=_span(descendants),
        )
        for child in children:
            self.parents[child.node] = rule
        return rule

    def children(self, elem: ET.Element, path: str) -> tuple[LoopRule | SegmentRule, ...]:
        """Children in pyx12's order: by position, loops before segments at one position."""
        by_pos: dict[int, list[ET.Element]] = {}
        for tag in ("loop", "segment"):
            for child in elem.findall(tag):
                by_pos.setdefault(int(_text(child, "pos", "0")), []).append(child)
        out: list[LoopRule | SegmentRule] = []
        for pos in sorted(by_pos):
            shared = len(by_pos[pos]) > 1
            for child in by_pos[pos]:
                if child.tag == "loop":
                    out.append(self.loop(child, path))
                else:
                    out.append(self.segment(child, path, shared))
        return tuple(out)


def _span(nodes: tuple[int, ...]) -> tuple[int, int] | None:
    """(first, end) when ``nodes`` are exactly one run of consecutive numbers."""
    if not nodes:
        return None
    low, high = min(nodes), max(nodes) + 1
    return (low, high) if len(set(nodes)) == high - low else None


def _guess_key(seg_id: str, rules: tuple[ElementRule | CompositeRule, ...]) -> str | None:
    """pyx12's guess_unique_key_id_element: the first listed code of the qualifier."""
    c0 = rules[0] if rules else None
    if isinstance(c0, ElementRule) and c0.data_type == "ID" and c0.codes:
        return _first_code(c0)
    if (
        isinstance(c0, CompositeRule)
        and c0.components[0].data_type == "ID"
        and c0.components[0].codes
    ):
        return _first_code(c0.components[0])
    c2 = rules[2] if len(rules) > 2 else None
    if seg_id == "HL" and isinstance(c2, ElementRule) and c2.codes:
        return _first_code(c2)
    return None


def _first_code(rule: ElementRule) -> str:
    return rule.first_code


@functools.cache
def load_guide(filename: str) -> Guide:
    """The compiled guide of one pyx12 map file (cached per process)."""
    root_elem = ET.parse(map_dir() / filename).getroot()
    builder = _Builder()
    children = builder.children(root_elem, "")
    root = LoopRule(
        positions=tuple(c.pos for c in children),
        id="",
        usage="R",
        pos=0,
        repeat=1,
        children=children,
        node=0,
        descendants=tuple(builder.paths.values()),
        name=root_elem.findtext("name") or "",
    )
    for child in children:
        builder.parents[child.node] = root
    nodes = len(builder.paths) + 1
    keys: dict[str, set[tuple[int, int]]] = {}
    for rule in _all_segments(root):
        if rule.key is not None:
            keys.setdefault(rule.id, set()).add(rule.key[:2])
    match_keys = {sid: tuple(sorted(where)) for sid, where in keys.items()}
    return Guide(
        filename,
        root,
        external_codes(),
        builder.parents,
        nodes,
        builder.paths,
        match_keys,
        root_elem.get("xid", ""),
    )


def _all_segments(loop: LoopRule) -> list[SegmentRule]:
    out: list[SegmentRule] = []
    for child in loop.children:
        out += _all_segments(child) if isinstance(child, LoopRule) else [child]
    return out
