-- area_safety keeps every de-duplicated line that has an area: per year, its cases and
-- cost equal those of the attributed lines.
-- The Dagster check belongs to area_safety (the test reads more than one node).
{{ config(meta={'dagster': {'ref': {'name': 'area_safety'}}}) }}
with

lines as (
    select
        line_year as year,
        sum(amount_dkk) as cost_dkk
    from {{ ref('int_vandalism_lines_by_area') }}
    where area_id is not null
    group by line_year
),

safety as (
    select
        year,
        sum(vandalism_cost_dkk) as cost_dkk
    from {{ ref('area_safety') }}
    group by year
)

select lines.year
from lines
left join safety
    on lines.year = safety.year
where safety.cost_dkk is distinct from lines.cost_dkk
