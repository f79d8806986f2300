{%- set reversal = var('reversal_claim_status_codes') -%}
{%- set secondary = var('secondary_claim_status_codes') -%}
-- One row per account with an 835 claim payment: its latest adjudication (reversals, CLP02 = 22,
-- undo an earlier payment and are never the latest word), its latest adjudication by a primary
-- payer (not processed as secondary or tertiary), and its totals over every CLP (reversals net
-- out the payment they reverse).
with

remit_claims as (
    select
        remit_claims.*,
        remit_claims.claim_status_code in ('{{ reversal | join("', '") }}') as is_reversal,
        remit_claims.claim_status_code in ('{{ secondary | join("', '") }}') as is_secondary
    from {{ ref('int_remit_claims') }} as remit_claims
    where remit_claims.account_id is not null
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
        primary_claim.remit_date as primary_remit_date
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
)

select * from final
