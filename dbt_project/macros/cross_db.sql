{#-
  Adapter-dispatched helpers for what the dbt cross-database macros do not cover. Each has a
  DuckDB implementation and a default (ANSI or PostgreSQL flavoured) so the project can move to
  another engine by adding an <adapter>__ variant here, not by editing models.
-#}

{#- 'YYYY-MM' of a date or timestamp. -#}
{% macro period_of(expr) -%}
    {{ return(adapter.dispatch('period_of', 'billops')(expr)) }}
{%- endmacro %}

{% macro default__period_of(expr) -%}
    to_char({{ expr }}, 'YYYY-MM')
{%- endmacro %}

{% macro duckdb__period_of(expr) -%}
    strftime({{ expr }}, '%Y-%m')
{%- endmacro %}

{% macro spark__period_of(expr) -%}
    date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}


{#- A text expression as a BIGINT, or null when it is not an integer (FHIR meta.versionId). -#}
{% macro try_to_bigint(expr) -%}
    {{ return(adapter.dispatch('try_to_bigint', 'billops')(expr)) }}
{%- endmacro %}

{% macro default__try_to_bigint(expr) -%}
    case when {{ expr }} ~ '^[0-9]{1,18}$' then cast({{ expr }} as bigint) end
{%- endmacro %}

{% macro duckdb__try_to_bigint(expr) -%}
    try_cast({{ expr }} as bigint)
{%- endmacro %}

{% macro spark__try_to_bigint(expr) -%}
    try_cast({{ expr }} as bigint)
{%- endmacro %}


{#- numerator / denominator, null when the denominator is null or zero (portable: no engine's
    division-by-zero behaviour is relied on). -#}
{% macro safe_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_float() }})
     / nullif(cast({{ denominator }} as {{ dbt.type_float() }}), 0))
{%- endmacro %}


{#- The median of a column in an aggregate (the queue metrics' median age): DuckDB's exact
    median, Spark's exact percentile. -#}
{% macro median_of(expr) -%}
    {{ return(adapter.dispatch('median_of', 'billops')(expr)) }}
{%- endmacro %}

{% macro default__median_of(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median_of(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__median_of(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}
