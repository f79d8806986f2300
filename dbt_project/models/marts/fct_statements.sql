{%- set text = dbt.type_string() -%}
-- One row per patient statement, with the account's entity.
with

statements as (
    select * from {{ ref('stg_rcm__statements') }}
),

final as (
    select
        cast(statements.statement_id as {{ text }}) as statement_id,
        cast(statements.patient_id as {{ text }}) as patient_id,
        cast(statements.account_id as {{ text }}) as account_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(statements.statement_date as date) as statement_date,
        cast({{ billops.period_of('statements.statement_date') }} as {{ text }}) as period,
        cast(statements.amount_due as decimal(18, 2)) as amount_due,
        cast(statements.payer_id_on_file as {{ text }}) as payer_id_on_file,
        cast(statements.member_id_on_file as {{ text }}) as member_id_on_file,
        cast(statements._batch_id as {{ text }}) as _batch_id
    from statements
    left join {{ ref('int_accounts') }} as accounts on statements.account_id = accounts.account_id
)

select * from final
