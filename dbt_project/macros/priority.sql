{#- The work queue's priority: dollars at risk weighted by age, so old, large breaks come first.
    One formula for the exceptions (marts.billing_exceptions) and the accounts
    (marts.fct_account_reconciliation, read by ml.account_priorities and the close package). -#}
{% macro priority_score(amount, age_days) -%}
    abs(coalesce({{ amount }}, 0)) * ln(2 + {{ age_days }})
{%- endmacro %}
