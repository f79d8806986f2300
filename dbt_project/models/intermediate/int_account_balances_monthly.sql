-- Each account's AR balance at the end of every period from its first movement to the as-of
-- period (the cumulative sum of int_account_movements), with what the month-end KPIs need: its
-- age, the charges entered so far, and whether it is discharged but not yet billed (DNFB). The
-- last period ends at the as-of time, not at the month's end.
with

movements as (
    select account_id, period, sum(ar_effect) as ar_effect,
        sum(case when measure = 'charges' then amount else 0 end) as charges
    from {{ ref('int_account_movements') }}
    group by account_id, period
),

as_of as (
    select cast({{ billops.as_of_timestamp() }} as date) as as_of_date
),

periods as (
    select period from movements
    union
    select {{ billops.period_of('as_of_date') }} from as_of
),

bounds as (
    select
        periods.period,
        case
            when {{ dbt.last_day("cast(" ~ dbt.concat(["periods.period", "'-01'"]) ~ " as date)", 'month') }}
                > as_of.as_of_date
                then as_of.as_of_date
            else {{ dbt.last_day("cast(" ~ dbt.concat(["periods.period", "'-01'"]) ~ " as date)", 'month') }}
        end as period_end_date
    from periods
    cross join as_of
    where periods.period <= {{ billops.period_of('as_of.as_of_date') }}
),

account_starts as (
    select account_id, min(period) as first_period from movements group by account_id
),

grid as (
    select account_starts.account_id, bounds.period, bounds.period_end_date
    from account_starts
    inner join bounds on bounds.period >= account_starts.first_period
),

cumulative as (
    select
        grid.account_id,
        grid.period,
        grid.period_end_date,
        sum(coalesce(movements.ar_effect, 0)) over (
            partition by grid.account_id order by grid.period
            rows between unbounded preceding and current row
        ) as ar_balance,
        sum(coalesce(movements.charges, 0)) over (
            partition by grid.account_id order by grid.period
            rows between unbounded preceding and current row
        ) as charges_to_date
    from grid
    left join movements
        on grid.account_id = movements.account_id
        and grid.period = movements.period
),

final as (
    select
        cumulative.account_id,
        kpi_accounts.entity,
        kpi_accounts.payer_id,
        cumulative.period,
        cumulative.period_end_date,
        cumulative.ar_balance,
        cumulative.charges_to_date,
        {{ dbt.datediff('kpi_accounts.service_date', 'cumulative.period_end_date', 'day') }}
            as age_days,
        kpi_accounts.discharge_date <= cumulative.period_end_date
            and (kpi_accounts.first_submitted_at is null
                 or cast(kpi_accounts.first_submitted_at as date) > cumulative.period_end_date)
            as is_dnfb
    from cumulative
    inner join {{ ref('int_kpi_accounts') }} as kpi_accounts
        on cumulative.account_id = kpi_accounts.account_id
)

select * from final
