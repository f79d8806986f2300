-- REMIT_UNBALANCED, one per account: an 835 claim whose charge differs from paid plus all its CAS
-- adjustments (claim and line level) by more than half a cent; the account's latest such claim.
with

claim_adjustments as (
    select trace_number, claim_seq, sum(amount) as adjusted_amount
    from {{ ref('stg_rcm__remit_adjustments') }}
    group by trace_number, claim_seq
),

unbalanced_claims as (
    select
        remit_claims.account_id,
        abs(coalesce(remit_claims.charge_amount, 0) - coalesce(remit_claims.paid_amount, 0)
            - coalesce(claim_adjustments.adjusted_amount, 0)) as difference,
        remit_claims.remit_date,
        row_number() over (
            partition by remit_claims.account_id
            order by remit_claims.remit_date desc, remit_claims.trace_number desc,
                remit_claims.claim_seq desc
        ) as recency_rank
    from {{ ref('int_remit_claims') }} as remit_claims
    left join claim_adjustments
        on remit_claims.trace_number = claim_adjustments.trace_number
        and remit_claims.claim_seq = claim_adjustments.claim_seq
    where remit_claims.account_id is not null
        and {{ billops.amounts_differ('remit_claims.charge_amount',
                                      'coalesce(remit_claims.paid_amount, 0) '
                                      ~ '+ coalesce(claim_adjustments.adjusted_amount, 0)') }}
),

final as (
    select
        {{ billops.exception_row(
            'REMIT_UNBALANCED',
            exception_key="unbalanced_claims.account_id",
            entity="accounts.entity",
            patient_id="accounts.patient_id",
            account_id="unbalanced_claims.account_id",
            claim_id="unbalanced_claims.account_id",
            amount_at_risk="unbalanced_claims.difference",
            detected_at="cast(unbalanced_claims.remit_date as " ~ dbt.type_timestamp() ~ ")",
        ) }}
    from unbalanced_claims
    left join {{ ref('int_accounts') }} as accounts
        on unbalanced_claims.account_id = accounts.account_id
    where unbalanced_claims.recency_rank = 1
)

select * from final
