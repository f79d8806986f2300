-- The current claim of each account that is not a void, with the account's patient, entity and
-- service date and the rank of the payer billed (2000B SBR01: P 1, S 2, T 3): what the coverage
-- and authorization rules judge (int_claim_coverage_checks, int_exc_missing_prior_auth).
select
    current_claims.account_id,
    current_claims.current_claim_key,
    current_claims.payer_id,
    current_claims.member_id,
    current_claims.prior_auth_number,
    current_claims.submitted_at,
    current_claims.total_charge,
    coalesce(current_claims.is_secondary, false) as is_secondary,
    case coalesce(current_claims.payer_responsibility, 'P')
        when 'P' then 1 when 'S' then 2 when 'T' then 3 else 4
    end as payer_rank,
    accounts.patient_id,
    accounts.entity,
    accounts.service_date
from {{ ref('int_current_claims') }} as current_claims
inner join {{ ref('int_accounts') }} as accounts
    on current_claims.account_id = accounts.account_id
where not current_claims.is_void
