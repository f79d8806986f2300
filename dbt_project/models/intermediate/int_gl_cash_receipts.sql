-- GL lines that post patient-billing cash: lines on a CASH account (found by account_type, never
-- by number) whose reference is a remittance (the 835 TRN02 trace number) or a patient payment
-- id. Every other cash line (vendor payments, payroll, transfers, fees, interest and their
-- reversals) is non-patient cash: never matched, never an exception.
with

gl_lines as (
    select * from {{ ref('stg_erp__gl_journal_lines') }}
),

cash_accounts as (
    select entity, account
    from {{ ref('stg_erp__chart_of_accounts') }}
    where account_type = 'CASH'
),

patient_cash_references as (
    select trace_number as reference, 'REMITTANCE' as receipt_kind
    from {{ ref('stg_rcm__remittances') }}
    union
    select payment_id, 'PATIENT_PAYMENT'
    from {{ ref('stg_rcm__patient_payments') }}
),

final as (
    select
        gl_lines.gl_line_key,
        gl_lines.journal_id,
        gl_lines.line_no,
        gl_lines.entity,
        gl_lines.posting_date,
        gl_lines.period,
        gl_lines.account,
        gl_lines.reference as trace_number,
        cash_refs.receipt_kind,
        gl_lines.net_amount as cash_amount,
        gl_lines.journal_source,
        gl_lines.description,
        gl_lines.created_by,
        gl_lines.approved_by,
        gl_lines._batch_id,
        gl_lines._file,
        gl_lines._record
    from gl_lines
    inner join cash_accounts
        on gl_lines.entity = cash_accounts.entity
        and gl_lines.account = cash_accounts.account
    inner join (
        select reference, min(receipt_kind) as receipt_kind
        from patient_cash_references
        group by reference
    ) as cash_refs on gl_lines.reference = cash_refs.reference
)

select * from final
