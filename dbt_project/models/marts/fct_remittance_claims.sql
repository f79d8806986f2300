{%- set text = dbt.type_string() -%}
{%- set reversal = var('reversal_claim_status_codes') -%}
-- One row per 835 claim payment (CLP), with its CAS adjustments summed by group.
with

adjustments as (
    select
        trace_number,
        claim_seq,
        sum(case when group_code = 'CO' then amount else 0 end) as co_amount,
        sum(case when group_code = 'PR' then amount else 0 end) as pr_amount,
        sum(case when group_code = 'OA' then amount else 0 end) as oa_amount,
        sum(case when group_code = 'PI' then amount else 0 end) as pi_amount,
        sum(amount) as adjustment_amount
    from {{ ref('stg_rcm__remit_adjustments') }}
    group by trace_number, claim_seq
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
        cast(remits.charge_amount as decimal(18, 2)) as charge_amount,
        cast(remits.paid_amount as decimal(18, 2)) as paid_amount,
        cast(remits.patient_responsibility_amount as decimal(18, 2))
            as patient_responsibility_amount,
        cast(coalesce(adjustments.co_amount, 0) as decimal(18, 2)) as contractual_adjustment_amount,
        cast(coalesce(adjustments.pr_amount, 0) as decimal(18, 2)) as patient_adjustment_amount,
        cast(coalesce(adjustments.oa_amount, 0) + coalesce(adjustments.pi_amount, 0)
            as decimal(18, 2)) as other_adjustment_amount,
        cast(remits.payer_claim_control_number as {{ text }}) as payer_claim_control_number,
        cast(remits.paid_date as date) as paid_date,
        cast(remits.remit_date as date) as remit_date
    from {{ ref('int_remit_claims') }} as remits
    left join adjustments
        on remits.trace_number = adjustments.trace_number
        and remits.claim_seq = adjustments.claim_seq
    left join {{ ref('int_accounts') }} as accounts on remits.account_id = accounts.account_id
)

select * from final
