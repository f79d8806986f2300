{%- set ts = dbt.type_timestamp() -%}
-- One row per work item and day, from the day of its first event to the last day of data: its
-- status and queue at the end of the day (its latest change up to that day), and, while open,
-- its age and whether it is past due. A day is a date of the data's as-of time of some change
-- (a sync, or people acting on that sync's data); its clock (day_as_of) is the latest as-of
-- time of that date. Never the wall clock.
with

events as (
    select * from {{ ref('int_work_item_events') }}
),

days as (
    select as_of_date, max(data_as_of) as day_as_of
    from events
    group by as_of_date
),

first_days as (
    select exception_id, min(as_of_date) as first_date
    from events
    group by exception_id
),

item_days as (
    select first_days.exception_id, days.as_of_date, days.day_as_of
    from first_days
    inner join days on days.as_of_date >= first_days.first_date
),

ranked as (
    select
        item_days.exception_id,
        item_days.as_of_date,
        item_days.day_as_of,
        events.exception_type,
        events.owner_team,
        events.queue,
        events.to_status as status,
        events.period_opened_at,
        events.period_due_at,
        row_number() over (
            partition by item_days.exception_id, item_days.as_of_date
            order by events.event_id desc
        ) as latest
    from item_days
    inner join events
        on events.exception_id = item_days.exception_id
        and events.as_of_date <= item_days.as_of_date
),

states as (
    select
        *,
        status in ('OPEN', 'ASSIGNED', 'SNOOZED') as is_open
    from ranked
    where latest = 1
),

final as (
    select
        cast(exception_id as varchar) as exception_id,
        cast(as_of_date as date) as as_of_date,
        cast(day_as_of as {{ ts }}) as day_as_of,
        cast(exception_type as varchar) as exception_type,
        cast(owner_team as varchar) as owner_team,
        cast(queue as varchar) as queue,
        cast(status as varchar) as status,
        cast(is_open as boolean) as is_open,
        cast(case when is_open then
            round({{ dbt.datediff('period_opened_at', 'day_as_of', 'second') }} / 86400.0, 2)
        end as decimal(10, 2)) as age_days,
        cast(is_open and period_due_at is not null and day_as_of > period_due_at as boolean)
            as is_breached
    from states
)

select * from final
