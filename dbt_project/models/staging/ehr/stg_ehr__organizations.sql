with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_organization'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

renamed as (
    select
        id as organization_id,
        version_id,
        last_updated as last_updated_at,
        active as is_active,
        name as organization_name,
        type_code,
        npi,
        part_of_id,
        type_code = 'prov' as is_facility,
        type_code = 'pay' as is_payer,
        -- The GL entity of a facility is its hospital: itself when it is part of nothing.
        case when type_code = 'prov' then coalesce(part_of_id, id) end as entity,
        _batch_id,
        _record
    from latest
)

select * from renamed
