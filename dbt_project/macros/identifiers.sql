{#-
  How identities compare across systems (issue 21): a member id is compared without case,
  spaces and punctuation, so the EHR's "MS 604-458-712" is the 837's "MS604458712". An empty
  result is null (no member id).
-#}
{% macro normalized_member_id(expr) -%}
    {{ return(adapter.dispatch('normalized_member_id', 'billops')(expr)) }}
{%- endmacro %}

{% macro default__normalized_member_id(expr) -%}
    nullif(upper(regexp_replace(cast({{ expr }} as {{ dbt.type_string() }}), '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}

{% macro spark__normalized_member_id(expr) -%}
    nullif(upper(regexp_replace(cast({{ expr }} as string), '[^A-Za-z0-9]', '')), '')
{%- endmacro %}


{#-
  True when a claim's or statement's member id agrees with a coverage's: equal once normalized,
  or the coverage has none (Coverage.subscriberId is optional: the claim's NM109 is then the
  member id on file).
-#}
{% macro member_ids_agree(coverage_member_id, billed_member_id) -%}
    ({{ billops.normalized_member_id(coverage_member_id) }} is null
     or {{ billops.normalized_member_id(coverage_member_id) }}
        = {{ billops.normalized_member_id(billed_member_id) }})
{%- endmacro %}


{#- The patient key of a FHIR Patient: its MR identifier (v2-0203), else its logical id. -#}
{% macro patient_key(mrn, fhir_id) -%}
    coalesce(nullif(trim({{ mrn }}), ''), {{ fhir_id }})
{%- endmacro %}
