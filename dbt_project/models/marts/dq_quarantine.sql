-- One row per unit held back from the marts by the raw checks (a record, an 835 transaction set,
-- an 837 claim, a GL journal) or rejected at ingestion, with why, who fixes it and the dollars it
-- carries. HELD units post nothing; RELEASED ones were corrected by a later unit or pass now.
with

units as (
    select * from {{ source('dq', 'quarantine_units') }}
),

final as (
    select
        {{ billops.key_of(['system', 'batch_id', 'file', 'unit', 'unit_key']) }} as quarantine_id,
        cast(system as {{ dbt.type_string() }}) as system,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(file as {{ dbt.type_string() }}) as file,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(unit_key as {{ dbt.type_string() }}) as unit_key,
        cast(source_table as {{ dbt.type_string() }}) as source_table,
        cast(rule as {{ dbt.type_string() }}) as rule,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(owner_team as {{ dbt.type_string() }}) as owner_team,
        cast(amount as decimal(18, 2)) as amount,
        cast(coalesce(rows_held, 0) as bigint) as rows_held,
        cast(first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(released_at as {{ dbt.type_timestamp() }}) as released_at,
        cast(release_reason as {{ dbt.type_string() }}) as release_reason
    from units
)

select * from final
