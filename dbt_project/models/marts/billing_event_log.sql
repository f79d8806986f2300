{{ config(
    materialized='incremental',
    unique_key='case_id',
    tags=['intraday']
) }}
{{ billops.incremental_inputs() }}
{#- Portable type names for the casts that the contract checks. -#}
{%- set text = dbt.type_string() -%}
{%- set bigint = dbt.type_bigint() -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set activity_map = var('claim_event_activities') -%}
{#-
  Activities the log takes from the source documents (encounter, eligibility, charge, 837, 835,
  GL, bank, statement, patient payment); claim_events rows that map to one of them are dropped
  so the log does not hold an event twice. PAYMENT_POSTED is the exception: the billing system
  knows when it posted a remittance, the 835 does not, so its events win and the 835 payment
  date stands in only for accounts without one.
-#}
{%- set document_activities = [
    'REGISTERED', 'ELIGIBILITY_CHECKED', 'CHARGE_POSTED', 'CLAIM_SUBMITTED', 'REMIT_RECEIVED',
    'DENIED', 'GL_POSTED', 'DEPOSITED', 'STATEMENT_SENT', 'PATIENT_PAID', 'REFUNDED'] -%}

-- The billing event log for process mining: one row per event of an account (case), assembled
-- across the EHR, RCM and ERP extracts. source_rank orders events with equal timestamps by the
-- step of the process they come from; within one source, file order decides. Incremental on the
-- batch lineage: a run replaces every event of the cases (accounts) its batches touch, so the
-- case's order is recomputed whole (macros/incremental.sql).
with

accounts as (
    select
        accounts.account_id,
        accounts.entity,
        coalesce(current_claims.payer_id, accounts.coverage_payer_id) as payer_id
    from {{ ref('int_accounts') }} as accounts
    left join {{ ref('int_current_claims') }} as current_claims
        on accounts.account_id = current_claims.account_id
),

encounters as (
    select * from {{ ref('stg_ehr__encounters') }}
),

remit_claims as (
    select * from {{ ref('int_remit_claims') }}
),

registered as (
    select
        account_id as case_id,
        'REGISTERED' as activity,
        started_at as ts,
        facility_id as resource,
        'ehr' as source_system,
        cast(null as {{ text }}) as entity,
        cast(null as {{ text }}) as payer_id,
        cast(null as decimal(18, 2)) as amount,
        1 as source_rank,
        _batch_id, cast(null as {{ text }}) as _file, _record
    from encounters
),

eligibility_checked as (
    select
        account_id as case_id,
        'ELIGIBILITY_CHECKED' as activity,
        checked_at as ts,
        cast(null as {{ text }}) as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id,
        cast(null as decimal(18, 2)) as amount,
        2 as source_rank,
        _batch_id, _file, _record
    from {{ ref('int_eligibility_checks') }}
    where account_id is not null
),

charge_posted as (
    select
        account_id as case_id,
        'CHARGE_POSTED' as activity,
        entered_at as ts,
        performer_id as resource,
        'ehr' as source_system,
        cast(null as {{ text }}) as entity,
        cast(null as {{ text }}) as payer_id,
        charge_amount as amount,
        3 as source_rank,
        _batch_id, cast(null as {{ text }}) as _file, _record
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable
),

claim_workflow as (
    select
        claim_id as case_id,
        case event_type
            {%- for event_type, activity in activity_map.items() %}
            when '{{ event_type | upper }}' then '{{ activity }}'
            {%- endfor %}
            else event_type
        end as activity,
        occurred_at as ts,
        actor as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        cast(null as {{ text }}) as payer_id,
        cast(null as decimal(18, 2)) as amount,
        4 as source_rank,
        _batch_id, _file, _record
    from {{ ref('stg_rcm__claim_events') }}
),

claim_events as (
    select * from claim_workflow
    where activity not in ('{{ document_activities | join("', '") }}')
),

claim_submitted as (
    select
        account_id as case_id,
        'CLAIM_SUBMITTED' as activity,
        submitted_at as ts,
        billing_provider_npi as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id,
        total_charge as amount,
        5 as source_rank,
        _batch_id, _file, _record
    from {{ ref('stg_rcm__claims') }}
),

remit_received as (
    select
        account_id as case_id,
        'REMIT_RECEIVED' as activity,
        cast(remit_date as {{ ts }}) as ts,
        payer_id as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id,
        paid_amount as amount,
        6 as source_rank,
        _batch_id, _file, _record
    from remit_claims
),

denied as (
    select
        account_id as case_id,
        'DENIED' as activity,
        cast(remit_date as {{ ts }}) as ts,
        payer_id as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id,
        charge_amount as amount,
        7 as source_rank,
        _batch_id, _file, _record
    from remit_claims
    where is_denied
),

payment_posted as (
    select
        account_id as case_id,
        'PAYMENT_POSTED' as activity,
        cast(coalesce(payment_date, remit_date) as {{ ts }}) as ts,
        payer_id as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id,
        paid_amount as amount,
        8 as source_rank,
        _batch_id, _file, _record
    from remit_claims
    where paid_amount <> 0
        and account_id not in (
            select case_id from claim_events
            where activity = 'PAYMENT_POSTED' and case_id is not null
        )
),

gl_posted as (
    select
        remit_claims.account_id as case_id,
        'GL_POSTED' as activity,
        cast(receipts.posting_date as {{ ts }}) as ts,
        receipts.created_by as resource,
        'erp' as source_system,
        receipts.entity,
        remit_claims.payer_id,
        remit_claims.paid_amount as amount,
        9 as source_rank,
        receipts._batch_id, receipts._file, receipts._record
    from {{ ref('int_gl_cash_receipts') }} as receipts
    inner join remit_claims on receipts.trace_number = remit_claims.trace_number
    where remit_claims.paid_amount <> 0
),

deposited as (
    select
        remit_claims.account_id as case_id,
        'DEPOSITED' as activity,
        cast(deposits.deposit_date as {{ ts }}) as ts,
        deposits.bank_account as resource,
        'erp' as source_system,
        deposits.entity,
        remit_claims.payer_id,
        remit_claims.paid_amount as amount,
        10 as source_rank,
        deposits._batch_id, deposits._file, deposits._record
    from {{ ref('stg_erp__bank_deposits') }} as deposits
    -- a deposit row may list several traces (a lockbox deposit)
    inner join {{ ref('stg_erp__bank_deposit_traces') }} as listed
        on deposits.deposit_line_key = listed.deposit_line_key
    inner join remit_claims on listed.trace_number = remit_claims.trace_number
    where remit_claims.paid_amount <> 0
),

statement_sent as (
    select
        account_id as case_id,
        'STATEMENT_SENT' as activity,
        cast(statement_date as {{ ts }}) as ts,
        cast(null as {{ text }}) as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        payer_id_on_file as payer_id,
        amount_due as amount,
        11 as source_rank,
        _batch_id, _file, _record
    from {{ ref('stg_rcm__statements') }}
),

patient_paid as (
    select
        account_id as case_id,
        case when is_refund then 'REFUNDED' else 'PATIENT_PAID' end as activity,
        received_at as ts,
        payment_method as resource,
        'rcm' as source_system,
        cast(null as {{ text }}) as entity,
        cast(null as {{ text }}) as payer_id,
        amount,
        12 as source_rank,
        _batch_id, _file, _record
    from {{ ref('stg_rcm__patient_payments') }}
),

events as (
    select * from registered
    union all select * from eligibility_checked
    union all select * from charge_posted
    union all select * from claim_events
    union all select * from claim_submitted
    union all select * from remit_received
    union all select * from denied
    union all select * from payment_posted
    union all select * from gl_posted
    union all select * from deposited
    union all select * from statement_sent
    union all select * from patient_paid
),

loads as (
    select system, batch_id, max(loaded_at) as loaded_at
    from {{ ref('stg_ingest__batches') }}
    where is_loaded
    group by system, batch_id
),

final as (
    select
        cast(events.case_id as {{ text }}) as case_id,
        cast(events.activity as {{ text }}) as activity,
        cast(events.ts as {{ ts }}) as ts,
        cast(events.resource as {{ text }}) as resource,
        cast(events.source_system as {{ text }}) as source_system,
        cast(coalesce(events.entity, accounts.entity) as {{ text }}) as entity,
        cast(coalesce(events.payer_id, accounts.payer_id) as {{ text }}) as payer_id,
        cast(events.amount as decimal(18, 2)) as amount,
        cast(row_number() over (
            partition by events.case_id
            -- every column breaks ties, so two builds of the same data number alike
            order by events.ts, events.source_rank, events._batch_id, events._file,
                events._record, events.activity, events.amount, events.resource,
                events.entity, events.payer_id
        ) as {{ bigint }}) as event_order,
        cast(loads.loaded_at as {{ ts }}) as _loaded_at
    from events
    left join accounts on events.case_id = accounts.account_id
    left join loads
        on events.source_system = loads.system
        and events._batch_id = loads.batch_id
    where events.case_id is not null
        and events.ts is not null
        {%- if is_incremental() %}
        and {{ billops.is_touched('events.case_id') }}
        {%- endif %}
)

select * from final
