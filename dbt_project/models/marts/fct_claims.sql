{{ config(
    materialized='incremental',
    unique_key='claim_key',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per 837 claim as submitted, originals, replacements and claims to secondary payers
-- (SBR01 = S, with the primary payer and what it paid from loops 2320/2330B). A replacement
-- (CLM05-3 = 7) is linked to the claim of the same account and payer rank it follows
-- (replaces_claim_key). Incremental on
-- the batch lineage: a run rebuilds every claim of the accounts its batches touch, since a new
-- claim changes which one is current.
with

claims as (
    select * from {{ ref('stg_rcm__claims') }}
    where account_id is not null
    {%- if is_incremental() %}
        and {{ billops.is_touched('account_id') }}
    {%- endif %}
),

loads as (
    {{ billops.batch_loads('rcm') }}
),

ordered as (
    select
        claims.*,
        lag(claim_key) over (
            partition by account_id, payer_responsibility
            order by submitted_at, case when is_replacement then 1 else 0 end, _batch_id,
                _file, _record
        ) as previous_claim_key
    from claims
),

final as (
    select
        cast(ordered.claim_key as {{ text }}) as claim_key,
        cast(ordered.account_id as {{ text }}) as account_id,
        cast(ordered.claim_frequency_code as {{ text }}) as claim_frequency_code,
        cast(case when ordered.is_replacement then ordered.previous_claim_key end as {{ text }})
            as replaces_claim_key,
        coalesce(ordered.claim_key = current_claims.current_claim_key, false) as is_current,
        cast(ordered.payer_id as {{ text }}) as payer_id,
        cast(ordered.payer_responsibility as {{ text }}) as payer_responsibility,
        cast(ordered.other_payer_id as {{ text }}) as other_payer_id,
        cast(ordered.other_payer_paid_amount as decimal(18, 2)) as other_payer_paid_amount,
        cast(ordered.member_id as {{ text }}) as member_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(coalesce(ordered.statement_from, accounts.service_date) as date) as service_date,
        cast(ordered.submitted_at as {{ ts }}) as submitted_at,
        cast(ordered.total_charge as decimal(18, 2)) as total_charge,
        cast(ordered.prior_auth_number as {{ text }}) as prior_auth_number,
        cast(ordered.claim_type as {{ text }}) as claim_type,
        cast(ordered.implementation as {{ text }}) as implementation,
        cast(ordered.original_claim_ref as {{ text }}) as original_claim_ref,
        cast(ordered.patient_id as {{ text }}) as patient_id,
        cast(ordered._batch_id as {{ text }}) as _batch_id,
        cast(loads.loaded_at as {{ ts }}) as _loaded_at
    from ordered
    left join loads on ordered._batch_id = loads.batch_id
    left join {{ ref('int_accounts') }} as accounts on ordered.account_id = accounts.account_id
    left join {{ ref('int_current_claims') }} as current_claims
        on ordered.account_id = current_claims.account_id
)

select * from final
