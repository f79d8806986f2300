{%- set measures = ['charges', 'payer_payments', 'patient_payments', 'contractual_adjustments',
                    'write_offs', 'refunds', 'gl_ar_movement'] -%}
-- AR roll-forward per entity and period: beginning AR + charges - payer payments - patient
-- payments - contractual adjustments - write-offs + refunds = ending AR (the RCM subledger),
-- against the GL AR control account balance (PATIENT_AR accounts, by account_type). The
-- variance is explained by reconciling items (int_ar_reconciling_items): per 835 trace, the
-- difference between what the subledger and the GL took off AR, where an open cash exception
-- flags the trace. What no open exception explains is unexplained_variance; on generated data
-- it is zero (tests/test_dbt_ar_rollforward.py).
with

movements as (
    select * from {{ ref('int_subledger_movements') }}
),

pivoted as (
    select
        entity,
        period,
        {{ billops.sum_by_measure(measures) }}
    from movements
    group by entity, period
),

rolled as (
    select
        pivoted.*,
        sum(charges - payer_payments - patient_payments - contractual_adjustments - write_offs
            + refunds) over (
            partition by entity order by period rows between unbounded preceding and current row
        ) as ending_ar,
        sum(gl_ar_movement) over (
            partition by entity order by period rows between unbounded preceding and current row
        ) as gl_ar_balance
    from pivoted
),

explained as (
    select entity, period, sum(ar_difference) as amount
    from {{ ref('int_ar_reconciling_items') }}
    where explained_by is not null
    group by entity, period
),

rolled_explained as (
    select
        rolled.entity,
        rolled.period,
        sum(coalesce(explained.amount, 0)) over (
            partition by rolled.entity order by rolled.period
            rows between unbounded preceding and current row
        ) as explained_by_exceptions
    from rolled
    left join explained on rolled.entity = explained.entity and rolled.period = explained.period
),

open_exceptions as (
    select entity, sum(amount_at_risk) as amount
    from {{ ref('billing_exceptions') }}
    where {{ billops.exception_is_open('status') }}
    group by entity
),

final as (
    select
        cast(rolled.entity as {{ dbt.type_string() }}) as entity,
        cast(rolled.period as {{ dbt.type_string() }}) as period,
        cast(rolled.ending_ar - (rolled.charges - rolled.payer_payments - rolled.patient_payments
            - rolled.contractual_adjustments - rolled.write_offs + rolled.refunds)
            as decimal(18, 2)) as beginning_ar,
        cast(rolled.charges as decimal(18, 2)) as charges,
        cast(rolled.payer_payments as decimal(18, 2)) as payer_payments,
        cast(rolled.patient_payments as decimal(18, 2)) as patient_payments,
        cast(rolled.contractual_adjustments as decimal(18, 2)) as contractual_adjustments,
        cast(rolled.write_offs as decimal(18, 2)) as write_offs,
        cast(rolled.refunds as decimal(18, 2)) as refunds,
        cast(rolled.ending_ar as decimal(18, 2)) as ending_ar,
        cast(rolled.gl_ar_balance as decimal(18, 2)) as gl_ar_balance,
        cast(rolled.ending_ar - rolled.gl_ar_balance as decimal(18, 2)) as variance,
        cast(coalesce(open_exceptions.amount, 0) as decimal(18, 2)) as open_exception_amount,
        cast(rolled_explained.explained_by_exceptions as decimal(18, 2))
            as explained_by_exceptions,
        cast(rolled.ending_ar - rolled.gl_ar_balance - rolled_explained.explained_by_exceptions
            as decimal(18, 2)) as unexplained_variance
    from rolled
    left join open_exceptions on rolled.entity = open_exceptions.entity
    left join rolled_explained
        on rolled.entity = rolled_explained.entity
        and rolled.period = rolled_explained.period
)

select * from final
