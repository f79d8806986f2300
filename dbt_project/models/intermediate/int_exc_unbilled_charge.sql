-- UNBILLED_CHARGE, one per EHR charge (billable ChargeItems only): on no line of the account's
-- current claim (with its add-ons) once the billing window has passed since its entry; detected
-- as the window closes. A duplicate or a late charge is reported as that (int_exc_duplicate_charge,
-- int_exc_late_charge), not also as unbilled. A self-pay account (int_accounts.is_self_pay: its
-- Coverage's payor is the Patient or its patient has none, or payers.csv payer_type in var
-- self_pay_payer_types) is billed to the patient by statement, never by claim: its charges are not
-- unbilled, unless the account was billed by claim all the same (then a charge left off the claim
-- is unbilled).
{%- set self_pay = var('self_pay_payer_types') %}
with

self_pay_accounts as (
    select accounts.account_id
    from {{ ref('int_accounts') }} as accounts
    left join {{ ref('stg_rcm__payers') }} as payers
        on accounts.coverage_payer_id = payers.payer_id
    where (coalesce(accounts.is_self_pay, false)
            or payers.payer_type in ('{{ self_pay | join("', '") }}'))
        -- an account billed by claim all the same is judged as one
        and accounts.account_id not in (
            select account_id from {{ ref('int_current_claims') }} where account_id is not null
        )
),

reported_otherwise as (
    select account_id, charge_id from {{ ref('int_exc_late_charge') }}
    union all
    select account_id, charge_id from {{ ref('int_exc_duplicate_charge') }}
),

unbilled as (
    select charges.*, accounts.entity
    from {{ ref('stg_ehr__charge_items') }} as charges
    inner join {{ ref('int_charge_to_claim_lines') }} as matched
        on charges.account_id = matched.account_id
        and charges.charge_id = matched.charge_id
    left join {{ ref('int_accounts') }} as accounts
        on charges.account_id = accounts.account_id
    left join reported_otherwise
        on charges.account_id = reported_otherwise.account_id
        and charges.charge_id = reported_otherwise.charge_id
    where charges.is_billable
        and charges.account_id is not null
        and matched.match_status = 'UNBILLED'
        and reported_otherwise.charge_id is null
        and charges.account_id not in (select account_id from self_pay_accounts)
        and {{ billops.plus_window('charges.entered_at', 'billing_window_days') }}
            <= {{ billops.as_of_timestamp() }}
),

final as (
    select
        {{ billops.exception_row(
            'UNBILLED_CHARGE',
            exception_key="charge_id",
            entity="entity",
            patient_id="patient_id",
            account_id="account_id",
            charge_id="charge_id",
            amount_at_risk="charge_amount",
            detected_at=billops.plus_window('entered_at', 'billing_window_days'),
        ) }}
    from unbilled
)

select * from final
