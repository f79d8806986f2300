-- Another system's payer ids mapped to the payer ids the X12 files use (an id equal on both
-- sides needs no row). Keys compare trimmed and case-insensitively (clearinghouse and EHR payer
-- ids are case-insensitive), then merge per key like every reference extract.
with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'payer_crosswalk'), 'rcm', 'record', '_record') }}
),

normalised as (
    select
        lower(trim(source_system)) as source_system,
        upper(trim(source_payer_id)) as source_payer_id,
        nullif(trim(payer_id), '') as payer_id,
        _batch_id,
        _record
    from source
    where nullif(trim(source_payer_id), '') is not null
),

latest_extract as (
    {{ billops.latest_reference_extract('normalised', ['source_system', 'source_payer_id'], 'rcm', 'payer_crosswalk.csv') }}
),

renamed as (
    select
        {{ billops.key_of(['source_system', 'source_payer_id']) }} as crosswalk_key,
        source_system,
        source_payer_id,
        payer_id,
        _batch_id,
        _record
    from latest_extract
    where payer_id is not null
)

select * from renamed
