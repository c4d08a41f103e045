-- Need score per area-year with statistics, under the list category in force that year.
-- The category is derived from the ruleset seeds, not named here: among the categories in
-- force in the year (first_year <= year <= last_year, empty last_year = open), take the
-- latest ruleset (highest first_year) and, within it, the most severe category that has
-- criteria of its own (no base_category). That is `saerligt_udsat` for 2010-2017 and
-- `udsat` from 2018; `forebyggelse` (severity 0) and the categories built on a base
-- (ghetto, parallelsamfund, ...) are never chosen.
with

residents as (
    select
        area_id,
        year,
        cast(value as double precision) as residents
    from {{ ref('int_area_metrics') }}
    where metric = 'residents'
),

years as (
    select distinct year from residents
),

categories as (
    select
        ruleset,
        category,
        cast(severity as integer) as severity,
        cast(first_year as integer) as first_year,
        cast(last_year as integer) as last_year
    from {{ ref('ruleset_categories') }}
    where nullif(trim(cast(base_category as text)), '') is null
),

ranked_categories as (
    select
        years.year,
        categories.ruleset,
        categories.category,
        row_number() over (
            partition by years.year
            order by categories.first_year desc, categories.severity desc
        ) as rank_in_year
    from years
    inner join categories
        on
            years.year >= categories.first_year
            and (categories.last_year is null or years.year <= categories.last_year)
),

category_in_force as (
    select
        year,
        ruleset,
        category
    from ranked_categories
    where rank_in_year = 1
),

-- pressure > 1 means past the threshold, whichever the criterion's direction; a zero
-- divisor gives no pressure (the criterion is left out of the mean).
pressures as (
    select
        criteria.area_id,
        criteria.year,
        case
            when criteria.operator = '<'
                then
                    cast(criteria.threshold as double precision)
                    / nullif(cast(criteria.value as double precision), 0)
            else
                cast(criteria.value as double precision)
                / nullif(cast(criteria.threshold as double precision), 0)
        end as pressure
    from {{ ref('int_area_criteria') }} as criteria
    inner join category_in_force
        on
            criteria.year = category_in_force.year
            and criteria.ruleset = category_in_force.ruleset
            and criteria.category = category_in_force.category
    where
        criteria.role = 'count'
        and criteria.value is not null
        and criteria.threshold is not null
),

mean_pressures as (
    select
        area_id,
        year,
        {{ exact_avg('pressure') }} as mean_pressure,
        count(pressure) as n_criteria
    from pressures
    group by area_id, year
)

select
    residents.area_id,
    residents.year,
    category_in_force.ruleset,
    category_in_force.category,
    residents.residents,
    mean_pressures.mean_pressure,
    cast(coalesce(mean_pressures.n_criteria, 0) as integer) as n_criteria,
    residents.residents * mean_pressures.mean_pressure as need_score
from residents
inner join category_in_force
    on residents.year = category_in_force.year
left join mean_pressures
    on
        residents.area_id = mean_pressures.area_id
        and residents.year = mean_pressures.year
