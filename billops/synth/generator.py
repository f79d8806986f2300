"""``generate``: simulate the health system, then write its landing batches and the truth."""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import random
import shutil
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, TypeVar

from billops.errors import BillopsError
from billops.raw_schema import CSV_FILES
from billops.synth import extracts, fhir
from billops.synth.clock import at
from billops.synth.defects import (
    DEFECT_TYPES,
    REFERENCE_DELTA,
    TRUTH_COLUMNS,
    rate_overrides,
    type_rates,
)
from billops.synth.draw import pick
from billops.synth.erp import (
    Deposit,
    Journal,
    build_deposits,
    build_journals,
    number_journals,
    payment_deposits,
)
from billops.synth.journeys import Simulation
from billops.synth.landing import BatchWriter
from billops.synth.model import Claim, Coverage, Payment, World
from billops.synth.money import fmt
from billops.synth.params import (
    DEFAULT_DEFECT_RATE,
    SYSTEMS,
    Horizon,
    Scale,
    batch_id,
    iso,
    resolve_horizon,
    resolve_scale,
    validate_defect_rate,
)
from billops.synth.parts import merge_parts
from billops.synth.reference import Reference, build_reference
from billops.synth.stream import Buckets
from billops.synth.treasury import Treasury, non_patient_cash
from billops.synth.x12 import ControlNumbers, write_835, write_835_count, write_837

T = TypeVar("T")
Progress = Callable[[str], None]


def generate(
    out: Path | str,
    scale: str = "tiny",
    start: str | None = None,
    months: int | None = None,
    seed: int = 42,
    progress: Progress | None = None,
    defect_rate: float = DEFAULT_DEFECT_RATE,
    defect_rates: Mapping[str, float] | None = None,
    cadence: str | None = None,
) -> dict[str, Any]:
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
    overrides = rate_overrides(defect_rates or {})
    landing = out / "landing"
    _refuse_written_batches(landing, horizon)
    say = progress or (lambda _msg: None)
    rates = type_rates(rate, overrides)
    if sc.parts == 1:
        results = [_generate_part(landing, sc, horizon, seed, rates, 0, say)]
        batches = results[0].batches
    else:
        results, batches = _generate_parts(out, landing, sc, horizon, seed, rates, say)
    truth = sorted(
        (row for r in results for row in r.truth), key=lambda r: (r["defect_type"], r["key"])
    )
    counts = {k: sum(r.counts[k] for r in results) for k in results[0].counts}
    summary = _summary(sc.name, seed, rate, horizon, counts, batches, truth)
    if overrides:
        summary["defect_rates"] = overrides
    _write_truth(out / "truth", truth, summary)
    say(f"wrote {len(batches)} batches and {len(truth)} truth rows")
    return summary


def _refuse_written_batches(landing: Path, horizon: Horizon) -> None:
    for system in SYSTEMS:
        for ts in horizon.extracts(system):
            if (landing / system / batch_id(ts)).exists():
                raise BillopsError(
                    f"landing batch {landing / system / batch_id(ts)} already "
                    "exists; generate into an empty --out folder"
                )


