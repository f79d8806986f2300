-- One row per account that has an 837 claim: its current claim and how many were submitted.
-- Claim frequency (CLM05-3): 1 is an original; 7 replaces the claim and 8 voids it; 2, 3, 4
-- (interim) and 5 (late charges) add to the claim they belong to. The current claim is the latest
-- original, replacement or void by submitted_at, with every add-on submitted since (at or after
-- it): its lines and charges count with it (total_charge, add_on_claim_count). A line belongs to
-- the current claim when its claim is current_claim_key, or is an add-on (stg_rcm__claims
-- is_add_on) of the same kind of payer (is_secondary) submitted at or after submitted_at. An
-- account billed by add-ons only (an interim series) has its first add-on as current claim.
-- Among the claims to the primary payer (SBR01 = P) only: a claim to a secondary payer (SBR01 =
-- S, T...) crosses over what the primary left to the patient and never supersedes the primary's
-- claim; it is current only for an account billed to no primary payer. The account's latest
-- secondary claim is carried beside it.
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
                case when coalesce(is_add_on, false) then 1 else 0 end,
                case when coalesce(is_add_on, false) then submitted_at end asc nulls last,
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
        total_charge as base_total_charge,
        prior_auth_number,
        payer_responsibility,
        coalesce(is_secondary, false) as is_secondary,
        claim_count,
        first_submitted_at,
        last_submitted_at
    from ranked
    where claim_recency_rank = 1
),

-- the add-ons of the current claim: same kind of payer, submitted at or after it
add_ons as (
    select
        current_claim.account_id,
        count(*) as add_on_claim_count,
        sum(coalesce(claims.total_charge, 0)) as add_on_total_charge
    from current_claim
    inner join claims
        on current_claim.account_id = claims.account_id
        and coalesce(claims.is_secondary, false) = current_claim.is_secondary
        and claims.claim_key <> current_claim.current_claim_key
        and coalesce(claims.is_add_on, false)
        and claims.submitted_at >= current_claim.submitted_at
    group by current_claim.account_id
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
        case when current_claim.base_total_charge is not null
            or add_ons.add_on_total_charge is not null
            then coalesce(current_claim.base_total_charge, 0)
                + coalesce(add_ons.add_on_total_charge, 0)
        end as total_charge,
        coalesce(add_ons.add_on_claim_count, 0) as add_on_claim_count,
        secondary_claims.secondary_claim_key,
        secondary_claims.secondary_payer_id,
        secondary_claims.secondary_submitted_at,
        secondary_claims.secondary_prior_paid_amount
    from current_claim
    left join add_ons on current_claim.account_id = add_ons.account_id
    left join secondary_claims on current_claim.account_id = secondary_claims.account_id
)

select * from final
