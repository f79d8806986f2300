with

source as (
    select * from {{ billops.without_held_units(source('erp', 'bank_deposits'), 'erp', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['deposit_id']) }}
),

renamed as (
    select
        deposit_id,
        entity,
        bank_account,
        deposit_date,
        amount,
        trace_number,
        payer_name,
        _batch_id,
        _file,
        _record,
        _loaded_at
    from latest
)

select * from renamed
