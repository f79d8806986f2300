-- One row per 835 trace number, with the load time of the newest batch that touches it: its
-- remittance, a GL posting that references it or a bank deposit of it. The incremental facts
-- rebuild the traces touched after their watermark (or held back or released by the raw checks
-- after it) (macros/incremental.sql); computing the
-- touches once here spares each fact a scan of the sources. Incremental: a run reads only what
-- arrived after the newest touch it holds (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='trace_number',
          incremental_strategy='delete+insert', on_schema_change='fail') }}
with

touches as (
    select trace_number, _loaded_at from {{ source('rcm', 'x12_remittances') }}
    where {{ billops.touched_after_watermark('_loaded_at') }}
    union all
    select reference, _loaded_at from {{ source('erp', 'gl_journal_lines') }}
    where {{ billops.touched_after_watermark('_loaded_at') }}
    union all
    select trace_number, _loaded_at from {{ source('erp', 'bank_deposits') }}
    where {{ billops.touched_after_watermark('_loaded_at') }}
    union all
    -- a transaction set the raw checks held back or released since: its rows leave or rejoin
    select unit_key, coalesce(released_at, first_seen_at)
    from {{ source('dq', 'quarantine_units') }}
    where unit = 'transaction_set'
        and {{ billops.touched_after_watermark('coalesce(released_at, first_seen_at)') }}
)

select
    cast(trace_number as {{ dbt.type_string() }}) as trace_number,
    cast(max(_loaded_at) as {{ dbt.type_timestamp() }}) as touched_at
from touches
where trace_number is not null
group by trace_number
