-- One row per 837 claim as submitted. Originals and replacements are all kept; the current claim
-- of an account is chosen in int_current_claims. The key includes the batch and file so that a
-- control number reused by another file cannot merge two submissions.
with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'x12_claims'), 'rcm', 'claim', 'account_id') }}
),

renamed as (
    select
        {{ billops.key_of(['_batch_id', '_file', 'interchange_control_number',
                           'st_control_number', 'account_id']) }} as claim_key,
        account_id,
        interchange_control_number,
        st_control_number,
        implementation,
        claim_type,
        submitted_at,
        billing_provider_npi,
        billing_provider_name,
        payer_id,
        payer_name,
        member_id,
        subscriber_last_name,
        subscriber_first_name,
        subscriber_birth_date,
        patient_id,
        total_charge,
        facility_code,
        claim_frequency_code,
        claim_frequency_code = '7' as is_replacement,
        claim_frequency_code = '8' as is_void,
        -- 2, 3, 4 interim and 5 late charges add to the claim they belong to (int_current_claims)
        coalesce(claim_frequency_code in ('2', '3', '4', '5'), false) as is_add_on,
        original_claim_ref,
        prior_auth_number,
        statement_from,
        statement_to,
        coalesce(payer_responsibility, 'P') as payer_responsibility,
        coalesce(payer_responsibility, 'P') <> 'P' as is_secondary,
        other_payer_id,
        other_payer_paid_amount,
        _batch_id,
        _file,
        _record
    from source
)

select * from renamed
