-- One row per account, with the load time of the newest batch that touches it through any input
-- that shapes an incremental fact's rows: its encounter, charges, claims and claim lines,
-- remittances, claim events, statements and patient payments; its patient (demographics,
-- encounters, coverage, eligibility checks: a new encounter can move a check to another of the
-- patient's accounts); its facility; the 835 traces that pay it (GL posting, bank deposit); and the units of it that
-- the raw checks held back or released (dq.quarantine_units), whose rows leave or rejoin.
-- The incremental facts rebuild the accounts touched after their watermark
-- (macros/incremental.sql); computing the touches once here spares each fact a scan of the
-- sources and staging views. Incremental: a run reads only the rows loaded (and the units held
-- back or released) after the newest touch it holds; the staging views translate them to
-- accounts whole (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='account_id',
          incremental_strategy='delete+insert', on_schema_change='fail') }}
{%- set new = billops.touched_after_watermark('_loaded_at') %}
with

encounters as (
    select encounter_id, account_id, patient_id, facility_id
    from {{ ref('stg_ehr__encounters') }}
),

-- Raw rows carry FHIR logical ids (a patient reference, an encounter id) or, in the RCM CSVs,
-- the MRN: touches are translated to the patient key and the account number staging uses.
patient_touches as (
    select coalesce(patient_ids.patient_id, patient_rows.patient_ref) as patient_id,
        max(patient_rows._loaded_at) as touched_at
    from (
        select id as patient_ref, _loaded_at from {{ source('ehr', 'fhir_patient') }}
        where {{ new }}
        union all
        select patient_id, _loaded_at from {{ source('ehr', 'fhir_encounter') }}
        where {{ new }}
        union all
        select patient_id, _loaded_at from {{ source('ehr', 'fhir_coverage') }}
        where {{ new }}
        union all
        select patient_id, _loaded_at from {{ source('rcm', 'eligibility_checks') }}
        where {{ new }}
    ) as patient_rows
    left join {{ ref('stg_ehr__patient_ids') }} as patient_ids
        on patient_rows.patient_ref = patient_ids.fhir_patient_id
    where patient_rows.patient_ref is not null
    group by 1
),

facility_touches as (
    select id as facility_id, max(_loaded_at) as touched_at
    from {{ source('ehr', 'fhir_organization') }}
    where {{ new }}
    group by id
),

touches as (
    select id as account_id, _loaded_at as touched_at from {{ source('ehr', 'fhir_encounter') }}
    where {{ new }}
    union all
    select account_id, _loaded_at from {{ source('ehr', 'fhir_charge_item') }}
    where {{ new }}
    union all
    select encounters.account_id, patient_touches.touched_at
    from encounters
    inner join patient_touches on encounters.patient_id = patient_touches.patient_id
    union all
    select encounters.account_id, facility_touches.touched_at
    from encounters
    inner join facility_touches on encounters.facility_id = facility_touches.facility_id
    union all
    select account_id, _loaded_at from {{ source('rcm', 'x12_claims') }}
    where {{ new }}
    union all
    select account_id, _loaded_at from {{ source('rcm', 'x12_claim_lines') }}
    where {{ new }}
    union all
    select account_id, _loaded_at from {{ source('rcm', 'x12_remit_claims') }}
    where {{ new }}
    union all
    select remit_claims.account_id, traces.touched_at
    from {{ ref('stg_rcm__remit_claims') }} as remit_claims
    inner join {{ ref('int_touched_traces') }} as traces
        on remit_claims.trace_number = traces.trace_number
    where {{ billops.touched_after_watermark('traces.touched_at') }}
    union all
    select claim_id, _loaded_at from {{ source('rcm', 'claim_events') }}
    where {{ new }}
    union all
    select account_id, _loaded_at from {{ source('rcm', 'statements') }}
    where {{ new }}
    union all
    select account_id, _loaded_at from {{ source('rcm', 'patient_payments') }}
    where {{ new }}
    union all
    -- units the raw checks held back or released since: their rows leave or rejoin the facts
    select held_accounts.account_id, held_accounts.touched_at
    from (
        select unit_key as account_id, coalesce(released_at, first_seen_at) as touched_at
        from {{ source('dq', 'quarantine_units') }}
        where unit = 'claim'
            and {{ billops.touched_after_watermark('coalesce(released_at, first_seen_at)') }}
        {%- for system, table, account in [('ehr', 'fhir_charge_item', 'account_id'),
                                           ('ehr', 'fhir_encounter', 'id'),
                                           ('rcm', 'statements', 'account_id'),
                                           ('rcm', 'patient_payments', 'account_id')] %}
        union all
        select held_rows.{{ account }}, coalesce(held.released_at, held.first_seen_at)
        from {{ source('dq', 'quarantine_units') }} as held
        inner join {{ source(system, table) }} as held_rows
            on held.unit = 'record'
            and held.source_table = 'raw.{{ table }}'
            and held.batch_id = held_rows._batch_id
            and held.file = held_rows._file
            and held.unit_key = cast(held_rows._record as {{ dbt.type_string() }})
        where {{ billops.touched_after_watermark('coalesce(held.released_at, held.first_seen_at)') }}
        {%- endfor %}
    ) as held_accounts
)

select
    cast(coalesce(encounters.account_id, touches.account_id) as {{ dbt.type_string() }})
        as account_id,
    cast(max(touches.touched_at) as {{ dbt.type_timestamp() }}) as touched_at
from touches
-- an encounter's logical id (raw Encounter.id, ChargeItem.context) to its account number
left join encounters on touches.account_id = encounters.encounter_id
where touches.account_id is not null
group by 1
