{%- set text = dbt.type_string() -%}
-- One row per bank deposit row (deposit_id and trace_number: a deposit that carries several
-- traces may come as several rows), matched to the 835 payments of the traces it carries. A row
-- is matched when its traces are known 835 payments and the deposits of those traces add up to
-- their payments: one deposit per payment, a payment split over several deposits, or one row
-- listing several traces (a lockbox) whose amount is their payments' sum.
with

deposits as (
    select * from {{ ref('stg_erp__bank_deposits') }}
),

deposit_traces as (
    select * from {{ ref('stg_erp__bank_deposit_traces') }}
),

remittances as (
    select
        remittances.trace_number,
        payers.payer_id,
        case when upper(coalesce(remittances.credit_debit, 'C')) = 'D'
             then -remittances.payment_amount
             else remittances.payment_amount end as payment_amount
    from {{ ref('stg_rcm__remittances') }} as remittances
    left join {{ ref('int_remittance_payers') }} as payers
        on remittances.trace_number = payers.trace_number
),

-- per trace: what its single-trace deposit rows add up to (a split payment has several)
trace_deposits as (
    select trace_number, sum(amount) as deposited_amount
    from deposit_traces
    where trace_count = 1
    group by trace_number
),

rows_matched as (
    select
        deposit_traces.deposit_line_key,
        min(remittances.payer_id) as payer_id,
        count(distinct remittances.payer_id) as payers,
        sum(remittances.payment_amount) as remittance_amount,
        count(*) as traces,
        count(remittances.trace_number) as known_traces,
        -- a single-trace row is matched when the trace's deposit rows sum to its payment; a row
        -- listing several, when its amount is their payments' sum
        min(case
                when deposit_traces.trace_count = 1
                    then not {{ billops.amounts_differ('trace_deposits.deposited_amount', 'remittances.payment_amount') }}
                else true
            end) as singles_tie
    from deposit_traces
    left join remittances on deposit_traces.trace_number = remittances.trace_number
    left join trace_deposits on deposit_traces.trace_number = trace_deposits.trace_number
    group by deposit_traces.deposit_line_key
),

final as (
    select
        cast(deposits.deposit_line_key as {{ text }}) as deposit_line_key,
        cast(deposits.deposit_id as {{ text }}) as deposit_id,
        cast(deposits.entity as {{ text }}) as entity,
        cast(deposits.bank_account as {{ text }}) as bank_account,
        cast(deposits.deposit_date as date) as deposit_date,
        cast({{ billops.period_of('deposits.deposit_date') }} as {{ text }}) as period,
        cast(deposits.amount as decimal(18, 2)) as amount,
        cast(deposits.trace_number as {{ text }}) as trace_number,
        cast(coalesce(rows_matched.traces, 0) as integer) as trace_count,
        cast(deposits.payer_name as {{ text }}) as payer_name,
        cast(case when rows_matched.payers = 1 then rows_matched.payer_id end as {{ text }}) as payer_id,
        cast(rows_matched.remittance_amount as decimal(18, 2)) as remittance_amount,
        coalesce(
            rows_matched.known_traces > 0
            and rows_matched.known_traces = rows_matched.traces
            and rows_matched.singles_tie
            and (rows_matched.traces = 1
                 or not {{ billops.amounts_differ('deposits.amount', 'rows_matched.remittance_amount') }}),
            false
        ) as is_matched,
        cast(deposits._batch_id as {{ text }}) as _batch_id
    from deposits
    left join rows_matched on deposits.deposit_line_key = rows_matched.deposit_line_key
)

select * from final
