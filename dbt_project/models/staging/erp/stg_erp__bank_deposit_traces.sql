{%- set max_traces = 50 -%}
-- One row per bank deposit row and trace it carries. trace_number may list several traces (a
-- lockbox deposit of several remittances), separated by commas, semicolons, pipes or spaces;
-- trace_count says how many the row lists (the row's amount is for all of them). A row without a
-- trace gives no row here (non-patient cash, or a lockbox deposit matched by payer and day in
-- int_exc_deposit_mismatch).
with

deposits as (
    select
        *,
        replace(replace(replace(replace(trim(trace_number), ';', ','), '|', ','), ' ', ','), chr(9), ',')
            as trace_list
    from {{ ref('stg_erp__bank_deposits') }}
    where trace_number is not null and trim(trace_number) <> ''
),

positions as (
    {%- for n in range(1, max_traces + 1) %}
    select {{ n }} as position{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

items as (
    select
        deposits.deposit_line_key,
        deposits.deposit_id,
        deposits.entity,
        deposits.deposit_date,
        deposits.amount,
        positions.position,
        trim({{ dbt.split_part('deposits.trace_list', "','", 'positions.position') }}) as trace_number
    from deposits
    inner join positions
        on positions.position <= length(deposits.trace_list) - length(replace(deposits.trace_list, ',', '')) + 1
),

listed as (
    select * from items where trace_number is not null and trace_number <> ''
),

final as (
    select
        {{ billops.key_of(['deposit_line_key', 'trace_number']) }} as deposit_trace_key,
        deposit_line_key,
        deposit_id,
        entity,
        deposit_date,
        amount,
        trace_number,
        count(*) over (partition by deposit_line_key) as trace_count
    from listed
)

select * from final
