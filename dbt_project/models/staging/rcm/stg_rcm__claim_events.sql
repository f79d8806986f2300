-- Claim workflow events; feeds may re-send rows, so one row per (claim, type, time) from the
-- latest batch.
with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'claim_events'), 'rcm', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['claim_id', 'event_type', 'event_ts']) }}
),

renamed as (
    select
        {{ billops.key_of(['claim_id', 'event_type', 'event_ts']) }} as claim_event_key,
        claim_id,
        upper(trim(event_type)) as event_type,
        event_ts as occurred_at,
        actor,
        queue,
        detail,
        _batch_id,
        _file,
        _record
    from latest
)

select * from renamed
