"""Synthetic data generator behind ``billops generate``.

``generate(out, scale, start, months, seed, progress, defect_rate, defect_rates, cadence)``
simulates a regional health system (hospitals, each with its clinics = one GL entity; Medicare,
Medicare Advantage, Medicaid and four commercial payers with auth rules, timely filing limits,
adjudication lags, denial tendencies and contracts; patients with coverage that changes) and
writes what its three source systems extract, plus the truth of the defects it injected:

* ``out/landing/ehr/<batch_id>/``: FHIR R4 bulk export NDJSON (Organization, Patient, Coverage
  with registration updates and terminations as new versions and replacement coverages as new
  resources, Encounter, ChargeItem).
* ``out/landing/rcm/<batch_id>/``: one 837 file per batch with the claims submitted in it
  (a functional group per submission time and claim type: 837P 005010X222A1 from the
  clinics, 837I 005010X223A2 from the hospitals), one 835 file (005010X221A1) with a
  transaction set per payer payment, and the CSV extracts (claim events, eligibility checks,
  statements, patient payments, payers, payer contracts, auth rules, chargemaster).
* ``out/landing/erp/<batch_id>/``: GL journal lines, bank deposits, chart of accounts.
* ``out/truth/defects.csv`` (one row per injected defect, every type of docs/architecture.md; what
  each looks like is documented in defects.py) and ``out/truth/summary.json``.

Batches (params.Horizon): ``monthly`` cadence writes one batch per system after each month-end;
``daily`` one nightly batch per system and day plus hourly intraday batches on the last day.
Extract hours are 02:00Z (ehr), 03:00Z (rcm) and 04:00Z (erp); simulated business events happen
between 06:00 and 22:00 UTC. Each batch ends with ``_manifest.json`` written last. The output is
a pure function of the arguments (``random.Random`` streams derived from the seed, no wall
clock, fixed key and row order): the same arguments give byte-identical files.

Scales (params.SCALES): ``tiny`` (~200 patients, 1 month, 2 hospitals with 2 clinics each,
monthly), ``small`` (~2,000 patients, 3 months, 3 hospitals with 4 clinics each, monthly),
``medium`` (one month of 3 hospitals and 12 clinics, ~60,000 accounts and ~300,000 charge
lines, daily) and ``large`` (twelve months of medium, daily). Batches are streamed: each is
written as soon as no later simulated day can add to it (stream.py), so memory holds only the
open batches. medium and large simulate their patients in two parallel parts whose batches are
merged (parts.py). docs/generator.md describes the journeys (secondary payers among them)
and the defects.
"""

from billops.synth.generator import generate

__all__ = ["generate"]
