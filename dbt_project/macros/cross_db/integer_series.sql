{#- The integers start .. stop (both included), one row each: a set-returning expression for
    a select list. -#}
{% macro integer_series(start, stop) -%}
    {{ return(adapter.dispatch('integer_series', 'boligsocial')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_series(start, stop) -%}
    generate_series({{ start }}, {{ stop }})
{%- endmacro %}

{#- DuckDB's generate_series in a select list is a scalar returning a list. -#}
{% macro duckdb__integer_series(start, stop) -%}
    unnest(range({{ start }}, {{ stop }} + 1))
{%- endmacro %}
