with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_patient'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

renamed as (
    select
        id as patient_id,
        version_id,
        last_updated as last_updated_at,
        family_name,
        given_name,
        birth_date,
        gender,
        postal_code,
        managing_organization_id,
        _batch_id,
        _record
    from latest
)

select * from renamed
