-- 835 claim payments with their remittance (payer, trace, payment date): the link from an
-- account to the cash it received, used to tie remittances to the GL and the bank. The payer is
-- the resolved one (int_remittance_payers): 835s do not always name it.
with

remit_claims as (
    select * from {{ ref('stg_rcm__remit_claims') }}
),

remittances as (
    select * from {{ ref('stg_rcm__remittances') }}
),

final as (
    select
        remit_claims.remit_claim_key,
        remit_claims.trace_number,
        remit_claims.claim_seq,
        remit_claims.account_id,
        payers.payer_id,
        remit_claims.claim_status_code,
        remit_claims.is_denied,
        remit_claims.claim_frequency_code,
        remit_claims.payer_claim_control_number,
        remit_claims.charge_amount,
        remit_claims.paid_amount,
        remit_claims.patient_responsibility_amount,
        remit_claims.paid_date,
        remittances.payment_date,
        remittances.production_date,
        coalesce(remit_claims.paid_date, remittances.production_date, remittances.payment_date)
            as remit_date,
        remittances.payment_amount as remittance_payment_amount,
        remit_claims._batch_id,
        remit_claims._file,
        remit_claims._record
    from remit_claims
    inner join remittances on remit_claims.trace_number = remittances.trace_number
    left join {{ ref('int_remittance_payers') }} as payers
        on remit_claims.trace_number = payers.trace_number
)

select * from final
