-- DUPLICATE_CHARGE, one per EHR charge (billable ChargeItems only): the same service charged twice
-- on one account: the same code, modifiers, units and service time (ChargeItem.occurrenceDateTime,
-- service_at; the service date at midnight where no time was sent). Every charge after the first
-- entered is the duplicate. A charge carrying a repeat-procedure modifier (var
-- repeat_procedure_modifiers: 76, 77, 59, 91) is a legitimate repeat, never a duplicate. A late
-- charge (int_exc_late_charge) is reported as that instead. The modifiers are those of the claim
-- line that bills the charge (int_charge_to_claim_lines): a FHIR R4 ChargeItem has no modifier
-- element, and stg_ehr__charge_items carries none yet (an EHR that sends them in an extension
-- would add them there, to be taken before the line's).
{%- set repeat_modifiers = var('repeat_procedure_modifiers') %}
with

charge_services as (
    select
        charges.*,
        coalesce(
            charges.service_at, cast(charges.service_date as {{ dbt.type_timestamp() }})
        ) as service_time,
        -- comma-separated, upper-case, without spaces (SV101-3..6 order)
        upper(replace(coalesce(matched.modifiers, ''), ' ', '')) as modifier_list
    from {{ ref('stg_ehr__charge_items') }} as charges
    left join {{ ref('int_charge_to_claim_lines') }} as matched
        on charges.account_id = matched.account_id
        and charges.charge_id = matched.charge_id
    where charges.is_billable and charges.account_id is not null
),

occurrences as (
    select
        charge_services.*,
        {%- if repeat_modifiers %}
        (
            {%- for modifier in repeat_modifiers %}
            {{ dbt.concat(["','", 'charge_services.modifier_list', "','"]) }}
                like '%,{{ modifier | upper }},%'{% if not loop.last %} or{% endif %}
            {%- endfor %}
        ) as is_repeat_procedure,
        {%- else %}
        false as is_repeat_procedure,
        {%- endif %}
        row_number() over (
            partition by charge_services.account_id, charge_services.hcpcs,
                charge_services.modifier_list, charge_services.units,
                charge_services.service_time
            order by charge_services.entered_at nulls last, charge_services.charge_id
        ) as service_occurrence
    from charge_services
),

duplicates as (
    select occurrences.*, accounts.entity
    from occurrences
    left join {{ ref('int_accounts') }} as accounts
        on occurrences.account_id = accounts.account_id
    left join {{ ref('int_exc_late_charge') }} as late_charges
        on occurrences.account_id = late_charges.account_id
        and occurrences.charge_id = late_charges.charge_id
    where occurrences.service_occurrence > 1
        and not occurrences.is_repeat_procedure
        and late_charges.charge_id is null
),

final as (
    select
        {{ billops.exception_row(
            'DUPLICATE_CHARGE',
            exception_key="charge_id",
            entity="entity",
            patient_id="patient_id",
            account_id="account_id",
            charge_id="charge_id",
            amount_at_risk="charge_amount",
            detected_at="entered_at",
        ) }}
    from duplicates
)

select * from final
