with

source as (
    select * from {{ billops.without_held_units(source('erp', 'gl_journal_lines'), 'erp', 'journal', 'journal_id') }}
),

latest as (
    {{ billops.latest_per_key('source', ['journal_id', 'line_no']) }}
),

renamed as (
    select
        {{ billops.key_of(['journal_id', 'line_no']) }} as gl_line_key,
        journal_id,
        line_no,
        entity,
        posting_date,
        period,
        account,
        coalesce(debit, 0) as debit_amount,
        coalesce(credit, 0) as credit_amount,
        coalesce(debit, 0) - coalesce(credit, 0) as net_amount,
        source as journal_source,
        reference,
        description,
        created_by,
        approved_by,
        _batch_id,
        _file,
        _record,
        _loaded_at
    from latest
)

select * from renamed
