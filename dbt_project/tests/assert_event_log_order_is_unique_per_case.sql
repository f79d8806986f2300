-- event_order is the tie-breaker of equal timestamps: it must be unique within a case.
select case_id, event_order, count(*) as events
from {{ ref('billing_event_log') }}
group by case_id, event_order
having count(*) > 1
