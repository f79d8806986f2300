-- CREDIT_BALANCE, one per account: payer payments over every 835 claim (reversals net out) plus
-- patient payments net of refunds exceed what the account owes: the primary payer's allowed
-- amount (paid plus patient responsibility) less what a secondary payer allowed off the rest (its
-- CAS CO and PI: Medicaid's payment accepted in full), or the EHR charges when no payer has
-- adjudicated it; an account with neither is not judged yet. Both payers' payments count, so a
-- secondary that pays more than the primary left is a credit balance too. The primary's add-on
-- claims (CLM05-3 2-4 interim, 5 late charges) add what they allowed (paid plus patient
-- responsibility) to what is owed, as their payments add to what was received.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

charges as (
    select account_id, sum(charge_amount) as charge_amount
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null
    group by account_id
),

patient_paid as (
    select account_id, sum(amount) as amount, max(received_at) as last_received_at
    from {{ ref('stg_rcm__patient_payments') }}
    where account_id is not null
    group by account_id
),

account_balances as (
    select
        coalesce(adjudications.account_id, patient_paid.account_id) as account_id,
        coalesce(adjudications.total_paid_amount, 0) + coalesce(patient_paid.amount, 0)
            as paid_amount,
        case
            when adjudications.primary_trace_number is not null
                then coalesce(adjudications.primary_paid_amount, 0)
                    + coalesce(adjudications.primary_patient_responsibility_amount, 0)
                    + coalesce(adjudications.primary_add_on_paid_amount, 0)
                    + coalesce(adjudications.primary_add_on_patient_responsibility_amount, 0)
                    - coalesce(adjudications.secondary_contractual_amount, 0)
            else coalesce(charges.charge_amount, 0)
        end as owed_amount,
        adjudications.primary_trace_number is not null or charges.account_id is not null
            as is_judged,
        greatest(
            coalesce(cast(adjudications.latest_remit_date as {{ dbt.type_timestamp() }}),
                     patient_paid.last_received_at),
            coalesce(patient_paid.last_received_at,
                     cast(adjudications.latest_remit_date as {{ dbt.type_timestamp() }}))
        ) as last_paid_at
    from adjudications
    full outer join patient_paid on adjudications.account_id = patient_paid.account_id
    left join charges
        on coalesce(adjudications.account_id, patient_paid.account_id) = charges.account_id
),

final as (
    select
        {{ billops.exception_row(
            'CREDIT_BALANCE',
            exception_key="account_balances.account_id",
            entity="accounts.entity",
            patient_id="accounts.patient_id",
            account_id="account_balances.account_id",
            amount_at_risk="cast(account_balances.paid_amount - account_balances.owed_amount"
                           ~ " as decimal(38, 2))",
            detected_at="account_balances.last_paid_at",
        ) }}
    from account_balances
    left join accounts on account_balances.account_id = accounts.account_id
    where account_balances.paid_amount - account_balances.owed_amount > 0.005
        -- a payment before any charge or adjudication (a copay at registration) is no credit yet
        and account_balances.is_judged
)

select * from final
