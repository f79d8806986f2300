-- FHIR Encounters, the latest version of each id. The account number is the Encounter.identifier
-- of type AN (v2-0203), else the identifier of the Account that Encounter.account references,
-- else Encounter.id (FHIR logical ids may be opaque: the generator makes them equal, other EHRs
-- do not). The subject's logical id is translated to the patient key. period.end is optional.
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_encounter'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

patient_ids as (
    select fhir_patient_id, patient_id from {{ ref('stg_ehr__patient_ids') }}
),

accounts as (
    select fhir_account_id, account_number from {{ ref('stg_ehr__accounts') }}
),

renamed as (
    select
        coalesce(
            nullif(trim(latest.account_number), ''), accounts.account_number, latest.id
        ) as account_id,
        latest.id as encounter_id,
        latest.version_id,
        latest.last_updated as last_updated_at,
        latest.status,
        latest.class_code,
        latest.type_code,
        coalesce(patient_ids.patient_id, latest.patient_id) as patient_id,
        latest.patient_id as fhir_patient_id,
        latest.service_provider_id as facility_id,
        latest.period_start as started_at,
        latest.period_end as ended_at,
        cast(latest.period_start as date) as service_date,
        latest._batch_id,
        latest._record
    from latest
    left join patient_ids on latest.patient_id = patient_ids.fhir_patient_id
    left join accounts on latest.account_ref_id = accounts.fhir_account_id
)

select * from renamed
