{%- set reversal = var('reversal_claim_status_codes') -%}
{%- set secondary = var('secondary_claim_status_codes') -%}
-- One row per account with an 835 claim payment: its latest adjudication (reversals, CLP02 = 22,
-- undo an earlier payment and are never the latest word), its latest adjudication by a primary
-- payer, its latest adjudication by a secondary payer, and its totals over every CLP (reversals
-- net out the payment they reverse). A CLP is the secondary's when it says so (CLP02 2, 3, 20,
-- 21: var secondary_claim_status_codes) or when its payer was billed for the account only by
-- claims to a secondary payer (837 SBR01 other than P): a secondary's denial (CLP02 = 4) is
-- still the secondary's.
-- Claim frequency (CLP09 echoes CLM05-3): an 835 claim of an add-on claim (2, 3, 4 interim, 5 late
-- charges) adds to the claim it belongs to. The primary adjudication is the latest primary CLP of
-- an original or replacement (an add-on only when the account has no other), and the primary's
-- add-ons are summed beside it (primary_add_on_*: the latest CLP per payer claim control number,
-- CLP07), so what the payer allowed is the base's plus its add-ons'.
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
            or secondary_payers.account_id is not null as is_secondary,
        coalesce(remit_claims.claim_frequency_code in ('2', '3', '4', '5'), false) as is_add_on
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
            order by case when is_add_on then 1 else 0 end,
                remit_date desc nulls last, _batch_id desc, trace_number desc,
                claim_seq desc
        ) as latest_of_kind_rank,
        row_number() over (
            partition by account_id, is_reversal, is_secondary, is_add_on,
                coalesce(payer_claim_control_number,
                         {{ dbt.concat(['trace_number', "'|'", 'cast(claim_seq as ' ~ dbt.type_string() ~ ')']) }})
            order by remit_date desc nulls last, _batch_id desc, trace_number desc,
                claim_seq desc
        ) as latest_of_claim_rank
    from remit_claims
),

-- the add-ons of the primary adjudication: every other primary add-on claim, latest CLP each
primary_add_ons as (
    select
        account_id,
        count(*) as primary_add_on_claim_count,
        sum(coalesce(charge_amount, 0)) as primary_add_on_charge_amount,
        sum(coalesce(paid_amount, 0)) as primary_add_on_paid_amount,
        sum(coalesce(patient_responsibility_amount, 0))
            as primary_add_on_patient_responsibility_amount
    from ranked
    where is_add_on
        and not is_reversal
        and not is_secondary
        and latest_of_claim_rank = 1
        and latest_of_kind_rank > 1
    group by account_id
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
        coalesce(primary_add_ons.primary_add_on_claim_count, 0) as primary_add_on_claim_count,
        primary_add_ons.primary_add_on_charge_amount,
        primary_add_ons.primary_add_on_paid_amount,
        primary_add_ons.primary_add_on_patient_responsibility_amount,
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
    left join primary_add_ons on totals.account_id = primary_add_ons.account_id
    left join contractual as secondary_contractual
        on secondary_claim.trace_number = secondary_contractual.trace_number
        and secondary_claim.claim_seq = secondary_contractual.claim_seq
)

select * from final
