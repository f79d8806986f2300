{{ config(
    materialized='incremental',
    unique_key='remit_service_line_key',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
-- One row per 835 service line (SVC, 2110 loop), with its CAS adjustments summed by group and
-- the EHR charge it echoes (REF*6R). Incremental on the batch lineage, by touched trace or account.
with

remit_claims as (
    select * from {{ ref('fct_remittance_claims') }}
    {{ billops.incremental_filter('account_id', trace_column='trace_number') }}
),

service_lines as (
    select service_lines.*
    from {{ ref('stg_rcm__remit_service_lines') }} as service_lines
    inner join remit_claims
        on service_lines.trace_number = remit_claims.trace_number
        and service_lines.claim_seq = remit_claims.claim_seq
),

adjustments as (
    select
        trace_number,
        claim_seq,
        line_seq,
        sum(case when group_code = 'CO' then amount else 0 end) as co_amount,
        sum(case when group_code = 'PR' then amount else 0 end) as pr_amount,
        sum(case when group_code in ('OA', 'PI') then amount else 0 end) as other_amount
    from {{ ref('stg_rcm__remit_adjustments') }}
    where not is_claim_level
    group by trace_number, claim_seq, line_seq
),

final as (
    select
        cast(service_lines.remit_service_line_key as {{ text }}) as remit_service_line_key,
        cast(remit_claims.remit_claim_key as {{ text }}) as remit_claim_key,
        cast(service_lines.trace_number as {{ text }}) as trace_number,
        cast(service_lines.claim_seq as {{ dbt.type_int() }}) as claim_seq,
        cast(service_lines.line_seq as {{ dbt.type_int() }}) as line_seq,
        cast(service_lines.account_id as {{ text }}) as account_id,
        cast(service_lines.charge_id as {{ text }}) as charge_id,
        cast(service_lines.procedure_qualifier as {{ text }}) as procedure_qualifier,
        cast(service_lines.procedure_code as {{ text }}) as procedure_code,
        cast(service_lines.modifiers as {{ text }}) as modifiers,
        cast(service_lines.charge_amount as decimal(18, 2)) as charge_amount,
        cast(service_lines.paid_amount as decimal(18, 2)) as paid_amount,
        cast(service_lines.units_paid as decimal(18, 2)) as units_paid,
        cast(coalesce(adjustments.co_amount, 0) as decimal(18, 2))
            as contractual_adjustment_amount,
        cast(coalesce(adjustments.pr_amount, 0) as decimal(18, 2)) as patient_adjustment_amount,
        cast(coalesce(adjustments.other_amount, 0) as decimal(18, 2)) as other_adjustment_amount,
        cast(coalesce(service_lines.paid_amount, 0) + coalesce(adjustments.pr_amount, 0)
            as decimal(18, 2)) as allowed_amount,
        cast(service_lines.service_date as date) as service_date,
        cast(remit_claims.claim_status_code as {{ text }}) as claim_status_code,
        remit_claims.is_denied,
        remit_claims.is_reversal,
        cast(remit_claims.payer_sequence as {{ dbt.type_int() }}) as payer_sequence,
        cast(remit_claims.payer_id as {{ text }}) as payer_id,
        cast(remit_claims.entity as {{ text }}) as entity,
        cast(remit_claims.remit_date as date) as remit_date,
        cast(remit_claims._batch_id as {{ text }}) as _batch_id,
        cast(remit_claims._loaded_at as {{ ts }}) as _loaded_at
    from service_lines
    inner join remit_claims
        on service_lines.trace_number = remit_claims.trace_number
        and service_lines.claim_seq = remit_claims.claim_seq
    left join adjustments
        on service_lines.trace_number = adjustments.trace_number
        and service_lines.claim_seq = adjustments.claim_seq
        and service_lines.line_seq = adjustments.line_seq
)

select * from final
