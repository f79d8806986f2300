-- COVERAGE_INACTIVE, one per account's current claim (int_claim_coverage_checks): no coverage of
-- the claim's rank is active on the service date (the primary for SBR01 = P, the second for S,
-- the third for T; so a primary that ended is inactive even while the patient's secondary runs
-- on) and none of another rank matches the billed payer and member id; or, for a claim to the
-- primary payer, the latest eligibility response for the billed payer by the service date says
-- INACTIVE, although the EHR coverage shows no end date.
select
    {{ billops.exception_row(
        'COVERAGE_INACTIVE',
        exception_key="account_id",
        entity="entity",
        patient_id="patient_id",
        account_id="account_id",
        claim_id="account_id",
        amount_at_risk="cast(total_charge as decimal(38, 2))",
        detected_at="submitted_at",
    ) }}
from {{ ref('int_claim_coverage_checks') }}
where has_inactive_eligibility
    or (active_count = 0 and matching_count = 0)
