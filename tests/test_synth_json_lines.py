"""The NDJSON lines the generator builds directly (for speed) equal the FHIR resources dumped."""

from __future__ import annotations

import dataclasses
import json

import pytest

from billops.synth import fhir
from billops.synth.defects import type_rates
from billops.synth.journeys import Simulation
from billops.synth.landing import dump_json
from billops.synth.model import Account, Charge
from billops.synth.params import resolve_horizon, resolve_scale
from billops.synth.reference import build_reference


@pytest.fixture(scope="module")
def simulated() -> tuple[list[Account], list[Charge]]:
    sc = resolve_scale("tiny")
    horizon = resolve_horizon(sc, None, None)
    ref = build_reference(7, sc.hospitals, sc.clinics_per_hospital, 2026, 2026)
    world = Simulation(ref, horizon, sc, 7, type_rates(0.03, {})).run()
    batches = range(len(horizon.extracts("ehr")))
    accounts = [a for k in batches for a in world.accounts.pop("ehr", k)]
    charges = [c for k in batches for c in world.charges.pop("ehr", k)]
    return accounts, charges


def test_encounter_and_charge_item_lines_equal_the_dumped_resources(
    simulated: tuple[list[Account], list[Charge]],
) -> None:
    accounts, charges = simulated
    assert accounts and charges
    assert {a.profile for a in accounts} >= {"EMERGENCY"}  # more than one encounter class
    for a in accounts:
        assert fhir.encounter_json(a) == dump_json(fhir.encounter(a))
    for c in charges:
        assert fhir.charge_item_json(c) == dump_json(fhir.charge_item(c))


def test_text_that_needs_escaping_is_escaped_as_json(
    simulated: tuple[list[Account], list[Charge]],
) -> None:
    account = dataclasses.replace(simulated[0][0], id='A"\\é\n1')
    line = fhir.encounter_json(account)
    assert line == dump_json(fhir.encounter(account))
    assert json.loads(line)["identifier"][0]["value"] == 'A"\\é\n1'
