-- Every version of every Coverage: a registration update is a new version, and rules need the
-- version history (what was on file when). A version re-sent in a later batch is kept once.
with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_coverage'), 'ehr', 'record', '_record') }}
),

versions as (
    {{ billops.deduplicate('source', 'id, version_id', '_batch_id desc, _record desc') }}
),

renamed as (
    select
        {{ billops.key_of(['id', 'version_id']) }} as coverage_version_key,
        id as coverage_id,
        version_id,
        {{ billops.try_to_bigint('version_id') }} as version_number,
        last_updated as last_updated_at,
        status,
        patient_id,
        payer_id,
        subscriber_id as member_id,
        relationship,
        coverage_order,
        period_start,
        period_end,
        _batch_id,
        _record
    from versions
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
