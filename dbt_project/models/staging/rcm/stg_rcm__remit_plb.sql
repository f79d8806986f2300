-- Provider-level adjustments (PLB) of the remittance file kept in stg_rcm__remittances.
with

source as (
    select * from {{ source('rcm', 'x12_remit_plb') }}
),

-- The file each trace number is kept from (see stg_rcm__remittances).
remittances as (
    {{ billops.deduplicate(source('rcm', 'x12_remittances'), 'trace_number',
                           '_batch_id, _file, _record') }}
),

kept as (
    select source.*
    from source
    inner join remittances
        on source.trace_number = remittances.trace_number
        and source._batch_id = remittances._batch_id
        and source._file = remittances._file
        and source.st_control_number = remittances.st_control_number
),

renamed as (
    select
        {{ billops.key_of(['trace_number', 'plb_seq', 'adj_seq']) }} as remit_plb_key,
        trace_number,
        plb_seq,
        adj_seq,
        provider_id,
        fiscal_period_date,
        reason_code,
        reference_id,
        amount,
        _batch_id,
        _file,
        _record
    from kept
)

select * from renamed
