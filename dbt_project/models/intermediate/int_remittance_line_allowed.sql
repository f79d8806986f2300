-- What the contract allows for each 835 SVC line, for the primary and for the secondary payer of
-- the account (payer_role): the lesser of the line's charge and the contract's amount (units x
-- per-unit amount, else charge x fraction; billed units, else the units paid, else 1), the
-- contract effective on the line's service date (else the account's). Primary: the lines of every
-- 835 claim payment of the account's primary payer (its adjudication and its add-ons'); secondary:
-- the lines of the secondary adjudication. Lines without a contract have no row.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

contracts as (
    select * from {{ ref('stg_rcm__payer_contracts') }}
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

billed_units as (
    select account_id, charge_id, max(units) as units
    from current_lines
    where charge_id is not null
    group by account_id, charge_id
),

-- the 835 claim payments each payer role answers, with the contract's payer
payer_claims as (
    select
        remit.account_id,
        'PRIMARY' as payer_role,
        adjudications.primary_payer_id as payer_id,
        remit.trace_number,
        remit.claim_seq
    from {{ ref('int_remit_claims') }} as remit
    inner join adjudications
        on remit.account_id = adjudications.account_id
        and remit.payer_id = adjudications.primary_payer_id
    where adjudications.primary_trace_number is not null
    union all
    select
        account_id,
        'SECONDARY' as payer_role,
        secondary_payer_id as payer_id,
        secondary_trace_number as trace_number,
        secondary_claim_seq as claim_seq
    from adjudications
    where secondary_trace_number is not null
),

final as (
    select
        payer_claims.account_id,
        payer_claims.payer_role,
        payer_claims.payer_id,
        svc.trace_number,
        svc.claim_seq,
        svc.line_seq,
        svc.charge_id,
        svc.paid_amount,
        least(
            {{ billops.contract_allowed('coalesce(billed_units.units, svc.units_paid, 1)',
                                        'svc.charge_amount') }},
            coalesce(svc.charge_amount,
                     {{ billops.contract_allowed('coalesce(billed_units.units, svc.units_paid, 1)',
                                                 'svc.charge_amount') }})
        ) as allowed_amount
    from payer_claims
    inner join accounts on payer_claims.account_id = accounts.account_id
    inner join {{ ref('stg_rcm__remit_service_lines') }} as svc
        on payer_claims.trace_number = svc.trace_number
        and payer_claims.claim_seq = svc.claim_seq
    left join billed_units
        on svc.account_id = billed_units.account_id
        and svc.charge_id = billed_units.charge_id
    inner join contracts
        on payer_claims.payer_id = contracts.payer_id
        and svc.procedure_code = contracts.hcpcs
        and {{ billops.effective_on('coalesce(svc.service_date, accounts.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
)

select * from final
