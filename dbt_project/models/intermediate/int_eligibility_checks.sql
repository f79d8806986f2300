-- Eligibility checks (270/271 results) linked to the patient's account whose encounter starts
-- nearest to the check, within var eligibility_link_days (ties: the earlier encounter). A check
-- with no encounter that near keeps a null account.
-- patient_id in eligibility_checks.csv is Patient.id or the MRN: resolved to the patient key
-- (int_patient_keys); member_id_normalized is the member id without case, spaces and punctuation.
with

checks as (
    select
        checks.check_id,
        coalesce(patient_keys.patient_id, checks.patient_id) as patient_id,
        checks.patient_id as patient_id_sent,
        checks.payer_id,
        checks.member_id,
        {{ billops.normalized_member_id('checks.member_id') }} as member_id_normalized,
        checks.checked_at,
        checks.eligibility_status,
        checks.plan_begin,
        checks.plan_end,
        checks._batch_id,
        checks._file,
        checks._record
    from {{ ref('stg_rcm__eligibility_checks') }} as checks
    left join {{ ref('int_patient_keys') }} as patient_keys
        on checks.patient_id = patient_keys.patient_alias
),

encounters as (
    select account_id, patient_id, started_at from {{ ref('stg_ehr__encounters') }}
),

candidates as (
    select
        checks.check_id,
        encounters.account_id,
        row_number() over (
            partition by checks.check_id
            order by abs({{ dbt.datediff('checks.checked_at', 'encounters.started_at', 'day') }}),
                encounters.started_at, encounters.account_id
        ) as nearest_rank
    from checks
    inner join encounters
        on checks.patient_id = encounters.patient_id
        and abs({{ dbt.datediff('checks.checked_at', 'encounters.started_at', 'day') }})
            <= {{ var('eligibility_link_days') }}
),

final as (
    select checks.*, candidates.account_id
    from checks
    left join candidates
        on checks.check_id = candidates.check_id
        and candidates.nearest_rank = 1
)

select * from final
