"""The raw-zone contract: every table ingestion writes, with explicit column types.

Ingestion writes Parquet under ``$BILLOPS_HOME/lake/raw/<table>/batch_id=<id>/`` with exactly these
columns (plus the lineage columns), dbt declares them as sources, and Great Expectations checks
them. Types are DuckDB type names. Nothing is inferred: a CSV column that is not listed here is
an error, and a listed column missing from a CSV header is an error.

Landing files map to tables as follows (see docs/architecture.md, "Landing zone"):

* EHR ``<ResourceType>.ndjson`` -> ``fhir_<resource>`` (the resource is also kept whole as JSON)
* RCM ``837/*.x12`` -> ``x12_claims``, ``x12_claim_lines``, ``x12_claim_diagnoses``
* RCM ``835/*.x12`` -> ``x12_remittances``, ``x12_remit_claims``, ``x12_remit_adjustments``,
  ``x12_remit_service_lines``, ``x12_remit_plb``
* every ``<name>.csv`` -> ``<name>``
"""

from __future__ import annotations

from dataclasses import dataclass

LINEAGE_COLUMNS: dict[str, str] = {
    "_batch_id": "VARCHAR",  # the landing batch the row came from
    "_file": "VARCHAR",  # path of the file, relative to the batch folder
    "_record": "BIGINT",  # 1-based record number in the file (CSV data row, NDJSON line, X12 segment)
    "_loaded_at": "TIMESTAMP",  # UTC time the batch was loaded
}


@dataclass(frozen=True)
class RawTable:
    name: str
    system: str  # ehr | rcm | erp
    source: str  # ndjson:<ResourceType> | x12:837 | x12:835 | csv:<file name>
    columns: dict[str, str]
    key: tuple[str, ...]
    description: str


def _t(name: str, system: str, source: str, key: tuple[str, ...], description: str, /,
       **columns: str) -> RawTable:
    return RawTable(name, system, source, dict(columns), key, description)


V, D, TS, DEC, INT, B = "VARCHAR", "DATE", "TIMESTAMP", "DECIMAL(18,2)", "BIGINT", "BOOLEAN"

