"""835 remittance advice: rows of x12_remittances, x12_remit_claims, x12_remit_service_lines,
x12_remit_adjustments and x12_remit_plb.

One transaction set is its header (BPR, TRN, 1000A/1000B N1 with REF, DTM*405), its 2100 claims
(CLP with NM1, DTM and claim-level CAS), each with its 2110 service lines (SVC with DTM, CAS,
REF), and its PLB provider adjustments. Every row of a set is built before any is handed on:
a header, claim or PLB that cannot be mapped makes the whole set one Reject (unit
``transaction_set``), so a payment never loads in part. A malformed service line is the
exception: it is rejected on its own (unit ``record``) and its claim loads without it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

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
)

# Row(table, record, values) is built positionally: one is made per raw row, and keyword
# arguments to a named tuple cost about half as much again.

# Where the amount and the quantity of CAS triple k come from, for error messages.
_CAS_AMOUNT_WHERE = tuple(f"CAS{3 + 3 * k:02d}" for k in range(6))
_CAS_QUANTITY_WHERE = tuple(f"CAS{4 + 3 * k:02d}" for k in range(6))
_DTM_WHERE = {code: f"DTM*{code}" for code in ("472", "150", "232", "050")}

# Segments of an 835 2110 service-line loop: its SVC and what follows it.
_LineGroup = list[Segment]


def _cas_rows(seg: Segment, base: dict[str, object], start: int) -> list[dict[str, object]]:
    """Every group/reason/amount/quantity triple of a CAS segment."""
    group = seg[1]
    if not group:
        raise RecordError(f"CAS at segment {seg.number} has no group code")
    rows = []
    elements = seg.elements
    count = len(elements)
    for k in range(min(6, count // 3)):  # the triples present: CAS02-04 .. CAS17-19
        i = 2 + 3 * k
        reason = elements[i]
        amount = elements[i + 1] if i + 1 < count else ""
        quantity = elements[i + 2] if i + 2 < count else ""
        if not (reason or amount or quantity):
            continue
        if not reason or not amount:
            raise RecordError(
                f"CAS at segment {seg.number}: adjustment {k + 1} lacks a reason code or amount"
            )
        rows.append(
            {
                **base,
                "adj_seq": start + len(rows),
                "group_code": group,
                "reason_code": reason,
                "amount": x12_amount(amount, _CAS_AMOUNT_WHERE[k]),
                "quantity": x12_amount(quantity, _CAS_QUANTITY_WHERE[k]),
            }
        )
    return rows


def _line_groups(segments: list[Segment]) -> list[_LineGroup]:
    """The 2110 loops of a claim's segments from its first SVC on."""
    lines: list[_LineGroup] = []
    for seg in segments:
        if seg.id == "SVC":
            lines.append([seg])
        else:
            lines[-1].append(seg)  # DTM, CAS, REF, AMT, QTY, LQ of the line
    return lines


def _map_line(group: _LineGroup, base: dict[str, object], line_seq: int) -> list[Row]:
    """A 2110 loop: the service-line row and its CAS rows; ``line_seq`` is the SVC's place in
    its claim."""
    svc = group[0]
    composite = svc.components(1)
    if len(composite) < 2 or not composite[1]:
        raise RecordError("SVC01 has no procedure code")
    line: dict[str, object] = {
        **base,
        "line_seq": line_seq,
        "charge_id": None,
        "procedure_qualifier": composite[0] or None,
        "procedure_code": composite[1],
        "modifiers": joined_modifiers(composite),
        "charge_amount": x12_amount(svc[2], "SVC02"),
        "paid_amount": x12_amount(svc[3], "SVC03"),
        "units_paid": x12_amount(svc[5], "SVC05"),
        "service_date": None,
    }
    dates: dict[str, date | None] = {}
    adjustments: list[Row] = []
    for seg in group[1:]:
        sid = seg.id
        if sid == "DTM":
            code = seg[1]
            if code in ("472", "150"):
                dates.setdefault(code, x12_date(seg[2], _DTM_WHERE[code], phi=True))
        elif sid == "REF" and seg[1] == "6R":
            line["charge_id"] = seg[2] or None
        elif sid == "CAS":
            cas_base = {**base, "line_seq": line_seq, "charge_id": None}
            for values in _cas_rows(seg, cas_base, len(adjustments) + 1):
                adjustments.append(Row("x12_remit_adjustments", seg.number, values))
    line["service_date"] = dates.get("472") or dates.get("150")
    for adjustment in adjustments:
        adjustment.values["charge_id"] = line["charge_id"]  # REF*6R may follow the line's CAS
    return [Row("x12_remit_service_lines", svc.number, line), *adjustments]


