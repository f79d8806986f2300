"""837P and 837I claims: rows of x12_claims, x12_claim_lines and x12_claim_diagnoses.

One transaction set is walked by HL level (2000A billing provider, 2000B subscriber, 2000C
patient) and by claim (2300 with its 2320 other payer and its 2400 service lines). The unit of
rejection is the claim with its lines; a diagnosis without a code is rejected on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from billops.sources import RecordError, Reject, Row
from billops.sources.x12.envelope import TransactionSet
from billops.sources.x12.tokenizer import Segment
from billops.sources.x12.values import (
    first_flaw,
    joined_modifiers,
    readable_amount,
    segments_text,
    x12_amount,
    x12_date,
    x12_int,
    x12_range_end,
    x12_timestamp,
)

# Row(table, record, values) is built positionally: one is made per raw row, and keyword
# arguments to a named tuple cost about half as much again.

# HI qualifiers that carry diagnoses (ICD-10-CM, and ICD-9-CM for old files).
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"})
# Loops that start inside a 2300 claim or 2400 line and hold their own NM1/REF/DTP segments.
_CLAIM_SUBLOOP = frozenset({"NM1", "SBR"})
_LINE_SUBLOOP = frozenset({"NM1", "LIN", "SVD"})
# 2300 REF qualifiers kept on the claim, by the column they fill.
_CLAIM_REFS = {"G1": "prior_auth_number", "F8": "original_claim_ref", "EA": "patient_id"}


@dataclass
class _HLevel:
    level: str  # HL03: 20 billing provider, 22 subscriber, 23 patient
    parent: str
    values: dict[str, object] = field(default_factory=dict)


def _claim_type(implementation: str, body: list[Segment]) -> str:
    if "X222" in implementation or "X098" in implementation:
        return "P"
    if "X223" in implementation or "X096" in implementation:
        return "I"
    for seg in body:
        if seg.id in ("SV1", "SV2"):
            return "P" if seg.id == "SV1" else "I"
    return ""


def _map_level_segment(level: _HLevel, seg: Segment) -> None:
    """A segment of an HL level (2000A/2000B/2000C with their 2010 name loops): NM1*85 the
    billing provider, NM1*IL the subscriber and its DMG, NM1*PR the payer, SBR the payer's
    responsibility."""
    values = level.values
    if seg.id == "NM1":
        values["_last_nm1"] = seg[1]
        if seg[1] == "85":
            values["billing_provider_name"] = seg[3] or None
            values["billing_provider_npi"] = seg[9] if seg[8] == "XX" and seg[9] else None
        elif seg[1] == "IL":
            values.update(
                member_id=seg[9] or None,
                subscriber_last_name=seg[3] or None,
                subscriber_first_name=seg[4] or None,
            )
        elif seg[1] == "PR":
            values.update(payer_id=seg[9] or None, payer_name=seg[3] or None)
    elif seg.id == "SBR":
        values["payer_responsibility"] = seg[1] or None
    elif seg.id == "DMG" and values.get("_last_nm1") == "IL":
        values["_dmg"] = seg


def _new_line(lx: Segment, base: dict[str, object]) -> dict[str, object]:
    line: dict[str, object] = {
        **base,
        "line_number": x12_int(lx[1], "LX01"),
        "charge_id": None,
        "hcpcs": None,
        "modifiers": None,
        "charge_amount": None,
        "units": None,
        "service_date": None,
        "prior_auth_number": None,
    }
    if line["line_number"] is None:
        raise RecordError(f"LX at segment {lx.number} has no line number")
    return line


def _map_procedure(line: dict[str, object], seg: Segment) -> None:
    """SV1 (837P) or SV2 (837I): procedure, modifiers, charge and units of a line."""
    professional = seg.id == "SV1"
    composite = seg.components(1 if professional else 2)
    where = "SV101" if professional else "SV202"
    if len(composite) < 2 or not composite[1]:
        raise RecordError(f"{where} has no procedure code")
    line.update(
        hcpcs=composite[1],
        modifiers=joined_modifiers(composite),
        charge_amount=x12_amount(
            seg[2] if professional else seg[3], "SV102" if professional else "SV203"
        ),
        units=x12_amount(seg[4] if professional else seg[5], "SV104" if professional else "SV205"),
    )


def _line_row(line: dict[str, object], lx: Segment) -> Row:
    if line.get("hcpcs") is None:
        raise RecordError(f"service line LX*{line['line_number']} has no SV1/SV2 procedure code")
    return Row("x12_claim_lines", lx.number, line)


def _map_lines(segments: list[Segment], base: dict[str, object]) -> list[Row]:
    """The 2400 loops of a claim, ``segments`` starting at the first LX: each LX with its SV1 or
    SV2, DTP*472 and REF*6R/G1; the line's sub-loops (NM1, LIN, SVD) are skipped."""
    rows: list[Row] = []
    lx = segments[0]
    line = _new_line(lx, base)
    in_subloop = False
    for seg in segments[1:]:
        sid = seg.id
        if sid == "LX":
            rows.append(_line_row(line, lx))
            lx, in_subloop = seg, False
            line = _new_line(seg, base)
        elif sid in _LINE_SUBLOOP:
            in_subloop = True
        elif in_subloop:
            continue
        elif sid == "SV1" or sid == "SV2":
            _map_procedure(line, seg)
        elif sid == "DTP" and seg[1] == "472":
            line["service_date"] = x12_date(seg[3], "DTP*472", phi=True)
        elif sid == "REF" and seg[1] == "6R":
            line["charge_id"] = seg[2] or None
        elif sid == "REF" and seg[1] == "G1":
            line["prior_auth_number"] = seg[2] or None  # 2400 prior authorization
    rows.append(_line_row(line, lx))
    return rows


