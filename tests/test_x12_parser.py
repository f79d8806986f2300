"""X12 tokenizer, envelope checks and 837/835 extraction, checked against pyx12 on real files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from x12_reference import dec, pyx12_coordination_of_benefits, read_lenient

from billops.sources import Reject, Row
from billops.sources.x12 import (
    EXTRACTORS,
    X12Error,
    iter_segments,
    iter_transaction_sets,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "x12"  # the public corpus


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.suffix in (".835", ".837"))


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
    # N1*PR N104 wins over REF*2U; TRN03 is kept as the originator
    assert (remit["payer_id"], remit["payer_name"]) == ("NAIC1", "ACME HEALTH")
    assert remit["originator_id"] == "1234567890"
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
    (reject,) = items
    assert "TRN02" in reject.reason
    assert (reject.unit, reject.unit_key, reject.amount) == (
        "transaction_set", None, Decimal("230.00"))


# ---------------------------------------------------------------------------------- 835 as sent


def remit(body: list[str], *more: list[str]) -> list[Row | Reject]:
    return extract(interchange("835", [body, *more], "005010X221A1"))


def rejects_of(items: list[Row | Reject]) -> list[Reject]:
    return [i for i in items if isinstance(i, Reject)]


def _payer(header: list[str]) -> tuple[object, object, object]:
    body = [*header, "CLP*ENC1*1*100.00*80.00*0*12*PCN1", "SVC*HC:J1100*100.00*80.00**1"]
    (values,) = rows(remit(body), "x12_remittances")
    return values["payer_id"], values["payer_name"], values["originator_id"]


BPR = "BPR*I*80.00*C*ACH*CCP*01*1*DA*1*1**01*1*DA*1*20240201"


def test_835_payer_is_n104_else_ref_2u_else_trn03() -> None:
    assert _payer([BPR, "TRN*1*T1*1999999999", "N1*PR*ACME*XV*NAIC1", "REF*2U*PAYER1"]) == (
        "NAIC1", "ACME", "1999999999")
    assert _payer([BPR, "TRN*1*T1*1999999999", "N1*PR*ACME", "REF*2U*PAYER1"]) == (
        "PAYER1", "ACME", "1999999999")
    assert _payer([BPR, "TRN*1*T1*1999999999", "N1*PR*ACME"]) == ("1999999999", "ACME", "1999999999")
    # a REF*2U of the payee loop (1000B) is not the payer's
    assert _payer([BPR, "TRN*1*T1*1999999999", "N1*PR*ACME", "N1*PE*HOSP*XX*1", "REF*2U*NO"]) == (
        "1999999999", "ACME", "1999999999")
    assert _payer([BPR, "TRN*1*T1", "N1*PR*ACME"]) == (None, "ACME", None)


def test_835_claims_sharing_one_clp01_are_each_their_own_row() -> None:
    body = [BPR, "TRN*1*T1*1", "N1*PR*ACME*XV*P1",
            "CLP*ENC1*1*100.00*80.00*0*12*PCN1", "CAS*CO*45*20.00",
            "SVC*HC:J1100*100.00*80.00**1", "CAS*CO*45*20.00",
            "CLP*ENC1*22*100.00*-80.00*0*12*PCN1", "CAS*CO*45*-20.00",
            "SVC*HC:J1100*100.00*-80.00**1", "CAS*CO*45*-20.00",
            "CLP*ENC1*1*100.00*80.00*0*12*PCN2",
            "SVC*HC:J1100*100.00*80.00**1"]
    items = remit(body)
    assert not rejects_of(items)
    claims = rows(items, "x12_remit_claims")
    assert [(c["claim_seq"], c["account_id"], c["claim_status_code"], c["paid_amount"])
            for c in claims] == [(1, "ENC1", "1", Decimal("80.00")),
                                 (2, "ENC1", "22", Decimal("-80.00")),
                                 (3, "ENC1", "1", Decimal("80.00"))]
    lines = rows(items, "x12_remit_service_lines")
    assert [(li["claim_seq"], li["line_seq"]) for li in lines] == [(1, 1), (2, 1), (3, 1)]
    adjustments = rows(items, "x12_remit_adjustments")
    keys = [(a["claim_seq"], a["line_seq"], a["adj_seq"]) for a in adjustments]
    assert keys == [(1, 0, 1), (1, 1, 1), (2, 0, 1), (2, 1, 1)] and len(set(keys)) == len(keys)


MINIMAL_835 = [BPR, "TRN*1*T1*1", "N1*PR*ACME",
               "CLP*ENC1*1*100.00*100.00**12*PCN1",
               "SVC*HC:J1100*100.00*100.00**1",
               "CLP*ENC2*1*50.00*40.00*10.00*12*PCN2", "CAS*PR*1*10.00",
               "SVC*HC:G0008*50.00*40.00", "CAS*PR*1*10.00"]


@pytest.mark.parametrize("after", ["~\n", "~\r\n", "~ \r\n", "~\n\n"])
def test_835_with_line_breaks_and_optional_segments_absent(after: str) -> None:
    """No N1*PE, DTM*405, REF*2U, NM1*IL, NM1*QC, line DTM or CAS on a paid line."""
    text = interchange("835", [MINIMAL_835], "005010X221A1")
    items = extract(text.replace("~", after))
    assert items == extract(text) and not rejects_of(items)
    (header,) = rows(items, "x12_remittances")
    assert (header["payee_npi"], header["payee_name"], header["production_date"]) == (None,) * 3
    claims = rows(items, "x12_remit_claims")
    assert [(c["member_id"], c["patient_last_name"], c["paid_date"]) for c in claims] == [
        (None, None, date(2024, 2, 1))] * 2
    assert claims[0]["patient_responsibility_amount"] is None
    lines = rows(items, "x12_remit_service_lines")
    assert [(li["service_date"], li["units_paid"]) for li in lines] == [
        (None, Decimal("1.00")), (None, None)]
    assert [(a["claim_seq"], a["line_seq"]) for a in rows(items, "x12_remit_adjustments")] == [
        (2, 0), (2, 1)]


def test_835_indented_file_and_last_iea_without_terminator() -> None:
    text = interchange("835", [MINIMAL_835], "005010X221A1")
    indented = text.replace("~", "~\r\n    ").removesuffix("\r\n    ").removesuffix("~")
    assert extract(indented) == extract(text)


def test_835_malformed_service_line_is_rejected_alone_and_its_claim_loads() -> None:
    body = [BPR, "TRN*1*T1*1", "N1*PR*ACME",
            "CLP*ENC1*1*150.00*120.00*10.00*12*PCN1", "CAS*PR*1*10.00", "DTM*232*20240115",
            "SVC*HC:J1100*100.00*80.00**2", "DTM*472*20240115", "CAS*CO*45*20.00", "REF*6R*CHG1",
            "SVC*HC:G0008*5O.00*40.00**1", "DTM*472*20240116", "CAS*CO*45*10.00", "REF*6R*CHG2",
            "SVC*HC*10.00*0**1", "CAS*CO*45*10.00",
            "CLP*ENC2*1*10.00*10.00*0*12*PCN2", "SVC*HC:Q0091*10.00*10.00**1"]
    items = remit(body)
    rejects = rejects_of(items)
    assert [(r.unit, r.unit_key, r.amount) for r in rejects] == [("record", None, None)] * 2
    assert "SVC02" in rejects[0].reason and "SVC01" in rejects[1].reason
    assert "5O.00" in rejects[0].reason  # an amount, not PHI
    assert rejects[0].original_text.startswith("SVC*HC:G0008*5O.00")
    assert "CHG2" in rejects[0].original_text and "ENC1" not in rejects[0].reason
    (claim, _) = rows(items, "x12_remit_claims")
    assert (claim["account_id"], claim["paid_amount"], claim["paid_date"]) == (
        "ENC1", Decimal("120.00"), date(2024, 1, 15))
    lines = rows(items, "x12_remit_service_lines")
    assert [(li["claim_seq"], li["line_seq"], li["charge_id"]) for li in lines] == [
        (1, 1, "CHG1"), (2, 1, None)]
    adjustments = rows(items, "x12_remit_adjustments")
    assert [(a["claim_seq"], a["line_seq"], a["charge_id"], a["amount"]) for a in adjustments] == [
        (1, 0, None, Decimal("10.00")), (1, 1, "CHG1", Decimal("20.00"))]
    assert len(rows(items, "x12_remittances")) == 1


@pytest.mark.parametrize(("old", "new", "why"), [
    ("CLP*ENC2*1*10.00", "CLP*ENC2*1*1O.00", "CLP03"),
    ("CLP*ENC2*1*10.00", "CLP**1*10.00", "CLP01"),
    ("CAS*PR*1*10.00", "CAS*PR*1*ten", "CAS03"),
    ("DTM*232*20240115", "DTM*232*20241315", "DTM*232"),
    ("PLB*1*20241231*WO*-5.00", "PLB*1*20241231*WO", "PLB 1"),
    (BPR, BPR.replace("20240201", "2024020"), "BPR16"),
    (BPR, "BPR*I*8O.00*C*ACH", "BPR02"),
])
def test_835_claim_header_or_plb_that_cannot_be_mapped_rejects_the_whole_set(
        old: str, new: str, why: str) -> None:
    body = [BPR, "TRN*1*T1*1", "N1*PR*ACME",
            "CLP*ENC1*1*150.00*120.00*10.00*12*PCN1", "CAS*PR*1*10.00", "DTM*232*20240115",
            "NM1*QC*1*DOE*JANE****MI*M123",
            "SVC*HC:J1100*150.00*120.00**2",
            "CLP*ENC2*1*10.00*10.00*0*12*PCN2", "SVC*HC:Q0091*10.00*10.00**1",
            "PLB*1*20241231*WO*-5.00"]
    assert sum(s.startswith(old) for s in body) == 1
    bad = [s.replace(old, new) if s.startswith(old) else s for s in body]
    good = [BPR, "TRN*1*T2*1", "N1*PR*ACME", "CLP*ENC3*1*80.00*80.00**12*PCN3"]
    items = remit(bad, good)
    (reject,) = rejects_of(items)
    assert (reject.unit, reject.unit_key) == ("transaction_set", "T1")
    assert reject.amount == (None if why == "BPR02" else Decimal("80.00"))
    assert why in reject.reason and "rejected whole" in reject.reason
    for phi in ("DOE", "JANE", "M123", "ENC1", "ENC2"):
        assert phi not in reject.reason
    assert reject.original_text.startswith("ST*835*0001") and reject.original_text.count("CLP") == 2
    # nothing of the rejected set loads; the next set (trace T2) does
    for table in ("x12_remittances", "x12_remit_claims", "x12_remit_service_lines",
                  "x12_remit_adjustments", "x12_remit_plb"):
        assert all(r["trace_number"] == "T2" for r in rows(items, table)), table
    assert [c["account_id"] for c in rows(items, "x12_remit_claims")] == ["ENC3"]


def test_835_claim_date_is_left_out_of_the_reason() -> None:
    body = [BPR, "TRN*1*T1*1", "N1*PR*ACME", "CLP*ENC1*1*1*1**12", "DTM*232*20241315"]
    (reject,) = rejects_of(remit(body))
    assert "DTM*232" in reject.reason and "20241315" not in reject.reason


def test_837_unmappable_claim_reject_names_its_unit_key_and_amount() -> None:
    bad = [s.replace("SV1*HC:G0008*50.00", "SV1*HC:G0008*5O.00") for s in CLAIMS_837P]
    (reject,) = rejects_of(extract(interchange("837", [bad], "005010X222A1")))
    assert (reject.unit, reject.unit_key, reject.amount) == ("claim", "ENC1", Decimal("150.00"))
    unreadable = [s.replace("CLM*ENC1*150.00", "CLM*ENC1*1S0.00") for s in CLAIMS_837P]
    (reject,) = rejects_of(extract(interchange("837", [unreadable], "005010X222A1")))
    assert (reject.unit, reject.unit_key, reject.amount) == ("claim", "ENC1", None)


# ---------------------------------------------------------------------------------- pyx12


def test_coordination_of_benefits_equals_pyx12_loops_on_fixtures() -> None:
    checked = 0
    for path in fixture_files():
        if path.suffix != ".837":
            continue
        expected = pyx12_coordination_of_benefits(path)
        if expected is None:
            continue
        try:
            items, _ = read_lenient(path, "837")
        except X12Error:
            continue  # rejected whole (tests/test_x12_corpus.py says why)
        got = [(c["payer_responsibility"], c["other_payer_id"], c["other_payer_paid_amount"])
               for c in rows(items, "x12_claims")]
        if len(got) != len(expected):
            continue  # claims rejected (tests/test_x12_corpus.py DIFFERENCES)
        for ours, theirs in zip(got, expected, strict=True):
            assert ours == (theirs[0], theirs[1], dec(theirs[2])), path.name
        checked += 1
    assert checked >= 10, "too few 837 fixtures that pyx12 can map"
