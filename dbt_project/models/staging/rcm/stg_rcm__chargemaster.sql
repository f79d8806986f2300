with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'chargemaster'), 'rcm', 'record', '_record') }}
),

latest_extract as (
    {{ billops.latest_reference_extract('source', ['hcpcs', 'effective_from'], 'rcm', 'chargemaster.csv') }}
),

renamed as (
    select
        {{ billops.key_of(['hcpcs', 'effective_from']) }} as chargemaster_key,
        hcpcs,
        description as hcpcs_description,
        unit_price,
        effective_from,
        _batch_id,
        _record
    from latest_extract
)

select * from renamed
