-- LATE_CHARGE, one per EHR charge (billable ChargeItems only): entered after its account's claim
-- was submitted (the first submission), by more than late_charge_window_days: the window starts
-- at the submission and the charge is late once it is entered after the window closed, whatever
-- claim bills it later (a replacement, or a late-charges claim, CLM05-3 = 5).
with

charges as (
    select * from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null
),

late_charges as (
    select charges.*, accounts.entity
    from charges
    left join {{ ref('int_accounts') }} as accounts
        on charges.account_id = accounts.account_id
    left join {{ ref('int_current_claims') }} as current_claims
        on charges.account_id = current_claims.account_id
    where charges.entered_at
        > {{ billops.plus_window('current_claims.first_submitted_at', 'late_charge_window_days') }}
),

final as (
    select
        {{ billops.exception_row(
            'LATE_CHARGE',
            exception_key="charge_id",
            entity="entity",
            patient_id="patient_id",
            account_id="account_id",
            charge_id="charge_id",
            amount_at_risk="charge_amount",
            detected_at="entered_at",
        ) }}
    from late_charges
)

select * from final
