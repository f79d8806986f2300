{%- set text = dbt.type_string() -%}
-- One row per GL journal line with its account's type from the chart of accounts (accounts are
-- found by account_type, never by number) and, for a line that references an 835, the trace.
with

lines as (
    select * from {{ ref('stg_erp__gl_journal_lines') }}
),

chart as (
    select * from {{ ref('stg_erp__chart_of_accounts') }}
),

traces as (
    select trace_number from {{ ref('stg_rcm__remittances') }}
),

final as (
    select
        cast(lines.gl_line_key as {{ text }}) as gl_line_key,
        cast(lines.journal_id as {{ text }}) as journal_id,
        cast(lines.line_no as {{ dbt.type_int() }}) as line_no,
        cast(lines.entity as {{ text }}) as entity,
        cast(lines.posting_date as date) as posting_date,
        cast(lines.period as {{ text }}) as period,
        cast(lines.account as {{ text }}) as account,
        cast(chart.account_name as {{ text }}) as account_name,
        cast(coalesce(chart.account_type, 'UNMAPPED') as {{ text }}) as account_type,
        cast(lines.debit_amount as decimal(18, 2)) as debit_amount,
        cast(lines.credit_amount as decimal(18, 2)) as credit_amount,
        cast(lines.net_amount as decimal(18, 2)) as net_amount,
        cast(lines.journal_source as {{ text }}) as journal_source,
        cast(lines.reference as {{ text }}) as reference,
        cast(traces.trace_number as {{ text }}) as trace_number,
        cast(lines.description as {{ text }}) as description,
        cast(lines.created_by as {{ text }}) as created_by,
        cast(nullif(trim(lines.approved_by), '') as {{ text }}) as approved_by,
        cast(lines._batch_id as {{ text }}) as _batch_id
    from lines
    left join chart on lines.entity = chart.entity and lines.account = chart.account
    left join traces on lines.reference = traces.trace_number
)

select * from final
