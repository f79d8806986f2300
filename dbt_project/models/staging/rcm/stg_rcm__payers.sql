with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'payers'), 'rcm', 'record', '_record') }}
),

latest_extract as (
    {{ billops.latest_reference_extract('source', ['payer_id'], 'rcm', 'payers.csv') }}
),

renamed as (
    select
        payer_id,
        name as payer_name,
        payer_type,
        timely_filing_days,
        _batch_id,
        _record
    from latest_extract
)

select * from renamed
