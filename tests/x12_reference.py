"""What billops and pyx12 each read from an X12 file, claim by claim, for differential tests.

Claim-level values compared: for an 837, CLM01, CLM02 and CLM05-3 of every claim; for an 835,
CLP01-CLP07 of every claim and, per transaction set, BPR02 with TRN02. pyx12 is read through its
loop-aware ``X12ContextReader`` (a CLM counts only in a 2300 loop, a CLP in a 2100 loop, a TRN
only in the header); for an implementation guide it has no map for, through its map-less segment
reader ``X12Reader``, which reads the same segments without their loops.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from billops.sources import Reject, Row
from billops.sources.x12 import EXTRACTORS, X12Error, read_transaction_sets

Values = tuple[object, ...]
Getter = Callable[[str], "str | None"]


def dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None


def read_lenient(path: Path, kind: str) -> tuple[list[Row | Reject], list[X12Error]]:
    """billops' rows and rejects for ``path``, envelope errors collected instead of raised."""
    envelope_errors: list[X12Error] = []
    items: list[Row | Reject] = []
    for ts in read_transaction_sets(path, envelope_errors):
        if ts.kind == kind:
            items.extend(EXTRACTORS[kind](ts))
    return items, envelope_errors


def rows(items: list[Row | Reject], table: str) -> list[dict[str, object]]:
    return [i.values for i in items if isinstance(i, Row) and i.table == table]


def billops_values(items: list[Row | Reject], kind: str) -> list[Values]:
    """Claim-level values in file order (835: each set's claims, then its BPR02/TRN02)."""
    if kind == "837":
        return [
            (c["account_id"], c["total_charge"], c["claim_frequency_code"])
            for c in rows(items, "x12_claims")
        ]
    out: list[Values] = []
    for item in items:
        if not isinstance(item, Row):
            continue
        v = item.values
        if item.table == "x12_remit_claims":
            out.append(
                (
                    v["account_id"],
                    v["claim_status_code"],
                    v["charge_amount"],
                    v["paid_amount"],
                    v["patient_responsibility_amount"],
                    v["claim_filing_indicator"],
                    v["payer_claim_control_number"],
                )
            )
        elif item.table == "x12_remittances":
            out.append(("BPR", v["payment_amount"], v["trace_number"]))
    return _header_last(out)


def _header_last(values: list[Values]) -> list[Values]:
    """835 values with each set's BPR tuple moved after its claims (billops yields it first)."""
    out: list[Values] = []
    pending: Values | None = None
    for v in values:
        if v[0] == "BPR":
            if pending is not None:
                out.append(pending)
            pending = v
        else:
            out.append(v)
    if pending is not None:
        out.append(pending)
    return out


def _clp(value: Getter) -> Values:
    amounts = (dec(value("CLP03")), dec(value("CLP04")), dec(value("CLP05")))
    return (
        value("CLP01"),
        value("CLP02") or None,
        *amounts,
        value("CLP06") or None,
        value("CLP07") or None,
    )


def _clm(value: Getter) -> Values:
    return (value("CLM01"), dec(value("CLM02")), value("CLM05-3") or None)


class _Collector:
    """Claim values in file order; an 835 set's BPR02/TRN02 after its claims, at its SE."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.values: list[Values] = []
        self.bpr: Decimal | None = None
        self.trace: str | None = None

    def segment(self, sid: str, get: Getter, header: bool) -> None:
        if self.kind == "837" and sid == "CLM":
            self.values.append(_clm(get))
        elif self.kind == "835" and sid == "CLP":
            self.values.append(_clp(get))
        elif self.kind == "835" and sid == "BPR":
            self.bpr = dec(get("BPR02"))
        elif self.kind == "835" and sid == "TRN" and header:
            self.trace = get("TRN02")
        elif self.kind == "835" and sid == "SE":
            if self.trace:
                self.values.append(("BPR", self.bpr, self.trace))
            self.bpr = self.trace = None


def pyx12_values(path: Path, kind: str) -> list[Values]:
    """Claim values by pyx12's loop-aware reader; raises pyx12's EngineError without a map."""
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    out = _Collector(kind)
    with path.open(encoding="utf-8-sig") as fd:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), fd
        )
        for node in reader.iter_segments():
            sid = node.id
            loops = node.cur_path.split("/")
            if sid == "CLM" and "2300" not in loops:
                continue
            if sid == "CLP" and "2100" not in loops:
                continue
            out.segment(sid, node.get_value, header="2000" not in loops)
    return out.values


def pyx12_segment_values(path: Path, kind: str) -> list[Values]:
    """Claim values by pyx12's map-less segment reader (for guides it has no map for)."""
    import pyx12.x12file

    out = _Collector(kind)
    seen_claim = False
    with path.open(encoding="utf-8-sig") as fd, pyx12.x12file.X12Reader(fd) as source:
        for seg in source:
            sid = seg.get_seg_id()
            if sid in ("CLP", "LX"):
                seen_claim = True
            elif sid == "ST":
                seen_claim = False
            out.segment(sid, seg.get_value, header=not seen_claim)
    return out.values


def pyx12_coordination_of_benefits(path: Path) -> list[Values] | None:
    """Per claim, in file order: 2000B SBR01, the first 2320's 2330B NM109 and AMT*D, by pyx12's
    loop map. None when pyx12 has no map for the file's implementation guide.
    """
    import pyx12.error_handler
    import pyx12.errors
    import pyx12.params
    import pyx12.x12context

    found: list[Values] = []

    def claim(node: object, responsibility: str | None) -> Values:
        other = next(iter(node.select("2320")), None)  # type: ignore[attr-defined]
        if other is None:
            return (responsibility, None, None)
        paid = next(
            (a.get_value("AMT02") for a in other.select("AMT") if a.get_value("AMT01") == "D"),
            None,
        )
        return (responsibility, other.get_value("2330B/NM109"), paid)

    with path.open(encoding="utf-8-sig") as fd:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), fd
        )
        try:
            for node in reader.iter_segments("2000B"):
                if node.id != "2000B":
                    continue
                responsibility = node.get_value("SBR01")
                found.extend(claim(c, responsibility) for c in node.select("2300"))
                for patient in node.select("2000C"):
                    found.extend(claim(c, responsibility) for c in patient.select("2300"))
        except pyx12.errors.EngineError:
            return None
    return found
