-- Charge exceptions, one per EHR charge (billable ChargeItems only).
-- LATE_CHARGE: entered after the account's first claim was submitted, whatever it repeats (a
-- charge posted after billing is worked as a late charge: a replacement claim).
-- DUPLICATE_CHARGE: the same service (account, HCPCS, service date, units, amount) charged more
-- than once before billing; every charge after the first entered is the duplicate.
-- UNBILLED_CHARGE: on no line of the account's current claim once the billing window has passed
-- since its entry; a duplicate or a late charge is reported as that, not also as unbilled. An
-- account whose EHR coverage is self-pay (payers.csv payer_type in var self_pay_payer_types) is
-- billed to the patient by statement, never by claim: its charges are not unbilled.
{%- set self_pay = var('self_pay_payer_types') %}
with

self_pay_accounts as (
    select accounts.account_id
    from {{ ref('int_accounts') }} as accounts
    inner join {{ ref('stg_rcm__payers') }} as payers
        on accounts.coverage_payer_id = payers.payer_id
    where payers.payer_type in ('{{ self_pay | join("', '") }}')
),

charges as (
    select
        charges.*,
        accounts.entity,
        current_claims.first_submitted_at,
        row_number() over (
            partition by charges.account_id, charges.hcpcs, charges.service_date, charges.units,
                charges.charge_amount
            order by charges.entered_at nulls last, charges.charge_id
        ) as service_occurrence
    from {{ ref('stg_ehr__charge_items') }} as charges
    left join {{ ref('int_accounts') }} as accounts
        on charges.account_id = accounts.account_id
    left join {{ ref('int_current_claims') }} as current_claims
        on charges.account_id = current_claims.account_id
    where charges.is_billable and charges.account_id is not null
),

unbilled as (
    select account_id, charge_id
    from {{ ref('int_charge_to_claim_lines') }}
    where match_status = 'UNBILLED'
),

classified as (
    select
        charges.*,
        case
            when charges.entered_at > charges.first_submitted_at then 'LATE_CHARGE'
            when charges.service_occurrence > 1 then 'DUPLICATE_CHARGE'
            when unbilled.charge_id is not null
                and charges.account_id not in (select account_id from self_pay_accounts)
                and {{ billops.plus_window('charges.entered_at', 'billing_window_days') }}
                    <= {{ billops.as_of_timestamp() }}
                then 'UNBILLED_CHARGE'
        end as exception_type
    from charges
    left join unbilled
        on charges.account_id = unbilled.account_id
        and charges.charge_id = unbilled.charge_id
),

final as (
    select
        exception_type,
        charge_id as exception_key,
        entity,
        patient_id,
        account_id,
        {{ billops.null_text() }} as claim_id,
        charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        {{ billops.null_text() }} as statement_id,
        charge_amount as amount_at_risk,
        case
            when exception_type = 'UNBILLED_CHARGE'
                then {{ billops.plus_window('entered_at', 'billing_window_days') }}
            else entered_at
        end as detected_at,
        {{ billops.null_text() }} as root_cause
    from classified
    where exception_type is not null
)

select * from final
