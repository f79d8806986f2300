{%- set write_off_types = var('write_off_account_types') -%}
-- Money movements per entity and period ('YYYY-MM' of the movement's own date), one row per
-- (entity, period, measure): the RCM subledger (charges, 835 payments and contractual
-- adjustments of claims not denied, patient payments and refunds: int_account_movements), the
-- GL (cash receipts, AR account movement, every write-off; accounts found by
-- chart_of_accounts.account_type) and the bank. Cash accounts and bank accounts also carry vendor
-- payments, payroll, transfers, fees and interest: a cash line or deposit that references neither
-- a remittance (835 TRN02) nor a patient payment is non-patient cash, kept apart so that it never
-- counts against the remittances.
with

accounts as (
    select account_id, entity from {{ ref('int_accounts') }}
),

remit_claims as (
    select * from {{ ref('int_remit_claims') }}
),

gl_typed as (
    select lines.*, coa.account_type
    from {{ ref('stg_erp__gl_journal_lines') }} as lines
    inner join {{ ref('stg_erp__chart_of_accounts') }} as coa
        on lines.entity = coa.entity and lines.account = coa.account
),

trace_entities as (
    select remit_claims.trace_number, min(accounts.entity) as entity
    from remit_claims
    inner join accounts on remit_claims.account_id = accounts.account_id
    group by remit_claims.trace_number
),

movements as (
    -- the RCM subledger, by the same definitions as the account balances and the KPIs
    select entity, period, measure, amount
    from {{ ref('int_account_movements') }}
    where measure <> 'write_offs'

    union all
    select trace_entities.entity, {{ billops.period_of('remittances.payment_date') }},
        'remittance_payments', remittances.payment_amount
    from {{ ref('stg_rcm__remittances') }} as remittances
    inner join trace_entities on remittances.trace_number = trace_entities.trace_number

    union all
    -- cash receipts of 835 payments (patient cash references a payment id, not a trace)
    select entity, period, 'gl_cash_receipts', net_amount
    from gl_typed
    where account_type = 'CASH'
        and reference in (select trace_number from {{ ref('stg_rcm__remittances') }})

    union all
    select entity, period, 'non_patient_gl_cash', net_amount
    from gl_typed
    where account_type = 'CASH'
        and not exists (
            select 1 from {{ ref('int_gl_cash_receipts') }} as receipts
            where receipts.gl_line_key = gl_typed.gl_line_key
        )

    union all
    select entity, period, 'gl_ar_movement', net_amount
    from gl_typed
    where account_type = 'PATIENT_AR'

    union all
    select entity, period, 'write_offs', net_amount
    from gl_typed
    where account_type in ('{{ write_off_types | join("', '") }}')

    union all
    -- a deposit row is patient cash when a trace it lists (one, or several for a lockbox) is a
    -- remittance's
    select deposits.entity, {{ billops.period_of('deposits.deposit_date') }},
        case when exists (
                select 1
                from {{ ref('stg_erp__bank_deposit_traces') }} as listed
                inner join {{ ref('stg_rcm__remittances') }} as remittances
                    on listed.trace_number = remittances.trace_number
                where listed.deposit_line_key = deposits.deposit_line_key)
             then 'bank_deposits' else 'non_patient_bank_deposits' end,
        deposits.amount
    from {{ ref('stg_erp__bank_deposits') }} as deposits
),

final as (
    select entity, period, measure, sum(coalesce(amount, 0)) as amount
    from movements
    where entity is not null and period is not null
    group by entity, period, measure
)

select * from final
