{%- set non_billable = var('non_billable_charge_statuses') -%}

with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_charge_item'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
),

-- ChargeItem.context and subject carry logical ids: translated to the account number (of the
-- Encounter) and to the patient key; a reference to a resource never sent stays as it is
encounters as (
    select encounter_id, account_id from {{ ref('stg_ehr__encounters') }}
),

patient_ids as (
    select fhir_patient_id, patient_id from {{ ref('stg_ehr__patient_ids') }}
),

-- ChargeItem.priceOverride is optional: without it the line's charge is the chargemaster unit
-- price in effect on the service date times the quantity
prices as (
    select
        upper(trim(hcpcs)) as hcpcs,
        unit_price,
        effective_from,
        lead(effective_from) over (partition by upper(trim(hcpcs)) order by effective_from)
            as effective_until
    from {{ ref('stg_rcm__chargemaster') }}
),

renamed as (
    select
        id as charge_id,
        version_id,
        last_updated as last_updated_at,
        status,
        {% if non_billable -%}
        coalesce(status not in ('{{ non_billable | join("', '") }}'), true) as is_billable,
        {%- else -%}
        true as is_billable,
        {%- endif %}
        latest.hcpcs,
        quantity as units,
        coalesce(price_override, cast(prices.unit_price * quantity as decimal(18, 2)))
            as charge_amount,
        case when price_override is not null then 'PRICE_OVERRIDE'
             when prices.unit_price is not null then 'CHARGEMASTER' end as charge_amount_source,
        occurrence_date as service_date,
        occurrence_at as service_at,
        entered_date as entered_at,
        coalesce(encounters.account_id, latest.account_id) as account_id,
        latest.account_id as encounter_id,
        coalesce(patient_ids.patient_id, latest.patient_id) as patient_id,
        performer_id,
        _batch_id,
        _record,
        _loaded_at
    from latest
    left join encounters on latest.account_id = encounters.encounter_id
    left join patient_ids on latest.patient_id = patient_ids.fhir_patient_id
    left join prices
        on latest.price_override is null
        and upper(trim(latest.hcpcs)) = prices.hcpcs
        and latest.occurrence_date >= prices.effective_from
        and (prices.effective_until is null or latest.occurrence_date < prices.effective_until)
)

select * from renamed
