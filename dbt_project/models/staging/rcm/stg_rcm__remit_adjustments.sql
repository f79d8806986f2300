-- CAS adjustments of the remittance file kept in stg_rcm__remittances.
with

kept as (
    {{ billops.rows_of_kept_remittances(source('rcm', 'x12_remit_adjustments')) }}
),

renamed as (
    select
        {{ billops.key_of(['trace_number', 'claim_seq', 'line_seq', 'adj_seq']) }}
            as remit_adjustment_key,
        trace_number,
        claim_seq,
        account_id,
        line_seq,
        line_seq = 0 as is_claim_level,
        charge_id,
        adj_seq,
        group_code,
        reason_code,
        amount,
        quantity,
        _batch_id,
        _file,
        _record
    from kept
)

select * from renamed
