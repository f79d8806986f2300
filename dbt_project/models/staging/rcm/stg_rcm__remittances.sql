-- One row per 835 payment (trace number). A remittance that arrives again in another file is
-- kept once, from the first file that delivered it: a re-sent 835 must never post twice.
with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'x12_remittances'), 'rcm', 'transaction_set', 'trace_number') }}
),

first_delivery as (
    {{ billops.deduplicate('source', 'trace_number', '_batch_id, _file, _record') }}
),

renamed as (
    select
        trace_number,
        interchange_control_number,
        st_control_number,
        payment_amount,
        credit_debit,
        payment_method,
        payment_date,
        payer_id,
        payer_name,
        payee_npi,
        payee_name,
        production_date,
        _batch_id,
        _file,
        _record
    from first_delivery
)

select * from renamed
