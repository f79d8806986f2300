-- Remittance-to-GL and remittance-to-bank exceptions, one per 835 payment (trace number) or GL
-- journal. A zero payment (an 835 that only denies or adjusts) needs no cash posting or deposit.
--
-- The payment is signed: BPR03 = D (debit) is money going back to the payer (a takeback), so the
-- GL must show it as a negative cash posting and no bank deposit is expected for it.
--
-- GL journals of a trace net their reversals first: a journal whose cash amount runs against the
-- payment (or whose source or description marks a reversal) undoes the journal of the same trace
-- with the opposite amount, the one its description names, else the earliest not yet undone
-- (pairs by rank among equal amounts). Both leave the comparison; a reversal that undoes nothing
-- is an adjustment netted into the surviving posting. What remains are the live postings.
-- REMIT_NOT_IN_GL: no live posting once gl_posting_lag_days have passed since the payment date
--   (against the as-of time).
-- GL_DUPLICATE_POSTING: every live journal after the first (the later journal).
-- GL_AMOUNT_MISMATCH: the first live journal's cash amount (plus unpaired reversals) differs from
--   the payment (compared once, whatever duplicates follow).
-- DEPOSIT_MISMATCH: once deposit_lag_days have passed, the trace's deposits do not sum to the
--   payment. A trace may arrive in several deposits (split); a deposit row may list several
--   traces (its amount shared in proportion to their payments) or several rows may share a
--   deposit; a deposit without any trace whose amount equals the payments of one payer and
--   payment date not otherwise deposited (a lockbox) deposits them. Credit payments only.
with

as_of as (
    select {{ billops.as_of_timestamp() }} as as_of_at
),

remittances as (
    select
        remittances.trace_number,
        case when upper(coalesce(remittances.credit_debit, 'C')) = 'D'
             then -remittances.payment_amount
             else remittances.payment_amount end as payment_amount,
        remittances.payment_date,
        payee.entity,
        payee.patient_id
    from {{ ref('stg_rcm__remittances') }} as remittances
    left join (
        select
            remit_claims.trace_number,
            min(accounts.entity) as entity,
            case when count(distinct remit_claims.account_id) = 1
                 then min(accounts.patient_id) end as patient_id
        from {{ ref('int_remit_claims') }} as remit_claims
        inner join {{ ref('int_accounts') }} as accounts
            on remit_claims.account_id = accounts.account_id
        group by remit_claims.trace_number
    ) as payee on remittances.trace_number = payee.trace_number
    where {{ billops.amounts_differ('remittances.payment_amount', '0') }}
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
),

not_in_gl as (
    select
        'REMIT_NOT_IN_GL' as exception_type,
        remittances.trace_number as exception_key,
        remittances.entity,
        remittances.patient_id,
        remittances.trace_number,
        {{ billops.null_text() }} as journal_id,
        abs(remittances.payment_amount) as amount_at_risk,
        remittances.payment_date as detected_on
    from remittances
    cross join as_of
    where remittances.trace_number not in (select trace_number from live_journals)
        and {{ billops.plus_window('remittances.payment_date', 'gl_posting_lag_days') }}
            <= as_of.as_of_at
),

amount_mismatch as (
    select
        'GL_AMOUNT_MISMATCH' as exception_type,
        remittances.trace_number as exception_key,
        coalesce(remittances.entity, live_journals.entity) as entity,
        remittances.patient_id,
        remittances.trace_number,
        live_journals.journal_id,
        abs(remittances.payment_amount
            - live_journals.cash_amount - coalesce(unpaired_reversals.cash_amount, 0)) as amount_at_risk,
        live_journals.posting_date as detected_on
    from remittances
    inner join live_journals
        on remittances.trace_number = live_journals.trace_number
        and live_journals.posting_rank = 1
    left join unpaired_reversals on remittances.trace_number = unpaired_reversals.trace_number
    where {{ billops.amounts_differ(
        'remittances.payment_amount',
        'live_journals.cash_amount + coalesce(unpaired_reversals.cash_amount, 0)') }}
),

duplicate_posting as (
    select
        'GL_DUPLICATE_POSTING' as exception_type,
        live_journals.journal_id as exception_key,
        live_journals.entity,
        remittances.patient_id,
        live_journals.trace_number,
        live_journals.journal_id,
        abs(live_journals.cash_amount) as amount_at_risk,
        live_journals.posting_date as detected_on
    from live_journals
    inner join remittances on live_journals.trace_number = remittances.trace_number
    where live_journals.posting_rank > 1
),

credit_payments as (
    select * from remittances where payment_amount > 0
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

deposit_mismatch as (
    select
        'DEPOSIT_MISMATCH' as exception_type,
        credit_payments.trace_number as exception_key,
        credit_payments.entity,
        credit_payments.patient_id,
        credit_payments.trace_number,
        {{ billops.null_text() }} as journal_id,
        credit_payments.payment_amount as amount_at_risk,
        credit_payments.payment_date as detected_on
    from credit_payments
    cross join as_of
    left join (
        select trace_number, sum(deposited_amount) as deposited_amount
        from deposited
        group by trace_number
    ) as deposits on credit_payments.trace_number = deposits.trace_number
    where {{ billops.plus_window('credit_payments.payment_date', 'deposit_lag_days') }}
            <= as_of.as_of_at
        and {{ billops.amounts_differ('deposits.deposited_amount', 'credit_payments.payment_amount') }}
),

unioned as (
    select * from not_in_gl
    union all select * from amount_mismatch
    union all select * from duplicate_posting
    union all select * from deposit_mismatch
),

final as (
    select
        exception_type,
        exception_key,
        entity,
        patient_id,
        {{ billops.null_text() }} as account_id,
        {{ billops.null_text() }} as claim_id,
        {{ billops.null_text() }} as charge_id,
        trace_number,
        journal_id,
        {{ billops.null_text() }} as statement_id,
        amount_at_risk,
        cast(detected_on as {{ dbt.type_timestamp() }}) as detected_at,
        {{ billops.null_text() }} as root_cause
    from unioned
)

select * from final
