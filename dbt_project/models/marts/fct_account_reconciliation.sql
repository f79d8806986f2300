{#- Portable type names for the casts that the contract checks. -#}
{%- set text = dbt.type_string() -%}
{%- set integer = dbt.type_int() -%}
{%- set ts = dbt.type_timestamp() -%}
-- Charge-to-claim reconciliation, one row per account with EHR charges or billed claim lines,
-- with what its payers paid: the primary and, after it, a secondary payer (coordination of
-- benefits; the claim to the secondary repeats the primary's lines and is not billed twice).
-- Precedence after TIED: UNBILLED, PARTIALLY_BILLED, BILLED_WITHOUT_CHARGE, AMOUNT_VARIANCE.
-- amount_at_risk, age_days and priority_score are computed here once: the work queue
-- (ml.account_priorities) and the close package read them.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

current_claims as (
    select * from {{ ref('int_current_claims') }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

recon_lines as (
    select * from {{ ref('int_charge_to_claim_lines') }}
),

line_totals as (
    select
        account_id,
        sum(case when is_charged then 1 else 0 end) as charge_lines,
        sum(charge_amount) as charge_amount,
        sum(billed_lines) as billed_lines,
        sum(billed_amount) as billed_amount,
        sum(case when is_charged and is_billed then 1 else 0 end) as matched_lines,
        sum(case when is_charged and is_billed then charge_amount else 0 end) as matched_amount,
        sum(case when match_status = 'UNBILLED' then 1 else 0 end) as unbilled_lines,
        sum(case when match_status = 'UNBILLED' then charge_amount else 0 end) as unbilled_amount,
        sum(case when match_status = 'BILLED_NOT_CHARGED' then billed_lines else 0 end)
            as billed_not_charged_lines,
        sum(case when match_status = 'BILLED_NOT_CHARGED' then billed_amount else 0 end)
            as billed_not_charged_amount,
        sum(case when match_status = 'AMOUNT_DIFFERS' then 1 else 0 end) as amount_differs_lines
    from recon_lines
    group by account_id
),

reconciled as (
    select
        line_totals.*,
        accounts.patient_id,
        accounts.entity,
        accounts.facility_id,
        coalesce(current_claims.payer_id, accounts.coverage_payer_id) as payer_id,
        accounts.service_date,
        coalesce(current_claims.claim_count, 0) as claim_count,
        current_claims.first_submitted_at,
        current_claims.last_submitted_at,
        current_claims.secondary_payer_id,
        coalesce(adjudications.total_paid_amount, 0) as payer_paid_amount,
        coalesce(adjudications.total_paid_amount, 0)
            - coalesce(adjudications.secondary_total_paid_amount, 0) as primary_paid_amount,
        coalesce(adjudications.secondary_total_paid_amount, 0) as secondary_paid_amount,
        case
            when current_claims.account_id is null then 'UNBILLED'
            when line_totals.unbilled_lines > 0 then 'PARTIALLY_BILLED'
            when line_totals.billed_not_charged_lines > 0 then 'BILLED_WITHOUT_CHARGE'
            when line_totals.amount_differs_lines > 0 then 'AMOUNT_VARIANCE'
            else 'TIED'
        end as recon_status
    from line_totals
    left join accounts on line_totals.account_id = accounts.account_id
    left join current_claims on line_totals.account_id = current_claims.account_id
    left join adjudications on line_totals.account_id = adjudications.account_id
),

final as (
    select
        cast(account_id as {{ text }}) as account_id,
        cast(patient_id as {{ text }}) as patient_id,
        cast(entity as {{ text }}) as entity,
        cast(facility_id as {{ text }}) as facility_id,
        cast(payer_id as {{ text }}) as payer_id,
        cast(service_date as date) as service_date,
        cast({{ billops.period_of('service_date') }} as {{ text }}) as period,
        cast(charge_lines as {{ integer }}) as charge_lines,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(billed_lines as {{ integer }}) as billed_lines,
        cast(billed_amount as decimal(18, 2)) as billed_amount,
        cast(matched_lines as {{ integer }}) as matched_lines,
        cast(matched_amount as decimal(18, 2)) as matched_amount,
        cast(unbilled_lines as {{ integer }}) as unbilled_lines,
        cast(unbilled_amount as decimal(18, 2)) as unbilled_amount,
        cast(billed_not_charged_lines as {{ integer }}) as billed_not_charged_lines,
        cast(billed_not_charged_amount as decimal(18, 2)) as billed_not_charged_amount,
        cast(charge_amount - billed_amount as decimal(18, 2)) as variance_amount,
        cast(claim_count as {{ integer }}) as claim_count,
        cast(first_submitted_at as {{ ts }}) as first_submitted_at,
        cast(last_submitted_at as {{ ts }}) as last_submitted_at,
        cast(secondary_payer_id as {{ text }}) as secondary_payer_id,
        cast(payer_paid_amount as decimal(18, 2)) as payer_paid_amount,
        cast(primary_paid_amount as decimal(18, 2)) as primary_paid_amount,
        cast(secondary_paid_amount as decimal(18, 2)) as secondary_paid_amount,
        cast(recon_status as {{ text }}) as recon_status,
        cast({{ billops.as_of_timestamp() }} as {{ ts }}) as as_of
    from reconciled
),

-- each dollar once: unbilled, billed without a charge, and the amount difference on lines matched
-- by charge id; from the rounded amounts above, as the work queue and the close package rank them
at_risk as (
    select
        final.*,
        cast(unbilled_amount + billed_not_charged_amount
             + abs(billed_amount - billed_not_charged_amount - matched_amount)
            as decimal(18, 2)) as amount_at_risk,
        cast(greatest({{ dbt.datediff('service_date', 'cast(as_of as date)', 'day') }}, 0)
            as {{ integer }}) as age_days
    from final
),

prioritized as (
    select
        at_risk.*,
        cast(round({{ billops.priority_score('amount_at_risk', 'age_days') }}, 4) as double)
            as priority_score
    from at_risk
)

select * from prioritized
