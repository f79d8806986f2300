with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'patient_payments'), 'rcm', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['payment_id']) }}
),

renamed as (
    select
        payment_id,
        patient_id,
        account_id,
        amount,
        amount < 0 as is_refund,
        received_at,
        method as payment_method,
        _batch_id,
        _file,
        _record
    from latest
)

select * from renamed
