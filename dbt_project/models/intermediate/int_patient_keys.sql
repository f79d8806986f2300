-- Every alias a patient is known by, mapped to one patient key (the Patient's MR identifier,
-- else its id): the key itself, the MRN and the FHIR logical id. The RCM CSVs (statements,
-- eligibility checks, patient payments) send Patient.id or the MRN; a model joining them to
-- patients resolves patient_id through this map. An alias that two patients share (one's MRN is
-- the other's logical id) goes to the patient whose key it is, then to the one whose MRN it is.
with

ids as (
    select fhir_patient_id, patient_id, mrn from {{ ref('stg_ehr__patient_ids') }}
),

aliases as (
    select patient_id as patient_alias, patient_id, 1 as alias_rank from ids
    union all
    select mrn as patient_alias, patient_id, 2 as alias_rank from ids where mrn is not null
    union all
    select fhir_patient_id as patient_alias, patient_id, 3 as alias_rank from ids
),

ranked as (
    {{ billops.deduplicate('aliases', 'patient_alias', 'alias_rank, patient_id') }}
),

final as (
    select patient_alias, patient_id
    from ranked
    where patient_alias is not null
)

select * from final
