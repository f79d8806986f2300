{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per patient payment or refund (a negative amount), with the account's entity.
with

payments as (
    select * from {{ ref('stg_rcm__patient_payments') }}
),

final as (
    select
        cast(payments.payment_id as {{ text }}) as payment_id,
        cast(payments.patient_id as {{ text }}) as patient_id,
        cast(payments.account_id as {{ text }}) as account_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(payments.amount as decimal(18, 2)) as amount,
        payments.is_refund,
        cast(payments.received_at as {{ ts }}) as received_at,
        cast({{ billops.period_of('payments.received_at') }} as {{ text }}) as period,
        cast(payments.payment_method as {{ text }}) as payment_method,
        cast(payments._batch_id as {{ text }}) as _batch_id
    from payments
    left join {{ ref('int_accounts') }} as accounts on payments.account_id = accounts.account_id
)

select * from final
