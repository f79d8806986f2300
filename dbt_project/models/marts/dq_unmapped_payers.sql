-- EHR payer ids no crosswalk maps to an X12 payer id, one row per id with the claims it affects:
-- the data-quality page lists them and the mart check raises one warning naming them.
select
    cast(payer_id as {{ dbt.type_string() }}) as payer_id,
    cast(ehr_payer_id as {{ dbt.type_string() }}) as ehr_payer_id,
    cast(coverages as bigint) as coverages,
    cast(patients as bigint) as patients,
    cast(claims_affected as bigint) as claims_affected,
    cast(first_account_id as {{ dbt.type_string() }}) as first_account_id
from {{ ref('int_unmapped_payer_ids') }}
