-- Each 835 payment (trace number) that moves money, signed: BPR03 = D (debit) is money going
-- back to the payer (a takeback), negative here. A zero payment (an 835 that only denies or
-- adjusts) needs no cash posting or deposit and is left out. entity is the first GL entity of the
-- accounts it pays; patient_id is set when it pays a single account. Shared by the cash rules
-- (int_exc_remit_not_in_gl, int_exc_gl_amount_mismatch, int_exc_gl_duplicate_posting,
-- int_exc_deposit_mismatch) and int_remittance_live_postings.
select
    remittances.trace_number,
    case when upper(coalesce(remittances.credit_debit, 'C')) = 'D'
         then -remittances.payment_amount
         else remittances.payment_amount end as payment_amount,
    remittances.payment_date,
    payee.entity,
    payee.patient_id
from {{ ref('stg_rcm__remittances') }} as remittances
left join (
    select
        remit_claims.trace_number,
        min(accounts.entity) as entity,
        case when count(distinct remit_claims.account_id) = 1
             then min(accounts.patient_id) end as patient_id
    from {{ ref('int_remit_claims') }} as remit_claims
    inner join {{ ref('int_accounts') }} as accounts
        on remit_claims.account_id = accounts.account_id
    group by remit_claims.trace_number
) as payee on remittances.trace_number = payee.trace_number
where {{ billops.amounts_differ('remittances.payment_amount', '0') }}
