-- PATIENT_BALANCE_MISMATCH, one per patient statement: the amount due differs from the patient
-- responsibility of the latest adjudication (reversals aside) less patient payments (net of
-- refunds) received by the statement date. Where the latest word is the primary payer's, its
-- add-on claims (CLM05-3 2-4 interim, 5 late charges, each adjudicated on its own) add their
-- patient responsibility to the primary adjudication's; a secondary payer's adjudication
-- replaces them.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

statements as (
    select * from {{ ref('stg_rcm__statements') }}
),

adjudications as (
    select
        adjudications.account_id,
        case
            when coalesce(adjudications.latest_is_secondary, false)
                or adjudications.secondary_trace_number is not null
                or adjudications.primary_trace_number is null
                then coalesce(adjudications.latest_patient_responsibility_amount, 0)
            else coalesce(adjudications.primary_patient_responsibility_amount, 0)
                + coalesce(adjudications.primary_add_on_patient_responsibility_amount, 0)
        end as owed_patient_responsibility_amount
    from {{ ref('int_account_adjudications') }} as adjudications
),

paid_by_statement as (
    select statements.statement_id, sum(payments.amount) as amount
    from statements
    inner join {{ ref('stg_rcm__patient_payments') }} as payments
        on statements.account_id = payments.account_id
        and cast(payments.received_at as date) <= statements.statement_date
    group by statements.statement_id
),

balance as (
    select
        statements.statement_id,
        statements.patient_id,
        statements.account_id,
        abs(statements.amount_due
            - (adjudications.owed_patient_responsibility_amount
               - coalesce(paid_by_statement.amount, 0))) as amount_at_risk,
        statements.statement_date
    from statements
    inner join adjudications on statements.account_id = adjudications.account_id
    left join paid_by_statement on statements.statement_id = paid_by_statement.statement_id
    where {{ billops.amounts_differ(
        'statements.amount_due',
        'adjudications.owed_patient_responsibility_amount - coalesce(paid_by_statement.amount, 0)'
    ) }}
),

final as (
    select
        {{ billops.exception_row(
            'PATIENT_BALANCE_MISMATCH',
            exception_key="balance.statement_id",
            entity="accounts.entity",
            patient_id="balance.patient_id",
            account_id="balance.account_id",
            statement_id="balance.statement_id",
            amount_at_risk="cast(balance.amount_at_risk as decimal(38, 2))",
            detected_at="cast(balance.statement_date as " ~ dbt.type_timestamp() ~ ")",
        ) }}
    from balance
    left join accounts on balance.account_id = accounts.account_id
)

select * from final
