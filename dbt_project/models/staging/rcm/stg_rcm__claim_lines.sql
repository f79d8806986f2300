with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'x12_claim_lines'), 'rcm', 'claim', 'account_id') }}
),

renamed as (
    select
        {{ billops.key_of(['_batch_id', '_file', 'interchange_control_number',
                           'st_control_number', 'account_id', 'line_number']) }} as claim_line_key,
        {{ billops.key_of(['_batch_id', '_file', 'interchange_control_number',
                           'st_control_number', 'account_id']) }} as claim_key,
        account_id,
        line_number,
        charge_id,
        hcpcs,
        modifiers,
        charge_amount,
        units,
        service_date,
        prior_auth_number,
        _batch_id,
        _file,
        _record
    from source
)

select * from renamed
