"""What the serving snapshot holds: the tables and columns the dashboard and the API read.

``billops publish`` (``billops.publish.publish``) copies only the tables declared here, and of
each only the columns declared (or every column, ``ALL``), with one rule for PHI
(``billops.phi.PHI_COLUMNS``): a patient id is served as its token under :data:`TOKENISED`'s
name (``patient_id`` -> ``patient_key``, which the audited lookup of ``billops.phi_store``
accepts); every other PHI column (names, birth dates, postal codes, member ids, record text) is
left out. No staging, intermediate or raw table is served, nor ``marts.dim_patients``,
``marts.dim_coverage_history`` (member ids by patient) or ``ops`` (free-text notes).

Readers: the dashboard pages (dashboards/*_data.py: the reconciliation mart, the quality scores,
breaks and quarantine, the process-mining results, ``meta.snapshot``), and the work-queue API of
issue 15 (the exceptions, the facts they point at, reconciliation, KPIs, quality results, the
model's priorities). ``tests/test_serving_snapshot.py`` lists every table and column of a
published snapshot against this declaration and scans its text for PHI values.
"""

from __future__ import annotations

from billops.phi import PHI_COLUMNS

ALL: None = None

# PHI columns served as a token, under a name that says so.
TOKENISED: dict[str, str] = {"patient_id": "patient_key"}
# Column names of the PHI vocabulary that may appear in the snapshot: none; a tokenised column
# is renamed (above), every other PHI column is left out.
ALLOWED_PHI_COLUMNS: frozenset[str] = frozenset()

SERVED: dict[str, tuple[str, ...] | None] = {
    # Reconciliation and the close (dashboards/recon_data.py, billops/close.py), the API's marts.
    "marts.fct_account_reconciliation": ALL,
    "marts.reconciliation_summary": ALL,
    "marts.ar_rollforward": ALL,
    "marts.kpi_monthly": ALL,
    # The work queue (issue 15): exceptions and the facts an exception points at.
    "marts.billing_exceptions": ALL,
    "marts.dim_payers": ALL,
    "marts.fct_charges": ALL,
    "marts.fct_claims": ALL,
    "marts.fct_claim_lines": ALL,
    "marts.fct_claim_events": ALL,
    "marts.fct_remittance_claims": ALL,
    "marts.fct_remittance_service_lines": ALL,
    "marts.fct_remittance_adjustments": ALL,
    "marts.fct_remittance_plb": ALL,
    "marts.fct_gl_lines": ALL,
    "marts.fct_bank_deposits": ALL,
    "marts.fct_patient_payments": ALL,
    "marts.fct_statements": ALL,
    # The statement release gate (billops/statements.py, dashboards/statements_data.py): no PHI column.
    "marts.fct_statement_release": ALL,
    # The work-queue metrics per day, queue and owner team (dashboards/queue_data.py): no PHI column.
    "marts.fct_work_queue_daily": ALL,
    "marts.fct_eligibility_checks": ALL,
    # Data quality (dashboards/quality_data.py).
    "marts.dq_breaks": ALL,
    "marts.dq_quarantine": ALL,
    "marts.dq_ehr_payer_ids": ALL,
    "dq.quality_scores": ALL,
    "dq.validation_results": ALL,
    "dq.expectation_results": ALL,
    "dq.batch_quality": ALL,
    "dq.quarantine_units": ALL,
    # Process mining (dashboards/process_data.py).
    "marts.billing_event_log": ALL,
    "pm.runs": ALL,
    "pm.dfg": ALL,
    "pm.model": ALL,
    "pm.process_map": ALL,
    "pm.variants": ALL,
    "pm.bottlenecks": ALL,
    "pm.bottleneck_cases": ALL,
    "pm.rework": ALL,
    "pm.segments": ALL,
    "pm.segment_dfg": ALL,
    "pm.segment_variants": ALL,
    "pm.sla": ALL,
    "pm.sla_breaches": ALL,
    "pm.conformance": ALL,
    "pm.deviations": ALL,
    "pm.temporal_deviations": ALL,
    "pm.alignments": ALL,
    "pm.alignment_summary": ALL,
    "pm.alignment_cases": ALL,
    "pm.alignment_moves": ALL,
    # The work-queue ranking and the governed models.
    "ml.account_priorities": ALL,
    "ml.model_registry": ALL,
    "ml.denial_predictions_eval": ALL,
    "ml.anomalies": ALL,
}
META_SNAPSHOT = "meta.snapshot"


def served_columns(table: str, warehouse_columns: list[str]) -> list[tuple[str, str]]:
    """(warehouse column, snapshot column) pairs of ``table``, in the warehouse's order.

    A tokenised PHI column keeps its place under its token name; other PHI columns are dropped.
    A declared column the warehouse lacks is skipped (the snapshot predates it).
    """
    declared = SERVED[table]
    wanted = warehouse_columns if declared is ALL else [c for c in warehouse_columns if c in declared]
    pairs = []
    for column in wanted:
        if column in TOKENISED:
            pairs.append((column, TOKENISED[column]))
        elif column.lower() not in PHI_COLUMNS:
            pairs.append((column, column))
    return pairs


def schemas() -> list[str]:
    return sorted({t.split(".", 1)[0] for t in SERVED} | {META_SNAPSHOT.split(".", 1)[0]})
