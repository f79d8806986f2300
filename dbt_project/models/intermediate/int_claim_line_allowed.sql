-- What the contract allows for each billed line of the account's current claim (its own lines,
-- not its add-ons'), for the primary and for the secondary payer that adjudicated it
-- (payer_role): the lesser of the line's charge and the contract's amount (units x per-unit
-- amount, else charge x fraction), the contract effective on the line's service date (else the
-- account's). A line without a contract has a row with has_contract false and no amount.
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

payer_roles as (
    select account_id, 'PRIMARY' as payer_role, primary_payer_id as payer_id
    from adjudications
    where primary_trace_number is not null
    union all
    select account_id, 'SECONDARY' as payer_role, secondary_payer_id as payer_id
    from adjudications
    where secondary_trace_number is not null
),

final as (
    select
        payer_roles.account_id,
        payer_roles.payer_role,
        payer_roles.payer_id,
        lines.claim_key,
        lines.line_number,
        lines.charge_id,
        contracts.payer_id is not null as has_contract,
        case when contracts.payer_id is not null then least(
            {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }},
            coalesce(lines.charge_amount,
                     {{ billops.contract_allowed('lines.units', 'lines.charge_amount') }})
        ) end as allowed_amount
    from payer_roles
    inner join accounts on payer_roles.account_id = accounts.account_id
    inner join current_claims on payer_roles.account_id = current_claims.account_id
    inner join {{ ref('stg_rcm__claim_lines') }} as lines
        on current_claims.current_claim_key = lines.claim_key
    left join contracts
        on payer_roles.payer_id = contracts.payer_id
        and lines.hcpcs = contracts.hcpcs
        and {{ billops.effective_on('coalesce(lines.service_date, accounts.service_date)',
                                    'contracts.effective_from', 'contracts.effective_to') }}
)

select * from final
