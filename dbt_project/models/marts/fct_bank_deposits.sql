{%- set text = dbt.type_string() -%}
-- One row per bank deposit, matched to the 835 payment of its EFT trace number.
with

deposits as (
    select * from {{ ref('stg_erp__bank_deposits') }}
),

remittances as (
    select remittances.trace_number, payers.payer_id, remittances.payment_amount
    from {{ ref('stg_rcm__remittances') }} as remittances
    left join {{ ref('int_remittance_payers') }} as payers
        on remittances.trace_number = payers.trace_number
),

final as (
    select
        cast(deposits.deposit_id as {{ text }}) as deposit_id,
        cast(deposits.entity as {{ text }}) as entity,
        cast(deposits.bank_account as {{ text }}) as bank_account,
        cast(deposits.deposit_date as date) as deposit_date,
        cast({{ billops.period_of('deposits.deposit_date') }} as {{ text }}) as period,
        cast(deposits.amount as decimal(18, 2)) as amount,
        cast(deposits.trace_number as {{ text }}) as trace_number,
        cast(deposits.payer_name as {{ text }}) as payer_name,
        cast(remittances.payer_id as {{ text }}) as payer_id,
        cast(remittances.payment_amount as decimal(18, 2)) as remittance_amount,
        remittances.trace_number is not null
            and not {{ billops.amounts_differ('deposits.amount', 'remittances.payment_amount') }}
            as is_matched,
        cast(deposits._batch_id as {{ text }}) as _batch_id
    from deposits
    left join remittances on deposits.trace_number = remittances.trace_number
)

select * from final
