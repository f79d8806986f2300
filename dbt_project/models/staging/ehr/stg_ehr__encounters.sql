with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_encounter'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

renamed as (
    select
        id as account_id,
        version_id,
        last_updated as last_updated_at,
        status,
        class_code,
        type_code,
        patient_id,
        service_provider_id as facility_id,
        period_start as started_at,
        period_end as ended_at,
        cast(period_start as date) as service_date,
        _batch_id,
        _record
    from latest
)

select * from renamed