class _ClaimLoop:
    """The segments of a 2300 loop after its CLM: REF, DTP*434 and HI of the claim, its 2320
    other payers (the first one's payer id and AMT*D paid are kept) and its 2400 lines."""

    def __init__(self, claim: dict[str, object], envelope: dict[str, object]) -> None:
        self.claim = claim
        self.envelope = envelope
        self.lines: list[Row] = []
        self.diagnoses: list[Row] = []
        self.rejects: list[Reject] = []
        self.other_payers = 0  # 2320 loops seen
        self.in_subloop = False

    def read(self, segments: list[Segment]) -> None:
        # Once the first LX starts a line, every segment that follows belongs to a line.
        for index, seg in enumerate(segments):
            sid = seg.id
            if sid == "LX":
                base = {**self.envelope, "account_id": self.claim["account_id"]}
                self.lines = _map_lines(segments[index:], base)
                return
            if sid in _CLAIM_SUBLOOP:
                self._subloop_start(seg)
            elif self.in_subloop:
                self._subloop_segment(seg)
            else:
                self._claim_segment(seg)

    def _subloop_start(self, seg: Segment) -> None:
        """SBR (a 2320 other payer) or NM1 (2310 providers, 2330 other payer names)."""
        self.in_subloop = True
        if seg.id == "SBR":
            self.other_payers += 1
        elif self.other_payers == 1 and seg[1] == "PR" and self.claim["other_payer_id"] is None:
            self.claim["other_payer_id"] = seg[9] or None

    def _subloop_segment(self, seg: Segment) -> None:
        if self.other_payers == 1 and seg.id == "AMT" and seg[1] == "D":
            self.claim["other_payer_paid_amount"] = x12_amount(seg[2], "2320 AMT*D")

    def _claim_segment(self, seg: Segment) -> None:
        claim = self.claim
        if seg.id == "REF":
            key = _CLAIM_REFS.get(seg[1])
            if key:
                claim[key] = seg[2] or None
        elif seg.id == "DTP" and seg[1] == "434":
            claim["statement_from"] = x12_date(seg[3], "DTP*434", phi=True)
            claim["statement_to"] = x12_range_end(seg[3], "DTP*434", phi=True)
        elif seg.id == "HI":
            self._diagnoses(seg)

    def _diagnoses(self, seg: Segment) -> None:
        for index in range(1, len(seg.elements)):
            composite = seg.components(index)
            qualifier = composite[0]
            if qualifier not in DIAGNOSIS_QUALIFIERS:
                continue  # value, occurrence, condition codes and procedures are not diagnoses
            code = composite[1].replace(".", "") if len(composite) > 1 else ""
            if not code:
                self.rejects.append(
                    Reject(
                        record=seg.number,
                        reason=f"HI{index:02d}: diagnosis qualifier {qualifier} without a code",
                        original_text=seg.text,
                    )
                )
                continue
            values = {
                **self.envelope,
                "account_id": self.claim["account_id"],
                "sequence": len(self.diagnoses) + 1,
                "qualifier": qualifier,
                "code": code,
            }
            self.diagnoses.append(Row("x12_claim_diagnoses", seg.number, values))


