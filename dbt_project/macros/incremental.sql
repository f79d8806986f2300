{#-
  Incremental facts on the batch lineage. Every incremental fact carries `_loaded_at`, the load
  time of its newest input row. A batch loaded after the fact's last build has a later load time
  than any row in it (ingestion stamps `_loaded_at` when it loads, dbt runs after), so the batches
  newer than max(_loaded_at) of the fact are the ones this run must fold in. Re-reading a batch
  the fact already holds is harmless: the rows it touches are rebuilt to the same values.

  A fact is rebuilt for the accounts (or traces) those batches touch, through any input that
  shapes its rows: a new charge, claim or remittance of the account, but also a new encounter
  (entity), coverage (payer), eligibility check, statement, payment, GL posting or deposit.
  Which batch last touched each account and trace is worked out once per run, in
  int_touched_accounts and int_touched_traces (each key with the load time of the newest batch
  touching it); a fact keeps the keys touched after its own watermark. delete+insert then
  replaces the rows of the touched keys, so a full refresh and a chain of incremental runs give
  the same table (tests/test_dbt_incremental.py). The facts read intermediate tables (accounts,
  current claims, the charge-to-claim match), so a run that selects them must select those too:
  `+tag:intraday`, never `tag:intraday` alone; otherwise the touched rows would be rebuilt from
  stale tables and keep their stale values.
-#}

{#- The watermark: load time of the newest row already in the fact. -#}
{% macro incremental_watermark() -%}
    (select coalesce(max(built._loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
     from {{ this }} as built)
{%- endmacro %}


{#- Load time of each loaded batch of `system` (staging keeps a row's batch, not its load time). -#}
{% macro batch_loads(system) -%}
    select batch_id, max(loaded_at) as loaded_at
    from {{ ref('stg_ingest__batches') }}
    where is_loaded and system = '{{ system }}'
    group by batch_id
{%- endmacro %}


{#- The touched-key tables, declared to the parser: a fact reads them only on an incremental
    run, and dbt records a ref only when the parse renders it. Every incremental fact calls this
    once at its top. A block comment, so that whitespace control after the call cannot join the
    next line to it. -#}
{% macro incremental_inputs() -%}
    /* depends_on: {{ ref('int_touched_accounts') }}, {{ ref('int_touched_traces') }} */
{%- endmacro %}


{#- True for the rows of an account (`kind` 'accounts') or 835 trace (`kind` 'traces') that a
    batch loaded after the fact's watermark touches. -#}
{% macro is_touched(column, kind='accounts') -%}
    {%- set key = {'accounts': 'account_id', 'traces': 'trace_number'}[kind] -%}
    {{ column }} in (
        select touched.{{ key }} from {{ ref('int_touched_' ~ kind) }} as touched
        where touched.touched_at > {{ billops.incremental_watermark() }}
    )
{%- endmacro %}


{#- The rows of an incremental fact to (re)build: all of them on a full build, else those of
    the touched accounts, of the touched traces (given `trace_column`), or whose own key arrived
    in a new batch (`extra_condition`). -#}
{% macro incremental_filter(account_column, extra_condition=none, trace_column=none) -%}
    {%- if is_incremental() -%}
    where {{ billops.is_touched(account_column) }}
        {%- if trace_column %}
        or {{ billops.is_touched(trace_column, 'traces') }}
        {%- endif %}
        {%- if extra_condition %}
        or {{ extra_condition }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#- The touched-key tables themselves are incremental: a run reads only the rows loaded (or units
    held back or released) after the newest touch the table holds, and delete+insert keeps the
    newest touch per key. `column` is the time of a touch; on a full build every row counts. -#}
{% macro touched_after_watermark(column) -%}
    {%- if is_incremental() -%}
    {{ column }} > (select coalesce(max(kept.touched_at),
                                    cast('1900-01-01' as {{ dbt.type_timestamp() }}))
                    from {{ this }} as kept)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
