-- DENIAL, one per account: the latest adjudication (reversals aside) is a denial; root_cause is
-- the CAS group and reason code of its largest adjustment (code values only). A secondary payer's
-- denial puts at risk what it was billed for: the primary's patient responsibility.
with

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
    where latest_is_denied
),

denial_reasons as (
    select
        adjudications.account_id,
        {{ dbt.concat(['adjustments.group_code', "'-'", 'adjustments.reason_code']) }} as reason,
        row_number() over (
            partition by adjudications.account_id
            order by abs(adjustments.amount) desc, adjustments.line_seq, adjustments.adj_seq
        ) as reason_rank
    from adjudications
    inner join {{ ref('stg_rcm__remit_adjustments') }} as adjustments
        on adjudications.latest_trace_number = adjustments.trace_number
        and adjudications.latest_claim_seq = adjustments.claim_seq
),

denials as (
    select
        adjudications.account_id,
        case
            when adjudications.latest_is_secondary
                then coalesce(adjudications.primary_patient_responsibility_amount,
                              adjudications.latest_charge_amount)
            else adjudications.latest_charge_amount
        end as amount_at_risk,
        cast(adjudications.latest_remit_date as {{ dbt.type_timestamp() }}) as detected_at,
        denial_reasons.reason as root_cause
    from adjudications
    left join denial_reasons
        on adjudications.account_id = denial_reasons.account_id
        and denial_reasons.reason_rank = 1
),

final as (
    select
        {#- decimal(38, 2): the type the claim rules have always returned -#}
        {{ billops.exception_row(
            'DENIAL',
            exception_key="denials.account_id",
            entity="accounts.entity",
            patient_id="accounts.patient_id",
            account_id="denials.account_id",
            claim_id="denials.account_id",
            amount_at_risk="cast(denials.amount_at_risk as decimal(38, 2))",
            detected_at="denials.detected_at",
            root_cause="denials.root_cause",
        ) }}
    from denials
    left join {{ ref('int_accounts') }} as accounts on denials.account_id = accounts.account_id
)

select * from final
