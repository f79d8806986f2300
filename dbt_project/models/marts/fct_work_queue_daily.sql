{%- set ts = dbt.type_timestamp() -%}
-- The work queues per day (docs/metrics.md, "Work-queue metrics"): one row per data day x queue x
-- owner team. A day is a date of the data's as-of time (int_work_item_daily_states), never the
-- wall clock. From the items' state at the end of the day: open items, their median and maximum
-- age in days, and those past due (SLA breaches while open). From the day's changes: items
-- opened (new, redetected or reopened), resolved, auto-resolved and dismissed, resolutions after
-- the due time, and first-pass resolutions (of an item never reopened, redetected or escalated).
-- The work items are copied from the operational store when the run starts, so a run shows the
-- queues up to the previous sync and the people's actions since.
with

states as (
    select * from {{ ref('int_work_item_daily_states') }}
),

events as (
    select * from {{ ref('int_work_item_events') }}
),

days as (
    select as_of_date, max(day_as_of) as day_as_of
    from states
    group by as_of_date
),

end_of_day as (
    select
        as_of_date,
        queue,
        owner_team,
        sum(case when is_open then 1 else 0 end) as open_items,
        {{ billops.median_of('case when is_open then age_days end') }} as median_age_days,
        max(case when is_open then age_days end) as max_age_days,
        sum(case when is_breached then 1 else 0 end) as breached_open,
        0 as opened, 0 as resolved, 0 as auto_resolved, 0 as dismissed, 0 as resolved_late,
        0 as resolved_first_pass
    from states
    group by as_of_date, queue, owner_team
),

changes as (
    select
        as_of_date,
        queue,
        owner_team,
        0 as open_items,
        cast(null as decimal(10, 2)) as median_age_days,
        cast(null as decimal(10, 2)) as max_age_days,
        0 as breached_open,
        sum(case when action in ('open', 'redetect', 'reopen') then 1 else 0 end) as opened,
        sum(case when action = 'resolve' then 1 else 0 end) as resolved,
        sum(case when action = 'auto_resolve' then 1 else 0 end) as auto_resolved,
        sum(case when action = 'dismiss' then 1 else 0 end) as dismissed,
        sum(case when action = 'resolve' and data_as_of > period_due_at then 1 else 0 end)
            as resolved_late,
        sum(case when action = 'resolve' and not reworked then 1 else 0 end)
            as resolved_first_pass
    from events
    group by as_of_date, queue, owner_team
),

combined as (
    select
        as_of_date,
        queue,
        owner_team,
        sum(open_items) as open_items,
        max(median_age_days) as median_age_days,
        max(max_age_days) as max_age_days,
        sum(breached_open) as breached_open,
        sum(opened) as opened,
        sum(resolved) as resolved,
        sum(auto_resolved) as auto_resolved,
        sum(dismissed) as dismissed,
        sum(resolved_late) as resolved_late,
        sum(resolved_first_pass) as resolved_first_pass
    from (
        select * from end_of_day
        union all
        select * from changes
    ) as parts
    group by as_of_date, queue, owner_team
),

final as (
    select
        cast(combined.as_of_date as date) as as_of_date,
        cast(days.day_as_of as {{ ts }}) as day_as_of,
        cast(combined.queue as varchar) as queue,
        cast(combined.owner_team as varchar) as owner_team,
        cast(combined.open_items as integer) as open_items,
        cast(combined.opened as integer) as opened,
        cast(combined.resolved as integer) as resolved,
        cast(combined.auto_resolved as integer) as auto_resolved,
        cast(combined.dismissed as integer) as dismissed,
        cast(combined.median_age_days as decimal(10, 2)) as median_age_days,
        cast(combined.max_age_days as decimal(10, 2)) as max_age_days,
        cast(combined.breached_open as integer) as breached_open,
        cast(combined.resolved_late as integer) as resolved_late,
        cast(combined.breached_open + combined.resolved_late as integer) as sla_breaches,
        cast(combined.resolved_first_pass as integer) as resolved_first_pass,
        cast({{ billops.safe_ratio('combined.resolved_first_pass', 'combined.resolved') }}
            as decimal(6, 4)) as first_pass_resolution_rate
    from combined
    inner join days on combined.as_of_date = days.as_of_date
    where combined.open_items + combined.opened + combined.resolved + combined.auto_resolved
        + combined.dismissed > 0
)

select * from final
