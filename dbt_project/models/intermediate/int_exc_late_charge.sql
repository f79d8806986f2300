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
        'LATE_CHARGE' as exception_type,
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
        entered_at as detected_at,
        {{ billops.null_text() }} as root_cause
    from late_charges
)

select * from final
