{{ config(
    materialized='incremental',
    unique_key='charge_id',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per EHR charge (ChargeItem, latest version), billable or not, with its account's
-- entity, whether the account's current claim bills it, and whether it was entered after the
-- account's first claim went out (a late charge). Incremental on the batch lineage: a run
-- rebuilds the charges of the accounts its batches touch (macros/incremental.sql).
with

charges as (
    select * from {{ ref('stg_ehr__charge_items') }}
    {{ billops.incremental_filter(
        'account_id',
        'charge_id in (select id from ' ~ source('ehr', 'fhir_charge_item')
        ~ ' where _loaded_at > ' ~ billops.incremental_watermark() ~ ')') }}
),

billed as (
    select account_id, charge_id, sum(billed_lines) as billed_lines,
        sum(billed_amount) as billed_amount
    from {{ ref('int_charge_to_claim_lines') }}
    where is_charged and is_billed
    group by account_id, charge_id
),

final as (
    select
        cast(charges.charge_id as {{ text }}) as charge_id,
        cast(charges.account_id as {{ text }}) as account_id,
        cast(charges.patient_id as {{ text }}) as patient_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(accounts.facility_id as {{ text }}) as facility_id,
        cast(charges.hcpcs as {{ text }}) as hcpcs,
        cast(charges.units as decimal(18, 2)) as units,
        cast(charges.charge_amount as decimal(18, 2)) as charge_amount,
        cast(charges.service_date as date) as service_date,
        cast(charges.entered_at as {{ ts }}) as entered_at,
        cast({{ billops.period_of('charges.entered_at') }} as {{ text }}) as entry_period,
        cast({{ dbt.datediff('charges.service_date', 'cast(charges.entered_at as date)', 'day') }}
            as {{ dbt.type_int() }}) as charge_lag_days,
        cast(charges.status as {{ text }}) as status,
        charges.is_billable,
        coalesce(billed.billed_lines, 0) > 0 as is_billed,
        cast(coalesce(billed.billed_amount, 0) as decimal(18, 2)) as billed_amount,
        cast(current_claims.first_submitted_at as {{ ts }}) as first_claim_submitted_at,
        coalesce(charges.entered_at > current_claims.first_submitted_at, false) as is_late,
        cast(charges.version_id as {{ text }}) as version_id,
        cast(charges._batch_id as {{ text }}) as _batch_id,
        cast(charges._loaded_at as {{ ts }}) as _loaded_at
    from charges
    left join {{ ref('int_accounts') }} as accounts on charges.account_id = accounts.account_id
    left join {{ ref('int_current_claims') }} as current_claims
        on charges.account_id = current_claims.account_id
    left join billed
        on charges.account_id = billed.account_id
        and charges.charge_id = billed.charge_id
)

select * from final
