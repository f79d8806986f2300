-- The latest work-queue action per exception, as copied from the operational store.
with

source as (
    select * from {{ source('ops', 'exception_status') }}
),

renamed as (
    select
        exception_id,
        upper(status) as status,
        assignee,
        note as status_note,
        acted_by as status_changed_by,
        acted_at as status_changed_at
    from source
)

select * from renamed
