-- SVC service lines of the remittance file kept in stg_rcm__remittances.
with

kept as (
    {{ billops.rows_of_kept_remittances(source('rcm', 'x12_remit_service_lines')) }}
),

renamed as (
    select
        {{ billops.key_of(['trace_number', 'claim_seq', 'line_seq']) }} as remit_service_line_key,
        trace_number,
        claim_seq,
        account_id,
        line_seq,
        charge_id,
        procedure_qualifier,
        procedure_code,
        modifiers,
        charge_amount,
        paid_amount,
        units_paid,
        service_date,
        _batch_id,
        _file,
        _record
    from kept
)

select * from renamed
