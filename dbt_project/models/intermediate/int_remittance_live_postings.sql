-- The live GL cash postings of each 835 payment (int_remittance_payments), one row per GL journal
-- of its trace number, for the rules REMIT_NOT_IN_GL, GL_AMOUNT_MISMATCH and GL_DUPLICATE_POSTING.
-- GL journals of a trace net their reversals first: a journal whose cash amount runs against the
-- payment (or whose source or description marks a reversal) undoes the journal of the same trace
-- with the opposite amount, the one its description names, else the earliest not yet undone
-- (pairs by rank among equal amounts). Both leave the comparison; a reversal that undoes nothing
-- is an adjustment (unpaired_reversal_amount, the trace's total) netted into the surviving
-- posting. What remains are the live postings, ranked by posting date (posting_rank).
with

remittances as (
    select * from {{ ref('int_remittance_payments') }}
),

journals as (
    select
        receipts.trace_number,
        receipts.journal_id,
        min(receipts.entity) as entity,
        min(receipts.posting_date) as posting_date,
        cast(sum(receipts.cash_amount) as decimal(18, 2)) as cash_amount,
        max(upper(coalesce(receipts.journal_source, ''))) as journal_source,
        max(upper(coalesce(receipts.description, ''))) as description
    from {{ ref('int_gl_cash_receipts') }} as receipts
    where receipts.trace_number in (select trace_number from remittances)
    group by receipts.trace_number, receipts.journal_id
),

classified as (
    select
        journals.*,
        {{ billops.amounts_differ('journals.cash_amount', '0') }}
        and (
            (journals.cash_amount < 0) <> (remittances.payment_amount < 0)
            or journals.journal_source like '%REVERS%'
            or journals.description like '%REVERS%'
        ) as is_reversal
    from journals
    inner join remittances on journals.trace_number = remittances.trace_number
),

named_pairs as (
    select
        reversals.trace_number,
        reversals.journal_id as reversal_id,
        min(originals.journal_id) as original_id
    from classified as reversals
    inner join classified as originals
        on reversals.trace_number = originals.trace_number
        and reversals.is_reversal
        and not originals.is_reversal
        and reversals.description like '%' || upper(originals.journal_id) || '%'
        and not {{ billops.amounts_differ('reversals.cash_amount', '-originals.cash_amount') }}
    group by reversals.trace_number, reversals.journal_id
),

unnamed as (
    select
        classified.*,
        row_number() over (
            partition by classified.trace_number, classified.is_reversal, abs(classified.cash_amount)
            order by classified.posting_date, classified.journal_id
        ) as pair_rank
    from classified
    where not exists (
        select 1 from named_pairs
        where named_pairs.trace_number = classified.trace_number
            and classified.journal_id in (named_pairs.reversal_id, named_pairs.original_id)
    )
),

ranked_pairs as (
    select
        reversals.trace_number,
        reversals.journal_id as reversal_id,
        originals.journal_id as original_id
    from unnamed as reversals
    inner join unnamed as originals
        on reversals.trace_number = originals.trace_number
        and reversals.is_reversal
        and not originals.is_reversal
        and abs(reversals.cash_amount) = abs(originals.cash_amount)
        and reversals.pair_rank = originals.pair_rank
),

cancelled as (
    select trace_number, reversal_id as journal_id from named_pairs
    union all select trace_number, original_id from named_pairs
    union all select trace_number, reversal_id from ranked_pairs
    union all select trace_number, original_id from ranked_pairs
),

surviving as (
    select classified.*
    from classified
    where not exists (
        select 1 from cancelled
        where cancelled.trace_number = classified.trace_number
            and cancelled.journal_id = classified.journal_id
    )
),

live_journals as (
    select
        surviving.*,
        row_number() over (
            partition by surviving.trace_number order by surviving.posting_date, surviving.journal_id
        ) as posting_rank
    from surviving
    where not surviving.is_reversal
),

unpaired_reversals as (
    select trace_number, sum(cash_amount) as cash_amount
    from surviving
    where is_reversal
    group by trace_number
)

select
    live_journals.trace_number,
    live_journals.journal_id,
    live_journals.entity,
    live_journals.posting_date,
    live_journals.cash_amount,
    live_journals.posting_rank,
    unpaired_reversals.cash_amount as unpaired_reversal_amount
from live_journals
left join unpaired_reversals on live_journals.trace_number = unpaired_reversals.trace_number
