-- Each work item as the operational store held it when the run started (ops.work_items).
with

source as (
    select * from {{ source('ops', 'work_items') }}
),

renamed as (
    select
        exception_id,
        exception_type,
        entity,
        upper(queue) as queue,
        upper(escalation_queue) as escalation_queue,
        upper(status) as status,
        assignee,
        opened_at,
        due_at,
        sla_business_hours,
        resolution_code,
        amount_at_risk,
        version
    from source
)

select * from renamed
