"""Differential test: billops and pyx12 read the same claim-level values from public X12 files.

The corpus is tests/fixtures/x12 (sources, commits and licences in its SOURCES.md). For every
file, billops' reader and pyx12's loop-aware reader (x12context) must agree on CLM01, CLM02 and
CLM05-3 of each 837 claim, and on CLP01-CLP07 of each 835 claim with BPR02 and TRN02 of each
payment. Every exception is listed below with its reason, and the test checks that the reason
still holds, so the lists cannot rot:

* :data:`WHOLE_FILE`: files billops rejects as a whole (an X12Error, which quarantines the batch).
  Where the error is in the envelope counts, a lenient read still gives values to compare.
* :data:`NO_PYX12_MAP`: guides pyx12 4.0 has no map for (it maps 005010X221A1, X222A1 and
  X223A2 only); their values are compared with pyx12's map-less segment reader instead.
* :data:`DIFFERENCES`: files where billops holds back claims pyx12 reads; billops must have
  rejected them with the stated reason, and every value billops does load must equal pyx12's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import pyx12.errors
from x12_reference import (
    billops_values,
    pyx12_segment_values,
    pyx12_values,
    read_lenient,
)

from billops.sources import Reject
from billops.sources.x12 import X12Error, read_x12

CORPUS = Path(__file__).resolve().parent / "fixtures" / "x12"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".835", ".837"))


@dataclass(frozen=True)
class Whole:
    """billops rejects the file: its X12Error reason contains ``match``."""

    match: str
    reason: str
    readable: bool = True  # an envelope-count error: a lenient read still maps the claims


@dataclass(frozen=True)
class Difference:
    """billops holds back what pyx12 reads: a Reject of ``unit`` whose reason has ``match``."""

    unit: str
    match: str
    reason: str


IMSWEB_SE01 = Whole(
    "SE01 of transaction set 987654 says '25' segments",
    "imsweb's samples share one SE segment, SE*25*987654, whatever the length of the set; "
    "billops checks SE01 (pyx12 reports it and reads on). The claims compare after a lenient read.",
)

WHOLE_FILE: dict[str, Whole] = {
    **{
        f"imsweb__{name}.837": IMSWEB_SE01
        for name in (
            "x12_ambiguous_loop",
            "x12_bad_valid_code",
            "x12_complex",
            "x12_loop_errors1_exceeds_max_1_parent",
            "x12_loop_errors2_exceeds_max_repeats_multiple_parents",
            "x12_loop_errors3_missing_loops",
            "x12_many_claims",
            "x12_missing_elements",
            "x12_missing_required_loop_in_one_repeat",
            "x12_missing_required_loops_mult_repeats",
            "x12_multiple_gs",
            "x12_multiple_isa",
            "x12_multiple_st",
            "x12_no_errors",
            "x12_segment_errors",
            "x12_segments_out_of_order",
            "x12_valid",
            "x12_valid_different_separators",
            "x12_writer_test",
            "x223-test",
        )
    },
    "imsweb__x12_bad_segment_identifier.837": Whole(
        "segment 6 does not start with a segment id",
        "a deliberately garbled sample: its 6th segment (a PER) lost its id and starts with '*'; "
        "pyx12 reports it and skips the segment, billops will not guess and rejects the file",
        readable=False,
    ),
    "oopfactory__837I_Spec_3.1.1.837": Whole(
        "ISA delimiters are not distinct",
        "ISA11 (repetition separator) and ISA16 (component separator) are both '^', so a '^' "
        "in the data has two meanings; pyx12 has no map for its 005010X222 GS08 either",
        readable=False,
    ),
    "oopfactory__InstitutionalClaim5010.837": Whole(
        "SE01 of transaction set 987654 says '43' segments, found 78",
        "hand-edited sample whose SE01 was not updated; claims compare after a lenient read",
    ),
    "oopfactory__ProfessionalClaim1.837": Whole(
        "SE01 of transaction set 0021 says '42' segments, found 61",
        "hand-edited sample whose SE01 was not updated; claims compare after a lenient read",
    ),
}

_X222A2 = (
    "005010X222A2 (the 837P errata after A1): pyx12 4.0 maps 005010X222A1 only; "
    "compared with pyx12's segment reader"
)
_X223A3 = (
    "005010X223A3 (the 837I errata after A2): pyx12 4.0 maps 005010X223A2 only; "
    "compared with pyx12's segment reader"
)
_X222 = (
    "GS08 005010X222 (the 837P guide before its A1 errata, as this sample's generator wrote "
    "it): pyx12 4.0 has no map for it; compared with pyx12's segment reader"
)

NO_PYX12_MAP: dict[str, str] = {
    **{
        f"lfh__837P_{name}.837": _X222A2
        for name in (
            "demo.ambulance.example5",
            "demo.autoaccident",
            "demo.cob.2ndary.example4",
            "demo.cob.example3.A",
            "demo.cob.example3.B",
            "demo.cob.example3.C",
            "demo.cob.example4",
            "demo.drug.example10.1",
            "demo.drug.example10.2",
            "demo.drug.example10.3",
            "demo.example1",
            "demo.example11",
            "demo.example12",
            "demo.example2",
            "demo.example7",
            "demo.example8",
            "demo.example9",
        )
    },
    "lfh__demo.837": _X222A2,
    **{
        f"lfh__837I_{name}.837": _X223A3
        for name in (
            "out-of-network-repriced-claim",
            "ppo-repriced-claim",
            "two-claims-single-provider",
        )
    },
    "lfh__demo-837i.837": _X223A3,
    **{
        f"oopfactory__{name}.837": _X222
        for name in (
            "837I_Spec_3.1.1",
            "837I_Spec_3.1.2_TwoClaimsForTheSameProvider",
            "837I_Spec_3.1.3_PPORepricedClaim",
            "837I_Spec_3.1.4_OutOfNetworkRepricedClaim",
            "837P_Example1_2_And_3_Combined",
            "837P_Example1_HealthInsurance",
            "837P_Example2_Encounter",
            "837P_Example3_COB",
            "InstitutionalClaim5010",
            "ProfessionalClaim1",
        )
    },
}

_WRONG_COMPONENT = Difference(
    "claim",
    "has no procedure code",
    "the file declares ':' as component separator (ISA16) but writes its composites with '>' "
    "(SV1*HC>...); the procedure code cannot be found, so billops rejects the claim whole "
    "(unit claim), where pyx12's segment reader returns the claim with an unsplit composite",
)

DIFFERENCES: dict[str, Difference] = {
    "lfh__835_managed-care.835": Difference(
        "transaction_set",
        "BPR16: '20002316' is not a CCYYMMDD date",
        "BPR16 (payment effective date) is 2000-23-16, not a date: the 835 header cannot be "
        "mapped, so the whole transaction set is one Reject (no partial payment); pyx12 reports "
        "the bad date and reads on",
    ),
    "lfh__837P_demo.cob.2ndary.example4.837": _WRONG_COMPONENT,
    "lfh__837P_demo.example11.837": _WRONG_COMPONENT,
    "lfh__837P_demo.example12.837": _WRONG_COMPONENT,
    "lfh__837P_demo.example9.837": _WRONG_COMPONENT,
    "lfh__837I_out-of-network-repriced-claim.837": _WRONG_COMPONENT,
    "lfh__837I_ppo-repriced-claim.837": _WRONG_COMPONENT,
    "oopfactory__837I_Spec_3.1.3_PPORepricedClaim.837": _WRONG_COMPONENT,
    "oopfactory__837I_Spec_3.1.4_OutOfNetworkRepricedClaim.837": _WRONG_COMPONENT,
    "oopfactory__837P_MedicaidExample.837": Difference(
        "claim",
        "BHT04/BHT05: time '9999' is not a valid time",
        "de-identified sample: BHT05 (creation time) is '9999', not a time, so no claim has a "
        "submission time and each is rejected (unit claim); pyx12 reads the claims",
    ),
    "oopfactory__837P_MissingEntityCode.837": Difference(
        "claim",
        "BHT04/BHT05: time '9999' is not a valid time",
        "same de-identified BHT05 '9999' as MedicaidExample",
    ),
}


def _kind(path: Path) -> str:
    return path.suffix[1:]


def test_corpus_is_large_enough_and_every_file_is_x12_5010() -> None:
    assert len(FILES) >= 60
    kinds = {k: sum(1 for p in FILES if _kind(p) == k) for k in ("835", "837")}
    assert kinds["835"] >= 10 and kinds["837"] >= 40, kinds
    for path in FILES:
        text = path.read_text(encoding="utf-8-sig").lstrip()
        assert text.startswith("ISA") and text[84:89] == "00501", path.name
        assert re.search(rf"ST.{_kind(path)}.", text), path.name
        assert re.search(r"005010X22[123]", text), path.name


def test_sources_list_every_corpus_file_once() -> None:
    listed = re.findall(r"^\| `([^`]+)` \|", (CORPUS / "SOURCES.md").read_text(), re.M)
    assert sorted(listed) == sorted(p.name for p in FILES)


def test_every_listed_exception_names_a_corpus_file() -> None:
    names = {p.name for p in FILES}
    for listing in (WHOLE_FILE, NO_PYX12_MAP, DIFFERENCES):
        assert set(listing) <= names, set(listing) - names


def _strict_error(path: Path) -> X12Error | None:
    reader = read_x12(path, _kind(path))
    try:
        for _ in reader:
            pass
    except X12Error as exc:
        return exc
    return None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_billops_reads_what_pyx12_reads(path: Path) -> None:
    kind = _kind(path)
    whole = WHOLE_FILE.get(path.name)
    error = _strict_error(path)
    if whole is None:
        assert error is None, f"{path.name}: {error}"
    else:
        assert error is not None and whole.match in error.reason, (path.name, error)

    no_map = NO_PYX12_MAP.get(path.name)
    try:
        theirs = pyx12_values(path, kind)
    except pyx12.errors.EngineError as exc:
        assert no_map is not None and "Map not found" in str(exc), (path.name, exc)
        guide = re.search(r"005010X\w+", no_map)
        assert guide and str(exc).endswith(f"vriic={guide.group(0)}"), (path.name, exc)
        theirs = pyx12_segment_values(path, kind)
    else:
        assert no_map is None, f"{path.name}: pyx12 maps it now, drop it from NO_PYX12_MAP"

    try:
        items, _envelope_errors = read_lenient(path, kind)
    except X12Error as exc:
        assert whole is not None and not whole.readable, (path.name, exc)
        return
    assert whole is None or whole.readable, f"{path.name}: readable, update WHOLE_FILE"
    ours = billops_values(items, kind)

    difference = DIFFERENCES.get(path.name)
    if difference is None:
        assert ours == theirs, path.name
        return
    assert ours != theirs, f"{path.name}: billops now agrees, drop it from DIFFERENCES"
    rejects = [i for i in items if isinstance(i, Reject) and i.unit == difference.unit]
    assert any(difference.match in r.reason for r in rejects), (path.name, rejects)
    kept = iter(theirs)  # what billops loads is pyx12's values with the rejected units left out
    assert all(value in kept for value in ours), path.name