class _SetRejected(Exception):
    """The 835 transaction set cannot be loaded; ``why`` says where (never a PHI value)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Remittance835:
    """Walks one 835 transaction set: header, CLP claims and PLB adjustments."""

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.envelope = ts.control_columns()
        self.trace = ""
        self.payment: Decimal | None = None  # BPR02 when readable, for a Reject
        self.bpr16: date | None = None
        self.flawed = bool(ts.flawed())

    def _reject_set(self, why: str) -> Reject:
        trace = f" (trace {self.trace})" if self.trace else ""
        return Reject(
            record=self.ts.number,
            reason=f"835 transaction set {self.ts.control_number}{trace} is rejected whole, so "
            f"that no part of its payment loads: {why}",
            original_text=segments_text(self.ts.segments),
            unit="transaction_set",
            unit_key=self.trace or None,
            amount=self.payment,
        )

    def rows(self) -> Iterator[Row | Reject]:
        body = self.ts.body
        first = next((i for i, s in enumerate(body) if s.id in ("LX", "CLP", "PLB")), len(body))
        header, rest = body[:first], body[first:]
        trn = next((s for s in header if s.id == "TRN"), None)
        bpr = next((s for s in header if s.id == "BPR"), None)
        if bpr is not None and bpr.problem is None:
            self.payment = readable_amount(bpr[2])
        if self.flawed:
            flawed = first_flaw(header)
            if flawed is not None:
                self.trace = trn[2] if trn is not None and trn.problem is None else ""
                yield self._reject_set(f"its header cannot be read: {self.ts.flaw(flawed)}")
                return
        if trn is None or not trn[2]:
            yield self._reject_set("it has no TRN02 trace number, which keys every row of it")
            return
        self.trace = trn[2]
        self.envelope["trace_number"] = self.trace
        try:
            items = self._items(header, bpr, trn, rest)
        except _SetRejected as exc:
            yield self._reject_set(exc.why)
            return
        yield from items

    def _items(
        self, header: list[Segment], bpr: Segment | None, trn: Segment, rest: list[Segment]
    ) -> list[Row | Reject]:
        where = bpr or trn
        try:
            values = self._header(header, bpr, trn)
        except RecordError as exc:
            raise _SetRejected(f"its header (BPR, TRN, N1) cannot be mapped: {exc}") from exc
        items: list[Row | Reject] = [Row("x12_remittances", where.number, values)]
        claim_seq = plb_seq = 0
        claim: list[Segment] = []
        for seg in rest:
            if seg.id in ("CLP", "LX", "PLB") and claim:
                items.extend(self._claim(claim, claim_seq))
                claim = []
            if seg.id == "CLP":
                claim_seq += 1
                claim = [seg]
            elif claim:
                claim.append(seg)
            elif seg.id == "PLB":
                plb_seq += 1
                items.extend(self._plb(seg, plb_seq))
            elif seg.problem is not None:
                raise _SetRejected(self.ts.flaw(seg))
        if claim:
            items.extend(self._claim(claim, claim_seq))
        return items

    def _header(
        self, header: list[Segment], bpr: Segment | None, trn: Segment
    ) -> dict[str, object]:
        """The x12_remittances row: BPR, TRN, the payer (1000A) and payee (1000B), DTM*405."""
        if bpr is None:
            raise RecordError("no BPR segment")
        values: dict[str, object] = {
            **self.envelope,
            "payment_amount": x12_amount(bpr[2], "BPR02"),
            "credit_debit": bpr[3] or None,
            "payment_method": bpr[4] or None,
            "payment_date": x12_date(bpr[16], "BPR16"),
            "payer_id": None,
            "payer_name": None,
            "payee_npi": None,
            "payee_name": None,
            "production_date": None,
            "originator_id": trn[3] or None,
        }
        self.bpr16 = values["payment_date"]  # type: ignore[assignment]
        n1 = ""
        payer_ref = None
        for seg in header:
            if seg.id == "N1":
                n1 = seg[1]
                if n1 == "PR":
                    values.update(payer_name=seg[2] or None, payer_id=seg[4] or None)
                elif n1 == "PE":
                    values.update(
                        payee_name=seg[2] or None,
                        payee_npi=seg[4] if seg[3] == "XX" and seg[4] else None,
                    )
            elif seg.id == "REF" and n1 == "PR" and seg[1] == "2U" and seg[2]:
                payer_ref = payer_ref or seg[2]
            elif seg.id == "DTM" and seg[1] == "405":
                values["production_date"] = x12_date(seg[2], "DTM*405")
        # The payer: N1*PR N104, else its REF*2U, else the originating company (TRN03).
        values["payer_id"] = values["payer_id"] or payer_ref or values["originator_id"]
        return values

    def _claim(self, segments: list[Segment], claim_seq: int) -> list[Row | Reject]:
        clp = segments[0]
        try:
            return self._map_claim(segments, claim_seq)
        except RecordError as exc:
            raise _SetRejected(
                f"claim {claim_seq} (CLP at segment {clp.number}) cannot be mapped: {exc}"
            ) from exc

    def _map_claim(self, segments: list[Segment], claim_seq: int) -> list[Row | Reject]:
        """A 2100 loop: the claim row and its claim-level CAS rows, then its service lines' rows
        and the rejects of the lines that cannot be mapped."""
        clp = segments[0]
        if self.flawed:  # at claim level (before the first SVC) the set is rejected
            flawed = first_flaw(itertools.takewhile(lambda seg: seg.id != "SVC", segments))
            if flawed is not None:
                raise RecordError(self.ts.flaw(flawed))
        account_id = clp[1]
        if not account_id:
            raise RecordError("CLP01 (patient account number) is empty")
        base = {**self.envelope, "claim_seq": claim_seq, "account_id": account_id}
        claim = self._claim_values(clp, base)
        rows: list[Row | Reject] = [Row("x12_remit_claims", clp.number, claim)]
        first_line = self._claim_level(claim, base, segments, rows)
        rejects: list[Reject] = []
        for line_seq, group in enumerate(_line_groups(segments[first_line:]), start=1):
            try:
                flawed = first_flaw(group) if self.flawed else None
                if flawed is not None:
                    raise RecordError(self.ts.flaw(flawed))
                rows.extend(_map_line(group, base, line_seq))
            except RecordError as exc:
                rejects.append(self._reject_line(group, line_seq, claim_seq, exc))
        return rows + rejects

    @staticmethod
    def _claim_values(clp: Segment, base: dict[str, object]) -> dict[str, object]:
        """The x12_remit_claims row from CLP; the claim-level segments fill in the rest."""
        return {
            **base,
            "claim_status_code": clp[2] or None,
            "charge_amount": x12_amount(clp[3], "CLP03"),
            "paid_amount": x12_amount(clp[4], "CLP04"),
            "patient_responsibility_amount": x12_amount(clp[5], "CLP05"),
            "claim_filing_indicator": clp[6] or None,
            "payer_claim_control_number": clp[7] or None,
            "facility_code": clp[8] or None,
            "claim_frequency_code": clp[9] or None,
            "patient_last_name": None,
            "patient_first_name": None,
            "member_id": None,
            "paid_date": None,
        }

    def _claim_level(
        self,
        claim: dict[str, object],
        base: dict[str, object],
        segments: list[Segment],
        rows: list[Row | Reject],
    ) -> int:
        """The 2100 segments after CLP and before the first SVC: NM1*QC/IL fill in the patient
        and member id, DTM*232/050 the paid date, and the rows of its claim-level CAS are added
        to ``rows``. Returns where the first SVC is (the length of ``segments`` without one)."""
        claim_dates: dict[str, date | None] = {}
        qc_member = il_member = None
        adjustments = 0
        first_line = len(segments)
        for index in range(1, first_line):
            seg = segments[index]
            sid = seg.id
            if sid == "SVC":
                first_line = index
                break
            if sid == "NM1":
                qualifier = seg[1]
                if qualifier == "QC":
                    claim["patient_last_name"] = seg[3] or None
                    claim["patient_first_name"] = seg[4] or None
                    qc_member = seg[9] or None
                elif qualifier == "IL":
                    il_member = seg[9] or None
            elif sid == "DTM":
                code = seg[1]
                if code in ("232", "050"):
                    claim_dates.setdefault(code, x12_date(seg[2], _DTM_WHERE[code], phi=True))
            elif sid == "CAS":
                cas_base = {**base, "line_seq": 0, "charge_id": None}
                for values in _cas_rows(seg, cas_base, adjustments + 1):
                    rows.append(Row("x12_remit_adjustments", seg.number, values))
                    adjustments += 1
        claim["member_id"] = il_member or qc_member
        claim["paid_date"] = claim_dates.get("232") or claim_dates.get("050") or self.bpr16
        return first_line

    def _reject_line(
        self, group: _LineGroup, line_seq: int, claim_seq: int, exc: RecordError
    ) -> Reject:
        svc = group[0]
        return Reject(
            record=svc.number,
            reason=f"835 service line {line_seq} of claim {claim_seq} (SVC at segment "
            f"{svc.number}, trace {self.trace}) cannot be mapped and is left out; the rest of "
            f"its claim loads: {exc}",
            original_text=segments_text(group),
        )

    def _plb(self, seg: Segment, plb_seq: int) -> list[Row]:
        """A PLB segment: one x12_remit_plb row per adjustment in it."""
        try:
            if seg.problem is not None:
                raise RecordError(self.ts.flaw(seg))
            base = {
                **self.envelope,
                "plb_seq": plb_seq,
                "provider_id": seg[1] or None,
                "fiscal_period_date": x12_date(seg[2], "PLB02"),
            }
            rows = []
            for k in range(6):
                reason, amount = seg[3 + 2 * k], seg[4 + 2 * k]
                if not (reason or amount):
                    continue
                composite = reason.split(seg.delimiters.component)
                if not composite[0] or not amount:
                    raise RecordError(f"adjustment {k + 1} lacks a reason code or amount")
                values = {
                    **base,
                    "adj_seq": len(rows) + 1,
                    "reason_code": composite[0],
                    "reference_id": composite[1] if len(composite) > 1 and composite[1] else None,
                    "amount": x12_amount(amount, f"PLB{4 + 2 * k:02d}"),
                }
                rows.append(Row("x12_remit_plb", seg.number, values))
        except RecordError as exc:
            raise _SetRejected(
                f"PLB {plb_seq} (segment {seg.number}) cannot be mapped: {exc}"
            ) from exc
        return rows


def extract_835(ts: TransactionSet) -> Iterator[Row | Reject]:
    """Rows of the x12_remit* tables for one 835 set."""
    return _Remittance835(ts).rows()
