-- Reconciling items between the RCM subledger and the GL AR control account, per 835 payment
-- (trace number), entity and period: what the subledger took off AR for the trace (payer
-- payments and contractual adjustments) against what the GL took off its PATIENT_AR accounts
-- (found by account_type) in journals referencing the trace. A clean payment nets to zero in its
-- period; a payment missing from the GL, posted at another amount or posted twice leaves a
-- difference, and the open cash exception on the trace (REMIT_NOT_IN_GL, GL_AMOUNT_MISMATCH,
-- GL_DUPLICATE_POSTING) explains it; a payment not yet posted while its posting lag window
-- (gl_posting_lag_days) runs is cash in transit (POSTING_IN_TRANSIT); a payment the GL posted
-- whole but in another period than the subledger (a posting lag across a month end) is a timing
-- item (POSTED_IN_ANOTHER_PERIOD). ar_difference is the item's effect on the roll-forward's
-- variance (subledger ending AR - GL AR balance).
with

subledger as (
    select entity, period, trace_number, sum(amount) as subledger_credit
    from {{ ref('int_account_movements') }}
    where measure in ('payer_payments', 'contractual_adjustments')
        and trace_number is not null
    group by entity, period, trace_number
),

gl_ar as (
    select lines.entity, lines.period, lines.reference as trace_number,
        -sum(lines.net_amount) as gl_credit
    from {{ ref('stg_erp__gl_journal_lines') }} as lines
    inner join {{ ref('stg_erp__chart_of_accounts') }} as chart
        on lines.entity = chart.entity and lines.account = chart.account
    where chart.account_type = 'PATIENT_AR'
        and lines.reference in (select trace_number from {{ ref('stg_rcm__remittances') }})
    group by lines.entity, lines.period, lines.reference
),

joined as (
    select
        coalesce(subledger.entity, gl_ar.entity) as entity,
        coalesce(subledger.period, gl_ar.period) as period,
        coalesce(subledger.trace_number, gl_ar.trace_number) as trace_number,
        coalesce(subledger.subledger_credit, 0) as subledger_credit,
        coalesce(gl_ar.gl_credit, 0) as gl_credit
    from subledger
    full outer join gl_ar
        on subledger.entity = gl_ar.entity
        and subledger.period = gl_ar.period
        and subledger.trace_number = gl_ar.trace_number
),

open_cash_exceptions as (
    select trace_number, min(exception_type) as exception_type
    from {{ ref('billing_exceptions') }}
    where exception_type in ('REMIT_NOT_IN_GL', 'GL_AMOUNT_MISMATCH', 'GL_DUPLICATE_POSTING')
        and {{ billops.exception_is_open('status') }}
        and trace_number is not null
    group by trace_number
),

in_transit as (
    -- paid, not posted yet, and the posting window still open at the as-of time
    select trace_number
    from {{ ref('stg_rcm__remittances') }}
    where {{ billops.plus_window('payment_date', 'gl_posting_lag_days') }}
        > {{ billops.as_of_timestamp() }}
),

-- traces the GL took off AR in full, in another period than the subledger did
balanced_across_periods as (
    select trace_number
    from joined
    group by trace_number
    having count(distinct period) > 1
        and not {{ billops.amounts_differ('sum(gl_credit)', 'sum(subledger_credit)') }}
),

final as (
    select
        joined.entity,
        joined.period,
        joined.trace_number,
        joined.subledger_credit,
        joined.gl_credit,
        joined.gl_credit - joined.subledger_credit as ar_difference,
        coalesce(
            open_cash_exceptions.exception_type,
            case when in_transit.trace_number is not null and joined.gl_credit = 0
                 then 'POSTING_IN_TRANSIT' end,
            case when balanced_across_periods.trace_number is not null
                 then 'POSTED_IN_ANOTHER_PERIOD' end
        ) as explained_by
    from joined
    left join open_cash_exceptions on joined.trace_number = open_cash_exceptions.trace_number
    left join in_transit on joined.trace_number = in_transit.trace_number
    left join balanced_across_periods
        on joined.trace_number = balanced_across_periods.trace_number
    where {{ billops.amounts_differ('joined.gl_credit', 'joined.subledger_credit') }}
)

select * from final
