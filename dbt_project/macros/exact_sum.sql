{#- Sum and mean of doubles that do not depend on the order of the rows. Floating point
    addition is not associative, and parallel aggregation adds a group's rows in an order that
    differs between runs (525.2 one time, 525.1999999999999 the next). Each value is rounded
    to 18 decimals first (below a double's precision for the magnitudes here: shares, persons,
    DKK up to 10^20) and summed exactly as DECIMAL; the result is a double again. `over`: the
    window (e.g. `partition by year`) for a window sum. -#}
{% macro exact_sum(expression, over=none) -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))){% if over %} over ({{ over }}){% endif %} as double precision)
{%- endmacro %}

{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 18))) as double precision)
{%- endmacro %}
