-- REMIT_NOT_IN_GL, one per 835 payment (trace number): no live GL cash posting
-- (int_remittance_live_postings: reversals netted) once gl_posting_lag_days have passed since
-- the payment date, against the as-of time. Amount at risk: the payment.
with

as_of as (
    select {{ billops.as_of_timestamp() }} as as_of_at
),

remittances as (
    select * from {{ ref('int_remittance_payments') }}
)

select
    'REMIT_NOT_IN_GL' as exception_type,
    remittances.trace_number as exception_key,
    remittances.entity,
    remittances.patient_id,
    {{ billops.null_text() }} as account_id,
    {{ billops.null_text() }} as claim_id,
    {{ billops.null_text() }} as charge_id,
    remittances.trace_number,
    {{ billops.null_text() }} as journal_id,
    {{ billops.null_text() }} as statement_id,
    cast(abs(remittances.payment_amount) as decimal(38, 2)) as amount_at_risk,
    cast(remittances.payment_date as {{ dbt.type_timestamp() }}) as detected_at,
    {{ billops.null_text() }} as root_cause
from remittances
cross join as_of
where remittances.trace_number not in (
        select trace_number from {{ ref('int_remittance_live_postings') }}
    )
    and {{ billops.plus_window('remittances.payment_date', 'gl_posting_lag_days') }}
        <= as_of.as_of_at
