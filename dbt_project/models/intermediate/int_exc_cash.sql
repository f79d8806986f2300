-- Remittance-to-GL and remittance-to-bank exceptions, one per 835 payment (trace number) or GL
-- journal. A zero payment (an 835 that only denies or adjusts) needs no cash posting or deposit.
-- REMIT_NOT_IN_GL: no GL cash line references the trace.
-- GL_DUPLICATE_POSTING: every journal after the first that posts the trace (the later journal).
-- GL_AMOUNT_MISMATCH: the first journal's cash amount differs from the BPR payment (compared
-- once, whatever duplicates follow).
-- DEPOSIT_MISMATCH: no bank deposit carries the trace with the payment amount.
with

remittances as (
    select
        remittances.trace_number,
        remittances.payment_amount,
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
        trace_number,
        journal_id,
        min(entity) as entity,
        min(posting_date) as posting_date,
        sum(cash_amount) as cash_amount
    from {{ ref('int_gl_cash_receipts') }}
    group by trace_number, journal_id
),

ranked_journals as (
    select
        journals.*,
        row_number() over (
            partition by trace_number order by posting_date, journal_id
        ) as posting_rank
    from journals
),

not_in_gl as (
    select
        'REMIT_NOT_IN_GL' as exception_type,
        remittances.trace_number as exception_key,
        remittances.entity,
        remittances.patient_id,
        remittances.trace_number,
        {{ billops.null_text() }} as journal_id,
        remittances.payment_amount as amount_at_risk,
        remittances.payment_date as detected_on
    from remittances
    where remittances.trace_number not in (select trace_number from journals)
),

amount_mismatch as (
    select
        'GL_AMOUNT_MISMATCH' as exception_type,
        remittances.trace_number as exception_key,
        coalesce(remittances.entity, ranked_journals.entity) as entity,
        remittances.patient_id,
        remittances.trace_number,
        ranked_journals.journal_id,
        abs(remittances.payment_amount - ranked_journals.cash_amount) as amount_at_risk,
        ranked_journals.posting_date as detected_on
    from remittances
    inner join ranked_journals
        on remittances.trace_number = ranked_journals.trace_number
        and ranked_journals.posting_rank = 1
    where {{ billops.amounts_differ('remittances.payment_amount', 'ranked_journals.cash_amount') }}
),

duplicate_posting as (
    select
        'GL_DUPLICATE_POSTING' as exception_type,
        ranked_journals.journal_id as exception_key,
        ranked_journals.entity,
        remittances.patient_id,
        ranked_journals.trace_number,
        ranked_journals.journal_id,
        ranked_journals.cash_amount as amount_at_risk,
        ranked_journals.posting_date as detected_on
    from ranked_journals
    inner join remittances on ranked_journals.trace_number = remittances.trace_number
    where ranked_journals.posting_rank > 1
),

deposit_mismatch as (
    select
        'DEPOSIT_MISMATCH' as exception_type,
        remittances.trace_number as exception_key,
        remittances.entity,
        remittances.patient_id,
        remittances.trace_number,
        {{ billops.null_text() }} as journal_id,
        remittances.payment_amount as amount_at_risk,
        remittances.payment_date as detected_on
    from remittances
    where not exists (
        select 1
        from {{ ref('stg_erp__bank_deposits') }} as deposits
        where deposits.trace_number = remittances.trace_number
            and not {{ billops.amounts_differ('deposits.amount', 'remittances.payment_amount') }}
    )
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
