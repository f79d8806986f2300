{{ config(
    materialized='incremental',
    unique_key='claim_line_key',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per 837 service line (2400 loop) of every claim submitted, originals and
-- replacements. A line of a replacement claim points at the line of the claim it replaces that
-- bills the same charge (2400 REF*6R), so a corrected line can be followed back. Incremental on
-- the batch lineage, by touched account (macros/incremental.sql).
with

claims as (
    select * from {{ ref('fct_claims') }}
    {{ billops.incremental_filter('account_id') }}
),

lines as (
    select lines.*
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join claims on lines.claim_key = claims.claim_key
),

charges as (
    select charge_id, account_id, charge_amount
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable
),

replaced_lines as (
    select claim_key, charge_id, min(claim_line_key) as claim_line_key
    from lines
    where charge_id is not null
    group by claim_key, charge_id
),

final as (
    select
        cast(lines.claim_line_key as {{ text }}) as claim_line_key,
        cast(lines.claim_key as {{ text }}) as claim_key,
        cast(lines.account_id as {{ text }}) as account_id,
        cast(lines.line_number as {{ dbt.type_int() }}) as line_number,
        cast(lines.charge_id as {{ text }}) as charge_id,
        cast(lines.hcpcs as {{ text }}) as hcpcs,
        cast(lines.modifiers as {{ text }}) as modifiers,
        cast(lines.units as decimal(18, 2)) as units,
        cast(lines.charge_amount as decimal(18, 2)) as charge_amount,
        cast(coalesce(lines.service_date, claims.service_date) as date) as service_date,
        cast(claims.claim_frequency_code as {{ text }}) as claim_frequency_code,
        claims.is_current as is_current_claim,
        cast(claims.replaces_claim_key as {{ text }}) as replaces_claim_key,
        cast(replaced_lines.claim_line_key as {{ text }}) as replaces_claim_line_key,
        charges.charge_id is not null as is_charged,
        cast(charges.charge_amount as decimal(18, 2)) as ehr_charge_amount,
        cast(claims.payer_id as {{ text }}) as payer_id,
        cast(claims.entity as {{ text }}) as entity,
        cast(claims.submitted_at as {{ ts }}) as submitted_at,
        cast(lines._batch_id as {{ text }}) as _batch_id,
        cast(claims._loaded_at as {{ ts }}) as _loaded_at
    from lines
    inner join claims on lines.claim_key = claims.claim_key
    left join charges
        on lines.account_id = charges.account_id
        and lines.charge_id = charges.charge_id
    left join replaced_lines
        on claims.replaces_claim_key = replaced_lines.claim_key
        and lines.charge_id = replaced_lines.charge_id
)

select * from final
