-- GL_DUPLICATE_POSTING, one per GL journal: every live GL journal of an 835 payment's trace
-- number after the first (int_remittance_live_postings: reversals netted, ranked by posting
-- date). Amount at risk: the later journal's cash amount.
select
    {{ billops.exception_row(
        'GL_DUPLICATE_POSTING',
        exception_key="postings.journal_id",
        entity="postings.entity",
        patient_id="remittances.patient_id",
        trace_number="postings.trace_number",
        journal_id="postings.journal_id",
        amount_at_risk="cast(abs(postings.cash_amount) as decimal(38, 2))",
        detected_at="cast(postings.posting_date as " ~ dbt.type_timestamp() ~ ")",
    ) }}
from {{ ref('int_remittance_live_postings') }} as postings
inner join {{ ref('int_remittance_payments') }} as remittances
    on postings.trace_number = remittances.trace_number
where postings.posting_rank > 1
