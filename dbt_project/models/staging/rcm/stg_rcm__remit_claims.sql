{%- set denied = var('denied_claim_status_codes') -%}

-- 835 claim payments (CLP) of the remittance file kept in stg_rcm__remittances.
with

source as (
    select * from {{ source('rcm', 'x12_remit_claims') }}
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
        {{ billops.key_of(['trace_number', 'account_id', 'claim_seq']) }} as remit_claim_key,
        trace_number,
        claim_seq,
        account_id,
        claim_status_code,
        claim_status_code in ('{{ denied | join("', '") }}') as is_denied,
        charge_amount,
        paid_amount,
        patient_responsibility_amount,
        claim_filing_indicator,
        payer_claim_control_number,
        facility_code,
        claim_frequency_code,
        patient_last_name,
        patient_first_name,
        member_id,
        paid_date,
        _batch_id,
        _file,
        _record
    from kept
)

select * from renamed
