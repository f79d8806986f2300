{%- set denied = var('denied_claim_status_codes') -%}

-- 835 claim payments (CLP) of the remittance file kept in stg_rcm__remittances.
with

kept as (
    {{ billops.rows_of_kept_remittances(source('rcm', 'x12_remit_claims')) }}
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
