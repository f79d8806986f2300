"""Routing as data (billops.workflow.routing): the shipped table is valid and agrees with the
dbt routing seed, the most specific rule wins, ties are impossible by validation, and loading a
table is versioned and audited."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError
from billops.taxonomy import EXCEPTION_TYPES
from billops.workflow.routing import (
    COLUMNS,
    DEFAULT_FILE,
    RoutingFacts,
    load_routing,
    parse_rules,
    route,
    show_routing,
)

REPO = Path(__file__).resolve().parents[1]
HEADER = ",".join(COLUMNS)


def _rules(*lines: str) -> str:
    # the shipped table makes every type routable; the lines under test go first
    shipped = DEFAULT_FILE.read_text().splitlines()[1:]
    return "\n".join([HEADER, *lines, *shipped]) + "\n"


def test_the_default_catch_all_of_each_type_is_the_seeds_owner_team() -> None:
    rules = parse_rules(DEFAULT_FILE.read_text(), "default")
    with (REPO / "dbt_project" / "seeds" / "exception_routing.csv").open() as handle:
        owners = {r["exception_type"]: r["owner_team"] for r in csv.DictReader(handle)}
    assert set(owners) == set(EXCEPTION_TYPES)
    for etype, team in owners.items():
        chosen = route(RoutingFacts(etype, "ANY-ENTITY", "ANY-PAYER", Decimal("0")), rules)
        assert chosen.queue == team, etype


def test_the_most_specific_rule_wins() -> None:
    rules = parse_rules(_rules(
        "D-PAYER,DENIAL,*,P1,,,FINANCE,4,FINANCE",
        "D-ENTITY,DENIAL,H2,*,,,CODING,4,BILLING",
        "D-BOTH,DENIAL,H2,P1,,,PATIENT_ACCESS,4,BILLING",
        "ANY-P1,*,*,P1,,,CASH_POSTING,4,FINANCE",
    ), "test")
    def chosen(entity: str, payer: str, amount: str = "5", etype: str = "DENIAL") -> str:
        return route(RoutingFacts(etype, entity, payer, Decimal(amount)), rules).rule_id
    assert chosen("H2", "P1") == "D-BOTH"  # two keys beat one
    # one key each: a specific payer beats a specific entity
    assert chosen("H9", "P1") == "D-PAYER"
    assert chosen("H2", "P9") == "D-ENTITY"
    # a specific type beats a specific payer; the payer rule takes what no type rule claims
    assert chosen("H9", "P1", etype="LATE_CHARGE") == "LATE_CHARGE"
    assert chosen("H9", "P1", etype="*") == "ANY-P1"
    assert chosen("H9", "P9") == "DENIAL" and chosen("H9", "P9", "10000") == "DENIAL-10K"
    # a missing amount counts as 0
    assert route(RoutingFacts("DENIAL", None, None, None), rules).rule_id == "DENIAL"


@pytest.mark.parametrize(("line", "message"), [
    ("X,DENIAL,*,P1,,,NOWHERE,4,FINANCE", "queue 'NOWHERE' is not one of"),
    ("X,DENIAL,*,P1,,,BILLING,4,LIMBO", "escalation_queue 'LIMBO'"),
    ("X,NOT_A_TYPE,*,*,,,BILLING,4,FINANCE", "exception_type 'NOT_A_TYPE' is not a known type"),
    ("X,DENIAL,*,P1,,,BILLING,0,FINANCE", "sla_business_hours must be above 0"),
    ("X,DENIAL,*,P1,,,BILLING,soon,FINANCE", "sla_business_hours 'soon' is not a number"),
    ("X,DENIAL,*,P1,50,10,BILLING,4,FINANCE", "min_amount must be below max_amount"),
    ("X,DENIAL,*,*,500,,BILLING,4,FINANCE", "overlapping amount bands"),
    ("DENIAL,DENIAL,*,P1,,,BILLING,4,FINANCE", "rule_id DENIAL appears more than once"),
])
def test_bad_tables_are_refused_with_one_line(line: str, message: str) -> None:
    with pytest.raises(BillopsError, match=message) as info:
        parse_rules(_rules(line), "routing.csv")
    assert "\n" not in str(info.value)


def test_every_type_must_be_routable() -> None:
    text = DEFAULT_FILE.read_text().replace("DENIAL-10K,DENIAL,*,*,10000.00,,BILLING,8,FINANCE\n", "")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("DEFAULT,"))
    with pytest.raises(BillopsError, match="exception type DENIAL is not routable"):
        parse_rules(text, "routing.csv")
    # the * catch-all covers what a type's own rules leave out
    parse_rules(text + "\nDEFAULT,*,*,*,,,DATA_ENGINEERING,40,FINANCE\n", "routing.csv")


def test_loading_is_versioned_and_audited(billops_home: Settings, tmp_path: Path) -> None:
    first = load_routing(actor="ops-lead", channel="cli", settings=billops_home)
    assert (first.version_id, first.loaded) == (1, True)
    assert not load_routing(actor="ops-lead", channel="cli", settings=billops_home).loaded
    edited = tmp_path / "routing.csv"
    edited.write_text(_rules("D-PAYER,DENIAL,*,P1,,,FINANCE,4,FINANCE"))
    second = load_routing(edited, actor="ops-lead", channel="cli", settings=billops_home)
    assert second.version_id == 2 and show_routing(billops_home)["version"] == 2
    entries = ops_store.audit_entries(table_name="routing_versions", settings=billops_home)
    assert [(e["operation"], e["actor"], e["channel"]) for e in entries] == [
        ("LOAD", "ops-lead", "cli"), ("LOAD", "ops-lead", "cli")]
    assert entries[0]["before"] is None
    assert entries[1]["before"] == {"version": 1, "sha256": first.sha256}
    assert entries[1]["after"]["version"] == 2 and entries[1]["after"]["sha256"] == second.sha256
    with pytest.raises(BillopsError, match="cannot read the routing file"):
        load_routing(tmp_path / "missing.csv", actor="x", channel="cli", settings=billops_home)
