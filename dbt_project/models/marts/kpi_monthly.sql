{%- set text = dbt.type_string() -%}
{%- set integer = dbt.type_int() -%}
-- Revenue-cycle KPIs per entity, payer and period (docs/metrics.md gives each formula and its
-- source). Counts and amounts sit beside each ratio so that a higher level (entity, system) is
-- re-aggregated from them, never by averaging ratios. A ratio with an empty denominator is null.
with

accounts as (
    select * from {{ ref('int_kpi_accounts') }}
),

movements as (
    select movements.*, accounts.payer_id
    from {{ ref('int_account_movements') }} as movements
    inner join accounts on movements.account_id = accounts.account_id
),

balances as (
    select * from {{ ref('int_account_balances_monthly') }}
),

charges as (
    select charges.*, accounts.payer_id
    from {{ ref('fct_charges') }} as charges
    inner join accounts on charges.account_id = accounts.account_id
    where charges.is_billable
),

submissions as (
    select
        entity, payer_id, {{ billops.period_of('first_submitted_at') }} as period,
        count(*) as claims_submitted,
        sum(case when is_clean_first_claim then 1 else 0 end) as clean_claims
    from accounts
    where first_submitted_at is not null
    group by 1, 2, 3
),

adjudications as (
    select
        entity, payer_id, {{ billops.period_of('first_adjudicated_on') }} as period,
        count(*) as claims_adjudicated,
        sum(case when is_initially_denied then 1 else 0 end) as initial_denials,
        sum(first_adjudicated_charge_amount) as adjudicated_charge_amount,
        sum(case when is_initially_denied then first_adjudicated_charge_amount else 0 end)
            as initial_denied_amount,
        sum(case when is_first_pass_resolved then 1 else 0 end) as first_pass_resolved
    from accounts
    where first_adjudicated_on is not null
    group by 1, 2, 3
),

money as (
    select
        movements.entity, movements.payer_id, movements.period,
        sum(case when measure = 'charges' then amount else 0 end) as gross_charges,
        sum(case when measure = 'contractual_adjustments' then amount else 0 end)
            as contractual_adjustments,
        sum(case when measure in ('payer_payments', 'patient_payments') then amount
                 when measure = 'refunds' then -amount else 0 end) as cash_collections,
        sum(case when measure = 'write_offs' and accounts.is_finally_denied then amount else 0 end)
            as denial_write_off_amount
    from movements
    inner join accounts on movements.account_id = accounts.account_id
    group by 1, 2, 3
),

charge_stats as (
    select
        entity, payer_id, entry_period as period,
        count(*) as charge_lines,
        avg(cast(charge_lag_days as {{ dbt.type_float() }})) as avg_charge_lag_days,
        sum(case when is_late then 1 else 0 end) as late_charge_count,
        sum(case when is_late then charge_amount else 0 end) as late_charge_amount
    from charges
    group by 1, 2, 3
),

month_end as (
    select
        entity, payer_id, period,
        max(period_end_date) as period_end_date,
        sum(ar_balance) as ar_balance,
        sum(case when ar_balance > 0 then ar_balance else 0 end) as debit_ar_balance,
        sum(case when ar_balance > 0 and age_days > 90 then ar_balance else 0 end)
            as aged_ar_over_90_amount,
        sum(case when ar_balance < -0.005 then 1 else 0 end) as credit_balance_accounts,
        sum(case when ar_balance < -0.005 then -ar_balance else 0 end) as credit_balance_amount,
        sum(case when is_dnfb then 1 else 0 end) as dnfb_accounts,
        sum(case when is_dnfb then charges_to_date else 0 end) as dnfb_amount
    from balances
    group by 1, 2, 3
),

keys as (
    select entity, payer_id, period from submissions
    union select entity, payer_id, period from adjudications
    union select entity, payer_id, period from money
    union select entity, payer_id, period from charge_stats
    union select entity, payer_id, period from month_end
),

period_days as (
    select distinct
        period,
        {{ dbt.datediff("cast(" ~ dbt.concat(["period", "'-01'"]) ~ " as date)",
                        'period_end_date', 'day') }} + 1 as days
    from balances
),

