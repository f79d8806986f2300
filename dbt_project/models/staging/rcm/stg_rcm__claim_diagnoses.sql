with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'x12_claim_diagnoses'), 'rcm', 'claim', 'account_id') }}
),

renamed as (
    select
        {{ billops.key_of(['_batch_id', '_file', 'interchange_control_number',
                           'st_control_number', 'account_id', 'sequence']) }} as claim_diagnosis_key,
        {{ billops.key_of(['_batch_id', '_file', 'interchange_control_number',
                           'st_control_number', 'account_id']) }} as claim_key,
        account_id,
        sequence as diagnosis_sequence,
        qualifier,
        code as icd10_code,
        _batch_id,
        _file,
        _record
    from source
)

select * from renamed
