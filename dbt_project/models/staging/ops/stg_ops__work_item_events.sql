-- Each change to a work item (ops.work_item_events), with the data's as-of time and its date:
-- the queue metrics count days by the data's time, never the wall clock.
with

source as (
    select * from {{ source('ops', 'work_item_events') }}
),

renamed as (
    select
        event_id,
        exception_id,
        lower(action) as action,
        upper(from_status) as from_status,
        upper(to_status) as to_status,
        upper(queue) as queue,
        actor,
        channel,
        "at" as written_at,
        as_of as data_as_of,
        cast(as_of as date) as as_of_date,
        version
    from source
)

select * from renamed
