-- Why a statement due (int_statements_due) is held, one row per statement and reason; a
-- statement with no row is released. One CTE per reason (seed statement_hold_reasons: reason,
-- queue, precedence), each reusing the lookup that already decides it:
-- COVERAGE_CHANGED: a version of the patient's EHR Coverage (stg_ehr__coverages, any version,
--   any coverage) was recorded (meta.lastUpdated) after the account's current claim was
--   submitted and by the as-of time: registration has news the claim did not bill on.
-- NEWER_ELIGIBILITY: an eligibility response for the patient (int_eligibility_checks, patient
--   resolved to its key) checked after the claim was submitted and by the as-of time that does
--   not confirm what the claim billed: not ACTIVE, another payer, or a member id that does not
--   agree (compared without case, spaces and punctuation). A later visit's check-in that
--   confirms the same coverage is no news.
-- OPEN_COVERAGE_EXCEPTION: an open (status not closed) COVERAGE_MISMATCH or COVERAGE_INACTIVE
--   on the account, or STATEMENT_STALE_COVERAGE on the statement, in marts.billing_exceptions.
-- OPEN_CREDIT_BALANCE: an open CREDIT_BALANCE on the account.
-- BALANCE_DOES_NOT_TIE: an open PATIENT_BALANCE_MISMATCH on the statement (its rule compares the
--   amount due with the latest adjudication's patient responsibility less patient payments).
-- A self-pay account has no claim, so only the exception reasons apply to it.
with

due as (
    select * from {{ ref('int_statements_due') }}
),

open_exceptions as (
    select exception_type, account_id, statement_id
    from {{ ref('billing_exceptions') }}
    where {{ billops.exception_is_open('status') }}
),

coverage_changed as (
    select distinct due.statement_id, 'COVERAGE_CHANGED' as reason
    from due
    inner join {{ ref('stg_ehr__coverages') }} as coverages
        on due.patient_id = coverages.patient_id
        and coverages.last_updated_at > due.claim_submitted_at
        and coverages.last_updated_at <= due.as_of
),

newer_eligibility as (
    select distinct due.statement_id, 'NEWER_ELIGIBILITY' as reason
    from due
    inner join {{ ref('int_eligibility_checks') }} as checks
        on due.patient_id = checks.patient_id
        and checks.checked_at > due.claim_submitted_at
        and checks.checked_at <= due.as_of
    where checks.eligibility_status <> 'ACTIVE'
        or checks.payer_id is distinct from due.claim_payer_id
        or not {{ billops.member_ids_agree('checks.member_id', 'due.claim_member_id') }}
),

open_coverage_exception as (
    select distinct due.statement_id, 'OPEN_COVERAGE_EXCEPTION' as reason
    from due
    inner join open_exceptions
        on (open_exceptions.exception_type in ('COVERAGE_MISMATCH', 'COVERAGE_INACTIVE')
            and open_exceptions.account_id = due.account_id)
        or (open_exceptions.exception_type = 'STATEMENT_STALE_COVERAGE'
            and open_exceptions.statement_id = due.statement_id)
),

open_credit_balance as (
    select distinct due.statement_id, 'OPEN_CREDIT_BALANCE' as reason
    from due
    inner join open_exceptions
        on open_exceptions.exception_type = 'CREDIT_BALANCE'
        and open_exceptions.account_id = due.account_id
),

balance_does_not_tie as (
    select distinct due.statement_id, 'BALANCE_DOES_NOT_TIE' as reason
    from due
    inner join open_exceptions
        on open_exceptions.exception_type = 'PATIENT_BALANCE_MISMATCH'
        and open_exceptions.statement_id = due.statement_id
),

reasons as (
    select * from coverage_changed
    union all
    select * from newer_eligibility
    union all
    select * from open_coverage_exception
    union all
    select * from open_credit_balance
    union all
    select * from balance_does_not_tie
),

final as (
    select
        cast(reasons.statement_id as {{ dbt.type_string() }}) as statement_id,
        cast(due.account_id as {{ dbt.type_string() }}) as account_id,
        cast(reasons.reason as {{ dbt.type_string() }}) as reason,
        cast(hold_reasons.queue as {{ dbt.type_string() }}) as queue,
        cast(hold_reasons.precedence as {{ dbt.type_int() }}) as precedence
    from reasons
    inner join due on reasons.statement_id = due.statement_id
    left join {{ ref('statement_hold_reasons') }} as hold_reasons
        on reasons.reason = hold_reasons.reason
)

select * from final
