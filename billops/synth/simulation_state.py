"""The state the journey stages (journey_*.py) share while a Simulation runs; kept apart from
journeys.py so the stages depend on it, not on the Simulation that calls them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billops.synth.model import Account, Patient, RemitClaim, World
from billops.synth.params import SYSTEMS, Horizon, Scale
from billops.synth.reference import Reference


class SimulationState:
    """What the journey stages share: the reference, the world being built, id counters and
    the remittances waiting for their payment day."""

    def __init__(
        self,
        ref: Reference,
        horizon: Horizon,
        scale: Scale,
        seed: int,
        rates: Mapping[str, float],
        part: int = 0,
    ) -> None:
        """``part``: simulate the patients whose number modulo ``scale.parts`` is ``part``."""
        self.ref, self.horizon, self.scale = ref, horizon, scale
        self.seed, self.rates = seed, rates
        self.part = part
        # ids and random streams of a part carry its number, so parts never collide
        self.tag = str(part) if scale.parts > 1 else ""
        self.stream = f"/{part}" if scale.parts > 1 else ""
        self.world = World({s: horizon.extracts(s) for s in SYSTEMS}, self.tag)
        self.patients: list[Patient] = []
        self._charge_seq = 0
        self.done: list[Account] = []  # accounts simulated, not yet handed to the buckets
        # patient id -> (Coverage versions handed out, successor handed out)
        self._coverages_out: dict[str, tuple[int, bool]] = {}
        self._payer_index = {p.id: i for i, p in enumerate(ref.payers)}
        # remittances waiting for their payment day: (day, payer index, entity) -> claims
        self.remit_groups: dict[tuple[Any, ...], list[RemitClaim]] = {}
        self.traces = 0  # payments made so far (numbers their trace)
        self.rcm_final = horizon.extracts("rcm")[-1]

    def new_charge_id(self) -> str:
        self._charge_seq += 1
        return f"CI{self.tag}{self._charge_seq:0{9 - len(self.tag)}d}"
