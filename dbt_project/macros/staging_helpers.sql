{#- Portable building blocks shared by the staging models (plain SQL, no adapter specifics). -#}

{#- Text key of several columns ('|' separated, null parts as empty) for uniqueness tests and joins. -#}
{% macro key_of(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{#- Rows of `relation` keeping one per `partition_by`, the first by `order_by`. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    select *
    from (
        select
            _dedupe_source.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _dedupe_rank
        from {{ relation }} as _dedupe_source
    ) as _deduped
    where _dedupe_rank = 1
{%- endmacro %}


{#-
  A reference extract (payers, contracts, auth rules, chargemaster, chart of accounts) merged per
  key across batches: each key as its latest delivery has it (the last record of that batch
  wins), so a later file replaces the keys it contains and leaves the others. A key disappears
  only when the manifest declared a later file a full snapshot (`"snapshot": true`, recorded in
  raw._loads.snapshot): the latest snapshot of `file` starts the table again, so rows of earlier
  batches are dropped. `key_columns` is the table's natural key, effective_from included where
  the table has one.
-#}
{% macro latest_reference_extract(relation, key_columns, system, file) -%}
    {{ billops.deduplicate(
        "(select * from " ~ relation ~ " where _batch_id >= "
            ~ billops.latest_snapshot_batch(system, file) ~ ")",
        key_columns | join(', '),
        "_batch_id desc, _record desc"
    ) }}
{%- endmacro %}


{#- The batch id of the latest loaded full snapshot of `file` of `system`, else '' (none). -#}
{% macro latest_snapshot_batch(system, file) -%}
    (select coalesce(max(_snapshots.batch_id), '')
     from {{ source('ingest', '_loads') }} as _snapshots
     where _snapshots.system = '{{ system }}'
       and _snapshots.file = '{{ file }}'
       and _snapshots.status = 'LOADED'
       and coalesce(_snapshots.snapshot, false))
{%- endmacro %}


{#- CSV rows that later batches may re-send: one row per key, from the latest batch. -#}
{% macro latest_per_key(relation, key_columns) -%}
    {{ billops.deduplicate(relation, key_columns | join(', '), "_batch_id desc, _record desc") }}
{%- endmacro %}


{#-
  FHIR resources re-exported in several batches: the latest version per id, by batch, then by
  meta.versionId as a number, then by record.
-#}
{% macro latest_fhir_version(relation) -%}
    {{ billops.deduplicate(
        relation,
        "id",
        "_batch_id desc, " ~ billops.try_to_bigint("version_id") ~ " desc nulls last, last_updated desc nulls last, _record desc"
    ) }}
{%- endmacro %}


{#- The as-of time of every rule: the latest extracted_at among loaded batches, never the clock. -#}
{% macro as_of_timestamp() -%}
    (select max(extracted_at) from {{ ref('stg_ingest__batches') }} where is_loaded)
{%- endmacro %}


{#-
  Rows of an 835 detail table (claims, service lines, adjustments, PLB) that belong to the
  remittance file kept for their trace number: a re-sent 835 is kept once, from the first file
  that delivered it (the same choice as stg_rcm__remittances).
-#}
{% macro rows_of_kept_remittances(relation) -%}
    select detail.*
    from {{ relation }} as detail
    inner join (
        {{ billops.deduplicate(
            billops.without_held_units(source('rcm', 'x12_remittances'), 'rcm',
                                       'transaction_set', 'trace_number'),
            'trace_number', '_batch_id, _file, _record') }}
    ) as kept
        on detail.trace_number = kept.trace_number
        and detail._batch_id = kept._batch_id
        and detail._file = kept._file
        and detail.st_control_number = kept.st_control_number
{%- endmacro %}


{#- One column per measure: the sum of `amount` of the rows of that measure (a long-to-wide pivot). -#}
{% macro sum_by_measure(measures) -%}
    {%- for m in measures %}
    sum(case when measure = '{{ m }}' then amount else 0 end) as {{ m }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}


{#-
  Rows of raw `relation` (of source system `system`) without those held back by the raw checks:
  a unit in dq.quarantine_units marked excluded is left out whole, by its lineage and its key
  (`unit` and `key_column` as billops.quarantine.hold_unit defines them for the table; a test
  keeps the two in step). A record held on its own (a row without a unit key) is left out by its
  record number.
-#}
{% macro without_held_units(relation, system, unit, key_column) -%}
    (select _unit_rows.*
     from {{ relation }} as _unit_rows
     where not exists (
         select 1
         from {{ source('dq', 'quarantine_units') }} as _held
         where _held.excluded
           and _held.system = '{{ system }}'
           and _held.batch_id = _unit_rows._batch_id
           and _held.file = _unit_rows._file
           and (
               (_held.unit = 'record'
                and _held.source_table = 'raw.{{ relation.identifier }}'
                and _held.unit_key = cast(_unit_rows._record as {{ dbt.type_string() }}))
               {%- if unit != 'record' %}
               or (_held.unit = '{{ unit }}'
                   and _held.unit_key = cast(_unit_rows.{{ key_column }} as {{ dbt.type_string() }}))
               {%- endif %}
           )
     ))
{%- endmacro %}
