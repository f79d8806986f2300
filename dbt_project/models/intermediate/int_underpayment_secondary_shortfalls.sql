-- What the secondary payer owes and did not pay, one row per account short by more than the
-- tolerance. A secondary is judged against its own responsibility, never its full contract
-- (coordination of benefits): per SVC line it owes the primary's patient responsibility up to its
-- allowance less what the primary paid, and its payment plus the patient responsibility it leaves
-- must reach that. A secondary 835 without SVC lines is judged on the current claim's billed
-- lines when every one has a secondary contract (int_claim_allowed). A denial is a DENIAL.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

line_allowed as (
    select * from {{ ref('int_remittance_line_allowed') }}
    where payer_role = 'SECONDARY'
),

line_patient_resp as (
    select * from {{ ref('int_remittance_line_patient_responsibility') }}
),

claim_allowed as (
    select * from {{ ref('int_claim_allowed') }}
    where payer_role = 'SECONDARY'
),

secondary_claims as (
    select adjudications.*
    from adjudications
    inner join accounts on adjudications.account_id = accounts.account_id
    where adjudications.primary_trace_number is not null
        and not adjudications.primary_is_denied
        and adjudications.secondary_trace_number is not null
        and not adjudications.secondary_is_denied
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
    inner join line_allowed as svc on secondary_claims.account_id = svc.account_id
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

svc_shortfalls as (
    select
        account_id,
        sum(expected_amount) - sum(actual_amount) as shortfall,
        cast(max(secondary_remit_date) as {{ dbt.type_timestamp() }}) as detected_at
    from secondary_expected
    group by account_id
),

-- an 835 without SVC lines: it owes the primary's patient responsibility up to the billed lines'
-- allowance less what the primary paid
claim_shortfalls as (
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
    inner join claim_allowed on secondary_claims.account_id = claim_allowed.account_id
    where secondary_claims.account_id not in (select account_id from secondary_expected)
),

final as (
    select account_id, cast(shortfall as decimal(38, 6)) as shortfall, detected_at
    from svc_shortfalls
    where shortfall > {{ var('underpayment_tolerance') }}
    union all
    select account_id, cast(shortfall as decimal(38, 6)) as shortfall, detected_at
    from claim_shortfalls
    where shortfall > {{ var('underpayment_tolerance') }}
)

select * from final
