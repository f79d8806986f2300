-- GL_AMOUNT_MISMATCH, one per 835 payment (trace number): the first live GL journal's cash
-- amount (int_remittance_live_postings, plus the trace's reversals that undo nothing) differs
-- from the payment; compared once, whatever duplicates follow, and at once (no lag window).
select
    {{ billops.exception_row(
        'GL_AMOUNT_MISMATCH',
        exception_key="remittances.trace_number",
        entity="coalesce(remittances.entity, postings.entity)",
        patient_id="remittances.patient_id",
        trace_number="remittances.trace_number",
        journal_id="postings.journal_id",
        amount_at_risk="cast(abs(remittances.payment_amount - postings.cash_amount"
                       ~ " - coalesce(postings.unpaired_reversal_amount, 0)) as decimal(38, 2))",
        detected_at="cast(postings.posting_date as " ~ dbt.type_timestamp() ~ ")",
    ) }}
from {{ ref('int_remittance_payments') }} as remittances
inner join {{ ref('int_remittance_live_postings') }} as postings
    on remittances.trace_number = postings.trace_number
    and postings.posting_rank = 1
where {{ billops.amounts_differ(
    'remittances.payment_amount',
    'postings.cash_amount + coalesce(postings.unpaired_reversal_amount, 0)'
) }}
