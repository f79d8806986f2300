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
    {{ billops.exception_row(
        'REMIT_NOT_IN_GL',
        exception_key="remittances.trace_number",
        entity="remittances.entity",
        patient_id="remittances.patient_id",
        trace_number="remittances.trace_number",
        amount_at_risk="cast(abs(remittances.payment_amount) as decimal(38, 2))",
        detected_at="cast(remittances.payment_date as " ~ dbt.type_timestamp() ~ ")",
    ) }}
from remittances
cross join as_of
where remittances.trace_number not in (
        select trace_number from {{ ref('int_remittance_live_postings') }}
    )
    and {{ billops.plus_window('remittances.payment_date', 'gl_posting_lag_days') }}
        <= as_of.as_of_at
