{%- set measures = ['charges', 'payer_payments', 'remittance_payments', 'gl_cash_receipts',
                    'bank_deposits', 'patient_payments', 'refunds', 'write_offs',
                    'non_patient_gl_cash', 'non_patient_bank_deposits'] -%}
-- Tie-outs per entity and period, to the cent: EHR charges against billed claims, 835 payments
-- against GL cash receipts and bank deposits, with the open exceptions of each tie-out. Cash that
-- is not patient billing's (vendor payments, payroll, transfers, fees, interest) is shown beside
-- the tie-outs, never in them.
with

movements as (
    select * from {{ ref('int_subledger_movements') }}
),

billed as (
    select
        accounts.entity,
        {{ billops.period_of('accounts.service_date') }} as period,
        sum(recon.charge_amount) as charged_amount,
        sum(recon.billed_amount) as billed_amount,
        sum(recon.unbilled_amount) as unbilled_amount
    from {{ ref('fct_account_reconciliation') }} as recon
    inner join {{ ref('int_accounts') }} as accounts on recon.account_id = accounts.account_id
    group by 1, 2
),

pivoted as (
    select
        entity,
        period,
        {{ billops.sum_by_measure(measures) }}
    from movements
    group by entity, period
),

exceptions as (
    select
        entity,
        {{ billops.period_of('detected_at') }} as period,
        {% for t in ['UNBILLED_CHARGE', 'DENIAL', 'UNDERPAYMENT', 'REMIT_NOT_IN_GL',
                     'GL_AMOUNT_MISMATCH', 'GL_DUPLICATE_POSTING', 'DEPOSIT_MISMATCH',
                     'CREDIT_BALANCE'] -%}
        sum(case when exception_type = '{{ t }}' then amount_at_risk else 0 end)
            as {{ t | lower }}_amount,
        {% endfor -%}
        count(*) as open_exceptions
    from {{ ref('billing_exceptions') }}
    where {{ billops.exception_is_open('status') }} and entity is not null
    group by 1, 2
),

keys as (
    select entity, period from pivoted
    union
    select entity, period from billed
    union
    select entity, period from exceptions
),

final as (
    select
        cast(keys.entity as {{ dbt.type_string() }}) as entity,
        cast(keys.period as {{ dbt.type_string() }}) as period,
        cast(coalesce(billed.charged_amount, 0) as decimal(18, 2)) as charged_amount,
        cast(coalesce(billed.billed_amount, 0) as decimal(18, 2)) as billed_amount,
        cast(coalesce(billed.unbilled_amount, 0) as decimal(18, 2)) as unbilled_amount,
        cast(coalesce(billed.charged_amount, 0) - coalesce(billed.billed_amount, 0)
            as decimal(18, 2)) as charge_to_claim_variance,
        cast(coalesce(pivoted.payer_payments, 0) as decimal(18, 2)) as remit_claim_paid_amount,
        cast(coalesce(pivoted.remittance_payments, 0) as decimal(18, 2)) as remittance_amount,
        cast(coalesce(pivoted.gl_cash_receipts, 0) as decimal(18, 2)) as gl_cash_amount,
        cast(coalesce(pivoted.remittance_payments, 0) - coalesce(pivoted.gl_cash_receipts, 0)
            as decimal(18, 2)) as remit_to_gl_variance,
        cast(coalesce(pivoted.bank_deposits, 0) as decimal(18, 2)) as bank_deposit_amount,
        cast(coalesce(pivoted.remittance_payments, 0) - coalesce(pivoted.bank_deposits, 0)
            as decimal(18, 2)) as remit_to_bank_variance,
        cast(coalesce(pivoted.patient_payments, 0) as decimal(18, 2)) as patient_payment_amount,
        cast(coalesce(pivoted.refunds, 0) as decimal(18, 2)) as refund_amount,
        cast(coalesce(pivoted.write_offs, 0) as decimal(18, 2)) as write_off_amount,
        cast(coalesce(pivoted.non_patient_gl_cash, 0) as decimal(18, 2))
            as non_patient_gl_cash_amount,
        cast(coalesce(pivoted.non_patient_bank_deposits, 0) as decimal(18, 2))
            as non_patient_bank_deposit_amount,
        {% for t in ['unbilled_charge', 'denial', 'underpayment', 'remit_not_in_gl',
                     'gl_amount_mismatch', 'gl_duplicate_posting', 'deposit_mismatch',
                     'credit_balance'] -%}
        cast(coalesce(exceptions.{{ t }}_amount, 0) as decimal(18, 2)) as {{ t }}_amount,
        {% endfor -%}
        cast(coalesce(exceptions.open_exceptions, 0) as {{ dbt.type_int() }}) as open_exceptions
    from keys
    left join pivoted on keys.entity = pivoted.entity and keys.period = pivoted.period
    left join billed on keys.entity = billed.entity and keys.period = billed.period
    left join exceptions on keys.entity = exceptions.entity and keys.period = exceptions.period
)

select * from final
