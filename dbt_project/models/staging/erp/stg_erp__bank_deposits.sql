-- Bank deposit rows. A deposit may carry several traces, as several rows sharing the deposit_id
-- (one per trace, each with its part of the amount) or as one row whose trace_number lists them
-- (see stg_erp__bank_deposit_traces); a row is keyed by deposit and trace, a re-sent row replaces
-- the earlier delivery.
with

source as (
    select * from {{ billops.without_held_units(source('erp', 'bank_deposits'), 'erp', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['deposit_id', "coalesce(trace_number, '')"]) }}
),

renamed as (
    select
        {{ billops.key_of(['deposit_id', 'trace_number']) }} as deposit_line_key,
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
