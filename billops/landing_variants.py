"""The encodings of the landing contract that real systems send, as documentation data.

docs/raw-zone.md renders this list (``billops.docs_gen``); each entry names the metamorphic
transform in tests/metamorphic/transforms.py that rewrites a generated landing zone into that
encoding, and tests/test_docs.py checks the names exist, so a documented variant is a tested one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    source: str  # the landing source the variant belongs to
    field: str  # what it is about
    canonical: str  # the encoding billops' generator writes
    accepted: str  # what else billops reads, and how it resolves it
    example: str  # a short example of the other encoding (fenced as is)
    transform: str | None  # the metamorphic transform, or None when tested elsewhere
    tested_by: str = ""  # where it is tested when no transform rewrites it


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "Account number",
        "Encounter.id is the account number (CLM01 of the 837, CLP01 of the 835).",
        "Encounter.identifier of type AN (v2-0203), else the identifier of the Account that "
        "Encounter.account references, else Encounter.id. Logical ids may be opaque; "
        "ChargeItem.context and every other reference follow the logical id and staging "
        "translates it to the account number.",
        '{"resourceType": "Encounter", "id": "e9f1c2", "identifier": [{"type": {"coding": '
        '[{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "AN"}]}, '
        '"value": "70010019"}], "account": [{"reference": "Account/ac-77"}]}',
        "identities_by_identifier",
    ),
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "Patient key",
        "Patient.id is the patient key, and patient_id in the RCM CSVs carries it.",
        "Patient.identifier of type MR, else Patient.id; patient_id in eligibility_checks.csv, "
        "statements.csv and patient_payments.csv may carry either (int_patient_keys).",
        '{"resourceType": "Patient", "id": "p-3b81", "identifier": [{"type": {"coding": '
        '[{"code": "MR"}]}, "value": "MRN0001234"}]}\n'
        "statement_id,patient_id,...\nS1,MRN0001234,...",
        "identities_by_identifier",
    ),
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "File names",
        "One <ResourceType>.ndjson per resource type.",
        "Bulk export's numbered files: Patient.ndjson, Patient.1.ndjson, Patient_000.ndjson, "
        "Patient-2.ndjson all load; a manifest file of no known resource type is recorded as "
        "IGNORED and named in the ingest report, never skipped silently.",
        "Patient.ndjson  Patient.1.ndjson  Patient_000.ndjson  Patient-2.ndjson",
        "bulk_export_names",
    ),
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "Coverage payer and member id",
        "Coverage.payor references an Organization whose id is the X12 payer id; subscriberId "
        "always sent.",
        "The EHR's payer id maps to the X12 payer id through payer_crosswalk.csv (rcm reference, "
        "source_system ehr; equal ids need no row); an unmapped id is one warning "
        "(marts.dq_ehr_payer_ids, rule ehr_payer_id_mapped) and its claims are not judged for "
        "coverage. subscriberId is optional (the claim's NM109 is then the member id on file); "
        "member ids compare without case, spaces and punctuation.",
        '{"resourceType": "Coverage", "payor": [{"reference": "Organization/org-aetna"}], '
        '"subscriberId": "w 123-456"}\n'
        "source_system,source_payer_id,payer_id\nehr,org-aetna,60054",
        "payer_ids_crosswalked",
    ),
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "Self-pay, open periods",
        "Self-pay patients hold a Coverage whose payer is the self-pay payer of payers.csv; "
        "every Encounter and Coverage has period.end.",
        "Self-pay as Coverage.payor referencing the Patient (or a RelatedPerson), or no Coverage "
        "at all: the account is self-pay, never UNBILLED_CHARGE. Encounter.period.end and "
        "Coverage.period.end are optional (open periods).",
        '{"resourceType": "Coverage", "payor": [{"reference": "Patient/p-3b81"}], '
        '"period": {"start": "2026-01-01"}}',
        "optional_elements",
    ),
    Variant(
        "EHR (FHIR R4 NDJSON)",
        "Charge code and amount",
        "ChargeItem.code has one HCPCS Level II coding; priceOverride always sent.",
        "The coding whose system is HCPCS or CPT (by URL or OID) wins over an EHR's own "
        "chargemaster coding listed first; Level I (five characters, setting "
        "procedure_code_pattern) and Level II codes are valid. Without priceOverride the charge "
        "is the chargemaster unit price in effect on the service date times the quantity.",
        '{"resourceType": "ChargeItem", "code": {"coding": [{"system": '
        '"urn:local:cdm", "code": "300012"}, {"system": "https://www.cms.gov/Medicare/Coding/'
        'HCPCSReleaseCodeSets", "code": "J1100"}]}, "quantity": {"value": 2}}',
        "procedure_codings",
    ),
    Variant(
        "RCM (X12 837P/837I)",
        "Charge to claim line",
        "Every 2400 loop carries REF*6R = ChargeItem.id.",
        "REF*6R is optional: without it a charge matches its claim line one to one on account, "
        "procedure code, modifiers, service date and units (int_charge_to_claim_lines); where "
        "REF*6R is present it wins.",
        "LX*1~SV1*HC:J1100*25*UN*1***1~DTP*472*D8*20261014~",
        "no_line_control_numbers",
    ),
    Variant(
        "RCM (X12 837P/837I)",
        "Claim frequency and line authorization",
        "CLM05-3 = 1 (original), 7 (replacement) or 8 (void); prior authorization on the claim.",
        "2, 3, 4 (interim) and 5 (late charges) add to the claim they belong to; 8 voids it. "
        "2400 REF*G1 authorizes its line.",
        "CLM*70010019*125***21:B:5~\nLX*2~SV1*HC:J1100*25*UN*1***1~REF*G1*AUTH0042~",
        None,
        "dbt unit tests of int_current_claims, int_current_claim_accounts and int_exc_missing_prior_auth (docs/rules.md)",
    ),
    Variant(
        "RCM (X12 835)",
        "Payment identity and re-sends",
        "A trace number (TRN02) is unique across payers and each 835 arrives once.",
        "A payment is (payer, TRN02): TRN02 is unique per originator (TRN03). The same 835 "
        "transaction re-sent in a new interchange (new ISA13, GS06, ST02) posts once and raises "
        "nothing. The payer is N1*PR N104, else REF*2U, else TRN03, else the payer of the "
        "matching 837 claim (int_remittance_payers). BPR03 = D is a takeback.",
        "ISA*...*000000912*0*P*:~GS*HP*...*912*X*005010X221A1~ST*835*0001~"
        "BPR*I*310.5*C*ACH*...~TRN*1*EFT20261014A*1512345678~",
        "remittances_resent",
    ),
    Variant(
        "Reference extracts (rcm, erp)",
        "Delta and snapshot files",
        "Every batch sends complete reference files.",
        "Files merge per key: a later file replaces the keys it sends, and a key disappears only "
        'when the manifest declares the file a full snapshot ("snapshot": true).',
        '{"path": "payer_contracts.csv", "sha256": "...", "records": 12, "snapshot": true}',
        None,
        "dbt unit tests test_payers_merge_until_a_snapshot, test_auth_rules_merge_per_key",
    ),
    Variant(
        "ERP (CSV)",
        "Cash accounts and deposits",
        "Cash postings are patient cash, one deposit per trace at its amount.",
        "GL accounts are found by account_type (setting gl_account_types); a cash account also "
        "carries vendor payments, payroll, transfers, fees and interest, which are non-patient "
        "cash (reconciliation_summary). A deposit may carry several traces (lockbox) and a trace "
        "may arrive in several deposits, within gl_posting_lag_days and deposit_lag_days.",
        "deposit_id,entity,bank_account,deposit_date,amount,trace_number,payer_name\n"
        "D1,H01,OPER-1,2026-10-16,1310.50,EFT20261014A;EFT20261014B,LOCKBOX",
        None,
        "hand-built second system (tests/fixtures/second_system) and dbt unit tests of "
        "stg_erp__bank_deposit_traces",
    ),
)
