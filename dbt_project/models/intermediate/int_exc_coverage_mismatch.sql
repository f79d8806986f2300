-- COVERAGE_MISMATCH, one per account's current claim (int_claim_coverage_checks): an active
-- coverage of the claim's rank exists but no active coverage has the billed payer and member id
-- (a claim billed to an active secondary coverage matches it). A claim whose patient holds an
-- active coverage with an EHR payer id no crosswalk maps is not judged: that is one data-quality
-- warning per id, not an exception per claim. Inactive coverage evidence makes the claim
-- COVERAGE_INACTIVE instead (int_exc_coverage_inactive).
select
    'COVERAGE_MISMATCH' as exception_type,
    account_id as exception_key,
    entity,
    patient_id,
    account_id,
    account_id as claim_id,
    {{ billops.null_text() }} as charge_id,
    {{ billops.null_text() }} as trace_number,
    {{ billops.null_text() }} as journal_id,
    {{ billops.null_text() }} as statement_id,
    cast(total_charge as decimal(38, 2)) as amount_at_risk,
    submitted_at as detected_at,
    {{ billops.null_text() }} as root_cause
from {{ ref('int_claim_coverage_checks') }}
where matching_count = 0
    and active_count > 0
    and unmapped_count = 0
    and not has_inactive_eligibility
