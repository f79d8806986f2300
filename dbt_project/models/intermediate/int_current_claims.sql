-- One row per account that has an 837 claim: its current claim, the latest by submitted_at (a
-- replacement, CLM05-3 = 7, supersedes the original it follows), and how many were submitted.
with

claims as (
    select * from {{ ref('stg_rcm__claims') }}
    where account_id is not null
),

ranked as (
    select
        claims.*,
        row_number() over (
            partition by account_id
            order by submitted_at desc nulls last,
                case when is_replacement then 1 else 0 end desc,
                _batch_id desc, _file desc, _record desc
        ) as claim_recency_rank,
        count(*) over (partition by account_id) as claim_count,
        min(submitted_at) over (partition by account_id) as first_submitted_at,
        max(submitted_at) over (partition by account_id) as last_submitted_at
    from claims
),

final as (
    select
        account_id,
        claim_key as current_claim_key,
        claim_frequency_code,
        is_replacement,
        is_void,
        payer_id,
        member_id,
        patient_id,
        submitted_at,
        total_charge,
        prior_auth_number,
        claim_count,
        first_submitted_at,
        last_submitted_at
    from ranked
    where claim_recency_rank = 1
)

select * from final
