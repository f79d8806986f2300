{%- set text = dbt.type_string() -%}
-- Payers: the payers.csv reference joined to the EHR payer Organizations (either may lack one).
with

payers as (
    select * from {{ ref('stg_rcm__payers') }}
),

organizations as (
    select * from {{ ref('stg_ehr__organizations') }}
    where is_payer
),

final as (
    select
        cast(coalesce(payers.payer_id, organizations.organization_id) as {{ text }}) as payer_id,
        cast(coalesce(payers.payer_name, organizations.organization_name) as {{ text }})
            as payer_name,
        cast(payers.payer_type as {{ text }}) as payer_type,
        cast(payers.timely_filing_days as {{ dbt.type_int() }}) as timely_filing_days
    from payers
    full outer join organizations on payers.payer_id = organizations.organization_id
)

select * from final
