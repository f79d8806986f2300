{%- set reversal = var('reversal_claim_status_codes') -%}
-- One row per account with what the monthly KPIs count about it: its payer (the current claim's,
-- else the EHR coverage's, else SELF_PAY), when it was first billed and by whom, whether that
-- first claim went out clean, and how its first adjudication ended.
--   clean first claim: no claim event of a scrubber failure or a payer/clearinghouse rejection
--   first adjudication: the earliest 835 CLP of the account that is not a reversal
--   first-pass resolved: that first adjudication paid (not a denial), the account needed no
--     replacement claim, and no reversal took the payment back; a claim crossed over to a
--     secondary payer (837 SBR01 other than P) after the primary paid is no rework and is not
--     counted among the account's claims
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

claims as (
    select
        account_id,
        payer_id,
        submitted_at,
        row_number() over (
            partition by account_id order by submitted_at, _batch_id, _file, _record
        ) as submission_rank,
        count(*) over (partition by account_id) as claim_count
    from {{ ref('stg_rcm__claims') }}
    where account_id is not null and not coalesce(is_secondary, false)
),

rework_events as (
    select claim_id as account_id, count(*) as rework_events
    from {{ ref('fct_claim_events') }}
    where activity in ('SCRUBBER_FAILED', 'CLAIM_REJECTED')
    group by claim_id
),

remits as (
    select
        remit_claims.*,
        remit_claims.claim_status_code in ('{{ reversal | join("', '") }}') as is_reversal
    from {{ ref('int_remit_claims') }} as remit_claims
    where remit_claims.account_id is not null
),

first_adjudications as (
    select
        account_id,
        is_denied,
        charge_amount,
        paid_amount,
        remit_date,
        row_number() over (
            partition by account_id
            order by remit_date, _batch_id, trace_number, claim_seq
        ) as adjudication_rank
    from remits
    where not is_reversal
),

reversals as (
    select account_id, count(*) as reversal_count
    from remits
    where is_reversal
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.entity,
        coalesce(current_claims.payer_id, accounts.coverage_payer_id, 'SELF_PAY') as payer_id,
        accounts.service_date,
        coalesce(cast(accounts.ended_at as date), accounts.service_date) as discharge_date,
        first_claims.submitted_at as first_submitted_at,
        coalesce(first_claims.claim_count, 0) as claim_count,
        first_claims.account_id is not null
            and coalesce(rework_events.rework_events, 0) = 0 as is_clean_first_claim,
        first_adjudications.remit_date as first_adjudicated_on,
        first_adjudications.is_denied as is_initially_denied,
        first_adjudications.charge_amount as first_adjudicated_charge_amount,
        first_adjudications.account_id is not null
            and not first_adjudications.is_denied
            and coalesce(first_claims.claim_count, 0) <= 1
            and coalesce(reversals.reversal_count, 0) = 0 as is_first_pass_resolved,
        coalesce(adjudications.latest_is_denied, false) as is_finally_denied
    from accounts
    left join {{ ref('int_current_claims') }} as current_claims
        on accounts.account_id = current_claims.account_id
    left join claims as first_claims
        on accounts.account_id = first_claims.account_id
        and first_claims.submission_rank = 1
    left join rework_events on accounts.account_id = rework_events.account_id
    left join first_adjudications
        on accounts.account_id = first_adjudications.account_id
        and first_adjudications.adjudication_rank = 1
    left join reversals on accounts.account_id = reversals.account_id
    left join {{ ref('int_account_adjudications') }} as adjudications
        on accounts.account_id = adjudications.account_id
)

select * from final
