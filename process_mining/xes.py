"""A streaming XES / XES.GZ reader: one trace in memory at a time, only the wanted attributes kept.

Attribute names follow pm4py's dataframe convention: an event attribute by its key
(``concept:name``, ``time:timestamp``), a trace attribute with the prefix ``case:``
(``case:concept:name``). Values are kept as the text of the file; the caller parses timestamps.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pandas as pd
from lxml import etree

from billops.errors import BillopsError

_ATTRIBUTE_TAGS = {"string", "date", "int", "float", "boolean", "id"}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _attributes(element: etree._Element) -> dict[str, str]:
    """The element's direct (not nested) simple attributes, key -> value."""
    out: dict[str, str] = {}
    for child in element:
        if _local(child.tag) in _ATTRIBUTE_TAGS:
            key = child.get("key")
            if key is not None:
                out[key] = child.get("value", "")
    return out


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def read_xes(path: Path, columns: Iterable[str]) -> pd.DataFrame:
    """One row per event, in file order, with the given columns (missing attribute -> None)."""
    wanted = list(dict.fromkeys(columns))
    trace_keys = {c: c[len("case:") :] for c in wanted if c.startswith("case:")}
    rows: list[tuple[str | None, ...]] = []
    seen: set[str] = set()
    pending: list[dict[str, str]] = []
    try:
        with _open(path) as fh:
            for _, element in etree.iterparse(
                fh, events=("end",), huge_tree=True, remove_comments=True
            ):
                kind = _local(element.tag)
                if kind == "event":
                    attrs = _attributes(element)
                    seen.update(attrs)
                    pending.append(attrs)
                    element.clear()
                elif kind == "trace":
                    case_attrs = _attributes(element)
                    seen.update(f"case:{k}" for k in case_attrs)
                    for attrs in pending:
                        rows.append(
                            tuple(
                                case_attrs.get(trace_keys[c]) if c in trace_keys else attrs.get(c)
                                for c in wanted
                            )
                        )
                    pending.clear()
                    element.clear()
                    # Drop the cleared trace from the root so memory stays flat.
                    parent = element.getparent()
                    if parent is not None:
                        while element.getprevious() is not None:
                            del parent[0]
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BillopsError(f"{path}: cannot read as XES ({reason})") from exc
    missing = [c for c in wanted if c not in seen]
    if rows and missing:
        known = ", ".join(sorted(seen)[:30])
        raise BillopsError(
            f"{path}: no attribute {', '.join(repr(c) for c in missing)} "
            f"(attributes: {known}; trace attributes take the prefix 'case:')"
        )
    return pd.DataFrame(rows, columns=wanted, dtype="object")
