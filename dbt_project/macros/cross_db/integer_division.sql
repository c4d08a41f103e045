{#- Exact integers wide enough for a product of two amounts in their smallest units (øre ×
    weights), and their floor division (both operands non-negative). -#}
{% macro type_wide_integer() -%}
    {{ return(adapter.dispatch('type_wide_integer', 'boligsocial')()) }}
{%- endmacro %}

{% macro default__type_wide_integer() -%}
    numeric(38, 0)
{%- endmacro %}

{% macro duckdb__type_wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'boligsocial')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    div({{ dividend }}, {{ divisor }})
{%- endmacro %}

{#- DuckDB's `/` on integers gives a double; `//` divides exactly. -#}
{% macro duckdb__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}
