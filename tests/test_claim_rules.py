"""Claim-side rules (issue 22): what ingestion reads for them and the settings that drive them.

The rules themselves (frequency codes, line-level prior authorisation, DUPLICATE_CHARGE,
LATE_CHARGE, UNDERPAYMENT's lesser-of) are checked by dbt unit tests with hand-written rows in the
models' .yml files; this file checks the parts outside dbt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from billops.config import Settings
from billops.raw_schema import TABLES
from billops.sources import Reject, Row
from billops.sources.x12 import EXTRACTORS, iter_segments, iter_transaction_sets

REPO = Path(__file__).resolve().parent.parent

ISA = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*0710*^*00501"
       "*000000001*0*P*:~")

CLAIMS = [
    "BHT*0019*00*SV0317A*20260317*1500*CH",
    "HL*1**20*1",
    "NM1*85*2*SAGUARO VALLEY MEDICAL GROUP*****XX*1467293811",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*HASKINS*LUTHER****MI*DSH48377745",
    "NM1*PR*2*DESERT SUN HEALTH PLAN*****PI*DSHP1",
    # line-level authorization only
    "CLM*70010012*700***11:B:1*Y*A*Y*Y",
    "REF*EA*SV0042011",
    "HI*ABK:M1711",
    "LX*1",
    "SV1*HC:L1833*640*UN*1***1",
    "DTP*472*D8*20260316",
    "REF*G1*DSA260355120",
    "REF*6R*CH100181",
    "LX*2",
    "SV1*HC:G0463*60*UN*1***1",
    "DTP*472*D8*20260316",
    "REF*6R*CH100182",
    "NM1*82*1*RENDERING*DOC****XX*2222222222",
    "REF*G1*NOT-THE-LINE-AUTH",
    # claim-level authorization, a late-charges claim (CLM05-3 = 5)
    "CLM*70010010*2520***11:B:5*Y*A*Y*Y",
    "REF*G1*MSAPA4471120",
    "HI*ABK:M1711",
    "LX*1",
    "SV1*HC:J0897*2520*UN*60***1",
    "DTP*472*D8*20260316",
    "REF*6R*CH100101",
]


def _interchange(body: list[str]) -> str:
    segments = ["GS*HC*SENDER*RECEIVER*20260401*0710*7*X*005010X222A1",
                "ST*837*0001*005010X222A1", *body, f"SE*{len(body) + 2}*0001", "GE*1*7",
                "IEA*1*000000001"]
    return ISA + "".join(s + "~" for s in segments)


def _rows(table: str) -> list[dict[str, object]]:
    items: list[Row | Reject] = []
    for ts in iter_transaction_sets(iter_segments([_interchange(CLAIMS)])):
        items.extend(EXTRACTORS[ts.kind](ts))
    assert not [i for i in items if isinstance(i, Reject)]
    return [i.values for i in items if isinstance(i, Row) and i.table == table]


def test_837_line_prior_authorization_is_read_from_2400_ref_g1() -> None:
    lines = _rows("x12_claim_lines")
    got = [(li["account_id"], li["line_number"], li["prior_auth_number"]) for li in lines]
    # the line's own REF*G1; not the 2420 loop's (rendering provider) on line 2, and not the
    # claim's (2300 REF*G1) copied onto its lines
    assert got == [("70010012", 1, "DSA260355120"), ("70010012", 2, None), ("70010010", 1, None)]
    claims = {c["account_id"]: c for c in _rows("x12_claims")}
    assert claims["70010012"]["prior_auth_number"] is None
    assert claims["70010010"]["prior_auth_number"] == "MSAPA4471120"
    assert claims["70010010"]["claim_frequency_code"] == "5"


def test_raw_contract_and_dbt_source_carry_the_line_authorization() -> None:
    assert TABLES["x12_claim_lines"].columns["prior_auth_number"] == "VARCHAR"
    sources = yaml.safe_load((REPO / "dbt_project/models/staging/rcm/_rcm__sources.yml").read_text())
    tables = {t["name"]: t for s in sources["sources"] for t in s["tables"]}
    assert "prior_auth_number" in {c["name"] for c in tables["x12_claim_lines"]["columns"]}


def _dbt_vars() -> dict[str, object]:
    return yaml.safe_load((REPO / "dbt_project/dbt_project.yml").read_text())["vars"]


def test_claim_rule_settings_match_the_dbt_defaults() -> None:
    settings, dbt_vars = Settings(), _dbt_vars()
    assert settings.late_charge_window_days == dbt_vars["late_charge_window_days"] == 3
    assert settings.repeat_procedure_modifiers == dbt_vars["repeat_procedure_modifiers"]
    assert set(settings.repeat_procedure_modifiers) == {"76", "77", "59", "91"}


def test_repeat_procedure_modifiers_are_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLOPS_REPEAT_PROCEDURE_MODIFIERS", '["76", "91"]')
    monkeypatch.setenv("BILLOPS_LATE_CHARGE_WINDOW_DAYS", "5")
    settings = Settings()
    assert settings.repeat_procedure_modifiers == ["76", "91"]
    assert settings.late_charge_window_days == 5


def test_every_claim_frequency_code_is_an_accepted_value() -> None:
    # 2-4 interim and 5 late charges add to their claim: not a data-quality break
    assert set(Settings().claim_frequency_codes) == {"1", "2", "3", "4", "5", "7", "8"}
