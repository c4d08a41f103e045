{#- The six area metrics of MARTS.md: numerator and denominator MÅL of the DST tabulation,
    the comparator MÅL of benchmarks.csv and its scale (percent -> ratio). Metrics are the
    contract's vocabulary; rulesets (seeds) pick among them. -#}
{% macro criteria_metric_definitions() %}
    {%- set metrics = [
        ('residents', 'BEF', none, none, none, false),
        ('unemployment_18_64', 'UDENFOR_18_64', 'BEF_18_64', 'UDENFOR_PCT_18_64', 0.01, true),
        ('crime_18plus', 'DOEMTE_18PLUS', 'BEF_18PLUS', 'DOEMTE_PCT_18PLUS', 0.01, true),
        ('basic_education_30_59', 'GRUNDSKOLE_30_59', 'BEF_30_59', 'GRUNDSKOLE_PCT_30_59', 0.01, true),
        ('non_western', 'IKKEVEST', 'BEF', 'IKKEVEST_PCT', 0.01, true),
        ('income_15_64', 'INDK_SUM_15_64', 'INDK_PERS_15_64', 'INDK_GNS_15_64', 1, false),
    ] -%}
    (
        values
        {%- for m in metrics %}
            (
                '{{ m[0] }}',
                '{{ m[1] }}',
                {{ "'" ~ m[2] ~ "'" if m[2] else 'cast(null as text)' }},
                {{ "'" ~ m[3] ~ "'" if m[3] else 'cast(null as text)' }},
                cast({{ m[4] if m[4] is not none else 'null' }} as double precision),
                {{ m[5] }}
            ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as metric_definitions (
        metric, numerator_measure, denominator_measure, benchmark_measure, benchmark_scale, is_share
    )
{% endmacro %}
