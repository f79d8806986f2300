{%- set reversal = var('reversal_claim_status_codes') -%}
{%- set secondary = var('secondary_claim_status_codes') -%}
-- One row per account with an 835 claim payment: its latest adjudication (reversals, CLP02 = 22,
-- undo an earlier payment and are never the latest word), its latest adjudication by a primary
-- payer, its latest adjudication by a secondary payer, and its totals over every CLP (reversals
-- net out the payment they reverse). A CLP is the secondary's when it says so (CLP02 2, 3, 20,
-- 21: var secondary_claim_status_codes) or when its payer was billed for the account only by
-- claims to a secondary payer (837 SBR01 other than P): a secondary's denial (CLP02 = 4) is
-- still the secondary's.
with

secondary_payers as (
    select account_id, payer_id
    from {{ ref('stg_rcm__claims') }}
    where account_id is not null and payer_id is not null
    group by account_id, payer_id
    having min(case when is_secondary then 1 else 0 end) = 1
),

remit_claims as (
    select
        remit_claims.*,
        remit_claims.claim_status_code in ('{{ reversal | join("', '") }}') as is_reversal,
        remit_claims.claim_status_code in ('{{ secondary | join("', '") }}')
            or secondary_payers.account_id is not null as is_secondary
    from {{ ref('int_remit_claims') }} as remit_claims
    left join secondary_payers
        on remit_claims.account_id = secondary_payers.account_id
        and remit_claims.payer_id = secondary_payers.payer_id
    where remit_claims.account_id is not null
),

-- CAS CO and PI of each CLP: what the payer allowed off the charge
contractual as (
    select trace_number, claim_seq, sum(amount) as amount
    from {{ ref('stg_rcm__remit_adjustments') }}
    where group_code in ('CO', 'PI')
    group by trace_number, claim_seq
),

ranked as (
    select
        remit_claims.*,
        row_number() over (
            partition by account_id, is_reversal
            order by remit_date desc nulls last, _batch_id desc, trace_number desc,
                claim_seq desc
        ) as latest_rank,
        row_number() over (
            partition by account_id, is_reversal, is_secondary
            order by remit_date desc nulls last, _batch_id desc, trace_number desc,
                claim_seq desc
        ) as latest_of_kind_rank
    from remit_claims
),

totals as (
    select
        account_id,
        count(*) as remit_claim_count,
        sum(coalesce(paid_amount, 0)) as total_paid_amount,
        sum(case when is_secondary then coalesce(paid_amount, 0) else 0 end)
            as secondary_total_paid_amount,
        min(remit_date) as first_remit_date
    from remit_claims
    group by account_id
),

final as (
    select
        totals.*,
        latest.trace_number as latest_trace_number,
        latest.claim_seq as latest_claim_seq,
        latest.payer_id as latest_payer_id,
        latest.claim_status_code as latest_claim_status_code,
        coalesce(latest.is_secondary, false) as latest_is_secondary,
        latest.is_denied as latest_is_denied,
        latest.charge_amount as latest_charge_amount,
        latest.paid_amount as latest_paid_amount,
        latest.patient_responsibility_amount as latest_patient_responsibility_amount,
        latest.remit_date as latest_remit_date,
        primary_claim.trace_number as primary_trace_number,
        primary_claim.claim_seq as primary_claim_seq,
        primary_claim.payer_id as primary_payer_id,
        primary_claim.is_denied as primary_is_denied,
        primary_claim.charge_amount as primary_charge_amount,
        primary_claim.paid_amount as primary_paid_amount,
        primary_claim.patient_responsibility_amount as primary_patient_responsibility_amount,
        primary_claim.remit_date as primary_remit_date,
        secondary_claim.trace_number as secondary_trace_number,
        secondary_claim.claim_seq as secondary_claim_seq,
        secondary_claim.payer_id as secondary_payer_id,
        secondary_claim.is_denied as secondary_is_denied,
        secondary_claim.paid_amount as secondary_paid_amount,
        secondary_claim.patient_responsibility_amount as secondary_patient_responsibility_amount,
        case when secondary_claim.trace_number is not null
            then coalesce(secondary_contractual.amount, 0) end as secondary_contractual_amount,
        secondary_claim.remit_date as secondary_remit_date
    from totals
    left join ranked as latest
        on totals.account_id = latest.account_id
        and not latest.is_reversal
        and latest.latest_rank = 1
    left join ranked as primary_claim
        on totals.account_id = primary_claim.account_id
        and not primary_claim.is_reversal
        and not primary_claim.is_secondary
        and primary_claim.latest_of_kind_rank = 1
    left join ranked as secondary_claim
        on totals.account_id = secondary_claim.account_id
        and not secondary_claim.is_reversal
        and secondary_claim.is_secondary
        and secondary_claim.latest_of_kind_rank = 1
    left join contractual as secondary_contractual
        on secondary_claim.trace_number = secondary_contractual.trace_number
        and secondary_claim.claim_seq = secondary_contractual.claim_seq
)

select * from final
