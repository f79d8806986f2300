{#-
  Incremental facts on the batch lineage. Every incremental fact carries `_loaded_at`, the load
  time of its newest input row. A batch loaded after the fact's last build has a later load time
  than any row in it (ingestion stamps `_loaded_at` when it loads, dbt runs after), so the batches
  newer than max(_loaded_at) of the fact are the ones this run must fold in. Re-reading a batch
  the fact already holds is harmless: the rows it touches are rebuilt to the same values.

  A fact is rebuilt for the accounts (or traces) those batches touch, through any input that
  shapes its rows: a new charge, claim or remittance of the account, but also a new encounter
  (entity), coverage (payer), eligibility check, statement, payment, GL posting or deposit.
  delete+insert then replaces the rows of the touched keys, so a full refresh and a chain of
  incremental runs give the same table (tests/test_dbt_incremental.py). The facts read
  intermediate tables (accounts, current claims, the charge-to-claim match), so a run that
  selects them must select those too: `+tag:intraday`, never `tag:intraday` alone; otherwise the
  touched rows would be rebuilt from stale tables and keep their stale values.
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


{#- Patients whose EHR or eligibility records arrived after the watermark (a new encounter
    can move an eligibility check to another of the patient's accounts). -#}
{% macro touched_patients(watermark) -%}
    select id as patient_id from {{ source('ehr', 'fhir_patient') }}
    where _loaded_at > {{ watermark }}
    union
    select patient_id from {{ source('ehr', 'fhir_encounter') }}
    where _loaded_at > {{ watermark }}
    union
    select patient_id from {{ source('ehr', 'fhir_coverage') }}
    where _loaded_at > {{ watermark }}
    union
    select patient_id from {{ source('rcm', 'eligibility_checks') }}
    where _loaded_at > {{ watermark }}
{%- endmacro %}


{#- 835 trace numbers whose remittance, GL cash posting or bank deposit arrived after the watermark. -#}
{% macro touched_traces(watermark) -%}
    select trace_number from {{ source('rcm', 'x12_remittances') }}
    where _loaded_at > {{ watermark }}
    union
    select reference from {{ source('erp', 'gl_journal_lines') }}
    where _loaded_at > {{ watermark }} and reference is not null
    union
    select trace_number from {{ source('erp', 'bank_deposits') }}
    where _loaded_at > {{ watermark }} and trace_number is not null
{%- endmacro %}


{#- Accounts any batch after the watermark touches, directly or through a patient or a trace. -#}
{% macro touched_accounts(watermark) -%}
    select id as account_id from {{ source('ehr', 'fhir_encounter') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ source('ehr', 'fhir_charge_item') }}
    where _loaded_at > {{ watermark }}
    union
    select encounters.account_id
    from {{ ref('stg_ehr__encounters') }} as encounters
    where encounters.patient_id in ({{ billops.touched_patients(watermark) }})
        or encounters.facility_id in (
            select id from {{ source('ehr', 'fhir_organization') }}
            where _loaded_at > {{ watermark }}
        )
    union
    select account_id from {{ source('rcm', 'x12_claims') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ source('rcm', 'x12_claim_lines') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ source('rcm', 'x12_remit_claims') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ ref('stg_rcm__remit_claims') }}
    where trace_number in ({{ billops.touched_traces(watermark) }})
    union
    select claim_id from {{ source('rcm', 'claim_events') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ source('rcm', 'statements') }}
    where _loaded_at > {{ watermark }}
    union
    select account_id from {{ source('rcm', 'patient_payments') }}
    where _loaded_at > {{ watermark }}
{%- endmacro %}


{#- The rows of an incremental fact to (re)build: all of them on a full build, else those of
    the touched accounts, or whose own key arrived in a new batch. -#}
{% macro incremental_filter(account_column, extra_condition=none) -%}
    {%- if is_incremental() -%}
    where {{ account_column }} in ({{ billops.touched_accounts(billops.incremental_watermark()) }})
        {%- if extra_condition %}
        or {{ extra_condition }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
