{{ config(
    materialized='incremental',
    unique_key='remit_adjustment_key',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per 835 CAS adjustment (group, reason, amount), at claim level (line_seq 0) or on a
-- service line, with the claim's status, payer and entity. Code values only: CARC descriptions
-- are licensed and never shipped. Incremental on the batch lineage, by touched trace or account.
with

remit_claims as (
    select * from {{ ref('fct_remittance_claims') }}
    {{ billops.incremental_filter('account_id', trace_column='trace_number') }}
),

final as (
    select
        cast(adjustments.remit_adjustment_key as {{ text }}) as remit_adjustment_key,
        cast(remit_claims.remit_claim_key as {{ text }}) as remit_claim_key,
        cast(adjustments.trace_number as {{ text }}) as trace_number,
        cast(adjustments.claim_seq as {{ dbt.type_int() }}) as claim_seq,
        cast(adjustments.line_seq as {{ dbt.type_int() }}) as line_seq,
        cast(adjustments.adj_seq as {{ dbt.type_int() }}) as adj_seq,
        adjustments.is_claim_level,
        cast(adjustments.account_id as {{ text }}) as account_id,
        cast(adjustments.charge_id as {{ text }}) as charge_id,
        cast(adjustments.group_code as {{ text }}) as group_code,
        cast(adjustments.reason_code as {{ text }}) as reason_code,
        cast({{ dbt.concat(['adjustments.group_code', "'-'", 'adjustments.reason_code']) }}
            as {{ text }}) as group_reason,
        cast(case adjustments.group_code
            when 'CO' then 'CONTRACTUAL'
            when 'PR' then 'PATIENT_RESPONSIBILITY'
            when 'PI' then 'PAYER_INITIATED'
            when 'OA' then 'OTHER'
            else 'UNKNOWN'
        end as {{ text }}) as adjustment_category,
        cast(adjustments.amount as decimal(18, 2)) as amount,
        cast(adjustments.quantity as decimal(18, 2)) as quantity,
        cast(remit_claims.claim_status_code as {{ text }}) as claim_status_code,
        remit_claims.is_denied,
        remit_claims.is_reversal,
        cast(remit_claims.payer_sequence as {{ dbt.type_int() }}) as payer_sequence,
        cast(remit_claims.payer_id as {{ text }}) as payer_id,
        cast(remit_claims.entity as {{ text }}) as entity,
        cast(remit_claims.remit_date as date) as remit_date,
        cast(remit_claims._batch_id as {{ text }}) as _batch_id,
        cast(remit_claims._loaded_at as {{ ts }}) as _loaded_at
    from {{ ref('stg_rcm__remit_adjustments') }} as adjustments
    inner join remit_claims
        on adjustments.trace_number = remit_claims.trace_number
        and adjustments.claim_seq = remit_claims.claim_seq
)

select * from final
