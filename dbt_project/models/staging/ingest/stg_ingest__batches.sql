-- The ingestion ledger as recorded: one row per batch outcome. A batch may have several rows
-- (quarantined, then re-delivered and loaded); the as-of time reads the LOADED ones.
with

source as (
    select * from {{ source('ingest', '_batches') }}
),

renamed as (
    select
        {{ billops.key_of(['system', 'batch_id', 'status', 'loaded_at']) }} as batch_outcome_key,
        system,
        batch_id,
        extracted_at,
        status,
        status = 'LOADED' as is_loaded,
        reason,
        loaded_at
    from source
)

select * from renamed
