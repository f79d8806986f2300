with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'auth_rules'), 'rcm', 'record', '_record') }}
),

latest_extract as (
    {{ billops.latest_reference_extract('source', ['payer_id', 'hcpcs', 'effective_from'], 'rcm', 'auth_rules.csv') }}
),

renamed as (
    select
        {{ billops.key_of(['payer_id', 'hcpcs', 'effective_from']) }} as auth_rule_key,
        payer_id,
        hcpcs,
        effective_from,
        effective_to,
        _batch_id,
        _record
    from latest_extract
)

select * from renamed
