{#- JSON held in a text column: the JSON type to cast it to (one with equality, so it can be
    grouped and compared: jsonb on PostgreSQL), and the text of one of its top-level keys
    (NULL when absent). -#}
{% macro type_json() -%}
    {{ return(adapter.dispatch('type_json', 'boligsocial')()) }}
{%- endmacro %}

{% macro default__type_json() -%}
    jsonb
{%- endmacro %}

{% macro duckdb__type_json() -%}
    json
{%- endmacro %}

{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'boligsocial')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    (cast({{ column }} as jsonb) ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$."{{ key }}"')
{%- endmacro %}
