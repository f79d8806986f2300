-- Every payer id the EHR's current coverages carry, with the X12 payer id it maps to (through
-- payer_crosswalk.csv, or unchanged when equal on both sides). x12_payer_id is null for an id
-- nothing maps: the mart check raises one warning per such id, with the claims it affects.
with

ehr_ids as (
    select
        payer_id,
        min(ehr_payer_id) as ehr_payer_id,
        max(case when upper(trim(ehr_payer_id)) <> upper(trim(payer_id)) then 1 else 0 end)
            as is_crosswalked,
        count(*) as coverages,
        count(distinct patient_id) as patients
    from {{ ref('stg_ehr__coverages') }}
    where is_current_version and payer_id is not null
    group by payer_id
),

unmapped as (
    select payer_id, claims_affected, first_account_id from {{ ref('int_unmapped_payer_ids') }}
),

final as (
    select
        cast(ehr_ids.ehr_payer_id as {{ dbt.type_string() }}) as ehr_payer_id,
        cast(ehr_ids.payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(case when unmapped.payer_id is null then ehr_ids.payer_id end
             as {{ dbt.type_string() }}) as x12_payer_id,
        cast(case when unmapped.payer_id is not null then 'UNMAPPED'
                  when ehr_ids.is_crosswalked = 1 then 'CROSSWALK'
                  else 'SAME_ID' end as {{ dbt.type_string() }}) as mapping,
        cast(ehr_ids.coverages as bigint) as coverages,
        cast(ehr_ids.patients as bigint) as patients,
        cast(coalesce(unmapped.claims_affected, 0) as bigint) as claims_affected,
        cast(unmapped.first_account_id as {{ dbt.type_string() }}) as first_account_id
    from ehr_ids
    left join unmapped on ehr_ids.payer_id = unmapped.payer_id
)

select * from final
