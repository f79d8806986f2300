{%- set text = dbt.type_string() -%}
{%- set integer = dbt.type_int() -%}
{%- set ts = dbt.type_timestamp() -%}
{#- One model per exception rule (docs/rules.md); stacked by column name. -#}
{%- set rule_models = [
    'int_exc_coverage_mismatch',
    'int_exc_coverage_inactive',
    'int_exc_missing_prior_auth',
    'int_exc_unbilled_charge',
    'int_exc_duplicate_charge',
    'int_exc_late_charge',
    'int_exc_claim_no_response',
    'int_exc_denial',
    'int_exc_underpayment',
    'int_exc_remit_unbalanced',
    'int_exc_remit_not_in_gl',
    'int_exc_gl_amount_mismatch',
    'int_exc_gl_duplicate_posting',
    'int_exc_deposit_mismatch',
    'int_exc_statement_stale_coverage',
    'int_exc_patient_balance_mismatch',
    'int_exc_credit_balance',
    'int_exc_write_off_unapproved',
] -%}
-- Every exception the rules detect, one row per (type, key). The routing seed gives the owner
-- team, severity and the default root cause. exception_id = md5(type || '|' || key) stays the
-- same across runs. status is the exception's work-item status in the operational store
-- (ops.exception_status, copied in before dbt runs), else OPEN. The mart holds the exceptions
-- whose rule fires now: one that stops firing (its cause fixed at the source) leaves the mart,
-- while its actions stay in the store's audit trail.
-- priority_score = |amount at risk| x ln(2 + age in days) (macro priority_score), as the work
-- queue ranks accounts.
with

detected as (
    {{ billops.union_exception_rules(rule_models) }}
),

routing as (
    select * from {{ ref('exception_routing') }}
),

as_of as (
    select {{ billops.as_of_timestamp() }} as as_of_at
),

aged as (
    select
        detected.*,
        coalesce(detected.detected_at, as_of.as_of_at) as detected_on,
        as_of.as_of_at,
        greatest(
            {{ dbt.datediff('coalesce(detected.detected_at, as_of.as_of_at)', 'as_of.as_of_at',
                            'day') }},
            0
        ) as age_days
    from detected
    cross join as_of
),

final as (
    select
        cast({{ dbt.hash(dbt.concat(['aged.exception_type', "'|'", 'aged.exception_key'])) }}
            as {{ text }}) as exception_id,
        cast(aged.exception_type as {{ text }}) as exception_type,
        cast(routing.severity as {{ text }}) as severity,
        cast(aged.entity as {{ text }}) as entity,
        cast(aged.patient_id as {{ text }}) as patient_id,
        cast(aged.account_id as {{ text }}) as account_id,
        cast(aged.claim_id as {{ text }}) as claim_id,
        cast(aged.charge_id as {{ text }}) as charge_id,
        cast(aged.trace_number as {{ text }}) as trace_number,
        cast(aged.journal_id as {{ text }}) as journal_id,
        cast(aged.statement_id as {{ text }}) as statement_id,
        cast(round(aged.amount_at_risk, 2) as decimal(18, 2)) as amount_at_risk,
        cast(aged.detected_on as {{ ts }}) as detected_at,
        cast(aged.age_days as {{ integer }}) as age_days,
        cast(routing.owner_team as {{ text }}) as owner_team,
        cast(coalesce(aged.root_cause, routing.root_cause) as {{ text }}) as root_cause,
        cast(round({{ billops.priority_score('aged.amount_at_risk', 'aged.age_days') }}, 4)
            as decimal(18, 4)) as priority_score,
        -- an item the store auto-resolved whose rule fires again is open until the next sync
        -- reopens it in the store
        cast(case when statuses.status is null or statuses.status = 'AUTO_RESOLVED' then 'OPEN'
            else statuses.status end as {{ text }}) as status,
        cast(aged.exception_key as {{ text }}) as exception_key,
        cast(aged.as_of_at as {{ ts }}) as as_of,
        cast(statuses.assignee as {{ text }}) as assignee,
        cast(statuses.status_changed_at as {{ ts }}) as status_changed_at
    from aged
    left join routing on aged.exception_type = routing.exception_type
    left join {{ ref('stg_ops__exception_status') }} as statuses
        on {{ dbt.hash(dbt.concat(['aged.exception_type', "'|'", 'aged.exception_key'])) }}
            = statuses.exception_id
)

select * from final
