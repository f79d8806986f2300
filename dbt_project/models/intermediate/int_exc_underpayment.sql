{%- set reversal = var('reversal_claim_status_codes') -%}
-- UNDERPAYMENT, one per account: the latest primary adjudication, not a denial, paid plus patient
-- responsibility short of what the contract allows by more than the tolerance (the allowance, the
-- lesser of the charge and the contract's amount, is int_remittance_line_allowed per SVC line and
-- int_claim_line_allowed per billed line, for either payer). Judged per SVC line where the 835
-- has them, else on the claim's billed lines when every one has a contract. A secondary payer's
-- adjudication is judged against its own responsibility, never the full contract: per SVC line it
-- owes the primary's patient responsibility up to its allowance less what the primary paid
-- (coordination of benefits), and its payment plus the patient responsibility it leaves must
-- reach that. The primary's add-on claims (CLM05-3 2-5) are judged per SVC line of their own 835
-- claim payments beside the base adjudication's. A secondary 835 without SVC lines is judged on
-- the current claim's lines when every one has a secondary contract. One UNDERPAYMENT per account
-- sums both payers' shortfalls.
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

claim_line_allowed as (
    select * from {{ ref('int_claim_line_allowed') }}
),

primary_claims as (
    select adjudications.*
    from adjudications
    inner join accounts on adjudications.account_id = accounts.account_id
    where adjudications.primary_trace_number is not null
        and not adjudications.primary_is_denied
),

-- the primary payer's 835 claim payments that count: the base adjudication and the latest CLP
-- of each of its add-on claims (CLM05-3 2-5 echoed in CLP09; per payer claim control number)
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

line_patient_resp as (
    select trace_number, claim_seq, line_seq, sum(amount) as amount
    from {{ ref('stg_rcm__remit_adjustments') }}
    where group_code = 'PR' and not is_claim_level
    group by trace_number, claim_seq, line_seq
),

-- per SVC line of the primary's 835 claim payments, where the line has a contract
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

-- the current claim's billed lines of a payer's adjudication when every one has a contract
claim_allowed as (
    select account_id, payer_role, sum(allowed_amount) as allowed_amount
    from claim_line_allowed
    group by account_id, payer_role
    having count(*) = count(case when has_contract then 1 end)
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
    inner join claim_allowed
        on primary_claims.account_id = claim_allowed.account_id
        and claim_allowed.payer_role = 'PRIMARY'
    where primary_claims.account_id not in (select account_id from svc_totals)
),

primary_shortfalls as (
    select
        payment_vs_contract.account_id,
        payment_vs_contract.expected_amount - payment_vs_contract.actual_amount as shortfall,
        cast(primary_claims.primary_remit_date as {{ dbt.type_timestamp() }}) as detected_at
    from payment_vs_contract
    inner join primary_claims on payment_vs_contract.account_id = primary_claims.account_id
    where payment_vs_contract.expected_amount - payment_vs_contract.actual_amount
        > {{ var('underpayment_tolerance') }}
),

secondary_claims as (
    select * from primary_claims
    where secondary_trace_number is not null and not secondary_is_denied
),

-- per SVC line of the secondary's adjudication, beside the primary's line of the same charge
secondary_expected as (
    select
        secondary_claims.account_id,
        coalesce(svc.paid_amount, 0) + coalesce(patient_resp.amount, 0) as actual_amount,
        least(
            coalesce(prior_patient_resp.amount, 0),
            greatest(0, svc.allowed_amount - coalesce(prior.paid_amount, 0))
        ) as expected_amount,
        secondary_claims.secondary_remit_date
    from secondary_claims
    inner join line_allowed as svc
        on secondary_claims.account_id = svc.account_id
        and svc.payer_role = 'SECONDARY'
    inner join {{ ref('stg_rcm__remit_service_lines') }} as prior
        on secondary_claims.primary_trace_number = prior.trace_number
        and secondary_claims.primary_claim_seq = prior.claim_seq
        and svc.charge_id = prior.charge_id
    left join line_patient_resp as patient_resp
        on svc.trace_number = patient_resp.trace_number
        and svc.claim_seq = patient_resp.claim_seq
        and svc.line_seq = patient_resp.line_seq
    left join line_patient_resp as prior_patient_resp
        on prior.trace_number = prior_patient_resp.trace_number
        and prior.claim_seq = prior_patient_resp.claim_seq
        and prior.line_seq = prior_patient_resp.line_seq
),

secondary_svc_shortfalls as (
    select
        account_id,
        sum(expected_amount) - sum(actual_amount) as shortfall,
        cast(max(secondary_remit_date) as {{ dbt.type_timestamp() }}) as detected_at
    from secondary_expected
    group by account_id
    having sum(expected_amount) - sum(actual_amount) > {{ var('underpayment_tolerance') }}
),

-- a secondary 835 without SVC lines: it owes the primary's patient responsibility up to the
-- billed lines' allowance less what the primary paid
secondary_claim_shortfalls as (
    select
        secondary_claims.account_id,
        least(
            coalesce(secondary_claims.primary_patient_responsibility_amount, 0),
            greatest(0, claim_allowed.allowed_amount
                        - coalesce(secondary_claims.primary_paid_amount, 0))
        ) - (coalesce(secondary_claims.secondary_paid_amount, 0)
             + coalesce(secondary_claims.secondary_patient_responsibility_amount, 0)) as shortfall,
        cast(secondary_claims.secondary_remit_date as {{ dbt.type_timestamp() }}) as detected_at
    from secondary_claims
    inner join claim_allowed
        on secondary_claims.account_id = claim_allowed.account_id
        and claim_allowed.payer_role = 'SECONDARY'
    where secondary_claims.account_id not in (select account_id from secondary_expected)
),

shortfalls as (
    select * from primary_shortfalls
    union all
    select * from secondary_svc_shortfalls
    union all
    select * from secondary_claim_shortfalls
    where shortfall > {{ var('underpayment_tolerance') }}
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
