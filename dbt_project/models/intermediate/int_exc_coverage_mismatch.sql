-- COVERAGE_MISMATCH, one per account's current claim (int_claim_coverage_checks): an active
-- coverage of the claim's rank exists but no active coverage has the billed payer and member id
-- (a claim billed to an active secondary coverage matches it). A claim whose patient holds an
-- active coverage with an EHR payer id no crosswalk maps is not judged: that is one data-quality
-- warning per id, not an exception per claim. Inactive coverage evidence makes the claim
-- COVERAGE_INACTIVE instead (int_exc_coverage_inactive).
select
    {{ billops.exception_row(
        'COVERAGE_MISMATCH',
        exception_key="account_id",
        entity="entity",
        patient_id="patient_id",
        account_id="account_id",
        claim_id="account_id",
        amount_at_risk="cast(total_charge as decimal(38, 2))",
        detected_at="submitted_at",
    ) }}
from {{ ref('int_claim_coverage_checks') }}
where matching_count = 0
    and active_count > 0
    and unmapped_count = 0
    and not has_inactive_eligibility
