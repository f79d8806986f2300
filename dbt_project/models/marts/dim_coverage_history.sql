{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- Coverage as a slowly changing dimension (type 2): one row per Coverage version, valid from its
-- meta.lastUpdated until the next version's. Member ids are PHI (see the column meta).
with

versions as (
    select
        coverages.*,
        lead(last_updated_at) over (
            partition by coverage_id
            order by _batch_id, version_number nulls first, last_updated_at, _record
        ) as next_updated_at
    from {{ ref('stg_ehr__coverages') }} as coverages
)

select
    cast(coverage_version_key as {{ text }}) as coverage_version_key,
    cast(coverage_id as {{ text }}) as coverage_id,
    cast(version_id as {{ text }}) as version_id,
    cast(patient_id as {{ text }}) as patient_id,
    cast(payer_id as {{ text }}) as payer_id,
    cast(member_id as {{ text }}) as member_id,
    cast(status as {{ text }}) as status,
    cast(coverage_order as {{ dbt.type_int() }}) as coverage_order,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(last_updated_at as {{ ts }}) as valid_from,
    cast(next_updated_at as {{ ts }}) as valid_to,
    is_current_version as is_current
from versions
