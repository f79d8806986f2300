-- Provider-level adjustments (PLB) of the remittance file kept in stg_rcm__remittances.
with

kept as (
    {{ billops.rows_of_kept_remittances(source('rcm', 'x12_remit_plb')) }}
),

renamed as (
    select
        {{ billops.key_of(['trace_number', 'plb_seq', 'adj_seq']) }} as remit_plb_key,
        trace_number,
        plb_seq,
        adj_seq,
        provider_id,
        fiscal_period_date,
        reason_code,
        reference_id,
        amount,
        _batch_id,
        _file,
        _record
    from kept
)

select * from renamed
