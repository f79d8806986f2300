{{ config(
    materialized='incremental',
    unique_key='remit_claim_key',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set reversal = var('reversal_claim_status_codes') -%}
{%- set secondary = var('secondary_claim_status_codes') -%}
-- One row per 835 claim payment (CLP), with its CAS adjustments summed by group and the payer's
-- place in the order of responsibility. Incremental on the batch lineage: a run rebuilds the
-- CLPs of the traces and accounts its batches touch.
with

remits as (
    select * from {{ ref('int_remit_claims') }}
    {{ billops.incremental_filter('account_id', trace_column='trace_number') }}
),

adjustments as (
    select
        adjustments.trace_number,
        adjustments.claim_seq,
        sum(case when adjustments.group_code = 'CO' then adjustments.amount else 0 end)
            as co_amount,
        sum(case when adjustments.group_code = 'PR' then adjustments.amount else 0 end)
            as pr_amount,
        sum(case when adjustments.group_code = 'OA' then adjustments.amount else 0 end)
            as oa_amount,
        sum(case when adjustments.group_code = 'PI' then adjustments.amount else 0 end)
            as pi_amount,
        sum(adjustments.amount) as adjustment_amount
    from {{ ref('stg_rcm__remit_adjustments') }} as adjustments
    inner join remits
        on adjustments.trace_number = remits.trace_number
        and adjustments.claim_seq = remits.claim_seq
    group by adjustments.trace_number, adjustments.claim_seq
),

loads as (
    {{ billops.batch_loads('rcm') }}
),

final as (
    select
        cast(remits.remit_claim_key as {{ text }}) as remit_claim_key,
        cast(remits.trace_number as {{ text }}) as trace_number,
        cast(remits.account_id as {{ text }}) as account_id,
        cast(remits.claim_seq as {{ dbt.type_int() }}) as claim_seq,
        cast(remits.payer_id as {{ text }}) as payer_id,
        cast(accounts.entity as {{ text }}) as entity,
        cast(remits.claim_status_code as {{ text }}) as claim_status_code,
        remits.is_denied,
        remits.claim_status_code in ('{{ reversal | join("', '") }}') as is_reversal,
        remits.claim_status_code in ('{{ secondary | join("', '") }}') as is_secondary,
        cast(case
            when remits.claim_status_code in ('2', '20') then 2
            when remits.claim_status_code in ('3', '21') then 3
            else 1
        end as {{ dbt.type_int() }}) as payer_sequence,
        cast(remits.charge_amount as decimal(18, 2)) as charge_amount,
        cast(remits.paid_amount as decimal(18, 2)) as paid_amount,
        cast(remits.patient_responsibility_amount as decimal(18, 2))
            as patient_responsibility_amount,
        cast(coalesce(adjustments.co_amount, 0) as decimal(18, 2)) as contractual_adjustment_amount,
        cast(coalesce(adjustments.pr_amount, 0) as decimal(18, 2)) as patient_adjustment_amount,
        cast(coalesce(adjustments.oa_amount, 0) + coalesce(adjustments.pi_amount, 0)
            as decimal(18, 2)) as other_adjustment_amount,
        cast(coalesce(remits.charge_amount, 0) - coalesce(remits.paid_amount, 0)
            - coalesce(adjustments.adjustment_amount, 0) as decimal(18, 2)) as unbalanced_amount,
        cast(remits.payer_claim_control_number as {{ text }}) as payer_claim_control_number,
        cast(remits.paid_date as date) as paid_date,
        cast(remits.remit_date as date) as remit_date,
        cast(remits.payment_date as date) as payment_date,
        cast(remits._batch_id as {{ text }}) as _batch_id,
        cast(loads.loaded_at as {{ ts }}) as _loaded_at
    from remits
    left join adjustments
        on remits.trace_number = adjustments.trace_number
        and remits.claim_seq = adjustments.claim_seq
    left join {{ ref('int_accounts') }} as accounts on remits.account_id = accounts.account_id
    left join loads on remits._batch_id = loads.batch_id
)

select * from final
