with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'statements'), 'rcm', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['statement_id']) }}
),

renamed as (
    select
        statement_id,
        patient_id,
        account_id,
        statement_date,
        amount_due,
        payer_id_on_file,
        member_id_on_file,
        _batch_id,
        _file,
        _record
    from latest
)

select * from renamed