def _generate_parts(
    out: Path,
    landing: Path,
    sc: Scale,
    horizon: Horizon,
    seed: int,
    rates: Mapping[str, float],
    say: Progress,
) -> tuple[list[_PartResult], list[dict[str, Any]]]:
    """Simulate the parts in parallel processes, merging their batches into ``landing``."""
    staging = out / ".parts"
    say(f"simulating {sc.patients} patients in {sc.parts} parallel parts")
    folders = [staging / f"part{i}" for i in range(sc.parts)]
    with ProcessPoolExecutor(sc.parts, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [
            pool.submit(_generate_part, folder, sc, horizon, seed, rates, i)
            for i, folder in enumerate(folders)
        ]
        # the parts write their batches in extract order; each is merged as soon as all
        # parts have written it, so the merge runs beside the simulation, not after it
        order = {s: i for i, s in enumerate(SYSTEMS)}
        written = sorted(
            (ts, order[s], s, batch_id(ts)) for s in SYSTEMS for ts in horizon.extracts(s)
        )
        batches = merge_parts(
            folders,
            landing,
            say,
            [(system, batch) for _, _, system, batch in written],
            lambda manifests: _wait_for(manifests, futures),
        )
        results = [f.result() for f in futures]
    shutil.rmtree(staging)
    return results, batches


def _wait_for(paths: list[Path], parts: list[Future[_PartResult]]) -> None:
    """Return once every file of ``paths`` exists; raises the error of a part that failed."""
    while not all(p.exists() for p in paths):
        for f in parts:
            if f.done():
                f.result()  # raises the part's error
        if all(f.done() for f in parts) and not all(p.exists() for p in paths):
            missing = next(p for p in paths if not p.exists())
            raise BillopsError(f"a generator part ended without writing {missing}")
        time.sleep(0.1)


@dataclass
class _PartResult:
    counts: dict[str, int]
    truth: list[dict[str, str]]
    batches: list[dict[str, Any]]


def _generate_part(
    landing: Path,
    sc: Scale,
    horizon: Horizon,
    seed: int,
    rates: Mapping[str, float],
    part: int,
    say: Progress | None = None,
) -> _PartResult:
    """Simulate one part of the patients and write its landing batches to ``landing``."""
    ref = build_reference(
        seed, sc.hospitals, sc.clinics_per_hospital, horizon.start.year, horizon.end.year
    )
    sim = Simulation(ref, horizon, sc, seed, rates, part)
    writer = _LandingWriter(
        landing, ref, horizon, sim.world, say or (lambda _msg: None), seed, part, sim.tag
    )
    writer.reference_delta = rates.get(REFERENCE_DELTA, 0) > 0
    if part == 0:  # the non-patient cash of the entities, written once
        writer.add_treasury(non_patient_cash(ref, horizon, seed, sc.patients))
    collected = horizon.start

    def day_done(day: date) -> None:
        nonlocal collected
        writer.flush(at(day + timedelta(days=1), 0) - SETTLED_AFTER)
        if (day - collected).days >= FULL_COLLECTION_DAYS:
            gc.collect()  # the settled accounts of the last month (see _rare_collections)
            collected = day

    with _rare_collections():
        sim.run(say, day_done)
        writer.flush(None)
    return _PartResult(writer.counts, writer.truth_rows(), writer.batches)


# Allocations between two young-generation collections while a part runs (CPython: 700).
GC_YOUNG_THRESHOLD = 100_000
# Simulated days between two full collections of a part's heap.
FULL_COLLECTION_DAYS = 30


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Run the cyclic garbage collector about 100 times less often.

    A part holds a large heap for its whole run (patients, accounts not yet settled, batches
    not yet written) that the default thresholds make the collector scan over and over: a fifth
    to a third of the CPU time. Collection stays on because a claim and its account refer to
    each other, so settled accounts are freed by the collector only: young ones by the
    young-generation collections, old ones by the full collection the part runs every
    FULL_COLLECTION_DAYS simulated days (automatic full collections are off; without the
    monthly one a year of settled accounts piles up, 2 GB per part of large). The reference
    data, built before, is frozen out of the scans."""
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 1_000_000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


# Records of an encounter start at most this long before its service day (prior
# authorization, check-in), so once a service day is simulated, every batch extracted this long
# before its end is complete and is written.
SETTLED_AFTER = timedelta(days=14)
# Share of 835 files that the clearinghouse delivers a second time in the next RCM batch.
RESEND_RATE = 0.1


class _LandingWriter:
    """Writes each batch once the simulation can no longer add to it, in extract order."""

    def __init__(
        self,
        landing: Path,
        ref: Reference,
        horizon: Horizon,
        world: World,
        say: Progress,
        seed: int,
        part: int,
        tag: str,
    ) -> None:
        self.landing, self.ref, self.horizon, self.world, self.say = (
            landing,
            ref,
            horizon,
            world,
            say,
        )
        self.seed, self.part, self.tag = seed, part, tag
        self.file_tag = f"_{tag}" if tag else ""
        # the reference extracts travel with the first part only
        self.references = part == 0
        # a later RCM batch re-sends part of the reference extracts (a delta, no snapshot)
        self.reference_delta = False
        # the 835 files the clearinghouse delivers again: name, bytes and transaction sets
        self.resend: list[tuple[str, bytes, int]] = []
        self.controls = ControlNumbers(part * 10**8, part * 10**8)
        self.batches: list[dict[str, Any]] = []
        self.counts = {
            "patients": 0,
            "accounts": 0,
            "charge_lines": 0,
            "total_charges": 0,
            "claims": 0,
            "secondary_claims": 0,
            "institutional_claims": 0,
            "payer_paid": 0,
            "payments": 0,
            "patient_paid": 0,
            "resent_files": 0,
        }
        order = {s: i for i, s in enumerate(SYSTEMS)}
        self.queue = sorted(
            ((ts, order[s], s, k) for s in SYSTEMS for k, ts in enumerate(horizon.extracts(s))),
            reverse=True,
        )
        self.journals: Buckets[Journal] = Buckets({"erp": horizon.extracts("erp")}, lambda j: j.ts)
        self.other_deposits: Buckets[Deposit] = Buckets(
            {"erp": horizon.extracts("erp")}, lambda d: d.ts
        )
        self.journal_seq = 0
        self.deposit_seq = 0
        self.write = {"ehr": self.write_ehr, "rcm": self.write_rcm, "erp": self.write_erp}

    def add_treasury(self, treasury: Treasury) -> None:
        """The non-patient journals and deposits, landed with the ERP batches of their time."""
        self.journals.extend(treasury.journals)
        self.other_deposits.extend(treasury.deposits)

    def flush(self, through: datetime | None) -> None:
        """Write every batch extracted at or before ``through`` (all when None)."""
        while self.queue and (through is None or self.queue[-1][0] <= through):
            ts, _, system, k = self.queue.pop()
            self.write[system](k, ts)

    def _csv(self, bw: BatchWriter, name: str, rows: Iterable[dict[str, Any]]) -> int:
        header = list(CSV_FILES[name].columns)
        return bw.csv(name, header, map(itemgetter(*header), rows))

    def _close(self, bw: BatchWriter) -> None:
        manifest = bw.close()
        self.batches.append(
            {
                "system": bw.system,
                "batch_id": bw.batch_id,
                "extracted_at": manifest["extracted_at"],
                "files": len(manifest["files"]),
                "records": sum(f["records"] for f in manifest["files"]),
            }
        )
        self.say(f"wrote {bw.system} batch {bw.batch_id}")

    # ---------------------------------------------------------------------------- EHR
    def write_ehr(self, k: int, ts: datetime) -> None:
        w = self.world
        patients = sorted(w.patients.pop("ehr", k), key=attrgetter("registered_at", "id"))
        coverages = sorted(
            w.coverages.pop("ehr", k), key=lambda c: (c.updated_at, c.patient.id, _coverage_id(c))
        )
        encounters = sorted(w.accounts.pop("ehr", k), key=attrgetter("end", "id"))
        items = sorted(w.charges.pop("ehr", k), key=attrgetter("entered_at", "id"))
        bw = BatchWriter(self.landing, "ehr", ts)
        if k == 0 and self.references:
            org_updated = at(self.horizon.start - timedelta(days=30), 8)
            bw.ndjson(
                "Organization.ndjson",
                [
                    *(fhir.facility_organization(f, org_updated) for f in self.ref.facilities),
                    *(fhir.payer_organization(p, org_updated) for p in self.ref.payers),
                ],
            )
        if patients:
            self.counts["patients"] += bw.ndjson("Patient.ndjson", map(fhir.patient, patients))
        if coverages:
            bw.ndjson("Coverage.ndjson", map(_coverage_resource, coverages))
        if encounters:
            self.counts["accounts"] += bw.lines(
                "Encounter.ndjson", map(fhir.encounter_json, encounters)
            )
        if items:
            self.counts["charge_lines"] += bw.lines(
                "ChargeItem.ndjson", map(fhir.charge_item_json, items)
            )
            self.counts["total_charges"] += sum(c.amount for c in items)
        self._close(bw)

    # ---------------------------------------------------------------------------- RCM
    def write_rcm(self, k: int, ts: datetime) -> None:
        w = self.world
        claims = sorted(
            w.claims.pop("rcm", k), key=attrgetter("submitted_at", "account_id", "frequency")
        )
        payments = w.remittances.pop("rcm", k)
        bw = BatchWriter(self.landing, "rcm", ts)
        if claims:
            self._write_claims(bw, claims, ts)
        for name, data, records in self.resend:
            # the clearinghouse delivers an 835 file of the previous batch again, byte for
            # byte; the loader must skip content it has already loaded
            bw.again(f"835/{name}", data, records)
            self.counts["resent_files"] += 1
        self.resend = []
        self._write_remits(bw, payments, ts)
        events = sorted(w.claim_events.pop("rcm", k), key=attrgetter("ts", "claim_id"))
        checks = sorted(w.eligibility.pop("rcm", k), key=attrgetter("checked_at", "id"))
        statements = sorted(w.statements.pop("rcm", k), key=attrgetter("sent_at", "id"))
        pays = sorted(w.patient_payments.pop("rcm", k), key=attrgetter("received_at", "id"))
        self._csv(bw, "claim_events.csv", map(extracts.claim_event, events))
        self._csv(bw, "eligibility_checks.csv", map(extracts.eligibility_check, checks))
        self._csv(bw, "statements.csv", map(extracts.statement, statements))
        self._csv(bw, "patient_payments.csv", map(extracts.patient_payment, pays))
        self.counts["patient_paid"] += sum(p.amount for p in pays)
        if k == 0 and self.references:
            self._write_reference_snapshots(bw)
        elif k == 1 and self.references and self.reference_delta:
            self._write_reference_delta(bw)
        self._close(bw)

    def _write_claims(self, bw: BatchWriter, claims: list[Claim], ts: datetime) -> None:
        """The batch's 837 file: a functional group per submission time."""
        days: dict[datetime, list[Claim]] = {}
        for c in claims:
            days.setdefault(c.submitted_at, []).append(c)
        bw.text(
            f"837/claims_{bw.batch_id}{self.file_tag}.x12",
            lambda fh: write_837(fh, sorted(days.items()), self.ref, self.controls, ts),
        )
        self.counts["claims"] += len(claims)
        self.counts["secondary_claims"] += sum(c.responsibility == "S" for c in claims)
        self.counts["institutional_claims"] += sum(
            c.account is not None and c.account.claim_type == "I" for c in claims
        )

    def _write_remits(self, bw: BatchWriter, payments: list[Payment], ts: datetime) -> None:
        """One 835 file per payer; some are kept to be delivered again in the next batch."""
        ref = self.ref
        by_payer: dict[int, list[Payment]] = {}
        for pay in payments:
            by_payer.setdefault(ref.payer_index[pay.payer.id], []).append(pay)
        for pi, paid in sorted(by_payer.items()):
            # one file per payer, in the payer's style (x12.write_835); named by the payer's
            # place in the reference data, not by its id
            rel = f"835/remits_{bw.batch_id}-{pi + 1:02d}{self.file_tag}.x12"
            bw.text(rel, lambda fh, paid=paid: write_835(fh, paid, ref, self.controls, ts))
            self.counts["payer_paid"] += sum(p.amount for p in paid)
            self.counts["payments"] += len(paid)
            draw = random.Random(f"{self.seed}:resend:{bw.batch_id}-{pi + 1}{self.file_tag}")
            if draw.random() < RESEND_RATE:
                # kept in memory: the batch that holds the file may be merged (its files moved)
                # before the next one is written
                path = bw.root / rel
                self.resend.append((path.name, path.read_bytes(), write_835_count(path)))

    def _write_reference_snapshots(self, bw: BatchWriter) -> None:
        """Full extracts: declared snapshots of their tables in the manifest."""
        ref = self.ref
        for name, rows in (
            ("payers.csv", extracts.payers(ref)),
            ("payer_contracts.csv", extracts.payer_contracts(ref)),
            ("auth_rules.csv", extracts.auth_rules(ref)),
            ("chargemaster.csv", extracts.chargemaster(ref)),
            # the EHR's payer ids are the X12 ones here: equal ids need no row
            ("payer_crosswalk.csv", iter(())),
        ):
            self._csv(bw, name, rows)
            bw.files[-1]["snapshot"] = True

    def _write_reference_delta(self, bw: BatchWriter) -> None:
        """A delta: the rows of one payer, re-sent unchanged; the other keys stay."""
        ref = self.ref
        draw = random.Random(f"{self.seed}:reference-delta")
        insured = [p for p in ref.payers if not p.self_pay and p.auth_codes]
        payer = pick(draw, insured)
        self._csv(bw, "payers.csv", (r for r in extracts.payers(ref) if r["payer_id"] == payer.id))
        self._csv(
            bw,
            "payer_contracts.csv",
            (r for r in extracts.payer_contracts(ref) if r["payer_id"] == payer.id),
        )
        self._csv(
            bw, "auth_rules.csv", (r for r in extracts.auth_rules(ref) if r["payer_id"] == payer.id)
        )

    # ---------------------------------------------------------------------------- ERP
    def write_erp(self, k: int, ts: datetime) -> None:
        w = self.world
        payments = w.payments.pop("erp", k)
        self.journals.extend(
            build_journals(
                w.revenue.pop("erp", k),
                payments,
                sorted(w.patient_payments.pop("erp", k), key=attrgetter("received_at", "id")),
                w.write_offs.pop("erp", k),
            )
        )
        journals = self.journals.pop("erp", k)
        w.defects.extend(number_journals(journals, self.journal_seq + 1, self.tag))
        self.journal_seq += len(journals)
        # a deposit that lags its payment past this extract lands with a later batch (or, past
        # the last one, is still pending)
        fresh = payment_deposits(payments, self.ref)
        self.other_deposits.extend(d for d in fresh if d.ts > ts)
        deposits = build_deposits(
            [],
            self.ref,
            self.deposit_seq + 1,
            self.tag,
            [*(d for d in fresh if d.ts <= ts), *self.other_deposits.pop("erp", k)],
        )
        self.deposit_seq += len(deposits)
        bw = BatchWriter(self.landing, "erp", ts)
        self._csv(
            bw, "gl_journal_lines.csv", (row for j in journals for row in extracts.gl_lines(j))
        )
        self._csv(bw, "bank_deposits.csv", map(extracts.bank_deposit, deposits))
        if k == 0 and self.references:
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
            rows.append(
                {
                    "defect_type": d.defect_type,
                    "key": d.key,
                    "account_id": d.account_id,
                    "claim_id": d.claim_id,
                    "charge_id": d.charge_id,
                    "trace_number": d.trace_number,
                    "journal_id": d.journal_id,
                    "statement_id": d.statement_id,
                    "patient_id": d.patient_id,
                    "amount": fmt(d.amount),
                    "batch_id": batch_id(extracts_at[i]),
                }
            )
        return rows


def _summary(
    scale: str,
    seed: int,
    rate: float,
    horizon: Horizon,
    c: Mapping[str, int],
    batches: list[dict[str, Any]],
    rows: list[dict[str, str]],
) -> dict[str, Any]:
    by_type = {t: sum(r["defect_type"] == t for r in rows) for t in DEFECT_TYPES}
    return {
        "scale": scale,
        "seed": seed,
        "start": horizon.periods[0],
        "cadence": horizon.cadence,
        "months": horizon.months,
        "defect_rate": rate,
        "as_of": iso(horizon.as_of),
        "patients": c["patients"],
        "accounts": c["accounts"],
        "claims": c["claims"],
        "secondary_claims": c["secondary_claims"],
        "claims_by_type": {
            "837P": c["claims"] - c["institutional_claims"],
            "837I": c["institutional_claims"],
        },
        "charge_lines": c["charge_lines"],
        "total_charges": c["total_charges"] / 100,
        "payer_payments": c["payments"],
        "payer_paid": c["payer_paid"] / 100,
        "patient_paid": c["patient_paid"] / 100,
        "resent_files": c["resent_files"],
        "defects": by_type,
        "batches": batches,
    }


def _coverage_id(c: Coverage) -> str:
    if c.secondary is not None:
        return c.secondary.id
    return c.successor.id if c.successor is not None else c.patient.coverage_id


def _coverage_resource(c: Coverage) -> dict[str, Any]:
    if c.secondary is not None:
        return fhir.secondary_coverage(c.patient, c.secondary)
    if c.successor is not None:
        return fhir.successor_coverage(c.patient, c.successor)
    assert c.version is not None
    return fhir.coverage(c.patient, c.version)


def _write_truth(folder: Path, rows: list[dict[str, str]], summary: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "defects.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TRUTH_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
