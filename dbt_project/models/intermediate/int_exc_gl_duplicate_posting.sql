-- GL_DUPLICATE_POSTING, one per GL journal: every live GL journal of an 835 payment's trace
-- number after the first (int_remittance_live_postings: reversals netted, ranked by posting
-- date). Amount at risk: the later journal's cash amount.
select
    'GL_DUPLICATE_POSTING' as exception_type,
    postings.journal_id as exception_key,
    postings.entity,
    remittances.patient_id,
    {{ billops.null_text() }} as account_id,
    {{ billops.null_text() }} as claim_id,
    {{ billops.null_text() }} as charge_id,
    postings.trace_number,
    postings.journal_id,
    {{ billops.null_text() }} as statement_id,
    cast(abs(postings.cash_amount) as decimal(38, 2)) as amount_at_risk,
    cast(postings.posting_date as {{ dbt.type_timestamp() }}) as detected_at,
    {{ billops.null_text() }} as root_cause
from {{ ref('int_remittance_live_postings') }} as postings
inner join {{ ref('int_remittance_payments') }} as remittances
    on postings.trace_number = remittances.trace_number
where postings.posting_rank > 1
