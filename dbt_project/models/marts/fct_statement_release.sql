{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- The statement release gate (docs/statements.md), one row per statement due
-- (int_statements_due): HOLD when it has a hold reason (int_statement_hold_reasons), else
-- RELEASE. hold_reasons lists the reasons in the seed's precedence, comma-joined; queue is the
-- work queue of the first (PATIENT_ACCESS before BILLING: a statement on the wrong coverage is
-- re-billed before its balance is restated). No PHI: no patient id, names or member ids.
with

due as (
    select * from {{ ref('int_statements_due') }}
),

reasons as (
    select * from {{ ref('int_statement_hold_reasons') }}
),

joined as (
    select
        statement_id,
        {{ dbt.listagg('reason', "','", 'order by precedence') }} as hold_reasons,
        count(*) as hold_reason_count
    from reasons
    group by statement_id
),

first_reason as (
    select statement_id, queue
    from (
        select
            statement_id,
            queue,
            row_number() over (partition by statement_id order by precedence, reason) as rank_
        from reasons
    ) as ranked
    where rank_ = 1
),

final as (
    select
        cast(due.statement_id as {{ text }}) as statement_id,
        cast(due.account_id as {{ text }}) as account_id,
        cast(due.entity as {{ text }}) as entity,
        cast(due.statement_date as date) as statement_date,
        cast({{ billops.period_of('due.statement_date') }} as {{ text }}) as period,
        cast(due.amount_due as decimal(18, 2)) as amount_due,
        cast(case when joined.statement_id is null then 'RELEASE' else 'HOLD' end as {{ text }})
            as decision,
        cast(joined.hold_reasons as {{ text }}) as hold_reasons,
        cast(coalesce(joined.hold_reason_count, 0) as {{ dbt.type_int() }}) as hold_reason_count,
        cast(first_reason.queue as {{ text }}) as queue,
        cast(due.as_of as {{ ts }}) as as_of
    from due
    left join joined on due.statement_id = joined.statement_id
    left join first_reason on due.statement_id = first_reason.statement_id
)

select * from final
