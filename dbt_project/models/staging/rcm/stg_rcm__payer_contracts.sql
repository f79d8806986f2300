with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'payer_contracts'), 'rcm', 'record', '_record') }}
),

latest_extract as (
    {{ billops.latest_reference_extract('source', ['payer_id', 'hcpcs', 'effective_from'], 'rcm', 'payer_contracts.csv') }}
),

renamed as (
    select
        {{ billops.key_of(['payer_id', 'hcpcs', 'effective_from']) }} as payer_contract_key,
        payer_id,
        hcpcs,
        effective_from,
        effective_to,
        expected_allowed_amount as expected_allowed_per_unit,
        allowed_pct_of_charge,
        _batch_id,
        _record
    from latest_extract
)

select * from renamed
