{#- Helpers shared by the exception rule models (int_exc_*) and marts.billing_exceptions. -#}

{#- A typed null text column. -#}
{% macro null_text() -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}


{#- True when `day` lies in [from_col, to_col], an empty bound being open (reference data). -#}
{% macro effective_on(day, from_col, to_col) -%}
    ({{ from_col }} is null or {{ from_col }} <= {{ day }})
    and ({{ to_col }} is null or {{ to_col }} >= {{ day }})
{%- endmacro %}


{#- `ts` plus a number of days held in a dbt var (a rule window). -#}
{% macro plus_window(ts, var_name) -%}
    {{ dbt.dateadd('day', var(var_name), ts) }}
{%- endmacro %}


{#- Two amounts differ by more than half a cent. -#}
{% macro amounts_differ(a, b) -%}
    abs(coalesce({{ a }}, 0) - coalesce({{ b }}, 0)) > 0.005
{%- endmacro %}


{#- An exception still open: not resolved and not dismissed in the operational store. -#}
{% macro exception_is_open(status) -%}
    coalesce({{ status }}, 'OPEN') not in ('RESOLVED', 'DISMISSED')
{%- endmacro %}


{#- What a payer's contract (alias `contracts`) allows for a line: units x the per-unit amount,
    else the charge x the contracted fraction of charge. -#}
{% macro contract_allowed(units, charge) -%}
    coalesce(
        {{ units }} * contracts.expected_allowed_per_unit,
        {{ charge }} * contracts.allowed_pct_of_charge
    )
{%- endmacro %}


{#-
  A submitted claim (alias `claims`, stg_rcm__claims) that counts toward the account's current
  claim (alias `current_claims`, int_current_claims): the current claim itself, or an add-on
  to it (frequency 2-5: interim bills, late charges) to the same kind of payer submitted at or
  after it.
-#}
{% macro counts_toward_current_claim(claims='claims', current_claims='current_claims') -%}
    {{ claims }}.account_id = {{ current_claims }}.account_id
    and (
        {{ claims }}.claim_key = {{ current_claims }}.current_claim_key
        or (coalesce({{ claims }}.is_add_on, false)
            and coalesce({{ claims }}.is_secondary, false)
                = coalesce({{ current_claims }}.is_secondary, false)
            and {{ claims }}.submitted_at >= {{ current_claims }}.submitted_at)
    )
{%- endmacro %}


{#- The columns every exception rule model (int_exc_*) returns, in the order of the contract. -#}
{% macro exception_rule_columns() -%}
    {{ return(['exception_type', 'exception_key', 'entity', 'patient_id', 'account_id',
               'claim_id', 'charge_id', 'trace_number', 'journal_id', 'statement_id',
               'amount_at_risk', 'detected_at', 'root_cause']) }}
{%- endmacro %}


{#- The rule models' rows stacked by column name, never by position: each model's columns are
    selected by name, so a model that orders its columns differently still lines up. -#}
{% macro union_exception_rules(models) -%}
    {%- for model in models %}
    select {{ exception_rule_columns() | join(', ') }} from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{#- The select list of one exception rule's rows, in the contract's column order
    (exception_rule_columns): each column given by keyword as an SQL expression, a column not
    given is a typed null. -#}
{% macro exception_row(exception_type, exception_key, amount_at_risk, detected_at) -%}
    {%- set given = {'exception_type': "'" ~ exception_type ~ "'",
                     'exception_key': exception_key, 'amount_at_risk': amount_at_risk,
                     'detected_at': detected_at} -%}
    {%- do given.update(kwargs) -%}
    {%- for column in exception_rule_columns() %}
    {{ given.get(column, billops.null_text()) }} as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
