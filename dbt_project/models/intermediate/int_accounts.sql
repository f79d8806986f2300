-- One row per patient account: every Encounter, plus any account id that only charges or claims
-- mention. Adds the facility, its GL entity (the hospital: coalesce(partOf, id) of the
-- Encounter.serviceProvider) and the EHR coverage active on the service date. Several
-- Encounters may share an account (Encounter.account): the first one (by start) gives the
-- facility, patient and service date; ended_at is the last end.
-- is_self_pay: the account is billed to the patient by statement, never by claim: its coverage
-- on the service date is self-pay (payor = the Patient, or a payers.csv payer_type in var
-- self_pay_payer_types), or its patient has no Coverage at all.
{%- set self_pay = var('self_pay_payer_types') %}
with

encounter_rows as (
    select
        encounter.*,
        row_number() over (
            partition by account_id
            order by started_at nulls last, encounter_id
        ) as encounter_rank,
        count(*) over (partition by account_id) as encounter_count,
        max(ended_at) over (partition by account_id) as last_ended_at
    from {{ ref('stg_ehr__encounters') }} as encounter
),

encounters as (
    select * from encounter_rows where encounter_rank = 1
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
        claims.account_id,
        -- the 837's patient id, resolved when it is an alias the EHR knows (Patient.id or MRN)
        min(coalesce(patient_keys.patient_id, claims.patient_id)) as patient_id,
        min(claims.statement_from) as first_service_date
    from {{ ref('stg_rcm__claims') }} as claims
    left join {{ ref('int_patient_keys') }} as patient_keys
        on claims.patient_id = patient_keys.patient_alias
    where claims.account_id is not null
    group by claims.account_id
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
        encounters.last_ended_at as ended_at,
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
        coverages.is_self_pay,
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

patients_with_coverage as (
    select distinct patient_id from {{ ref('stg_ehr__coverages') }} where patient_id is not null
),

self_pay_payers as (
    select payer_id from {{ ref('stg_rcm__payers') }}
    {%- if self_pay %}
    where payer_type in ('{{ self_pay | join("', '") }}')
    {%- else %}
    where 1 = 0
    {%- endif %}
),

final as (
    select
        accounts.*,
        active_coverages.coverage_id,
        active_coverages.coverage_version_id,
        active_coverages.payer_id as coverage_payer_id,
        coalesce(active_coverages.is_self_pay, false)
            or self_pay_payers.payer_id is not null
            or (accounts.patient_id is not null and patients_with_coverage.patient_id is null)
            as is_self_pay
    from accounts
    left join active_coverages
        on accounts.account_id = active_coverages.account_id
        and active_coverages.coverage_rank = 1
    left join self_pay_payers on active_coverages.payer_id = self_pay_payers.payer_id
    left join patients_with_coverage on accounts.patient_id = patients_with_coverage.patient_id
)

select * from final
