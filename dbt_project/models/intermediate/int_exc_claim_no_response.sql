-- CLAIM_NO_RESPONSE, one per account: the current claim (not a void) has no 835 claim payment for
-- its account once the follow-up window has passed since its submission; detected as the window
-- closes.
with

current_claims as (
    select * from {{ ref('int_current_claims') }}
    where not is_void
),

adjudications as (
    select * from {{ ref('int_account_adjudications') }}
),

no_response as (
    select
        current_claims.account_id,
        current_claims.total_charge as amount_at_risk,
        {{ billops.plus_window('current_claims.submitted_at', 'follow_up_window_days') }}
            as detected_at
    from current_claims
    left join adjudications on current_claims.account_id = adjudications.account_id
    where adjudications.account_id is null
        and {{ billops.plus_window('current_claims.submitted_at', 'follow_up_window_days') }}
            <= {{ billops.as_of_timestamp() }}
),

final as (
    select
        {{ billops.exception_row(
            'CLAIM_NO_RESPONSE',
            exception_key="no_response.account_id",
            entity="accounts.entity",
            patient_id="accounts.patient_id",
            account_id="no_response.account_id",
            claim_id="no_response.account_id",
            amount_at_risk="no_response.amount_at_risk",
            detected_at="no_response.detected_at",
        ) }}
    from no_response
    left join {{ ref('int_accounts') }} as accounts
        on no_response.account_id = accounts.account_id
)

select * from final
