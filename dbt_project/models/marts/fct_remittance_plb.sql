{%- set text = dbt.type_string() -%}
-- One row per 835 provider-level adjustment (PLB reason and amount pair): money the payer takes
-- back or adds outside any claim (recoupments, interest, forwarding balances). A positive amount
-- reduces the payment (BPR02 = sum of CLP04 - sum of PLB amounts). Entity: the facility whose NPI
-- is PLB01, else the entity of the trace's accounts.
with

plb as (
    select * from {{ ref('stg_rcm__remit_plb') }}
),

trace_entities as (
    select trace_number, min(entity) as entity, count(distinct entity) as entity_count
    from {{ ref('fct_remittance_claims') }}
    where entity is not null
    group by trace_number
),

facilities as (
    select npi, min(entity) as entity
    from {{ ref('stg_ehr__organizations') }}
    where is_facility and npi is not null
    group by npi
),

final as (
    select
        cast(plb.remit_plb_key as {{ text }}) as remit_plb_key,
        cast(plb.trace_number as {{ text }}) as trace_number,
        cast(plb.plb_seq as {{ dbt.type_int() }}) as plb_seq,
        cast(plb.adj_seq as {{ dbt.type_int() }}) as adj_seq,
        cast(plb.provider_id as {{ text }}) as provider_id,
        cast(plb.fiscal_period_date as date) as fiscal_period_date,
        cast(plb.reason_code as {{ text }}) as reason_code,
        cast(plb.reference_id as {{ text }}) as reference_id,
        cast(plb.amount as decimal(18, 2)) as amount,
        cast(payers.payer_id as {{ text }}) as payer_id,
        cast(coalesce(facilities.entity, trace_entities.entity) as {{ text }}) as entity,
        cast(remittances.payment_date as date) as payment_date,
        cast({{ billops.period_of('coalesce(remittances.payment_date, plb.fiscal_period_date)') }}
            as {{ text }}) as period,
        cast(plb._batch_id as {{ text }}) as _batch_id
    from plb
    left join {{ ref('stg_rcm__remittances') }} as remittances
        on plb.trace_number = remittances.trace_number
    left join {{ ref('int_remittance_payers') }} as payers
        on plb.trace_number = payers.trace_number
    left join facilities on plb.provider_id = facilities.npi
    left join trace_entities on plb.trace_number = trace_entities.trace_number
)

select * from final
