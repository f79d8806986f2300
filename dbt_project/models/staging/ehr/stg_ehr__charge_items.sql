{%- set non_billable = var('non_billable_charge_statuses') -%}

with

source as (
    select * from {{ billops.without_held_units(source('ehr', 'fhir_charge_item'), 'ehr', 'record', '_record') }}
),

latest as (
    {{ billops.latest_fhir_version('source') }}
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
        hcpcs,
        quantity as units,
        price_override as charge_amount,
        occurrence_date as service_date,
        occurrence_at as service_at,
        entered_date as entered_at,
        account_id,
        patient_id,
        performer_id,
        _batch_id,
        _record,
        _loaded_at
    from latest
)

select * from renamed
