{%- set ts = dbt.type_timestamp() -%}
-- The patient statements due for release (docs/statements.md), one per account: the account's
-- latest statement in the RCM extracts (by statement date, then statement id; an earlier one is
-- superseded, since each statement restates the balance), when it was produced within
-- var statement_cycle_days before the as-of date (the latest extracted_at of the loaded batches,
-- never the clock): statement_date in (as-of date - cycle, as-of date]. An older latest statement
-- belongs to an earlier statement run. With it: the account's patient (key), entity and current
-- claim (int_current_claim_accounts: when it was submitted, to which payer and member id; none for
-- a self-pay account), which the hold reasons judge.
with

as_of as (
    select {{ billops.as_of_timestamp() }} as as_of_at
),

ranked as (
    select
        statements.*,
        row_number() over (
            partition by statements.account_id
            order by statements.statement_date desc, statements.statement_id desc
        ) as recency
    from {{ ref('stg_rcm__statements') }} as statements
    where statements.account_id is not null
),

due as (
    select ranked.*, as_of.as_of_at
    from ranked
    cross join as_of
    where ranked.recency = 1
        and cast(ranked.statement_date as date) <= cast(as_of.as_of_at as date)
        and cast(ranked.statement_date as date) > cast(
            {{ dbt.dateadd('day', '-' ~ var('statement_cycle_days'), 'cast(as_of.as_of_at as date)') }}
            as date)
),

final as (
    select
        due.statement_id,
        due.account_id,
        coalesce(accounts.patient_id, patient_keys.patient_id, due.patient_id) as patient_id,
        accounts.entity,
        cast(due.statement_date as date) as statement_date,
        cast(due.amount_due as decimal(18, 2)) as amount_due,
        cast(claims.submitted_at as {{ ts }}) as claim_submitted_at,
        cast(claims.payer_id as {{ dbt.type_string() }}) as claim_payer_id,
        cast(claims.member_id as {{ dbt.type_string() }}) as claim_member_id,
        cast(due.as_of_at as {{ ts }}) as as_of
    from due
    left join {{ ref('int_accounts') }} as accounts on due.account_id = accounts.account_id
    left join {{ ref('int_patient_keys') }} as patient_keys
        on due.patient_id = patient_keys.patient_alias
    left join {{ ref('int_current_claim_accounts') }} as claims
        on due.account_id = claims.account_id
)

select * from final
