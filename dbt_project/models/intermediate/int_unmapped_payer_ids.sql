-- EHR payer ids (Coverage.payor, after payer_crosswalk.csv) that no X12 file and no payers.csv
-- row knows: the crosswalk lacks a row for them. One row per id with the claims it affects (the
-- current claims of accounts whose patient holds an active coverage with that id on the service
-- date); coverage rules do not judge those claims, so an unmapped id is one data-quality warning
-- rather than an exception per claim.
with

known_payers as (
    select payer_id from {{ ref('stg_rcm__payers') }}
    union
    select payer_id from {{ ref('stg_rcm__claims') }} where payer_id is not null
),

unknown_coverages as (
    select coverages.*
    from {{ ref('stg_ehr__coverages') }} as coverages
    where coverages.is_current_version
        and coverages.payer_id is not null
        and not exists (
            select 1 from known_payers where known_payers.payer_id = coverages.payer_id
        )
),

affected_claims as (
    select distinct
        unknown_coverages.payer_id,
        accounts.account_id
    from unknown_coverages
    inner join {{ ref('int_accounts') }} as accounts
        on accounts.patient_id = unknown_coverages.patient_id
        and {{ billops.effective_on('accounts.service_date',
                                    'cast(unknown_coverages.period_start as date)',
                                    'cast(unknown_coverages.period_end as date)') }}
    inner join {{ ref('int_current_claims') }} as claims
        on claims.account_id = accounts.account_id
),

per_id as (
    select
        unknown_coverages.payer_id,
        min(unknown_coverages.ehr_payer_id) as ehr_payer_id,
        count(*) as coverages,
        count(distinct unknown_coverages.patient_id) as patients
    from unknown_coverages
    group by unknown_coverages.payer_id
),

claims_per_id as (
    select
        payer_id,
        count(*) as claims_affected,
        min(account_id) as first_account_id
    from affected_claims
    group by payer_id
),

final as (
    select
        per_id.payer_id,
        per_id.ehr_payer_id,
        per_id.coverages,
        per_id.patients,
        coalesce(claims_per_id.claims_affected, 0) as claims_affected,
        claims_per_id.first_account_id
    from per_id
    left join claims_per_id on per_id.payer_id = claims_per_id.payer_id
)

select * from final
