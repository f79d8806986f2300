with

source as (
    select * from {{ source('rcm', 'payers') }}
),

latest_extract as (
    {{ billops.latest_reference_extract('source', ['payer_id']) }}
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
