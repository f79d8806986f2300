-- FHIR Accounts, where the EHR sends them: the latest version of each id. An Encounter that
-- carries no AN identifier takes its account number from the Account it references.
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_account'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

renamed as (
    select
        id as fhir_account_id,
        nullif(trim(account_number), '') as account_number,
        version_id,
        last_updated as last_updated_at,
        status,
        patient_id as fhir_patient_id,
        _batch_id,
        _record
    from latest
)

select * from renamed
