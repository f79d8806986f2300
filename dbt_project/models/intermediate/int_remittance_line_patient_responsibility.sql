-- The patient responsibility (CAS group PR) each 835 SVC line leaves, summed over its
-- adjustments. Claim-level adjustments are not a line's.
with

adjustments as (
    select * from {{ ref('stg_rcm__remit_adjustments') }}
),

final as (
    select
        trace_number,
        claim_seq,
        line_seq,
        cast(sum(amount) as decimal(38, 2)) as amount
    from adjustments
    where group_code = 'PR' and not is_claim_level
    group by trace_number, claim_seq, line_seq
)

select * from final
