{%- set ts = dbt.type_timestamp() -%}
-- Each change to a work item with what the queue metrics need (docs/metrics.md): the item's
-- owner team (the seed exception_routing, by exception type), the start of the open period the
-- change belongs to (the data as-of time of the latest open, redetect or reopen up to it), when
-- that period was due, and whether the item was ever reopened, redetected or escalated. Days
-- and ages count by the data's as-of time, never the wall clock.
--
-- Due time of a period: the store keeps only the current period's (due_at, opened_at); an
-- earlier period is given the same service-level span (due_at - opened_at) from its own start.
with

events as (
    select * from {{ ref('stg_ops__work_item_events') }}
    where data_as_of is not null
),

items as (
    select exception_id, exception_type, opened_at, due_at
    from {{ ref('stg_ops__work_items') }}
),

routing as (
    select exception_type, owner_team from {{ ref('exception_routing') }}
),

periods as (
    select
        events.*,
        last_value(
            case when action in ('open', 'redetect', 'reopen') then data_as_of end ignore nulls
        ) over (
            partition by exception_id order by event_id
            rows between unbounded preceding and current row
        ) as period_opened_at
    from events
),

rework as (
    select
        exception_id,
        max(case when action in ('reopen', 'redetect', 'escalate') then 1 else 0 end) as reworked
    from events
    group by exception_id
),

final as (
    select
        cast(periods.event_id as bigint) as event_id,
        cast(periods.exception_id as varchar) as exception_id,
        cast(items.exception_type as varchar) as exception_type,
        cast(routing.owner_team as varchar) as owner_team,
        cast(periods.action as varchar) as action,
        cast(periods.from_status as varchar) as from_status,
        cast(periods.to_status as varchar) as to_status,
        cast(periods.queue as varchar) as queue,
        cast(periods.data_as_of as {{ ts }}) as data_as_of,
        cast(periods.as_of_date as date) as as_of_date,
        cast(periods.period_opened_at as {{ ts }}) as period_opened_at,
        cast(periods.period_opened_at + (items.due_at - items.opened_at) as {{ ts }})
            as period_due_at,
        cast(coalesce(rework.reworked, 0) = 1 as boolean) as reworked
    from periods
    inner join items on periods.exception_id = items.exception_id
    left join routing on items.exception_type = routing.exception_type
    left join rework on periods.exception_id = rework.exception_id
)

select * from final
