"""``generate``: simulate the health system, then write its landing batches and the truth."""

from __future__ import annotations

import csv
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from billops.errors import BillopsError
from billops.raw_schema import CSV_FILES
from billops.synth import extracts, fhir
from billops.synth.clock import at
from billops.synth.defects import DEFECT_TYPES, TRUTH_COLUMNS, type_rates
from billops.synth.erp import Deposit, build_deposits, build_journals
from billops.synth.journeys import Simulation
from billops.synth.landing import BatchWriter
from billops.synth.model import Charge, Claim, Payment, World
from billops.synth.money import fmt
from billops.synth.params import (
    DEFAULT_DEFECT_RATE,
    SYSTEMS,
    Horizon,
    batch_id,
    iso,
    resolve_horizon,
    resolve_scale,
    validate_defect_rate,
)
from billops.synth.reference import Reference, build_reference
from billops.synth.x12 import ControlNumbers, write_835, write_837

T = TypeVar("T")
Progress = Callable[[str], None]


def generate(out: Path | str, scale: str = "tiny", start: str | None = None,
             months: int | None = None, seed: int = 42, progress: Progress | None = None,
             defect_rate: float = DEFAULT_DEFECT_RATE,
             defect_rates: Mapping[str, float] | None = None,
             cadence: str | None = None) -> dict[str, Any]:
    """Write landing batches to ``out/landing`` and the truth to ``out/truth``.

    Returns the summary (also written to ``out/truth/summary.json``). The same arguments give
    byte-identical files. ``defect_rate`` is the share of accounts given a defect, spread over
    the types by defects.py; ``defect_rates`` sets the rate of single types. ``cadence``
    (monthly or daily, default per scale) chooses the landing batches (params.Horizon). Raises BillopsError for bad arguments or an ``out`` that already
    holds one of the batches to write."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BillopsError(f"--out {out} is a file; expected a folder")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BillopsError(f"bad --seed {seed!r}: expected a whole number")
    sc = resolve_scale(scale)
    horizon = resolve_horizon(sc, start, months, cadence)
    rate = validate_defect_rate(defect_rate)
    overrides = {}
    for kind, value in (defect_rates or {}).items():
        if kind not in DEFECT_TYPES:
            raise BillopsError(f"unknown defect type {kind!r}; use one of: "
                               f"{', '.join(DEFECT_TYPES)}")
        overrides[kind] = validate_defect_rate(value)
    landing = out / "landing"
    for system in SYSTEMS:
        for ts in horizon.extracts(system):
            if (landing / system / batch_id(ts)).exists():
                raise BillopsError(f"landing batch {landing / system / batch_id(ts)} already "
                                   "exists; generate into an empty --out folder")
    say = progress or (lambda _msg: None)
    ref = build_reference(seed, sc.hospitals, sc.clinics_per_hospital, horizon.start.year,
                          horizon.end.year)
    world = Simulation(ref, horizon, sc, seed, type_rates(rate, overrides)).run(say)
    writer = _LandingWriter(landing, ref, horizon, world, say)
    writer.write_ehr()
    writer.write_rcm()
    writer.write_erp()
    truth = writer.truth_rows()
    summary = writer.summary(sc.name, seed, rate, truth)
    if overrides:
        summary["defect_rates"] = overrides
    _write_truth(out / "truth", truth, summary)
    say(f"wrote {len(writer.batches)} batches and {sum(summary['defects'].values())} "
        "truth rows")
    return summary


def _partition(items: Iterable[T], key: Callable[[T], datetime],
               extracts: list[datetime]) -> list[list[T]]:
    """Items per batch: batch k holds what happened after extract k-1 up to extract k."""
    out: list[list[T]] = [[] for _ in extracts]
    for item in items:
        i = bisect_left(extracts, key(item))
        if i < len(extracts):
            out[i].append(item)
    return out


class _LandingWriter:
    def __init__(self, landing: Path, ref: Reference, horizon: Horizon, world: World,
                 say: Progress) -> None:
        self.landing, self.ref, self.horizon, self.world, self.say = (
            landing, ref, horizon, world, say)
        self.accounts = {a.id: a for a in world.accounts}
        self.controls = ControlNumbers()
        self.batches: list[dict[str, Any]] = []
        self.counts = {"patients": 0, "accounts": 0, "charge_lines": 0, "total_charges": 0,
                       "claims": 0, "payer_paid": 0, "payments": 0, "patient_paid": 0}

    def _csv(self, bw: BatchWriter, name: str, rows: Iterable[dict[str, Any]]) -> int:
        header = list(CSV_FILES[name].columns)
        return bw.csv(name, header, ([row[c] for c in header] for row in rows))

    def _close(self, bw: BatchWriter) -> None:
        manifest = bw.close()
        self.batches.append({"system": bw.system, "batch_id": bw.batch_id,
                             "extracted_at": manifest["extracted_at"],
                             "files": len(manifest["files"]),
                             "records": sum(f["records"] for f in manifest["files"])})
        self.say(f"wrote {bw.system} batch {bw.batch_id}")

    # ---------------------------------------------------------------------------- EHR
    def write_ehr(self) -> None:
        w, extracts_at = self.world, self.horizon.extracts("ehr")
        versions: list[tuple[datetime, str, dict[str, Any]]] = [
            (v.updated_at, p.id, fhir.coverage(p, v)) for p in w.patients for v in p.coverage]
        versions += [(p.successor.created_at, p.id, fhir.successor_coverage(p, p.successor))
                     for p in w.patients if p.successor is not None]
        charges: list[Charge] = [c for a in w.accounts for c in a.charges]
        patients = _partition(sorted(w.patients, key=lambda p: (p.registered_at, p.id)),
                              lambda p: p.registered_at, extracts_at)
        coverages = _partition(sorted(versions, key=lambda v: (v[0], v[1], v[2]["id"])),
                               lambda v: v[0], extracts_at)
        encounters = _partition(sorted(w.accounts, key=lambda a: (a.end, a.id)),
                                lambda a: a.end, extracts_at)
        items = _partition(sorted(charges, key=lambda c: (c.entered_at, c.id)),
                           lambda c: c.entered_at, extracts_at)
        org_updated = at(self.horizon.start - timedelta(days=30), 8)
        for k, ts in enumerate(extracts_at):
            bw = BatchWriter(self.landing, "ehr", ts)
            if k == 0:
                bw.ndjson("Organization.ndjson", [
                    *(fhir.facility_organization(f, org_updated) for f in self.ref.facilities),
                    *(fhir.payer_organization(p, org_updated) for p in self.ref.payers)])
            if patients[k]:
                self.counts["patients"] += bw.ndjson("Patient.ndjson",
                                                     map(fhir.patient, patients[k]))
            if coverages[k]:
                bw.ndjson("Coverage.ndjson", (res for _, _, res in coverages[k]))
            if encounters[k]:
                self.counts["accounts"] += bw.ndjson("Encounter.ndjson",
                                                     map(fhir.encounter, encounters[k]))
            if items[k]:
                self.counts["charge_lines"] += bw.ndjson("ChargeItem.ndjson",
                                                         map(fhir.charge_item, items[k]))
                self.counts["total_charges"] += sum(c.amount for c in items[k])
            self._close(bw)

    # ---------------------------------------------------------------------------- RCM
    def write_rcm(self) -> None:
        w, ref, extracts_at = self.world, self.ref, self.horizon.extracts("rcm")
        claims: list[Claim] = sorted((c for a in w.accounts for c in a.claims),
                                     key=lambda c: (c.submitted_at, c.account_id, c.frequency))
        claims_by_batch = _partition(claims, lambda c: c.submitted_at, extracts_at)
        payments = _partition(w.payments, lambda p: p.received_at, extracts_at)
        events = _partition(w.claim_events, lambda e: e.ts, extracts_at)
        checks = _partition(w.eligibility, lambda e: e.checked_at, extracts_at)
        statements = _partition(w.statements, lambda s: s.sent_at, extracts_at)
        pays = _partition(w.patient_payments, lambda p: p.received_at, extracts_at)
        for k, ts in enumerate(extracts_at):
            bw = BatchWriter(self.landing, "rcm", ts)
            if claims_by_batch[k]:
                days: dict[datetime, list[Claim]] = {}
                for c in claims_by_batch[k]:
                    days.setdefault(c.submitted_at, []).append(c)
                bw.text(f"837/claims_{bw.batch_id}.x12", lambda fh, d=days, t=ts: write_837(
                    fh, sorted(d.items()), ref, self.accounts, self.controls, t))
                self.counts["claims"] += len(claims_by_batch[k])
            if payments[k]:
                batch_payments: list[Payment] = payments[k]
                bw.text(f"835/remits_{bw.batch_id}.x12", lambda fh, p=batch_payments, t=ts:
                        write_835(fh, p, ref, self.accounts, self.controls, t))
                self.counts["payer_paid"] += sum(p.amount for p in batch_payments)
                self.counts["payments"] += len(batch_payments)
            self._csv(bw, "claim_events.csv", map(extracts.claim_event, events[k]))
            self._csv(bw, "eligibility_checks.csv", map(extracts.eligibility_check, checks[k]))
            self._csv(bw, "statements.csv", map(extracts.statement, statements[k]))
            self._csv(bw, "patient_payments.csv", map(extracts.patient_payment, pays[k]))
            self.counts["patient_paid"] += sum(p.amount for p in pays[k])
            if k == 0:
                self._csv(bw, "payers.csv", extracts.payers(ref))
                self._csv(bw, "payer_contracts.csv", extracts.payer_contracts(ref))
                self._csv(bw, "auth_rules.csv", extracts.auth_rules(ref))
                self._csv(bw, "chargemaster.csv", extracts.chargemaster(ref))
            self._close(bw)

    # ---------------------------------------------------------------------------- ERP
    def write_erp(self) -> None:
        extracts_at = self.horizon.extracts("erp")
        journals, journal_truth = build_journals(self.world)
        self.world.defects.extend(journal_truth)
        deposits: list[Deposit] = build_deposits(self.world, self.ref)
        by_batch = _partition(journals, lambda j: j.ts, extracts_at)
        deposits_by_batch = _partition(deposits, lambda d: d.ts, extracts_at)
        for k, ts in enumerate(extracts_at):
            bw = BatchWriter(self.landing, "erp", ts)
            self._csv(bw, "gl_journal_lines.csv",
                      (row for j in by_batch[k] for row in extracts.gl_lines(j)))
            self._csv(bw, "bank_deposits.csv", map(extracts.bank_deposit, deposits_by_batch[k]))
            if k == 0:
                self._csv(bw, "chart_of_accounts.csv", extracts.chart_of_accounts(self.ref))
            self._close(bw)

    # ---------------------------------------------------------------------------- truth
    def truth_rows(self) -> list[dict[str, str]]:
        rows = []
        for d in sorted(self.world.defects, key=lambda d: (d.defect_type, d.key)):
            extracts_at = self.horizon.extracts(d.system)
            i = bisect_left(extracts_at, d.seen_at)
            if i == len(extracts_at):
                continue  # not visible in the landed data
            rows.append({"defect_type": d.defect_type, "key": d.key,
                         "account_id": d.account_id, "claim_id": d.claim_id,
                         "charge_id": d.charge_id, "trace_number": d.trace_number,
                         "journal_id": d.journal_id, "statement_id": d.statement_id,
                         "patient_id": d.patient_id, "amount": fmt(d.amount),
                         "batch_id": batch_id(extracts_at[i])})
        return rows

    def summary(self, scale: str, seed: int, rate: float,
                rows: list[dict[str, str]]) -> dict[str, Any]:
        by_type = {t: sum(r["defect_type"] == t for r in rows) for t in DEFECT_TYPES}
        c = self.counts
        return {
            "scale": scale, "seed": seed, "start": self.horizon.periods[0],
            "cadence": self.horizon.cadence,
            "months": self.horizon.months, "defect_rate": rate,
            "as_of": iso(self.horizon.as_of),
            "patients": c["patients"], "accounts": c["accounts"], "claims": c["claims"],
            "charge_lines": c["charge_lines"], "total_charges": c["total_charges"] / 100,
            "payer_payments": c["payments"], "payer_paid": c["payer_paid"] / 100,
            "patient_paid": c["patient_paid"] / 100,
            "defects": by_type,
            "batches": self.batches,
        }


def _write_truth(folder: Path, rows: list[dict[str, str]], summary: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "defects.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TRUTH_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

