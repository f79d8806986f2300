-- DEPOSIT_MISMATCH, one per 835 credit payment (trace number, int_remittance_payments): once
-- deposit_lag_days have passed (against the as-of time), the trace's bank deposits do not sum to
-- the payment. A trace may arrive in several deposits (split); a deposit row may list several
-- traces (its amount shared in proportion to their payments) or several rows may share a
-- deposit; a deposit without any trace whose amount equals the payments of one payer and payment
-- date not otherwise deposited (a lockbox) deposits them. A debit (takeback) expects no deposit.
with

as_of as (
    select {{ billops.as_of_timestamp() }} as as_of_at
),

credit_payments as (
    select * from {{ ref('int_remittance_payments') }} where payment_amount > 0
),

deposit_traces as (
    select
        deposit_traces.deposit_line_key,
        deposit_traces.trace_number,
        deposit_traces.amount,
        deposit_traces.trace_count,
        credit_payments.payment_amount
    from {{ ref('stg_erp__bank_deposit_traces') }} as deposit_traces
    left join credit_payments on deposit_traces.trace_number = credit_payments.trace_number
),

deposit_rows as (
    select deposit_line_key, sum(payment_amount) as listed_payments
    from deposit_traces
    group by deposit_line_key
),

traced_deposits as (
    select
        deposit_traces.trace_number,
        sum(
            case when deposit_traces.trace_count = 1 then deposit_traces.amount
                 else deposit_traces.amount * deposit_traces.payment_amount
                     / nullif(deposit_rows.listed_payments, 0) end
        ) as deposited_amount
    from deposit_traces
    inner join deposit_rows on deposit_traces.deposit_line_key = deposit_rows.deposit_line_key
    where deposit_traces.payment_amount is not null
    group by deposit_traces.trace_number
),

untraced_payments as (
    select credit_payments.*, payers.payer_id
    from credit_payments
    inner join {{ ref('int_remittance_payers') }} as payers
        on credit_payments.trace_number = payers.trace_number
    where credit_payments.trace_number not in (select trace_number from traced_deposits)
        and payers.payer_id is not null
),

lockbox_groups as (
    select payer_id, payment_date, sum(payment_amount) as group_amount
    from untraced_payments
    group by payer_id, payment_date
),

lockbox_matched as (
    select lockbox_groups.payer_id, lockbox_groups.payment_date
    from lockbox_groups
    where exists (
        select 1
        from {{ ref('stg_erp__bank_deposits') }} as deposits
        where (deposits.trace_number is null or trim(deposits.trace_number) = '')
            and deposits.deposit_date >= lockbox_groups.payment_date
            and deposits.deposit_date
                <= {{ billops.plus_window('lockbox_groups.payment_date', 'deposit_lag_days') }}
            and not {{ billops.amounts_differ('deposits.amount', 'lockbox_groups.group_amount') }}
    )
),

deposited as (
    select trace_number, deposited_amount from traced_deposits
    union all
    select untraced_payments.trace_number, untraced_payments.payment_amount
    from untraced_payments
    inner join lockbox_matched
        on untraced_payments.payer_id = lockbox_matched.payer_id
        and untraced_payments.payment_date = lockbox_matched.payment_date
),

deposited_by_trace as (
    select trace_number, sum(deposited_amount) as deposited_amount
    from deposited
    group by trace_number
)

select
    {{ billops.exception_row(
        'DEPOSIT_MISMATCH',
        exception_key="credit_payments.trace_number",
        entity="credit_payments.entity",
        patient_id="credit_payments.patient_id",
        trace_number="credit_payments.trace_number",
        amount_at_risk="cast(credit_payments.payment_amount as decimal(38, 2))",
        detected_at="cast(credit_payments.payment_date as " ~ dbt.type_timestamp() ~ ")",
    ) }}
from credit_payments
cross join as_of
left join deposited_by_trace
    on credit_payments.trace_number = deposited_by_trace.trace_number
where {{ billops.plus_window('credit_payments.payment_date', 'deposit_lag_days') }}
        <= as_of.as_of_at
    and {{ billops.amounts_differ('deposited_by_trace.deposited_amount', 'credit_payments.payment_amount') }}
