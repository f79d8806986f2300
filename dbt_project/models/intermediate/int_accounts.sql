-- One row per patient account: every Encounter, plus any account id that only charges or claims
-- mention. Adds the facility, its GL entity (the hospital: coalesce(partOf, id) of the
-- Encounter.serviceProvider) and the EHR coverage active on the service date.
with

encounters as (
    select * from {{ ref('stg_ehr__encounters') }}
),

organizations as (
    select * from {{ ref('stg_ehr__organizations') }}
),

charge_accounts as (
    select
        account_id,
        min(patient_id) as patient_id,
        min(service_date) as first_service_date
    from {{ ref('stg_ehr__charge_items') }}
    where account_id is not null
    group by account_id
),

claim_accounts as (
    select
        account_id,
        min(patient_id) as patient_id,
        min(statement_from) as first_service_date
    from {{ ref('stg_rcm__claims') }}
    where account_id is not null
    group by account_id
),

account_ids as (
    select account_id from encounters where account_id is not null
    union
    select account_id from charge_accounts
    union
    select account_id from claim_accounts
),

accounts as (
    select
        account_ids.account_id,
        coalesce(encounters.patient_id, charge_accounts.patient_id, claim_accounts.patient_id)
            as patient_id,
        encounters.facility_id,
        coalesce(facilities.part_of_id, facilities.organization_id) as entity,
        coalesce(
            encounters.service_date,
            charge_accounts.first_service_date,
            claim_accounts.first_service_date
        ) as service_date,
        encounters.started_at,
        encounters.ended_at,
        encounters.status as encounter_status,
        encounters.class_code,
        encounters.type_code,
        encounters.account_id is not null as has_encounter
    from account_ids
    left join encounters on account_ids.account_id = encounters.account_id
    left join charge_accounts on account_ids.account_id = charge_accounts.account_id
    left join claim_accounts on account_ids.account_id = claim_accounts.account_id
    left join organizations as facilities
        on encounters.facility_id = facilities.organization_id
),

active_coverages as (
    select
        accounts.account_id,
        coverages.coverage_id,
        coverages.version_id as coverage_version_id,
        coverages.payer_id,
        row_number() over (
            partition by accounts.account_id
            order by coverages.coverage_order nulls last, coverages.period_start desc nulls last,
                coverages.coverage_id
        ) as coverage_rank
    from accounts
    inner join {{ ref('stg_ehr__coverages') }} as coverages
        on accounts.patient_id = coverages.patient_id
        and coverages.is_current_version
        and coverages.status = 'active'
        and (coverages.period_start is null or coverages.period_start <= accounts.service_date)
        and (coverages.period_end is null or coverages.period_end >= accounts.service_date)
),

final as (
    select
        accounts.*,
        active_coverages.coverage_id,
        active_coverages.coverage_version_id,
        active_coverages.payer_id as coverage_payer_id
    from accounts
    left join active_coverages
        on accounts.account_id = active_coverages.account_id
        and active_coverages.coverage_rank = 1
)

select * from final
