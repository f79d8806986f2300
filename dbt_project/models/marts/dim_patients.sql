{%- set text = dbt.type_string() -%}
-- Patients, latest FHIR version. Names and birth date are PHI (see the column meta).
select
    cast(patient_id as {{ text }}) as patient_id,
    cast(family_name as {{ text }}) as family_name,
    cast(given_name as {{ text }}) as given_name,
    cast(birth_date as date) as birth_date,
    cast(gender as {{ text }}) as gender,
    cast(postal_code as {{ text }}) as postal_code,
    cast(managing_organization_id as {{ text }}) as managing_organization_id
from {{ ref('stg_ehr__patients') }}
