-- Every version of every Coverage: a registration update is a new version, and rules need the
-- version history (what was on file when). A version re-sent in a later batch is kept once.
-- subscriberId (member_id) is optional; a self-pay Coverage (payor = the Patient) has no payer.
-- payer_id is the X12 payer id: the EHR's payer id (ehr_payer_id) through payer_crosswalk.csv,
-- else unchanged (ids equal on both sides need no crosswalk row).
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_coverage'), 'ehr', 'record', '_record') }}
),

versions as (
    {{ billops.deduplicate('source', 'id, version_id', '_batch_id desc, _record desc') }}
),

patient_ids as (
    select fhir_patient_id, patient_id from {{ ref('stg_ehr__patient_ids') }}
),

crosswalk as (
    select source_payer_id, payer_id from {{ ref('stg_rcm__payer_crosswalk') }}
    where source_system = 'ehr'
),

renamed as (
    select
        {{ billops.key_of(['id', 'version_id']) }} as coverage_version_key,
        id as coverage_id,
        version_id,
        {{ billops.try_to_bigint('version_id') }} as version_number,
        last_updated as last_updated_at,
        status,
        -- Coverage.beneficiary is a logical id: translated to the patient key
        coalesce(patient_ids.patient_id, versions.patient_id) as patient_id,
        -- self-pay: the payor is the Patient (or a RelatedPerson), not a payer Organization
        coalesce(payer_resource_type in ('Patient', 'RelatedPerson'), false) as is_self_pay,
        case when coalesce(payer_resource_type in ('Patient', 'RelatedPerson'), false)
             then null else coalesce(crosswalk.payer_id, versions.payer_id) end as payer_id,
        case when coalesce(payer_resource_type in ('Patient', 'RelatedPerson'), false)
             then null else versions.payer_id end as ehr_payer_id,
        nullif(trim(subscriber_id), '') as member_id,
        relationship,
        coverage_order,
        period_start,
        period_end,
        _batch_id,
        _record
    from versions
    left join patient_ids on versions.patient_id = patient_ids.fhir_patient_id
    left join crosswalk on upper(trim(versions.payer_id)) = crosswalk.source_payer_id
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by coverage_id
            order by _batch_id desc, version_number desc nulls last,
                last_updated_at desc nulls last, _record desc
        ) = 1 as is_current_version
    from renamed
)

select * from ranked
