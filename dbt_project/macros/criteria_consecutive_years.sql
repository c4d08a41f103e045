{#- Adds consecutive_years_qualified to the rows of the query in the call block, whose columns
    are `columns` (among them area_id, year, ruleset, category, qualifies): the run of qualifying
    years ending at `year`, 0 when it does not qualify.
    A year without a row breaks the run: qualifying years of one run are consecutive, so
    year - row_number() is constant within a run (gaps and islands). -#}
{% macro criteria_with_consecutive_years(columns) %}
    select
        {%- for column in columns %}
        islands.{{ column }},
        {%- endfor %}
        case
            when islands.qualifies
                then row_number() over (
                    partition by
                        islands.area_id, islands.ruleset, islands.category, islands.qualifies, islands.island
                    order by islands.year
                )
            else 0
        end as consecutive_years_qualified
    from (
        select
            runs.*,
            runs.year - row_number() over (
                partition by runs.area_id, runs.ruleset, runs.category, runs.qualifies
                order by runs.year
            ) as island
        from (
            {{ caller() }}
        ) as runs
    ) as islands
{% endmacro %}
