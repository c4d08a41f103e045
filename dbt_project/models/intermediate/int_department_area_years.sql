-- A department belongs to an area in year Y when it is valid on 1 January of Y.
-- Years run from the first valid_from to the latest data year or the current year.
with

departments as (
    select * from {{ ref('stg_reference__departments') }}
),

statistics_years as (
    select max(year) as max_year from {{ ref('stg_statistics__area_statistics') }}
),

year_bounds as (
    select
        min(year(departments.valid_from)) as first_year,
        greatest(
            max(year(coalesce(departments.valid_to, departments.valid_from))),
            any_value(statistics_years.max_year),
            year(current_date)
        ) as last_year
    from departments
    cross join statistics_years
),

years as (
    select unnest(range(year_bounds.first_year, year_bounds.last_year + 1)) as year
    from year_bounds
)

select
    departments.housing_org,
    departments.department_no,
    years.year,
    departments.area_id,
    departments.department_name,
    departments.dwellings,
    departments.valid_from,
    departments.valid_to
from departments
inner join years
    on
        departments.valid_from <= make_date(years.year, 1, 1)
        and (departments.valid_to is null or departments.valid_to >= make_date(years.year, 1, 1))