joined as (
    select
        keys.entity,
        keys.payer_id,
        keys.period,
        coalesce(period_days.days, 0) as days,
        coalesce(submissions.claims_submitted, 0) as claims_submitted,
        coalesce(submissions.clean_claims, 0) as clean_claims,
        coalesce(adjudications.claims_adjudicated, 0) as claims_adjudicated,
        coalesce(adjudications.initial_denials, 0) as initial_denials,
        coalesce(adjudications.adjudicated_charge_amount, 0) as adjudicated_charge_amount,
        coalesce(adjudications.initial_denied_amount, 0) as initial_denied_amount,
        coalesce(adjudications.first_pass_resolved, 0) as first_pass_resolved,
        coalesce(money.gross_charges, 0) as gross_charges,
        coalesce(money.contractual_adjustments, 0) as contractual_adjustments,
        coalesce(money.gross_charges, 0) - coalesce(money.contractual_adjustments, 0)
            as net_revenue,
        coalesce(money.cash_collections, 0) as cash_collections,
        coalesce(money.denial_write_off_amount, 0) as denial_write_off_amount,
        coalesce(charge_stats.charge_lines, 0) as charge_lines,
        charge_stats.avg_charge_lag_days,
        coalesce(charge_stats.late_charge_count, 0) as late_charge_count,
        coalesce(charge_stats.late_charge_amount, 0) as late_charge_amount,
        coalesce(month_end.ar_balance, 0) as ar_balance,
        coalesce(month_end.debit_ar_balance, 0) as debit_ar_balance,
        coalesce(month_end.aged_ar_over_90_amount, 0) as aged_ar_over_90_amount,
        coalesce(month_end.credit_balance_accounts, 0) as credit_balance_accounts,
        coalesce(month_end.credit_balance_amount, 0) as credit_balance_amount,
        coalesce(month_end.dnfb_accounts, 0) as dnfb_accounts,
        coalesce(month_end.dnfb_amount, 0) as dnfb_amount
    from keys
    left join submissions using (entity, payer_id, period)
    left join adjudications using (entity, payer_id, period)
    left join money using (entity, payer_id, period)
    left join charge_stats using (entity, payer_id, period)
    left join month_end using (entity, payer_id, period)
    left join period_days on keys.period = period_days.period
    where keys.entity is not null and keys.period is not null
),

-- average daily net and gross revenue over the period and the two before it (HFMA's usual
-- three-month base for days in AR)
trailing_revenue as (
    select
        joined.*,
        sum(net_revenue) over (
            partition by entity, payer_id order by period
            rows between 2 preceding and current row
        ) as trailing_net_revenue,
        sum(days) over (
            partition by entity, payer_id order by period
            rows between 2 preceding and current row
        ) as trailing_days
    from joined
),

final as (
    select
        cast(entity as {{ text }}) as entity,
        cast(payer_id as {{ text }}) as payer_id,
        cast(period as {{ text }}) as period,
        cast(claims_submitted as {{ integer }}) as claims_submitted,
        cast(clean_claims as {{ integer }}) as clean_claims,
        cast({{ billops.safe_ratio('clean_claims', 'claims_submitted') }} as decimal(18, 4))
            as clean_claim_rate,
        cast(claims_adjudicated as {{ integer }}) as claims_adjudicated,
        cast(initial_denials as {{ integer }}) as initial_denials,
        cast({{ billops.safe_ratio('initial_denials', 'claims_adjudicated') }} as decimal(18, 4))
            as initial_denial_rate,
        cast(adjudicated_charge_amount as decimal(18, 2)) as adjudicated_charge_amount,
        cast(initial_denied_amount as decimal(18, 2)) as initial_denied_amount,
        cast({{ billops.safe_ratio('initial_denied_amount', 'adjudicated_charge_amount') }}
            as decimal(18, 4)) as initial_denial_dollar_rate,
        cast(denial_write_off_amount as decimal(18, 2)) as denial_write_off_amount,
        cast({{ billops.safe_ratio('denial_write_off_amount', 'net_revenue') }} as decimal(18, 4))
            as denial_write_off_share,
        cast(gross_charges as decimal(18, 2)) as gross_charges,
        cast(contractual_adjustments as decimal(18, 2)) as contractual_adjustments,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(ar_balance as decimal(18, 2)) as ar_balance,
        cast({{ billops.safe_ratio('ar_balance',
                                   billops.safe_ratio('trailing_net_revenue', 'trailing_days')) }}
            as decimal(18, 1)) as days_in_ar,
        cast(aged_ar_over_90_amount as decimal(18, 2)) as aged_ar_over_90_amount,
        cast({{ billops.safe_ratio('aged_ar_over_90_amount', 'debit_ar_balance') }}
            as decimal(18, 4)) as aged_ar_over_90_share,
        cast(dnfb_accounts as {{ integer }}) as dnfb_accounts,
        cast(dnfb_amount as decimal(18, 2)) as dnfb_amount,
        cast({{ billops.safe_ratio('dnfb_amount', billops.safe_ratio('gross_charges', 'days')) }}
            as decimal(18, 1)) as dnfb_days,
        cast(charge_lines as {{ integer }}) as charge_lines,
        cast(avg_charge_lag_days as decimal(18, 2)) as avg_charge_lag_days,
        cast(late_charge_count as {{ integer }}) as late_charge_count,
        cast(late_charge_amount as decimal(18, 2)) as late_charge_amount,
        cast({{ billops.safe_ratio('late_charge_amount', 'gross_charges') }} as decimal(18, 4))
            as late_charge_share,
        cast(cash_collections as decimal(18, 2)) as cash_collections,
        cast({{ billops.safe_ratio('cash_collections', 'net_revenue') }} as decimal(18, 4))
            as cash_collection_share,
        cast(credit_balance_accounts as {{ integer }}) as credit_balance_accounts,
        cast(credit_balance_amount as decimal(18, 2)) as credit_balance_amount,
        cast(first_pass_resolved as {{ integer }}) as first_pass_resolved,
        cast({{ billops.safe_ratio('first_pass_resolved', 'claims_adjudicated') }}
            as decimal(18, 4)) as first_pass_resolution_rate
    from trailing_revenue
)

select * from final
