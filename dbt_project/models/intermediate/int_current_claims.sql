-- One row per account that has an 837 claim: its current claim, the latest by submitted_at (a
-- replacement, CLM05-3 = 7, supersedes the original it follows) among the claims to the primary
-- payer (SBR01 = P), and how many were submitted. A claim to a secondary payer (SBR01 = S, T...)
-- crosses over what the primary left to the patient and never supersedes the primary's claim;
-- it is current only for an account billed to no primary payer. The account's latest secondary
-- claim is carried beside it.
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
            order by case when is_secondary then 1 else 0 end,
                submitted_at desc nulls last,
                case when is_replacement then 1 else 0 end desc,
                _batch_id desc, _file desc, _record desc
        ) as claim_recency_rank,
        count(*) over (partition by account_id) as claim_count,
        min(submitted_at) over (partition by account_id) as first_submitted_at,
        max(submitted_at) over (partition by account_id) as last_submitted_at,
        row_number() over (
            partition by account_id, is_secondary
            order by submitted_at desc nulls last,
                case when is_replacement then 1 else 0 end desc,
                _batch_id desc, _file desc, _record desc
        ) as of_kind_rank
    from claims
),

current_claim as (
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
        payer_responsibility,
        is_secondary,
        claim_count,
        first_submitted_at,
        last_submitted_at
    from ranked
    where claim_recency_rank = 1
),

secondary_claims as (
    select
        account_id,
        claim_key as secondary_claim_key,
        payer_id as secondary_payer_id,
        submitted_at as secondary_submitted_at,
        other_payer_paid_amount as secondary_prior_paid_amount
    from ranked
    where is_secondary and of_kind_rank = 1
),

final as (
    select
        current_claim.*,
        secondary_claims.secondary_claim_key,
        secondary_claims.secondary_payer_id,
        secondary_claims.secondary_submitted_at,
        secondary_claims.secondary_prior_paid_amount
    from current_claim
    left join secondary_claims on current_claim.account_id = secondary_claims.account_id
)

select * from final
