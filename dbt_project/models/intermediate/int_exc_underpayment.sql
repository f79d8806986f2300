{%- set reversal = var('reversal_claim_status_codes') -%}
-- UNDERPAYMENT, one per account: the latest primary adjudication, not a denial, paid plus patient
-- responsibility short of what the contract expects by more than the tolerance: the lesser of the
-- charge and the contract's amount (units x per-unit amount, or charge x fraction, effective on
-- the service date), on every payer path. Judged per SVC line where the 835 has them, else on the
-- claim's billed lines when every one has a contract. A secondary payer's adjudication is judged
-- against its own responsibility, never the full contract: per SVC line it owes the primary's
-- patient responsibility up to its contract price less what the primary paid (coordination of
-- benefits), and its payment plus the patient responsibility it leaves must reach that. The
-- primary's add-on claims (CLM05-3 2-5) are judged per SVC line of their own 835 claim payments
-- beside the base adjudication's. A secondary 835 without SVC lines is judged on the current
-- claim's lines when every one has a secondary contract. One UNDERPAYMENT per account sums both
-- payers' shortfalls.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

current_claims as (
    select * from {{ ref('int_current_claims') }}
    where not is_void
),

-- the lines of each current claim: its own and its add-ons' (CLM05-3 2-5 of the same kind of
-- payer, submitted at or after it)
current_lines as (
    select lines.*
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join {{ ref('stg_rcm__claims') }} as claims on lines.claim_key = claims.claim_key
    inner join current_claims
        on {{ billops.counts_toward_current_claim() }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

adjustments as (
    select * from {{ ref('stg_rcm__remit_adjustments') }}
),

contracts as (
    select * from {{ ref('stg_rcm__payer_contracts') }}
),

primary_claims as (
    select adjudications.*, accounts.service_date
    from adjudications
    inner join accounts on adjudications.account_id = accounts.account_id
    where adjudications.primary_trace_number is not null
        and not adjudications.primary_is_denied
),

-- the primary payer's 835 claim payments that count: the base adjudication and the latest CLP
-- of each of its add-on claims (CLM05-3 2-5 echoed in CLP09; per payer claim control number)
primary_add_on_clps as (
    select account_id, trace_number, claim_seq, payer_id, service_date
    from (
        select
            remit.account_id,
            remit.trace_number,
            remit.claim_seq,
            remit.payer_id,
            primary_claims.service_date,
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
    select
        account_id,
        primary_trace_number as trace_number,
        primary_claim_seq as claim_seq,
        primary_payer_id as payer_id,
        service_date
    from primary_claims
    union all
    select account_id, trace_number, claim_seq, payer_id, service_date from primary_add_on_clps
),

billed_units as (
    select lines.account_id, lines.charge_id, max(lines.units) as units
    from current_lines as lines
    where lines.charge_id is not null
    group by lines.account_id, lines.charge_id
),

line_patient_resp as (
    select trace_number, claim_seq, line_seq, sum(amount) as amount
    from adjustments
    where group_code = 'PR' and not is_claim_level
    group by trace_number, claim_seq, line_seq
),

-- per SVC line of the primary adjudication, where the line has a contract
svc_expected as (
    select
        primary_clps.account_id,
        coalesce(svc.paid_amount, 0) + coalesce(line_patient_resp.amount, 0) as actual_amount,
        -- the lesser of the charge and the contract's amount
        least(
            {{ billops.contract_allowed('coalesce(billed_units.units, svc.units_paid, 1)',
                                        'svc.charge_amount') }},
            coalesce(svc.charge_amount,
                     {{ billops.contract_allowed('coalesce(billed_units.units, svc.units_paid, 1)',
                                                 'svc.charge_amount') }})
        ) as expected_amount
    from primary_clps
    inner join {{ ref('stg_rcm__remit_service_lines') }} as svc
        on primary_clps.trace_number = svc.trace_number
        and primary_clps.claim_seq = svc.claim_seq
    left join line_patient_resp
        on svc.trace_number = line_patient_resp.trace_number
        and svc.claim_seq = line_patient_resp.claim_seq
        and svc.line_seq = line_patient_resp.line_seq
    left join billed_units
        on svc.account_id = billed_units.account_id
        and svc.charge_id = billed_units.charge_id
    inner join contracts
        on primary_clps.payer_id = contracts.payer_id
        and svc.procedure_code = contracts.hcpcs
        and {{ billops.effective_on('coalesce(svc.service_date, primary_clps.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
),

svc_totals as (
    select
        account_id,
        sum(actual_amount) as actual_amount,
        sum(expected_amount) as expected_amount
    from svc_expected
    group by account_id
),

-- an 835 without SVC lines: the claim's billed lines, when every one has a contract
claim_line_expected as (
    select
        primary_claims.account_id,
        count(*) as line_count,
        count(contracts.payer_id) as contracted_count,
        sum(least(
            {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }},
            coalesce(lines.charge_amount,
                     {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }})
        )) as expected_amount
    from primary_claims
    inner join current_claims on primary_claims.account_id = current_claims.account_id
    -- the lines of the claim the primary adjudication answers (its add-ons have their own 835)
    inner join {{ ref('stg_rcm__claim_lines') }} as lines
        on current_claims.current_claim_key = lines.claim_key
    left join contracts
        on primary_claims.primary_payer_id = contracts.payer_id
        and lines.hcpcs = contracts.hcpcs
        and {{ billops.effective_on('coalesce(lines.service_date, primary_claims.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
    where primary_claims.account_id not in (select account_id from svc_totals)
    group by primary_claims.account_id
),

payment_vs_contract as (
    select account_id, actual_amount, expected_amount from svc_totals
    union all
    select
        claim_line_expected.account_id,
        coalesce(primary_claims.primary_paid_amount, 0)
            + coalesce(primary_claims.primary_patient_responsibility_amount, 0),
        claim_line_expected.expected_amount
    from claim_line_expected
    inner join primary_claims on claim_line_expected.account_id = primary_claims.account_id
    where claim_line_expected.line_count = claim_line_expected.contracted_count
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
    select adjudications.*, accounts.service_date
    from adjudications
    inner join accounts on adjudications.account_id = accounts.account_id
    where adjudications.secondary_trace_number is not null
        and adjudications.primary_trace_number is not null
        and not adjudications.secondary_is_denied
        and not adjudications.primary_is_denied
),

-- per SVC line of the secondary's adjudication, beside the primary's line of the same charge
secondary_expected as (
    select
        secondary_claims.account_id,
        coalesce(svc.paid_amount, 0) + coalesce(patient_resp.amount, 0) as actual_amount,
        least(
            coalesce(prior_patient_resp.amount, 0),
            greatest(
                0,
                least(
                    {{ billops.contract_allowed('coalesce(billed_units.units, svc.units_paid, 1)',
                                                'svc.charge_amount') }},
                    svc.charge_amount
                ) - coalesce(prior.paid_amount, 0)
            )
        ) as expected_amount,
        secondary_claims.secondary_remit_date
    from secondary_claims
    inner join {{ ref('stg_rcm__remit_service_lines') }} as svc
        on secondary_claims.secondary_trace_number = svc.trace_number
        and secondary_claims.secondary_claim_seq = svc.claim_seq
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
    left join billed_units
        on svc.account_id = billed_units.account_id
        and svc.charge_id = billed_units.charge_id
    inner join contracts
        on secondary_claims.secondary_payer_id = contracts.payer_id
        and svc.procedure_code = contracts.hcpcs
        and {{ billops.effective_on('coalesce(svc.service_date, secondary_claims.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
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

-- a secondary 835 without SVC lines: the current claim's lines, when every one has a secondary
-- contract; the secondary owes the primary's patient responsibility up to its contract price
-- less what the primary paid
secondary_claim_allowed as (
    select
        secondary_claims.account_id,
        count(*) as line_count,
        count(contracts.payer_id) as contracted_count,
        sum(least(
            {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }},
            coalesce(lines.charge_amount,
                     {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }})
        )) as allowed_amount
    from secondary_claims
    inner join current_claims on secondary_claims.account_id = current_claims.account_id
    inner join {{ ref('stg_rcm__claim_lines') }} as lines
        on current_claims.current_claim_key = lines.claim_key
    left join contracts
        on secondary_claims.secondary_payer_id = contracts.payer_id
        and lines.hcpcs = contracts.hcpcs
        and {{ billops.effective_on('coalesce(lines.service_date, secondary_claims.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
    where secondary_claims.account_id not in (select account_id from secondary_expected)
    group by secondary_claims.account_id
),

secondary_claim_shortfalls as (
    select
        secondary_claims.account_id,
        least(
            coalesce(secondary_claims.primary_patient_responsibility_amount, 0),
            greatest(0, secondary_claim_allowed.allowed_amount
                        - coalesce(secondary_claims.primary_paid_amount, 0))
        ) - (coalesce(secondary_claims.secondary_paid_amount, 0)
             + coalesce(secondary_claims.secondary_patient_responsibility_amount, 0)) as shortfall,
        cast(secondary_claims.secondary_remit_date as {{ dbt.type_timestamp() }}) as detected_at
    from secondary_claim_allowed
    inner join secondary_claims
        on secondary_claim_allowed.account_id = secondary_claims.account_id
    where secondary_claim_allowed.line_count = secondary_claim_allowed.contracted_count
),

secondary_shortfalls as (
    select * from secondary_svc_shortfalls
    union all
    select * from secondary_claim_shortfalls
    where shortfall > {{ var('underpayment_tolerance') }}
),

shortfalls as (
    select * from primary_shortfalls
    union all
    select * from secondary_shortfalls
),

underpayments as (
    select
        account_id,
        sum(shortfall) as amount_at_risk,
        min(detected_at) as detected_at
    from shortfalls
    group by account_id
),

final as (
    select
        'UNDERPAYMENT' as exception_type,
        underpayments.account_id as exception_key,
        accounts.entity,
        accounts.patient_id,
        underpayments.account_id,
        underpayments.account_id as claim_id,
        {{ billops.null_text() }} as charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        {{ billops.null_text() }} as statement_id,
        underpayments.amount_at_risk,
        underpayments.detected_at,
        {{ billops.null_text() }} as root_cause
    from underpayments
    left join accounts on underpayments.account_id = accounts.account_id
)

select * from final
