-- One row per patient key (Patient.identifier of type MR, else Patient.id): two Patient
-- resources sharing an MRN are one patient, as its latest version has it.
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_patient'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

renamed as (
    select
        {{ billops.patient_key('mrn', 'id') }} as patient_id,
        id as fhir_patient_id,
        nullif(trim(mrn), '') as mrn,
        version_id,
        last_updated as last_updated_at,
        family_name,
        given_name,
        birth_date,
        gender,
        postal_code,
        managing_organization_id,
        _batch_id,
        _record
    from latest
),

per_key as (
    {{ billops.deduplicate('renamed', 'patient_id',
        '_batch_id desc, last_updated_at desc nulls last, _record desc') }}
),

final as (
    select
        patient_id, fhir_patient_id, mrn, version_id, last_updated_at, family_name, given_name,
        birth_date, gender, postal_code, managing_organization_id, _batch_id, _record
    from per_key
)

select * from final
