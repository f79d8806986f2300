-- UNDERPAYMENT, one per account: the latest adjudications, not denials, paid plus patient
-- responsibility short of what the contracts allow by more than the tolerance. The primary's and
-- the secondary's shortfalls are judged in their own models (int_underpayment_primary_shortfalls,
-- int_underpayment_secondary_shortfalls); one UNDERPAYMENT per account sums them.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

-- each payer's shortfall in cents before they are summed
shortfalls as (
    select account_id, cast(shortfall as decimal(38, 2)) as shortfall, detected_at
    from {{ ref('int_underpayment_primary_shortfalls') }}
    union all
    select account_id, cast(shortfall as decimal(38, 2)) as shortfall, detected_at
    from {{ ref('int_underpayment_secondary_shortfalls') }}
),

underpayments as (
    select account_id, sum(shortfall) as amount_at_risk, min(detected_at) as detected_at
    from shortfalls
    group by account_id
),

final as (
    select
        {{ billops.exception_row(
            'UNDERPAYMENT',
            exception_key="underpayments.account_id",
            entity="accounts.entity",
            patient_id="accounts.patient_id",
            account_id="underpayments.account_id",
            claim_id="underpayments.account_id",
            amount_at_risk="underpayments.amount_at_risk",
            detected_at="underpayments.detected_at",
        ) }}
    from underpayments
    left join accounts on underpayments.account_id = accounts.account_id
)

select * from final
