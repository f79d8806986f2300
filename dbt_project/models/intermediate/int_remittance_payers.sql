{%- set secondary_codes = var('secondary_claim_status_codes') -%}
-- The payer of each 835 payment (trace number). Payers send 835s their own way: the payer id in
-- N1*PR N104, in REF*2U, in TRN03 only, or by name alone. Ingestion keeps the first of N104,
-- REF*2U and TRN03; here that id counts when it is a payer of the reference extract, else the
-- N1*PR name when it names exactly one payer, else the payer of the matching 837 claims: the
-- claims of the payment's CLP01 accounts submitted by the payment date, to the payer whose
-- responsibility the CLP02 status names (primary, or secondary for 2, 3, 20, 21), the latest
-- submission first. When the payment's claims point at one payer, that is the payer.
with

remittances as (
    select trace_number, payer_id, payer_name, payment_date
    from {{ ref('stg_rcm__remittances') }}
),

payers as (
    select payer_id, payer_name from {{ ref('stg_rcm__payers') }}
),

by_name as (
    select upper(trim(payer_name)) as payer_name_key, min(payer_id) as payer_id
    from payers
    where payer_name is not null
    group by 1
    having count(distinct payer_id) = 1
),

claim_payers as (
    select
        remit_claims.trace_number,
        remit_claims.claim_seq,
        claims.payer_id,
        row_number() over (
            partition by remit_claims.trace_number, remit_claims.claim_seq
            order by
                case when (claims.payer_responsibility <> 'P') = (
                        remit_claims.claim_status_code in ('{{ secondary_codes | join("', '") }}'))
                     then 0 else 1 end,
                claims.submitted_at desc,
                claims.claim_key
        ) as claim_rank
    from {{ ref('stg_rcm__remit_claims') }} as remit_claims
    inner join remittances on remit_claims.trace_number = remittances.trace_number
    inner join {{ ref('stg_rcm__claims') }} as claims
        on remit_claims.account_id = claims.account_id
        and (remittances.payment_date is null
             or cast(claims.submitted_at as date) <= remittances.payment_date)
),

by_claims as (
    select trace_number, min(payer_id) as payer_id
    from claim_payers
    where claim_rank = 1
    group by trace_number
    having count(distinct payer_id) = 1
),

final as (
    select
        remittances.trace_number,
        coalesce(
            known.payer_id, by_name.payer_id, by_claims.payer_id, remittances.payer_id
        ) as payer_id,
        case
            when known.payer_id is not null then 'REMITTANCE'
            when by_name.payer_id is not null then 'PAYER_NAME'
            when by_claims.payer_id is not null then 'CLAIM'
            when remittances.payer_id is not null then 'UNKNOWN_ID'
            else 'UNRESOLVED'
        end as payer_source,
        remittances.payer_id as remittance_payer_id
    from remittances
    left join payers as known on remittances.payer_id = known.payer_id
    left join by_name on upper(trim(remittances.payer_name)) = by_name.payer_name_key
    left join by_claims on remittances.trace_number = by_claims.trace_number
)

select * from final
