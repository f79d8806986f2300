-- GL_AMOUNT_MISMATCH, one per 835 payment (trace number): the first live GL journal's cash
-- amount (int_remittance_live_postings, plus the trace's reversals that undo nothing) differs
-- from the payment; compared once, whatever duplicates follow, and at once (no lag window).
select
    'GL_AMOUNT_MISMATCH' as exception_type,
    remittances.trace_number as exception_key,
    coalesce(remittances.entity, postings.entity) as entity,
    remittances.patient_id,
    {{ billops.null_text() }} as account_id,
    {{ billops.null_text() }} as claim_id,
    {{ billops.null_text() }} as charge_id,
    remittances.trace_number,
    postings.journal_id,
    {{ billops.null_text() }} as statement_id,
    cast(abs(remittances.payment_amount - postings.cash_amount
             - coalesce(postings.unpaired_reversal_amount, 0)) as decimal(38, 2)) as amount_at_risk,
    cast(postings.posting_date as {{ dbt.type_timestamp() }}) as detected_at,
    {{ billops.null_text() }} as root_cause
from {{ ref('int_remittance_payments') }} as remittances
inner join {{ ref('int_remittance_live_postings') }} as postings
    on remittances.trace_number = postings.trace_number
    and postings.posting_rank = 1
where {{ billops.amounts_differ(
    'remittances.payment_amount',
    'postings.cash_amount + coalesce(postings.unpaired_reversal_amount, 0)'
) }}
