{%- set write_off_types = var('write_off_account_types') -%}
-- The RCM subledger of each account: one row per money movement that changes what the account
-- owes, dated by its own event, with the sign the AR roll-forward adds it with.
--   charges                  billable EHR charges, on their entry date
--   payer_payments           835 CLP04, on the remittance date (a reversal's negative amount
--                            takes back the payment it reverses)
--   contractual_adjustments  835 CAS of groups CO and PI on claims the payer did not deny: a
--                            denial's adjustments leave the balance in AR until it is appealed
--                            or written off; PR moves the balance to the patient, OA does not
--                            reduce it
--   patient_payments         patient payments received
--   refunds                  patient refunds issued (amount as a positive number)
--   write_offs               GL lines of write-off accounts (var write_off_account_types, found
--                            by account_type) whose journal references the account
with

accounts as (
    select account_id, entity from {{ ref('int_accounts') }}
),

remit_claims as (
    select * from {{ ref('int_remit_claims') }}
    where account_id is not null
),

charges as (
    select
        account_id,
        cast(entered_at as date) as movement_date,
        'charges' as measure,
        charge_amount as amount,
        charge_id as source_key,
        {{ billops.null_text() }} as trace_number
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null and entered_at is not null
),

payer_payments as (
    select
        account_id,
        remit_date as movement_date,
        'payer_payments' as measure,
        coalesce(paid_amount, 0) as amount,
        remit_claim_key as source_key,
        trace_number
    from remit_claims
),

contractual as (
    select
        remit_claims.account_id,
        remit_claims.remit_date as movement_date,
        'contractual_adjustments' as measure,
        sum(adjustments.amount) as amount,
        remit_claims.remit_claim_key as source_key,
        remit_claims.trace_number
    from remit_claims
    inner join {{ ref('stg_rcm__remit_adjustments') }} as adjustments
        on remit_claims.trace_number = adjustments.trace_number
        and remit_claims.claim_seq = adjustments.claim_seq
    where adjustments.group_code in ('CO', 'PI')
        and not remit_claims.is_denied
    group by remit_claims.account_id, remit_claims.remit_date, remit_claims.remit_claim_key,
        remit_claims.trace_number
),

patient_payments as (
    select
        account_id,
        cast(received_at as date) as movement_date,
        case when is_refund then 'refunds' else 'patient_payments' end as measure,
        abs(amount) as amount,
        payment_id as source_key,
        {{ billops.null_text() }} as trace_number
    from {{ ref('stg_rcm__patient_payments') }}
    where account_id is not null
),

write_offs as (
    select
        lines.reference as account_id,
        lines.posting_date as movement_date,
        'write_offs' as measure,
        lines.net_amount as amount,
        lines.gl_line_key as source_key,
        {{ billops.null_text() }} as trace_number
    from {{ ref('stg_erp__gl_journal_lines') }} as lines
    inner join {{ ref('stg_erp__chart_of_accounts') }} as chart
        on lines.entity = chart.entity and lines.account = chart.account
    where chart.account_type in ('{{ write_off_types | join("', '") }}')
        and lines.reference in (select account_id from accounts)
),

movements as (
    select * from charges
    union all select * from payer_payments
    union all select * from contractual
    union all select * from patient_payments
    union all select * from write_offs
),

final as (
    select
        movements.account_id,
        accounts.entity,
        movements.movement_date,
        {{ billops.period_of('movements.movement_date') }} as period,
        movements.measure,
        movements.amount,
        case when movements.measure in ('charges', 'refunds') then 1 else -1 end
            * movements.amount as ar_effect,
        movements.source_key,
        movements.trace_number
    from movements
    inner join accounts on movements.account_id = accounts.account_id
    where movements.movement_date is not null
)

select * from final
