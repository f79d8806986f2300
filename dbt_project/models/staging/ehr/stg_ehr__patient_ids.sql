-- Every FHIR Patient.id with its patient key: the Patient.identifier of type MR (v2-0203), else the
-- logical id (FHIR logical ids may be opaque). References (Encounter.subject, ChargeItem.subject,
-- Coverage.beneficiary) carry logical ids: staging translates them through this map.
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_patient'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

final as (
    select
        id as fhir_patient_id,
        {{ billops.patient_key('mrn', 'id') }} as patient_id,
        nullif(trim(mrn), '') as mrn,
        last_updated as last_updated_at,
        _batch_id,
        _record
    from latest
)

select * from final