class _Claims837:
    """Walks one 837 transaction set and builds its claims."""

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.envelope = ts.control_columns()
        self.claim_type = _claim_type(ts.implementation, ts.body)
        self.levels: dict[str, _HLevel] = {}
        self.latest: dict[str, _HLevel] = {}
        self.current: _HLevel | None = None
        self.bht: Segment | None = None
        self.flawed = bool(ts.flawed())
        self.header_flaw: Segment | None = None  # a flawed segment before the first HL

    def rows(self) -> Iterator[Row | Reject]:
        claim: list[Segment] = []
        claim_level: _HLevel | None = None
        for seg in self.ts.body:
            if seg.id in ("HL", "CLM"):
                if claim:
                    yield from self._claim(claim, claim_level)
                    claim = []
                if seg.id == "HL":
                    self._start_level(seg)
                    if seg.problem is not None:
                        self.current.values["_flaw"] = seg  # type: ignore[union-attr]
                else:
                    claim, claim_level = [seg], self.current
            elif claim:
                claim.append(seg)
            elif seg.problem is not None:  # its level's claims, or the set's, are rejected
                if self.current is None:
                    self.header_flaw = self.header_flaw or seg
                else:
                    self.current.values.setdefault("_flaw", seg)
            elif seg.id == "BHT":
                self.bht = seg
            elif self.current is not None:
                _map_level_segment(self.current, seg)
        if claim:
            yield from self._claim(claim, claim_level)

    def _start_level(self, seg: Segment) -> None:
        level = _HLevel(level=seg[3], parent=seg[2])
        self.levels[seg[1]] = level
        self.latest[level.level] = level
        self.current = level

    def _parent(self, level: _HLevel | None, wanted: str) -> _HLevel | None:
        """The ancestor of ``level`` at HL level ``wanted`` by HL02, else the latest one seen."""
        seen = 0
        node = level
        while node is not None and seen < 10:
            if node.level == wanted:
                return node
            node = self.levels.get(node.parent)
            seen += 1
        return self.latest.get(wanted)

    def _flaw(self, segments: list[Segment], level: _HLevel | None) -> Segment | None:
        """A flawed segment of the claim, of the set's header or of an HL level it is under."""
        found = first_flaw(segments) or self.header_flaw
        nodes = [self._parent(level, "22"), self._parent(level, "20")]
        node, seen = level, 0
        while node is not None and seen < 10:
            nodes.append(node)
            node, seen = self.levels.get(node.parent), seen + 1
        for node in nodes:
            if found is None and node is not None:
                found = node.values.get("_flaw")  # type: ignore[assignment]
        return found

    def _claim(self, segments: list[Segment], level: _HLevel | None) -> Iterator[Row | Reject]:
        clm = segments[0]
        try:
            rows, rejects = self._map_claim(segments, level)
        except RecordError as exc:
            yield Reject(
                record=clm.number,
                reason=f"claim (CLM at segment {clm.number}) cannot be mapped: {exc}",
                original_text=segments_text(segments),
                unit="claim",
                unit_key=(clm[1] or None) if clm.problem is None else None,
                amount=readable_amount(clm[2]) if clm.problem is None else None,
            )
            return
        yield from rows
        yield from rejects

    def _map_claim(
        self, segments: list[Segment], level: _HLevel | None
    ) -> tuple[list[Row], list[Reject]]:
        """The claim row, its line and diagnosis rows; the rejects of its diagnoses."""
        clm = segments[0]
        if self.flawed:
            flaw = self._flaw(segments, level)
            if flaw is not None:
                raise RecordError(self.ts.flaw(flaw))
        if not clm[1]:
            raise RecordError("CLM01 (patient account number) is empty")
        if level is None:
            raise RecordError("claim is not inside an HL loop")
        claim = self._claim_values(clm, level)
        loop = _ClaimLoop(claim, self.envelope)
        loop.read(segments[1:])
        row = Row("x12_claims", clm.number, claim)
        return [row, *loop.lines, *loop.diagnoses], loop.rejects

    def _claim_values(self, clm: Segment, level: _HLevel) -> dict[str, object]:
        """The x12_claims row from CLM, BHT and the claim's billing provider and subscriber
        levels; the 2300 segments after CLM fill in the rest."""
        subscriber = self._parent(level, "22")
        provider = self._parent(level, "20")
        sub = subscriber.values if subscriber else {}
        prov = provider.values if provider else {}
        dmg = sub.get("_dmg")
        submitted_at = (
            x12_timestamp(self.bht[4], self.bht[5], "BHT04/BHT05") if self.bht is not None else None
        )
        return {
            **self.envelope,
            "implementation": self.ts.implementation,
            "claim_type": self.claim_type,
            "submitted_at": submitted_at,
            "billing_provider_npi": prov.get("billing_provider_npi"),
            "billing_provider_name": prov.get("billing_provider_name"),
            "payer_id": sub.get("payer_id"),
            "payer_name": sub.get("payer_name"),
            "member_id": sub.get("member_id"),
            "subscriber_last_name": sub.get("subscriber_last_name"),
            "subscriber_first_name": sub.get("subscriber_first_name"),
            "subscriber_birth_date": (
                x12_date(dmg[2], "DMG02", phi=True)
                if isinstance(dmg, Segment) and dmg[1] == "D8"
                else None
            ),
            "patient_id": None,
            "account_id": clm[1],
            "total_charge": x12_amount(clm[2], "CLM02"),
            "facility_code": clm.component(5, 1) or None,
            "claim_frequency_code": clm.component(5, 3) or None,
            "original_claim_ref": None,
            "prior_auth_number": None,
            "statement_from": None,
            "statement_to": None,
            "payer_responsibility": sub.get("payer_responsibility"),
            "other_payer_id": None,
            "other_payer_paid_amount": None,
        }


def extract_837(ts: TransactionSet) -> Iterator[Row | Reject]:
    """Rows of x12_claims, x12_claim_lines and x12_claim_diagnoses for one 837 set."""
    return _Claims837(ts).rows()
