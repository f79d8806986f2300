-- GL lines that post cash (account_type CASH, found by type, never by number) against a reference:
-- for a payer receipt the reference is the 835 TRN02 trace number.
with

gl_lines as (
    select * from {{ ref('stg_erp__gl_journal_lines') }}
),

cash_accounts as (
    select entity, account
    from {{ ref('stg_erp__chart_of_accounts') }}
    where account_type = 'CASH'
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
        gl_lines.net_amount as cash_amount,
        gl_lines.journal_source,
        gl_lines.created_by,
        gl_lines.approved_by,
        gl_lines._batch_id,
        gl_lines._file,
        gl_lines._record
    from gl_lines
    inner join cash_accounts
        on gl_lines.entity = cash_accounts.entity
        and gl_lines.account = cash_accounts.account
    where gl_lines.reference is not null
)

select * from final