TABLES: dict[str, RawTable] = {t.name: t for t in [
    # ---------------------------------------------------------------- EHR, FHIR R4 bulk export
    _t("fhir_patient", "ehr", "ndjson:Patient", ("id", "_batch_id"),
       "FHIR Patient; name, birth date and member ids are PHI. mrn is the Patient.identifier "
       "of type MR (v2-0203): the patient key where sent, else Patient.id. Every EHR file "
       "(each fhir_* table) is named <ResourceType>.ndjson or numbered as bulk export writes "
       "them (Patient.1.ndjson, Patient_000.ndjson, Patient-2.ndjson); an NDJSON file of a "
       "resource type no fhir_* table holds is recorded in raw._loads with status IGNORED and "
       "named in the ingest report, never read.",
       id=V, version_id=V, last_updated=TS, family_name=V, given_name=V, birth_date=D,
       gender=V, postal_code=V, managing_organization_id=V, mrn=V, resource_json=V),
    _t("fhir_coverage", "ehr", "ndjson:Coverage", ("id", "version_id"),
       "FHIR Coverage; a registration update is a new version (meta.versionId). patient_id is "
       "the beneficiary's logical id; payer_id the id of the first payor, payer_resource_type "
       "the type it references (Organization; Patient or RelatedPerson for self-pay); "
       "subscriber_id (the member id) is optional.",
       id=V, version_id=V, last_updated=TS, status=V, patient_id=V, payer_id=V,
       payer_resource_type=V, subscriber_id=V, relationship=V, coverage_order=INT,
       period_start=D, period_end=D, resource_json=V),
    _t("fhir_encounter", "ehr", "ndjson:Encounter", ("id", "_batch_id"),
       "FHIR Encounter. account_number is the Encounter.identifier of type AN (v2-0203), "
       "account_ref_id the logical id of the Account that Encounter.account references; the "
       "account number is account_number, else that Account's identifier, else Encounter.id. "
       "patient_id is the subject's logical id; period.end is optional.",
       id=V, version_id=V, last_updated=TS, status=V, class_code=V, type_code=V,
       patient_id=V, service_provider_id=V, period_start=TS, period_end=TS, account_number=V,
       account_ref_id=V, resource_json=V),
    _t("fhir_charge_item", "ehr", "ndjson:ChargeItem", ("id", "_batch_id"),
       "FHIR ChargeItem; hcpcs is the coding whose system is HCPCS or CPT (Level II or Level I; "
       "an EHR may list its own coding first); price_override is optional (staging prices the "
       "line from the chargemaster); context is the Encounter (its logical id: "
       "staging translates it to the account number), subject the Patient. "
       "occurrence_date is the calendar date of occurrenceDateTime (or occurrencePeriod.start) as "
       "written, occurrence_at the full time in UTC (midnight when only a date is sent).",
       id=V, version_id=V, last_updated=TS, status=V, hcpcs=V, quantity=DEC,
       price_override=DEC, occurrence_date=D, occurrence_at=TS, entered_date=TS, account_id=V,
       patient_id=V, performer_id=V, resource_json=V),
    _t("fhir_organization", "ehr", "ndjson:Organization", ("id", "_batch_id"),
       "FHIR Organization: facilities (type prov; partOf = the hospital, i.e. the GL entity) and "
       "payers (type pay; id = payer id).",
       id=V, version_id=V, last_updated=TS, active=B, name=V, type_code=V, npi=V,
       part_of_id=V, resource_json=V),
    _t("fhir_account", "ehr", "ndjson:Account", ("id", "_batch_id"),
       "FHIR Account, where the EHR sends it. account_number is its identifier of type AN "
       "(v2-0203), else its first identifier; patient_id the first subject's logical id.",
       id=V, version_id=V, last_updated=TS, status=V, account_number=V, patient_id=V,
       resource_json=V),
    # ---------------------------------------------------------------- RCM, X12 837 claims
    _t("x12_claims", "rcm", "x12:837", ("account_id", "interchange_control_number", "st_control_number"),
       "One row per 837 claim (2300 loop). payer_responsibility is SBR01 of the subscriber "
       "(2000B: P primary, S secondary, T tertiary...); other_payer_id and "
       "other_payer_paid_amount come from the first other-payer loop (2330B NM109, 2320 AMT*D): "
       "on a secondary claim, the primary payer and what it paid.",
       interchange_control_number=V, st_control_number=V, implementation=V, claim_type=V,
       submitted_at=TS, billing_provider_npi=V, billing_provider_name=V, payer_id=V,
       payer_name=V, member_id=V, subscriber_last_name=V, subscriber_first_name=V,
       subscriber_birth_date=D, patient_id=V, account_id=V, total_charge=DEC,
       facility_code=V, claim_frequency_code=V, original_claim_ref=V, prior_auth_number=V,
       statement_from=D, statement_to=D, payer_responsibility=V, other_payer_id=V,
       other_payer_paid_amount=DEC),
    _t("x12_claim_lines", "rcm", "x12:837", ("account_id", "st_control_number", "line_number"),
       "One row per 837 service line (2400 loop); charge_id is REF*6R = ChargeItem.id, "
       "prior_auth_number the line's own REF*G1 (the claim's is on x12_claims).",
       interchange_control_number=V, st_control_number=V, account_id=V, line_number=INT,
       charge_id=V, hcpcs=V, modifiers=V, charge_amount=DEC, units=DEC, service_date=D,
       prior_auth_number=V),
    _t("x12_claim_diagnoses", "rcm", "x12:837", ("account_id", "st_control_number", "sequence"),
       "Diagnoses of an 837 claim (HI segment), ICD-10-CM without the dot.",
       interchange_control_number=V, st_control_number=V, account_id=V, sequence=INT,
       qualifier=V, code=V),
    # ---------------------------------------------------------------- RCM, X12 835 remittance
    _t("x12_remittances", "rcm", "x12:835", ("trace_number",),
       "One row per 835 transaction set: BPR payment and TRN trace.",
       interchange_control_number=V, st_control_number=V, trace_number=V,
       payment_amount=DEC, credit_debit=V, payment_method=V, payment_date=D,
       payer_id=V, payer_name=V, payee_npi=V, payee_name=V, production_date=D,
       originator_id=V),
    _t("x12_remit_claims", "rcm", "x12:835", ("trace_number", "account_id", "claim_seq"),
       "One row per CLP (2100 loop); account_id is CLP01.",
       interchange_control_number=V, st_control_number=V, trace_number=V, claim_seq=INT,
       account_id=V, claim_status_code=V, charge_amount=DEC, paid_amount=DEC,
       patient_responsibility_amount=DEC, claim_filing_indicator=V,
       payer_claim_control_number=V, facility_code=V, claim_frequency_code=V,
       patient_last_name=V, patient_first_name=V, member_id=V, paid_date=D),
    _t("x12_remit_adjustments", "rcm", "x12:835", ("trace_number", "claim_seq", "line_seq", "adj_seq"),
       "Every CAS group/reason/amount triple, at claim (line_seq 0) or service-line level.",
       interchange_control_number=V, st_control_number=V, trace_number=V, claim_seq=INT,
       account_id=V, line_seq=INT, charge_id=V, adj_seq=INT, group_code=V, reason_code=V,
       amount=DEC, quantity=DEC),
    _t("x12_remit_service_lines", "rcm", "x12:835", ("trace_number", "claim_seq", "line_seq"),
       "One row per SVC (2110 loop); charge_id echoes REF*6R.",
       interchange_control_number=V, st_control_number=V, trace_number=V, claim_seq=INT,
       account_id=V, line_seq=INT, charge_id=V, procedure_qualifier=V, procedure_code=V,
       modifiers=V, charge_amount=DEC, paid_amount=DEC, units_paid=DEC, service_date=D),
    _t("x12_remit_plb", "rcm", "x12:835", ("trace_number", "plb_seq", "adj_seq"),
       "Provider-level adjustments (PLB), one row per reason/amount pair.",
       interchange_control_number=V, st_control_number=V, trace_number=V, plb_seq=INT,
       provider_id=V, fiscal_period_date=D, adj_seq=INT, reason_code=V, reference_id=V,
       amount=DEC),
    # ---------------------------------------------------------------- RCM, CSV
    _t("claim_events", "rcm", "csv:claim_events.csv", ("claim_id", "event_type", "event_ts"),
       "Billing-system claim workflow events.",
       claim_id=V, event_type=V, event_ts=TS, actor=V, queue=V, detail=V),
    _t("eligibility_checks", "rcm", "csv:eligibility_checks.csv", ("check_id",),
       "Real-time eligibility (270/271) results.",
       check_id=V, patient_id=V, payer_id=V, member_id=V, checked_at=TS, status=V,
       plan_begin=D, plan_end=D),
    _t("statements", "rcm", "csv:statements.csv", ("statement_id",),
       "Patient statements.",
       statement_id=V, patient_id=V, account_id=V, statement_date=D, amount_due=DEC,
       payer_id_on_file=V, member_id_on_file=V),
    _t("patient_payments", "rcm", "csv:patient_payments.csv", ("payment_id",),
       "Patient payments (negative amount = refund).",
       payment_id=V, patient_id=V, account_id=V, amount=DEC, received_at=TS, method=V),
    _t("payers", "rcm", "csv:payers.csv", ("payer_id",),
       "Reference: payers.",
       payer_id=V, name=V, payer_type=V, timely_filing_days=INT),
    _t("payer_contracts", "rcm", "csv:payer_contracts.csv", ("payer_id", "hcpcs", "effective_from"),
       "Reference: expected allowed amount per unit, or a fraction of charge.",
       payer_id=V, hcpcs=V, effective_from=D, effective_to=D,
       expected_allowed_amount=DEC, allowed_pct_of_charge="DECIMAL(9,4)"),
    _t("auth_rules", "rcm", "csv:auth_rules.csv", ("payer_id", "hcpcs", "effective_from"),
       "Reference: services that need prior authorization.",
       payer_id=V, hcpcs=V, effective_from=D, effective_to=D),
    _t("payer_crosswalk", "rcm", "csv:payer_crosswalk.csv", ("source_system", "source_payer_id"),
       "Reference: another system's payer id (source_system ehr: Coverage.payor) to the payer id "
       "the X12 files use; ids equal on both sides need no row.",
       source_system=V, source_payer_id=V, payer_id=V),
    _t("chargemaster", "rcm", "csv:chargemaster.csv", ("hcpcs", "effective_from"),
       "Reference: chargemaster (procedure codes, HCPCS Level II or Level I, and unit prices effective from a date).",
       hcpcs=V, description=V, unit_price=DEC, effective_from=D),
    # ---------------------------------------------------------------- ERP, CSV
    _t("gl_journal_lines", "erp", "csv:gl_journal_lines.csv", ("journal_id", "line_no"),
       "General-ledger journal lines.",
       journal_id=V, line_no=INT, entity=V, posting_date=D, period=V, account=V, debit=DEC,
       credit=DEC, source=V, reference=V, description=V, created_by=V, approved_by=V),
    _t("bank_deposits", "erp", "csv:bank_deposits.csv", ("deposit_id",),
       "Bank deposits; trace_number is the EFT trace (835 TRN02).",
       deposit_id=V, entity=V, bank_account=V, deposit_date=D, amount=DEC, trace_number=V,
       payer_name=V),
    _t("chart_of_accounts", "erp", "csv:chart_of_accounts.csv", ("entity", "account"),
       "Reference: chart of accounts; accounts are found by account_type, never by number.",
       entity=V, account=V, name=V, account_type=V),
]}

