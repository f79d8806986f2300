{%- set text = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set activity_map = var('claim_event_activities') -%}
-- One row per billing-system claim workflow event (claim_events.csv), with the event-log
-- activity it maps to (var claim_event_activities; an unlisted type is used as is) and the
-- account's entity.
with

events as (
    select * from {{ ref('stg_rcm__claim_events') }}
),

final as (
    select
        cast(events.claim_event_key as {{ text }}) as claim_event_key,
        cast(events.claim_id as {{ text }}) as claim_id,
        cast(events.event_type as {{ text }}) as event_type,
        cast(case events.event_type
            {%- for event_type, activity in activity_map.items() %}
            when '{{ event_type | upper }}' then '{{ activity }}'
            {%- endfor %}
            else events.event_type
        end as {{ text }}) as activity,
        cast(events.occurred_at as {{ ts }}) as occurred_at,
        cast(events.actor as {{ text }}) as actor,
        cast(events.queue as {{ text }}) as queue,
        cast(events.detail as {{ text }}) as detail,
        cast(accounts.entity as {{ text }}) as entity,
        cast(events._batch_id as {{ text }}) as _batch_id
    from events
    left join {{ ref('int_accounts') }} as accounts on events.claim_id = accounts.account_id
)

select * from final
