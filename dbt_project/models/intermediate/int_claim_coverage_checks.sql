-- Each current claim (int_current_claim_accounts) against the EHR coverage (current version of
-- each Coverage) active on its service date and the eligibility responses, for the rules
-- COVERAGE_MISMATCH and COVERAGE_INACTIVE:
-- active_count: active coverages of the claim's rank (Coverage.order 1 or none for SBR01 = P, 2
--   for S, 3 for T);
-- matching_count: active coverages, of any rank, with the billed payer and an agreeing member id
--   (compared without case, spaces and punctuation; a coverage without a member id agrees on its
--   payer; a self-pay coverage, payor = the Patient, has no payer);
-- unmapped_count: active coverages with an EHR payer id no crosswalk maps (int_unmapped_payer_ids);
-- has_inactive_eligibility: for a claim to the primary payer, the latest eligibility response for
--   the billed payer on or before the service date said INACTIVE (a re-check that answered
--   ACTIVE by then clears it).
with

claims as (
    select * from {{ ref('int_current_claim_accounts') }}
),

active_coverages as (
    select
        claims.account_id,
        coverages.payer_id,
        coverages.member_id,
        coalesce(coverages.coverage_order, 1) = claims.payer_rank as is_of_claim_rank,
        coverages.payer_id in (select payer_id from {{ ref('int_unmapped_payer_ids') }})
            as is_payer_unmapped
    from claims
    inner join {{ ref('stg_ehr__coverages') }} as coverages
        on claims.patient_id = coverages.patient_id
        and coverages.is_current_version
        and coverages.status = 'active'
        and {{ billops.effective_on('claims.service_date', 'cast(coverages.period_start as date)',
                                    'cast(coverages.period_end as date)') }}
),

coverage_match as (
    select
        claims.account_id,
        sum(case when active_coverages.is_of_claim_rank then 1 else 0 end) as active_count,
        sum(case when active_coverages.payer_id = claims.payer_id
                  and {{ billops.member_ids_agree('active_coverages.member_id', 'claims.member_id') }}
                 then 1 else 0 end)
            as matching_count,
        sum(case when active_coverages.is_payer_unmapped then 1 else 0 end) as unmapped_count
    from claims
    left join active_coverages on claims.account_id = active_coverages.account_id
    group by claims.account_id
),

-- the latest eligibility response for the billed payer on or before the service date
latest_eligibility as (
    select account_id, eligibility_status
    from (
        select
            claims.account_id,
            checks.eligibility_status,
            row_number() over (
                partition by claims.account_id
                order by checks.checked_at desc, checks.check_id desc
            ) as check_rank
        from claims
        inner join {{ ref('int_eligibility_checks') }} as checks
            on claims.patient_id = checks.patient_id
            and claims.payer_id = checks.payer_id
            and cast(checks.checked_at as date) <= claims.service_date
        where not claims.is_secondary
    ) as ranked_checks
    where check_rank = 1
)

select
    claims.account_id,
    claims.patient_id,
    claims.entity,
    claims.submitted_at,
    claims.total_charge,
    coalesce(coverage_match.active_count, 0) as active_count,
    coverage_match.matching_count,
    coalesce(coverage_match.unmapped_count, 0) as unmapped_count,
    coalesce(latest_eligibility.eligibility_status = 'INACTIVE', false) as has_inactive_eligibility
from claims
inner join coverage_match on claims.account_id = coverage_match.account_id
left join latest_eligibility on claims.account_id = latest_eligibility.account_id
