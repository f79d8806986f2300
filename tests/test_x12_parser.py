"""X12 tokenizer, envelope checks and 837/835 extraction, checked against pyx12 on real files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billops.sources import Reject, Row
from billops.sources.x12 import (
    EXTRACTORS,
    X12Error,
    iter_segments,
    iter_transaction_sets,
    read_transaction_sets,
)

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "x12"


def fixture_files() -> list[Path]:
    if not FIXTURES.is_dir():
        pytest.skip(f"third-party X12 fixtures not found at {FIXTURES}")
    files = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".835", ".837"))
    if not files:
        pytest.skip(f"no X12 fixture files in {FIXTURES}")
    return files


# ---------------------------------------------------------------------------------- builders


def isa(control: str = "000000001", repetition: str = "^", version: str = "00501") -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
              "RECEIVER".ljust(15), "240131", "1200", repetition, version, control, "0", "P", ":"]
    text = "*".join(fields) + "~"
    assert len(text) == 106
    return text


def interchange(kind: str, sets: list[list[str]], implementation: str,
                control: str = "000000001") -> str:
    """An interchange in canonical delimiters (* : ^ ~) with correct counts and controls."""
    gs01 = "HC" if kind == "837" else "HP"
    segments = [f"GS*{gs01}*SENDER*RECEIVER*20240131*1200*7*X*{implementation}"]
    for n, body in enumerate(sets, start=1):
        st = [f"ST*{kind}*{n:04d}*{implementation}", *body]
        segments += [*st, f"SE*{len(st) + 1}*{n:04d}"]
    segments += [f"GE*{len(sets)}*7", f"IEA*1*{control}"]
    return isa(control) + "".join(s + "~" for s in segments)


def redelimit(text: str, element: str, component: str, repetition: str, terminator: str) -> str:
    return text.translate(str.maketrans({"*": element, ":": component, "^": repetition,
                                         "~": terminator}))


CLAIMS_837P = [
    "BHT*0019*00*BATCH1*20240131*1015*CH",
    "NM1*41*2*BILLING SVC*****46*S1",
    "NM1*40*2*CLEARINGHOUSE*****46*R1",
    "HL*1**20*1",
    "NM1*85*2*GENERAL HOSPITAL*****XX*1234567893",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*DOE*JANE****MI*M123",
    "DMG*D8*19800101*F",
    "NM1*PR*2*ACME HEALTH*****PI*PAYER1",
    "CLM*ENC1*150.00***11:B:1*Y*A*Y*Y",
    "REF*G1*AUTH9",
    "REF*EA*PAT1",
    "HI*ABK:E11.9*ABF:I10",
    "NM1*82*1*SMITH*JOHN****XX*1111111111",
    "REF*G1*NOT-THE-CLAIM-AUTH",
    "SBR*S*18*******MC",
    "AMT*D*60.00",
    "NM1*IL*1*DOE*JANE****MI*OTHER",
    "NM1*PR*2*OTHER PAYER*****PI*PAYER2",
    "LX*1",
    "SV1*HC:J1100:59:XU*100.00*UN*2***1",
    "DTP*472*D8*20240115",
    "REF*6R*CHG1",
    "LX*2",
    "SV1*HC:G0008*50.00*UN*1***1",
    "DTP*472*RD8*20240116-20240117",
    "REF*6R*CHG2",
    "NM1*82*1*RENDERING*DOC****XX*2222222222",
    "REF*6R*NOT-THE-LINE-ID",
    "CLM*ENC2*75.00***11:B:7*Y*A*Y*Y",
    "REF*F8*ORIG123",
    "HI*ABK:Z0000*BE:A1:::100",
    "LX*1",
    "SV1*HC:Q0091*75.00*UN*1***1",
    "DTP*472*D8*20240120",
    "REF*6R*CHG3",
]

CLAIMS_837I = [
    "BHT*0019*00*BATCH2*20240131*101530*CH",
    "HL*1**20*1",
    "NM1*85*2*GENERAL HOSPITAL*****XX*1234567893",
    "HL*2*1*22*1",
    "NM1*IL*1*ROE*RICH****MI*M456",
    "NM1*PR*2*ACME HEALTH*****PI*PAYER1",
    "HL*3*2*23*0",
    "PAT*19",
    "NM1*QC*1*ROE*JUNIOR",
    "CLM*ENC9*500.00***13:A:1**A*Y*Y",
    "DTP*434*RD8*20240110-20240112",
    "HI*ABK:R0789",
    "LX*1",
    "SV2*0450*HC:G0380*500.00*UN*1",
    "REF*6R*CHG9",
]

REMIT_835 = [
    "BPR*I*230.00*C*ACH*CCP*01*011000015*DA*123456*1234567890**01*011000015*DA*654321*20240201",
    "TRN*1*EFT0001*1234567890",
    "DTM*405*20240131",
    "N1*PR*ACME HEALTH*XV*NAIC1",
    "REF*2U*PAYER1",
    "N1*PE*GENERAL HOSPITAL*XX*1234567893",
    "REF*TJ*999999999",
    "LX*1",
    "CLP*ENC1*1*150.00*120.00*10.00*12*PCN1*11*1",
    "CAS*PR*1*10.00",
    "NM1*QC*1*DOE*JANE****MI*M123",
    "DTM*232*20240115",
    "SVC*HC:J1100:59*100.00*80.00**2",
    "DTM*472*20240115",
    "CAS*CO*45*15.00*1*253*5.00",
    "REF*6R*CHG1",
    "SVC*HC:G0008*50.00*40.00**1",
    "DTM*472*20240116",
    "CAS*CO*45*10.00",
    "REF*6R*CHG2",
    "CLP*ENC2*4*75.00*0*0*12*PCN2*11*7",
    "CAS*CO*50*75.00",
    "NM1*QC*1*ROE*RICH****MI*M456",
    "SVC*HC:Q0091*75.00*0**1",
    "REF*6R*CHG3",
    "PLB*1234567893*20241231*WO:REF1*-5.00*FB*2.50",
]


def extract(text: str) -> list[Row | Reject]:
    items: list[Row | Reject] = []
    for ts in iter_transaction_sets(iter_segments([text])):
        items.extend(EXTRACTORS[ts.kind](ts))
    return items


def rows(items: list[Row | Reject], table: str) -> list[dict[str, object]]:
    return [i.values for i in items if isinstance(i, Row) and i.table == table]


# ---------------------------------------------------------------------------------- tokenizer


def test_delimiters_come_from_isa_and_variants_parse_identically() -> None:
    text = interchange("837", [CLAIMS_837P], "005010X222A1")
    expected = extract(text)
    assert rows(expected, "x12_claims"), "the canonical file must give claims"
    variants = [
        redelimit(text, "|", ">", "{", "\n"),  # newline as segment terminator
        redelimit(text, "^", "\\", "}", "'"),  # element sep ^ (ISA11 repetition becomes })
        text.replace("~", "~\r\n"),  # CR LF after every terminator
        redelimit(text, "!", "@", "`", "~\n"),
    ]
    for variant in variants:
        assert extract(variant) == expected


def test_tokenizer_streams_across_chunk_boundaries() -> None:
    text = interchange("835", [REMIT_835], "005010X221A1").replace("~", "~\n")
    whole = [(s.id, s.elements, s.number) for s in iter_segments([text])]
    by_char = [(s.id, s.elements, s.number) for s in iter_segments(iter(text))]
    assert whole == by_char
    assert whole[0][0] == "ISA" and whole[-1][0] == "IEA"
    assert [n for _, _, n in whole] == list(range(1, len(whole) + 1))


def test_two_interchanges_with_different_delimiters_in_one_file() -> None:
    first = interchange("835", [REMIT_835], "005010X221A1", control="000000001")
    second = redelimit(interchange("835", [REMIT_835], "005010X221A1", control="000000002"),
                       "|", ">", "{", "!")
    sets = list(iter_transaction_sets(iter_segments([first + "\n" + second])))
    assert [ts.interchange_control_number for ts in sets] == ["000000001", "000000002"]
    first_rows, second_rows = (
        [{**i.values, "interchange_control_number": None} for i in EXTRACTORS["835"](ts)]
        for ts in sets)
    assert first_rows and first_rows == second_rows


@pytest.mark.parametrize(("text", "message"), [
    ("", "no ISA segment"),
    ("GS*HC*A*B~", "does not start with an ISA"),
    ("ISA*00*short~", "truncated"),
    (isa().replace("ZZ*RECEIVER", "ZZ|RECEIVER"), "fixed positions"),
    (isa()[:-1] + "*", "not distinct"),
    (isa() + "GS*HC*S*R*20240131*1200*7*X*005010X222A1", "not terminated"),
    (isa() + "GS*HC*S*R~" + "garbled text without structure~", "segment id"),
])
def test_bad_delimiters_and_envelopes_are_file_errors(text: str, message: str) -> None:
    with pytest.raises(X12Error, match=message):
        list(iter_transaction_sets(iter_segments([text])))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("SE*39*0001", "SE*38*0001", "SE01"),
    ("SE*39*0001", "SE*39*0009", "SE02"),
    ("GE*1*7", "GE*2*7", "GE01"),
    ("GE*1*7", "GE*1*8", "GE02"),
    ("IEA*1*000000001", "IEA*3*000000001", "IEA01"),
    ("IEA*1*000000001~", "IEA*1*000000002~", "IEA02"),
    ("GE*1*7~IEA*1*000000001~", "", "GE missing"),
])
def test_wrong_counts_and_control_numbers_are_file_errors(old: str, new: str, message: str) -> None:
    text = interchange("837", [CLAIMS_837P], "005010X222A1")
    assert old in text
    with pytest.raises(X12Error, match=message):
        list(iter_transaction_sets(iter_segments([text.replace(old, new)])))


def test_lenient_reading_collects_envelope_errors() -> None:
    text = interchange("837", [CLAIMS_837P], "005010X222A1").replace("GE*1*7", "GE*4*7")
    errors: list[X12Error] = []
    sets = list(iter_transaction_sets(iter_segments([text]), errors))
    assert len(sets) == 1
    assert len(errors) == 1 and "GE01" in errors[0].reason


# ---------------------------------------------------------------------------------- 837


def test_837p_claims_lines_and_diagnoses() -> None:
    items = extract(interchange("837", [CLAIMS_837P], "005010X222A1"))
    assert not [i for i in items if isinstance(i, Reject)]
    claims = rows(items, "x12_claims")
    assert [c["account_id"] for c in claims] == ["ENC1", "ENC2"]
    first, second = claims
    assert first["claim_type"] == "P" and first["implementation"] == "005010X222A1"
    assert first["submitted_at"] == datetime(2024, 1, 31, 10, 15)
    assert first["billing_provider_npi"] == "1234567893"
    assert first["billing_provider_name"] == "GENERAL HOSPITAL"
    # the 2320/2330 other-payer loops must not override the 2010BB payer
    assert (first["payer_id"], first["payer_name"]) == ("PAYER1", "ACME HEALTH")
    assert first["member_id"] == "M123"
    # SBR01 of 2000B, and the first other payer (2330B) with what it paid (2320 AMT*D)
    assert first["payer_responsibility"] == "P"
    assert (first["other_payer_id"], first["other_payer_paid_amount"]) == ("PAYER2", Decimal("60.00"))
    assert (second["other_payer_id"], second["other_payer_paid_amount"]) == (None, None)
    assert first["subscriber_birth_date"] == date(1980, 1, 1)
    assert first["total_charge"] == Decimal("150.00")
    assert (first["facility_code"], first["claim_frequency_code"]) == ("11", "1")
    assert first["prior_auth_number"] == "AUTH9"  # not the 2310 loop's REF*G1
    assert first["patient_id"] == "PAT1"
    assert first["interchange_control_number"] == "000000001"
    assert first["st_control_number"] == "0001"
    assert (second["claim_frequency_code"], second["original_claim_ref"]) == ("7", "ORIG123")
    assert second["prior_auth_number"] is None

    lines = rows(items, "x12_claim_lines")
    assert [(li["account_id"], li["line_number"], li["charge_id"], li["hcpcs"]) for li in lines] == [
        ("ENC1", 1, "CHG1", "J1100"), ("ENC1", 2, "CHG2", "G0008"), ("ENC2", 1, "CHG3", "Q0091")]
    assert lines[0]["modifiers"] == "59,XU"
    assert (lines[0]["charge_amount"], lines[0]["units"]) == (Decimal("100.00"), Decimal("2.00"))
    assert lines[1]["service_date"] == date(2024, 1, 16)

    diagnoses = rows(items, "x12_claim_diagnoses")
    assert [(d["account_id"], d["sequence"], d["qualifier"], d["code"]) for d in diagnoses] == [
        ("ENC1", 1, "ABK", "E119"), ("ENC1", 2, "ABF", "I10"), ("ENC2", 1, "ABK", "Z0000")]


def test_837i_claim_under_patient_loop() -> None:
    items = extract(interchange("837", [CLAIMS_837I], "005010X223A2"))
    (claim,) = rows(items, "x12_claims")
    assert claim["claim_type"] == "I"
    assert claim["submitted_at"] == datetime(2024, 1, 31, 10, 15, 30)
    assert (claim["member_id"], claim["payer_id"]) == ("M456", "PAYER1")
    assert (claim["statement_from"], claim["statement_to"]) == (date(2024, 1, 10), date(2024, 1, 12))
    assert claim["facility_code"] == "13"
    (line,) = rows(items, "x12_claim_lines")
    assert (line["hcpcs"], line["charge_amount"], line["units"], line["charge_id"]) == (
        "G0380", Decimal("500.00"), Decimal("1.00"), "CHG9")


def test_unmappable_claim_is_rejected_and_its_neighbours_load() -> None:
    bad = [s.replace("SV1*HC:G0008*50.00", "SV1*HC:G0008*5O.00") for s in CLAIMS_837P]
    items = extract(interchange("837", [bad], "005010X222A1"))
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(rejects) == 1
    assert "SV102" in rejects[0].reason and "CLM" in rejects[0].reason
    assert rejects[0].original_text.startswith("CLM*ENC1*")
    assert [c["account_id"] for c in rows(items, "x12_claims")] == ["ENC2"]
    assert {li["account_id"] for li in rows(items, "x12_claim_lines")} == {"ENC2"}


def test_phi_values_stay_out_of_reject_reasons() -> None:
    bad = [s.replace("DMG*D8*19800101", "DMG*D8*19801301") for s in CLAIMS_837P]
    rejects = [i for i in extract(interchange("837", [bad], "005010X222A1"))
               if isinstance(i, Reject)]
    assert rejects and all("19801301" not in r.reason for r in rejects)
    assert "DMG02" in rejects[0].reason


# ---------------------------------------------------------------------------------- 835


def test_835_remittance_claims_lines_adjustments_and_plb() -> None:
    items = extract(interchange("835", [REMIT_835], "005010X221A1"))
    assert not [i for i in items if isinstance(i, Reject)]
    (remit,) = rows(items, "x12_remittances")
    assert remit["trace_number"] == "EFT0001"
    assert (remit["payment_amount"], remit["credit_debit"], remit["payment_method"]) == (
        Decimal("230.00"), "C", "ACH")
    assert remit["payment_date"] == date(2024, 2, 1)
    assert (remit["payer_id"], remit["payer_name"]) == ("PAYER1", "ACME HEALTH")  # REF*2U wins
    assert (remit["payee_npi"], remit["payee_name"]) == ("1234567893", "GENERAL HOSPITAL")
    assert remit["production_date"] == date(2024, 1, 31)

    claims = rows(items, "x12_remit_claims")
    assert [(c["claim_seq"], c["account_id"], c["claim_status_code"]) for c in claims] == [
        (1, "ENC1", "1"), (2, "ENC2", "4")]
    assert claims[0]["paid_date"] == date(2024, 1, 15)  # DTM*232
    assert claims[1]["paid_date"] == date(2024, 2, 1)  # no claim date: BPR16
    assert (claims[0]["charge_amount"], claims[0]["paid_amount"],
            claims[0]["patient_responsibility_amount"]) == (
        Decimal("150.00"), Decimal("120.00"), Decimal("10.00"))
    assert claims[1]["claim_frequency_code"] == "7" and claims[1]["member_id"] == "M456"

    lines = rows(items, "x12_remit_service_lines")
    assert [(s["claim_seq"], s["line_seq"], s["charge_id"], s["procedure_code"]) for s in lines] == [
        (1, 1, "CHG1", "J1100"), (1, 2, "CHG2", "G0008"), (2, 1, "CHG3", "Q0091")]
    assert lines[0]["modifiers"] == "59" and lines[0]["units_paid"] == Decimal("2.00")
    assert lines[1]["service_date"] == date(2024, 1, 16)

    adjustments = rows(items, "x12_remit_adjustments")
    assert [(a["claim_seq"], a["line_seq"], a["adj_seq"], a["charge_id"], a["group_code"],
             a["reason_code"], a["amount"], a["quantity"]) for a in adjustments] == [
        (1, 0, 1, None, "PR", "1", Decimal("10.00"), None),
        (1, 1, 1, "CHG1", "CO", "45", Decimal("15.00"), Decimal("1.00")),
        (1, 1, 2, "CHG1", "CO", "253", Decimal("5.00"), None),
        (1, 2, 1, "CHG2", "CO", "45", Decimal("10.00"), None),
        (2, 0, 1, None, "CO", "50", Decimal("75.00"), None),
    ]
    plb = rows(items, "x12_remit_plb")
    assert [(p["plb_seq"], p["adj_seq"], p["reason_code"], p["reference_id"], p["amount"])
            for p in plb] == [(1, 1, "WO", "REF1", Decimal("-5.00")), (1, 2, "FB", None, Decimal("2.50"))]
    assert plb[0]["fiscal_period_date"] == date(2024, 12, 31)


def test_835_without_trace_is_rejected_whole() -> None:
    body = [s for s in REMIT_835 if not s.startswith("TRN")]
    items = extract(interchange("835", [body], "005010X221A1"))
    assert len(items) == 1 and isinstance(items[0], Reject)
    assert "TRN02" in items[0].reason


# ---------------------------------------------------------------------------------- pyx12


def _pyx12_values(path: Path) -> dict[str, list[tuple[str | None, ...]]]:
    import pyx12.x12file

    found: dict[str, list[tuple[str | None, ...]]] = {
        "CLM": [], "SV1": [], "CLP": [], "CAS": [], "TRN": [], "BPR": []}
    with pyx12.x12file.X12Reader(str(path)) as source:
        for seg in source:
            sid = seg.get_seg_id()
            if sid == "CLM":
                found["CLM"].append((seg.get_value("CLM01"), seg.get_value("CLM02")))
            elif sid == "SV1":
                found["SV1"].append((seg.get_value("SV101-2"), seg.get_value("SV102")))
            elif sid == "CLP":
                found["CLP"].append(tuple(seg.get_value(f"CLP0{i}") for i in range(1, 6)))
            elif sid == "CAS":
                group = seg.get_value("CAS01")
                for k in range(6):
                    reason = seg.get_value(f"CAS{2 + 3 * k:02d}")
                    if reason:
                        found["CAS"].append((group, reason, seg.get_value(f"CAS{3 + 3 * k:02d}")))
            elif sid == "TRN":
                found["TRN"].append((seg.get_value("TRN02"),))
            elif sid == "BPR":
                found["BPR"].append((seg.get_value("BPR02"),))
    return found


def _pyx12_coordination_of_benefits(path: Path) -> list[tuple[str | None, ...]] | None:
    """Per claim, in file order: 2000B SBR01, the first 2320's 2330B NM109 and AMT*D, by pyx12's loop map.

    None when pyx12 has no map for the file's implementation guide.
    """
    import pyx12.error_handler
    import pyx12.errors
    import pyx12.params
    import pyx12.x12context

    found: list[tuple[str | None, ...]] = []

    def claim(node: object, responsibility: str | None) -> tuple[str | None, ...]:
        other = next(iter(node.select("2320")), None)  # type: ignore[attr-defined]
        if other is None:
            return (responsibility, None, None)
        paid = next((a.get_value("AMT02") for a in other.select("AMT")
                     if a.get_value("AMT01") == "D"), None)
        return (responsibility, other.get_value("2330B/NM109"), paid)

    with path.open() as fd:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), fd)
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


def test_coordination_of_benefits_equals_pyx12_loops_on_fixtures() -> None:
    checked = 0
    for path in fixture_files():
        if path.suffix != ".837":
            continue
        expected = _pyx12_coordination_of_benefits(path)
        if expected is None:
            continue
        items: list[Row | Reject] = []
        for ts in read_transaction_sets(path, []):
            items.extend(EXTRACTORS[ts.kind](ts))
        got = [(c["payer_responsibility"], c["other_payer_id"], c["other_payer_paid_amount"])
               for c in rows(items, "x12_claims")]
        assert len(got) == len(expected), path.name
        for ours, theirs in zip(got, expected, strict=True):
            assert ours == (theirs[0], theirs[1], _dec(theirs[2])), path.name
        checked += 1
    assert checked, "no 837 fixture that pyx12 can map"


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None


def test_extracted_values_equal_what_pyx12_reads_on_every_fixture() -> None:
    for path in fixture_files():
        envelope_errors: list[X12Error] = []
        items: list[Row | Reject] = []
        for ts in read_transaction_sets(path, envelope_errors):
            items.extend(EXTRACTORS[ts.kind](ts))
        expected = _pyx12_values(path)
        claims = rows(items, "x12_claims")
        assert [(c["account_id"], c["total_charge"]) for c in claims] == [
            (a, _dec(b)) for a, b in expected["CLM"]], path.name
        assert [(li["hcpcs"], li["charge_amount"]) for li in rows(items, "x12_claim_lines")] == [
            (a, _dec(b)) for a, b in expected["SV1"]], path.name
        assert [(c["account_id"], c["claim_status_code"], c["charge_amount"], c["paid_amount"],
                 c["patient_responsibility_amount"]) for c in rows(items, "x12_remit_claims")] == [
            (a, b, _dec(c), _dec(d), _dec(e)) for a, b, c, d, e in expected["CLP"]], path.name
        assert [(a["group_code"], a["reason_code"], a["amount"])
                for a in rows(items, "x12_remit_adjustments")] == [
            (g, r, _dec(a)) for g, r, a in expected["CAS"]], path.name
        remit_claims = rows(items, "x12_remit_claims")
        assert claims or remit_claims, f"{path.name}: nothing extracted"
        if remit_claims:
            assert {c["trace_number"] for c in remit_claims} == {t for (t,) in expected["TRN"]}
        remits = rows(items, "x12_remittances")
        header_rejects = [i for i in items if isinstance(i, Reject) and "835 header" in i.reason]
        assert len(remits) + len(header_rejects) == len(expected["BPR"]), path.name
        if remits:
            assert [r["payment_amount"] for r in remits] == [_dec(b) for (b,) in expected["BPR"]]
            assert [r["trace_number"] for r in remits] == [t for (t,) in expected["TRN"]]
        for reject in header_rejects:  # the one fixture with an impossible BPR16 date
            assert "BPR16" in reject.reason
        if path.name.startswith("imsweb"):
            # that sample carries wrong SE01 and GE01 counts: ingestion would quarantine it
            assert {e.reason.split(" ")[0] for e in envelope_errors} == {"SE01", "GE01"}
        else:
            assert envelope_errors == [], path.name
