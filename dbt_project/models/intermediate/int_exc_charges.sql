-- Charge exceptions, one per EHR charge (billable ChargeItems only).
-- LATE_CHARGE: entered after its account's claim was submitted (the first submission), by more
-- than late_charge_window_days: the window starts at the submission and the charge is late once
-- it is entered after the window closed, whatever claim bills it later (a replacement, or a
-- late-charges claim, CLM05-3 = 5).
-- DUPLICATE_CHARGE: the same service charged twice on one account: the same code, modifiers,
-- units and service time (ChargeItem.occurrenceDateTime, service_at; the service date at
-- midnight where no time was sent). Every charge after the first entered is the duplicate. A
-- charge carrying a repeat-procedure modifier (var repeat_procedure_modifiers: 76, 77, 59, 91)
-- is a legitimate repeat, never a duplicate. The modifiers are those of the claim line that
-- bills the charge (int_charge_to_claim_lines): a FHIR R4 ChargeItem has no modifier element,
-- and stg_ehr__charge_items carries none yet (an EHR that sends them in an extension would add
-- them there, to be taken before the line's).
-- UNBILLED_CHARGE: on no line of the account's current claim (with its add-ons) once the billing
-- window has passed since its entry; a duplicate or a late charge is reported as that, not also
-- as unbilled. A self-pay account (int_accounts.is_self_pay: its Coverage's payor is the
-- Patient or its patient has none, or payers.csv payer_type in var self_pay_payer_types) is
-- billed to the patient by statement, never by claim: its charges are not unbilled, unless the
-- account was billed by claim all the same (then a charge left off the claim is unbilled).
{%- set self_pay = var('self_pay_payer_types') %}
{%- set repeat_modifiers = var('repeat_procedure_modifiers') %}
with

self_pay_accounts as (
    select accounts.account_id
    from {{ ref('int_accounts') }} as accounts
    left join {{ ref('stg_rcm__payers') }} as payers
        on accounts.coverage_payer_id = payers.payer_id
    where (coalesce(accounts.is_self_pay, false)
            or payers.payer_type in ('{{ self_pay | join("', '") }}'))
        -- an account billed by claim all the same is judged as one
        and accounts.account_id not in (
            select account_id from {{ ref('int_current_claims') }} where account_id is not null
        )
),

matched as (
    select account_id, charge_id, modifiers, match_status
    from {{ ref('int_charge_to_claim_lines') }}
),

charge_services as (
    select
        charges.*,
        coalesce(
            charges.service_at, cast(charges.service_date as {{ dbt.type_timestamp() }})
        ) as service_time,
        -- comma-separated, upper-case, without spaces (SV101-3..6 order)
        upper(replace(coalesce(matched.modifiers, ''), ' ', '')) as modifier_list
    from {{ ref('stg_ehr__charge_items') }} as charges
    left join matched
        on charges.account_id = matched.account_id
        and charges.charge_id = matched.charge_id
    where charges.is_billable and charges.account_id is not null
),

charges as (
    select
        charge_services.*,
        accounts.entity,
        current_claims.first_submitted_at,
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
    left join {{ ref('int_accounts') }} as accounts
        on charge_services.account_id = accounts.account_id
    left join {{ ref('int_current_claims') }} as current_claims
        on charge_services.account_id = current_claims.account_id
),

unbilled as (
    select account_id, charge_id
    from matched
    where match_status = 'UNBILLED'
),

classified as (
    select
        charges.*,
        case
            when charges.entered_at
                > {{ billops.plus_window('charges.first_submitted_at', 'late_charge_window_days') }}
                then 'LATE_CHARGE'
            when charges.service_occurrence > 1 and not charges.is_repeat_procedure
                then 'DUPLICATE_CHARGE'
            when unbilled.charge_id is not null
                and charges.account_id not in (select account_id from self_pay_accounts)
                and {{ billops.plus_window('charges.entered_at', 'billing_window_days') }}
                    <= {{ billops.as_of_timestamp() }}
                then 'UNBILLED_CHARGE'
        end as exception_type
    from charges
    left join unbilled
        on charges.account_id = unbilled.account_id
        and charges.charge_id = unbilled.charge_id
),

final as (
    select
        exception_type,
        charge_id as exception_key,
        entity,
        patient_id,
        account_id,
        {{ billops.null_text() }} as claim_id,
        charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        {{ billops.null_text() }} as statement_id,
        charge_amount as amount_at_risk,
        case
            when exception_type = 'UNBILLED_CHARGE'
                then {{ billops.plus_window('entered_at', 'billing_window_days') }}
            else entered_at
        end as detected_at,
        {{ billops.null_text() }} as root_cause
    from classified
    where exception_type is not null
)

select * from final
