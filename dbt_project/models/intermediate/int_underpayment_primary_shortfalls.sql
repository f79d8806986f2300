{%- set reversal = var('reversal_claim_status_codes') -%}
-- What the primary payer owes and did not pay, one row per account short by more than the
-- tolerance: paid plus patient responsibility against the contract's allowance (the lesser of
-- the charge and the contract's amount), per SVC line of its 835 claim payments where the 835
-- has them (int_remittance_line_allowed), else on the current claim's billed lines when every one
-- has a contract (int_claim_allowed). Its claim payments are the base adjudication's and the
-- latest of each of its add-on claims (CLM05-3 2-5 echoed in CLP09). A denial is a DENIAL, never
-- a shortfall.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

line_allowed as (
    select * from {{ ref('int_remittance_line_allowed') }}
),

line_patient_resp as (
    select * from {{ ref('int_remittance_line_patient_responsibility') }}
),

claim_allowed as (
    select * from {{ ref('int_claim_allowed') }}
    where payer_role = 'PRIMARY'
),

primary_claims as (
    select adjudications.*
    from adjudications
    inner join accounts on adjudications.account_id = accounts.account_id
    where adjudications.primary_trace_number is not null
        and not adjudications.primary_is_denied
),

-- the latest 835 claim payment of each add-on claim (per payer claim control number)
primary_add_on_clps as (
    select account_id, trace_number, claim_seq
    from (
        select
            remit.account_id,
            remit.trace_number,
            remit.claim_seq,
            row_number() over (
                partition by remit.account_id,
                    coalesce(remit.payer_claim_control_number,
                             {{ dbt.concat(['remit.trace_number', "'|'",
                                            'cast(remit.claim_seq as ' ~ dbt.type_string() ~ ')']) }})
                order by remit.remit_date desc nulls last, remit._batch_id desc,
                    remit.trace_number desc, remit.claim_seq desc
            ) as claim_rank
        from {{ ref('int_remit_claims') }} as remit
        inner join primary_claims
            on remit.account_id = primary_claims.account_id
            and remit.payer_id = primary_claims.primary_payer_id
        where remit.claim_frequency_code in ('2', '3', '4', '5')
            and remit.claim_status_code not in ('{{ reversal | join("', '") }}')
            and not coalesce(remit.is_denied, false)
            and not (remit.trace_number = primary_claims.primary_trace_number
                     and remit.claim_seq = primary_claims.primary_claim_seq)
    ) as ranked_add_ons
    where claim_rank = 1
),

primary_clps as (
    select account_id, primary_trace_number as trace_number, primary_claim_seq as claim_seq
    from primary_claims
    union all
    select account_id, trace_number, claim_seq from primary_add_on_clps
),

svc_totals as (
    select
        primary_clps.account_id,
        sum(coalesce(svc.paid_amount, 0) + coalesce(patient_resp.amount, 0)) as actual_amount,
        sum(svc.allowed_amount) as expected_amount
    from primary_clps
    inner join line_allowed as svc
        on primary_clps.account_id = svc.account_id
        and primary_clps.trace_number = svc.trace_number
        and primary_clps.claim_seq = svc.claim_seq
        and svc.payer_role = 'PRIMARY'
    left join line_patient_resp as patient_resp
        on svc.trace_number = patient_resp.trace_number
        and svc.claim_seq = patient_resp.claim_seq
        and svc.line_seq = patient_resp.line_seq
    group by primary_clps.account_id
),

-- an 835 without SVC lines: the claim's paid plus CLP05 against the billed lines' allowance
payment_vs_contract as (
    select account_id, actual_amount, expected_amount from svc_totals
    union all
    select
        primary_claims.account_id,
        coalesce(primary_claims.primary_paid_amount, 0)
            + coalesce(primary_claims.primary_patient_responsibility_amount, 0),
        claim_allowed.allowed_amount
    from primary_claims
    inner join claim_allowed on primary_claims.account_id = claim_allowed.account_id
    where primary_claims.account_id not in (select account_id from svc_totals)
),

final as (
    select
        payment_vs_contract.account_id,
        cast(payment_vs_contract.expected_amount - payment_vs_contract.actual_amount
            as decimal(38, 6)) as shortfall,
        cast(primary_claims.primary_remit_date as {{ dbt.type_timestamp() }}) as detected_at
    from payment_vs_contract
    inner join primary_claims on payment_vs_contract.account_id = primary_claims.account_id
    where payment_vs_contract.expected_amount - payment_vs_contract.actual_amount
        > {{ var('underpayment_tolerance') }}
)

select * from final
