"""Unit tests of billops' own X12 validator (billops.sources.x12.ig): the map reader, the walk,
element checks, the result shape and locations, and no PHI in messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billops.config import Settings
from billops.ingest.manifest import digest
from billops.ingest.x12_validation import _validate
from billops.sources.x12.ig.elements import valid_date, valid_time, valid_type
from billops.sources.x12.ig.maps import (
    CompositeRule,
    ElementRule,
    LoopRule,
    SegmentRule,
    find_map,
    load_guide,
    map_dir,
)
from billops.sources.x12.ig.validator import validate_file

REPO = Path(__file__).resolve().parent.parent
GUIDE_835 = "835.5010.X221.A1.xml"
ISA = (
    "ISA*00*          *00*          *ZZ*CLEARHSE01     *ZZ*BILLOPSHS      *261001*0300*^*00501*"
    "000000002*0*P*:"
)
BODY = [
    "GS*HP*CLEARHSE01*BILLOPSHS*20260916*0900*34*X*005010X221A1",
    "ST*835*0001",
    "BPR*I*128*C*ACH*CCP*01*058072262*DA*2025643012*1883343491**01*055931923*DA*7559319235*20260916",
    "TRN*1*202609160000003*1883343491",
    "N1*PR*HEARTLAND MEDICARE",
    "N3*5144 CHESTNUT RD",
    "N4*OAK TERRACE*OH*432428508",
    "PER*BL*PROVIDER SERVICES*TE*8005550199",
    "N1*PE*RIVERBEND REGIONAL MEDICAL CENTER*XX*1117390959",
    "LX*1",
    "CLP*A000000004*1*466*128*32*MB*262471366912889*11*1",
    "NM1*QC*1*ROSBURY*JUNA****MI*5FV9N00RC83",
    "SVC*HC:G0463*285*110.8**1",
    "DTM*472*20260901",
    "CAS*CO*45*146.5",
    "SE*{count}*0001",
    "GE*1*34",
    "IEA*1*000000002",
]


def _file(tmp_path: Path, body: list[str] = BODY, name: str = "t.835") -> Path:
    lines = list(body)
    st = next(i for i, line in enumerate(lines) if line.startswith("ST*"))
    se = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    lines[se] = lines[se].replace("{count}", str(se - st + 1))
    path = tmp_path / name
    path.write_text("~\n".join([ISA, *lines]) + "~\n")
    return path


def _replace(prefix: str, line: str) -> list[str]:
    return [line if item.startswith(prefix) else item for item in BODY]


def test_the_map_index_names_the_guides() -> None:
    assert find_map("00501", "HP", "005010X221A1") == GUIDE_835
    assert find_map("00501", "HC", "005010X222A1") == "837.5010.X222.A1.xml"
    assert find_map("00501", "HC", "005010X223A2") is not None  # 837I
    assert find_map("00501", "HC", "005010X222A2") is None


def test_the_835_guide_is_compiled_from_the_installed_map() -> None:
    guide = load_guide(GUIDE_835)
    assert load_guide(GUIDE_835) is guide  # once per process
    assert map_dir().joinpath(GUIDE_835).is_file()
    isa_loop = guide.root.children[0]
    assert isinstance(isa_loop, LoopRule) and isa_loop.id == "ISA_LOOP"
    rules = {rule.id: rule for rule in _segments(guide.root)}
    clp, cas, n4 = rules["CLP"], rules["CAS"], rules["N4"]
    clp01 = clp.elements[0]
    assert isinstance(clp01, ElementRule) and clp01.refdes == "CLP01"
    assert (clp01.usage, clp01.data_type, clp01.max_len) == ("R", "AN", 38)
    assert cas.max_use == 99 and cas.key is not None
    assert any(isinstance(e, ElementRule) and e.external == "states" for e in n4.elements)
    assert any(isinstance(e, CompositeRule) for e in rules["SVC"].elements)
    assert any(rule.syntax for rule in rules.values())


def test_no_map_is_copied_into_the_repository() -> None:
    assert not list((REPO / "billops").rglob("*.xml"))


def _segments(loop: LoopRule) -> list[SegmentRule]:
    out: list[SegmentRule] = []
    for child in loop.children:
        out += _segments(child) if isinstance(child, LoopRule) else [child]
    return out


def test_a_valid_835_is_valid(tmp_path: Path) -> None:
    result = validate_file(_file(tmp_path))
    assert (result.status, result.error_count, result.errors) == ("VALID", 0, [])


def test_a_missing_required_segment_is_located(tmp_path: Path) -> None:
    body = [line for line in BODY if not line.startswith("TRN*")]
    result = validate_file(_file(tmp_path, body))
    assert result.status == "INVALID"
    error = result.errors[0]
    assert (error["code"], error["segment"], error["transaction_set"]) == ("3", "TRN", "0001")


def test_a_repeat_beyond_max_use_is_reported(tmp_path: Path) -> None:
    at = BODY.index("TRN*1*202609160000003*1883343491")
    body = [*BODY[: at + 1], BODY[at], *BODY[at + 1 :]]
    errors = validate_file(_file(tmp_path, body)).errors
    assert [(e["code"], e["line"]) for e in errors] == [("5", 6)]


def test_element_errors_name_the_element_never_its_value(tmp_path: Path) -> None:
    name = "X" * 61  # NM103 is at most 60 characters
    path = _file(tmp_path, _replace("NM1*QC", f"NM1*QC*1*{name}*JUNA****MI*5FV9N00RC83"))
    errors = validate_file(path).errors
    assert [(e["element"], e["code"], e["loop"]) for e in errors] == [("NM103", "5", "2100")]
    assert name not in str(errors) and "JUNA" not in str(errors)


def test_a_bad_qualifier_is_a_segment_the_guide_does_not_place(tmp_path: Path) -> None:
    errors = validate_file(_file(tmp_path, _replace("CAS*", "CAS*ZZ*45*146.5"))).errors
    assert [(e["segment"], e["code"], e["line"]) for e in errors] == [("CAS", "1", 16)]


def test_a_bad_code_is_a_code_error_quoting_the_code(tmp_path: Path) -> None:
    line = "CLP*A000000004*99*466*128*32*MB*262471366912889*11*1"
    errors = validate_file(_file(tmp_path, _replace("CLP*", line))).errors
    assert [(e["element"], e["code"]) for e in errors] == [("CLP02", "7")]
    assert "(99)" in errors[0]["message"] and "A000000004" not in errors[0]["message"]


def test_envelope_counts_and_control_numbers(tmp_path: Path) -> None:
    body = [*BODY[:-1], "IEA*1*000000999"]
    errors = validate_file(_file(tmp_path, body)).errors
    assert any(e["level"] == "envelope" and "IEA02" in e["message"] for e in errors)


def test_an_unknown_guide_is_unsupported(tmp_path: Path) -> None:
    body = [BODY[0].replace("005010X221A1", "005010X222A2"), *BODY[1:]]
    assert validate_file(_file(tmp_path, body)).status == "UNSUPPORTED"


def test_the_ingest_step_runs_the_selected_validator(tmp_path: Path) -> None:
    path = _file(tmp_path)
    ours = _validate(path, digest(path)[0], "billops")
    theirs = _validate(path, digest(path)[0], "pyx12")
    assert (ours.status, ours.errors_json) == (theirs.status, theirs.errors_json) == ("VALID", "[]")


@pytest.mark.parametrize(
    ("data_type", "value", "ok"),
    [
        ("D8", "20260229", False),
        ("D8", "20280229", True),
        ("RD8", "20260101-20260131", True),
        ("TM", "2360", False),
        ("N0", "-12", True),
        ("R", "12.5", True),
        ("R", "12.", False),
        ("AN", "CAF\u00c9", False),
        ("AN", "O'NEIL-SMITH JR.", True),
    ],
)
def test_data_types(data_type: str, value: str, ok: bool) -> None:
    assert valid_type(data_type, value) is ok


def test_dates_and_times() -> None:
    assert valid_date("DT", "202601011230") and not valid_date("D6", "2026")
    assert valid_time("123059") and not valid_time("12305")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no ISA segment"),
        (b"hello world", "does not start with an ISA"),
        (b"\xff\xfe", "not valid UTF-8"),
        (ISA.encode() + b"~\n", "IEA missing"),
    ],
)
def test_what_is_not_x12_is_invalid_at_file_level(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "odd.x12"
    path.write_bytes(content)
    result = validate_file(path)
    assert result.status == "INVALID"
    assert message in result.errors[0]["message"]


def test_a_truncated_file_is_invalid(tmp_path: Path) -> None:
    text = _file(tmp_path).read_text()
    path = tmp_path / "cut.835"
    path.write_text(text[: len(text) // 2])
    assert validate_file(path).status == "INVALID"


def test_validate_x12_with_billops_validator_records_what_pyx12_records(
    billops_home: Settings,
) -> None:
    from test_ingest import B1, claim_837, file_835, file_837, query, write_batch
    from test_x12_ig_differential import _locations

    from billops.ingest import ingest
    from billops.ingest.x12_validation import validate_pending

    good = (Path(__file__).parent / "fixtures" / "x12" / "pyx12__835_mult_loops.835").read_bytes()
    files = {
        "835/good.x12": good,
        "835/bad.x12": file_835("EFT0001"),
        "837/claims.x12": file_837(claim_837("ENC1", [("CHG1", "J1100", "100.00")])),
    }
    write_batch(billops_home.landing, "rcm", B1, files)
    ingest(settings=billops_home)
    ours = billops_home.model_copy(update={"x12_validator": "billops"})
    report = validate_pending(ours, workers=1)
    assert (report.valid, report.invalid) == (1, 2)
    recorded = query(
        billops_home, "select file, status, error_count, errors from raw._x12_validation"
    )
    for file, status, _count, errors in recorded:
        path = billops_home.landing / "rcm" / B1 / file
        theirs = _validate(path, digest(path)[0], "pyx12")
        assert status == theirs.status, file
        # the same locations, once the documented differences are set aside
        assert _locations(json.loads(errors)) == _locations(theirs.errors), file
