-- Coverage exceptions of an account's current claim, judged against the EHR coverage (current
-- version of each Coverage) active on the service date, and the payers' authorization rules.
-- COVERAGE_MISMATCH: an active coverage exists but none has the billed payer and member id (a
-- claim billed to an active secondary coverage matches it). Member ids compare without case,
-- spaces and punctuation; a coverage without a member id (Coverage.subscriberId is optional)
-- matches on its payer, the claim's NM109 being the member id on file. A self-pay coverage
-- (payor = the Patient) has no payer: a claim to a payer does not match it. COVERAGE_INACTIVE: no coverage of
-- the claim's rank is active: the primary (Coverage.order 1, or no order) for a claim with
-- SBR01 = P, the second for SBR01 = S, the third for T; so a primary that ended is inactive even
-- while the patient's secondary coverage runs on.
-- An INACTIVE eligibility response for the billed payer on or before the service date, with no
-- later response for that payer by then (a re-check that answers ACTIVE clears it), is evidence
-- of inactive coverage too: COVERAGE_INACTIVE although the EHR coverage shows no end date
-- (claims to the primary payer).
-- A claim whose patient holds an active coverage with an EHR payer id no crosswalk maps
-- (int_unmapped_payer_ids) is not judged for COVERAGE_MISMATCH: that is one data-quality warning
-- per id, not an exception per claim.
-- MISSING_PRIOR_AUTH: a billed line's HCPCS needs authorization under the billed payer's rules
-- on its service date and neither the line (2400 REF*G1) nor the claim (2300 REF*G1) carries
-- one. A claim to a secondary payer is not judged: the authorization is the primary's business, the secondary follows its adjudication.
with

claims as (
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
),

coverage_exceptions as (
    select
        case when coalesce(coverage_match.active_count, 0) = 0
                or latest_eligibility.account_id is not null then 'COVERAGE_INACTIVE'
             else 'COVERAGE_MISMATCH' end as exception_type,
        claims.*,
        claims.total_charge as amount_at_risk,
        {{ billops.null_text() }} as root_cause
    from claims
    inner join coverage_match on claims.account_id = coverage_match.account_id
    left join latest_eligibility
        on claims.account_id = latest_eligibility.account_id
        and latest_eligibility.eligibility_status = 'INACTIVE'
    where (coverage_match.matching_count = 0
            and (coalesce(coverage_match.active_count, 0) = 0
                 or coalesce(coverage_match.unmapped_count, 0) = 0))
        or latest_eligibility.account_id is not null
),

auth_lines as (
    select
        lines.account_id,
        sum(coalesce(lines.charge_amount, 0)) as amount,
        min(lines.hcpcs) as first_hcpcs
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join claims on lines.claim_key = claims.current_claim_key
    where coalesce(nullif(trim(lines.prior_auth_number), ''),
                   nullif(trim(claims.prior_auth_number), '')) is null
        and not claims.is_secondary
        and exists (
            select 1
            from {{ ref('stg_rcm__auth_rules') }} as rules
            where rules.payer_id = claims.payer_id
                and rules.hcpcs = lines.hcpcs
                and {{ billops.effective_on('coalesce(lines.service_date, claims.service_date)',
                                            'rules.effective_from', 'rules.effective_to') }}
        )
    group by lines.account_id
),

auth_exceptions as (
    select
        'MISSING_PRIOR_AUTH' as exception_type,
        claims.*,
        auth_lines.amount as amount_at_risk,
        {{ dbt.concat(["'AUTH_REQUIRED_'", 'auth_lines.first_hcpcs']) }} as root_cause
    from claims
    inner join auth_lines on claims.account_id = auth_lines.account_id
),

unioned as (
    select * from coverage_exceptions
    union all
    select * from auth_exceptions
),

final as (
    select
        exception_type,
        account_id as exception_key,
        entity,
        patient_id,
        account_id,
        account_id as claim_id,
        {{ billops.null_text() }} as charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        {{ billops.null_text() }} as statement_id,
        amount_at_risk,
        submitted_at as detected_at,
        root_cause
    from unioned
)

select * from final
