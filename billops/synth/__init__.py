"""Synthetic data generator behind ``billops generate``.

``generate(out, scale, start, months, seed, progress, defect_rate)`` simulates a health system
(hospitals with their clinics, five payers, patients with coverage) and writes what its three
source systems would extract at each month-end, plus the truth of the defects it injected:

* ``out/landing/ehr/<batch_id>/``: FHIR R4 bulk export NDJSON (Organization, Patient, Coverage
  with registration updates as new versions, Encounter, ChargeItem).
* ``out/landing/rcm/<batch_id>/``: one 837P file (005010X222A1) with the claims submitted in the
  month (a functional group per submission day), one 835 file (005010X221A1) with a transaction
  set per payer payment, and the CSV extracts (claim events, eligibility checks, statements,
  patient payments, payers, payer contracts, auth rules, chargemaster).
* ``out/landing/erp/<batch_id>/``: GL journal lines, bank deposits, chart of accounts.
* ``out/truth/defects.csv`` (one row per injected defect) and ``out/truth/summary.json``.

Each batch ends with ``_manifest.json`` written last. batch_id is the extract time: the day
after each month-end at 02:00Z (ehr), 03:00Z (rcm) and 04:00Z (erp); simulated business
events happen between 06:00 and 22:00 UTC, so the three extracts of a month-end see the same
events. The output is a pure function of the arguments (``random.Random`` streams derived from
the seed, no wall clock, fixed key and row order): the same arguments give byte-identical files.

Done (the spine): scales ``tiny`` (~200 patients, 1 month, 1 hospital and 4 clinics) and
``small`` (~2,000 patients, 3 months), one batch per system per month-end; clean journeys where
every dollar ties out (charges = payer paid + contractual adjustments + patient
responsibility; patient responsibility = copays + statement payments + small-balance write-offs,
with refunds of over-collected copays), prior authorizations, replacement claims with
reversals; defects UNBILLED_CHARGE, LATE_CHARGE and DENIAL with truth rows (``defect_rate``,
0 = clean).

Next issue: the full defect catalog of ARCHITECTURE.md (appeals of denials, underpayments,
coverage mismatches, missing authorizations, duplicate charges, GL and deposit breaks, stale
statements, credit balances, unapproved write-offs, PLB adjustments, secondary payers), the
``medium`` and ``large`` scales (3 hospitals, 12 clinics) with month-by-month streaming instead
of simulating the whole horizon in memory, intra-month batches and re-sent files.
"""

from billops.synth.generator import generate

__all__ = ["generate"]