CSV_FILES: dict[str, RawTable] = {
    t.source.split(":", 1)[1]: t for t in TABLES.values() if t.source.startswith("csv:")
}
FHIR_RESOURCES: dict[str, RawTable] = {
    t.source.split(":", 1)[1]: t for t in TABLES.values() if t.source.startswith("ndjson:")
}
X12_TABLES: dict[str, list[RawTable]] = {
    kind: [t for t in TABLES.values() if t.source == f"x12:{kind}"] for kind in ("837", "835")
}
SYSTEM_OF_CSV: dict[str, str] = {name: t.system for name, t in CSV_FILES.items()}

# Ledger and side tables in the ``raw`` schema of DuckDB (not Parquet datasets).
LEDGER_DDL = """
create schema if not exists raw;
create table if not exists raw._loads (
    system varchar, batch_id varchar, file varchar, sha256 varchar, records bigint,
    rows_loaded bigint, rows_rejected bigint, status varchar, started_at timestamp,
    finished_at timestamp, error varchar, extracted_at timestamp, snapshot boolean
);
alter table raw._loads add column if not exists snapshot boolean;
create table if not exists raw._rejects (
    system varchar, batch_id varchar, file varchar, record bigint, reason varchar,
    original_text varchar, rejected_at timestamp, unit varchar, unit_key varchar,
    amount decimal(18, 2)
);
alter table raw._rejects add column if not exists unit varchar;
alter table raw._rejects add column if not exists unit_key varchar;
alter table raw._rejects add column if not exists amount decimal(18, 2);
create table if not exists raw._x12_validation (
    system varchar, batch_id varchar, file varchar, sha256 varchar, status varchar,
    error_count bigint, errors varchar, validated_at timestamp
);
create table if not exists raw._batches (
    system varchar, batch_id varchar, extracted_at timestamp, status varchar,
    reason varchar, loaded_at timestamp
);
"""


def all_columns(table: str) -> dict[str, str]:
    """Columns of a raw table including lineage, in Parquet order."""
    return {**TABLES[table].columns, **LINEAGE_COLUMNS}
