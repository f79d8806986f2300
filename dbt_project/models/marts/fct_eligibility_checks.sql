{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per eligibility check, linked to the account it was run for (nearest encounter).
with

checks as (
    select * from {{ ref('int_eligibility_checks') }}
),

final as (
    select
        cast(checks.check_id as {{ text }}) as check_id,
        cast(checks.patient_id as {{ text }}) as patient_id,
        cast(checks.account_id as {{ text }}) as account_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(checks.payer_id as {{ text }}) as payer_id,
        cast(checks.member_id as {{ text }}) as member_id,
        cast(checks.checked_at as {{ ts }}) as checked_at,
        cast(checks.eligibility_status as {{ text }}) as eligibility_status,
        checks.eligibility_status = 'ACTIVE' as is_active,
        cast(checks.plan_begin as date) as plan_begin,
        cast(checks.plan_end as date) as plan_end,
        cast(checks._batch_id as {{ text }}) as _batch_id
    from checks
    left join {{ ref('int_accounts') }} as accounts on checks.account_id = accounts.account_id
)

select * from final
