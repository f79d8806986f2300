-- marts.fct_work_queue_daily holds one row per data day, queue and owner team.
select as_of_date, queue, owner_team, count(*) as rows_of_key
from {{ ref('fct_work_queue_daily') }}
group by as_of_date, queue, owner_team
having count(*) > 1
