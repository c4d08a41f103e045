{#- The list an area is on under a ruleset in a year: its qualifying category of highest
    severity (ties: the first category name), or `none` / `Ikke på listen`; in_force when a
    category of the ruleset is in force in the year. `status`: a relation with
    int_area_status' columns (area_id, year, ruleset, category, qualifies, in_force). A query
    with area_list_status' columns; area_list_status and area_outlook share it. -#}
{% macro most_severe_status(status) %}
with

status as (
    select
        area_status.*,
        categories.severity,
        categories.label_da
    from {{ status }} as area_status
    inner join {{ ref('ruleset_categories') }} as categories
        on
            area_status.ruleset = categories.ruleset
            and area_status.category = categories.category
),

ranked as (
    select
        area_id,
        year,
        ruleset,
        category,
        label_da,
        row_number() over (
            partition by area_id, year, ruleset
            order by severity desc, category asc
        ) as severity_rank
    from status
    where qualifies
),

list_years as (
    select
        area_id,
        year,
        ruleset,
        bool_or(in_force) as in_force
    from status
    group by area_id, year, ruleset
)

select
    list_years.area_id,
    list_years.year,
    list_years.ruleset,
    coalesce(ranked.category, 'none') as status,
    coalesce(ranked.label_da, 'Ikke på listen') as status_label_da,
    list_years.in_force
from list_years
left join ranked
    on
        list_years.area_id = ranked.area_id
        and list_years.year = ranked.year
        and list_years.ruleset = ranked.ruleset
        and ranked.severity_rank = 1
{% endmacro %}
